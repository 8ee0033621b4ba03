"""Two scenarios side by side with paired differences (B − A).

``diffs`` comes from the experiment layer (paired over common random numbers). Accepted
shapes per KPI: ``{"mean": d, "ci95": h}`` (also ``diff``/``half_width``, or ``lo``/``hi``),
``(d, h)`` or a bare number. Without ``diffs`` the report pairs the replications itself when
both sides ran on the same seeds, else it shows plain differences without a CI.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.metrics import KPI_NAMES
from sim.report import figures as F
from sim.report.data import RunData, as_run_data
from sim.report.layout import (
    embed,
    esc,
    fmt_kpi,
    kpi_label,
    page,
    table,
    verdict,
)
from sim.report.run_report import provenance_table
from sim.stats import mean_interval

if TYPE_CHECKING:
    from sim.results import Results

# KPIs where a larger value is better (for colouring differences).
HIGHER_IS_BETTER = {"join_success_rate", "joins_succeeded"}
NEUTRAL = {"join_attempts", "peak_concurrent_participants"}
Diff = tuple[float | None, float | None]


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def normalise_diffs(diffs: Mapping[str, Any] | None) -> dict[str, Diff]:
    """KPI → (difference B − A, 95 % CI half-width or None), whatever shape ``diffs`` has."""
    out: dict[str, Diff] = {}
    for k, v in (diffs or {}).items():
        mean = half = None
        if isinstance(v, Mapping):
            for key in ("mean", "diff", "difference", "estimate", "value", "delta"):
                if key in v:
                    mean = _num(v[key])
                    break
            for key in ("ci95", "half_width", "ci95_half_width", "ci_half_width", "hw"):
                if key in v and not isinstance(v[key], list | tuple):
                    half = _num(v[key])
                    break
            lohi = v.get("ci") if isinstance(v.get("ci"), list | tuple) else None
            lo, hi = (lohi if lohi else (v.get("lo"), v.get("hi")))[:2]
            lo, hi = _num(lo), _num(hi)
            if half is None and lo is not None and hi is not None:
                half = (hi - lo) / 2
                mean = (lo + hi) / 2 if mean is None else mean
        elif isinstance(v, list | tuple) and v:
            mean = _num(v[0])
            half = _num(v[1]) if len(v) > 1 else None
        else:
            mean = _num(v)
        out[str(k)] = (mean, half)
    return out


def paired_diffs(a: RunData, b: RunData) -> tuple[dict[str, Diff], str]:
    """Differences B − A and how they were formed."""
    pa, pb = a.per_replication, b.per_replication
    seeds_a, seeds_b = a.provenance.get("seeds"), b.provenance.get("seeds")
    n = len(next(iter(pa.values()), []))
    paired = n > 1 and seeds_a is not None and seeds_a == seeds_b
    out: dict[str, Diff] = {}
    for k in KPI_NAMES:
        va, vb = a.kpis.get(k), b.kpis.get(k)
        if va is None or vb is None:
            out[k] = (None, None)
        elif paired and len(pa.get(k, [])) == len(pb.get(k, [])) == n:
            d = np.array(
                [
                    np.nan if x is None or y is None else y - x
                    for x, y in zip(pa[k], pb[k], strict=True)
                ],
                dtype=float,
            )
            iv = mean_interval(d)
            out[k] = (iv.mean, iv.half_width)
        else:
            out[k] = (vb - va, None)
    if paired:
        how = f"paired over {n} replications on common random numbers"
    elif n == 1 and seeds_a is not None and seeds_a == seeds_b:
        how = (
            "one replication each on the same seed (common random numbers): no CI; run "
            "several replications for confidence intervals"
        )
    else:
        how = "plain differences of the two scenarios' values (not paired: no CI)"
    return out, how


def resolve_diffs(
    a: RunData, b: RunData, diffs: Mapping[str, Any] | None
) -> tuple[dict[str, Diff], str]:
    """The given differences (normalised), or paired ones computed from the replications."""
    nd = normalise_diffs(diffs)
    if any(m is not None for m, _ in nd.values()):
        return nd, "paired differences from the experiment (common random numbers)"
    return paired_diffs(a, b)


def _diff_cell(k: str, d: Diff, base: float | None) -> tuple[str, str, str]:
    mean, half = d
    if mean is None:
        return "–", "–", ""
    sign = "+" if mean > 0 else ""
    txt = f"{sign}{fmt_kpi(k, mean)}" + (f" ± {fmt_kpi(k, half)}" if half else "")
    rel = f"{mean / base:+.1%}" if base else "–"
    clear = half is not None and abs(mean) > half
    if k in NEUTRAL or mean == 0 or (half is not None and not clear):
        verdict_ = "no clear difference" if half is not None and not clear else ""
        return esc(txt), esc(rel), verdict_
    better = (mean > 0) == (k in HIGHER_IS_BETTER)
    word = "better" if better else "worse"
    return f"<span class={word}>{esc(txt)}</span>", esc(rel), word if half is not None else ""


def comparison_figures(
    a: RunData, b: RunData, diffs: dict[str, Diff], labels: tuple[str, str]
) -> dict[str, go.Figure]:
    la, lb = (esc(x) for x in labels)
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        subplot_titles=[
            "Concurrent participants vs capacity",
            "Failed join attempts per minute",
            "Pupils trying to get in (the retry wave)",
        ],
    )
    for d, name, color, dash in ((a, la, F.BLUE, "solid"), (b, lb, F.ORANGE, "solid")):
        ts = d.timeseries
        p = F.series(ts, "total", "participants")
        c = F.series(ts, "total", "capacity_participants")
        fig.add_trace(
            go.Scatter(
                x=F.hhmm(p["t"]),
                y=p["value"],
                name=f"{name}: participants",
                line={"color": color, "dash": dash},
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=F.hhmm(c["t"]),
                y=c["value"],
                name=f"{name}: capacity",
                line={"color": color, "dash": "dash", "width": 1},
            ),
            row=1,
            col=1,
        )
        fails = ts[
            (ts["component"] == "total")
            & ts["metric"].isin(["refused_capacity", "failed_frontend", "failed_dispatcher"])
        ]
        fs = fails.groupby("t", as_index=False)["value"].sum()
        fig.add_trace(
            go.Scatter(
                x=F.hhmm(fs["t"]),
                y=fs["value"],
                name=f"{name}: failures",
                line={"color": color},
                showlegend=False,
            ),
            row=2,
            col=1,
        )
        tr = F.series(ts, "total", "pupils_trying")
        fig.add_trace(
            go.Scatter(
                x=F.hhmm(tr["t"]),
                y=tr["value"],
                name=f"{name}: trying",
                line={"color": color},
                showlegend=False,
            ),
            row=3,
            col=1,
        )
    fig.update_layout(
        height=820,
        hovermode="x unified",
        margin={"t": 60, "b": 30},
        title="A vs B over the day",
        legend={"orientation": "h", "y": -0.06},
    )
    fig.update_xaxes(tickformat="%H:%M")

    ks = [k for k in KPI_NAMES if diffs.get(k, (None, None))[0] is not None and a.kpis.get(k)]
    rel = [100 * diffs[k][0] / a.kpis[k] for k in ks]  # type: ignore[operator]
    err = [100 * (diffs[k][1] or 0.0) / abs(a.kpis[k]) for k in ks]
    bars = go.Figure(
        go.Bar(
            y=[kpi_label(k) for k in ks],
            x=rel,
            orientation="h",
            marker_color=[
                F.GREY
                if k in NEUTRAL
                else (F.GREEN if (r > 0) == (k in HIGHER_IS_BETTER) else F.RED)
                for k, r in zip(ks, rel, strict=True)
            ],
            error_x={"type": "data", "array": err, "visible": any(err)},
            hovertemplate="%{y}: %{x:+.1f} %<extra></extra>",
        )
    )
    bars.update_layout(
        height=80 + 28 * len(ks),
        margin={"t": 50, "b": 40, "l": 290, "r": 20},
        title="Paired differences B − A, relative to A (95 % CI)",
        xaxis={"title": "% of A", "zeroline": True},
    )

    ttj = go.Figure()
    for d, name, color in ((a, la, F.BLUE), (b, lb, F.ORANGE)):
        ks2 = [k for k, _ in F.TTJ_KPIS if d.kpis.get(k) is not None]
        ttj.add_trace(
            go.Bar(
                x=[dict(F.TTJ_KPIS)[k] for k in ks2],
                name=name,
                y=[max(float(d.kpis[k]), 0.05) for k in ks2],
                marker_color=color,
                error_y={"type": "data", "array": [d.ci.get(k) or 0 for k in ks2]},
            )
        )
    ttj.add_hline(y=120, line_dash="dot", line_color=F.RED, annotation_text="2-minute target")
    ttj.update_layout(
        barmode="group",
        height=340,
        title="Time to join",
        yaxis={"type": "log", "title": "seconds (log scale)"},
        margin={"t": 50, "b": 40},
    )
    return {"comparison_timeline": fig, "paired_differences": bars, "time_to_join": ttj}


def _config_diff(a: RunData, b: RunData) -> str:
    if a.scenario is None or b.scenario is None:
        return "<p class=muted>Settings not recorded for both scenarios.</p>"
    fa = _flatten(a.scenario.model_dump(mode="json"))
    fb = _flatten(b.scenario.model_dump(mode="json"))
    rows = [
        (k, _short(fa.get(k, "–")), _short(fb.get(k, "–")))
        for k in sorted(set(fa) | set(fb))
        if fa.get(k) != fb.get(k) and k not in ("name", "description")
    ]
    if not rows:
        return "<p>The two scenarios have the same settings (only the seeds may differ).</p>"
    return table(["setting", "A", "B"], rows)


def _flatten(x: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(x, dict):
        out: dict[str, Any] = {}
        for k, v in x.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(x, list) and x and all(isinstance(i, dict) for i in x):
        out = {}
        for i, v in enumerate(x):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: x}


def _short(v: Any) -> str:
    s = str(v)
    return s if len(s) <= 120 else s[:117] + "…"


def render_comparison(
    a: Results | RunData,
    b: Results | RunData,
    diffs: Mapping[str, Any] | None = None,
    labels: tuple[str, str] | None = None,
) -> str:
    """Scenario ``b`` against baseline ``a`` with paired differences, as one HTML string."""
    ra, rb = as_run_data(a), as_run_data(b)
    nd, how = resolve_diffs(ra, rb, diffs)
    labels = labels or (ra.name, rb.name)
    if labels[0] == labels[1]:  # same scenario name: tell them apart by directory or letter
        dirs = [Path(d.source).name if d.source not in ("", "in memory") else "" for d in (ra, rb)]
        if all(dirs) and dirs[0] != dirs[1]:
            labels = (f"{labels[0]} ({dirs[0]})", f"{labels[1]} ({dirs[1]})")
        else:
            labels = (f"{labels[0]} (A)", f"{labels[1]} (B)")
    figs = comparison_figures(ra, rb, nd, labels)
    fig = {k: embed(k, f) for k, f in figs.items()}
    rows = []
    for k in KPI_NAMES:

        def cell(d: RunData, k: str = k) -> str:
            v, h = d.kpis.get(k), d.ci.get(k)
            return esc(fmt_kpi(k, v) + (f" ± {fmt_kpi(k, h)}" if h else ""))

        dtxt, rel, word = _diff_cell(k, nd.get(k, (None, None)), ra.kpis.get(k))
        rows.append((esc(kpi_label(k)), cell(ra), cell(rb), dtxt, rel, esc(word)))
    kpis = table(
        ["KPI", "A", "B", "B − A (95 % CI)", "relative", ""], rows, num=(1, 2, 3, 4), raw=True
    )
    head = (
        f"<h1>{esc(labels[0])} <span class=muted>vs</span> {esc(labels[1])}</h1>"
        f"<p class=lead><b>A:</b> {esc(ra.description)}</p>"
        f"<p class=lead><b>B:</b> {esc(rb.description)}</p>"
        f"{verdict(ra.kpis, prefix='<b>A:</b> ')}{verdict(rb.kpis, prefix='<b>B:</b> ')}"
    )
    sections = [
        (
            "kpis",
            "Key figures side by side",
            f"<p class=muted>Differences: {esc(how)}.</p>" + kpis + fig["paired_differences"],
        ),
        ("day", "Over the day", fig["comparison_timeline"]),
        ("time-to-join", "Time to join", fig["time_to_join"]),
        ("settings", "What differs between the scenarios", _config_diff(ra, rb)),
        (
            "provenance",
            "Provenance",
            "<h3>A</h3>"
            + provenance_table(ra.provenance, ra.source)
            + "<h3>B</h3>"
            + provenance_table(rb.provenance, rb.source),
        ),
    ]
    return page(f"dlsim comparison – {labels[0]} vs {labels[1]}", head, sections)
