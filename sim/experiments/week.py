"""A week of days run in order, each carrying over what the day before taught.

Each day is an ordinary scenario run (:func:`sim.model.simulation.simulate_once` through the
executors, as every run): its scenario is the day's file with the carried-over state applied
as ``--set``-style overrides (:mod:`sim.experiments.carry_over`), the state computed from the
previous day's results of the same replication.

- **Common random numbers per day**: day ``i`` of replication ``r`` uses the seed
  ``SeedTree(replication_seeds(seed, R)[r]).child_seed("week.day.<i>")``, so two variants of a
  week (a what-if, a rule switched off) see the same random numbers on the same day.
- **Replications per week**: each replication is its own chain of days.
- **Stored runs**: ``DIR/runs/<key>/`` (a run directory) per day and replication, keyed by the
  day's scenario hash, its seed and the model's version: a re-run computes only what is
  missing (resumable), and a run stored by another model is never reused.

``DIR`` then holds ``days/<n>-<name>/`` (each day over its replications: summary, series,
schools, report), ``week.parquet`` (the tidy frame), ``report.html`` (the week side by side)
and ``week.json`` (written last: it marks a complete week).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import ConfigError, Scenario, with_overrides
from sim.config.week import Week, load_week
from sim.experiments.carry_over import DayOutcome, WeekState, first_state, learn, overrides
from sim.experiments.executors import task_for
from sim.experiments.replications import Results
from sim.model.seeds import SeedTree, replication_seeds
from sim.model.simulation import RunResult
from sim.runs.provenance import model_version, provenance
from sim.runs.rundir import SUMMARY, RunDirError, read_run

WEEK_COLUMNS = ("day", "date", "replication", "seed", "kpi", "value")
"""Columns of :func:`run_week`'s frame (``week.parquet``)."""
WEEK_META = "week.json"
#: Figures of one platform read off each day besides the KPIs (``<platform>.<figure>``).
PLATFORM_FIGURES = ("joins", "host_joins", "conference_hours", "peak_participants",
                    "affected_schools_share")
Progress = Callable[[str, int, int], None]


def day_seed(replication_seed: int, day: int) -> int:
    """The seed of day ``day`` (0-based) in the replication whose seed is given."""
    return SeedTree(replication_seed).child_seed(f"week.day.{day}")


def run_key(sc: Scenario, seed: int) -> str:
    """Identity of a stored day run: scenario hash, seed and model version."""
    payload = json.dumps([sc.config_hash(), int(seed), model_version()])
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _outcome(res: RunResult) -> DayOutcome:
    return DayOutcome(dict(res.kpis), dict(res.extra), res.schools, res.scenario)


def _stored(path: Path, sc: Scenario, seed: int) -> RunResult | None:
    """A stored run, read back (None if absent or unreadable: it is run again)."""
    if not (path / SUMMARY).is_file():
        return None
    try:
        st = read_run(path)
    except RunDirError:
        return None
    s = st.summary
    return RunResult(sc, seed, dict(s["kpis"]), dict(s.get("details") or {}), st.timeseries,
                     st.schools, float(s.get("provenance", {}).get("runtime_s", 0.0)), 0,
                     {"stored": str(path)})


def _run_day(scenarios: Sequence[Scenario], seeds: Sequence[int], store: Path,
             executor: Any) -> list[RunResult]:
    """Day runs of every replication: stored ones read back, the rest run and stored."""
    from sim.experiments.comparisons import run_tasks

    out: list[RunResult | None] = []
    todo = []
    for i, (sc, s) in enumerate(zip(scenarios, seeds, strict=True)):
        got = _stored(store / run_key(sc, s), sc, s)
        out.append(got)
        if got is None:
            todo.append((i, task_for(sc, s, key=f"{run_key(sc, s)}", labels={"name": sc.name},
                                     keep_result=True)))
    rows = run_tasks([t for _, t in todo], executor) if todo else []
    for (i, t), row in zip(todo, rows, strict=True):
        res: RunResult = row["result"]
        res.scenario = scenarios[i]
        Results([res]).save(store / t.key, report=False)
        out[i] = res
    return [r for r in out if r is not None]


def _day_rows(name: str, date: str | None, rep: int, res: RunResult) -> list[dict[str, Any]]:
    rows = [{"day": name, "date": date, "replication": rep, "seed": res.seed, "kpi": k,
             "value": math.nan if v is None else float(v)} for k, v in res.kpis.items()]
    for fig in PLATFORM_FIGURES:
        per = res.extra.get(f"{fig}_per_platform") or {}
        for plat, v in per.items():
            rows.append({"day": name, "date": date, "replication": rep, "seed": res.seed,
                         "kpi": f"{plat}.{fig}", "value": float(v)})
    return rows


class WeekResult:
    """What :func:`run_week` returns: the frame, each day's runs and what carried over."""

    def __init__(self, week: Week, runs: list[list[RunResult]], notes: list[list[Any]],
                 sets: list[list[list[str]]], timing: dict[str, float] | None = None):
        self.week, self.runs, self.notes, self.sets = week, runs, notes, sets
        self.timing = dict(timing or {})
        """``wall_s`` of :func:`run_week` and the machine's ``load_1min`` when it began."""
        rows = [r for d, day_runs in enumerate(runs) for rep, res in enumerate(day_runs)
                for r in _day_rows(week.names[d], _iso(week.spec.days[d].date), rep, res)]
        self.frame = pd.DataFrame(rows, columns=list(WEEK_COLUMNS))

    def day(self, name: str) -> Results:
        """The replications of one day, as :class:`Results`."""
        return Results(self.runs[self.week.names.index(name)])

    def meta(self) -> dict[str, Any]:
        """week.json: the days, their scenarios as run, what carried over, provenance."""
        w = self.week
        days = []
        for d, entry in enumerate(w.spec.days):
            days.append({
                "name": entry.name, "date": _iso(entry.date), "scenario": entry.scenario,
                "scenario_name": w.days[d].name, "config_hash": w.days[d].config_hash(),
                "seeds": [r.seed for r in self.runs[d]],
                "carried": [list(n) for n in self.notes[d]],
                "overrides": self.sets[d],
                "run_config_hashes": [r.scenario.config_hash() for r in self.runs[d]],
            })
        return {"name": w.spec.name, "description": w.spec.description,
                "file": str(w.path), "identity": identity(w),
                "carry_over": w.spec.carry_over.model_dump(mode="json"),
                "rules_on": w.spec.carry_over.on(), "replications": len(self.runs[0]),
                "days": days, "timing": self.timing,
                "provenance": provenance(identity(w), w.spec.seed,
                                         scale=w.days[0].population.scale,
                                         config_file=str(w.path))}


def _iso(d: Any) -> str | None:
    return None if d is None else d.isoformat()


def identity(week: Week) -> str:
    """What makes two weeks the same week: the days' scenarios, the rules, the seed."""
    payload = json.dumps([[d.config_hash() for d in week.days],
                          week.spec.carry_over.model_dump(mode="json"), week.spec.seed],
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def run_week(week: Week, out: str | Path, replications: int | None = None,
             executor: Any | None = None, progress: Progress | None = None) -> WeekResult:
    """Run ``week`` day by day (all replications of a day at once on ``executor``), storing
    each day run under ``out/runs/`` (see the module docstring). Returns a
    :class:`WeekResult`; :func:`save_week` writes the week's own files."""
    import os
    import time

    t0, load = time.perf_counter(), os.getloadavg()[0]
    R = int(replications or week.spec.replications)
    rules = week.spec.carry_over
    rep_seeds = replication_seeds(week.spec.seed, R)
    states: list[WeekState] = [first_state(rules) for _ in range(R)]
    store = Path(out) / "runs"
    runs, notes, sets = [], [], []
    for d, base in enumerate(week.days):
        if progress is not None:
            progress(week.names[d], d, len(week.days))
        day_sets = [overrides(rules, st, base) for st in states]
        try:
            scs = [with_overrides(base, s) for s in day_sets]
        except ConfigError as exc:  # a carried value the day's scenario refuses
            raise ConfigError([f"{week.path}: days[{week.names[d]}]: carry-over: {line}"
                               for line in exc.problems]) from None
        seeds = [day_seed(s, d) for s in rep_seeds]
        day_runs = _run_day(scs, seeds, store, executor)
        runs.append(day_runs)
        notes.append([st.notes for st in states])
        sets.append(day_sets)
        states = [learn(rules, st, _outcome(r)) for st, r in zip(states, day_runs, strict=True)]
    if progress is not None:
        progress("", len(week.days), len(week.days))
    timing = {"wall_s": round(time.perf_counter() - t0, 1), "load_1min": round(load, 1),
              "stored_runs_reused": sum("stored" in r.meta for d in runs for r in d)}
    return WeekResult(week, runs, notes, sets, timing)


def check_week_dir(out: Path, ident: str, force: bool) -> None:
    """Refuse ``out`` if it holds another week's results (or is a file), unless ``force``."""
    if out.exists() and not out.is_dir():
        raise RunDirError(f"--out {out}: exists and is not a directory")
    meta = out / WEEK_META
    if meta.is_file() and not force:
        try:
            old = json.loads(meta.read_text(encoding="utf-8")).get("identity")
        except (OSError, ValueError, AttributeError):
            old = None
        if old != ident:
            raise RunDirError(f"--out {out}: holds the results of another week (identity {old}, "
                              f"this week {ident}); use --force to replace them, or another --out")
    elif out.is_dir() and not meta.is_file() and not force:
        other = sorted(p.name for p in out.iterdir()
                       if p.name not in ("runs", "days", "week.parquet", "report.html"))
        if other:
            raise RunDirError(f"--out {out}: exists and holds files that are not a week's "
                              f"({', '.join(other[:5])}); use another --out, or --force")


def save_week(res: WeekResult, out: str | Path, lang: str | None = None,
              report: bool = True) -> dict[str, Path]:
    """Write ``days/<n>-<name>/``, week.parquet, report.html and week.json (last)."""
    from sim.report.week_report import render_week
    from sim.runs.io import StagedFiles, json_writer, parquet_writer, text_writer

    out = Path(out)
    paths: dict[str, Path] = {}
    # week.json marks a complete week: gone while the days are rewritten, so an interrupted
    # save never leaves an old marker over a mix of old and new days (a re-run completes it)
    (out / WEEK_META).unlink(missing_ok=True)
    for d, name in enumerate(res.week.names):
        day_dir = out / "days" / f"{d + 1}-{name}"
        Results(res.runs[d]).save(day_dir, report=report, lang=lang)
        paths[f"day {name}"] = day_dir
    meta = res.meta()
    with StagedFiles() as files:
        paths["frame"] = files.stage(out / "week.parquet", parquet_writer(res.frame))
        if report:
            page = render_week(meta, res.frame, lang)
            paths["report"] = files.stage(out / "report.html", text_writer(page))
        paths["week"] = files.stage(out / WEEK_META, json_writer(meta))
    return paths


def week(config: str | Path, out: str | Path | None = None, *, replications: int | None = None,
         scale: float | None = None, workers: int | None = None,
         overrides: Sequence[str] = (), lang: str | None = None,
         force: bool = False) -> pd.DataFrame:
    """Run a week file and return its tidy frame (:data:`WEEK_COLUMNS`).

    Parameters
    ----------
    config
        A week file (``configs/2021-01-week.yaml``).
    out
        The week's directory (resumable: stored day runs are reused); default a temporary
        directory, removed afterwards.
    replications, scale, workers
        Replications of the week (default: the file's); each day's population at ``scale`` of
        its own (a faithful miniature); processes of a Dask ``LocalCluster``.
    overrides
        ``days[NAME].path=value`` (one day), ``carry_over.…`` (the rules), other paths (every
        day), see :mod:`sim.config.week`.
    """
    import tempfile

    from sim.experiments.executors import make_executor

    wk = load_week(config, list(overrides), scale)
    with tempfile.TemporaryDirectory(prefix="dlsim-week-") as tmp:
        d = Path(out) if out is not None else Path(tmp)
        check_week_dir(d, identity(wk), force)
        with make_executor(workers=workers if workers and workers > 1 else None) as ex:
            res = run_week(wk, d, replications, ex)
        if out is not None:
            save_week(res, d, lang)
        return res.frame
