"""The output-directory formats (sim/runs/rundir.py), the work estimate and the data-table
checks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.model.population import attempts_per_chain
from sim.runs.rundir import (
    RunDirError,
    check_comparison_dir,
    check_run_dir,
    check_summary,
    read_attribution,
    read_comparison,
    read_run,
    read_sweep,
    write_attribution,
    write_comparison,
    write_run,
)

SUMMARY = {
    "scenario": "s",
    "replications": 1,
    "kpis": {"join_success_rate": 0.99, "p95_time_to_join_s": None},
    "details": {"meetings": 3},
    "provenance": {"config_hash": "abc"},
}
TS = pd.DataFrame({"t": [0.0, 60.0], "component": ["a", "a"], "metric": ["m", "m"],
                   "value": [1.0, 2.0]})


def test_write_then_read_a_run_directory(tmp_path: Path) -> None:
    paths = write_run(tmp_path / "run", SUMMARY, TS, pd.DataFrame({"school": [0]}), "<html>")
    assert set(paths) == {"summary", "timeseries", "schools", "report"}
    run = read_run(tmp_path / "run")
    assert run.summary == SUMMARY and run.notes == []
    pd.testing.assert_frame_equal(run.timeseries, TS)
    write_run(tmp_path / "run", SUMMARY, TS, pd.DataFrame({"school": [0]}))
    assert not (tmp_path / "run" / "report.html").exists()  # it described other results


@pytest.mark.parametrize(("change", "message"), [
    ({"kpis": {"join_success_rate": "99 %"}}, "kpis.join_success_rate: expected a number"),
    ({"kpis": {"join_success_rate": True}}, "kpis.join_success_rate: expected a number"),
    ({"kpis": [0.99]}, "kpis: expected a mapping"),
    ({"kpis_ci95": {"join_success_rate": [0.01]}}, "kpis_ci95.join_success_rate"),
    ({"kpis_per_replication": {"join_success_rate": ["x"]}}, "kpis_per_replication"),
    ({"replications": 0}, "replications: expected a positive whole number"),
    ({"details": "none"}, "details: expected a mapping"),
])
def test_summaries_whose_kpis_are_not_numbers_are_refused(change: dict, message: str) -> None:
    with pytest.raises(RunDirError, match=message):
        check_summary({**SUMMARY, **change}, "summary.json")


def test_run_dir_of_another_scenario_or_foreign_files_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    write_run(out, SUMMARY, TS, pd.DataFrame())
    assert check_run_dir(out, "abc", force=False) is False
    with pytest.raises(RunDirError, match="another scenario"):
        check_run_dir(out, "other", force=False)
    (out / "summary.json").unlink()  # interrupted between renames: ours to complete
    check_run_dir(out, "other", force=False)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match=r"found notes\.txt"):
        check_run_dir(out, "other", force=False)


def test_interrupted_comparison_may_be_completed(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    write_run(out / "a", SUMMARY, TS, pd.DataFrame())
    check_comparison_dir(out, "x", "y", force=False)  # a/ without comparison.json
    (out / "comparison.json").write_text(json.dumps({"a": {"config_hash": "x"},
                                                     "b": {"config_hash": "y"}}))
    check_comparison_dir(out, "x", "y", force=False)
    with pytest.raises(RunDirError, match="another comparison"):
        check_comparison_dir(out, "x", "z", force=False)


def test_read_a_sweep_directory_and_its_optional_files(tmp_path: Path) -> None:
    from sim.runs.io import write_parquet

    d = tmp_path / "sweep"
    results = pd.DataFrame({"param:a": [1, 2], "join_success_rate": [0.9, 1.0]})
    write_parquet(d / "results.parquet", results)
    stored = read_sweep(d)
    assert stored.meta == {} and stored.summary is None and stored.sizing is None
    pd.testing.assert_frame_equal(stored.results, results)
    # a sweep file beside the results names it; a damaged summary is set aside, not fatal
    (d / "sweep.yaml").write_text("name: from-yaml\n")
    (d / "summary.parquet").write_bytes(b"PAR1 damaged")
    (d / "sizing.json").write_text(json.dumps({"answer": 400}))
    stored = read_sweep(d)
    assert stored.meta == {"name": "from-yaml"} and stored.sizing == {"answer": 400}
    assert stored.summary is None and "summary.parquet cannot be read" in stored.notes[0]
    (d / "sweep.json").write_text(json.dumps({"name": "from-json"}))  # sweep.json first
    assert read_sweep(d).meta == {"name": "from-json"}
    with pytest.raises(RunDirError, match="not a directory"):
        read_sweep(d / "results.parquet")
    (d / "results.parquet").write_bytes(b"garbage")
    with pytest.raises(RunDirError, match=r"results\.parquet: cannot read"):
        read_sweep(d)


def test_attribution_and_comparison_round_trip(tmp_path: Path) -> None:
    att = {"lost_pupil_minutes": 10.0, "causes": {"dispatcher": {"direct": 10.0}}}
    assert read_attribution(tmp_path) is None
    write_attribution(tmp_path / "x", att)
    assert read_attribution(tmp_path / "x") == att
    (tmp_path / "x" / "attribution.json").write_text(json.dumps({"causes": []}))
    assert read_attribution(tmp_path / "x") is None  # not an attribution: ignored
    for arm in ("a", "b"):
        write_run(tmp_path / "cmp" / arm, SUMMARY, TS, pd.DataFrame({"school": [0]}))
    assert read_comparison(tmp_path / "cmp").comparison is None
    write_comparison(tmp_path / "cmp", {"diffs": {"join_success_rate": {"mean": 0.01}}})
    stored = read_comparison(tmp_path / "cmp")
    assert stored.comparison == {"diffs": {"join_success_rate": {"mean": 0.01}}}
    assert (stored.a.path.name, stored.b.path.name) == ("a", "b")


def test_attempts_per_chain() -> None:
    # 15 + 30 + 60 + 120 + 240 + 240 + 240 = 945 > 900: six back-offs fit, seven attempts
    assert attempts_per_chain(15.0, 2.0, 240.0, 900.0) == 7
    assert attempts_per_chain(0.1, 1.0, 0.1, 100.0) == pytest.approx(1001, abs=1)
    assert attempts_per_chain(1000.0, 2.0, 1000.0, 900.0) == 1
