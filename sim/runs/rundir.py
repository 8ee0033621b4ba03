"""The on-disk formats of dlsim's output directories, written and read in this one module.

```
run directory          summary.json (written last: it marks a complete run), timeseries.parquet,
                       schools.parquet, report.html (optional)
comparison directory   comparison.json (written last), a/ and b/ (run directories)
sweep directory        sweep.json, parts/<key>.parquet, results.parquet, summary.parquet
                       (written by sim.experiments.sweep.store; read here), sizing.json (optional)
any of them            attribution.json (``dlsim explain --out``, optional)
```

Readers return plain data — dicts and DataFrames (:class:`StoredRun`, :class:`StoredSweep`,
:class:`StoredComparison`), never ``Results`` — and refuse a directory they cannot read with
:class:`RunDirError` (bad input: the CLI exits 2 with its one-line message). Writers are
all-or-nothing (:class:`sim.runs.io.StagedFiles`); temporaries left by a process that was killed
while saving are recognised and removed (:func:`sim.runs.io.remove_stale_temporaries`), so the same
command can simply be run again.
"""

from __future__ import annotations

import contextlib
import json
import math
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.model.messages import N_
from sim.runs.io import (
    StagedFiles,
    json_writer,
    parquet_writer,
    remove_stale_temporaries,
    text_writer,
)

SUMMARY = "summary.json"
RUN_FILES = (SUMMARY, "timeseries.parquet", "schools.parquet", "report.html")
"""Every file a run directory may hold."""
COMPARISON = "comparison.json"
SWEEP_META = "sweep.json"
SWEEP_RESULTS = "results.parquet"
SWEEP_SUMMARY = "summary.parquet"
SWEEP_SIZING = "sizing.json"
ATTRIBUTION = "attribution.json"
TIMESERIES_COLUMNS = ("t", "component", "metric", "value")


class RunDirError(ValueError):
    """A directory or file that cannot be read or written as an output directory (bad input)."""


# ------------------------------------------------------------------------------ plain data
@dataclass
class StoredRun:
    """A run directory as read back: the summary (KPIs, details, config, provenance) and the
    frames, plus notes on what was missing."""

    path: Path
    summary: dict[str, Any]
    timeseries: pd.DataFrame
    schools: pd.DataFrame
    notes: list[str] = field(default_factory=list)


@dataclass
class StoredSweep:
    path: Path
    results: pd.DataFrame
    summary: pd.DataFrame | None
    """summary.parquet (None if absent or damaged: the intervals are computed again)."""
    meta: dict[str, Any]
    """sweep.json (or, in a directory without one, a sweep file ``sweep.yaml`` beside the
    results); {} if neither is readable."""
    sizing: dict[str, Any] | None = None
    """sizing.json (``dlsim size --out-file DIR/sizing.json``), when there."""
    notes: list[str] = field(default_factory=list)


@dataclass
class StoredComparison:
    path: Path
    comparison: dict[str, Any] | None
    """comparison.json (None if absent or unreadable)."""
    a: StoredRun
    b: StoredRun


# ------------------------------------------------------------------------------ run: write
def check_run_dir(out_dir: Path, config_hash: str, force: bool) -> bool:
    """Check ``out_dir`` before simulating into it and create it; True if this call created it.

    Refused (:class:`RunDirError`): a file; a directory that is not writable; one holding the
    results of another scenario (summary.json with another config hash), or files that are not
    a run's, unless ``force``. Temporaries of a run killed while saving are removed first, and
    a run directory without summary.json (a run interrupted between its renames) is this
    scenario's to complete.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise RunDirError(f"--out {out_dir}: exists and is not a directory")
    if out_dir.is_dir():
        remove_stale_temporaries(out_dir, RUN_FILES)
    summary = out_dir / SUMMARY
    if out_dir.is_dir() and not force:
        if summary.is_file():
            old = _config_hash_of(summary)
            if old != config_hash:
                raise RunDirError(
                    f"--out {out_dir}: holds the results of another scenario (config hash "
                    f"{old}, this run {config_hash}); use --force to replace them, or another --out"
                )
        else:
            other = sorted(p.name for p in out_dir.iterdir() if p.name not in RUN_FILES)
            if other:
                raise RunDirError(
                    f"--out {out_dir}: exists, is not empty and holds no run results (no "
                    f"summary.json; found {', '.join(other[:3])}); use --force to write into "
                    "it anyway, or another --out"
                )
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as exc:
        raise RunDirError(f"--out {out_dir}: cannot write there ({exc.strerror or exc})") from None
    return created


def _config_hash_of(summary: Path) -> str:
    try:
        value = json.loads(summary.read_text(encoding="utf-8"))["provenance"]["config_hash"]
    except (OSError, ValueError, KeyError, TypeError):
        return "unreadable"
    return str(value)


def write_run(
    out_dir: str | Path,
    summary: Mapping[str, Any],
    timeseries: pd.DataFrame,
    schools: pd.DataFrame,
    report_html: str | None = None,
) -> dict[str, Path]:
    """Write a run directory, all or nothing (summary.json last: it marks a complete run).

    A failure (disk full, Ctrl-C, ``kill -9``) leaves the files of an earlier run intact; the
    temporaries of a killed writer are removed by the next write or :func:`check_run_dir`.
    Without ``report_html`` an earlier report.html is removed (it would describe other
    results). Returns the paths written, by kind.
    """
    out = Path(out_dir)
    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out, RUN_FILES)
    paths: dict[str, Path] = {}
    try:
        with StagedFiles() as files:
            paths["timeseries"] = files.stage(out / "timeseries.parquet",
                                              parquet_writer(timeseries))
            paths["schools"] = files.stage(out / "schools.parquet", parquet_writer(schools))
            if report_html is not None:
                paths["report"] = files.stage(out / "report.html", text_writer(report_html))
            paths["summary"] = files.stage(out / SUMMARY, json_writer(dict(summary)))
    except BaseException:  # nothing was moved in: a directory made for this run goes again
        if made:  # (a stored run of a sweep or week is then simply not there)
            with contextlib.suppress(OSError):
                out.rmdir()
        raise
    if report_html is None:
        (out / "report.html").unlink(missing_ok=True)
    return {k: paths[k] for k in ("summary", "timeseries", "schools", "report") if k in paths}


# ------------------------------------------------------------------------------ run: read
def is_run_dir(path: Path) -> bool:
    return (path / SUMMARY).is_file()


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON file holding an object, or :class:`RunDirError`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RunDirError(f"{path}: cannot read ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(data, dict):
        raise RunDirError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def read_parquet_checked(path: Path, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """A parquet file with ``required`` columns, or :class:`RunDirError`."""
    if not path.is_file():
        raise RunDirError(f"{path}: missing")
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise RunDirError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise RunDirError(f"{path}: missing columns {', '.join(missing)}")
    return df


def _is_number(v: Any) -> bool:
    return v is None or (isinstance(v, int | float) and not isinstance(v, bool))


def check_summary(summary: Mapping[str, Any], where: Path | str) -> None:
    """Refuse a summary whose KPIs (and their intervals) are not numbers: a report would
    otherwise fail half-way or print nonsense."""
    kpis = summary.get("kpis")
    if not isinstance(kpis, dict):
        raise RunDirError(f"{where}: kpis: expected a mapping of KPI values (not a dlsim summary)")
    for section in ("kpis", "kpis_ci95"):
        values = summary.get(section, {})
        if not isinstance(values, dict):
            raise RunDirError(f"{where}: {section}: expected a mapping of numbers")
        for k, v in values.items():
            if not _is_number(v):
                raise RunDirError(
                    f"{where}: {section}.{k}: expected a number or null, got {v!r:.60}"
                )
    per = summary.get("kpis_per_replication", {})
    if not isinstance(per, dict) or not all(
        isinstance(v, list) and all(_is_number(x) for x in v) for v in per.values()
    ):
        raise RunDirError(f"{where}: kpis_per_replication: expected lists of numbers per KPI")
    for section in ("details", "provenance", "config"):
        if section in summary and not isinstance(summary[section], dict):
            raise RunDirError(f"{where}: {section}: expected a mapping")
    reps = summary.get("replications", 1)
    if not (isinstance(reps, int) and not isinstance(reps, bool) and reps >= 1):
        raise RunDirError(f"{where}: replications: expected a positive whole number")
    for k, v in kpis.items():
        if isinstance(v, float) and math.isinf(v):
            raise RunDirError(f"{where}: kpis.{k}: infinite")


def read_run(path: str | Path) -> StoredRun:
    """Read a run directory written by :func:`write_run` (``dlsim run``)."""
    p = Path(path)
    if not p.is_dir():
        raise RunDirError(f"{p}: not a directory (expected a run directory)")
    summary = read_json_object(p / SUMMARY)
    check_summary(summary, p / SUMMARY)
    ts = read_parquet_checked(p / "timeseries.parquet", TIMESERIES_COLUMNS)
    notes = []
    schools_path = p / "schools.parquet"
    if schools_path.is_file():
        schools = read_parquet_checked(schools_path)
    else:
        schools = pd.DataFrame()
        notes.append(N_("schools.parquet is missing: no breakdown by school"))
    return StoredRun(p, summary, ts, schools, notes)


# ------------------------------------------------------------------------------ comparison
COMPARISON_ENTRIES = (COMPARISON, "a", "b")


def check_comparison_dir(out_dir: Path, hash_a: str, hash_b: str, force: bool) -> None:
    """Refuse (:class:`RunDirError`) a --out holding another comparison or other files, unless
    ``force``. A comparison interrupted while saving (``a/``/``b/`` but no comparison.json,
    temporaries of a dead writer) is this comparison's to complete."""
    if out_dir.exists() and not out_dir.is_dir():
        raise RunDirError(f"--out {out_dir}: exists and is not a directory")
    if not out_dir.is_dir():
        return
    remove_stale_temporaries(out_dir, (COMPARISON,))
    if force or not any(out_dir.iterdir()):
        return
    if not (out_dir / COMPARISON).is_file():
        other = sorted(p.name for p in out_dir.iterdir() if p.name not in COMPARISON_ENTRIES)
        if not other:
            return
        raise RunDirError(
            f"--out {out_dir}: exists, is not empty and holds no comparison (found "
            f"{', '.join(other[:3])}); use --force to write into it anyway, or another --out"
        )
    try:
        old = read_json_object(out_dir / COMPARISON)
        pair = (old["a"]["config_hash"], old["b"]["config_hash"])
    except (RunDirError, KeyError, TypeError):
        raise RunDirError(
            f"--out {out_dir}: holds an unreadable comparison.json; use --force to replace "
            "it, or another --out"
        ) from None
    if pair != (hash_a, hash_b):
        raise RunDirError(
            f"--out {out_dir}: holds another comparison (config hashes {pair[0]} vs "
            f"{pair[1]}, this one {hash_a} vs {hash_b}); use --force to replace it, or "
            "another --out"
        )


def write_comparison(out_dir: str | Path, comparison: Mapping[str, Any]) -> Path:
    """comparison.json — call after writing the run directories ``a/`` and ``b/`` (last: a
    comparison.json always describes the run directories beside it)."""
    from sim.runs.io import write_json

    return write_json(Path(out_dir) / COMPARISON, dict(comparison))


def run_subdirs(path: Path) -> list[Path]:
    """Run directories directly inside ``path`` (a comparison), sorted by name."""
    if not path.is_dir():
        return []
    return sorted(p for p in path.iterdir() if p.is_dir() and is_run_dir(p))


def read_comparison(path: str | Path) -> StoredComparison:
    p = Path(path)
    runs = run_subdirs(p)
    if len(runs) < 2:
        raise RunDirError(f"{p}: a comparison needs two run directories (found {len(runs)})")
    comparison: dict[str, Any] | None = None
    if (p / COMPARISON).is_file():
        try:
            comparison = read_json_object(p / COMPARISON)
        except RunDirError:
            comparison = None
    return StoredComparison(p, comparison, read_run(runs[0]), read_run(runs[1]))


# ------------------------------------------------------------------------------ sweep
def is_sweep_dir(path: Path) -> bool:
    return (path / SWEEP_RESULTS).is_file()


def read_sweep(path: str | Path) -> StoredSweep:
    """Read a sweep directory: results.parquet (required), and summary.parquet, sweep.json
    (else a ``sweep.yaml`` beside it) and sizing.json if they are there and readable — the
    optional files never stop a report; what was set aside is said in ``notes``."""
    p = Path(path)
    if not p.is_dir():
        raise RunDirError(f"{p}: not a directory (expected a sweep directory)")
    results = read_parquet_checked(p / SWEEP_RESULTS)
    notes: list[str] = []
    summary = None
    if (p / SWEEP_SUMMARY).is_file():
        try:
            summary = read_parquet_checked(p / SWEEP_SUMMARY)
        except RunDirError:
            notes.append(N_("summary.parquet cannot be read: intervals are computed from the "
                            "runs"))
    meta = _optional_object(p / SWEEP_META)
    if meta is None and (p / "sweep.yaml").is_file():
        meta = _sweep_file(p / "sweep.yaml")
    return StoredSweep(p, results, summary, meta or {}, _optional_object(p / SWEEP_SIZING),
                       notes)


def _optional_object(path: Path) -> dict[str, Any] | None:
    """An optional JSON object: None if absent or unreadable."""
    if not path.is_file():
        return None
    try:
        return read_json_object(path)
    except RunDirError:
        return None


def _sweep_file(path: Path) -> dict[str, Any] | None:
    from sim.config.safe_yaml import safe_load

    try:
        meta = safe_load(path.read_text(encoding="utf-8"))
    except Exception:  # an unreadable spec must not stop the report
        return None
    return meta if isinstance(meta, dict) else None


# ------------------------------------------------------------------------------ attribution
def read_attribution(directory: str | Path | None) -> dict[str, Any] | None:
    """``attribution.json`` of a directory (``dlsim explain --out``), if there is a readable
    one with its ``causes``."""
    if not directory:
        return None
    data = _optional_object(Path(directory) / ATTRIBUTION)
    return data if data is not None and isinstance(data.get("causes"), dict) else None


def write_attribution(out_dir: str | Path, attribution: Mapping[str, Any],
                      page: tuple[str, str] | None = None) -> Path:
    """Write ``DIR/attribution.json`` atomically; with ``page`` (file name, HTML) that page
    too, in one set with the JSON last (both or neither)."""
    from sim.runs.io import StagedFiles, json_writer, text_writer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with StagedFiles() as files:
        if page is not None:
            files.stage(out / page[0], text_writer(page[1]))
        return files.stage(out / ATTRIBUTION, json_writer(dict(attribution)))
