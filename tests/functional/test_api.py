"""The Python API: sim.sweep / sim.compare / sim.size return the documented tidy
frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.api import COMPARE_COLUMNS, SIZE_COLUMNS, SWEEP_COLUMNS
from sim.model.metrics import KPI_NAMES

NODES = "platforms[0].clusters[0].nodes"
NODES_NAMED = "platforms[iserv].clusters[iserv-bbb].nodes"
SPREAD = "timetable.school_start_spread_min"
SMALL = ["population.scale=0.01", "day.end=10:00"]


@pytest.fixture(scope="module")
def scenario() -> sim.Scenario:
    return sim.load_scenario(sim.config_path("lower-saxony-scenario-c.yaml"), SMALL)


@pytest.fixture(scope="module")
def serial(scenario: sim.Scenario) -> pd.DataFrame:
    return sim.sweep(scenario, {NODES: [100, 300], SPREAD: [0, 30]}, replications=2, seed=5)


def test_sweep_returns_the_documented_tidy_frame(serial: pd.DataFrame) -> None:
    assert list(serial.columns) == ["point", NODES_NAMED, SPREAD, *SWEEP_COLUMNS[1:]]
    assert len(serial) == 4 * 2 * len(KPI_NAMES)  # point × replication × KPI
    assert list(serial["kpi"].iloc[: len(KPI_NAMES)]) == list(KPI_NAMES)
    assert serial["error"].isna().all() and serial["value"].dtype == float
    per_point = serial.groupby("point")[[NODES_NAMED, SPREAD]].first()
    assert per_point.to_dict("list") == {NODES_NAMED: [100, 100, 300, 300], SPREAD: [0, 30, 0, 30]}
    # common random numbers: replication r has the same seed at every point
    seeds = serial.groupby("replication")["seed"].nunique()
    assert (seeds == 1).all() and serial.attrs["seeds"] == list(dict.fromkeys(serial["seed"]))


def test_sweep_on_a_local_cluster_gives_the_same_numbers(
    scenario: sim.Scenario, serial: pd.DataFrame
) -> None:
    pytest.importorskip("distributed")
    # by name this time: the same sweep, the same rows
    dask = sim.sweep(scenario, {NODES_NAMED: [100, 300], SPREAD: [0, 30]}, replications=2, seed=5,
                     workers=2)
    pd.testing.assert_frame_equal(dask, serial)


def test_sweep_keeps_a_resumable_directory_when_asked(scenario: sim.Scenario,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "sw"
    first = sim.sweep(scenario, {NODES: [100, 300]}, replications=1, seed=5, out=out)
    assert (out / "results.parquet").is_file() and (out / "summary.parquet").is_file()
    calls: list[int] = []
    again = sim.sweep(scenario, {NODES: [100, 300]}, replications=1, seed=5, out=out,
                      progress=lambda done, total, row: calls.append(row is not None))
    assert not any(calls)  # nothing computed: every run was stored
    pd.testing.assert_frame_equal(first, again)


def test_sweep_refuses_a_name_that_matches_nothing(scenario: sim.Scenario) -> None:
    with pytest.raises(sim.ConfigError, match=r"no platforms named 'isrv' \(names: iserv"):
        sim.sweep(scenario, {"platforms[isrv].clusters[0].nodes": [1, 2]})


def test_compare_and_size_frames(scenario: sim.Scenario) -> None:
    cfg = sim.config_path("lower-saxony-scenario-c.yaml")
    # whole-state node counts: at scale 0.01 they run as 40 and 1 nodes
    more = sim.load_scenario(cfg, [*SMALL, f"{NODES}=4000"])
    less = sim.load_scenario(cfg, [*SMALL, f"{NODES}=100"])
    cmp = sim.compare(less, more, replications=3, seed=2)
    assert tuple(cmp.columns) == COMPARE_COLUMNS and list(cmp["kpi"]) == list(KPI_NAMES)
    # load refuses no one: the one node of `less` runs degraded, the 40 of `more` do not
    deg = cmp.set_index("kpi").loc["degraded_share"]
    assert deg["diff"] < 0 and deg["significant"] and deg["meaningful"]
    assert 0.0 <= deg["a_lo"] <= deg["a"] <= deg["a_hi"] <= 1.0
    fit = sim.size(scenario, NODES_NAMED, "join_success_rate>=0.9", replications=2, seed=2,
                   max_candidates=8)
    assert tuple(fit.columns) == SIZE_COLUMNS and (fit["param"] == NODES_NAMED).all()
    assert fit.attrs["scale"] == 0.01 and fit.attrs["central"]
    if fit.attrs["answer"] is not None:
        assert fit.attrs["answer_whole_state"] == pytest.approx(fit.attrs["answer"] / 0.01)
        assert fit.loc[fit["answer"], "value"].tolist() == [fit.attrs["answer"]]
        assert fit.loc[fit["answer"], "meets"].all()


def test_config_path_finds_the_shipped_files_and_says_what_is_shipped() -> None:
    assert sim.config_path("sweeps/nodes-x-stagger.yaml").is_file()
    with pytest.raises(FileNotFoundError, match=r"lower-saxony-scenario-c\.yaml"):
        sim.config_path("nope.yaml")
    with pytest.raises(FileNotFoundError):
        sim.config_path("../pyproject.toml")
