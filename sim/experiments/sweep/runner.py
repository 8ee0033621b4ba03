"""Running a sweep: the missing runs on an executor, rows stored as they finish, results and
a per-point summary assembled at the end (and again on every re-run)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.executors import LOST, SerialExecutor
from sim.experiments.sweep.spec import PARAM, Sweep
from sim.experiments.sweep.store import SweepStore
from sim.model.causes import COLUMN as CAUSE
from sim.model.metrics import KPI_NAMES
from sim.runs.stats import MIN_MEANINGFUL_REPLICATIONS, kpi_interval, mean_interval

ProgressFn = Callable[[int, int, dict[str, Any] | None], None]
"""``progress(done, total, row)``: after each stored row (row None for the initial call)."""


@dataclass
class SweepOutcome:
    """What a call of :func:`run_sweep` did."""

    out_dir: Path
    results: pd.DataFrame
    summary: pd.DataFrame
    computed: int
    """Runs computed by this call."""
    skipped: int
    """Runs already stored (resumed)."""
    errors: int
    """Rows of the sweep that hold an error."""
    wall_s: float
    executor: str
    lost: list[str] = field(default_factory=list)
    """Errors of runs the cluster failed to compute (not stored: a re-run computes them)."""
    damaged: list[str] = field(default_factory=list)
    """Keys of stored part files found damaged, set aside in parts/damaged/ and recomputed."""

    @property
    def complete(self) -> bool:
        return not self.lost and len(self.results) == self.computed + self.skipped

    @property
    def results_path(self) -> Path:
        return self.out_dir / "results.parquet"

    @property
    def summary_path(self) -> Path:
        return self.out_dir / "summary.parquet"


def _ordered(sweep: Sweep, df: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by (point, replication); columns: labels, seed, KPIs, details, the rest."""
    if df.empty:
        return df
    df = df.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)
    for k in KPI_NAMES:
        if k not in df.columns:
            df[k] = np.nan
    if "error" in df.columns:
        df["error"] = df["error"].astype("string")
    causes = sorted(c for c in df.columns if c.startswith(CAUSE))
    if causes and "error" in df.columns:
        # a cause absent from a run is absent from its part file: it lost 0 minutes to it
        ran = df["error"].isna()
        df.loc[ran, causes] = df.loc[ran, causes].fillna(0.0)
    first = ["point", "replication", *sweep.columns, "seed", *KPI_NAMES]
    details = sorted(c for c in df.columns if c.startswith("details."))
    last = [c for c in ("runtime_s", "error", "host", "config_hash", "key") if c in df.columns]
    rest = [c for c in df.columns if c not in {*first, *details, *causes, *last}]
    return df[first + causes + details + rest + last]


def summarise(sweep: Sweep, results: pd.DataFrame) -> pd.DataFrame:
    """One row per point: ``point``, its ``param:<path>`` values, ``n`` (runs without error),
    ``errors``, ``meaningful`` (n ≥ 3: an interval from fewer says little), and per KPI the
    mean across replications, ``<kpi>:lo`` and ``<kpi>:hi`` (the 95 % interval inside the
    KPI's bounds, :func:`sim.runs.stats.kpi_interval`) and ``<kpi>:ci95`` (the plain t
    half-width, kept for compatibility); the mean of each ``cause:<name>`` and of
    ``cost_eur`` when the rows carry them."""
    means = [c for c in results.columns if str(c).startswith(CAUSE) or c == "cost_eur"]
    rows = []
    for p, point in enumerate(sweep.points):
        sel = results[results["point"] == p] if not results.empty else results
        ok = sel[sel["error"].isna()] if not sel.empty else sel
        row: dict[str, Any] = {
            "point": p,
            **{PARAM + k: v for k, v in point.items()},
            "n": len(ok),
            "errors": len(sel) - len(ok),
            "meaningful": len(ok) >= MIN_MEANINGFUL_REPLICATIONS,
        }
        for k in KPI_NAMES:
            v = ok[k].to_numpy(dtype=float) if len(ok) else np.zeros(0)
            v = v[np.isfinite(v)]
            iv = kpi_interval(k, v)
            row[k], row[f"{k}:ci95"] = iv.mean, mean_interval(v).half_width
            row[f"{k}:lo"], row[f"{k}:hi"] = iv.lo, iv.hi
        for c in means:
            m = pd.to_numeric(ok[c], errors="coerce").to_numpy(dtype=float)
            row[c] = float(np.nanmean(m)) if np.isfinite(m).any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def assemble(sweep: Sweep, store: SweepStore) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write results.parquet and summary.parquet from the stored parts of this sweep."""
    results = _ordered(sweep, store.read_rows(t.key for t in sweep.tasks))
    if results.empty:
        results = pd.DataFrame(
            columns=[
                "point",
                "replication",
                *sweep.columns,
                "seed",
                *KPI_NAMES,
                "runtime_s",
                "error",
                "host",
            ]
        )
    summary = summarise(sweep, results)
    store.write_results(results)
    store.write_summary(summary)
    return results, summary


def run_sweep(
    sweep: Sweep,
    out_dir: str | Path,
    executor: Any | None = None,
    force: bool = False,
    retry_errors: bool = False,
    progress: ProgressFn | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> SweepOutcome:
    """Run the runs of ``sweep`` that ``out_dir`` does not hold yet; store each as it finishes.

    Parameters
    ----------
    sweep
        From :func:`sim.experiments.sweep.load_sweep`.
    out_dir
        The sweep directory (created; resumed if it holds this sweep, see
        :meth:`SweepStore.prepare`).
    executor
        Serial (default), or a Dask executor from :func:`sim.experiments.executors.make_executor`.
    force
        Discard results of a different sweep in ``out_dir`` instead of refusing.
    retry_errors
        Run again the runs stored with an error.
    progress
        ``progress(done, total, row)``, called in this process.
    on_row
        ``on_row(row)``, called in this process for each finished run just before its row
        is stored; it may store more of the run elsewhere and must pop from ``row`` what is
        not a column (the what-if page keeps per-minute series this way, written before the
        row so that a stored row always has them).

    Returns
    -------
    SweepOutcome
        Rows and per-point summary (also in ``out_dir``), and what this call computed.

    Raises
    ------
    ConfigError
        ``out_dir`` holds another sweep (and not ``force``), or is not a directory.
    KeyboardInterrupt
        Propagated after stopping: every run finished so far is stored.
    """
    t0 = time.perf_counter()
    ex = executor if executor is not None else SerialExecutor()
    store = SweepStore(out_dir)
    fresh = store.prepare(sweep, force=force)
    try:
        return _run(sweep, store, ex, retry_errors, progress, t0, on_row)
    except BaseException:
        if fresh:  # nothing was stored: leave no sweep.json or parts/ behind
            store.remove_if_empty()
        raise


def _run(
    sweep: Sweep,
    store: SweepStore,
    ex: Any,
    retry_errors: bool,
    progress: ProgressFn | None,
    t0: float,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> SweepOutcome:
    keys = {t.key for t in sweep.tasks}
    done = store.done_keys() & keys
    if retry_errors and done:
        failed = store.error_keys(done)
        store.drop(failed)
        done -= failed
    todo = [t for t in sweep.tasks if t.key not in done]
    total = len(sweep.tasks)
    n_done = len(done)
    if progress is not None:
        progress(n_done, total, None)
    computed = 0
    lost: list[str] = []
    try:
        for row in ex.run(todo):
            if row.pop(LOST, False):
                lost.append(str(row.get("error")))
                continue
            if on_row is not None:
                on_row(row)
            store.write_row(row)
            computed += 1
            n_done += 1
            if progress is not None:
                progress(n_done, total, row)
    finally:
        wall = time.perf_counter() - t0
        store.write_meta(
            sweep,
            last_run={
                "executor": ex.name,
                "computed": computed,
                "skipped": total - len(todo),
                "complete": n_done == total,
                "lost": len(lost),
                "wall_s": round(wall, 3),
            },
        )
    results, summary = assemble(sweep, store)
    errors = int(results["error"].notna().sum()) if not results.empty else 0
    return SweepOutcome(
        store.dir,
        results,
        summary,
        computed,
        total - len(todo),
        errors,
        time.perf_counter() - t0,
        ex.name,
        lost,
        list(store.damaged),
    )
