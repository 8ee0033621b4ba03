"""What a report needs from a run, whether in memory (``Results``) or read back from a directory.

A run directory holds ``summary.json``, ``timeseries.parquet`` and ``schools.parquet``; the
resolved scenario is in ``summary.json`` under ``config`` (older runs: the scenario file named
in the provenance is used when its config hash still matches). Nothing is re-simulated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.rundir import (  # the directory formats live in sim.rundir
    RunDirError,
    is_run_dir,
    is_sweep_dir,
    read_run,
    run_subdirs,
)
from sim.rundir import (
    read_parquet_checked as read_parquet_checked,
)

if TYPE_CHECKING:
    from sim.config import Scenario
    from sim.results import Results


class ReportInputError(RunDirError):
    """A directory or file that cannot be reported on (bad input: the CLI exits with 2)."""


@dataclass
class RunData:
    """One scenario's results as the report reads them."""

    summary: dict[str, Any]
    timeseries: pd.DataFrame
    schools: pd.DataFrame
    scenario: Scenario | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.summary.get("scenario") or "scenario")

    @property
    def description(self) -> str:
        return str(self.summary.get("description") or "")

    @property
    def kpis(self) -> dict[str, Any]:
        return dict(self.summary.get("kpis", {}))

    @property
    def ci(self) -> dict[str, Any]:
        return dict(self.summary.get("kpis_ci95", {}))

    @property
    def details(self) -> dict[str, Any]:
        return dict(self.summary.get("details", {}))

    @property
    def provenance(self) -> dict[str, Any]:
        return dict(self.summary.get("provenance", {}))

    @property
    def replications(self) -> int:
        return int(self.summary.get("replications", 1) or 1)

    @property
    def per_replication(self) -> dict[str, list[float | None]]:
        per = self.summary.get("kpis_per_replication")
        if per:
            return {k: list(v) for k, v in per.items()}
        return {k: [v] for k, v in self.kpis.items()}


def as_run_data(obj: Results | RunData) -> RunData:
    """``obj`` as :class:`RunData` (a ``Results`` is read without copying its frames)."""
    if isinstance(obj, RunData):
        return obj
    return RunData(
        summary=obj.summary,
        timeseries=obj.timeseries,
        schools=obj.schools,
        scenario=obj.scenario,
        source="in memory",
    )


def report_kind(path: Path) -> str:
    """``run``, ``sweep`` or ``comparison`` — or :class:`ReportInputError`."""
    if not path.exists():
        raise ReportInputError(f"{path}: no such directory")
    if not path.is_dir():
        raise ReportInputError(f"{path}: not a directory (expected a run or sweep directory)")
    if is_run_dir(path):
        return "run"
    if is_sweep_dir(path):
        return "sweep"
    if len(run_subdirs(path)) >= 2:
        return "comparison"
    raise ReportInputError(
        f"{path}: neither a run directory (summary.json, timeseries.parquet, schools.parquet), "
        "a sweep directory (results.parquet) nor a comparison (two or more run directories)"
    )


def scenario_from_summary(summary: dict[str, Any]) -> tuple[Scenario | None, str | None]:
    """The resolved scenario of a run (or None and why not)."""
    from sim.config import ConfigError, load_scenario, scenario_from_dict

    cfg = summary.get("config")
    prov = summary.get("provenance", {})
    if isinstance(cfg, dict):
        try:
            return scenario_from_dict(cfg, source="summary.json config"), None
        except ConfigError as exc:
            return None, "the recorded configuration no longer validates: " + "; ".join(
                exc.problems[:3]
            )
    path = prov.get("config_file")
    if path and Path(path).is_file():
        try:
            sc = load_scenario(path, check_files=False)
        except ConfigError:
            return None, f"the scenario file {path} no longer validates"
        if sc.config_hash() == prov.get("config_hash"):
            return sc, None
        return None, (
            f"the run's configuration was not recorded and {path} has changed since "
            "(config hash differs; --set overrides are not recorded)"
        )
    return None, "the run's configuration was not recorded"


def load_run_dir(path: str | Path) -> RunData:
    """Read a run directory written by ``dlsim run`` / ``Results.save``."""
    try:
        stored = read_run(path)  # the format is read in sim.rundir
    except ReportInputError:
        raise
    except RunDirError as exc:
        raise ReportInputError(str(exc)) from None
    p, summary, ts, schools, notes = (
        stored.path, stored.summary, stored.timeseries, stored.schools, stored.notes
    )
    sc, why = scenario_from_summary(summary)
    if why:
        notes.append(why)
    return RunData(summary, ts, schools, sc, source=str(p), notes=notes)
