"""Interruptions, full disks, killed workers, mixed output directories, fuzzed configs and the
security rules — the reliability contract beyond the bad-input corpus (test_bad_input.py).

Every test here is marked ``reliability``; ``make reliability`` lists them with their outcome
in docs/reliability.md.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.experiments.sweep.store import SweepStore
from tests.conftest import DEFAULT_CONFIG, REPO
from tests.e2e.cluster import ENV, dask_cluster, kill_group
from tests.reliability import cli
from tests.signals import default_signals

pytestmark = pytest.mark.reliability

SMALL = ["--set", "population.scale=0.01", "--set", "day.end=10:00"]


def _files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


def _no_temporaries(d: Path) -> None:
    assert not [p.name for p in d.rglob(".*.tmp")], "temporary files left behind"


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished small run (seed 1) to copy into each test's output directory."""
    out = tmp_path_factory.mktemp("first") / "run"
    code, _, err = cli(["run", str(DEFAULT_CONFIG), "--out", str(out), "--no-report", *SMALL])
    assert code == 0, err
    return out


def _copy_run(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for name, data in _files(src).items():
        (dst / name).write_bytes(data)
    return dst


# ------------------------------------------------------------------------------ Ctrl-C
def test_ctrl_c_during_run_exits_130_and_writes_nothing(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) while `dlsim run` simulates the full state: exit 130, one line, no
    summary, and the output directory it created is gone again."""
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "run", str(DEFAULT_CONFIG), "--out", str(out),
         "--no-report"],
        cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=default_signals)  # not what this test's own shell left (tests/signals.py)
    try:
        deadline = time.monotonic() + 60
        while not out.exists():  # created right before simulating (after the writability check)
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run did not start in time"
            time.sleep(0.05)
        time.sleep(1.0)
        assert proc.poll() is None, "the full-state run finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        _stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert lines == ["interrupted: no partial results were written"], stderr
    assert "Traceback" not in stderr
    assert not out.exists()


def test_staged_outputs_are_all_or_nothing(tmp_path: Path) -> None:
    """An interruption between writing the files of a run (here: after two of three) leaves
    the earlier files untouched and no temporaries."""
    from sim.runs.io import StagedFiles, text_writer

    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text("old")
    with pytest.raises(KeyboardInterrupt), StagedFiles() as files:
        files.stage(tmp_path / "a.txt", text_writer("new"))
        files.stage(tmp_path / "b.txt", text_writer("new"))
        raise KeyboardInterrupt
    assert {p.read_text() for p in tmp_path.glob("*.txt")} == {"old"}
    _no_temporaries(tmp_path)
    with StagedFiles() as files:
        files.stage(tmp_path / "a.txt", text_writer("new"))
    assert (tmp_path / "a.txt").read_text() == "new"


# ------------------------------------------------------------------------------ full disks
def test_disk_full_while_saving_keeps_the_earlier_run(
    first_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up while a re-run writes its files (fault injected into the writer):
    exit 1 with one clear line; the earlier run's files are byte-identical, no temporaries."""
    out = _copy_run(first_run, tmp_path / "out")
    before = _files(out)
    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the second file of the set
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr("sim.runs.io.os.fsync", fsync)
    code, _, err = cli(["run", str(DEFAULT_CONFIG), "--out", str(out), "--no-report",
                        "--seed", "2", *SMALL])
    assert code == 1, err
    assert err.startswith(f"error: --out {out}: cannot write the results (No space left on "
                          "device)"), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert _files(out) == before
    _no_temporaries(out)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs (a real small disk); skipped where mounting is not permitted."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip() or 'not permitted'})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(mnt: Path, leave: int) -> None:
    """Fill the file system at ``mnt`` until only about ``leave`` bytes are free."""
    st_ = os.statvfs(mnt)
    free = st_.f_bavail * st_.f_frsize
    with open(mnt / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


def test_real_full_disk_keeps_the_earlier_run(first_run: Path, tmpfs: Path) -> None:
    """On a real 4 MiB tmpfs filled to the brim, a re-run cannot write: exit 1, clear line,
    the earlier run intact, no temporaries; after freeing space the re-run succeeds."""
    out = _copy_run(first_run, tmpfs / "run")
    before = _files(out)
    _fill(tmpfs, leave=16_000)
    args = ["run", str(DEFAULT_CONFIG), "--out", str(out), "--no-report", "--seed", "2", *SMALL]
    code, _, err = cli(args)
    assert code == 1, err
    assert "No space left on device" in err and "Traceback" not in err
    assert _files(out) == before
    _no_temporaries(out)
    (tmpfs / "filler").unlink()
    code, _, err = cli(args)
    assert code == 0, err
    assert json.loads((out / "summary.json").read_text())["provenance"]["seed"] == 2


def test_read_only_output_directory_is_refused_before_simulating(tmpfs: Path) -> None:
    """--out on a read-only file system: exit 2 at once (before a long simulation)."""
    out = tmpfs / "run"
    out.mkdir()
    r = subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], capture_output=True,
                       check=False)
    if r.returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only here")
    t0 = time.perf_counter()
    code, _, err = cli(["run", str(DEFAULT_CONFIG), "--out", str(out)])
    assert code == 2, err
    assert err.strip() == f"error: --out {out}: cannot write there (Read-only file system)"
    assert time.perf_counter() - t0 < 30  # refused, not simulated (the full state takes longer)


def test_sweep_on_a_full_disk_stops_cleanly_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up after two runs of a sweep were stored: exit 1 with one line saying
    what is stored; once space is back the same command computes only the missing runs."""
    sweep = _small_sweep(tmp_path, nodes=[2, 4], replications=2)
    out = tmp_path / "sweep"
    real = SweepStore.write_row
    stored = {"n": 0}

    def write_row(self: SweepStore, row: dict[str, Any]) -> None:
        if stored["n"] == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(self, row)
        stored["n"] += 1

    monkeypatch.setattr(SweepStore, "write_row", write_row)
    code, _, err = cli(["sweep", str(sweep), "--out", str(out)])
    assert code == 1, err
    assert ("cannot store results (No space left on device); the 2 runs stored so far are "
            "intact") in err
    assert "Traceback" not in err
    monkeypatch.setattr(SweepStore, "write_row", real)
    code, stdout, err = cli(["sweep", str(sweep), "--out", str(out)])
    assert code == 0, err
    assert "4 runs: 2 computed now, 2 already stored" in stdout
    df = pd.read_parquet(out / "results.parquet")
    assert len(df) == 4 and df["key"].is_unique and df["error"].isna().all()


def _small_sweep(d: Path, nodes: list[int], replications: int) -> Path:
    p = d / "sweep.yaml"
    p.write_text(yaml.safe_dump({
        "name": "reliability",
        "base": str(DEFAULT_CONFIG),
        "overrides": ["population.scale=0.005", "day.end='10:00'"],
        # whole-state node counts: at scale 0.005 (sim.model.scale) they run as ``nodes``
        "parameters": {"platforms[0].clusters[0].nodes": [n * 200 for n in nodes]},
        "replications": replications,
        "seed": 3,
    }))
    return p


# ------------------------------------------------------------------------------ Dask workers
def test_killed_dask_worker_mid_sweep_loses_nothing(tmp_path: Path) -> None:
    """A real cluster (scheduler + 2 worker processes); one worker is killed with SIGKILL
    (with its nanny) while the sweep runs: the sweep completes, every run exactly once, no
    error rows (the scheduler re-runs the lost worker's task on the other worker)."""
    sweep = _small_sweep(tmp_path, nodes=[2, 3, 4, 5, 6], replications=2)
    out = tmp_path / "sweep"
    with dask_cluster(2) as cluster:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", "sweep", str(sweep), "--out", str(out),
             "--scheduler", cluster.address],
            cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while len(list((out / "parts").glob("*.parquet"))) < 2:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "no runs were stored in time"
                time.sleep(0.05)
            kill_group(cluster.workers[0])
            stored_at_kill = len(list((out / "parts").glob("*.parquet")))
            _stdout, stderr = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert stored_at_kill < 10, "the sweep finished before the worker was killed"
    assert proc.returncode == 0, stderr
    df = pd.read_parquet(out / "results.parquet")
    assert len(df) == 10 and df["key"].is_unique
    assert df["error"].isna().all(), df["error"].dropna().tolist()
    assert sorted(zip(df.point, df.replication, strict=True)) == [
        (p, r) for p in range(5) for r in range(2)]


def test_cluster_failures_are_reported_not_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A task the cluster fails to compute (e.g. a worker lost more often than Dask's
    allowed failures) is not stored as the run's result: exit 1, and a re-run computes it."""
    from sim.experiments.executors import LOST, SerialExecutor, run_task
    from sim.experiments.sweep import load_sweep, run_sweep

    class Flaky(SerialExecutor):
        name = "flaky"

        def run(self, tasks):  # type: ignore[no-untyped-def]
            for i, t in enumerate(tasks):
                row = run_task(t)
                if i == 1:
                    row = {"key": t.key, "error": "KilledWorker: lost 3 times", LOST: True}
                yield row

    sw = load_sweep(_small_sweep(tmp_path, nodes=[2, 4], replications=1))
    res = run_sweep(sw, tmp_path / "out", Flaky())
    assert len(res.lost) == 1 and "KilledWorker" in res.lost[0]
    assert len(res.results) == 1 and not res.complete
    again = run_sweep(sw, tmp_path / "out")
    assert again.computed == 1 and again.skipped == 1 and len(again.results) == 2


# ------------------------------------------------------------------------------ mixed outputs
def test_output_of_another_scenario_is_never_mixed(first_run: Path, tmp_path: Path) -> None:
    """--out holding another scenario's results is refused (exit 2, files untouched);
    --force replaces them; the same scenario with another seed may re-run there."""
    out = _copy_run(first_run, tmp_path / "out")
    before = _files(out)
    other = ["run", str(DEFAULT_CONFIG), "--out", str(out), "--no-report", *SMALL,
             "--set", "behaviour.attendance=0.5"]
    code, _, err = cli(other)
    assert code == 2 and "holds the results of another scenario (config hash" in err, err
    assert "use --force" in err and _files(out) == before
    code, _, err = cli([*other, "--force"])
    assert code == 0, err
    new_hash = json.loads((out / "summary.json").read_text())["provenance"]["config_hash"]
    old_hash = json.loads(before["summary.json"])["provenance"]["config_hash"]
    assert new_hash != old_hash
    code, _, err = cli([*other, "--seed", "9"])
    assert code == 0, err
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("mine")
    code, _, err = cli(["run", str(DEFAULT_CONFIG), "--out", str(junk), *SMALL])
    assert code == 2 and "holds no run results" in err
    assert (junk / "notes.txt").read_text() == "mine"


# ------------------------------------------------------------------------------ sizes, files
def test_memory_estimate_refuses_what_would_not_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """With 0.2 GiB allowed (DLSIM_MAX_MEMORY_GB) the full state is refused with its estimate
    (exit 2, before anything is built); with the machine's default limit it validates."""
    monkeypatch.setenv("DLSIM_MAX_MEMORY_GB", "0.2")
    code, _, err = cli(["validate", str(DEFAULT_CONFIG)])
    assert code == 2, err
    assert "1,088,701 pupils" in err and "would need ≈0.7 GiB" in err and "0.2 GiB" in err
    monkeypatch.setenv("DLSIM_MAX_MEMORY_GB", "lots")
    code, _, err = cli(["validate", str(DEFAULT_CONFIG)])
    assert code == 2 and "DLSIM_MAX_MEMORY_GB='lots': expected a number" in err
    monkeypatch.delenv("DLSIM_MAX_MEMORY_GB")
    code, _, err = cli(["validate", str(DEFAULT_CONFIG)])
    assert code == 0, err


def test_unreadable_data_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """A data file that exists but cannot be read (permission denied; injected, since root
    reads everything): exit 2 naming the setting and the file."""
    import builtins

    real_open = builtins.open

    def guarded(file: Any, *a: Any, **k: Any) -> Any:
        if str(file).endswith("lower_saxony_regions.csv"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
        return real_open(file, *a, **k)

    monkeypatch.setattr(builtins, "open", guarded)
    code, _, err = cli(["validate", str(DEFAULT_CONFIG)])
    assert code == 2, err
    assert "population.regions_file: cannot read" in err and "Permission denied" in err


# ------------------------------------------------------------------------------ fuzzing
BASE_DICT = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
BASE_DICT["population"]["school_types_file"] = str(REPO / "data/lower_saxony_school_types.csv")
BASE_DICT["population"]["regions_file"] = str(REPO / "data/lower_saxony_regions.csv")

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-10**13, max_value=10**13),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["08:00", "25:00", "7:5", "iserv", "nbc-bbb", "", "1e400", "-0"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


def _paths(d: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(d, dict):
        for k, v in d.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(BASE_DICT)


def _mutate(data: Any, path: tuple[Any, ...], op: str, value: Any) -> Any:
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if op == "replace":
        parent[last] = value
    elif op == "delete":
        del parent[last]
    elif op == "add" and isinstance(parent, dict):
        parent[f"{last}_x" if isinstance(last, str) else "extra"] = value
    return data


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    mutations=st.lists(
        st.tuples(st.sampled_from(PATHS), st.sampled_from(["replace", "delete", "add"]), values),
        min_size=1, max_size=3),
)
def test_fuzzed_configs_validate_or_exit_2(mutations: list[Any], tmp_path: Path) -> None:
    """Random mutations of the default scenario (values of any type, deleted and added keys)
    written as YAML: `dlsim validate` either accepts them or exits 2 with `error:` lines that
    name the file — never a traceback, never exit 1."""
    import copy

    data = copy.deepcopy(BASE_DICT)
    for path, op, value in mutations:
        try:
            data = _mutate(data, path, op, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    f = tmp_path / "fuzz.yaml"
    f.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, _, err = cli(["validate", str(f)])
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 2:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert lines and all(ln.startswith("error: ") for ln in lines), err
        assert str(f) in err or "DLSIM_MAX_MEMORY_GB" in err or ".csv" in err, err


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from([".".join(str(p) for p in q).replace(".0.", "[0].")
                             for q in PATHS[:60]] + ["x", "a..b", "platforms[99].name", "[0]"]),
       value=st.text(max_size=20))
def test_fuzzed_overrides_validate_or_exit_2(path: str, value: str) -> None:
    """Random `--set PATH=VALUE` overrides of the default scenario: accepted or exit 2."""
    code, _, err = cli(["validate", str(DEFAULT_CONFIG), "--set", f"{path}={value}"])
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err, err


# ------------------------------------------------------------------------------ security
def test_no_unsafe_calls_on_user_input() -> None:
    """The package never calls eval/exec/compile, pickle/marshal loads, yaml.load with
    another loader than the safe scenario loader, yaml.unsafe_load, or a shell."""
    problems = []
    for f in sorted((REPO / "sim").rglob("*.py")):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(
                fn, ast.Attribute) else ""
            owner = fn.value.id if isinstance(fn, ast.Attribute) and isinstance(
                fn.value, ast.Name) else ""
            where = f"{f.relative_to(REPO)}:{node.lineno}"
            if name in ("eval", "exec", "compile") and owner in ("", "builtins"):
                problems.append(f"{where}: {name}()")
            if owner in ("pickle", "marshal", "dill", "cloudpickle") and name.startswith("load"):
                problems.append(f"{where}: {owner}.{name}()")
            if owner == "yaml" and name in ("unsafe_load", "full_load", "load_all"):
                problems.append(f"{where}: yaml.{name}()")
            if owner == "yaml" and name == "load":
                loader = [k.value for k in node.keywords if k.arg == "Loader"]
                if not (loader and isinstance(loader[0], ast.Name)
                        and loader[0].id in ("_ScenarioLoader", "SafeLoader")):
                    problems.append(f"{where}: yaml.load() without the safe loader")
            if any(k.arg == "shell" and getattr(k.value, "value", False) for k in node.keywords):
                problems.append(f"{where}: shell=True")
    assert not problems, problems


# A small day with every kind of fault and every policy, so that fuzzing reaches their code.
RUN_BASE = {
    **BASE_DICT,
    "population": {**BASE_DICT["population"], "scale": 0.003},
    "day": {**BASE_DICT["day"], "end": "10:00"},
    "platforms": [
        {**p, "clusters": [{**c, "nodes": max(1, c["nodes"] // 100)} for c in p["clusters"]]}
        for p in BASE_DICT["platforms"]
    ],
    "faults": [
        *BASE_DICT["faults"],
        {"kind": "dispatcher_failure", "platform": "iserv", "start": "08:00", "end": "08:30",
         "share": 0.5, "repair_stages": 2, "repair_interval_min": 10},
        {"kind": "node_loss", "cluster": "nbc-bbb", "share": 0.5, "start": "08:10",
         "end": "09:00"},
        {"kind": "node_degradation", "cluster": "iserv-bbb", "share": 0.3,
         "capacity_factor": 0.5, "start": "08:00", "end": "09:30"},
        {"kind": "frontend_outage", "platform": "bildungscloud", "start": "07:50",
         "end": "08:05"},
        {"kind": "uplink_outage", "region": "hannover", "share": 0.5, "start": "08:00",
         "end": "08:20"},
    ],
    "policies": {
        "stagger": {"school_number_slots": 3},
        "join_rate_limit": {"per_node_per_s": 2.0, "per_meeting_per_min": 30},
        "camera": {"cameras_off_above": 20},
        "scale_up": [{"cluster": "nbc-bbb", "reserve_nodes": 50, "delay_min": 5}],
        "first_pupil_opens_room": True,
    },
}


def _get(d: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        d = d[part]
    return d


FIXED = {("population", "school_types_file"), ("population", "regions_file"),
         ("population", "scale")}
RUN_LEAVES = [p for p in _paths(RUN_BASE)
              if not isinstance(_get(RUN_BASE, p), dict | list) and p[:2] not in FIXED]
NUMBERS = [0, 1, 2, 0.001, 0.5, 0.999, 1.0, 3, 10, 100, 10_000]
TIMES = ["00:00", "07:00", "07:01", "08:00", "09:59", "10:00", "15:30", "23:59"]


def _extreme(old: Any, pick: int) -> Any:
    if isinstance(old, bool):
        return bool(pick % 2)
    if isinstance(old, int | float):
        return [*NUMBERS, old * 0.1, old * 10, old + 1][pick % (len(NUMBERS) + 3)]
    if isinstance(old, str) and ":" in old:
        return TIMES[pick % len(TIMES)]
    return old


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.sampled_from(RUN_LEAVES), st.integers(0, 1000)),
                        min_size=1, max_size=3))
def test_fuzzed_extreme_scenarios_run_or_exit_2(changes: list[Any], tmp_path: Path) -> None:
    """A small day with every fault kind and every policy, 1–3 settings pushed to extremes
    of their own type (0, 1, 10,000, ×10, midnight, …): `dlsim run` either completes (and
    its conservation check holds) or refuses with exit 2 — never exit 1 (an internal error) —
    and `dlsim validate` gives the same verdict."""
    import copy

    data = copy.deepcopy(RUN_BASE)
    for path, pick in changes:
        parent = _get(data, path[:-1])
        parent[path[-1]] = _extreme(parent[path[-1]], pick)
    import tempfile

    d = Path(tempfile.mkdtemp(dir=tmp_path))  # tmp_path is shared by every example
    f = d / "extreme.yaml"
    f.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, _, err = cli(["run", str(f), "--out", str(d / "o"), "--no-report"])
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    # `validate` and `run` agree: what validates runs, what is refused is refused by both
    vcode, _, verr = cli(["validate", str(f)])
    assert vcode == code, f"validate exit {vcode}, run exit {code}: {verr or err}"


# ------------------------------------------------------------------------------ round two
# (issue 14: finished work must never be lost; pickled errors; the YAML layer fuzzed)
_KILL_WHILE_SAVING = """
import os, pathlib, sys, time
marker, argv = pathlib.Path(sys.argv[1]), sys.argv[2:]
real_fsync, calls = os.fsync, [0]
def fsync(fd):  # the second file of the run directory is staged: stop here, to be killed
    real_fsync(fd)
    calls[0] += 1
    if calls[0] == 2:
        marker.write_text("saving")
        time.sleep(600)
os.fsync = fsync
from sim.cli import main
main(argv)
"""


def test_run_killed_with_sigkill_while_saving_can_be_rerun(
    first_run: Path, tmp_path: Path
) -> None:
    """`dlsim run` killed with SIGKILL while it writes its files (temporaries on disk, no
    summary.json): the same command, unchanged, then runs without --force, removes the dead
    run's temporaries and writes the same results as an uninterrupted run."""
    out = tmp_path / "out"
    marker = tmp_path / "saving"
    argv = ["run", str(DEFAULT_CONFIG), "--out", str(out), "--no-report", *SMALL]
    proc = subprocess.Popen([sys.executable, "-c", _KILL_WHILE_SAVING, str(marker), *argv],
                            cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=default_signals)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run did not reach saving in time"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    left = sorted(p.name for p in out.iterdir())
    assert any(n.endswith(".tmp") for n in left) and "summary.json" not in left, left
    code, _, err = cli(argv)
    assert code == 0, err
    _no_temporaries(out)
    again = json.loads((out / "summary.json").read_text())
    clean = json.loads((first_run / "summary.json").read_text())
    assert again["kpis"] == clean["kpis"]
    pd.testing.assert_frame_equal(pd.read_parquet(out / "timeseries.parquet"),
                                  pd.read_parquet(first_run / "timeseries.parquet"))


def test_temporaries_of_live_writers_are_kept(tmp_path: Path) -> None:
    """Only temporaries of processes that are gone count as abandoned: one of a process that
    is still writing (here: a live `sleep`) is kept; an old-format one is removed."""
    from sim.runs.io import HOST, remove_stale_temporaries

    live = subprocess.Popen(["sleep", "30"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    try:
        names = {
            "live": f".summary.json.{HOST}-{live.pid}.abcd1234.tmp",
            "dead": f".summary.json.{HOST}-{dead.pid}.abcd1234.tmp",
            "old": ".timeseries.parquet.x1y2z3ab.tmp",
            "user": ".notes.txt.tmp",
        }
        for n in names.values():
            (tmp_path / n).write_text("x")
        gone = {p.name for p in remove_stale_temporaries(tmp_path, ("summary.json",
                                                                    "timeseries.parquet"))}
    finally:
        live.kill()
        live.wait()
    assert gone == {names["dead"], names["old"]}
    assert (tmp_path / names["live"]).exists() and (tmp_path / names["user"]).exists()


def _mixed_sweep(d: Path) -> Path:
    p = d / "mixed.yaml"
    p.write_text(yaml.safe_dump({
        "name": "mixed",
        "base": str(DEFAULT_CONFIG),
        "overrides": ["population.scale=0.003", "day.end='09:00'"],
        "parameters": {"timetable.school_start_spread_min": [0, 7.5, 15]},
        "replications": 2,
        "seed": 5,
    }))
    return p


def test_sweep_with_mixed_numeric_values_completes(tmp_path: Path) -> None:
    """A sweep whose values mix integers and decimals ([0, 7.5, 15]) completes and writes
    results.parquet (it failed with ArrowTypeError after every run, on every re-run); the
    parameter column holds the values as numbers, and a re-run finds every run stored."""
    sweep, out = _mixed_sweep(tmp_path), tmp_path / "sweep"
    code, _, err = cli(["sweep", str(sweep), "--out", str(out)])
    assert code == 0, err
    df = pd.read_parquet(out / "results.parquet")
    assert len(df) == 6 and df["error"].isna().all()
    col = df["param:timetable.school_start_spread_min"]
    assert col.dtype.kind == "f" and sorted(set(col)) == [0.0, 7.5, 15.0]
    assert len(pd.read_parquet(out / "summary.parquet")) == 3
    code, stdout, err = cli(["sweep", str(sweep), "--out", str(out)])
    assert code == 0, err
    assert "6 runs: 0 computed now, 6 already stored" in stdout


def test_damaged_part_files_are_set_aside_and_only_they_recomputed(tmp_path: Path) -> None:
    """Two stored runs of a finished sweep are damaged on disk (one truncated, one garbled):
    the same command moves them to parts/damaged/, recomputes only those two, and the results
    equal the undamaged ones (it failed with exit 1 on every resume, --retry-errors too)."""
    sweep, out = _mixed_sweep(tmp_path), tmp_path / "sweep"
    code, _, err = cli(["sweep", str(sweep), "--out", str(out)])
    assert code == 0, err
    before = pd.read_parquet(out / "results.parquet")
    parts = sorted((out / "parts").glob("*.parquet"))
    parts[0].write_bytes(parts[0].read_bytes()[:100])
    parts[1].write_bytes(b"PAR1" + os.urandom(500))
    code, stdout, err = cli(["sweep", str(sweep), "--out", str(out)])
    assert code == 0, err
    assert "2 stored runs had damaged part files" in err
    assert "6 runs: 2 computed now, 4 already stored" in stdout
    assert len(list((out / "parts" / "damaged").iterdir())) == 2
    after = pd.read_parquet(out / "results.parquet")
    cols = ["key", "seed", "join_success_rate", "lost_pupil_minutes", "p95_time_to_join_s"]
    pd.testing.assert_frame_equal(after[cols], before[cols])


def test_sweep_that_cannot_start_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep stopped before its first run was stored (Ctrl-C at once, here injected) leaves
    no sweep.json or parts/ in the directory it created: the next attempt starts clean."""
    from sim.experiments.executors import SerialExecutor

    def interrupted(self: SerialExecutor, tasks: Any) -> Iterator[dict[str, Any]]:
        raise KeyboardInterrupt
        yield {}

    monkeypatch.setattr(SerialExecutor, "run", interrupted)
    out = tmp_path / "sweep"
    code, _, err = cli(["sweep", str(_mixed_sweep(tmp_path)), "--out", str(out)])
    assert code == 130, err
    assert not out.exists()


def _raise_config_error(lines: list[str]) -> None:
    from sim.config import ConfigError

    raise ConfigError(lines)


def _validate_in_worker(path: str) -> None:
    from sim.config import load_scenario

    load_scenario(path)


def test_config_error_pickles_with_its_message_intact(tmp_path: Path) -> None:
    """A ConfigError raised in a worker process (concurrent.futures.ProcessPoolExecutor, then
    a Dask LocalCluster) arrives with the same problems, line by line — it came back one
    character per line after pickling."""
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    from sim.config import ConfigError

    lines = ["a.yaml: behaviour.attendance: Input should be ≤ 1", "a.yaml: day: end first"]
    again = pickle.loads(pickle.dumps(ConfigError(lines)))
    assert again.problems == lines and str(again) == "\n".join(lines)
    bad = str(REPO / "tests" / "fixtures" / "bad" / "nodes-octal.yaml")
    with pytest.raises(ConfigError) as here:
        _validate_in_worker(bad)
    with ProcessPoolExecutor(max_workers=1) as pool:
        with pytest.raises(ConfigError) as there:
            pool.submit(_raise_config_error, lines).result()
        assert there.value.problems == lines
        with pytest.raises(ConfigError) as there:
            pool.submit(_validate_in_worker, bad).result()
        assert there.value.problems == here.value.problems
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        with pytest.raises(ConfigError) as there:
            client.submit(_validate_in_worker, bad).result()
        assert there.value.problems == here.value.problems


# The YAML layer fuzzed: documents built from YAML's awkward corners (keys that are lists,
# dates, nulls, booleans, numbers; YAML 1.1 scalars like yes/0450/1e20; tags, anchors, rich
# markup, deep nesting) mixed with the scenario's own section and field names.
_NAMES = ["platforms", "behaviour", "timetable", "population", "faults", "day", "name",
          "nodes", "clusters", "breaks_min", "seed", "scale", "school_types", "extends"]
_RAW_KEYS = ["[a, b]", "{a: 1}", "2021-01-11", "~", "null", "true", "yes", "0450", "1e20", "-.inf",
             "2", "2.5", "'[/]'", "\"C [/]\"", "<<", "!!binary aGk=", "? x"]
_RAW_SCALARS = ["yes", "no", "on", "0450", "0x1F", "0b101", "1e20", "1e-9", "1e400", ".nan",
                "~", "''", "\"[/]\"", "\"[draft]\"", "2021-01-11", "12:30", "25:99", "!!set {a}",
                "!!python/object:os.system", "&a [1]", "*a", "[/]", "{", "]", "- -", "|", "%",
                "@", "`", "\"\\x00\"", "-1", "100000000000000000000000", "true", "False"]


def _key() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(_NAMES), st.sampled_from(_RAW_KEYS),
                     st.integers(-5, 10**20).map(str), st.text(max_size=6).map(json.dumps))


def _scalar() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(_RAW_SCALARS), st.integers().map(str),
                     st.floats().map(repr), st.text(max_size=8).map(json.dumps))


_flow = st.recursive(
    _scalar(),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(_key(), inner), max_size=3).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}")),
    max_leaves=8)


@st.composite
def _documents(draw: st.DrawFn) -> str:
    lines = [f"{draw(_key())}: {draw(_flow)}" for _ in range(draw(st.integers(0, 4)))]
    if draw(st.booleans()):  # nesting deeper than any scenario, sometimes far deeper
        depth = draw(st.sampled_from([5, 39, 41, 300, 3000]))
        lines.append("deep: " + "[" * depth + "]" * depth)
    if draw(st.booleans()):
        lines.insert(0, "extends: ../configs/lower-saxony-scenario-c.yaml")
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=timedelta(seconds=20), derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=st.one_of(_documents(), st.text(max_size=200)))
def test_fuzzed_yaml_documents_validate_or_exit_2(doc: str, tmp_path_factory: Any) -> None:
    """Arbitrary YAML documents (odd keys and scalars, tags, anchors, deep nesting, markup)
    and arbitrary text: `dlsim validate` exits 0 or 2 — never 1 — every problem an `error:`
    line, each within the deadline (a hang or runaway fails the example)."""
    d = REPO / "configs"  # so that `extends: ../configs/…` resolves like a real scenario
    f = tmp_path_factory.mktemp("doc") / "fuzz.yaml"
    f.write_text(doc.replace("../configs/", f"{d}/"), encoding="utf-8")
    code, _, err = cli(["validate", str(f)])
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 2:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert lines and all(ln.startswith("error: ") for ln in lines), err


@settings(max_examples=120, deadline=timedelta(seconds=20), derandomize=True)
@given(path=st.sampled_from(["platforms[0].clusters[0].nodes", "platforms[0].frontend.workers",
                             "population.seed", "timetable.periods", "timetable.breaks_min",
                             "behaviour.backoff_initial_s", "behaviour.reconnect_per_h",
                             "population.school_types", "faults", "name"]),
       value=st.one_of(_scalar(), _flow))
def test_fuzzed_set_values_validate_or_exit_2(path: str, value: str) -> None:
    """`--set PATH=VALUE` with the same awkward scalars and flow collections: exit 0 or 2,
    and a count is never silently a boolean, an octal number or a float."""
    code, _, err = cli(["validate", str(DEFAULT_CONFIG), "--set", f"{path}={value}"])
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 0 and path.endswith(("nodes", "workers", "periods")):
        assert value.strip().lstrip("+").isdigit() and not value.strip().startswith("0"), value
