"""The command line end to end, as a user runs it (subprocess, real files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.model.metrics import KPI_NAMES
from tests.conftest import DEFAULT_CONFIG, REPO


def dlsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "1"}
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, env=env, timeout=300, check=False)


@pytest.fixture(scope="module")
def small_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cfg")
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    text = text.replace("  scale: 1.0", "  scale: 0.01")
    text = text.replace("../data/", str(REPO / "data") + "/")
    p = d / "small.yaml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def run_dir(small_config: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    r = dlsim("run", str(small_config), "--out", str(out), "--seed", "4")
    assert r.returncode == 0, r.stderr
    assert "report.html" in r.stdout
    return out


def test_run_writes_outputs(run_dir: Path) -> None:
    for name in ("summary.json", "timeseries.parquet", "report.html", "schools.parquet"):
        assert (run_dir / name).is_file(), name
    assert not list(run_dir.glob(".*.tmp")), "temporary files left behind"


def test_summary_contract(run_dir: Path, small_config: Path) -> None:
    s = json.loads((run_dir / "summary.json").read_text())
    assert list(s["kpis"]) == list(KPI_NAMES)
    assert all(isinstance(v, int | float) for v in s["kpis"].values())
    prov = s["provenance"]
    for key in ("config_hash", "seed", "version", "git_commit", "created_utc"):
        assert key in prov
    assert prov["seed"] == 4
    assert len(prov["config_hash"]) == 16
    assert s["details"]["intending_participants"] > 0


def test_timeseries_is_tidy(run_dir: Path) -> None:
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    assert list(ts.columns) == ["t", "component", "metric", "value"]
    assert ts["t"].min() >= 7 * 3600 and ts["t"].max() <= 15.5 * 3600
    # per minute: consecutive samples of one series are 60 s apart
    one = ts[(ts.component == "total") & (ts.metric == "participants")]["t"].diff().dropna()
    assert (one == 60).all()
    comps = set(ts["component"])
    assert {"total", "cluster:iserv-bbb", "frontend:iserv", "platform:iserv"} <= comps


def test_report_is_self_contained(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text()
    assert "<script" in html and "Plotly" in html
    assert '<script src="http' not in html and '<link rel="stylesheet" href="http' not in html
    assert "Peak concurrent participants" in html  # KPIs by name in words, no raw ids


def test_cli_seed_and_set(small_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    r = dlsim("run", str(small_config), "--out", str(out), "--seed", "4", "--no-report",
              "--set", "behaviour.attendance=0.5")
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "summary.json").read_text())
    assert not (out / "report.html").exists()
    assert s["details"]["intending_participants"] > 0


def test_validate_ok(small_config: Path) -> None:
    r = dlsim("validate", str(small_config))
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: x\nplatfroms: []\n", "platfroms: unknown key"),
        ("day: {start: '10:00', end: '09:00'}\n", "day: day.end must be after day.start"),
        ("platforms:\n  - name: iserv\n    clusters: [{name: c, nodes: -3}]\n",
         "platforms[0].clusters[0].nodes"),
        ("behaviour: {attendance: 1.7}\n", "behaviour.attendance"),
        ("population: {school_types_file: nowhere.csv}\n", "population.school_types_file"),
        ("- a\n- b\n", "expected a mapping"),
        ("", "the file is empty"),
        ("a: [unclosed\n", "not valid YAML"),
        ("behaviour: {attendance: 0.5}\nbehaviour: {patience_s: 60}\n", "duplicate key"),
    ],
)
def test_bad_config_exit_2(tmp_path: Path, text: str, fragment: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    for cmd in ("validate", "run"):
        r = dlsim(cmd, str(p), "--out", str(tmp_path / "o")) if cmd == "run" else dlsim(cmd, str(p))
        assert r.returncode == 2, (cmd, r.stdout, r.stderr)
        assert fragment in r.stderr, r.stderr
        assert str(p) in r.stderr
        assert "Traceback" not in r.stderr
    assert not (tmp_path / "o" / "summary.json").exists()


def test_bad_override_exit_2(small_config: Path) -> None:
    r = dlsim("validate", str(small_config), "--set", "platforms[0].clusters[0].nodes=0")
    assert r.returncode == 2
    assert "platforms[0].clusters[0].nodes" in r.stderr
    r = dlsim("validate", str(small_config), "--set", "nonsense")
    assert r.returncode == 2 and "key.path=value" in r.stderr


def test_missing_file_and_usage_errors(tmp_path: Path) -> None:
    r = dlsim("run", str(tmp_path / "nope.yaml"))
    assert r.returncode == 2 and "no such file" in r.stderr
    r = dlsim("run", str(DEFAULT_CONFIG), "--bogus-flag")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = dlsim("validate", str(tmp_path))
    assert r.returncode == 2 and "is a directory" in r.stderr


def test_console_script_installed() -> None:
    exe = Path(sys.executable).parent / "dlsim"
    assert exe.exists()
    r = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert r.returncode == 0 and "run" in r.stdout
