"""`dlsim sensitivity` as a user runs it: a subprocess, a small design on the default day,
its files, a resumed re-run that computes nothing, a refused directory of another design, the
German page."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from tests.conftest import DEFAULT_CONFIG, REPO
from tests.e2e.cluster import ENV


def dlsim(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=REPO, env=ENV, timeout=timeout, check=False)


def _priors(tmp_path: Path) -> Path:
    p = tmp_path / "priors.yaml"
    p.write_text(yaml.safe_dump({"scenario": str(DEFAULT_CONFIG), "inputs": [
        {"path": "assignment.outdated_share", "dist": "uniform",
         "params": {"loc": 0.2, "scale": 0.3}, "source": "A24", "label": "outdated share"},
        {"path": "behaviour.webcam_share_pupils", "dist": "uniform",
         "params": {"loc": 0.05, "scale": 0.35}, "source": "A38"},
    ]}), encoding="utf-8")
    return p


def test_sensitivity_writes_indices_and_resumes(tmp_path: Path) -> None:
    priors, out = _priors(tmp_path), tmp_path / "sens"
    args = ["sensitivity", str(DEFAULT_CONFIG), "--priors", str(priors), "--out", str(out),
            "--runs", "6", "--scale", "0.01", "--seed", "2"]
    first = dlsim(*args)
    assert first.returncode == 0, first.stderr
    assert "6 runs (6 computed, 0 resumed, 0 failed)" in first.stdout
    for name in ("results.parquet", "indices.parquet", "sensitivity.json", "report.html"):
        assert (out / name).is_file(), name
    res = pd.read_parquet(out / "results.parquet")
    assert len(res) == 6 and res["error"].isna().all()
    assert {"param:assignment.outdated_share", "stat:iserv_peak_cpu_utilisation"} <= set(
        res.columns)
    meta = json.loads((out / "sensitivity.json").read_text())
    assert meta["method"] == "morris" and meta["runs"] == 6 and meta["scale"] == 0.01
    ix = pd.read_parquet(out / "indices.parquet")
    assert set(ix["input"]) == {"assignment.outdated_share", "behaviour.webcam_share_pupils"}
    assert (ix["mu_star"] >= 0).all()
    # the CPU at the busiest minute does not depend on how many servers are outdated, but on
    # the cameras: the analysis must say which
    cpu = ix[ix.output == "iserv_peak_cpu_utilisation"].set_index("input")["mu_star"]
    assert cpu["behaviour.webcam_share_pupils"] > cpu["assignment.outdated_share"]
    again = dlsim(*args, "--lang", "de")
    assert again.returncode == 0, again.stderr
    assert "0 computed, 6 resumed" in again.stdout or "0 berechnet" in again.stdout
    assert 'lang="de"' in (out / "report.html").read_text(encoding="utf-8")
    other = dlsim(*args[:-2], "--seed", "3")
    assert other.returncode == 2 and "cannot be reused" in other.stderr
