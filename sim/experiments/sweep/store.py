"""The resumable result store of a sweep directory.

```
DIR/sweep.json          which sweep made this directory (identity hash), last run's figures
DIR/parts/<key>.parquet one file per finished run, written atomically as the run finishes
DIR/results.parquet     all rows of the sweep, assembled atomically from the parts
DIR/summary.parquet     one row per point: mean, bounded 95 % interval and half-width per KPI
```

Columns of results.parquet: ``point``, ``replication``, ``param:<config path>`` per swept
parameter, ``seed``, every KPI, ``cause:<name>`` (lost pupil-minutes charged to each cause,
``sim.model.causes``; 0 where a run had none), ``details.<name>`` (scalar details of the run),
``cost_eur`` (``sim.model.costs.scenario_cost``), ``runtime_s``,
``error`` (null unless the run failed; its KPIs are then NaN), ``host``, ``config_hash``,
``key``.

A run's part file appears only once complete (temporary file + rename), so an interrupted
sweep — even ``kill -9`` — loses at most the runs in flight; a re-run skips every key that
has a part file. A part file that cannot be read (truncated or damaged on disk) is moved to
``parts/damaged/`` and only its run is computed again: one bad file never blocks a resume.
``<key>`` is a hash of the point's parameters, the replication, its seed,
the base scenario's config hash and the model's version (:func:`sim.runs.provenance.model_version`).
A directory whose runs were stored by another model, or for a base scenario since edited, is
refused naming what changed (exit 2); ``--force`` discards them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.config import ConfigError
from sim.experiments.sweep.spec import Sweep
from sim.runs.io import remove_stale_temporaries, write_json, write_parquet
from sim.runs.provenance import git_commit, model_change, model_version, package_version

OWN_FILES = ("sweep.json", "results.parquet", "summary.parquet")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SweepStore:
    """Rows of one sweep in ``out_dir`` (see the module docstring for the layout)."""

    def __init__(self, out_dir: str | Path):
        self.dir = Path(out_dir)
        self.parts = self.dir / "parts"
        self.meta_path = self.dir / "sweep.json"
        self.damaged: list[str] = []
        """Keys whose part files :meth:`done_keys` found damaged and moved to parts/damaged/."""

    # ------------------------------------------------------------------ lifecycle
    def read_meta(self) -> dict[str, Any] | None:
        """Contents of sweep.json (None if absent; {} if unreadable)."""
        if not self.meta_path.exists():
            return None
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return meta if isinstance(meta, dict) else {}

    def check(self, sweep: Sweep, force: bool = False) -> None:
        """Refuse ``out_dir`` as :meth:`prepare` would, without writing anything."""
        d = self.dir
        if d.exists() and not d.is_dir():
            raise ConfigError([f"--out {d}: exists and is not a directory"])
        if force:
            return
        meta = self.read_meta()
        if meta is not None and self.changes(meta, sweep):
            raise ConfigError(
                [
                    f"{self.meta_path}: this directory holds runs that cannot be reused: "
                    f"{'; '.join(self.changes(meta, sweep))}; use --force to discard its "
                    "results and compute them again, or another --out"
                ]
            )
        if meta is None and d.is_dir() and any(d.iterdir()):
            raise ConfigError(
                [
                    f"--out {d}: exists, is not empty and is not a sweep directory (no "
                    "sweep.json); use --force to write into it anyway, or another --out"
                ]
            )

    @staticmethod
    def changes(meta: dict[str, Any], sweep: Sweep) -> list[str]:
        """What differs between the sweep that stored ``meta`` and ``sweep``, in words (empty:
        its runs are this sweep's, by this model)."""
        if meta.get("identity_hash") == sweep.identity_hash():
            why = model_change(meta.get("model_version"))
            return [why] if why else []
        if not meta.get("identity_hash"):
            return ["its sweep.json is unreadable"]
        out = []
        if meta.get("base_config_hash") != sweep.base_config_hash:
            out.append(
                f"the base scenario {sweep.base.source_path} was edited (or its data files "
                f"changed) since they were stored (config hash {meta.get('base_config_hash')} "
                f"→ {sweep.base_config_hash})"
            )
        if meta.get("parameters") != sweep.parameters or meta.get("points") != len(sweep.points):
            out.append("the swept parameters or their values differ")
        if meta.get("seed") != sweep.spec.seed:
            out.append(f"the seed differs ({meta.get('seed')} → {sweep.spec.seed})")
        return out or [
            f"another sweep (identity {meta.get('identity_hash')}, this sweep "
            f"{sweep.identity_hash()}: the parameters' values differ)"
        ]

    def prepare(self, sweep: Sweep, force: bool = False) -> bool:
        """Make ``out_dir`` this sweep's store; True if it holds no stored run yet.

        An existing directory made by the same sweep is resumed. One made by a different
        sweep (other base config, parameters, values or seed), or a non-empty directory that
        is not a sweep directory, is refused (:class:`ConfigError`, exit 2) unless ``force``,
        which discards the previous sweep's results.
        """
        d = self.dir
        self.check(sweep, force)
        meta = self.read_meta()
        if meta is not None and self.changes(meta, sweep):  # only with force (check refuses)
            self.discard()
            meta = None
        elif meta is None and d.is_dir() and any(d.iterdir()):
            self.discard()
        fresh = not self.stored_any()
        self.parts.mkdir(parents=True, exist_ok=True)
        created = (meta or {}).get("created_utc", _now())
        self.write_meta(sweep, created_utc=created)
        return fresh

    def stored_any(self) -> bool:
        return self.parts.is_dir() and any(self.parts.glob("*.parquet"))

    def remove_if_empty(self) -> None:
        """Undo :meth:`prepare` when nothing was stored (the sweep could not start: a refused
        scheduler, a failure before the first run): no sweep.json or parts/ stays behind."""
        if self.stored_any():
            return
        if self.parts.is_dir():
            shutil.rmtree(self.parts, ignore_errors=True)
        for name in OWN_FILES:
            (self.dir / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.dir.rmdir()  # only if empty: never anything of the user's

    def discard(self) -> None:
        """Remove this store's own files (parts, results, summary, sweep.json); nothing else."""
        if self.parts.is_dir():
            shutil.rmtree(self.parts)
        for name in OWN_FILES:
            (self.dir / name).unlink(missing_ok=True)

    def write_meta(self, sweep: Sweep, **extra: Any) -> None:
        """(Re)write sweep.json: the sweep's identity and ``extra`` figures."""
        old = self.read_meta() or {}
        meta = {
            "name": sweep.name,
            "description": sweep.spec.description,
            "sweep_file": str(sweep.path.resolve()),
            "identity_hash": sweep.identity_hash(),
            "base_config": sweep.base.source_path,
            "base_config_hash": sweep.base_config_hash,
            "parameters": sweep.parameters,
            # the same paths with list elements by name, as reports print them
            "parameter_names": sweep.named_parameters,
            "sampling": sweep.spec.sampling,
            "points": len(sweep.points),
            "replications": sweep.spec.replications,
            "seed": sweep.spec.seed,
            # the base's population scale, so that the report can say what was simulated
            "scale": float(sweep.base.population.scale),
            "capacities": sweep.base.population.capacities,
            "demand": sweep.base.demand.kind,  # Poisson demand: capacities as given
            "tasks": len(sweep.tasks),
            "version": package_version(),
            "git_commit": git_commit(),
            "model_version": model_version(),
            "created_utc": old.get("created_utc", _now()),
            "updated_utc": _now(),
        }
        if "last_run" in old:
            meta["last_run"] = old["last_run"]
        meta.update(extra)
        write_json(self.meta_path, meta)

    # ------------------------------------------------------------------ rows
    def done_keys(self) -> set[str]:
        """Keys of the runs already stored (intact part files; damaged ones are set aside)."""
        if not self.parts.is_dir():
            return set()
        # half-written part files of a killed run (never renamed into place)
        remove_stale_temporaries(self.parts)
        self.damaged = self.set_aside_damaged()
        return {p.name[: -len(".parquet")] for p in self.parts.glob("*.parquet")}

    def _set_aside(self, p: Path) -> None:
        target = self.parts / "damaged"
        target.mkdir(exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        p.replace(target / f"{p.stem}.{stamp}.parquet")

    def set_aside_damaged(self) -> list[str]:
        """Move part files that cannot be read as one row of this store to parts/damaged/
        (their runs are computed again); return their keys."""
        bad = []
        for p in sorted(self.parts.glob("*.parquet")):
            try:
                t = pq.read_table(p)
                ok = t.num_rows == 1 and "key" in t.column_names and "error" in t.column_names
            except Exception:  # pyarrow raises several types for truncated/garbled files
                ok = False
            if not ok:
                self._set_aside(p)
                bad.append(p.stem)
        return bad

    def error_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` are stored as failed runs."""
        out = set()
        for k in keys:
            p = self.parts / f"{k}.parquet"
            if p.exists():
                err = pq.read_table(p, columns=["error"]).column("error").to_pylist()
                if err and err[0]:
                    out.add(k)
        return out

    def drop(self, keys: Iterable[str]) -> None:
        """Forget stored runs (their tasks run again)."""
        for k in keys:
            (self.parts / f"{k}.parquet").unlink(missing_ok=True)

    def write_row(self, row: dict[str, Any]) -> Path:
        """Store one finished run atomically as ``parts/<key>.parquet``."""
        return write_parquet(self.parts / f"{row['key']}.parquet", pd.DataFrame([row]))

    def read_rows(self, keys: Iterable[str]) -> pd.DataFrame:
        """The stored rows of ``keys`` (those that exist), as one frame."""
        tables = []
        for k in keys:
            p = self.parts / f"{k}.parquet"
            if p.exists():
                try:
                    tables.append(pq.read_table(p))
                except Exception:  # damaged since it was checked: recomputed next time
                    self._set_aside(p)
        if not tables:
            return pd.DataFrame()
        # "permissive": a parameter swept over [0, 7.5] is int64 in one part and double in
        # another; they unify to double instead of failing (ArrowTypeError) on every re-run
        return pa.concat_tables(tables, promote_options="permissive").to_pandas()

    def write_results(self, df: pd.DataFrame) -> Path:
        return write_parquet(self.dir / "results.parquet", df)

    def write_summary(self, df: pd.DataFrame) -> Path:
        return write_parquet(self.dir / "summary.parquet", df)
