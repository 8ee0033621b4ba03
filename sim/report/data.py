"""What a report needs from a run: plain data, read from a run directory or handed over.

The report never imports the simulation's ``Results``: ``Results.to_run_data()`` builds a
:class:`RunData` from memory, :func:`load_run_dir` from the files. A run directory holds
``summary.json``, ``timeseries.parquet`` and ``schools.parquet``; the resolved scenario is
in ``summary.json`` under ``config`` (older runs: the scenario file named in the provenance
is used when its config hash still matches). Nothing is re-simulated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.report.i18n import N_
from sim.runs.rundir import (  # the directory formats live in sim.runs.rundir
    RunDirError,
    StoredComparison,
    StoredRun,
    is_run_dir,
    is_sweep_dir,
    read_comparison,
    read_run,
    run_subdirs,
)
from sim.runs.rundir import (
    read_parquet_checked as read_parquet_checked,
)
from sim.runs.stats import Interval, kpi_interval

if TYPE_CHECKING:
    from sim.config import Scenario


#: ``RunData.source`` of results handed over from memory (``Results.to_run_data()``)
IN_MEMORY = "in memory"


class Note(str):
    """A note on a run in English, with the message (a msgid marked with ``N_``) and values to
    translate it from."""

    msgid: str
    values: dict[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Note:
        obj = super().__new__(cls, msgid.format(**values) if values else msgid)
        obj.msgid, obj.values = msgid, values
        return obj


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

    @property
    def lang(self) -> str | None:
        """The scenario's report language (``report.lang``), if it sets one."""
        rep = getattr(self.scenario, "report", None)
        return getattr(rep, "lang", None)

    def interval(self, kpi: str) -> Interval | None:
        """The 95 % interval of a KPI over replications (None with one replication).

        Read from ``kpis_interval95`` when the run recorded it, else computed from the
        replications' values with :func:`sim.runs.stats.kpi_interval` (bounded for shares).
        """
        if self.replications < 2:
            return None
        rec = (self.summary.get("kpis_interval95") or {}).get(kpi)
        if isinstance(rec, dict) and rec.get("lo") is not None and rec.get("hi") is not None:
            try:
                return Interval(
                    float(rec.get("mean", self.kpis.get(kpi)) or 0.0),
                    float(rec["lo"]),
                    float(rec["hi"]),
                    int(rec.get("n", self.replications)),
                    method=str(rec.get("method", "t")),
                )
            except (TypeError, ValueError):
                pass
        vals = [v for v in self.per_replication.get(kpi, []) if v is not None]
        if len(vals) < 2:
            return None
        return kpi_interval(kpi, vals)

    @property
    def intervals(self) -> dict[str, Interval | None]:
        return {k: self.interval(k) for k in self.kpis}


def as_run_data(obj: Any) -> RunData:
    """``obj`` as :class:`RunData`: RunData itself, or anything with ``to_run_data()`` (the
    simulation's ``Results``, without this package importing it)."""
    if isinstance(obj, RunData):
        return obj
    to = getattr(obj, "to_run_data", None)
    if callable(to):
        data = to()
        if isinstance(data, RunData):
            return data
    raise TypeError(f"cannot report on {type(obj).__name__}: expected RunData or Results")


#: the files that mark the directories of ``dlsim optimise`` and ``dlsim explain``
OPTIMUM_JSON = "optimum.json"
ATTRIBUTION_JSON = "attribution.json"


def report_kind(path: Path) -> str:
    """``run``, ``sweep``, ``optimise``, ``explain`` or ``comparison`` — or
    :class:`ReportInputError`."""
    if not path.exists():
        raise ReportInputError(f"{path}: no such directory")
    if not path.is_dir():
        raise ReportInputError(f"{path}: not a directory (expected a run or sweep directory)")
    if is_run_dir(path):
        return "run"
    if is_sweep_dir(path):
        return "sweep"
    if (path / OPTIMUM_JSON).is_file():
        return "optimise"
    if (path / ATTRIBUTION_JSON).is_file():
        return "explain"
    if len(run_subdirs(path)) >= 2:
        return "comparison"
    raise ReportInputError(
        f"{path}: neither a run directory (summary.json, timeseries.parquet, schools.parquet), "
        "a sweep directory (results.parquet), an optimise directory (optimum.json), an explain "
        "directory (attribution.json) nor a comparison (two or more run directories)"
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
            return None, Note(N_("the recorded configuration no longer validates: {problems}"),
                              problems="; ".join(exc.problems[:3]))
    path = prov.get("config_file")
    if path and Path(path).is_file():
        try:
            sc = load_scenario(path, check_files=False)
        except ConfigError:
            return None, Note(N_("the scenario file {path} no longer validates"), path=path)
        if sc.config_hash() == prov.get("config_hash"):
            return sc, None
        return None, Note(N_(
            "the run's configuration was not recorded and {path} has changed since "
            "(config hash differs; --set overrides are not recorded)"), path=path,
        )
    return None, Note(N_("the run's configuration was not recorded"))


def _stored(read: Any, path: str | Path) -> Any:
    """``read(path)`` from :mod:`sim.runs.rundir`, its errors as :class:`ReportInputError`."""
    try:
        return read(path)
    except ReportInputError:
        raise
    except RunDirError as exc:
        raise ReportInputError(str(exc)) from None


def run_data(stored: StoredRun) -> RunData:
    """A run directory read by :func:`sim.runs.rundir.read_run` as the report reads it."""
    summary = stored.summary
    # sim.runs.rundir's notes are English msgids; as Notes they are looked up in the catalogue
    notes: list[str] = [n if isinstance(n, Note) else Note(n) for n in stored.notes]
    sc, why = scenario_from_summary(summary)
    if why:
        notes.append(why)
    return RunData(summary, stored.timeseries, stored.schools, sc, source=str(stored.path),
                   notes=notes)


def load_run_dir(path: str | Path) -> RunData:
    """Read a run directory written by ``dlsim run`` / ``Results.save``."""
    return run_data(_stored(read_run, path))  # the format is read in sim.runs.rundir


def load_comparison_dir(path: str | Path) -> tuple[RunData, RunData, dict[str, Any] | None]:
    """A comparison directory (``dlsim compare --out``): its two runs and the paired
    differences recorded in comparison.json (None without one)."""
    stored: StoredComparison = _stored(read_comparison, path)
    diffs = (stored.comparison or {}).get("diffs")
    return (run_data(stored.a), run_data(stored.b),
            diffs if isinstance(diffs, dict) else None)
