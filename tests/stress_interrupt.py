"""Ctrl-C at random moments of every long command: exit 130, one line, nothing half-written.

``python -m tests.stress_interrupt [--n N] [--commands run,sweep,...] [--seed S]``
(``make stress-interrupt``; not part of the test suite: it takes minutes).

For each long command (run, sweep, whatif, optimise, explain, week) at a tiny scale, the script
first times one uninterrupted run, then starts the command N times in a fresh output
directory and sends SIGINT at a moment drawn uniformly from the command's working time (after
dlsim's own code started — Python's start-up is not dlsim's — and before it would have
finished). Each child gets SIGINT at its default (tests/signals.py), so the script's own
shell does not matter. Every interruption must give:

- exit code 130 and the one ``interrupted: …`` line on stderr, no traceback;
- nothing half-written: no temporary file left anywhere under the output directory, none of
  the command's final outputs (run directory, results.parquet, whatif.html, optimum.json,
  attribution.json), and a resumable store holding only complete rows (every part file
  readable). A run's output directory is gone entirely.

A signal that arrives once the outcome is decided (the results complete) is ignored: exit 0
with complete outputs and no traceback (a Ctrl-C swallowed as "Exception ignored" is a
failure), counted as "finished before the signal". It prints one line per
command (interrupted N, passed N, finished before the signal N) and exits 1 if any
interruption broke the contract.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.conftest import DEFAULT_CONFIG, REPO
from tests.e2e.cluster import ENV
from tests.signals import default_signals
from tests.whatif_grid import write_grid

NODES = "platforms[0].clusters[0].nodes"
TINY = ["population.scale=0.005", "day.end=10:00"]


def _sweep(d: Path) -> Path:
    p = d / "sweep.yaml"
    p.write_text(yaml.safe_dump({"name": "stress", "base": str(DEFAULT_CONFIG),
                                 "overrides": TINY, "parameters": {NODES: [200, 600]},
                                 "replications": 2, "seed": 3}), encoding="utf-8")
    return p


def _levers(d: Path) -> Path:
    p = d / "levers.yaml"
    p.write_text(yaml.safe_dump({"levers": [{"path": NODES, "values": [200, 600],
                                             "cost_eur": {"per_unit": 1}}]}), encoding="utf-8")
    return p


def _sets() -> list[str]:
    return [a for s in TINY for a in ("--set", s)]


# each: (argv for a scratch directory and an output directory, the final outputs)
COMMANDS: dict[str, tuple[Callable[[Path, Path], list[str]], tuple[str, ...]]] = {
    "run": (lambda d, o: ["run", str(DEFAULT_CONFIG), "--out", str(o), "--no-report", *_sets()],
            ("summary.json",)),
    "sweep": (lambda d, o: ["sweep", str(_sweep(d)), "--out", str(o), "--no-report"],
              ("results.parquet", "summary.parquet", "report.html")),
    "whatif": (lambda d, o: ["whatif", "--grid", str(write_grid(d / "grid.yaml", {NODES: [1, 3]})),
                             "--out", str(o)], ("whatif.html", "results.parquet")),
    "optimise": (lambda d, o: ["optimise", str(DEFAULT_CONFIG), "--levers", str(_levers(d)),
                               "--target", "blocking_probability<=0.5", "--out", str(o),
                               "--replications", "2", "--confirm-replications", "2",
                               "--confirm-scale", "0.005", *_sets()],
                 ("optimum.json", "report.html")),
    "explain": (lambda d, o: ["explain", str(DEFAULT_CONFIG), "--replications", "2", "--out",
                              str(o), *_sets()], ("attribution.json",)),
    # the week's days: stored run directories under runs/, week.json written last
    "week": (lambda d, o: ["week", str(REPO / "configs" / "2021-01-week.yaml"), "--out", str(o),
                           "--no-report", "--replications", "1", "--scale", "0.005", "--set",
                           "day.end=10:00"], ("week.json", "week.parquet")),
}


@dataclass
class Tally:
    interrupted: int = 0
    passed: int = 0
    finished_first: int = 0
    failures: list[str] | None = None
    uninterrupted_s: float = 0.0
    """Wall time of the command's one uninterrupted run."""
    wall_s: float = 0.0
    """Wall time of the whole stress of the command (the uninterrupted run included)."""


# what the ``dlsim`` console script does, plus one line on stdout once dlsim's own code runs:
# before it are Python's start-up and site (the editable install's .pth imports pathlib), where
# a Ctrl-C is Python's own KeyboardInterrupt, not dlsim's to handle
LAUNCH = ("import sys; from sim.cli import main; print('ready', flush=True); "
          "sys.argv[0] = 'dlsim'; main()")


def _start(argv: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", LAUNCH, *argv], cwd=REPO, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=default_signals)


def _problems(code: int, stderr: str, out: Path, finals: tuple[str, ...], run: bool) -> list[str]:
    p = []
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if code != 130:
        p.append(f"exit {code}, expected 130")
    if "Traceback" in stderr or "internal error" in stderr:
        p.append("traceback or internal error")
    if not lines or not lines[-1].startswith("interrupted"):
        p.append(f"last line is not 'interrupted…': {lines[-1:]!r}")
    if out.exists():
        if run:
            p.append(f"the run directory {out} was left behind")
        tmp = [str(f.relative_to(out)) for f in out.rglob("*.tmp")]
        if tmp:
            p.append(f"temporaries left: {tmp}")
        p += [f"final output {f} written" for f in finals if (out / f).exists()]
        p += _damaged_parts(out)
    return p


def _damaged_parts(out: Path) -> list[str]:
    import pyarrow.parquet as pq

    bad = []
    for f in (out / "parts").glob("*.parquet") if (out / "parts").is_dir() else []:
        try:
            pq.read_table(f)
        except Exception:  # any reader error is a half-written row
            bad.append(f"unreadable part {f.name}")
    # stored run directories (a week's runs/<key>/): each complete, with its summary
    for d in (out / "runs").iterdir() if (out / "runs").is_dir() else []:
        if d.is_dir() and not (d / "summary.json").exists():
            bad.append(f"stored run {d.name} without summary.json")
    return bad


def stress(name: str, n: int, rng: random.Random, scratch: Path) -> Tally:
    make_argv, finals = COMMANDS[name]
    t0 = time.monotonic()
    base = subprocess.run([sys.executable, "-m", "sim", *make_argv(scratch, scratch / "base")],
                          cwd=REPO, env=ENV, capture_output=True, text=True, check=False)
    duration = time.monotonic() - t0
    if base.returncode != 0:
        return Tally(failures=[f"uninterrupted {name} failed ({base.returncode}): "
                               f"{base.stderr.strip()[-300:]}"], uninterrupted_s=duration)
    tally = Tally(failures=[], uninterrupted_s=duration)
    assert tally.failures is not None
    for i in range(n):
        out = scratch / f"out-{i}"
        proc = _start(make_argv(scratch, out))
        assert proc.stdout is not None
        proc.stdout.readline()  # dlsim's code runs from here
        at = rng.uniform(0.0, 0.9 * duration)
        time.sleep(at)
        if proc.poll() is not None:
            proc.communicate()
            tally.finished_first += 1
            continue
        proc.send_signal(signal.SIGINT)
        try:
            _, stderr = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
            stderr += "\n(no exit within 120 s of SIGINT)"
        if proc.returncode == 0:  # the signal came after the outcome was decided: ignored
            tally.finished_first += 1
            if not all((out / f).exists() for f in finals[:1]):
                tally.failures.append(f"{name} #{i} at {at:.2f} s: exit 0 without {finals[0]}")
            if "Traceback" in stderr or "Exception ignored" in stderr:  # swallowed, not ignored
                tally.failures.append(f"{name} #{i} at {at:.2f} s: exit 0 after a traceback: "
                                      f"{stderr.strip()[-300:]}")
            continue
        tally.interrupted += 1
        problems = _problems(proc.returncode, stderr, out, finals, name == "run")
        if problems:
            tally.failures.append(f"{name} #{i} at {at:.2f} s: " + "; ".join(problems))
        else:
            tally.passed += 1
    tally.wall_s = time.monotonic() - t0
    return tally


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="interruptions per command")
    ap.add_argument("--commands", default=",".join(COMMANDS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--record", type=Path, default=None,
                    help=f"also write the tallies to this JSON file (make stress-interrupt: "
                         f"{RECORD.relative_to(REPO)}) and their table into "
                         "docs/reliability.md")
    args = ap.parse_args(argv)
    bad = 0
    tallies: dict[str, Tally] = {}
    for name in args.commands.split(","):
        rng = random.Random(f"{args.seed}:{name}")  # each command's moments its own
        with tempfile.TemporaryDirectory(prefix=f"stress-{name}-") as tmp:
            t = stress(name, args.n, rng, Path(tmp))
        tallies[name] = t
        print(f"{name}: {t.interrupted} interrupted, {t.passed} passed, "
              f"{t.finished_first} finished before the signal ({t.wall_s:.0f} s; one "
              f"uninterrupted run {t.uninterrupted_s:.1f} s)", flush=True)
        for f in t.failures or []:
            print(f"  FAILED {f}", flush=True)
        bad += len(t.failures or [])
        if args.record is not None:  # after each command: a long stress keeps what it has
            _record(args.record, args.n, args.seed, tallies)
    return 1 if bad else 0


RECORD = REPO / "benchmarks" / "results" / "stress-interrupt.json"


def _record(path: Path, n: int, seed: int, tallies: dict[str, Tally]) -> None:
    """The tallies as JSON (merged into what ``path`` holds for other commands), and their
    table in docs/reliability.md (:func:`tests.reliability.update_stress_section`)."""
    import datetime as dt
    import json
    import os

    from sim.runs.io import write_text
    from sim.runs.provenance import git_commit, model_version
    from tests.reliability import update_stress_section

    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    commands = dict(old.get("commands", {}))
    for name, t in tallies.items():
        commands[name] = {
            "signals": n, "interrupted": t.interrupted, "passed": t.passed,
            "finished_before_the_signal": t.finished_first, "failures": t.failures or [],
            "uninterrupted_s": round(t.uninterrupted_s, 1), "wall_s": round(t.wall_s, 1),
            "seed": seed, "git_commit": git_commit(), "model_version": model_version(),
            "when_utc": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
            "load_average_1min": round(os.getloadavg()[0], 1),
        }
    write_text(path, json.dumps({"commands": commands}, indent=1, sort_keys=True) + "\n")
    update_stress_section(path)


if __name__ == "__main__":
    raise SystemExit(main())
