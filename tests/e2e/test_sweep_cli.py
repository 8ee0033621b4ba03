"""`dlsim sweep | compare | size` as a user runs them: subprocesses, real files, a real Dask
cluster (`dask scheduler` + two `dask worker` processes on 127.0.0.1), a killed sweep."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.experiments.sweep import load_sweep, run_sweep
from sim.model.metrics import KPI_NAMES
from tests.conftest import DEFAULT_CONFIG, REPO
from tests.e2e.cluster import ENV
from tests.e2e.cluster import dask_cluster as start_cluster
from tests.reliability import cli

NODES = "platforms[0].clusters[0].nodes"


def dlsim(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=ENV,
        timeout=timeout,
        check=False,
    )


def sweep_file(d: Path, points: list[int], replications: int, seed: int = 7) -> Path:
    p = d / "sweep.yaml"
    p.write_text(
        yaml.safe_dump(
            {
                "name": "e2e",
                "base": os.path.relpath(DEFAULT_CONFIG, d),
                "overrides": ["population.scale=0.005", "day.end='10:00'"],
                "parameters": {NODES: points},
                "replications": replications,
                "seed": seed,
            }
        ),
        encoding="utf-8",
    )
    return p


@pytest.fixture
def dask_cluster() -> Iterator[str]:
    """A real scheduler and two single-threaded workers on 127.0.0.1; always torn down."""
    with start_cluster(2) as c:
        yield c.address


def test_sweep_on_a_remote_dask_cluster(dask_cluster: str, tmp_path: Path) -> None:
    f = sweep_file(tmp_path, [1, 3], replications=1)
    out = tmp_path / "out"
    r = dlsim("sweep", str(f), "--out", str(out), "--scheduler", dask_cluster)
    assert r.returncode == 0, r.stderr
    assert "2 runs: 2 computed now, 0 already stored, 0 with errors" in r.stdout
    df = pd.read_parquet(out / "results.parquet")
    assert len(df) == 2 and df["key"].is_unique and df["error"].isna().all()
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["last_run"]["executor"] == f"dask scheduler {dask_cluster}"
    assert meta["last_run"]["complete"] is True
    # the same rows as in this process, serially
    serial = run_sweep(load_sweep(f), tmp_path / "serial").results
    cols = ["point", "replication", f"param:{NODES}", "seed", "key", *KPI_NAMES]
    pd.testing.assert_frame_equal(df[cols], serial[cols])


@pytest.mark.reliability
def test_killed_sweep_resumes(tmp_path: Path) -> None:
    """`kill -9` of a running `dlsim sweep`, then the same command again: it completes with
    no lost and no duplicated rows, and the stored runs are not recomputed."""
    f = sweep_file(tmp_path, [1, 3], replications=2)
    out = tmp_path / "out"
    args = [sys.executable, "-m", "sim", "sweep", str(f), "--out", str(out)]
    proc = subprocess.Popen(
        args, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 90
        while len(list((out / "parts").glob("*.parquet"))) < 2:
            assert proc.poll() is None, "the sweep ended before it could be interrupted"
            assert time.monotonic() < deadline, "no runs were stored in time"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # no chance to clean up
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    before = {p.name: p.stat().st_mtime_ns for p in (out / "parts").glob("*.parquet")}
    assert 2 <= len(before) < 4
    r = dlsim("sweep", str(f), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert f"{4 - len(before)} computed now, {len(before)} already stored" in r.stdout
    df = pd.read_parquet(out / "results.parquet")
    assert len(df) == 4 and df["key"].is_unique
    assert sorted(zip(df.point, df.replication, strict=True)) == [
        (p, i) for p in range(2) for i in range(2)
    ]
    after = {p.name: p.stat().st_mtime_ns for p in (out / "parts").glob("*.parquet")}
    assert {k: after[k] for k in before} == before  # stored runs were not recomputed
    assert not list((out / "parts").glob(".*.tmp"))


def test_sweep_refuses_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"base: {DEFAULT_CONFIG}\nparameters:\n  {NODES}: [0]\nreplicatons: 2\n")
    code, _, err = cli(["sweep", str(bad), "--out", str(tmp_path / "o")])
    assert code == 2 and f"error: {bad}: replicatons: unknown key (typo?)" in err.splitlines()
    f = sweep_file(tmp_path, [1], replications=1)
    out = tmp_path / "o2"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, _, err = cli(["sweep", str(f), "--out", str(out)])
    assert code == 2 and "not a sweep directory" in err
    code, _, err = cli(["sweep", str(f), "--out", str(tmp_path / "o3"), "--workers", "2",
                        "--scheduler", "tcp://127.0.0.1:1"])
    assert code == 2 and "not both" in err


def test_compare_and_size_cli(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    small = ["--set", "population.scale=0.005", "--set", "day.end=10:00"]
    # whole-state node counts: at scale 0.005 (sim.model.scale) they run as 1 and 3 nodes
    arms = ["--set-a", f"{NODES}=200", "--set-b", f"{NODES}=600"]
    cfg = str(DEFAULT_CONFIG)
    args = ["compare", cfg, cfg, "--replications", "2", *small, *arms, "--out", str(out)]
    code, stdout, err = cli([*args])
    assert code == 0, err
    # KPIs by name with units, a bounded interval, the report written and its path printed once
    assert "B − A" in stdout and "Pupil-meetings" in stdout and " pp" in stdout
    assert "join_success_rate" not in stdout and " ± " not in stdout
    assert (out / "report.html").is_file() and stdout.count("report.html") == 1
    data = json.loads((out / "comparison.json").read_text())
    assert set(data["kpis"]) == set(KPI_NAMES) and data["replications"] == 2
    # load degrades, it refuses no one (issue 24): three times the nodes, fewer degraded minutes
    d = data["diffs"]["degraded_share"]
    assert d["diff"] < 0 and d["n"] == 2
    assert -1.0 <= d["lo"] <= d["diff"] <= d["hi"] <= 1.0 and 0.0 <= d["p_value"] <= 1.0
    for arm in ("a", "b"):  # run directories, as `dlsim report DIR` reads a comparison
        summary = json.loads((out / arm / "summary.json").read_text())
        assert summary["replications"] == 2 and (out / arm / "timeseries.parquet").is_file()
    # another comparison into the same --out is refused before anything runs (or --force)
    before = (out / "comparison.json").read_bytes()
    other = [*args[:-2], "--set-b", f"{NODES}=800", "--out", str(out)]
    code, _, err = cli([*other])
    assert code == 2 and "holds another comparison" in err and "--force" in err, err
    assert (out / "comparison.json").read_bytes() == before

    from sim.experiments.verification import loss_scenario

    sc = loss_scenario(10.0, 10, arrivals=2_000)
    data = sc.model_dump(mode="json")
    for key in ("school_types_file", "regions_file"):  # the data files, wherever this file is
        data["population"][key] = str(sc.resolve_path(data["population"][key]))
    loss = tmp_path / "loss.yaml"
    loss.write_text(yaml.safe_dump(data), encoding="utf-8")
    slots = "platforms[0].clusters[0].node_max_participants"
    size = ["size", str(loss), "--param", slots, "--replications", "3"]
    target = ["--target", "blocking_probability<=0.1"]
    code, stdout, err = cli([*size, *target, "--out", str(tmp_path / "size.json")])
    assert code == 0, err
    slots = "platforms[p].clusters[c].node_max_participants"  # printed by name
    assert f"Erlang-B bound: {slots}=13" in stdout  # min_servers_erlang_b(10, 0.1)
    res = json.loads((tmp_path / "size.json").read_text())
    assert abs(res["answer"] - 13) <= 1 and f"answer: {slots}={res['answer']}" in stdout
    code, _, err = cli([*size, "--target", "blocking<=0.1"])
    assert code == 2 and "unknown KPI" in err


def test_compare_and_sweep_reports_in_the_chosen_language(tmp_path: Path) -> None:
    code, _, err = cli(["sweep", str(sweep_file(tmp_path, [1], 1)), "--out",
                        str(tmp_path / "none"), "--lang", "fr"])
    assert code == 2 and "error: --lang fr: expected one of" in err, err
    assert not (tmp_path / "none").exists()
    code, stdout, err = cli(["sweep", str(sweep_file(tmp_path, [1, 2], 1)), "--out",
                             str(tmp_path / "sw"), "--lang", "de"])
    assert code == 0, err
    page = (tmp_path / "sw" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="de"' in page and "Konferenzknoten (IServ)" in page
    # the terminal summary too, with German numbers (0,005) and words
    for german in ("je Punkt:", "Maßstab: Bevölkerungsmaßstab 0,005", "2 Läufe: 2 jetzt",
                   "Ergebnisse:", "Bericht:"):
        assert german in stdout, (german, stdout)
    for english in ("per point", "Scale:", "runs:", "computed now", "results:", "report:"):
        assert english not in stdout, (english, stdout)
    cfg, out = str(DEFAULT_CONFIG), tmp_path / "cmp"
    code, stdout, err = cli(["compare", cfg, cfg, "--replications", "2", "--set",
                             "population.scale=0.005", "--set", "day.end=10:00", "--set-b",
                             f"{NODES}=3", "--out", str(out), "--lang", "de"])
    assert code == 0, err
    assert '<html lang="de"' in (out / "report.html").read_text(encoding="utf-8")
    for german in ("B − A über 2 gepaarte Läufe", "Fett: Das Intervall", "Maßstab:",
                   "Bericht:"):
        assert german in stdout, (german, stdout)
    assert re.search(r"\d,\d+\s?%", stdout), stdout  # 98,25 %, not 98.25 %
    for english in ("paired replications", "Bold:", "Scale:", "report:"):
        assert english not in stdout, (english, stdout)


def test_replications_cli(tmp_path: Path) -> None:
    small = ["--set", "population.scale=0.005", "--set", "day.end=10:00"]
    base = ["replications", str(DEFAULT_CONFIG), *small, "--look-ahead", "2"]
    code, stdout, err = cli([*base, "--kpi", "join_success_rate", "--precision", "0.2",
                            "--budget", "8", "--out", str(tmp_path / "r.json")])
    assert code == 0, err
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["replications"] == data["needed"]["join_success_rate"] >= 3
    assert f"answer: --replications {data['replications']}" in stdout
    # a precision the budget cannot reach: exit 1, "not reached"
    code, stdout, _ = cli([*base, "--kpi", "lost_pupil_minutes", "--precision", "0.001",
                          "--budget", "4"])
    assert code == 1 and "not reached" in stdout and "answer: none" in stdout
    code, _, err = cli([*base, "--kpi", "happiness"])
    assert code == 2 and "--kpi happiness: unknown KPI" in err
