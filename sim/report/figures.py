"""Plotly figures of one run (also used by the comparison report and the notebooks).

Every function takes tidy frames (``t``, ``component``, ``metric``, ``value`` [, ``lo``,
``hi``]) or the schools frame and returns a ``go.Figure``. Labels are words in the reader's
language (:mod:`sim.report.labels`); lines differ by dash and bars by hatching as well as by
colour, so a chart stays legible printed in black and white. Axis ranges are set from the
data (log axes never include zero), and tick steps are 1-2-5 multiples.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.model.capacity import capacity_at_mix
from sim.report import labels as L
from sim.report.i18n import EN, N_, Tr
from sim.report.layout import esc

BLUE, RED, ORANGE, PURPLE, GREY, GREEN = (
    "#1f77b4",
    "#d62728",
    "#ff7f0e",
    "#9467bd",
    "#7f7f7f",
    "#2ca02c",
)
# metric → (English msgid, colour, hatching)
FAILURES = {
    "refused_capacity": (N_("refused: capacity"), RED, "/"),
    "failed_frontend": (N_("failed: login service / school server"), ORANGE, "x"),
    "failed_dispatcher": (N_("failed: dispatcher"), PURPLE, "."),
    "gave_up": (N_("gave up"), GREY, "-"),
}
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
LINE_COLOURS = (BLUE, ORANGE, GREEN, PURPLE, RED, GREY)


class Window(NamedTuple):
    """A shaded stretch of the day: a fault (``repair`` False) or its staged repair."""

    start_s: float
    end_s: float
    label: str
    repair: bool = False


def hhmm(t: pd.Series | np.ndarray | Sequence[float]) -> pd.DatetimeIndex | pd.Series:
    """Seconds since midnight as datetimes on a fixed day (axes show HH:MM only)."""
    return pd.to_datetime("2021-01-11") + pd.to_timedelta(np.asarray(t, dtype=float), unit="s")


def series(ts: pd.DataFrame, component: str, metric: str) -> pd.DataFrame:
    sel = ts[(ts["component"] == component) & (ts["metric"] == metric)]
    return sel.sort_values("t")


def nice_step(span: float, ticks: int = 5) -> float:
    """A 1-2-5 step that cuts ``span`` into about ``ticks`` intervals."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    raw = span / ticks
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


def linear_range(values: Any, headroom: float = 1.08) -> tuple[list[float], float]:
    """[0, top] with a 1-2-5 tick step for non-negative data (top ≥ the data's maximum)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    top = float(v.max()) if v.size else 1.0
    top = top if top > 0 else 1.0
    step = nice_step(top * headroom)
    return [0.0, top * headroom], step


def log_axis(values: Any, floor: float = 0.1) -> dict[str, Any]:
    """A log axis over the positive data: range a little beyond it, 1-2-5 ticks labelled in
    plain numbers (no minor labels like "5 2 100 5 2")."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    lo = max(float(v.min()) if v.size else floor, floor)
    hi = max(float(v.max()) if v.size else 10 * floor, lo * 10)
    r0, r1 = math.log10(lo) - 0.2, math.log10(hi) + 0.25
    decades = range(math.floor(r0), math.ceil(r1) + 1)
    mult = (1, 2, 5) if r1 - r0 <= 3 else (1,)
    vals = [m * 10.0**d for d in decades for m in mult if r0 <= math.log10(m * 10.0**d) <= r1]
    return {
        "type": "log",
        "range": [r0, r1],
        "tickvals": vals,
        "ticktext": [f"{x:g}" for x in vals],
    }


def fault_windows(scenario: Any, tr: Tr = EN) -> list[Window]:
    """The scenario's time-windowed faults and their staged repairs (faults triggered by a
    condition, such as overload crashes, have no window to shade). Labels are the fault's
    kind in words in the report's language; the scenario's own label is in the
    assumptions table."""
    if scenario is None:
        return []
    day_start, day_end = float(scenario.day.start), float(scenario.day.end)
    out = []
    for f in getattr(scenario, "faults", None) or []:
        kind = str(getattr(f, "kind", "fault"))
        if kind == "overload_crash":
            continue
        start = max(float(getattr(f, "start", 0.0) or 0.0), day_start)
        end = float(getattr(f, "end", None) or day_end)
        where = getattr(f, "platform", None)
        label = L.fault_kind(kind, tr) + (f" ({L.platform(where, tr, scenario)})" if where else "")
        own = str(getattr(f, "label", None) or "")
        if own and (tr.lang == "en" or tr.text(own) != own):  # the scenario's own words, when
            label = tr.text(own)  # they are English or the catalogue has them in German
        out.append(Window(start, end, label))
        stages = int(getattr(f, "repair_stages", 1) or 1)
        step_s = 60.0 * float(getattr(f, "repair_interval_min", 0.0) or 0.0)
        if stages > 1 and step_s > 0:
            out.append(
                Window(
                    end,
                    min(end + (stages - 1) * step_s, day_end),
                    tr("repaired in {n} stages", n=stages),
                    repair=True,
                )
            )
    return out


def _shade(fig: go.Figure, windows: Sequence[Window], yref: str = "paper", y: float = 1.0) -> None:
    """Shade fault windows in every panel (staged repairs lighter); label them once, on a white
    box at the top of the first panel (above the lines: panels leave headroom for it)."""
    for w in windows:
        x0, x1 = hhmm([w.start_s])[0], hhmm([w.end_s])[0]
        alpha = 0.05 if w.repair else 0.12
        fig.add_vrect(x0=x0, x1=x1, fillcolor=f"rgba(214,39,40,{alpha})", line_width=0,
                      layer="below")
        fig.add_annotation(
            x=x0, y=y, xref="x", yref=yref, yanchor="top", xanchor="left",
            text=esc(w.label), showarrow=False, font={"size": 10, "color": "#8f1d17"},
            bgcolor="rgba(255,255,255,0.9)", borderpad=2,
        )


def _band(fig: go.Figure, s: pd.DataFrame, rgba: str, row: int | None = None,
          lower: float = 0.0) -> None:
    """The 95 % band of a replicated series (``lo``/``hi`` columns), clipped at ``lower``
    (counts cannot be negative)."""
    if "lo" not in s.columns or s.empty or not (s["hi"] - s["lo"]).abs().gt(0).any():
        return
    kw: dict[str, Any] = {"row": row, "col": 1} if row else {}
    x = hhmm(s["t"])
    fig.add_trace(
        go.Scatter(x=x, y=s["hi"], line={"width": 0}, showlegend=False, hoverinfo="skip"), **kw
    )
    fig.add_trace(
        go.Scatter(x=x, y=s["lo"].clip(lower=lower), line={"width": 0}, fill="tonexty",
                   fillcolor=rgba, showlegend=False, hoverinfo="skip"),
        **kw,
    )


def _time_axes(fig: go.Figure) -> None:
    fig.update_xaxes(tickformat="%H:%M")


def cluster_titles(ts: pd.DataFrame, scenario: Any = None, tr: Tr = EN) -> dict[str, str]:
    """``cluster:<name>`` → the cluster in words ("IServ", "IServ, cluster 2")."""
    comps = sorted(str(c) for c in ts["component"].unique() if str(c).startswith("cluster:"))
    return {c: L.cluster(c[8:], tr, scenario) for c in comps}


def capacity_timeline(
    ts: pd.DataFrame, scenario: Any = None, windows: Sequence[Window] = (), tr: Tr = EN,
    total_only: bool = False,
) -> go.Figure:
    """Concurrent participants vs capacity: all platforms, then each platform's cluster
    (``total_only``: the first panel alone; its capacity is still summed over the clusters'
    series, so ``ts`` keeps them)."""
    titles = {} if total_only else cluster_titles(ts, scenario, tr)
    panels = [("total", tr("All platforms")), *titles.items()]
    fig = make_subplots(
        rows=len(panels), cols=1, shared_xaxes=True, vertical_spacing=0.06,
        subplot_titles=[esc(t) for _, t in panels],
    )
    for i, (comp, _) in enumerate(panels, start=1):
        p = series(ts, comp, "participants")
        c = capacity_at_mix(ts, comp)  # what the nodes up hold at the minute's media mix
        _band(fig, p, "rgba(31,119,180,0.2)", row=i)
        fig.add_trace(
            go.Scatter(x=hhmm(p["t"]), y=p["value"], name=tr("participants"),
                       line={"color": BLUE, "width": 2}, legendgroup="p", showlegend=i == 1),
            row=i, col=1,
        )
        if not c.empty:
            fig.add_trace(
                go.Scatter(x=hhmm(c["t"]), y=c["value"], name=tr("capacity (nodes up)"),
                           line={"color": RED, "dash": "dash", "width": 1.5},
                           legendgroup="c", showlegend=i == 1),
                row=i, col=1,
            )
        d = series(ts, comp, "degraded_pupils")  # clusters only: pupils on overloaded nodes
        if not d.empty and d["value"].any():
            fig.add_trace(
                go.Scatter(x=hhmm(d["t"]), y=d["value"], name=tr("pupils on degraded nodes"),
                           line={"color": ORANGE, "width": 1.5}, legendgroup="d"),
                row=i, col=1,
            )
        top = [*p["value"], *(p["hi"] if "hi" in p.columns else []), *c["value"]]
        rng, step = linear_range(top, headroom=1.25)  # headroom: the fault labels sit on top
        fig.update_yaxes(range=rng, dtick=step, row=i, col=1, title_text=tr("people"),
                         title_font={"size": 11})
    _shade(fig, windows, yref="y domain", y=1.0)
    fig.update_layout(
        height=200 * len(panels) + 90,
        margin={"t": 80, "b": 30, "l": 70, "r": 20},
        title=tr("Concurrent conference participants vs capacity"),
        hovermode="x unified",
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    _time_axes(fig)
    return fig


def retry_wave(ts: pd.DataFrame, windows: Sequence[Window] = (), tr: Tr = EN) -> go.Figure:
    """Failed joins per minute by cause, all attempts, and the pupils still trying."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1, row_heights=[0.6, 0.4],
        specs=[[{"secondary_y": True}], [{}]],
        subplot_titles=[
            tr("Failed join attempts per minute (bars) and all attempts (line)"),
            tr("Pupils waiting to get in (the retry wave)"),
        ],
    )
    stack = None
    for metric, (words, color, hatch) in FAILURES.items():
        s = series(ts, "total", metric)
        if not s.empty and s["value"].any():
            fig.add_trace(
                go.Bar(x=hhmm(s["t"]), y=s["value"], name=tr(words), marker_color=color,
                       marker_line_width=0,
                       marker_pattern={"shape": hatch, "fgcolor": "#222", "size": 5,
                                       "solidity": 0.3}),
                row=1, col=1,
            )
            v = s.set_index("t")["value"]
            stack = v if stack is None else stack.add(v, fill_value=0)
    if stack is not None:
        rng, step = linear_range(stack.to_numpy(), headroom=1.2)
        fig.update_yaxes(range=rng, dtick=step, row=1, col=1, secondary_y=False)
    a = series(ts, "total", "join_attempts")
    if not a.empty:
        fig.add_trace(
            go.Scatter(x=hhmm(a["t"]), y=a["value"], name=tr("join attempts / min"),
                       line={"color": BLUE, "width": 1.5, "dash": "dot"}),
            row=1, col=1, secondary_y=True,
        )
        rng, step = linear_range(a["value"], headroom=1.2)
        fig.update_yaxes(range=rng, dtick=step, row=1, col=1, secondary_y=True)
    top: list[float] = []
    for j, (metric, label, color) in enumerate((
        ("pupils_trying", tr("trying to join (incl. back-off)"), RED),
        ("pupils_in_lobby", tr("in the lobby (room not open yet)"), GREEN),
    )):
        s = series(ts, "total", metric)
        if not s.empty:
            _band(fig, s, "rgba(214,39,40,0.15)", row=2)
            fig.add_trace(
                go.Scatter(x=hhmm(s["t"]), y=s["value"], name=label,
                           line={"color": color, "dash": DASHES[j]}),
                row=2, col=1,
            )
            top += [*s["value"], *(s["hi"] if "hi" in s.columns else [])]
    rng, step = linear_range(top, headroom=1.1)
    fig.update_yaxes(range=rng, dtick=step, title_text=tr("pupils"), row=2, col=1)
    _shade(fig, windows, yref="y domain", y=1.0)
    fig.update_layout(
        barmode="stack", bargap=0, height=580, hovermode="x unified",
        margin={"t": 60, "b": 30, "l": 70, "r": 70},
        title=tr("Failed joins and retries per minute"),
        legend={"orientation": "h", "y": -0.08},
    )
    fig.update_yaxes(title_text=tr("failures / min"), row=1, col=1, secondary_y=False)
    fig.update_yaxes(title_text=tr("attempts / min"), row=1, col=1, secondary_y=True,
                     showgrid=False)
    _time_axes(fig)
    return fig


TTJ_KPIS = (  # KPI → its bar's English msgid
    ("p50_time_to_join_s", N_("median")),
    ("p95_time_to_join_s", N_("95th pct.")),
    ("p99_time_to_join_s", N_("99th pct.")),
    ("p95_time_to_join_retried_s", N_("95th pct., pupils who retried")),
)
TTJ_FLOOR_S = 0.1  # a log axis cannot show 0 s: shorter times are drawn at 0.1 s


def ttj_names(tr: Tr = EN) -> dict[str, str]:
    return {k: tr(words) for k, words in TTJ_KPIS}


def _ttj_bar(
    kpis: dict[str, Any], intervals: dict[str, Any] | None, tr: Tr, name: str, color: str,
    hatch: str = "",
) -> tuple[go.Bar, list[float]]:
    """Bars of the time-to-join percentiles with asymmetric 95 % error bars kept above 0."""
    names = ttj_names(tr)
    ks = [k for k, _ in TTJ_KPIS if kpis.get(k) is not None and np.isfinite(kpis[k])]
    vals = [max(float(kpis[k]), TTJ_FLOOR_S) for k in ks]
    plus, minus = [], []
    for k, v in zip(ks, vals, strict=True):
        iv = (intervals or {}).get(k)
        if iv is not None and getattr(iv, "meaningful", False) and np.isfinite(iv.hi):
            plus.append(max(0.0, iv.hi - v))
            minus.append(max(0.0, min(v - TTJ_FLOOR_S, v - iv.lo)))
        else:
            plus.append(0.0)
            minus.append(0.0)
    bar = go.Bar(
        x=[names[k] for k in ks], y=vals, name=name, marker_color=color,
        marker_pattern={"shape": hatch, "fgcolor": "#222", "size": 6, "solidity": 0.25},
        error_y={"type": "data", "array": plus, "arrayminus": minus, "visible": any(plus)},
        text=[tr.seconds(v, 1) for v in vals], textposition="outside",
        hovertemplate="%{x}: %{y:.1f} s<extra></extra>",
    )
    drawn = [*vals, *(v + p for v, p in zip(vals, plus, strict=True))]
    return bar, drawn


def time_to_join(
    kpis: dict[str, Any],
    intervals: dict[str, Any] | None = None,
    hist: dict[str, Any] | None = None,
    label: str = "",
    tr: Tr = EN,
) -> go.Figure:
    """Time-to-join distribution: a histogram if the run recorded one, else its percentiles
    on a log axis with the 2-minute target."""
    fig = go.Figure()
    if hist and hist.get("edges_s") and hist.get("counts"):
        edges = np.asarray(hist["edges_s"], dtype=float)
        counts = np.asarray(hist["counts"], dtype=float)
        share = counts / max(1.0, counts.sum())
        fig.add_trace(go.Bar(x=[f"{a:g}–{b:g} s" for a, b in itertools.pairwise(edges)],
                             y=share, marker_color=BLUE, name=tr("pupil-meetings")))
        fig.update_layout(yaxis={"title": tr("share of pupil-meetings that got in"),
                                 "tickformat": ".0%"})
    else:
        bar, drawn = _ttj_bar(kpis, intervals, tr, esc(label) or tr("time to join"), BLUE)
        fig.add_trace(bar)
        fig.add_hline(y=120.0, line_dash="dot", line_color=RED, line_width=2,
                      annotation_text=tr("2-minute target"), annotation_position="top left")
        fig.update_layout(yaxis={"title": tr("seconds (log scale)"),
                                 **log_axis([*drawn, 120.0], TTJ_FLOOR_S)})
    fig.update_layout(
        height=360, margin={"t": 50, "b": 40, "l": 70, "r": 20}, showlegend=False,
        title=tr("Time to join: from the later of first attempt and lesson start to getting in"),
    )
    return fig


def frontends(ts: pd.DataFrame, scenario: Any = None, tr: Tr = EN) -> go.Figure:
    """Requests waiting at login services and school servers, and logins per minute."""
    fig = go.Figure()
    comps = sorted(
        str(c) for c in ts["component"].unique()
        if str(c).startswith(("frontend:", "school_servers:"))
    )
    top: list[float] = []
    for j, comp in enumerate(comps):
        s = series(ts, comp, "queue_length")
        fig.add_trace(go.Scatter(
            x=hhmm(s["t"]), y=s["value"], name=esc(L.component(comp, tr, scenario)),
            line={"color": LINE_COLOURS[j % len(LINE_COLOURS)], "dash": DASHES[j % len(DASHES)]},
        ))
        top += list(s["value"])
    lg = series(ts, "total", "login_attempts")
    y2: dict[str, Any] = {"title": tr("logins / min"), "overlaying": "y", "side": "right",
                          "showgrid": False}
    if not lg.empty:
        fig.add_trace(go.Scatter(x=hhmm(lg["t"]), y=lg["value"], name=tr("login attempts / min"),
                                 line={"dash": "dot", "color": GREY, "width": 1}, yaxis="y2"))
        rng, step = linear_range(lg["value"], headroom=1.1)
        y2 |= {"range": rng, "dtick": step}
    rng, step = linear_range(top, headroom=1.1)
    fig.update_layout(
        height=360, margin={"t": 50, "b": 30, "l": 70, "r": 70}, hovermode="x unified",
        title=tr("Requests waiting at login services and school servers"),
        yaxis={"title": tr("waiting requests"), "range": rng, "dtick": step},
        yaxis2=y2, legend={"orientation": "h", "y": -0.15},
    )
    _time_axes(fig)
    return fig


BREAKDOWNS = ("school_type", "region", "platform")  # columns, named by labels.column


def breakdown(schools: pd.DataFrame, scenario: Any = None, tr: Tr = EN) -> go.Figure:
    """Lost pupil-minutes per pupil by school type, region and platform (one panel each)."""
    present = [c for c in BREAKDOWNS if c in schools.columns]
    sizes = [schools[c].nunique() for c in present] or [1]
    fig = make_subplots(
        rows=max(1, len(present)), cols=1, vertical_spacing=0.08,
        row_heights=[max(2, n) for n in sizes],
        subplot_titles=[tr("by {what}", what=L.column(c, tr)) for c in present],
    )
    if "lost_pupil_minutes" not in schools.columns:
        return fig
    for j, col in enumerate(present, start=1):
        g = (schools.groupby(col, observed=True)
             .agg(pupils=("pupils", "sum"), lost=("lost_pupil_minutes", "sum")))
        per = (g["lost"] / g["pupils"].clip(lower=1)).sort_values()
        fig.add_trace(
            go.Bar(y=[esc(L.value_label(col, i, tr, scenario)) for i in per.index], x=per,
                   orientation="h", marker_color=RED,
                   marker_pattern={"shape": "/", "fgcolor": "#222", "size": 5, "solidity": 0.2},
                   name=tr("lost min / pupil"), showlegend=False,
                   hovertemplate="%{y}: %{x:.2f} min<extra></extra>"),
            row=j, col=1,
        )
        rng, step = linear_range(per.to_numpy(), headroom=1.1)
        fig.update_xaxes(range=rng, dtick=step, row=j, col=1)
    fig.update_layout(
        height=120 + 26 * sum(max(2, n) for n in sizes), showlegend=False,
        margin={"t": 60, "b": 40, "l": 250, "r": 20},
        title=tr("Lost pupil-minutes per pupil, by group"),
    )
    fig.update_xaxes(title_text=tr("min / pupil"), row=len(present), col=1)
    return fig


def affected_schools(schools: pd.DataFrame, tr: Tr = EN) -> go.Figure:
    """Each school's share of pupils who lost > 15 minutes, by how the school is served."""
    fig = go.Figure()
    need = {"intending_pupils", "pupils_lost_over_15min", "server"}
    if not need <= set(schools.columns):
        return fig
    s = schools[schools["intending_pupils"] > 0]
    share = s["pupils_lost_over_15min"] / s["intending_pupils"]
    counts: list[float] = []
    bins = np.linspace(0, 1.0001, 41)
    for j, t in enumerate(sorted(s["server"].unique())):
        sel = share[s["server"] == t]
        counts += list(np.histogram(sel, bins=bins)[0])
        fig.add_trace(go.Histogram(
            x=sel, name=esc(L.tier(t, tr)), marker_color=LINE_COLOURS[j % len(LINE_COLOURS)],
            marker_pattern={"shape": ("", "/", "x", ".")[j % 4], "fgcolor": "#222", "size": 5,
                            "solidity": 0.3},
            xbins={"start": 0, "end": 1.0001, "size": 0.025},
        ))
    fig.add_vline(x=0.10, line_dash="dot", line_color=RED,
                  annotation_text=tr("affected: > 10 %"), annotation_position="top right")
    total = np.histogram(share, bins=bins)[0]
    fig.update_layout(
        barmode="stack", height=340, margin={"t": 50, "b": 40, "l": 70, "r": 20},
        title=tr("Schools by share of their pupils who lost more than 15 minutes"),
        xaxis={"title": tr("share of the school's pupils"), "tickformat": ".0%",
               "range": [0, 1]},
        yaxis={"title": tr("schools (log scale)"), **log_axis([*total[total > 0]], 0.8)},
        legend={"title": {"text": tr("school server")}},
    )
    return fig
