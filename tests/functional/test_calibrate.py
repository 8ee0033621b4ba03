"""`dlsim calibrate` on a small problem (docs/calibration.md, "Recovery check"): targets made
from a run at known inputs are covered by the posterior wherever the targets identify an
input; killed with SIGKILL and re-run, the calibration ends with the same posterior as
uninterrupted; the directory's files."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.uncertainty.calibrate import Settings
from sim.uncertainty.recovery import run_check

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
FIX = REPO / "tests" / "fixtures" / "calibration"
CONFIG = REPO / "configs" / "lower-saxony-scenario-c.yaml"
SMALL = Settings(scale=0.01, population_size=8, generations=3, budget_runs=300, seed=1,
                 predictive_draws=4)
ARGS = ["--scale", "0.01", "--population", "8", "--generations", "3", "--budget-runs", "300",
        "--seed", "1", "--predictive", "4"]


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("recovery")
    verdict = run_check(FIX / "priors-small.yaml", FIX / "targets-small.yaml", CONFIG, out,
                        SMALL, workers=None, rel=0.03)
    return out, verdict


def test_the_truth_is_recovered_where_the_targets_identify_it(checked: tuple[Path, dict]
                                                              ) -> None:
    _, verdict = checked
    # conference hours per pupil pin the live-lesson share: at least that one is identified
    assert verdict["identified"] >= 1, verdict
    assert verdict["passed"], verdict
    share = next(r for r in verdict["inputs"] if r["path"] == "timetable.live_lesson_share")
    assert share["identified"] and share["covered"]


def test_the_directory_holds_posterior_checks_and_pages(checked: tuple[Path, dict]) -> None:
    out = checked[0] / "calibration"
    post = pd.read_parquet(out / "posterior.parquet")
    assert {"timetable.live_lesson_share", "weight", "generation"} <= set(post.columns)
    assert sorted(post.generation.unique()) == [0, 1, 2]
    assert post.groupby("generation").weight.sum().round(9).eq(1).all()
    res = json.loads((out / "calibration.json").read_text())
    held = [t for t in res["targets"] if t["held_out"]]
    assert [t["name"] for t in held] == ["wed_joins_per_pupil"]
    for t in res["targets"]:
        assert t["lo"] <= t["mean"] <= t["hi"] and t["n"] == SMALL.predictive_draws
        assert t["covered"] == (t["lo"] <= t["allowed"][1] and t["hi"] >= t["allowed"][0])
    assert "Kalibrierung" in (out / "calibration.de.html").read_text()
    assert "Posterior-predictive checks" in (out / "calibration.html").read_text()


def _generations(db: Path) -> int:
    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(db) as con:
            return int(con.execute("select count(*) from populations where t >= 0").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_kill_9_and_rerun_gives_the_uninterrupted_posterior(checked: tuple[Path, dict],
                                                            tmp_path: Path) -> None:
    out, _ = checked
    targets = out / "targets.yaml"  # the synthetic targets of the uninterrupted run
    cmd = [sys.executable, "-m", "sim", "calibrate", str(CONFIG), "--priors",
           str(FIX / "priors-small.yaml"), "--targets", str(targets), "--out",
           str(tmp_path / "c"), *ARGS]
    p = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    deadline = time.monotonic() + 600
    while _generations(tmp_path / "c" / "abc.db") < 1 and p.poll() is None:
        assert time.monotonic() < deadline, "generation 0 never finished"
        time.sleep(0.5)
    time.sleep(1.0)  # into generation 1
    assert p.poll() is None, "finished before it could be killed"
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    assert not (tmp_path / "c" / "posterior.parquet").exists()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    resumed = pd.read_parquet(tmp_path / "c" / "posterior.parquet")
    straight = pd.read_parquet(out / "calibration" / "posterior.parquet")
    pd.testing.assert_frame_equal(resumed, straight)


def test_a_directory_of_another_calibration_is_refused(checked: tuple[Path, dict]) -> None:
    out, _ = checked
    cmd = [sys.executable, "-m", "sim", "calibrate", str(CONFIG), "--priors",
           str(FIX / "priors-small.yaml"), "--targets", str(out / "targets.yaml"), "--out",
           str(out / "calibration"), *ARGS[:-2], "--predictive", "4", "--population", "9"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "holds a calibration of other inputs (settings differ)" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_synthetic_targets_keep_names_days_and_flags(checked: tuple[Path, dict]) -> None:
    data = yaml.safe_load((checked[0] / "targets.yaml").read_text())
    src = yaml.safe_load((FIX / "targets-small.yaml").read_text())
    assert [(t["name"], t["statistic"], t["held_out"]) for t in data["targets"]] == [
        (t["name"], t["statistic"], t["held_out"]) for t in src["targets"]]
    for t in data["targets"]:
        lo, hi = t["interval"]
        assert lo < t["observed"] < hi
