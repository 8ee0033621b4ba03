"""Self-contained HTML report: plotly inline (works offline, one file), user text escaped.

Sections: scenario and assumptions, KPI table (with 95 % CIs for replications), concurrent
participants vs capacity per cluster, failed joins and retries per minute, front-end and
school-server queues, logins, breakdown by school type / region / platform, provenance.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.io import write_text
from sim.metrics import KPI_NAMES

if TYPE_CHECKING:
    from sim.results import Results

KPI_LABELS = {
    "join_attempts": ("Join attempts (pupils)", "{:,.0f}"),
    "joins_succeeded": ("Successful joins", "{:,.0f}"),
    "join_success_rate": ("Pupil-meetings that got in", "{:.2%}"),
    "p50_time_to_join_s": ("Median time to join", "{:,.1f} s"),
    "p95_time_to_join_s": ("95th pct. time to join", "{:,.1f} s"),
    "p99_time_to_join_s": ("99th pct. time to join", "{:,.1f} s"),
    "p95_time_to_join_retried_s": ("95th pct. time to join, pupils who retried", "{:,.1f} s"),
    "gave_up": ("Pupil-meetings given up", "{:,.0f}"),
    "lost_pupil_minutes": ("Lost pupil-minutes", "{:,.0f}"),
    "peak_concurrent_participants": ("Peak concurrent participants", "{:,.0f}"),
    "peak_node_utilisation": ("Peak node utilisation", "{:.1%}"),
    "blocking_probability": ("Blocking probability (capacity)", "{:.3%}"),
    "affected_schools_share": ("Schools affected (>10 % lost >15 min)", "{:.2%}"),
}

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2733;
background:#f6f7f9}
main{max-width:1150px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.2em;margin-top:2em;border-bottom:2px solid #e3e6ea;
padding-bottom:4px}.muted{color:#5b6775}.lead{font-size:1.05em}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:.92em}
th,td{padding:5px 8px;border-bottom:1px solid #e8eaee;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:10px;margin:12px 0}
.kpi{border:1px solid #e3e6ea;border-radius:6px;padding:10px 12px}
.kpi .v{font-size:1.35em;font-weight:600}.kpi .l{font-size:.85em;color:#5b6775}
.warn{background:#fff4e5;border-left:4px solid #f0a030;padding:8px 12px}
.ok{background:#eaf7ee;border-left:4px solid #3a9d5d;padding:8px 12px}
code{font-size:.9em}
"""


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _fmt(name: str, value: float | None) -> str:
    if value is None:
        return "–"
    fmt = KPI_LABELS.get(name, (name, "{:,.4g}"))[1]
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return _esc(value)


def _hhmm(t: pd.Series) -> pd.Series:
    return pd.to_datetime("2021-01-13") + pd.to_timedelta(t, unit="s")


def _series(ts: pd.DataFrame, component: str, metric: str) -> pd.DataFrame:
    return ts[(ts["component"] == component) & (ts["metric"] == metric)].sort_values("t")


def _fig_capacity(ts: pd.DataFrame) -> go.Figure:
    clusters = sorted(c for c in ts["component"].unique() if str(c).startswith("cluster:"))
    fig = make_subplots(
        rows=len(clusters) or 1,
        cols=1,
        shared_xaxes=True,
        subplot_titles=[c.split(":", 1)[1] for c in clusters],
        vertical_spacing=0.08,
    )
    for i, comp in enumerate(clusters, start=1):
        p = _series(ts, comp, "participants")
        c = _series(ts, comp, "capacity_participants")
        fig.add_trace(
            go.Scatter(
                x=_hhmm(p["t"]),
                y=p["value"],
                name="participants",
                line={"color": "#1f77b4"},
                legendgroup="p",
                showlegend=i == 1,
            ),
            row=i,
            col=1,
        )
        if "lo" in p.columns:
            fig.add_trace(
                go.Scatter(
                    x=_hhmm(p["t"]),
                    y=p["hi"],
                    line={"width": 0},
                    showlegend=False,
                    hoverinfo="skip",
                ),
                row=i,
                col=1,
            )
            fig.add_trace(
                go.Scatter(
                    x=_hhmm(p["t"]),
                    y=p["lo"],
                    line={"width": 0},
                    fill="tonexty",
                    fillcolor="rgba(31,119,180,0.2)",
                    showlegend=False,
                    hoverinfo="skip",
                ),
                row=i,
                col=1,
            )
        fig.add_trace(
            go.Scatter(
                x=_hhmm(c["t"]),
                y=c["value"],
                name="capacity (participants)",
                line={"color": "#d62728", "dash": "dash"},
                legendgroup="c",
                showlegend=i == 1,
            ),
            row=i,
            col=1,
        )
    fig.update_layout(
        height=260 * max(1, len(clusters)),
        margin={"t": 40, "b": 30},
        title="Concurrent participants vs capacity, per conference cluster",
        hovermode="x unified",
    )
    fig.update_xaxes(tickformat="%H:%M")
    return fig


def _fig_failures(ts: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    colors = {
        "refused_capacity": "#d62728",
        "failed_frontend": "#ff7f0e",
        "failed_dispatcher": "#9467bd",
        "gave_up": "#7f7f7f",
    }
    for metric, color in colors.items():
        s = _series(ts, "total", metric)
        if not s.empty:
            fig.add_trace(
                go.Bar(
                    x=_hhmm(s["t"]), y=s["value"], name=metric.replace("_", " "), marker_color=color
                )
            )
    a = _series(ts, "total", "join_attempts")
    if not a.empty:
        fig.add_trace(
            go.Scatter(
                x=_hhmm(a["t"]),
                y=a["value"],
                name="join attempts",
                line={"color": "#1f77b4"},
                yaxis="y2",
            )
        )
    fig.update_layout(
        barmode="stack",
        height=380,
        margin={"t": 40, "b": 30},
        title="Failed joins per minute (bars) and all join attempts (line)",
        yaxis={"title": "failures / min"},
        yaxis2={"title": "attempts / min", "overlaying": "y", "side": "right", "showgrid": False},
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.15},
    )
    fig.update_xaxes(tickformat="%H:%M")
    return fig


def _fig_frontends(ts: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    comps = sorted(
        c for c in ts["component"].unique() if str(c).startswith(("frontend:", "school_servers:"))
    )
    for comp in comps:
        s = _series(ts, comp, "queue_length")
        fig.add_trace(go.Scatter(x=_hhmm(s["t"]), y=s["value"], name=f"{comp} queue"))
    lg = _series(ts, "total", "login_attempts")
    if not lg.empty:
        fig.add_trace(
            go.Scatter(
                x=_hhmm(lg["t"]),
                y=lg["value"],
                name="login attempts / min",
                line={"dash": "dot"},
                yaxis="y2",
            )
        )
    fig.update_layout(
        height=340,
        margin={"t": 40, "b": 30},
        title="Front ends: requests waiting (login services, school servers)",
        yaxis={"title": "waiting requests"},
        yaxis2={"title": "logins / min", "overlaying": "y", "side": "right", "showgrid": False},
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.2},
    )
    fig.update_xaxes(tickformat="%H:%M")
    return fig


def _breakdown(schools: pd.DataFrame, by: str) -> str:
    if "pupil_meetings" not in schools.columns:
        return ""
    g = schools.groupby(by, observed=True).agg(
        schools=("school", "size"),
        pupils=("pupils", "sum"),
        pupil_meetings=("pupil_meetings", "sum"),
        gave_up=("gave_up", "sum"),
        lost_min=("lost_pupil_minutes", "sum"),
        affected=("affected", "sum"),
    )
    rows = []
    for key, r in g.iterrows():
        gave = r["gave_up"] / r["pupil_meetings"] if r["pupil_meetings"] else 0.0
        rows.append(
            f"<tr><td>{_esc(key)}</td><td class=num>{int(r['schools']):,}</td>"
            f"<td class=num>{int(r['pupils']):,}</td>"
            f"<td class=num>{int(r['pupil_meetings']):,}</td>"
            f"<td class=num>{gave:.2%}</td><td class=num>{r['lost_min']:,.0f}</td>"
            f"<td class=num>{int(r['affected']):,}</td></tr>"
        )
    return (
        f"<table><tr><th>{_esc(by.replace('_', ' '))}</th><th class=num>schools</th>"
        "<th class=num>pupils</th><th class=num>pupil-meetings</th><th class=num>gave up</th>"
        "<th class=num>lost pupil-min</th><th class=num>affected schools</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def render_report(results: Results) -> str:
    """The report as one HTML string."""
    summary = results.summary
    sc = results.scenario
    ts = results.timeseries
    kpis = summary["kpis"]
    ci = summary.get("kpis_ci95", {})
    det = summary["details"]
    prov = summary["provenance"]

    cards = []
    for k in KPI_NAMES:
        label = KPI_LABELS[k][0]
        v = _fmt(k, kpis.get(k))
        if ci.get(k):
            v += f" <span class=muted>± {_fmt(k, ci[k])}</span>"
        cards.append(
            f"<div class=kpi><div class=v>{v}</div><div class=l>{_esc(label)}"
            f"<br><code>{k}</code></div></div>"
        )
    ok = kpis["join_success_rate"] >= 0.99 and kpis["p95_time_to_join_s"] <= 120
    verdict = (
        "<p class=ok>Service target met: ≥ 99 % of pupil-meetings got in and 95 % did so "
        "within 2 minutes.</p>"
        if ok
        else "<p class=warn>Service target <b>not</b> met (≥ 99 % of pupil-meetings in, 95 % "
        "within 2 minutes). See failures and queues below.</p>"
    )
    figs = [_fig_capacity(ts), _fig_failures(ts), _fig_frontends(ts)]
    fig_html = []
    for i, f in enumerate(figs):
        fig_html.append(
            f.to_html(
                full_html=False,
                include_plotlyjs=(i == 0),
                config={"displaylogo": False, "responsive": True},
            )
        )
    details_rows = "".join(
        f"<tr><td>{_esc(k.replace('_', ' '))}</td><td class=num>{_esc(_plain(v))}</td></tr>"
        for k, v in det.items()
        if not isinstance(v, dict)
    )
    fe_rows = "".join(
        f"<tr><td>{_esc(name)}</td><td class=num>{s['arrivals']:,}</td>"
        f"<td class=num>{s['timed_out']:,}</td><td class=num>{s['waited_share']:.2%}</td>"
        f"<td class=num>{s['mean_wait_s']:.2f} s</td></tr>"
        for name, s in det.get("frontends", {}).items()
    )
    schools = results.schools
    prov_rows = "".join(
        f"<tr><td>{_esc(k)}</td><td><code>{_esc(v)}</code></td></tr>" for k, v in prov.items()
    )
    assumptions = _assumptions(sc)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dlsim report – {_esc(sc.name)}</title><style>{_CSS}</style></head>
<body><main>
<p class=muted>dlsim · distance-learning infrastructure load</p>
<h1>{_esc(sc.name)}</h1>
<p class=lead>{_esc(sc.description)}</p>
<p class=muted>{det.get("schools", 0):,} schools · {det.get("pupils", 0):,} pupils
({det.get("pupils_at_home", 0):,} at home) · {det.get("meetings", 0):,} video meetings ·
{summary["replications"]} replication(s) · population scale {sc.population.scale:g}</p>
{verdict}
<h2>Key figures</h2>
<div class=kpis>{"".join(cards)}</div>
<h2>Conference capacity</h2>
{fig_html[0]}
<h2>Failed joins and retries</h2>
<p class=muted>Every failed attempt is retried after a back-off until the pupil's patience
({sc.behaviour.patience_s / 60:g} min) runs out; retries are what turns a fault into a
storm.</p>
{fig_html[1]}
<h2>Front ends</h2>
{fig_html[2]}
<table><tr><th>platform front end</th><th class=num>requests</th><th class=num>timed out</th>
<th class=num>had to wait</th><th class=num>mean wait</th></tr>{fe_rows}</table>
<h2>Breakdown</h2>
<h3>By school type</h3>{_breakdown(schools, "school_type")}
<h3>By platform</h3>{_breakdown(schools, "platform")}
<h3>By school server</h3>{_breakdown(schools, "server")}
<h3>By region</h3>{_breakdown(schools, "region")}
<h2>Assumptions</h2>
{assumptions}
<p class=muted>Every default figure and its source is listed in <code>data/SOURCES.md</code>.</p>
<h2>More figures</h2>
<table>{details_rows}</table>
<h2>Provenance</h2>
<table>{prov_rows}</table>
</main></body></html>
"""


def _plain(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e6 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _assumptions(sc: Any) -> str:
    tt, beh = sc.timetable, sc.behaviour
    items = [
        f"Pupils at home: {sc.population.at_home_share:.0%} (Szenario C).",
        f"First period {int(tt.first_period_start // 3600):02d}:"
        f"{int(tt.first_period_start % 3600 // 60):02d}, {tt.periods} periods of "
        f"{tt.period_min:g} min.",
        f"Video check-in for years {tt.checkin.min_year}–{tt.checkin.max_year}: "
        f"{tt.checkin.video_share:.0%} of classes, {tt.checkin.duration_min:g} min"
        + ("" if tt.checkin.enabled else " (disabled)")
        + ".",
        f"Live video lesson share per period: {tt.live_lesson_share:.0%} of classes "
        "(by type where set).",
        f"Attendance {beh.attendance:.0%}; webcams: pupils {beh.webcam_share_pupils:.0%}, "
        f"teachers {beh.webcam_share_teachers:.0%}; reconnects {beh.reconnect_per_h:g}/h.",
        f"Back-off {beh.backoff_initial_s:g} s × {beh.backoff_factor:g}^k (max "
        f"{beh.backoff_max_s:g} s), patience {beh.patience_s / 60:g} min.",
    ]
    for p in sc.platforms:
        cl = ", ".join(
            f"{c.name}: {c.nodes} nodes × ~{c.node_max_participants} "
            f"participants / {c.node_capacity_mbit_s:g} Mbit/s"
            for c in p.clusters
        )
        items.append(
            f"Platform {p.name}: front end {p.frontend.workers} workers; "
            f"dispatcher {p.dispatcher.policy}; {cl}."
        )
    return "<ul>" + "".join(f"<li>{_esc(i)}</li>" for i in items) + "</ul>"


def write_report(results: Results, path: str | Path) -> Path:
    return write_text(path, render_report(results))
