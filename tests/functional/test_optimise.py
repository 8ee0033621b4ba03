"""`sim.optimise` against known answers: Erlang-B's server count, a two-lever toy, directions.

Validation-mode loss systems (M/M/c/c through the model's own cluster, sim.verification):
the blocking target's true answer is Erlang-B's smallest server count. The (A, target) pairs
are chosen with a margin (B(c*) ≤ 0.75 × target ≤ B(c* − 1) / 1.4) so that a correct
procedure proves c* with the replications used here; seeds are fixed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.analytic import min_servers_erlang_b
from sim.optimise import optimise
from sim.verification import loss_scenario

SERVERS = "platforms[p].clusters[c].node_max_participants"
HOLDING = "demand.poisson.holding_mean_s"


def _levers(tmp_path: Path, levers: list[dict[str, Any]], name: str = "levers.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump({"levers": levers}), encoding="utf-8")
    return p


def _run(sc: Any, levers: Path, target: str, **kw: Any) -> Any:
    return optimise(sc, levers, [target], replications=3, confirm_replications=8,
                    confirm_scale=None, seed=kw.pop("seed", 1), **kw)


@pytest.mark.parametrize(("offered", "blocking"), [(2.0, 0.05), (2.0, 0.02), (5.0, 0.05)])
def test_loss_system_answer_is_erlang_b(tmp_path: Path, offered: float, blocking: float) -> None:
    want = min_servers_erlang_b(offered, blocking)
    sc = loss_scenario(offered, 1, arrivals=4000)
    lv = _levers(tmp_path, [{"path": SERVERS, "values": {"low": max(1, want - 3),
                                                         "high": want + 3, "step": 1},
                             "cost_eur": {"per_unit": 10}}])
    res = _run(sc, lv, f"blocking_probability<={blocking}", out_dir=tmp_path / "out")
    assert res.best is not None
    assert res.best.values == (want,)
    assert res.best.cost_eur == pytest.approx(10 * (want - 1))
    doc = yaml.safe_load((tmp_path / "out" / "optimum.json").read_text())
    assert doc["levers"] == {SERVERS: want}
    assert set(doc["kpis"]["blocking_probability"]) == {"mean", "lo", "hi"}
    assert doc["confirmed_at_full_scale"] is False  # validation scenarios are not full scale
    assert (tmp_path / "out" / "report.html").read_text().count("cheapest combination") == 1


def _toy(tmp_path: Path, per_server: float) -> Path:
    # halving the holding time (€25) halves the offered load: A = 5 → 2.5 Erlangs
    return _levers(tmp_path, [
        {"path": SERVERS, "values": {"low": 4, "high": 10, "step": 1},
         "cost_eur": {"per_unit": per_server}},
        {"path": HOLDING, "values": [10.0, 5.0], "cost_eur": {10.0: 0, 5.0: 25}},
    ], f"toy-{per_server:g}.yaml")


def test_two_lever_toy_cheapest_mix(tmp_path: Path) -> None:
    sc = loss_scenario(5.0, 4, arrivals=4000)
    # feasible for B ≤ 0.05: 9 servers at A = 5 (cost 50) or 6 at A = 2.5 (20 + 25 = 45)
    res = _run(sc, _toy(tmp_path, 10), "blocking_probability<=0.05")
    assert res.best is not None and res.best.values == (6, 5.0)
    assert res.best.cost_eur == pytest.approx(45)


def test_cheaper_nodes_never_fewer(tmp_path: Path) -> None:
    sc = loss_scenario(5.0, 4, arrivals=4000)
    dear = _run(sc, _toy(tmp_path, 10), "blocking_probability<=0.05")
    cheap = _run(sc, _toy(tmp_path, 1), "blocking_probability<=0.05")
    assert dear.best is not None and cheap.best is not None
    assert cheap.best.values[0] >= dear.best.values[0]
    assert cheap.best.values == (9, 10.0)  # 5 € of servers beats 2 + 25 €


def test_stricter_target_never_cheaper(tmp_path: Path) -> None:
    sc = loss_scenario(2.0, 1, arrivals=4000)
    lv = _levers(tmp_path, [{"path": SERVERS, "values": {"low": 2, "high": 9, "step": 1},
                             "cost_eur": {"per_unit": 10}}])
    costs = [_run(sc, lv, f"blocking_probability<={b}").best.cost_eur
             for b in (0.1, 0.05, 0.02)]
    assert costs == sorted(costs)


def test_unreachable_target_is_an_answer(tmp_path: Path) -> None:
    sc = loss_scenario(5.0, 1, arrivals=2000)
    lv = _levers(tmp_path, [{"path": SERVERS, "values": [2, 3, 4],
                             "cost_eur": {"per_unit": 10}}])
    res = _run(sc, lv, "blocking_probability<=0.01", out_dir=tmp_path / "o")
    assert res.best is None and res.closest is not None
    assert res.closest.values == (4,)
    doc = yaml.safe_load((tmp_path / "o" / "optimum.json").read_text())
    assert doc["found"] is False and doc["answer"].startswith("No combination within the levers")
    assert doc["levers"] == {SERVERS: 4}


def test_resumes_from_stored_runs(tmp_path: Path) -> None:
    sc = loss_scenario(2.0, 1, arrivals=1000)
    lv = _levers(tmp_path, [{"path": SERVERS, "values": [3, 5, 7],
                             "cost_eur": {"per_unit": 1}}])
    first = _run(sc, lv, "blocking_probability<=0.1", out_dir=tmp_path / "o")
    lines = (tmp_path / "o" / "runs.jsonl").read_text().splitlines()
    again = _run(sc, lv, "blocking_probability<=0.1", out_dir=tmp_path / "o")
    assert (tmp_path / "o" / "runs.jsonl").read_text().splitlines() == lines  # nothing re-run
    assert again.best is not None and first.best is not None
    assert again.best.values == first.best.values
