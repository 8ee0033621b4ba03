"""The bad-input corpus runner and the generator of ``docs/reliability.md``.

``tests/fixtures/bad/cases.yaml`` lists malformed inputs (scenario files, sweep files, command
lines), each with a fragment of the message it must produce. :func:`run_case` runs one through
the real command line in this process (``sim.cli.main``, the console script's entry point) and
checks the contract: exit 2, the fragment and the file named on stderr, every line an
``error:`` line (or click's usage message), no traceback, nothing written.

``python -m tests.reliability`` (``make reliability``) runs the corpus and the tests marked
``reliability`` (interruptions, full disks, killed workers, fuzzing) and writes
``docs/reliability.md``: each case tried and its outcome.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import io
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
BAD = REPO / "tests" / "fixtures" / "bad"
DEFAULT = REPO / "configs" / "lower-saxony-scenario-c.yaml"
SWEEP = REPO / "configs" / "sweeps" / "nodes-x-stagger.yaml"
WEEK = REPO / "configs" / "2021-01-week.yaml"
DOC = REPO / "docs" / "reliability.md"


def load_cases() -> list[dict[str, Any]]:
    cases = yaml.safe_load((BAD / "cases.yaml").read_text(encoding="utf-8"))
    ids = [c["id"] for c in cases]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ValueError(f"cases.yaml: duplicate ids {sorted(dupes)}")
    return list(cases)


def cli(argv: list[str]) -> tuple[int, str, str]:
    """Run ``dlsim ARGV`` in this process; (exit code, stdout, stderr)."""
    from sim.cli import main

    err, out = io.StringIO(), io.StringIO()
    env_ci = os.environ.get("CI")
    os.environ["CI"] = "1"  # no progress bars
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                main(argv)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        if env_ci is None:
            os.environ.pop("CI", None)
        else:
            os.environ["CI"] = env_ci
    return code, out.getvalue(), err.getvalue()


@dataclass
class Attempt:
    argv: list[str]
    code: int
    stderr: str
    problems: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    case: dict[str, Any]
    attempts: list[Attempt]

    @property
    def ok(self) -> bool:
        return all(not a.problems for a in self.attempts)

    @property
    def message(self) -> str:
        """The first line of the first attempt's error output."""
        lines = [ln for ln in self.attempts[0].stderr.splitlines() if ln.strip()]
        return lines[0] if lines else ""


def _usage_error(stderr: str) -> bool:
    return "Usage:" in stderr or ("Error" in stderr and "Try '" in stderr)


def _check(
    case: dict[str, Any], argv: list[str], out_dir: Path | None, named: str | None
) -> Attempt:
    code, _, stderr = cli(argv)
    a = Attempt(argv, code, stderr)
    if code != 2:
        a.problems.append(f"exit {code}, expected 2")
    if case["expect"] not in stderr:
        a.problems.append(f"message lacks {case['expect']!r}")
    if "Traceback" in stderr or "internal error" in stderr:
        a.problems.append("traceback or internal error on stderr")
    if named is not None and named not in stderr:
        a.problems.append(f"message does not name the file {named}")
    if not _usage_error(stderr):
        stray = [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("error: ")]
        if stray:
            a.problems.append(f"a line that is not an 'error:' line: {stray[0]!r}")
    if out_dir is not None and out_dir.exists() and any(out_dir.iterdir()):
        a.problems.append(f"wrote into {out_dir}: {sorted(p.name for p in out_dir.iterdir())}")
    return a


def run_case(case: dict[str, Any], tmp: Path) -> Outcome:
    """Run one corpus case (see the module docstring); ``tmp`` is a scratch directory."""
    out_dir = tmp / f"out-{case['id']}"
    attempts = []
    if case["kind"] == "scenario":
        f = str(BAD / case["file"])
        named = case.get("names", case["file"])
        attempts.append(_check(case, ["validate", f], None, named))
        attempts.append(_check(case, ["run", f, "--out", str(out_dir), "--no-report"], out_dir,
                               named))
    elif case["kind"] == "sweep":
        f = str(BAD / case["file"])
        attempts.append(_check(case, ["sweep", f, "--out", str(out_dir)], out_dir, case["file"]))
    elif case["kind"] == "week":
        f = str(BAD / case["file"])
        attempts.append(_check(case, ["week", f, "--out", str(out_dir), "--scale", "0.01",
                                      "--no-report"], out_dir, case.get("names", case["file"])))
    elif case["kind"] == "arguments":
        subst = {"{default}": str(DEFAULT), "{sweep}": str(SWEEP), "{tmp}": str(out_dir),
                 "{week}": str(WEEK),
                 "{fixtures}": str(BAD)}
        if "{fifo}" in case["argv"]:  # a named pipe: reading it would block forever
            fifo = tmp / f"fifo-{case['id']}.yaml"
            if not fifo.exists():
                os.mkfifo(fifo)
            subst["{fifo}"] = str(fifo)
        argv = [subst.get(a, a.replace("{fixtures}", str(BAD))) for a in case["argv"]]
        attempts.append(_check(case, argv, out_dir, None))
    else:
        raise ValueError(f"case {case['id']}: unknown kind {case['kind']!r}")
    return Outcome(case, attempts)


# ------------------------------------------------------------------------------ the document
def _reliability_tests(junit: Path) -> list[tuple[str, str, str, float]]:
    """(test, what it checks, outcome, seconds) of every test marked ``reliability``."""
    rows = []
    for tc in ET.parse(junit).getroot().iter("testcase"):
        name, cls = tc.get("name", ""), tc.get("classname", "")
        outcome = "passed"
        for tag in ("failure", "error"):
            if tc.find(tag) is not None:
                outcome = "FAILED"
        skipped = tc.find("skipped")
        if skipped is not None:
            outcome = f"skipped: {skipped.get('message', '')}"
        doc = ""
        with contextlib.suppress(Exception):
            fn = getattr(importlib.import_module(cls), name.split("[", 1)[0])
            doc = " ".join((fn.__doc__ or "").split())
        rows.append((f"{cls.rsplit('.', 1)[-1]}::{name}", doc, outcome, float(tc.get("time", 0))))
    return rows


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


STRESS = REPO / "benchmarks" / "results" / "stress-interrupt.json"
_STRESS_START, _STRESS_END = "<!-- stress-interrupt: start -->", "<!-- stress-interrupt: end -->"


def stress_section(record: Path = STRESS) -> list[str]:
    """The table of ``make stress-interrupt``'s last tallies (``record``), between markers
    that :func:`update_stress_section` replaces."""
    import json

    lines = [_STRESS_START, "", "## Ctrl-C at random moments of each long command "
             "(`make stress-interrupt`)", ""]
    if not record.exists():
        return [*lines, "Not run yet.", "", _STRESS_END]
    cmds = json.loads(record.read_text(encoding="utf-8"))["commands"]
    lines += [
        "`tests/stress_interrupt.py` starts each command N times at a tiny scale and sends "
        "SIGINT (its default disposition set in the child) at a moment drawn uniformly from "
        "the command's working time (seed given). Passed: exit 130, the one `interrupted` "
        "line, no traceback, nothing half-written (no temporaries, no final output, every "
        "stored part readable, a run's directory gone) — or, when the signal came after the "
        "outcome was decided, exit 0 with complete outputs and no traceback.",
        "",
        "| command | signals | interrupted (passed) | finished before the signal | failures "
        "| one run, s | whole stress, s | when (UTC) | load | commit |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for name, c in cmds.items():
        ok = c["signals"] - len(c["failures"])  # one line per trial that broke the contract
        lines.append(
            f"| `{name}` | {c['signals']} | {c['interrupted']} ({c['passed']}) | "
            f"{c['finished_before_the_signal']} | {len(c['failures'])} | "
            f"{c.get('uninterrupted_s') or '–'} | {c['wall_s']:.0f} | {c['when_utc']} | "
            f"{c.get('load_average_1min') or '–'} | `{(c['git_commit'] or '?')[:9]}` |")
        notes += [f"- {name}: FAILED {_md(f)}" for f in c["failures"]]
        if ok != c["signals"]:
            notes.append(f"- {name}: {ok} of {c['signals']} met the contract")
        if c.get("note"):
            notes.append(f"- {name}: {_md(c['note'])}")
    from tests.stress_interrupt import COMMANDS

    missing = [c for c in COMMANDS if not any(n.split(" ")[0] == c for n in cmds)]
    if missing:
        notes.append(f"- not recorded yet: {', '.join(missing)} (`make stress-interrupt`)")
    return [*lines, "", *notes, "", _STRESS_END]


def update_stress_section(record: Path = STRESS) -> None:
    """Replace the stress table in docs/reliability.md (the rest is ``make reliability``'s)."""
    from sim.runs.io import write_text

    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    section = "\n".join(stress_section(record))
    if _STRESS_START in text and _STRESS_END in text:
        head, rest = text.split(_STRESS_START, 1)
        text = head + section + rest.split(_STRESS_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    write_text(DOC, text)


def write_doc(outcomes: list[Outcome], tests: list[tuple[str, str, str, float]]) -> Path:
    from sim.runs.io import write_text

    n_ok = sum(o.ok for o in outcomes)
    t_ok = sum(t[2] == "passed" for t in tests)
    lines = [
        "# Reliability: what dlsim does with bad input, interruptions and failures",
        "",
        f"Generated by `make reliability` (`python -m tests.reliability`) on "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Do not edit by hand.",
        "",
        "The contract (DESIGN.md): bad input exits 2 with one line per problem naming the file, "
        "the field path and what is wrong — never a traceback, never exit 1 — and writes "
        "nothing; internal errors exit 1 with one line; Ctrl-C exits 130. Outputs are written "
        "atomically (a run directory all-or-nothing); sweeps resume.",
        "",
        f"**Bad-input corpus: {len(outcomes)} cases tried, {n_ok} passed.** "
        f"**Interruption, fault and fuzzing tests: {len(tests)} tried, {t_ok} passed.**",
        "",
        "## Bad-input corpus (`tests/fixtures/bad/cases.yaml`)",
        "",
        "Scenario files go through `dlsim validate` and `dlsim run`; sweep files through "
        "`dlsim sweep`. Shown: the exit code(s) and the first line of the message.",
        "",
        "| case | what is wrong | exit | message (first line) | outcome |",
        "|---|---|---|---|---|",
    ]
    for o in outcomes:
        msg = o.message.replace(str(REPO) + "/", "")
        if len(msg) > 220:
            msg = msg[:217] + "…"
        codes = "/".join(str(a.code) for a in o.attempts)
        problems = [p for a in o.attempts for p in a.problems]
        verdict = "ok" if o.ok else "FAILED: " + "; ".join(problems)
        lines.append(f"| `{o.case['id']}` | {_md(o.case['about'])} | {codes} | {_md(msg)} | "
                     f"{_md(verdict)} |")
    classes: dict[str, list[Outcome]] = {}
    for o in outcomes:
        classes.setdefault(str(o.case.get("class", "other")), []).append(o)
    lines += [
        "",
        "## Classes covered",
        "",
        "| class | cases tried | passed |",
        "|---|---|---|",
        *(f"| {_md(c)} | {len(os_)} | {sum(o.ok for o in os_)} |" for c, os_ in classes.items()),
    ]
    lines += [
        "",
        "Round three (issue 30) added the classes *levers files* (`dlsim optimise --levers`: "
        "empty, not a mapping, special files, unknown paths and kinds, values and costs that "
        "are NaN, infinite, negative or text, ranges of 10^12 values), *targets* (`--target`: "
        "no operator, unknown KPI, NaN, infinity, a share above 1, negative), *scenario "
        "composition* (`extends:` of a directory, a list, a number, a binary or invalid file, "
        "a base with a misspelt key; what-if grids that are special files) and *numbers "
        "read* (data tables with NaN, infinity, text, negative shares, no rows, not UTF-8; "
        "`--set` of NaN, infinity, 0, negative, beyond a float); region overrides asking for "
        "more schools than the region has are under *references and meaning*, with the other "
        "counts the data cannot honour: school numbers beyond the population "
        "(`assignment.upgraded_uplinks`, `replaced_servers`) and a scale-up step above its "
        "reserve; ranked levers asking for more uplinks or servers than the state has are "
        "under *levers files*. Each is exit 2 naming both numbers, never a silent cut.",
    ]
    lines += [
        "",
        "## Interruptions, faults, fuzzing and security (tests marked `reliability`)",
        "",
        "| test | what it checks | outcome | s |",
        "|---|---|---|---|",
    ]
    for name, doc, outcome, secs in tests:
        lines.append(f"| `{_md(name)}` | {_md(doc)} | {_md(outcome)} | {secs:.1f} |")
    lines += ["", *stress_section(), ""]
    return write_text(DOC, "\n".join(lines))


def main() -> int:
    cases = load_cases()
    with tempfile.TemporaryDirectory() as tmp:
        outcomes = [run_case(c, Path(tmp)) for c in cases]
        junit = Path(tmp) / "junit.xml"
        r = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-m", "reliability", "-p", "no:cacheprovider",
             f"--junitxml={junit}", "tests"],
            cwd=REPO, check=False,
        )
        tests = _reliability_tests(junit) if junit.exists() else []
    path = write_doc(outcomes, tests)
    failed = [o.case["id"] for o in outcomes if not o.ok]
    print(f"{path}: {len(outcomes)} corpus cases, {len(outcomes) - len(failed)} passed; "
          f"{len(tests)} reliability tests, {sum(t[2] == 'passed' for t in tests)} passed")
    if failed:
        print("failed cases: " + ", ".join(failed))
    return 1 if failed or r.returncode != 0 else 0


if __name__ == "__main__":
    raise SystemExit(main())
