"""Running a what-if grid: the sweep (resumable, replications, common random numbers) with
each run's per-minute series stored beside its row, then the page."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from sim.decide.whatif.grid import META, Grid
from sim.decide.whatif.series import SeriesStore, extract_series
from sim.experiments.sweep import SweepOutcome, SweepStore, run_sweep
from sim.experiments.sweep.runner import ProgressFn
from sim.runs.io import write_json


def _priced(store: SweepStore, keys: set[str]) -> set[str]:
    """Stored rows that carry their cost (``cost_eur``): rows of an older dlsim lack it
    and its attribution by cause, which the page shows, so they run again."""
    return {k for k in keys
            if "cost_eur" in pq.read_schema(store.parts / f"{k}.parquet").names}


def prepare(grid: Grid, out_dir: str | Path, force: bool = False) -> None:
    """Make ``out_dir`` this grid's directory (refusing another sweep's unless ``force``), and
    forget stored runs whose series, cost or attribution are missing (a plain sweep's rows, or
    rows written by an older dlsim) so that they run again."""
    store = SweepStore(out_dir)
    series = SeriesStore(out_dir)
    meta = store.read_meta()
    other = meta is not None and meta.get("identity_hash") != grid.sweep.identity_hash()
    store.prepare(grid.sweep, force=force)  # raises for another sweep without force
    if other:
        series.discard()
    done = store.done_keys()
    failed = store.error_keys(done)
    missing = done - series.stored_keys() - failed
    store.drop(missing | (done - failed - _priced(store, done)))
    sc = grid.sweep.base
    write_json(
        Path(out_dir) / META,
        {
            "grid_file": str(grid.sweep.path.resolve()),
            "name": grid.sweep.name,
            "description": grid.sweep.spec.description,
            "identity_hash": grid.sweep.identity_hash(),
            "base_config": sc.source_path,
            "scenario": sc.name,
            "scale": sc.population.scale,
            "replications": grid.sweep.spec.replications,
            "levers": [lv.as_dict() for lv in grid.levers],
            # the resolved base scenario: the page prices each setting from it (sim.model.costs)
            # without the grid's files
            "base": sc.model_dump(mode="json"),
        },
    )


def run_whatif(
    grid: Grid,
    out_dir: str | Path,
    executor: Any | None = None,
    force: bool = False,
    retry_errors: bool = False,
    progress: ProgressFn | None = None,
    lang: str | None = None,
) -> tuple[SweepOutcome, Path]:
    """Run what ``out_dir`` lacks of ``grid`` and write ``out_dir/whatif.html`` (in ``lang``,
    else the scenario's ``report.lang``, else English).

    Returns the sweep's outcome and the page's path. Raises like
    :func:`sim.experiments.sweep.run_sweep` (another sweep in ``out_dir``: :class:`ConfigError`).
    """
    from sim.decide.whatif.page import write_page

    prepare(grid, out_dir, force)
    series = SeriesStore(out_dir)
    sweep = dataclasses.replace(
        grid.sweep,
        tasks=[dataclasses.replace(t, extract=extract_series) for t in grid.sweep.tasks],
    )

    def keep_series(row: dict[str, Any]) -> None:
        df = row.pop("extract", None)
        if df is not None and not row.get("error"):
            series.write(str(row["key"]), df)

    outcome = run_sweep(
        sweep, out_dir, executor, force=force, retry_errors=retry_errors, progress=progress,
        on_row=keep_series,
    )
    return outcome, write_page(out_dir, lang=lang)
