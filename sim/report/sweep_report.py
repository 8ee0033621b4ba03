"""The report of a parameter sweep: KPI vs parameter with 95 % CI bands and the sizing answer.

Reads ``results.parquet`` (one row per (point, replication); KPI columns named as in
``sim.metrics.KPI_NAMES``; swept parameters in ``param:<config path>`` columns; failed runs
carry a non-empty ``error``). Anything else in the directory is optional: a ``sizing.json``
written by ``dlsim size`` is shown as is, a name and description are taken from
``sweep.json`` / ``manifest.json`` / ``sweep.yaml`` when present.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.metrics import KPI_NAMES
from sim.report import figures as F
from sim.report.data import ReportInputError, read_parquet_checked
from sim.report.layout import (
    SERVICE_TARGET,
    Target,
    embed,
    esc,
    fmt_kpi,
    kpi_label,
    meets,
    page,
    plain,
    table,
    target_text,
)
from sim.stats import mean_interval

SWEEP_KPIS = (
    "join_success_rate",
    "p95_time_to_join_s",
    "lost_pupil_minutes",
    "peak_node_utilisation",
    "blocking_probability",
    "affected_schools_share",
)
PALETTE = (F.BLUE, F.ORANGE, F.GREEN, F.RED, F.PURPLE, "#8c564b", "#e377c2", F.GREY)


@dataclass
class SweepData:
    results: pd.DataFrame
    name: str = "Parameter sweep"
    description: str = ""
    sizing: dict[str, Any] | None = None
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> list[str]:
        return [c for c in self.results.columns if str(c).startswith("param:")]

    @property
    def kpis(self) -> list[str]:
        return [k for k in KPI_NAMES if k in self.results.columns]

    @property
    def failed(self) -> pd.DataFrame:
        if "error" not in self.results.columns:
            return self.results.iloc[0:0]
        err = self.results["error"]
        return self.results[err.notna() & (err.astype(str).str.strip() != "")]

    @property
    def ok(self) -> pd.DataFrame:
        return self.results.drop(index=self.failed.index)


def load_sweep_dir(path: str | Path) -> SweepData:
    p = Path(path)
    df = read_parquet_checked(p / "results.parquet", ())
    data = SweepData(df, name=f"Parameter sweep {p.name}", source=str(p))
    if not data.params:
        raise ReportInputError(f"{p / 'results.parquet'}: no 'param:<path>' columns")
    if not data.kpis:
        raise ReportInputError(f"{p / 'results.parquet'}: no KPI columns")
    for meta_name in ("sweep.json", "manifest.json", "spec.json"):
        f = p / meta_name
        if f.is_file():
            try:
                meta = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(meta, dict):
                data.meta = meta
                data.name = str(meta.get("name") or data.name)
                data.description = str(meta.get("description") or "")
                break
    if not data.meta and (p / "sweep.yaml").is_file():
        from sim.config.loading import safe_load

        try:
            meta = safe_load((p / "sweep.yaml").read_text(encoding="utf-8"))
        except Exception:  # an unreadable spec must not stop the report
            meta = None
        if isinstance(meta, dict):
            data.meta = meta
            data.name = str(meta.get("name") or data.name)
            data.description = str(meta.get("description") or "")
    if (p / "sizing.json").is_file():
        try:
            sizing = json.loads((p / "sizing.json").read_text(encoding="utf-8"))
            data.sizing = sizing if isinstance(sizing, dict) else None
        except (OSError, ValueError):
            data.sizing = None
    return data


def point_stats(data: SweepData) -> pd.DataFrame:
    """One row per point: parameters, n, and per KPI ``<kpi>`` (mean) and ``<kpi>:ci95``."""
    ok, params = data.ok, data.params
    rows = []
    for key, g in ok.groupby(params, dropna=False, sort=True):
        vals = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(params, vals, strict=True))
        row["n"] = len(g)
        for k in data.kpis:
            v = pd.to_numeric(g[k], errors="coerce").to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            iv = mean_interval(v)
            row[k], row[f"{k}:ci95"] = iv.mean, iv.half_width
        rows.append(row)
    return pd.DataFrame(rows)


def x_param(data: SweepData) -> str:
    """The parameter for the x axis: numeric, most levels, capacity-like names first."""

    def score(c: str) -> tuple[bool, bool, int]:
        s = data.results[c]
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        cap = any(w in c for w in ("nodes", "workers", "capacity", "mbit"))
        return numeric, cap, s.nunique()

    return max(data.params, key=score)


def _group_label(row: pd.Series, cols: Sequence[str]) -> str:
    return ", ".join(f"{c[6:]}={plain(row[c])}" for c in cols) or "all points"


def _meets_at(r: pd.Series, target: Target) -> bool:
    """Whether a point (row of :func:`point_stats`) meets ``target`` at its 95 % CI bound."""
    return bool(
        meets({k: r[k] for k, _, _ in target}, {k: r[f"{k}:ci95"] for k, _, _ in target}, target)
    )


def _groups(stats: pd.DataFrame, x: str) -> tuple[list[str], list[pd.DataFrame]]:
    others = [c for c in stats.columns if str(c).startswith("param:") and c != x]
    if not others:
        return others, [stats.sort_values(x)]
    return others, [g.sort_values(x) for _, g in stats.groupby(others, dropna=False, sort=True)]


def kpi_vs_param(
    stats: pd.DataFrame, x: str, kpis: Sequence[str] = SWEEP_KPIS, target: Target = SERVICE_TARGET
) -> go.Figure:
    """A panel per KPI: mean vs ``x`` with a 95 % CI band, a line per other-parameter level;
    the thresholds of ``target`` as dotted lines."""
    kpis = [k for k in kpis if k in stats.columns]
    others, groups = _groups(stats, x)
    rows = (len(kpis) + 1) // 2
    fig = make_subplots(
        rows=rows,
        cols=2,
        subplot_titles=[kpi_label(k) for k in kpis],
        vertical_spacing=0.12 if rows > 1 else 0.2,
        horizontal_spacing=0.1,
    )
    thresholds = {k: thr for k, _, thr in target}
    for gi, g in enumerate(groups):
        color = PALETTE[gi % len(PALETTE)]
        rgba = "rgba({},{},{},0.15)".format(*(int(color[i : i + 2], 16) for i in (1, 3, 5)))
        label = esc(_group_label(g.iloc[0], others))
        for j, k in enumerate(kpis):
            r, c = j // 2 + 1, j % 2 + 1
            xs, m, h = g[x].tolist(), g[k].to_numpy(float), g[f"{k}:ci95"].fillna(0).to_numpy()
            fig.add_trace(
                go.Scatter(
                    x=xs + xs[::-1],
                    y=list(m + h) + list((m - h)[::-1]),
                    fill="toself",
                    mode="lines",
                    fillcolor=rgba,
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                ),
                row=r,
                col=c,
            )
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=m,
                    mode="lines+markers",
                    name=label,
                    line={"color": color},
                    legendgroup=label,
                    showlegend=j == 0,
                ),
                row=r,
                col=c,
            )
            if k in thresholds and gi == 0:
                fig.add_hline(y=thresholds[k], line_dash="dot", line_color=F.RED, row=r, col=c)
    fig.update_xaxes(title_text=esc(x[6:]))
    fig.update_layout(
        height=300 * rows + 80,
        margin={"t": 70, "b": 40},
        title="KPIs vs " + esc(x[6:]) + " (mean and 95 % CI over replications)",
        legend={"orientation": "h", "y": -0.08},
    )
    return fig


def sizing_answer(
    stats: pd.DataFrame, x: str, target: Target = SERVICE_TARGET
) -> list[tuple[str, Any, bool]]:
    """Per level of the other parameters: (label, the smallest ``x`` from which every larger
    swept value meets ``target`` at the conservative 95 % CI bound — None if not reached,
    whether the largest swept value meets it)."""
    others, groups = _groups(stats, x)
    out = []
    for g in groups:
        ok = [_meets_at(r, target) for _, r in g.iterrows()]
        best = next((g[x].iloc[i] for i in range(len(ok)) if all(ok[i:])), None)
        out.append((_group_label(g.iloc[0], others), best, bool(ok and ok[-1])))
    return out


def _shortfall(r: pd.Series, target: Target) -> str:
    """What a point misses of ``target`` (at its 95 % CI bound), or ``–``."""
    missed = []
    for k, op, thr in target:
        v, h = r[k], r[f"{k}:ci95"] if pd.notna(r[f"{k}:ci95"]) else 0.0
        if not meets({k: v}, {k: h}, ((k, op, thr),)):
            sign = "≥" if op == ">=" else "≤"
            missed.append(
                f"{kpi_label(k).lower()} {fmt_kpi(k, v)} ± {fmt_kpi(k, h)} "
                f"(needs {sign} {fmt_kpi(k, thr)})"
            )
    return "; ".join(missed) or "–"


def _sizing_html(data: SweepData, stats: pd.DataFrame, x: str, target: Target) -> str:
    html = ""
    if data.sizing:
        html += "<h3>From <code>dlsim size</code></h3>" + table(
            ["", ""],
            [
                (k, json.dumps(v) if isinstance(v, dict | list) else plain(v))
                for k, v in data.sizing.items()
            ],
        )
    if all(k in stats.columns for k, _, _ in target) and pd.api.types.is_numeric_dtype(stats[x]):
        _, groups = _groups(stats, x)
        rows = [
            (
                lbl,
                plain(v) if v is not None else "not reached in the swept range",
                _shortfall(g.iloc[-1], target),
            )
            for (lbl, v, _), g in zip(sizing_answer(stats, x, target), groups, strict=True)
        ]
        html += (
            f"<p>Smallest <code>{esc(x[6:])}</code> that meets the target "
            f"(<b>{esc(target_text(target))}</b>) at the conservative end of the 95 % CI, "
            "with every larger swept value meeting it too:</p>"
            + table(
                ["other parameters", f"minimum {x[6:]}", f"missed at the largest {x[6:]}"],
                rows,
                num=(1,),
            )
        )
    return html or (
        "<p class=muted>The target's KPIs or a numeric parameter are missing: no sizing answer.</p>"
    )


def _points_html(data: SweepData, stats: pd.DataFrame, target: Target) -> str:
    kpis = [k for k in SWEEP_KPIS if k in stats.columns]
    can = all(k in stats.columns for k, _, _ in target)
    rows = []
    for _, r in stats.iterrows():
        cells = [plain(r[c]) for c in data.params] + [str(int(r["n"]))]
        cells += [
            fmt_kpi(k, r[k]) + (f" ± {fmt_kpi(k, r[k + ':ci95'])}" if r[k + ":ci95"] else "")
            for k in kpis
        ]
        if can:
            cells.append("✓" if _meets_at(r, target) else "✗")
        rows.append(cells)
    headers = [p[6:] for p in data.params] + ["n"] + [kpi_label(k) for k in kpis]
    return table(
        headers + (["target met"] if can else []),
        rows,
        num=range(len(data.params), len(headers) + 1),
    )


def render_sweep(data: SweepData | pd.DataFrame, target: Target = SERVICE_TARGET) -> str:
    """The sweep report as one self-contained HTML string (sizing against ``target``)."""
    if isinstance(data, pd.DataFrame):
        data = SweepData(data)
    stats = point_stats(data)
    x = x_param(data)
    failed = data.failed
    head = (
        f"<h1>{esc(data.name)}</h1><p class=lead>{esc(data.description)}</p>"
        f"<p class=muted>{len(stats)} points · {len(data.results)} runs ({len(failed)} "
        f"failed) · parameters: {esc(', '.join(p[6:] for p in data.params))}</p>"
    )
    sections = [
        ("sizing", "Sizing answer", _sizing_html(data, stats, x, target)),
        ("kpis", "KPIs vs parameter", embed("kpi_vs_param", kpi_vs_param(stats, x, target=target))),
        ("points", "All points", _points_html(data, stats, target)),
    ]
    if len(failed):
        sections.append(
            (
                "failed",
                "Failed runs",
                table(
                    [*(p[6:] for p in data.params), "error"],
                    [
                        (*(plain(r[p]) for p in data.params), str(r["error"])[:300])
                        for _, r in failed.head(50).iterrows()
                    ],
                ),
            )
        )
    if data.source:
        meta = [
            (k, json.dumps(v) if isinstance(v, dict | list) else str(v))
            for k, v in data.meta.items()
            if k not in ("name", "description")
        ]
        sections.append(
            ("provenance", "Provenance", table(["", ""], [("read from", data.source), *meta]))
        )
    return page(f"dlsim sweep – {data.name}", head, sections)
