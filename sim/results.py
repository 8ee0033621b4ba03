"""What a user gets back: ``Results`` with ``.summary``, ``.timeseries``, ``.report(path)``.

One or more replications of one scenario. With R > 1 the KPIs are means with a t-based 95 %
confidence half-width across replications (``kpis_ci95``), and the time series is the
per-minute mean with a 95 % band (``lo``/``hi`` columns).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.io import StagedFiles, json_writer, parquet_writer, text_writer
from sim.metrics import KPI_NAMES, as_jsonable
from sim.model import RunResult
from sim.provenance import provenance


def _t_ppf(q: float, df: Any) -> Any:
    """Student-t quantile (scipy.stats imported on first use: it costs ≈1 s of CLI start-up)."""
    from scipy import stats

    return stats.t.ppf(q, df)


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Mean and t-based half-width of the ``level`` confidence interval (0 for n < 2)."""
    v = np.asarray(values, dtype=float)
    n = v.size
    mean = float(v.mean()) if n else float("nan")
    if n < 2:
        return mean, 0.0
    sd = float(v.std(ddof=1))
    return mean, float(_t_ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n))


class Results:
    """Replications of one scenario."""

    def __init__(self, runs: list[RunResult]):
        if not runs:
            raise ValueError("no runs")
        self.runs = runs
        self.scenario = runs[0].scenario

    # ------------------------------------------------------------------ views
    @property
    def kpis(self) -> dict[str, float]:
        if len(self.runs) == 1:
            return dict(self.runs[0].kpis)
        return {k: mean_ci(self._values(k))[0] for k in self.runs[0].kpis}

    def kpi_ci95(self) -> dict[str, float]:
        return {k: mean_ci(self._values(k))[1] for k in self.runs[0].kpis}

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
            ci = self.kpi_ci95()
            out["kpis_ci95"] = {k: ci[k] for k in KPI_NAMES}
            out["kpis_per_replication"] = {k: self._values(k).tolist() for k in KPI_NAMES}
        extra = {k: v for k, v in first.extra.items()}
        if len(self.runs) > 1:
            for k, v in first.extra.items():
                if isinstance(v, int | float) and not isinstance(v, bool):
                    extra[k] = float(np.mean([r.extra[k] for r in self.runs]))
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
        g = df.groupby(["t", "component", "metric"], sort=True, observed=True)["value"]
        out = g.agg(["mean", "std", "count"]).reset_index()
        tq = _t_ppf(0.975, np.maximum(out["count"] - 1, 1))
        half = np.where(out["count"] > 1, tq * out["std"].fillna(0) / np.sqrt(out["count"]), 0.0)
        out["value"] = out["mean"]
        out["lo"] = out["mean"] - half
        out["hi"] = out["mean"] + half
        return out[["t", "component", "metric", "value", "lo", "hi"]]

    @property
    def schools(self) -> pd.DataFrame:
        return self.runs[0].schools

    # ------------------------------------------------------------------ outputs
    def save(
        self, out_dir: str | Path, report: bool = True, lang: str | None = None
    ) -> dict[str, Path]:
        """Write timeseries.parquet, schools.parquet, report.html and summary.json.

        All or nothing: every file is written to a temporary first and the set is moved into
        place only when all were written (summary.json last, it marks a complete run). A
        failure (disk full, Ctrl-C) leaves the files of an earlier run in ``out_dir`` intact.
        """
        from sim.report import render_report

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        with StagedFiles() as files:
            paths["timeseries"] = files.stage(
                out / "timeseries.parquet", parquet_writer(self.timeseries))
            paths["schools"] = files.stage(out / "schools.parquet", parquet_writer(self.schools))
            if report:
                html = render_report(self.to_run_data(), lang=lang)
                paths["report"] = files.stage(out / "report.html", text_writer(html))
            paths["summary"] = files.stage(out / "summary.json", json_writer(self.summary))
        if not report:  # an earlier run's report would describe other results
            (out / "report.html").unlink(missing_ok=True)
        return {k: paths[k] for k in ("summary", "timeseries", "schools", "report") if k in paths}

    def to_run_data(self) -> Any:
        """The plain data the report renders (``sim.report.data.RunData``; frames not copied)."""
        from sim.report.data import RunData

        return RunData(
            summary=self.summary,
            timeseries=self.timeseries,
            schools=self.schools,
            scenario=self.scenario,
            source="in memory",
        )

    def report(self, path: str | Path, lang: str | None = None) -> Path:
        from sim.report import write_report

        return write_report(self.to_run_data(), path, lang=lang)
