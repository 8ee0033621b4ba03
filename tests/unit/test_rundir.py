"""The output-directory formats (sim/rundir.py), the work estimate and the data-table checks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.population import attempts_per_chain
from sim.rundir import (
    RunDirError,
    check_comparison_dir,
    check_run_dir,
    check_summary,
    read_run,
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


def test_attempts_per_chain() -> None:
    # 15 + 30 + 60 + 120 + 240 + 240 + 240 = 945 > 900: six back-offs fit, seven attempts
    assert attempts_per_chain(15.0, 2.0, 240.0, 900.0) == 7
    assert attempts_per_chain(0.1, 1.0, 0.1, 100.0) == pytest.approx(1001, abs=1)
    assert attempts_per_chain(1000.0, 2.0, 1000.0, 900.0) == 1
