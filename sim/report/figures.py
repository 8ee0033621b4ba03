"""Plotly figures of one run (also used by the comparison report and the notebooks).

Every function takes tidy frames (``t``, ``component``, ``metric``, ``value`` [, ``lo``,
``hi``]) or the schools frame and returns a ``go.Figure``; labels that come from user text are
escaped (plotly renders a subset of HTML in labels).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.report.layout import esc

BLUE, RED, ORANGE, PURPLE, GREY, GREEN = (
    "#1f77b4",
    "#d62728",
    "#ff7f0e",
    "#9467bd",
    "#7f7f7f",
    "#2ca02c",
)
FAILURES = {
    "refused_capacity": ("refused: capacity", RED),
    "failed_frontend": ("failed: front end / school server", ORANGE),
    "failed_dispatcher": ("failed: dispatcher", PURPLE),
    "gave_up": ("gave up", GREY),
}


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


def fault_windows(scenario: Any) -> list[Window]:
    """The scenario's time-windowed faults and their staged repairs (faults triggered by a
    condition, such as overload crashes, have no window to shade)."""
    if scenario is None:
        return []
    day_start, day_end = float(scenario.day.start), float(scenario.day.end)
    out = []
    for f in getattr(scenario, "faults", None) or []:
        if getattr(f, "kind", "") == "overload_crash":
            continue
        start = max(float(getattr(f, "start", 0.0) or 0.0), day_start)
        end = float(getattr(f, "end", None) or day_end)
        label = getattr(f, "label", "") or str(getattr(f, "kind", "fault")).replace("_", " ")
        out.append(Window(start, end, label))
        stages = int(getattr(f, "repair_stages", 1) or 1)
        step_s = 60.0 * float(getattr(f, "repair_interval_min", 0.0) or 0.0)
        if stages > 1 and step_s > 0:
            out.append(
                Window(
                    end,
                    min(end + (stages - 1) * step_s, day_end),
                    f"repaired in {stages} stages",
                    repair=True,
                )
            )
    return out


def _shade(fig: go.Figure, windows: Sequence[Window]) -> None:
    """Shade fault windows in every panel (staged repairs lighter); label them once, at the top
    of the first panel."""
    for w in windows:
        x0, x1 = hhmm([w.start_s])[0], hhmm([w.end_s])[0]
        alpha = 0.04 if w.repair else 0.09
        fig.add_vrect(x0=x0, x1=x1, fillcolor=f"rgba(214,39,40,{alpha})", line_width=0)
        fig.add_annotation(
            x=x0,
            y=1.0,
            xref="x",
            yref="paper",
            yanchor="top",
            xanchor="left",
            text=esc(w.label),
            showarrow=False,
            font={"size": 10, "color": "#b3261e"},
        )


def _band(fig: go.Figure, s: pd.DataFrame, rgba: str, row: int | None = None) -> None:
    """The 95 % band of a replicated series (``lo``/``hi`` columns), if there is one."""
    if "lo" not in s.columns or s.empty or not (s["hi"] - s["lo"]).abs().gt(0).any():
        return
    kw: dict[str, Any] = {"row": row, "col": 1} if row else {}
    x = hhmm(s["t"])
    fig.add_trace(
        go.Scatter(x=x, y=s["hi"], line={"width": 0}, showlegend=False, hoverinfo="skip"), **kw
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=s["lo"],
            line={"width": 0},
            fill="tonexty",
            fillcolor=rgba,
            showlegend=False,
            hoverinfo="skip",
        ),
        **kw,
    )


def _time_axes(fig: go.Figure) -> None:
    fig.update_xaxes(tickformat="%H:%M")


def cluster_titles(ts: pd.DataFrame, scenario: Any = None) -> dict[str, str]:
    """``cluster:<name>`` → "platform label · cluster" (cluster name only without a scenario)."""
    comps = sorted(str(c) for c in ts["component"].unique() if str(c).startswith("cluster:"))
    owner: dict[str, str] = {}
    if scenario is not None:
        for p in scenario.platforms:
            for c in p.clusters:
                owner[c.name] = p.label or p.name
    return {c: (f"{owner[c[8:]]} · {c[8:]}" if c[8:] in owner else c[8:]) for c in comps}


def capacity_timeline(
    ts: pd.DataFrame, scenario: Any = None, windows: Sequence[Window] = ()
) -> go.Figure:
    """Concurrent participants vs capacity: all platforms, then each platform's cluster."""
    titles = cluster_titles(ts, scenario)
    panels = [("total", "All platforms"), *titles.items()]
    fig = make_subplots(
        rows=len(panels),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.05,
        subplot_titles=[esc(t) for _, t in panels],
    )
    for i, (comp, _) in enumerate(panels, start=1):
        p = series(ts, comp, "participants")
        c = series(ts, comp, "capacity_participants")
        _band(fig, p, "rgba(31,119,180,0.2)", row=i)
        fig.add_trace(
            go.Scatter(
                x=hhmm(p["t"]),
                y=p["value"],
                name="participants",
                line={"color": BLUE},
                legendgroup="p",
                showlegend=i == 1,
            ),
            row=i,
            col=1,
        )
        if not c.empty:
            fig.add_trace(
                go.Scatter(
                    x=hhmm(c["t"]),
                    y=c["value"],
                    name="capacity",
                    line={"color": RED, "dash": "dash"},
                    legendgroup="c",
                    showlegend=i == 1,
                ),
                row=i,
                col=1,
            )
    _shade(fig, windows)
    fig.update_layout(
        height=190 * len(panels) + 90,
        margin={"t": 70, "b": 30, "l": 60, "r": 20},
        title="Concurrent conference participants vs capacity (people)",
        hovermode="x unified",
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    _time_axes(fig)
    return fig


def retry_wave(ts: pd.DataFrame, windows: Sequence[Window] = ()) -> go.Figure:
    """Failed joins per minute by cause, all attempts, and the pupils still trying."""
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        row_heights=[0.6, 0.4],
        specs=[[{"secondary_y": True}], [{}]],
        subplot_titles=[
            "Failed join attempts per minute (bars) and all attempts (line)",
            "Pupils waiting to get in (the retry wave)",
        ],
    )
    for metric, (label, color) in FAILURES.items():
        s = series(ts, "total", metric)
        if not s.empty and s["value"].any():
            fig.add_trace(
                go.Bar(
                    x=hhmm(s["t"]),
                    y=s["value"],
                    name=label,
                    marker_color=color,
                    marker_line_width=0,
                ),
                row=1,
                col=1,
            )
    a = series(ts, "total", "join_attempts")
    if not a.empty:
        fig.add_trace(
            go.Scatter(
                x=hhmm(a["t"]),
                y=a["value"],
                name="join attempts / min",
                line={"color": BLUE, "width": 1.5},
            ),
            row=1,
            col=1,
            secondary_y=True,
        )
    for metric, label, color in (
        ("pupils_trying", "trying to join (incl. back-off)", RED),
        ("pupils_in_lobby", "in the lobby (room not open yet)", GREEN),
    ):
        s = series(ts, "total", metric)
        if not s.empty:
            _band(fig, s, "rgba(214,39,40,0.15)", row=2)
            fig.add_trace(
                go.Scatter(x=hhmm(s["t"]), y=s["value"], name=label, line={"color": color}),
                row=2,
                col=1,
            )
    _shade(fig, windows)
    fig.update_layout(
        barmode="stack",
        bargap=0,
        height=560,
        hovermode="x unified",
        margin={"t": 60, "b": 30, "l": 60, "r": 60},
        title="Failed joins and retries per minute",
        legend={"orientation": "h", "y": -0.08},
    )
    fig.update_yaxes(title_text="failures / min", row=1, col=1, secondary_y=False)
    fig.update_yaxes(
        title_text="attempts / min",
        row=1,
        col=1,
        secondary_y=True,
        showgrid=False,
        rangemode="tozero",
    )
    fig.update_yaxes(title_text="pupils", row=2, col=1, rangemode="tozero")
    _time_axes(fig)
    return fig


TTJ_KPIS = (
    ("p50_time_to_join_s", "median"),
    ("p95_time_to_join_s", "95th pct."),
    ("p99_time_to_join_s", "99th pct."),
    ("p95_time_to_join_retried_s", "95th pct., pupils who retried"),
)


def time_to_join(
    kpis: dict[str, Any],
    ci: dict[str, Any] | None = None,
    hist: dict[str, Any] | None = None,
    label: str = "",
) -> go.Figure:
    """Time-to-join distribution: a histogram if the run recorded one, else its percentiles."""
    fig = go.Figure()
    if hist and hist.get("edges_s") and hist.get("counts"):
        edges = np.asarray(hist["edges_s"], dtype=float)
        counts = np.asarray(hist["counts"], dtype=float)
        share = counts / max(1.0, counts.sum())
        fig.add_trace(
            go.Bar(
                x=[f"{a:g}–{b:g} s" for a, b in itertools.pairwise(edges)],
                y=share,
                marker_color=BLUE,
                name="pupil-meetings",
            )
        )
        fig.update_layout(
            yaxis={"title": "share of pupil-meetings that got in", "tickformat": ".0%"}
        )
    else:
        names = [k for k, _ in TTJ_KPIS if kpis.get(k) is not None]
        vals = [max(float(kpis[k]), 0.05) for k in names]
        errs = [float((ci or {}).get(k) or 0.0) for k in names]
        fig.add_trace(
            go.Bar(
                x=[dict(TTJ_KPIS)[k] for k in names],
                y=vals,
                marker_color=BLUE,
                name=esc(label) or "time to join",
                error_y={"type": "data", "array": errs, "visible": any(errs)},
                text=[f"{v:,.1f} s" for v in vals],
                textposition="outside",
            )
        )
        top = max([*vals, 120.0]) * 3
        fig.add_trace(
            go.Scatter(
                x=[dict(TTJ_KPIS)[k] for k in names],
                y=[120.0] * len(names),
                mode="lines",
                line={"color": RED, "dash": "dot"},
                name="2-minute target",
            )
        )
        fig.update_layout(
            yaxis={
                "title": "seconds (log scale)",
                "type": "log",
                "range": [np.log10(0.05), np.log10(top)],
            },
            legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        )
    fig.update_layout(
        height=340,
        margin={"t": 50, "b": 40, "l": 60, "r": 20},
        title="Time to join: from the later of first attempt and lesson start to getting in",
    )
    return fig


def frontends(ts: pd.DataFrame) -> go.Figure:
    """Requests waiting at login services and school servers, and logins per minute."""
    fig = go.Figure()
    comps = sorted(
        str(c)
        for c in ts["component"].unique()
        if str(c).startswith(("frontend:", "school_servers:"))
    )
    for comp in comps:
        s = series(ts, comp, "queue_length")
        fig.add_trace(go.Scatter(x=hhmm(s["t"]), y=s["value"], name=esc(f"{comp} queue")))
    lg = series(ts, "total", "login_attempts")
    if not lg.empty:
        fig.add_trace(
            go.Scatter(
                x=hhmm(lg["t"]),
                y=lg["value"],
                name="login attempts / min",
                line={"dash": "dot", "color": GREY},
                yaxis="y2",
            )
        )
    fig.update_layout(
        height=340,
        margin={"t": 50, "b": 30, "l": 60, "r": 60},
        hovermode="x unified",
        title="Front ends: requests waiting (login services, school servers)",
        yaxis={"title": "waiting requests"},
        yaxis2={"title": "logins / min", "overlaying": "y", "side": "right", "showgrid": False},
        legend={"orientation": "h", "y": -0.2},
    )
    _time_axes(fig)
    return fig


BREAKDOWNS = (("school_type", "school type"), ("region", "region"), ("platform", "platform"))


def breakdown(schools: pd.DataFrame) -> go.Figure:
    """Lost pupil-minutes per pupil and share of pupil-meetings given up, by group."""
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=[f"by {t}" for _, t in BREAKDOWNS], horizontal_spacing=0.12
    )
    if "lost_pupil_minutes" not in schools.columns:
        return fig
    for j, (col, _) in enumerate(BREAKDOWNS, start=1):
        if col not in schools.columns:
            continue
        g = (
            schools.groupby(col, observed=True)
            .agg(pupils=("pupils", "sum"), lost=("lost_pupil_minutes", "sum"))
            .sort_index()
        )
        per = g["lost"] / g["pupils"].clip(lower=1)
        fig.add_trace(
            go.Bar(
                y=[esc(i) for i in g.index],
                x=per,
                orientation="h",
                marker_color=RED,
                name="lost min / pupil",
                showlegend=False,
                hovertemplate="%{y}: %{x:.2f} min per pupil<extra></extra>",
            ),
            row=1,
            col=j,
        )
    fig.update_layout(
        height=360,
        margin={"t": 60, "b": 40, "l": 110, "r": 20},
        title="Lost pupil-minutes per pupil, by group",
    )
    fig.update_xaxes(title_text="min / pupil", rangemode="tozero")
    return fig


def affected_schools(schools: pd.DataFrame) -> go.Figure:
    """Each school's share of pupils who lost > 15 minutes, by how the school is served."""
    fig = go.Figure()
    need = {"intending_pupils", "pupils_lost_over_15min", "server"}
    if not need <= set(schools.columns):
        return fig
    s = schools[schools["intending_pupils"] > 0]
    share = s["pupils_lost_over_15min"] / s["intending_pupils"]
    for tier, color in zip(
        sorted(s["server"].unique()), (BLUE, ORANGE, RED, PURPLE, GREEN), strict=False
    ):
        sel = share[s["server"] == tier]
        fig.add_trace(
            go.Histogram(
                x=sel,
                name=esc(tier),
                marker_color=color,
                xbins={"start": 0, "end": 1.0001, "size": 0.025},
            )
        )
    fig.add_vline(
        x=0.10,
        line_dash="dot",
        line_color=RED,
        annotation_text="affected: > 10 %",
        annotation_position="top right",
    )
    fig.update_layout(
        barmode="stack",
        height=320,
        margin={"t": 50, "b": 40, "l": 60, "r": 20},
        title="Schools by share of their pupils who lost more than 15 minutes",
        xaxis={"title": "share of the school's pupils", "tickformat": ".0%"},
        yaxis={"title": "schools", "type": "log"},
        legend={"title": {"text": "server"}},
    )
    return fig
