"""Sweeps: serial == Dask, failing runs become rows, interrupted sweeps resume exactly."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.experiments.executors
from sim.config import ConfigError, parse_override
from sim.experiments.executors import SerialExecutor, Task, make_executor, run_task
from sim.experiments.sweep import SweepStore, load_sweep, run_sweep
from sim.experiments.sweep.spec import override
from sim.model.metrics import KPI_NAMES
from tests.conftest import DEFAULT_CONFIG

NODES = "platforms[0].clusters[0].nodes"
SPREAD = "timetable.school_start_spread_min"
P_NODES, P_SPREAD = f"param:{NODES}", f"param:{SPREAD}"  # their columns in the results


def write_sweep(d: Path, body: str, name: str = "sweep.yaml") -> Path:
    p = d / name
    # a small state and a short morning: about half a second per run; IServ schools all
    # hosted, so that the conference nodes (not crashing local servers) decide who gets in —
    # by the old rule (`refuse_overload`: a full node refuses), so that the sweep's points
    # differ in who gets in (load alone refuses no one by default)
    p.write_text(
        f"base: {DEFAULT_CONFIG}\noverrides: [population.scale=0.005, day.end='10:00', "
        f"assignment.on_prem_share.iserv=0, 'platforms[0].clusters[0].refuse_overload=true']"
        f"\n{body}",
        encoding="utf-8",
    )
    return p


GRID = f"""
parameters:
  {NODES}: [1, 3]
  {SPREAD}: [0, 30]
replications: 2
seed: 5
"""


@pytest.fixture(scope="module")
def grid_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("sweep"), GRID)


SMALL = f"""
parameters:
  {NODES}: [1, 3]
replications: 2
seed: 5
"""


@pytest.fixture(scope="module")
def serial_dir(grid_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("serial") / "out"
    res = run_sweep(load_sweep(grid_file), out)
    assert res.computed == 8 and res.skipped == 0 and res.errors == 0
    return out


@pytest.fixture(scope="module")
def serial(serial_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(serial_dir / "results.parquet")


def test_rows_points_and_common_seeds(serial: pd.DataFrame, grid_file: Path) -> None:
    sw = load_sweep(grid_file)
    assert len(serial) == 8 and serial["key"].is_unique
    assert list(serial.columns[:5]) == ["point", "replication", P_NODES, P_SPREAD, "seed"]
    assert set(KPI_NAMES) <= set(serial.columns)
    assert serial["error"].isna().all()
    # common random numbers: replication i has the same seed at every point
    assert serial.groupby("replication")["seed"].nunique().eq(1).all()
    assert serial[serial.replication == 0]["seed"].iloc[0] == 5  # replication_seeds(5, R)[0]
    assert serial["config_hash"].nunique() == len(sw.points) == 4
    # more nodes never lowers success on paired seeds
    piv = serial.pivot_table(
        index=["replication", P_SPREAD], columns=P_NODES, values="join_success_rate"
    )
    assert (piv[3] >= piv[1]).all()


def test_row_equals_single_run(serial: pd.DataFrame, grid_file: Path) -> None:
    """A sweep row is the run `dlsim run base --set …` would make (same scenario and seed)."""
    from sim import load_scenario, simulate_once

    sw = load_sweep(grid_file)
    row = serial.iloc[5]
    sets = [
        "population.scale=0.005",
        "day.end=10:00",
        "assignment.on_prem_share.iserv=0",
        "platforms[0].clusters[0].refuse_overload=true",
        override(NODES, int(row[P_NODES])),
        override(SPREAD, int(row[P_SPREAD])),
    ]
    r = simulate_once(load_scenario(DEFAULT_CONFIG, sets), int(row["seed"]))
    assert {k: row[k] for k in KPI_NAMES} == pytest.approx(r.kpis, rel=0, abs=0)
    assert row["config_hash"] == sw.point_hashes[int(row["point"])]


def test_serial_and_dask_identical(serial: pd.DataFrame, grid_file: Path, tmp_path: Path) -> None:
    with make_executor(workers=2) as ex:
        res = run_sweep(load_sweep(grid_file), tmp_path / "dask", ex)
    assert res.executor.startswith("dask LocalCluster")
    cols = ["point", "replication", P_NODES, P_SPREAD, "seed", "key", "config_hash", *KPI_NAMES]
    pd.testing.assert_frame_equal(res.results[cols], serial[cols])
    details = [c for c in serial.columns
               if c.startswith(("details.", "cause:")) or c == "cost_eur"]
    pd.testing.assert_frame_equal(res.results[details], serial[details])


def test_summary_per_point(serial_dir: Path, serial: pd.DataFrame) -> None:
    s = pd.read_parquet(serial_dir / "summary.parquet")
    assert len(s) == 4 and list(s["n"]) == [2] * 4 and list(s["errors"]) == [0] * 4
    assert list(s.columns[:3]) == ["point", P_NODES, P_SPREAD]
    r = serial
    sel = r[r.point == 2]["join_success_rate"].to_numpy()
    assert s.loc[2, "join_success_rate"] == pytest.approx(sel.mean())
    half = 12.706204736174698 * sel.std(ddof=1) / math.sqrt(2)  # t(0.975, 1)
    assert s.loc[2, "join_success_rate:ci95"] == pytest.approx(half)


def test_rows_carry_lost_minutes_by_cause_and_cost(serial_dir: Path,
                                                  serial: pd.DataFrame) -> None:
    """Each row's ``cause:<name>`` columns are the run's direct accounting (they sum to its
    lost pupil-minutes), ``cost_eur`` prices its nodes; the sweep report's briefing names the
    failed criteria and the top cause that results.parquet holds."""
    from sim import Scenario
    from sim.report import load_sweep_dir, render_sweep
    from sim.report.labels import cause
    from sim.report.layout import SERVICE_TARGET, kpi_label, meets
    from tests.unit.test_sweep_briefing import briefing_text

    causes = [c for c in serial.columns if c.startswith("cause:")]
    assert causes and serial["lost_pupil_minutes"].gt(0).all()
    assert serial[causes].sum(axis=1).to_numpy() == pytest.approx(
        serial["lost_pupil_minutes"].to_numpy(), rel=1e-9)
    per_node = Scenario().costs.node_per_day_eur
    cost = serial.groupby(P_NODES)["cost_eur"].agg(["min", "max"])
    assert (cost["min"] == cost["max"]).all()  # the same setting costs the same
    assert cost.loc[3, "min"] - cost.loc[1, "min"] == pytest.approx(2 * per_node)
    assert set(causes) <= set(pd.read_parquet(serial_dir / "summary.parquet").columns)

    means = serial.groupby([P_NODES, P_SPREAD])[[*KPI_NAMES, *causes]].mean()
    missing = means[[not meets(r.to_dict()) for _, r in means.iterrows()]]  # n=2: the means
    page = render_sweep(load_sweep_dir(serial_dir))
    assert "Simulated at population scale 0.005: a faithful miniature" in page
    text = briefing_text(page)
    for k, op, thr in SERVICE_TARGET:
        bad = (missing[k] < thr) if op == ">=" else (missing[k] > thr)
        if bad.any():
            assert f"{kpi_label(k)}: missed at {int(bad.sum())} of 4 points" in text
    assert len(missing), "the grid is meant to miss the target somewhere"
    by = missing[causes].sum().sort_values(ascending=False)
    top = cause(str(by.index[0])[len("cause:"):])
    assert f"direct accounting): {top} (" in text, text
    assert "The verdict rests on 2 runs per point" in text


class _Interrupting:
    """Serial, but Ctrl-C after ``n`` rows (as a user would)."""

    name = "interrupting"
    parallelism = 1

    def __init__(self, n: int):
        self.n = n

    def run(self, tasks: Sequence[Task]) -> Iterator[dict[str, Any]]:
        for i, t in enumerate(tasks):
            if i == self.n:
                raise KeyboardInterrupt
            yield run_task(t)


@pytest.mark.reliability
def test_interrupted_sweep_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    """A sweep interrupted (KeyboardInterrupt) after some runs resumes: every run exactly
    once, nothing recomputed."""
    out = tmp_path / "out"
    sw = load_sweep(write_sweep(tmp_path, SMALL))
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sw, out, _Interrupting(2))
    store = SweepStore(out)
    first = store.done_keys()
    assert len(first) == 2
    mtimes = {k: (out / "parts" / f"{k}.parquet").stat().st_mtime_ns for k in first}
    res = run_sweep(sw, out)
    assert (res.computed, res.skipped) == (2, 2)
    assert len(res.results) == 4 and res.results["key"].is_unique
    assert {k: (out / "parts" / f"{k}.parquet").stat().st_mtime_ns for k in first} == mtimes
    assert run_sweep(sw, out).computed == 0


def test_failing_run_is_an_error_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = sim.experiments.executors.simulate_once

    def flaky(scenario: Any, seed: int = 1, progress: Any = None) -> Any:
        if scenario.platforms[0].clusters[0].nodes == 3 and seed != 5:
            raise RuntimeError("boom")
        return real(scenario, seed)

    monkeypatch.setattr(sim.experiments.executors, "simulate_once", flaky)
    sw = load_sweep(write_sweep(tmp_path, SMALL))
    res = run_sweep(sw, tmp_path / "out")
    assert len(res.results) == 4 and res.errors == 1
    bad = res.results[res.results["error"].notna()].iloc[0]
    assert bad["error"].startswith("RuntimeError: boom")
    assert (bad["point"], bad["replication"]) == (1, 1)
    assert all(math.isnan(bad[k]) for k in KPI_NAMES)
    assert res.summary.loc[1, "errors"] == 1 and res.summary.loc[1, "n"] == 1
    # a re-run keeps the error row; --retry-errors runs only that one again
    monkeypatch.setattr(sim.experiments.executors, "simulate_once", real)
    assert run_sweep(sw, tmp_path / "out").computed == 0
    again = run_sweep(sw, tmp_path / "out", retry_errors=True)
    assert (again.computed, again.errors) == (1, 0)


def test_other_sweep_in_directory_is_refused(grid_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    SweepStore(out).prepare(load_sweep(grid_file))
    other = write_sweep(tmp_path, GRID.replace("seed: 5", "seed: 6"), "other.yaml")
    with pytest.raises(ConfigError, match="the seed differs \\(5 → 6\\)"):
        SweepStore(out).prepare(load_sweep(other))
    (out / "parts" / "stale.parquet").write_bytes(b"")
    SweepStore(out).prepare(load_sweep(other), force=True)
    assert not (out / "parts" / "stale.parquet").exists()
    # more replications extend the same sweep (rows are keyed; seeds do not depend on R)
    more = write_sweep(
        tmp_path,
        GRID.replace("seed: 5", "seed: 6").replace("replications: 2", "replications: 3"),
        "more.yaml",
    )
    SweepStore(out).prepare(load_sweep(more))
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        SweepStore(tmp_path / "file").prepare(load_sweep(more))


def test_bad_sweep_files(tmp_path: Path) -> None:
    cases = {
        "replicatons: 2\nparameters: {day.end: [1]}\n": "replicatons: unknown key",
        f"parameters:\n  {NODES}: [0, 2]\n": f"parameters.{NODES}=0: {NODES}: Input should be",
        "parameters:\n  timetable.school_start_sprad_min: [0]\n": "unknown key (typo?)",
        "parameters:\n  platforms[7].nodes: [1]\n": "no list element [7]",
        "parameters:\n  x.y: {low: 1, hi: 2}\n": "x.y.hi: unknown key",
        f"sampling: lhs\nparameters:\n  {NODES}: [1, 2]\n": "takes a range",
        f"parameters:\n  {NODES}: [1, 1]\n": "duplicate values",
        "parameters: {}\n": "parameters:",
    }
    for body, expected in cases.items():
        f = write_sweep(tmp_path, body)
        with pytest.raises(ConfigError) as exc:
            load_sweep(f)
        assert any(line.startswith(str(f)) and expected in line for line in exc.value.problems), (
            body,
            exc.value.problems,
        )


def test_latin_hypercube(tmp_path: Path) -> None:
    body = f"""sampling: lhs
points: 7
parameters:
  {NODES}: {{low: 1, high: 8}}
  behaviour.patience_s: {{low: 300.0, high: 1200.0}}
seed: 3
"""
    sw = load_sweep(write_sweep(tmp_path, body))
    assert len(sw.points) == 7 and len(sw.tasks) == 7
    nodes = [p[NODES] for p in sw.points]
    patience = np.array([p["behaviour.patience_s"] for p in sw.points])
    assert all(isinstance(n, int) and 1 <= n <= 8 for n in nodes)
    assert ((patience >= 300) & (patience <= 1200)).all()
    # one draw in each of the 7 strata of each range
    strata = np.floor((patience - 300) / 900 * 7).astype(int)
    assert sorted(strata.tolist()) == list(range(7))
    assert load_sweep(write_sweep(tmp_path, body)).points == sw.points  # same seed, same sample


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(
        st.integers(-(10**12), 10**12),
        st.booleans(),
        st.text(max_size=20),
        st.floats(allow_nan=False, allow_infinity=False),
    )
)
def test_override_values_round_trip(value: Any) -> None:
    _, parsed = parse_override(override("a.b[0].c", value))
    assert parsed == value and type(parsed) is type(value)


def test_executor_choice() -> None:
    assert isinstance(make_executor(), SerialExecutor)
    with pytest.raises(ValueError):
        make_executor(workers=2, scheduler="tcp://127.0.0.1:1")


def test_summary_has_bounded_intervals_and_named_parameters(tmp_path: Path) -> None:
    body = """parameters:
  platforms[iserv].clusters[iserv-bbb].nodes: [1, 3]
replications: 2
seed: 5
"""
    sw = load_sweep(write_sweep(tmp_path, body))
    assert sw.named_parameters == {
        "platforms[iserv].clusters[iserv-bbb].nodes": "platforms[iserv].clusters[iserv-bbb].nodes"
    }
    res = run_sweep(sw, tmp_path / "out")
    s = res.summary
    assert not s["meaningful"].any()  # two replications per point
    for k in ("join_success_rate", "blocking_probability", "degraded_share"):
        assert ((s[f"{k}:lo"] >= 0) & (s[f"{k}:lo"] <= s[k]) & (s[k] <= s[f"{k}:hi"])).all()
        assert (s[f"{k}:hi"] <= 1).all() and f"{k}:ci95" in s
    # a utilisation is not bounded by 1 (an overloaded node runs past it), only by 0
    assert (s["peak_node_utilisation:lo"] >= 0).all()
    assert (s["lost_pupil_minutes:lo"] >= 0).all()
    meta = SweepStore(tmp_path / "out").read_meta()
    assert meta is not None and meta["parameter_names"] == sw.named_parameters
    # by position: the same runs (same rows), printed by name
    pos = load_sweep(write_sweep(tmp_path, body.replace("[iserv]", "[0]").replace(
        "[iserv-bbb]", "[0]"), name="pos.yaml"))
    assert list(pos.named_parameters.values()) == list(sw.named_parameters)
    assert [t.overrides for t in pos.tasks] != [t.overrides for t in sw.tasks]
    assert [t.labels["config_hash"] for t in pos.tasks] == [
        t.labels["config_hash"] for t in sw.tasks]
