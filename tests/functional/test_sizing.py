"""Capacity sizing: Erlang-B bracket, paired search, the answer on a pure loss system."""

from __future__ import annotations

import pytest

from sim.config import ConfigError
from sim.experiments.analytic import erlang_b, min_servers_erlang_b
from sim.experiments.sizing import (
    Target,
    analytic_bound,
    current_value,
    search_minimum,
    size_capacity,
)
from sim.experiments.verification import loss_scenario
from tests.conftest import small_scenario

SLOTS = "platforms[0].clusters[0].node_max_participants"


def test_pure_loss_system_gets_the_erlang_b_server_count() -> None:
    """M/M/c/c through the model (one node of c slots, A = 20 Erlangs), target B ≤ 0.05.

    Erlang-B says c* = 26 (B(25) = 0.0502 > 0.05 ≥ B(26) = 0.0372). The answer may be one
    above c* — a candidate is accepted only when the upper end of its 95 % CI is ≤ 0.05, so a
    c* whose blocking sits near the target can need one slot more — and, rarely, one below,
    when sampling noise puts the estimate at c* − 1 well under its true value: ± 1.
    """
    a, target = 20.0, 0.05
    sc = loss_scenario(a, 20, arrivals=6_000)
    c_star = min_servers_erlang_b(a, target)
    assert c_star == 26 and erlang_b(a, c_star - 1) > target >= erlang_b(a, c_star)
    res = size_capacity(sc, SLOTS, f"blocking_probability<={target}", replications=5, seed=3)
    assert res.analytic is not None
    assert res.analytic.offered_erlangs == pytest.approx(a)
    assert res.analytic.value == c_star  # the bound beside the answer
    assert res.analytic.lower_value == 19  # ⌊A(1 − B)⌋ slots can never do
    assert res.answer is not None and abs(res.answer - c_star) <= 1
    ev = res.candidates[res.answer]
    assert ev.met and ev.bound <= target
    if res.answer - 1 in res.candidates:  # the evidence shows the value below fails
        assert not res.candidates[res.answer - 1].met
    assert len(res.candidates) <= 6
    d = res.to_dict()
    assert d["answer"] == res.answer and d["analytic"]["slots"] == c_star


@pytest.mark.parametrize("answer", [1, 2, 7, 37, 100, 250])
@pytest.mark.parametrize("start, assumed", [(40, 30), (40, None), (5, 3), (300, 200), (1, None)])
def test_search_finds_the_smallest_meeting_value(
    answer: int, start: int, assumed: int | None
) -> None:
    seen: list[int] = []

    def meets(v: int) -> bool:
        seen.append(v)
        return v >= answer

    assert search_minimum(meets, start, assumed, minimum=1) == answer
    assert len(seen) <= 20


def test_targets() -> None:
    t = Target.parse("join_success_rate>=0.99")
    assert (t.kpi, t.op, t.value) == ("join_success_rate", ">=", 0.99)
    assert t.met(0.995, 0.004) and not t.met(0.995, 0.006)  # lower CI bound must meet it
    assert t.blocking() == pytest.approx(0.01)
    p95 = Target.parse(" p95_time_to_join_s <= 120 ")
    assert p95.met(100.0, 19.0) and not p95.met(100.0, 21.0)  # upper CI bound
    assert p95.blocking() == pytest.approx(0.05)
    assert Target.parse("gave_up<=10").blocking() is None
    deg = Target.parse("degraded_share<=0.01")
    assert (deg.kpi, deg.op, deg.value) == ("degraded_share", "<=", 0.01)
    assert deg.met(0.004, 0.005) and not deg.met(0.008, 0.005) and deg.blocking() is None
    for bad in ("join_success_rate>0.99", "nope>=1", "join_success_rate>=x", "gave_up<=inf"):
        with pytest.raises(ConfigError):
            Target.parse(bad)


def test_parameter_checks_and_baseline_bound() -> None:
    sc = small_scenario(0.005, ["day.end=10:00"])
    assert current_value(sc, "platforms[0].clusters[0].nodes") == sc.platforms[0].clusters[0].nodes
    for bad in ("platforms[9].clusters[0].nodes", "timetable.nope", "behaviour.patience_s"):
        with pytest.raises(ConfigError):
            current_value(sc, bad)
    # timetable demand: A is the platform's peak in an unconstrained baseline run
    bound, why, baseline = analytic_bound(
        sc, "platforms[0].clusters[0].nodes", Target.parse("join_success_rate>=0.99")
    )
    assert bound is not None and why == ""
    assert baseline["runs"][-1]["peak_node_utilisation"] < 0.95
    per_node = sc.platforms[0].clusters[0].node_max_participants
    assert bound.value == -(-min_servers_erlang_b(bound.offered_erlangs, 0.01) // per_node)
    none, why, _ = analytic_bound(
        sc, "platforms[0].frontend.workers", Target.parse("join_success_rate>=0.99")
    )
    assert none is None and "no analytic bound" in why


def test_search_gives_up_when_more_capacity_stops_helping() -> None:
    from sim.experiments.sizing import Unreachable

    with pytest.raises(Unreachable, match="does not improve significantly"):
        search_minimum(lambda v: False, 10, None, 1, gains=lambda smaller, larger: larger < 40)
    with pytest.raises(Unreachable, match="no value up to 100"):
        search_minimum(lambda v: False, 10, None, 1, maximum=100)


def test_miniature_answers_for_the_whole_state_and_confirms_at_scale_1() -> None:
    from sim import load_scenario
    from sim.experiments.sizing import confirm_at_full_scale
    from sim.model.scale import scale_count
    from tests.conftest import DEFAULT_CONFIG

    # two small school types: scale 1 of them is cheap enough to confirm in a test
    sc = load_scenario(DEFAULT_CONFIG, ["population.school_types=[waldorf, hauptschule]",
                                        "population.scale=0.1", "day.end=09:30", "faults=[]"])
    param = "platforms[iserv].clusters[iserv-bbb].nodes"
    res = size_capacity(sc, param, "join_success_rate>=0.9", replications=2, max_candidates=8)
    full_nodes = sc.platforms[0].clusters[0].nodes
    assert res.central and res.scale == 0.1
    assert res.current_whole_state == full_nodes
    assert res.current_value == scale_count(full_nodes, 0.1)  # searched in miniature counts
    assert res.answer is not None and res.answer_whole_state == pytest.approx(res.answer / 0.1)
    # the JSON (`dlsim size --out`) leads with the whole state's counts; the miniature's are
    # labelled secondary fields
    d = res.to_dict()
    assert d["answer"] == pytest.approx(res.answer / 0.1) and d["answer_miniature"] == res.answer
    assert d["current_value"] == full_nodes and d["current_miniature"] == res.current_value
    assert list(d).index("answer") < list(d).index("answer_miniature")
    assert all(c["value"] == pytest.approx(c["value_miniature"] / 0.1) for c in d["candidates"])
    conf = confirm_at_full_scale(res, sc)
    assert conf["value"] == round(res.answer / 0.1) and conf["scale"] == 1.0
    assert len(conf["per_replication"]) == 2 and res.confirmation is conf


def test_nodes_sized_for_degraded_share() -> None:
    """``degraded_share<=0.01`` works as a sizing target: with 30 % of the IServ nodes many
    pupils sit on overloaded nodes (admitted, degraded); the answer brings the share's upper
    95 % bound under 1 %, and every smaller value simulated misses it."""
    sc = small_scenario(0.05, ["day.end=09:30", "faults=[]",
                               "platforms[0].clusters[0].nodes=135"])
    param = "platforms[iserv].clusters[iserv-bbb].nodes"
    res = size_capacity(sc, param, "degraded_share<=0.01", replications=3, max_candidates=12)
    assert res.answer is not None and res.answer > res.current_value
    t = res.table()
    at = t[t["value"] == res.answer].iloc[0]
    assert at["meets"] and at["hi"] <= 0.01
    below = t[t["value"] < res.answer]
    assert len(below) and not below["meets"].any() and (below["mean"] > 0).all()


def test_per_node_settings_are_not_converted() -> None:
    sc = small_scenario(0.005, ["day.end=09:30"])
    res = size_capacity(sc, "platforms[0].clusters[0].node_max_participants",
                        "join_success_rate>=0.5", replications=2, max_candidates=6)
    assert not res.central and res.scale == 0.005
    if res.answer is not None:
        assert res.answer_whole_state == res.answer
