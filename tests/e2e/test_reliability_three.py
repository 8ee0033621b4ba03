"""Reliability, round three (issue 30): one writer per --out, long jobs killed with
``kill -9`` at a random moment and resumed, Ctrl-C whatever the test's own shell ignores.

Marked ``reliability``: ``make reliability`` lists them in docs/reliability.md.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.runs.io import exclusive_output
from tests.conftest import DEFAULT_CONFIG, REPO
from tests.e2e.cluster import ENV
from tests.reliability import cli
from tests.signals import default_signals
from tests.whatif_grid import write_grid

pytestmark = pytest.mark.reliability

NODES = "platforms[0].clusters[0].nodes"
TINY = ["--set", "population.scale=0.005", "--set", "day.end=09:00"]


def _start(argv: list[str], **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "sim", *argv], cwd=REPO, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=default_signals, **kw)  # type: ignore[call-overload]


# ------------------------------------------------------------------------------ one writer
def test_second_writer_of_the_same_out_is_refused(tmp_path: Path) -> None:
    """While one dlsim holds --out, another command writing the same --out exits 2 with one
    line naming it and the holder's pid, and writes nothing there."""
    out = tmp_path / "out"
    with exclusive_output(out):
        code, _, err = cli(["run", str(DEFAULT_CONFIG), "--out", str(out), "--no-report",
                            *TINY])
    assert code == 2, err
    assert err.strip().splitlines() == [
        f"error: --out {out}: another dlsim process (pid {__import__('os').getpid()}) is "
        "writing into it right now; wait for it to finish, or choose another --out"]
    assert not out.exists()
    code, _, err = cli(["run", str(DEFAULT_CONFIG), "--out", str(out), "--no-report", *TINY])
    assert code == 0, err  # released with the first writer


def _long_command(name: str, tmp_path: Path, out: Path) -> list[str]:
    """The argv of each long command writing ``out`` (tiny, as the stress script's)."""
    if name == "sweep":
        f = tmp_path / "sweep.yaml"
        f.write_text(yaml.safe_dump({"name": "s", "base": str(DEFAULT_CONFIG), "parameters":
                                     {NODES: [200, 600]}, "replications": 2}), encoding="utf-8")
        return ["sweep", str(f), "--out", str(out), "--no-report"]
    if name == "whatif":
        return ["whatif", "--grid", str(write_grid(tmp_path / "grid.yaml", {NODES: [1, 3]})),
                "--out", str(out)]
    if name == "optimise":
        return _optimise_argv(tmp_path, out)
    return ["explain", str(DEFAULT_CONFIG), "--replications", "2", "--out", str(out), *TINY]


@pytest.mark.parametrize("name", ["sweep", "whatif", "optimise", "explain"])
def test_every_long_command_is_refused_a_held_out(tmp_path: Path, name: str) -> None:
    """The one-writer rule holds for every long command, not only ``run``: while another
    process holds --out, the command exits 2 at once naming it and writes nothing there."""
    out = tmp_path / "out"
    with exclusive_output(out):
        code, _, err = cli(_long_command(name, tmp_path, out))
    assert code == 2, err
    assert "another dlsim process" in err and str(out) in err.replace("\n", ""), err
    assert not out.exists() or not any(out.iterdir())


def test_two_processes_writing_one_out_one_wins(tmp_path: Path) -> None:
    """Two `dlsim sweep` processes started at once on the same --out: exactly one completes,
    the other is refused (exit 2) — the directory holds the winner's complete results only."""
    f = tmp_path / "sweep.yaml"
    f.write_text(yaml.safe_dump({"name": "race", "base": str(DEFAULT_CONFIG),
                                 "overrides": ["population.scale=0.005", "day.end='09:00'"],
                                 "parameters": {NODES: [200, 600]}, "replications": 2,
                                 "seed": 3}), encoding="utf-8")
    out = tmp_path / "out"
    procs = [_start(["sweep", str(f), "--out", str(out), "--no-report"]) for _ in range(2)]
    results = [p.communicate(timeout=600) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], results
    loser = results[[p.returncode for p in procs].index(2)][1]
    assert "another dlsim process" in loser and "Traceback" not in loser, loser
    df = pd.read_parquet(out / "results.parquet")
    assert len(df) == 4 and df["key"].is_unique
    assert len(list((out / "parts").glob("*.parquet"))) == 4


# ------------------------------------------------------------------------------ kill -9
def _kill_when(proc: subprocess.Popen[str], ready: Callable[[], bool], rng: random.Random,
               what: str) -> None:
    """SIGKILL ``proc`` a random moment (0–1 s) after ``ready()`` first holds."""
    try:
        deadline = time.monotonic() + 300
        while not ready():
            assert proc.poll() is None, f"{what} ended before it could be killed"
            assert time.monotonic() < deadline, f"{what}: nothing stored in time"
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 1.0))
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def _optimise_argv(tmp_path: Path, out: Path) -> list[str]:
    lv = tmp_path / "levers.yaml"
    lv.write_text(yaml.safe_dump({"levers": [{"path": NODES, "values": [200, 400, 600],
                                              "cost_eur": {"per_unit": 1}}]}), encoding="utf-8")
    return ["optimise", str(DEFAULT_CONFIG), "--levers", str(lv), "--target",
            "blocking_probability<=0.5", "--out", str(out), "--replications", "2",
            "--confirm-replications", "2", "--confirm-scale", "0.005", *TINY]


def _rows(out: Path) -> list[str]:
    p = out / "runs.jsonl"
    return p.read_text(encoding="utf-8").splitlines() if p.exists() else []


@pytest.mark.parametrize("seed", [1, 2])
def test_optimise_killed_and_resumed_gives_the_same_answer(tmp_path: Path, seed: int) -> None:
    """`dlsim optimise` killed with SIGKILL at a random moment once runs are stored, then the
    same command: the same optimum.json answer as an uninterrupted run, every run stored
    before the kill reused (kept byte for byte, none computed twice)."""
    clean = tmp_path / "clean"
    code, _, err = cli(_optimise_argv(tmp_path, clean))
    assert code == 0, err
    out = tmp_path / "out"
    proc = _start(_optimise_argv(tmp_path, out))
    _kill_when(proc, lambda: len(_rows(out)) >= 1, random.Random(seed), "optimise")
    stored = [r for r in _rows(out) if r.endswith("}")]
    code, _, err = cli(_optimise_argv(tmp_path, out))
    assert code == 0, err
    again = _rows(out)
    assert again[: len(stored)] == stored  # nothing stored was computed again
    keys = [json.loads(r)["key"] for r in again]
    assert len(keys) == len(set(keys)) == len(_rows(clean))  # none lost, none twice
    a, b = (json.loads((d / "optimum.json").read_text()) for d in (clean, out))
    assert a["levers"] == b["levers"] and a["kpis"] == b["kpis"]


def test_whatif_killed_and_resumed_gives_the_same_results(tmp_path: Path) -> None:
    """`dlsim whatif` killed with SIGKILL at a random moment once runs are stored, then the
    same command: results equal to an uninterrupted run's, the part files stored before the
    kill untouched (not computed again)."""
    grid = write_grid(tmp_path / "grid.yaml", {NODES: [1, 3]})
    clean = tmp_path / "clean"
    code, _, err = cli(["whatif", "--grid", str(grid), "--out", str(clean)])
    assert code == 0, err
    out = tmp_path / "out"
    proc = _start(["whatif", "--grid", str(grid), "--out", str(out)])
    parts = out / "parts"
    _kill_when(proc, lambda: parts.is_dir() and any(parts.glob("*.parquet")), random.Random(3),
               "whatif")
    before = {p.name: p.stat().st_mtime_ns for p in parts.glob("*.parquet")}
    code, _, err = cli(["whatif", "--grid", str(grid), "--out", str(out)])
    assert code == 0, err
    after = {p.name: p.stat().st_mtime_ns for p in parts.glob("*.parquet")}
    assert {k: after[k] for k in before} == before
    cols = ["point", "replication", "key", "blocking_probability", "join_success_rate"]
    a = pd.read_parquet(clean / "results.parquet")[cols].sort_values("key")
    b = pd.read_parquet(out / "results.parquet")[cols].sort_values("key")
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


# ------------------------------------------------------------------------------ Ctrl-C
_IMPORTED_UNDER_CTRL_C = """
import os, signal, sys, time
sys.path.insert(0, sys.argv[1])
from sim.cli import _ctrl_c
signal.signal(signal.SIGINT, _ctrl_c)
signal.signal(signal.SIGALRM, _ctrl_c)
try:
    import slow_module  # presses Ctrl-C on itself half-way through its import
    time.sleep(5)
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted after the import:", slow_module.DONE)
"""


def test_ctrl_c_during_an_import_is_raised_once_the_import_ends(tmp_path: Path) -> None:
    """Ctrl-C while a module is being imported is put off until the import has ended, then
    raised: the module is whole, nothing is printed as "Exception ignored" (a
    ``KeyboardInterrupt`` raised inside an import could land in importlib's lock callback and
    be swallowed — the command then ran on to exit 0 — or leave a C extension half made; found
    by ``make stress-interrupt``)."""
    (tmp_path / "slow_module.py").write_text(
        "import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\n"
        "for _ in range(30):\n    time.sleep(0.01)\nDONE = True\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", _IMPORTED_UNDER_CTRL_C, str(tmp_path)],
                          cwd=REPO, env=ENV, capture_output=True, text=True, timeout=60,
                          preexec_fn=default_signals, check=False)
    assert proc.stdout.strip() == "interrupted after the import: True", proc.stderr
    assert "Exception ignored" not in proc.stderr and "Traceback" not in proc.stderr


def test_explain_killed_then_rerun_gives_the_same_attribution(tmp_path: Path) -> None:
    """`dlsim explain` (which stores no runs: its outputs are written at the end, all or
    nothing) killed with SIGKILL at a random moment of its work leaves no attribution.json,
    page or temporary behind, and the same command then writes what an uninterrupted run
    writes — the --out of a killed process is not refused as another writer's."""
    clean, out = tmp_path / "clean", tmp_path / "out"
    code, _, err = cli(_long_command("explain", tmp_path, clean))
    assert code == 0, err
    proc = _start(_long_command("explain", tmp_path, out))
    assert proc.stderr is not None
    proc.stderr.readline()  # its first progress line: the baseline's replications are done
    _kill_when(proc, lambda: True, random.Random(4), "explain")
    assert proc.returncode == -signal.SIGKILL  # killed, not finished first
    if out.exists():
        left = sorted(p.name for p in out.rglob("*") if not p.name.startswith("."))
        assert "attribution.json" not in left and not [n for n in left if ".tmp" in n], left
    code, _, err = cli(_long_command("explain", tmp_path, out))
    assert code == 0, err
    a, b = (json.loads((d / "attribution.json").read_text()) for d in (clean, out))
    assert a == b


def test_ctrl_c_between_renames_waits_for_the_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while a staged set is being moved into place (here: at the first of three
    renames) waits until all are in place: the directory never holds some new and some old
    files; the interruption is raised after (found by ``make stress-interrupt``)."""
    import os

    from sim.runs import io

    for name in "abc":
        (tmp_path / name).write_text("old", encoding="utf-8")
    real = os.replace
    calls: list[str] = []

    def replace(src: object, dst: object) -> None:
        calls.append(str(dst))
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # time for Python's handler to run, were the signal not held
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(io.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt), io.StagedFiles() as files:
        for name in "abc":
            files.stage(tmp_path / name, io.text_writer("new"))
    assert len(calls) == 3
    assert {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()} == {
        "a": "new", "b": "new", "c": "new"}


def test_ctrl_c_while_a_run_saves_removes_the_directory_it_made(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while ``dlsim run`` writes its files (after the first one is staged): exit 130
    and the --out directory it created is gone, as for a Ctrl-C while it simulates (it was
    left behind, empty or with a file moved in: found by ``make stress-interrupt``)."""
    from sim.experiments.replications import Results

    def save(self: Results, out: Path, **kw: object) -> object:
        (Path(out) / "timeseries.parquet").write_text("half", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr(Results, "save", save)
    out = tmp_path / "out"
    code, _, err = cli(["run", str(DEFAULT_CONFIG), "--out", str(out), "--no-report", *TINY])
    assert code == 130, err
    assert err.strip().splitlines()[-1].startswith("interrupted"), err
    assert not out.exists()
    out.mkdir()  # a directory the run did not make is left in place
    code, _, err = cli(["run", str(DEFAULT_CONFIG), "--out", str(out), "--no-report", *TINY])
    assert code == 130 and out.is_dir(), err
