"""The week (issue 28): each carry-over rule switched off changes only what it should, on
common random numbers; days run as ordinary scenarios; a stored week resumes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sim.config import load_scenario
from sim.config.week import CarryOver, load_week
from sim.experiments.carry_over import DayOutcome, WeekState, first_state, learn, overrides
from sim.experiments.week import WeekResult, day_seed, run_week
from sim.model.simulation import simulate_once
from tests.conftest import REPO

CONFIGS = REPO / "configs"
SCALE = 0.02
#: the config paths each rule may change in the next day's scenario
OWNS = {
    "capacity": ("platforms",),
    "stagger_after_trouble": ("policies.stagger.within_school",),
    "video_share": ("timetable.live_lesson_share",),
    "patience": ("behaviour.patience_s",),
    "faults_repaired": ("faults",),
}


def _week_file(tmp: Path) -> Path:
    """Monday, Tuesday, Wednesday of the shipped week with every rule of the shipped file."""
    text = (CONFIGS / "2021-01-week.yaml").read_text(encoding="utf-8")
    text = text.replace("scenario: ", f"scenario: {CONFIGS}/")
    lines = [ln for ln in text.splitlines() if "name: thu" not in ln and "name: fri" not in ln]
    p = tmp / "week.yaml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def _flat(x: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(x, dict):
        out: dict[str, Any] = {}
        for k, v in x.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(x, list) and prefix != "faults":
        out = {}
        for i, v in enumerate(x):
            out.update(_flat(v, f"{prefix}[{i}]"))
        return out
    return {prefix: x}


def _changed(a: Any, b: Any) -> set[str]:
    fa, fb = _flat(a.model_dump(mode="json")), _flat(b.model_dump(mode="json"))
    return {k for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k)}


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, WeekResult]:
    """The three-day week with every rule on, and with each rule off in turn."""
    tmp = tmp_path_factory.mktemp("week")
    f = _week_file(tmp)
    out = {"all": run_week(load_week(f, [], SCALE), tmp / "all")}
    for rule in OWNS:
        wk = load_week(f, [f"carry_over.{rule}.enabled=false"], SCALE)
        out[rule] = run_week(wk, tmp / rule)
    return out


def test_the_shipped_week_declares_every_rule_with_a_source() -> None:
    wk = load_week(CONFIGS / "2021-01-week.yaml")
    assert wk.names == ["mon", "tue", "wed", "thu", "fri"]
    assert set(wk.spec.carry_over.on()) == set(OWNS)
    sources = (REPO / "data" / "SOURCES.md").read_text(encoding="utf-8")
    for rule in OWNS:
        assert f"| {getattr(wk.spec.carry_over, rule).source} |" in sources, rule


@pytest.mark.slow
def test_each_rule_carries_something_in_the_january_week(weeks: dict[str, WeekResult]) -> None:
    """With every rule on, Tuesday (after a bad Monday) gets nodes, staggering schools and
    less patience; Wednesday (after a good Tuesday) a larger video share."""
    res = weeks["all"]
    tue = {n["rule"] for n in res.notes[1][0]}
    wed = {n["rule"] for n in res.notes[2][0]}
    assert {"capacity", "stagger_after_trouble", "patience"} <= tue
    assert "video_share" in wed
    assert weeks["faults_repaired"].runs[1][0].scenario.faults[-1].kind == "dispatcher_failure"


@pytest.mark.slow
@pytest.mark.parametrize("rule", list(OWNS))
def test_a_rule_switched_off_changes_only_what_it_owns(weeks: dict[str, WeekResult],
                                                       rule: str) -> None:
    """Same seeds every day (common random numbers); the day after the first differs from the
    all-rules week only in the paths the rule owns, and differs there; the first day is
    identical (only the video share acts on Monday already)."""
    on, off = weeks["all"], weeks[rule]
    for d in range(3):
        assert on.runs[d][0].seed == off.runs[d][0].seed == day_seed(1, d)
    mon = _changed(on.runs[0][0].scenario, off.runs[0][0].scenario)
    if rule == "video_share":
        assert mon == {"timetable.live_lesson_share"}
    else:
        assert mon == set()
        assert on.runs[0][0].kpis == off.runs[0][0].kpis  # CRN: Monday is the same day
    tue = _changed(on.runs[1][0].scenario, off.runs[1][0].scenario)
    assert tue, f"switching {rule} off changed nothing on Tuesday"
    stray = {p for p in tue if not p.startswith(OWNS[rule])}
    assert not stray, f"{rule} off changed {sorted(stray)}"
    assert on.runs[1][0].kpis != off.runs[1][0].kpis


@pytest.mark.slow
def test_a_day_is_an_ordinary_run_of_its_scenario(weeks: dict[str, WeekResult]) -> None:
    """No special path: simulating Tuesday's scenario as carried, with its seed, gives the
    week's Tuesday."""
    tue = weeks["all"].runs[1][0]
    again = simulate_once(tue.scenario, tue.seed)
    assert again.kpis == tue.kpis


@pytest.mark.slow
def test_a_stored_week_resumes_without_running_again(tmp_path: Path) -> None:
    f = _week_file(tmp_path)
    wk = load_week(f, ["days[tue].population.scale=0.01", "days[wed].population.scale=0.01",
                       "days[mon].population.scale=0.01"])
    first = run_week(wk, tmp_path / "w")
    second = run_week(wk, tmp_path / "w")
    assert all("stored" in r.meta for day in second.runs for r in day)
    pd.testing.assert_frame_equal(first.frame, second.frame)


# ---------------------------------------------------------------------- the rules on their own
def _outcome(join_success: float, affected: list[bool], iserv_affected: float) -> DayOutcome:
    sc = load_scenario(CONFIGS / "2021-01-11-monday-dispatcher-failure.yaml")
    schools = pd.DataFrame({"school": range(len(affected)), "affected": affected})
    return DayOutcome({"join_success_rate": join_success},
                      {"affected_schools_share_per_platform": {"iserv": iserv_affected}},
                      schools, sc)


def _rules(**on: dict[str, Any]) -> CarryOver:
    return CarryOver.model_validate({k: {"source": "A1", **v} for k, v in on.items()})


def test_capacity_is_added_after_trouble_only_and_stays() -> None:
    rules = _rules(capacity={"add_share": 0.5, "trouble_affected_share": 0.1})
    st = learn(rules, first_state(rules), _outcome(0.99, [False], 0.05))
    assert st.added_nodes == 0
    st = learn(rules, st, _outcome(0.5, [True], 0.9))
    assert st.added_nodes == 225  # half of Monday's 450
    sc = load_scenario(CONFIGS / "lower-saxony-scenario-c.yaml")
    assert "platforms[iserv].clusters[iserv-bbb].nodes=675" in overrides(rules, st, sc)
    st = learn(rules, st, _outcome(0.99, [False], 0.0))
    assert st.added_nodes == 225  # the servers stay


def test_stagger_names_the_affected_schools_and_sticks() -> None:
    rules = _rules(stagger_after_trouble={"sticky": True})
    st = learn(rules, first_state(rules), _outcome(0.9, [True, False, True], 0.5))
    assert st.staggering == {0, 2}
    st = learn(rules, st, _outcome(0.9, [False, True, False], 0.5))
    assert st.staggering == {0, 1, 2}
    not_sticky = _rules(stagger_after_trouble={"sticky": False})
    st = learn(not_sticky, WeekState(staggering=frozenset({0})),
               _outcome(0.9, [False, True, False], 0.5))
    assert st.staggering == {1}


def test_video_share_grows_after_good_days_only() -> None:
    rules = _rules(video_share={"start_factor": 0.9, "growth_per_good_day": 0.1,
                                "good_day_join_success": 0.95, "max_factor": 1.0})
    st = first_state(rules)
    assert st.video_factor == 0.9
    st = learn(rules, st, _outcome(0.5, [False], 0.0))
    assert st.video_factor == 0.9
    st = learn(rules, st, _outcome(0.96, [False], 0.0))
    assert st.video_factor == pytest.approx(0.99)
    st = learn(rules, st, _outcome(0.96, [False], 0.0))
    assert st.video_factor == 1.0  # capped


def test_patience_is_shorter_only_the_day_after_a_bad_day() -> None:
    rules = _rules(patience={"bad_day_join_success_below": 0.9, "patience_factor": 0.5})
    st = learn(rules, first_state(rules), _outcome(0.5, [False], 0.0))
    sc = load_scenario(CONFIGS / "lower-saxony-scenario-c.yaml")
    assert overrides(rules, st, sc) == [f"behaviour.patience_s={sc.behaviour.patience_s * 0.5!r}"]
    st = learn(rules, st, _outcome(0.95, [False], 0.0))
    assert overrides(rules, st, sc) == []


def test_unrepaired_faults_recur_but_not_the_standing_crash_rule() -> None:
    assert learn(CarryOver(), WeekState(), _outcome(0.5, [False], 0.0)).faults == ()  # left out
    on = _rules(faults_repaired={})
    assert learn(on, first_state(on), _outcome(0.5, [False], 0.0)).faults == ()
    off = _rules(faults_repaired={"enabled": False})
    st = learn(off, first_state(off), _outcome(0.5, [False], 0.0))
    assert [f["kind"] for f in st.faults] == ["dispatcher_failure"]
