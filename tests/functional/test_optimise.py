"""`sim.decide.optimise` against known answers: Erlang-B's server count, a two-lever toy,
directions.

Validation-mode loss systems (M/M/c/c through the model's own cluster,
sim.experiments.verification):
the blocking target's true answer is Erlang-B's smallest server count. The (A, target) pairs
are chosen with a margin (B(c*) ≤ 0.75 × target ≤ B(c* − 1) / 1.4) so that a correct
procedure proves c* with the replications used here; seeds are fixed.

Tests on the same scenario share one run store (a module-wide ``runs.jsonl``): a run's
outcome depends only on its configuration and seed, so a shared run is the very run a
separate store would have made, and each test still runs the whole procedure.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sim.decide.optimise import optimise
from sim.experiments.analytic import min_servers_erlang_b
from sim.experiments.verification import loss_scenario

SERVERS = "platforms[p].clusters[c].node_max_participants"
HOLDING = "demand.poisson.holding_mean_s"


def _levers(tmp_path: Path, levers: list[dict[str, Any]], name: str = "levers.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump({"levers": levers}), encoding="utf-8")
    return p


def _run(sc: Any, levers: Path, target: str, **kw: Any) -> Any:
    return optimise(sc, levers, [target], replications=3, confirm_replications=8,
                    confirm_scale=None, seed=kw.pop("seed", 1), **kw)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[float, Path]:
    """One run store per offered load (the scenarios below differ only in A)."""
    return {a: tmp_path_factory.mktemp(f"store-{a:g}") for a in (2.0, 5.0)}


def _shared(stores: dict[float, Path], offered: float, tmp_path: Path) -> Path:
    """An output directory of its own whose runs.jsonl is the shared store's."""
    out = tmp_path / "out"
    out.mkdir()
    (stores[offered] / "runs.jsonl").touch()
    (out / "runs.jsonl").symlink_to(stores[offered] / "runs.jsonl")
    return out


@pytest.mark.parametrize(("offered", "blocking"), [(2.0, 0.05), (2.0, 0.02), (5.0, 0.05)])
def test_loss_system_answer_is_erlang_b(tmp_path: Path, stores: dict[float, Path],
                                        offered: float, blocking: float) -> None:
    want = min_servers_erlang_b(offered, blocking)
    sc = loss_scenario(offered, 1, arrivals=4000)
    lv = _levers(tmp_path, [{"path": SERVERS, "values": {"low": max(1, want - 3),
                                                         "high": want + 3, "step": 1},
                             "cost_eur": {"per_unit": 10}}])
    out = _shared(stores, offered, tmp_path)
    res = _run(sc, lv, f"blocking_probability<={blocking}", out_dir=out)
    assert res.best is not None
    assert res.best.values == (want,)
    assert res.best.cost_eur == pytest.approx(10 * (want - 1))
    doc = yaml.safe_load((out / "optimum.json").read_text())
    assert doc["levers"] == {SERVERS: want}
    assert set(doc["kpis"]["blocking_probability"]) == {"mean", "lo", "hi"}
    assert doc["confirmed_at_full_scale"] is False  # validation scenarios are not full scale
    assert doc["method"]["search"] == "exhaustive"
    report = (out / "report.html").read_text()
    assert report.count("cheapest combination") == 1
    # the screening bias of every confirmed candidate, from its own samples
    bias = doc["screening_bias"]["candidates"]
    confirmed = [c for c in res.candidates if c.confirm]
    assert [b["levers"][SERVERS] for b in bias] == [c.values[0] for c in confirmed]
    for b, c in zip(bias, confirmed, strict=True):
        k = b["kpis"]["blocking_probability"]
        assert k["screen_mean"] == pytest.approx(np.mean(c.screen["blocking_probability"]))
        assert k["confirm_mean"] == pytest.approx(np.mean(c.confirm["blocking_probability"]))
        assert k["difference"] == pytest.approx(k["screen_mean"] - k["confirm_mean"])
        assert k["lo"] <= k["difference"] <= k["hi"]
        assert (k["screen_n"], k["confirm_n"]) == (3, 8)
    assert "Screening bias" in report


def _toy(tmp_path: Path, per_server: float) -> Path:
    # halving the holding time (€25) halves the offered load: A = 5 → 2.5 Erlangs
    return _levers(tmp_path, [
        {"path": SERVERS, "values": {"low": 4, "high": 10, "step": 1},
         "cost_eur": {"per_unit": per_server}},
        {"path": HOLDING, "values": [10.0, 5.0], "cost_eur": {10.0: 0, 5.0: 25}},
    ], f"toy-{per_server:g}.yaml")


@pytest.fixture(scope="module")
def toy_dear(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The two-lever toy at €10 per server (used by two tests) and its runs."""
    d = tmp_path_factory.mktemp("toy")
    res = _run(loss_scenario(5.0, 4, arrivals=4000), _toy(d, 10),
               "blocking_probability<=0.05", out_dir=d / "out")
    return res, d / "out" / "runs.jsonl"


def test_two_lever_toy_cheapest_mix(toy_dear: tuple[Any, Path]) -> None:
    # feasible for B ≤ 0.05: 9 servers at A = 5 (cost 50) or 6 at A = 2.5 (20 + 25 = 45)
    res = toy_dear[0]
    assert res.best is not None and res.best.values == (6, 5.0)
    assert res.best.cost_eur == pytest.approx(45)


def test_cheaper_nodes_never_fewer(tmp_path: Path, toy_dear: tuple[Any, Path]) -> None:
    sc = loss_scenario(5.0, 4, arrivals=4000)
    dear = toy_dear[0]
    # the runs do not depend on prices: the cheap toy re-uses the dear toy's runs
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(toy_dear[1], out / "runs.jsonl")
    cheap = _run(sc, _toy(tmp_path, 1), "blocking_probability<=0.05", out_dir=out)
    assert dear.best is not None and cheap.best is not None
    assert cheap.best.values[0] >= dear.best.values[0]
    assert cheap.best.values == (9, 10.0)  # 5 € of servers beats 2 + 25 €


def test_stricter_target_never_cheaper(tmp_path: Path, stores: dict[float, Path]) -> None:
    sc = loss_scenario(2.0, 1, arrivals=4000)
    lv = _levers(tmp_path, [{"path": SERVERS, "values": {"low": 2, "high": 9, "step": 1},
                             "cost_eur": {"per_unit": 10}}])
    out = _shared(stores, 2.0, tmp_path)
    costs = [_run(sc, lv, f"blocking_probability<={b}", out_dir=out).best.cost_eur
             for b in (0.1, 0.05, 0.02)]
    assert costs == sorted(costs)
    assert costs[0] < costs[-1]  # the targets are far enough apart to change the answer


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
    # an existing directory gains the screening bias from its stored runs alone
    doc = yaml.safe_load((tmp_path / "o" / "optimum.json").read_text())
    assert doc["screening_bias"]["candidates"][-1]["levers"] == {SERVERS: again.best.values[0]}


NODES = "platforms[p].clusters[c].nodes"


def _large(tmp_path: Path) -> Path:
    # 39 × 20 = 780 combinations: slots per node 2..40 at €10, nodes 1..20 at €25; blocking
    # depends only on the capacity nodes × slots (least-loaded placement: a join is lost only
    # when every node is full), so Erlang-B gives every combination's truth
    return _levers(tmp_path, [
        {"path": SERVERS, "values": {"low": 2, "high": 40, "step": 1},
         "cost_eur": {"per_unit": 10}},
        {"path": NODES, "values": {"low": 1, "high": 20, "step": 1},
         "cost_eur": {"per_unit": 25}},
    ], "large.yaml")


@pytest.mark.slow
def test_optuna_finds_the_cheapest_mix_in_a_large_space(tmp_path: Path) -> None:
    from sim.experiments.analytic import erlang_b

    offered, target = 5.0, 0.05
    # the known answer: the cheapest (slots, nodes) whose capacity meets Erlang-B's target
    truth = min((10 * (m - 1) + 25 * (n - 1), m, n) for m in range(2, 41)
                 for n in range(1, 21) if erlang_b(offered, m * n) <= target)
    assert truth[1:] == (5, 2)  # capacity 10: cheaper than 9 slots on one node
    sc = loss_scenario(offered, 1, arrivals=1000)
    budget = 250  # exhaustive screening would need 780 × 3 + 5 × 8 = 2,380 runs
    res = _run(sc, _large(tmp_path), f"blocking_probability<={target}", budget_runs=budget,
               out_dir=tmp_path / "o")
    assert res.search == "optuna" and res.combinations == 780
    assert len(res.candidates) <= (budget - 5 * 8) // 3 and res.runs <= budget
    assert res.best is not None and res.best.values == truth[1:]
    assert res.best.cost_eur == pytest.approx(truth[0])
    doc = yaml.safe_load((tmp_path / "o" / "optimum.json").read_text())
    assert doc["method"]["search"] == "optuna" and doc["method"]["screened"] == len(
        res.candidates)
    # resumable: the seeded search asks the same trials and finds all their runs stored
    lines = (tmp_path / "o" / "runs.jsonl").read_text().splitlines()
    again = _run(sc, _large(tmp_path), f"blocking_probability<={target}", budget_runs=budget,
                 out_dir=tmp_path / "o")
    assert (tmp_path / "o" / "runs.jsonl").read_text().splitlines() == lines
    assert [c.values for c in again.candidates] == [c.values for c in res.candidates]


def test_search_and_budget_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          ) -> None:
    from sim.cli import main

    # the scenario's data paths are relative to its file (../data/…): mirror the layout
    (tmp_path / "data").symlink_to(Path(__file__).resolve().parents[2] / "data")
    (tmp_path / "configs").mkdir()
    cfg = tmp_path / "configs" / "loss.yaml"
    cfg.write_text(yaml.safe_dump(loss_scenario(5.0, 1, arrivals=500).model_dump(mode="json")),
                   encoding="utf-8")
    lv = _large(tmp_path)
    base = ["optimise", str(cfg), "--levers", str(lv), "--target", "blocking_probability<=0.05",
            "--out", str(tmp_path / "o")]
    for extra, names in [
        (["--search", "nope"], "--search"),
        (["--budget-runs", "0"], "--budget-runs"),
        (["--search", "exhaustive", "--budget-runs", "300"], "--budget-runs 300"),
        (["--search", "optuna"], "--budget-runs"),
        (["--budget-runs", "60"], "--budget-runs 60"),
        (["--batch", "0"], "--batch"),
        (["--confirm-max-replications", "4"], "--confirm-max-replications 4"),
    ]:
        with pytest.raises(SystemExit) as exc:
            main(base + extra)
        assert exc.value.code == 2, extra
        err = capsys.readouterr().err
        assert names in err, (extra, err)
    assert not (tmp_path / "o" / "runs.jsonl").exists() or not (
        tmp_path / "o" / "runs.jsonl").read_text()  # nothing ran



@pytest.mark.parametrize("seed", [3, 6])
def test_sequential_looks_spend_replications_only_on_close_calls(tmp_path: Path,
                                                                  seed: int) -> None:
    """Confirmation with looks at 8, 16, 32 replications (Bonferroni over the looks too).

    A close call (B(15) = 0.0365 against 0.04; B(14) = 0.0568): with seed 3 one look of 8
    cannot prove c* = 15 and returns 16; with looks c* gets 32 replications and is proven.
    With seed 6, 14 servers fail clearly and stop at the first look. A candidate gets more
    replications only when the look before decided nothing; no run is made twice.
    """
    from sim.experiments.sizing import Target
    from sim.runs.stats import kpi_interval

    offered, blocking = 10.0, 0.04
    want = min_servers_erlang_b(offered, blocking)
    assert want == 15
    sc = loss_scenario(offered, 1, arrivals=4000)
    lv = _levers(tmp_path, [{"path": SERVERS, "values": {"low": want - 3, "high": want + 2,
                                                         "step": 1},
                             "cost_eur": {"per_unit": 10}}])
    target = f"blocking_probability<={blocking}"
    kw: dict[str, Any] = dict(replications=3, confirm_replications=8, confirm_scale=None,
                              max_confirm=6, seed=seed)
    store = tmp_path / "out"
    one = optimise(sc, lv, [target], out_dir=store, **kw)
    res = optimise(sc, lv, [target], confirm_max_replications=32, out_dir=store, **kw)
    assert one.looks == (8,) and res.looks == (8, 16, 32)
    assert res.alpha_each == pytest.approx(0.05 / (res.tested * 1 * 3))
    assert res.best is not None and res.best.values == (want,)
    if seed == 3:
        assert one.best is not None and one.best.values == (want + 1,)
        assert len(res.best.confirm["blocking_probability"]) == 32
    else:
        first = next(c for c in res.candidates if c.confirm)
        assert first.values == (want - 1,) and len(first.confirm["blocking_probability"]) == 8
    t = Target.parse(target)
    level = 1.0 - 2.0 * res.alpha_each
    for c in (c for c in res.candidates if c.confirm):
        n = len(c.confirm[t.kpi])
        assert n in res.looks
        if n > 8:  # the look before decided nothing: neither end was conclusive
            prev = kpi_interval(t.kpi, c.confirm[t.kpi][: n // 2], level=level)
            assert prev.hi > blocking >= prev.lo, (c.values, n, prev)
    rows = (store / "runs.jsonl").read_text().splitlines()
    assert len(rows) == len({r.split('"kpis"')[0] for r in rows})
    doc = yaml.safe_load((store / "optimum.json").read_text())
    assert doc["method"]["looks"] == [8, 16, 32]
