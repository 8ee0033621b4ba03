"""What a user gets back: ``Results`` with ``.summary``, ``.timeseries``, ``.report(path)``.

One or more replications of one scenario. With R > 1 the KPIs are means across replications
with a 95 % interval that respects each KPI's range (``kpis_interval95``: ``lo``/``hi``,
shares on the logit scale, counts ≥ 0; see :mod:`sim.runs.stats`) and, for compatibility, the
plain t half-width (``kpis_ci95``); the time series is the per-minute mean with a 95 % band
(``lo``/``hi`` columns) inside each metric's bounds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import Scenario, load_scenario, with_overrides
from sim.model.metrics import KPI_NAMES, as_jsonable
from sim.model.seeds import replication_seeds
from sim.model.simulation import RunResult, simulate_once
from sim.runs.provenance import provenance
from sim.runs.stats import Interval, kpi_interval, mean_interval, series_band

# columns of the schools table that describe the school, not the day (equal in every replication)
SCHOOL_IDENTITY = frozenset(
    {"school", "school_type", "region", "platform", "server", "uplink_mbit_s", "pupils"})


def mean_details(extras: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The replications' ``extra`` figures as one: every number the mean over the
    replications, at any depth (``server_crashes_by_tier``, the ``…_per_platform`` and
    ``…_by_cause`` dicts, ``frontends``), and beside it the same tree of 95 % t intervals
    (``{"lo", "hi"}``; never below 0 when no replication is). A key absent from a
    replication counts 0 there (a cause that charged nothing); a value that is not a
    number is kept when every replication has the same, else listed per replication.
    """
    means: dict[str, Any] = {}
    intervals: dict[str, Any] = {}
    keys = list(dict.fromkeys(k for e in extras for k in e))
    for k in keys:
        vals = [e.get(k) for e in extras]
        present = [v for v in vals if v is not None]
        if any(isinstance(v, Mapping) for v in present):
            means[k], intervals[k] = mean_details([v if isinstance(v, Mapping) else {}
                                                   for v in vals])
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
            x = np.array([0.0 if v is None else float(v) for v in vals])
            iv = mean_interval(x, bounds=(0.0, math.inf) if np.all(x >= 0) else
                               (-math.inf, math.inf))
            means[k], intervals[k] = iv.mean, {"lo": iv.lo, "hi": iv.hi}
        else:
            same = all(v == present[0] for v in present)
            means[k] = (present[0] if present else None) if same else vals
    return means, intervals


class _Deprecated(dict[str, Any]):
    """A view that was a method: ``res.kpi_intervals()`` still works, with a warning."""

    def __init__(self, data: dict[str, Any], name: str, call: Callable[..., Any]):
        super().__init__(data)
        self._name, self._call = name, call

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import warnings

        hint = ("res.kpi_intervals (a property), or res.intervals(level)"
                if self._name == "kpi_intervals" else f"res.{self._name} (a property)")
        warnings.warn(f"res.{self._name}() is deprecated: use {hint}", DeprecationWarning,
                      stacklevel=2)
        return self._call(*args, **kwargs) if args or kwargs else dict(self)


class Results:
    """Replications of one scenario."""

    def __init__(self, runs: list[RunResult]):
        if not runs:
            raise ValueError("no runs")
        self.runs = runs
        self.scenario = runs[0].scenario

    # ------------------------------------------------------------------ views
    # Every view is a property (``res.kpis``, ``res.kpi_intervals``, ``res.kpi_ci95``); an
    # interval at another level is the method ``res.intervals(level)``.
    @property
    def kpis(self) -> dict[str, float]:
        """Per KPI the mean over the replications (a single run's value when R = 1)."""
        if len(self.runs) == 1:
            return dict(self.runs[0].kpis)
        # the plain mean: a KPI undefined in one replication is undefined (NaN) in the mean
        return {k: float(self._values(k).mean()) for k in self.runs[0].kpis}

    @property
    def kpi_ci95(self) -> dict[str, float]:
        """Plain t half-widths (symmetric, unbounded): the compatibility figure."""
        return _Deprecated({k: self._plain(k).half_width for k in self.runs[0].kpis},
                           "kpi_ci95", lambda: self.kpi_ci95)

    @property
    def kpi_intervals(self) -> dict[str, Interval]:
        """Per KPI the 95 % interval across replications inside the KPI's bounds
        (``lo``/``hi``); :meth:`intervals` gives another level."""
        return _Deprecated(self.intervals(), "kpi_intervals", self.intervals)

    def intervals(self, level: float = 0.95) -> dict[str, Interval]:
        """Per KPI the interval at ``level`` across replications inside the KPI's bounds."""
        return {k: kpi_interval(k, self._values(k), level) for k in self.runs[0].kpis}

    def _plain(self, k: str) -> Interval:
        iv = mean_interval(self._values(k))
        return iv if iv.n > 1 else Interval(iv.mean, iv.mean, iv.mean, iv.n, iv.level, "none")

    def _values(self, k: str) -> np.ndarray:
        return np.array(
            [r.kpis[k] if r.kpis[k] is not None else np.nan for r in self.runs], dtype=float
        )

    @property
    def summary(self) -> dict[str, Any]:
        first = self.runs[0]
        sc = self.scenario
        out: dict[str, Any] = {
            "scenario": sc.name,
            "description": sc.description,
            "replications": len(self.runs),
            "kpis": {k: self.kpis[k] for k in KPI_NAMES},
        }
        if len(self.runs) > 1:
            ci = self.kpi_ci95
            out["kpis_ci95"] = {k: ci[k] for k in KPI_NAMES}
            ivs = self.kpi_intervals
            out["kpis_interval95"] = {k: ivs[k].as_dict() for k in KPI_NAMES}
            out["kpis_per_replication"] = {k: self._values(k).tolist() for k in KPI_NAMES}
        extra = dict(first.extra)
        if len(self.runs) > 1:
            # every figure, nested or not, is the mean over the replications like the tables'
            extra, out["details_interval95"] = mean_details([r.extra for r in self.runs])
        from sim.model.costs import scenario_cost  # the scenario as configured, priced (costs:)

        out["cost"] = scenario_cost(sc, first)
        extra["cost_eur"] = out["cost"]["total_eur"]
        out["details"] = extra
        # the resolved scenario, so that a run directory explains itself (and its report can be
        # rebuilt from the files alone)
        out["config"] = sc.model_dump(mode="json")
        out["provenance"] = provenance(
            sc.config_hash(),
            first.seed,
            seeds=[r.seed for r in self.runs],
            runtime_s=round(sum(r.runtime_s for r in self.runs), 3),
            scale=sc.population.scale,
            config_file=sc.source_path,
        )
        return as_jsonable(out)

    @property
    def timeseries(self) -> pd.DataFrame:
        if len(self.runs) == 1:
            return self.runs[0].timeseries
        frames = [r.timeseries.assign(rep=i) for i, r in enumerate(self.runs)]
        df = pd.concat(frames, ignore_index=True)
        out = series_band(df, ("t", "component", "metric"))
        return out[["t", "component", "metric", "value", "lo", "hi"]]

    @property
    def schools(self) -> pd.DataFrame:
        """One row per school; with R > 1 each outcome is the MEAN over the replications.

        The school registry is the same in every replication (``population.seed``), so the
        identity columns (type, region, platform, server, uplink, pupils) are the first run's
        and every other numeric column is averaged row by row: ``affected`` becomes the share of
        the replications in which the school was affected, so its sum is the mean number of
        affected schools and every breakdown sums to the mean of ``kpis_per_replication``.
        """
        first = self.runs[0].schools
        if len(self.runs) == 1:
            return first
        out = first.copy()
        # a cause of lost minutes absent from a replication has no column there: it counts 0
        extra = sorted({c for r in self.runs[1:] for c in r.schools.columns} - set(first))
        for c in [*first.columns, *extra]:
            col = next(r.schools[c] for r in self.runs if c in r.schools.columns)
            if c in SCHOOL_IDENTITY or not (pd.api.types.is_numeric_dtype(col)
                                            or pd.api.types.is_bool_dtype(col)):
                continue
            vals = np.stack([r.schools[c].to_numpy(dtype=float) if c in r.schools.columns
                             else np.zeros(len(first)) for r in self.runs])
            out[c] = vals.mean(axis=0)
        out.attrs["replications"] = len(self.runs)
        return out

    # ------------------------------------------------------------------ outputs
    def save(
        self, out_dir: str | Path, report: bool = True, lang: str | None = None,
        attribution: dict[str, Any] | None = None,
    ) -> dict[str, Path]:
        """Write timeseries.parquet, schools.parquet, report.html and summary.json, and with
        ``attribution`` (what :func:`sim.explain` returned for this scenario)
        attribution.json, which the report then shows (``dlsim explain DIR``'s files).

        All or nothing: every file is written to a temporary first and the set is moved into
        place only when all were written (summary.json last, it marks a complete run). A
        failure (disk full, Ctrl-C) leaves the files of an earlier run in ``out_dir`` intact.
        """
        from sim.report import render_report, report_directory
        from sim.runs.rundir import write_attribution, write_run

        later = report and attribution is not None  # the report reads attribution.json
        # the report lives in out_dir: its provenance says so, not "memory"
        data = self.to_run_data(source=str(Path(out_dir).resolve()))
        html = render_report(data, lang=lang) if report and not later else None
        paths = write_run(out_dir, self.summary, self.timeseries, self.schools, html)
        if attribution is not None:
            paths["attribution"] = write_attribution(out_dir, attribution)
        if later:
            paths["report"] = report_directory(out_dir, lang=lang)[1]
        return paths

    def to_run_data(self, source: str | None = None) -> Any:
        """The plain data the report renders (``sim.report.data.RunData``; frames not copied).
        ``source``: the directory the run was saved to (None: held in memory only)."""
        from sim.report.data import IN_MEMORY, RunData

        return RunData(
            summary=self.summary,
            timeseries=self.timeseries,
            schools=self.schools,
            scenario=self.scenario,
            source=source or IN_MEMORY,
        )

    def report(self, path: str | Path, lang: str | None = None) -> Path:
        from sim.report import write_report

        return write_report(self.to_run_data(), path, lang=lang)

    def plot(self, kind: str = "capacity", lang: str | None = None) -> Any:
        """The day's main time series as a plotly figure, as the report draws it:
        ``"capacity"`` (concurrent participants against the capacity of the nodes up, all
        platforms then each cluster) or ``"retries"`` (failed joins per minute and the pupils
        still trying); fault windows shaded, the 95 % band where R > 1. ``.show()`` it."""
        from sim.report import figures
        from sim.report.i18n import Tr

        draw = {"capacity": figures.capacity_timeline, "retries": figures.retry_wave}
        if kind not in draw:
            raise ValueError(f"kind {kind!r}: expected one of {', '.join(draw)}")
        tr = Tr(lang)
        windows = figures.fault_windows(self.scenario, tr)
        if kind == "capacity":
            return figures.capacity_timeline(self.timeseries, self.scenario, windows, tr)
        return figures.retry_wave(self.timeseries, windows, tr)


def simulate(
    scenario: Scenario | str | Path,
    seed: int = 1,
    replications: int = 1,
    progress: Callable[[float], None] | None = None,
    *,
    overrides: Sequence[str] = (),
) -> Results:
    """Simulate ``replications`` independent replications of ``scenario`` (a
    :class:`~sim.config.Scenario` or the path of a scenario file, with ``--set``-style
    ``overrides``; seeds from :func:`sim.model.seeds.replication_seeds`, so replication i of
    every scenario shares its random numbers)."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, overrides)
    elif overrides:
        scenario = with_overrides(scenario, overrides)
    if replications < 1:
        raise ValueError("replications must be at least 1")
    runs = []
    seeds = replication_seeds(seed, replications)
    for i, s in enumerate(seeds):
        cb = None
        if progress is not None:

            def cb(f: float, i: int = i) -> None:
                progress((i + f) / replications)

        runs.append(simulate_once(scenario, s, cb))
    return Results(runs)
