"""The report of one scenario (one or more replications): what a capacity decision needs.

Sections: verdict and key figures (95 % CIs with replications), participants vs capacity per
platform and cluster, the retry wave, time to join, front ends, breakdowns by school type /
region / platform / server, affected schools, assumptions with sources, provenance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go

from sim.metrics import KPI_NAMES
from sim.report import figures as F
from sim.report.assumptions import assumptions_html, sources_appendix
from sim.report.data import RunData, as_run_data
from sim.report.layout import (
    embed,
    esc,
    fmt_kpi,
    kpi_label,
    page,
    plain,
    table,
    verdict,
)

if TYPE_CHECKING:
    from sim.results import Results

HEADLINE = (
    "join_success_rate",
    "p95_time_to_join_s",
    "lost_pupil_minutes",
    "peak_concurrent_participants",
    "peak_node_utilisation",
    "affected_schools_share",
)


def run_figures(data: Results | RunData) -> dict[str, go.Figure]:
    """The report's figures by name, in page order (also what ``--png`` exports)."""
    d = as_run_data(data)
    windows = F.fault_windows(d.scenario)
    figs = {
        "capacity": F.capacity_timeline(d.timeseries, d.scenario, windows),
        "retry_wave": F.retry_wave(d.timeseries, windows),
        "time_to_join": F.time_to_join(d.kpis, d.ci, d.details.get("time_to_join_hist")),
        "front_ends": F.frontends(d.timeseries),
    }
    if "lost_pupil_minutes" in d.schools.columns:
        figs["breakdown"] = F.breakdown(d.schools)
    if {"intending_pupils", "pupils_lost_over_15min", "server"} <= set(d.schools.columns):
        figs["affected_schools"] = F.affected_schools(d.schools)
    return figs


def kpi_table(kpis: dict[str, Any], ci: dict[str, Any], n: int) -> str:
    """All KPIs with their 95 % confidence intervals (over replications)."""
    rows = []
    for k in KPI_NAMES:
        v, h = kpis.get(k), ci.get(k) or 0.0
        row = [esc(kpi_label(k)), f"<code>{esc(k)}</code>", esc(fmt_kpi(k, v))]
        if n > 1:
            band = f"{fmt_kpi(k, v - h)} – {fmt_kpi(k, v + h)}" if v is not None else "–"
            row += [esc(f"± {fmt_kpi(k, h)}"), esc(band)]
        rows.append(row)
    if n == 1:
        return table(["KPI", "name", "value"], rows, num=(2,), raw=True) + (
            "<p class=muted>One replication: no confidence intervals. Run with "
            "<code>--replications 5</code> or more for 95 % CIs.</p>"
        )
    return table(
        ["KPI", "name", f"mean of {n} replications", "95 % CI ±", "95 % CI"],
        rows,
        num=(2, 3, 4),
        raw=True,
    )


def cards(kpis: dict[str, Any], ci: dict[str, Any]) -> str:
    out = []
    for k in HEADLINE:
        v = esc(fmt_kpi(k, kpis.get(k)))
        if ci.get(k):
            v += f" <span class=ci>± {esc(fmt_kpi(k, ci[k]))}</span>"
        out.append(
            f"<div class=kpi><div class=v>{v}</div><div class=l>{esc(kpi_label(k))}</div></div>"
        )
    return f"<div class=kpis>{''.join(out)}</div>"


def breakdown_table(schools: pd.DataFrame, by: str) -> str:
    need = {"school", "pupils", "pupil_meetings", "gave_up", "lost_pupil_minutes", "affected"}
    if by not in schools.columns or not need <= set(schools.columns):
        return "<p class=muted>Not available for this run.</p>"
    g = schools.groupby(by, observed=True).agg(
        schools=("school", "size"),
        pupils=("pupils", "sum"),
        pm=("pupil_meetings", "sum"),
        gave_up=("gave_up", "sum"),
        lost=("lost_pupil_minutes", "sum"),
        affected=("affected", "sum"),
    )
    rows = [
        (
            k,
            f"{int(r.schools):,}",
            f"{int(r.pupils):,}",
            f"{int(r.pm):,}",
            f"{(r.gave_up / r.pm if r.pm else 0.0):.2%}",
            f"{r.lost:,.0f}",
            f"{r.lost / max(1, r.pupils):.2f}",
            f"{int(r.affected):,}",
        )
        for k, r in g.iterrows()
    ]
    return table(
        [
            by.replace("_", " "),
            "schools",
            "pupils",
            "pupil-meetings",
            "gave up",
            "lost pupil-min",
            "lost min / pupil",
            "affected schools",
        ],
        rows,
        num=range(1, 8),
    )


def affected_html(d: RunData, top: int = 15) -> str:
    s = d.schools
    if "affected" not in s.columns:
        return "<p class=muted>Not available for this run.</p>"
    n_aff, n = int(s["affected"].sum()), len(s)
    text = (
        f"<p><b>{n_aff:,}</b> of {n:,} simulated schools ({n_aff / max(1, n):.1%}) were "
        "affected: more than 10 % of their pupils lost more than 15 minutes in the day. "
        "For comparison: on Wed 13 Jan 2021 about 2–3 % of schools had problems, due to "
        "outdated local servers (SOURCES.md S60).</p>"
    )
    if n_aff and {"server", "school_type"} <= set(s.columns):
        ct = pd.crosstab(s.loc[s["affected"], "school_type"], s.loc[s["affected"], "server"])
        text += "<h3>Affected schools by school type and server</h3>" + table(
            ["school type", *map(str, ct.columns)],
            [(k, *(f"{int(x):,}" for x in r)) for k, r in ct.iterrows()],
            num=range(1, len(ct.columns) + 1),
        )
    if n_aff and "lost_pupil_minutes" in s.columns:
        w = s[s["affected"]].assign(
            share=lambda x: x["pupils_lost_over_15min"] / x["intending_pupils"].clip(lower=1)
        )
        w = w.sort_values("share", ascending=False).head(top)
        cols = [
            c
            for c in (
                "school",
                "school_type",
                "region",
                "platform",
                "server",
                "uplink_mbit_s",
                "pupils",
            )
            if c in w.columns
        ]
        text += f"<h3>The {len(w)} hardest-hit schools</h3>" + table(
            [*(c.replace("_", " ") for c in cols), "pupils losing >15 min", "lost pupil-min"],
            [
                (
                    *(plain(r[c]) for c in cols),
                    f"{r['share']:.0%}",
                    f"{r['lost_pupil_minutes']:,.0f}",
                )
                for _, r in w.iterrows()
            ],
            num=range(len(cols) - 1, len(cols) + 2),
        )
    return text


def header(d: RunData) -> str:
    det = d.details
    scale = d.provenance.get("scale")
    meta = (
        f"{plain(det.get('schools', 0))} schools · {plain(det.get('pupils', 0))} pupils "
        f"({plain(det.get('pupils_at_home', 0))} at home) · "
        f"{plain(det.get('meetings', 0))} video meetings · {d.replications} "
        f"replication(s)" + (f" · population scale {plain(scale)}" if scale else "")
    )
    notes = "".join(f"<p class=note>Note: {esc(n)}.</p>" for n in d.notes)
    return (
        f"<h1>{esc(d.name)}</h1><p class=lead>{esc(d.description)}</p>"
        f"<p class=muted>{esc(meta)}</p>{verdict(d.kpis, d.ci if d.replications > 1 else None)}"
        f"{cards(d.kpis, d.ci)}{notes}"
    )


def provenance_table(prov: dict[str, Any], source: str = "") -> str:
    rows = [(k, f"<code>{esc(v)}</code>") for k, v in prov.items()]
    if source:
        rows.append(("read from", f"<code>{esc(source)}</code>"))
    return table(["", ""], rows, raw=True)


def render_report(results: Results | RunData) -> str:
    """The report of one scenario as one self-contained HTML string."""
    d = as_run_data(results)
    figs = run_figures(d)
    fig = {k: embed(k, f) for k, f in figs.items()}
    det = d.details
    patience = (
        f"{d.scenario.behaviour.patience_s / 60:g} min"
        if d.scenario is not None
        else "the patience budget"
    )
    fe_rows = [
        (
            n,
            f"{s.get('arrivals', 0):,}",
            f"{s.get('timed_out', 0):,}",
            f"{s.get('waited_share', 0):.2%}",
            f"{s.get('mean_wait_s', 0):.2f} s",
        )
        for n, s in det.get("frontends", {}).items()
    ]
    if d.scenario is not None:
        assumptions, cited = assumptions_html(d.scenario)
    else:
        assumptions, cited = "<p class=note>The scenario's settings are not available.</p>", []
    details = table(
        ["", ""],
        [(k.replace("_", " "), plain(v)) for k, v in det.items() if not isinstance(v, dict | list)],
        num=(1,),
    )
    sections = [
        ("kpis", "Key figures", kpi_table(d.kpis, d.ci, d.replications)),
        (
            "capacity",
            "Participants vs capacity",
            "<p class=muted>Every conference cluster "
            "with its platform; the dashed line is the capacity of the nodes that are up."
            "</p>" + fig["capacity"],
        ),
        (
            "retries",
            "Failed joins and the retry wave",
            "<p class=muted>Every failed attempt "
            f"is retried after a back-off until the pupil's patience ({esc(patience)}) runs out; "
            "retries are what turns a fault into a storm.</p>" + fig["retry_wave"],
        ),
        (
            "time-to-join",
            "Time to join",
            "<p class=muted>From the later of a pupil's first attempt and the lesson start to "
            "getting in, over pupil-meetings that got in; with replications, bars show the 95 % "
            "CI.</p>" + fig["time_to_join"],
        ),
        (
            "front-ends",
            "Front ends",
            fig["front_ends"]
            + table(
                ["platform front end", "requests", "timed out", "had to wait", "mean wait"],
                fe_rows,
                num=range(1, 5),
            ),
        ),
        (
            "breakdown",
            "Breakdown by school type, region and platform",
            fig.get("breakdown", "")
            + "".join(
                f"<h3>By {t}</h3>{breakdown_table(d.schools, c)}"
                for c, t in (*F.BREAKDOWNS, ("server", "school server"))
            ),
        ),
        ("affected", "Schools affected", fig.get("affected_schools", "") + affected_html(d)),
        ("assumptions", "Scenario and assumptions", assumptions),
        ("more", "More figures", details),
        ("sources", "Sources", sources_appendix(cited)),
        ("provenance", "Provenance", provenance_table(d.provenance, d.source)),
    ]
    return page(f"dlsim report – {d.name}", header(d), sections)
