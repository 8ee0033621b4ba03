"""The report of one scenario (one or more replications): what a capacity decision needs.

Sections: verdict and key figures (95 % intervals with enough replications), participants vs
capacity per platform and cluster, the retry wave, time to join, front ends, breakdowns by
school type / region / platform / server, affected schools, assumptions with sources,
provenance. :func:`render_briefing` is the one-page version (``--pdf``).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

from sim.model.metrics import KPI_NAMES
from sim.report import figures as F
from sim.report import labels as L
from sim.report.assumptions import assumptions_html, sources_appendix
from sim.report.briefing import briefing, causes_table, read_attribution
from sim.report.data import IN_MEMORY, Note, RunData, as_run_data
from sim.report.headline import kpi_cards, lead, state_factor
from sim.report.i18n import N_, Tr
from sim.report.layout import (
    Section,
    embed,
    html,
    interval_range,
    join,
    page,
    table,
    too_few_note,
)
from sim.report.state import (
    count_text,
    interval_whole,
    kpi_name,
    kpi_text,
    label_count_axes,
    miniature_note,
    unit_note,
)

# what the dashed capacity line is, and why it moves without a server lost (issue 25, point 5)
CAPACITY_LINE = N_(
    "The dashed line is how many people the nodes that are up can hold at that minute's mix "
    "of cameras and screen shares. It follows the mix: far higher before the lessons (audio "
    "only), lower whenever cameras come on — as when lessons resume after a fault is repaired. "
    "A drop with no fault shaded is the mix, not lost servers.")


def _tr(d: RunData, lang: str | None) -> Tr:
    return Tr(lang or d.lang)


def run_figures(data: Any, lang: str | None = None) -> dict[str, go.Figure]:
    """The report's figures by name, in page order (also what ``--png`` exports)."""
    d = as_run_data(data)
    tr = _tr(d, lang)
    windows = F.fault_windows(d.scenario, tr)
    figs = {
        "capacity": F.capacity_timeline(d.timeseries, d.scenario, windows, tr),
        "retry_wave": F.retry_wave(d.timeseries, windows, tr),
        "time_to_join": F.time_to_join(d.kpis, d.intervals, d.details.get("time_to_join_hist"),
                                       tr=tr),
        "front_ends": F.frontends(d.timeseries, d.scenario, tr),
    }
    if "lost_pupil_minutes" in d.schools.columns:
        figs["breakdown"] = F.breakdown(d.schools, d.scenario, tr)
    if {"intending_pupils", "pupils_lost_over_15min", "server"} <= set(d.schools.columns):
        figs["affected_schools"] = F.affected_schools(d.schools, tr)
    s = state_factor(d)  # the charts draw the miniature's counts: their axes say so
    for name in ("capacity", "retry_wave", "front_ends", "affected_schools"):
        if name in figs:
            label_count_axes(figs[name], s, tr)
    return figs


def kpi_table(d: RunData, tr: Tr) -> Markup:
    """All KPIs, with their 95 % intervals when the replications support one."""
    n = d.replications
    s = state_factor(d)  # a miniature's counts as the whole state's (sim.report.state)
    rows = []
    for k in KPI_NAMES:
        v = d.kpis.get(k)
        raw = d.interval(k) if n > 1 else None
        mini = miniature_note(k, v, s, tr, raw)
        row: list[Any] = [
            html("{l}<br><span class='muted small'>{m}</span>", l=kpi_name(k, s, tr),
                 m=L.kpi_meaning(k, tr)),
            html("{v}<br><span class='muted small'>{m}</span>", v=kpi_text(k, v, s, tr, raw),
                 m=mini) if mini else kpi_text(k, v, s, tr, raw)]
        if n > 1:
            iv = interval_whole(k, raw, s)
            if iv is not None and iv.meaningful:
                row.append(interval_range(k, iv, tr) or "–")
            else:
                row.append(tr("too few replications"))
        rows.append(row)
    note = html("<p class='muted small'>{t}</p>", t=unit_note(s, tr)) if s else Markup("")
    if n == 1:
        return (table([tr("key figure"), tr("value")], rows, num=(1,)) + note
                + too_few_note(1, tr))
    return table(
        [tr("key figure"), tr("mean of {n} replications", n=n), tr("95 % confidence interval")],
        rows, num=(1, 2),
    ) + note + too_few_note(n, tr)


def schools_basis(d: RunData, tr: Tr) -> Markup:
    """Which runs the school tables show: the mean over the replications (``Results.schools``),
    or one replication when that is all there is."""
    n, s = d.replications, state_factor(d)
    unit = (html(" <span>{t}</span>", t=tr("Counts (schools, pupils, minutes) are the whole "
                                          "state's, estimated from the miniature (× {f}); the "
                                          "hardest-hit schools are single schools, with their "
                                          "own figures.", f=tr.sig(1 / s, 4)))
            if s is not None else Markup(""))
    if n == 1:
        return html("<p class=muted>{t}{u}</p>", u=unit,
                    t=tr("One replication: the figures are its own."))
    if "affected" in d.schools.columns and pd.api.types.is_bool_dtype(d.schools["affected"]):
        # a run directory written before Results.schools was the mean: replication 1's table
        return html("<p class=note>{t}</p>", t=tr(
            "These tables show replication 1 of {n} only (a run directory from an older dlsim, "
            "which stored one replication's schools): they need not add up to the key figures, "
            "which are means. Run the scenario again for tables of the mean.", n=n))
    return html("<p class=muted>{t}{u}</p>", u=unit, t=tr(
        "Each figure is the mean over the {n} replications (a school counts as affected in the "
        "share of the replications in which it was), so the tables add up to the key figures.",
        n=n))


def _count(x: float, tr: Tr) -> str:
    """A count, or a mean of counts: one decimal where the mean is not a whole number."""
    return tr.count(x) if abs(x - round(x)) < 1e-9 or abs(x) >= 100 else tr.num(x, 1)


def breakdown_table(schools: pd.DataFrame, by: str, tr: Tr, scenario: Any = None,
                    s: float | None = None) -> Markup:
    """Schools, pupils, pupil-meetings, lost minutes and affected schools by ``by``; with
    ``s`` (a faithful miniature) every count the whole state's (sim.report.state)."""
    def cnt(x: float) -> str:
        return count_text(x, s, tr) if s is not None else tr.count(x)

    need = {"school", "pupils", "pupil_meetings", "gave_up", "lost_pupil_minutes", "affected"}
    if by not in schools.columns or not need <= set(schools.columns):
        return html("<p class=muted>{t}</p>", t=tr("Not available for this run."))
    g = schools.assign(affected=schools["affected"].astype(float)).groupby(
        by, observed=True).agg(
        schools=("school", "size"), pupils=("pupils", "sum"), pm=("pupil_meetings", "sum"),
        gave_up=("gave_up", "sum"), lost=("lost_pupil_minutes", "sum"),
        affected=("affected", "sum"),
    )
    rows = [
        (
            L.value_label(by, k, tr, scenario), cnt(r.schools), cnt(r.pupils),
            cnt(r.pm), tr.pct(r.gave_up / r.pm if r.pm else 0.0, 2), cnt(r.lost),
            tr.num(r.lost / max(1, r.pupils), 2),
            _count(r.affected, tr) if s is None else cnt(r.affected),
        )
        for k, r in g.iterrows()
    ]
    return table(
        [L.column(by, tr), tr("schools"), tr("pupils"), tr("pupil-meetings"), tr("gave up"),
         tr("lost pupil-minutes"), tr("lost minutes per pupil"), tr("affected schools")],
        rows, num=range(1, 8),
    )


def affected_html(d: RunData, tr: Tr, top: int = 15) -> Markup:
    s = d.schools
    if "affected" not in s.columns:
        return html("<p class=muted>{t}</p>", t=tr("Not available for this run."))
    aff = s["affected"].astype(float)  # with R > 1: the share of replications affected
    n_aff, n, f = float(aff.sum()), len(s), state_factor(d)
    msg = (N_("<b>{k}</b> of {n} simulated schools ({share}) were affected: more than 10 % "
              "of their pupils lost more than 15 minutes in the day.") if f is None else
           N_("<b>{k}</b> of {n} schools of the whole state ({share}; estimated from the "
              "miniature's {k_sim} of {n_sim}) were affected: more than 10 % of their pupils "
              "lost more than 15 minutes in the day."))
    text = html(
        "<p>{t}</p>",
        t=Markup(tr(msg, k=_count(n_aff, tr) if f is None else count_text(n_aff, f, tr),
                    n=tr.count(n) if f is None else count_text(n, f, tr),
                    k_sim=_count(n_aff, tr), n_sim=tr.count(n),
                    share=tr.pct(n_aff / max(1, n), 1))
                 + " " + tr("For comparison: on Wed {date} about 2–3 % of schools had "
                            "problems, due to outdated local servers (sources, S60).",
                            date=tr.date(_dt.date(2021, 1, 13)))),
    )
    if n_aff and {"server", "school_type"} <= set(s.columns):
        ct = pd.crosstab(s["school_type"], s["server"], values=aff, aggfunc="sum").fillna(0.0)
        ct = ct.loc[ct.sum(axis=1) > 0, ct.sum(axis=0) > 0]
        text += html("<h3>{t}</h3>", t=tr("Affected schools by school type and server")) + table(
            [L.column("school_type", tr), *(L.tier(c, tr) for c in ct.columns)],
            [(L.school_type(k, tr), *(_count(x, tr) if f is None else count_text(x, f, tr)
                                      for x in r)) for k, r in ct.iterrows()],
            num=range(1, len(ct.columns) + 1),
        )
    if n_aff and "lost_pupil_minutes" in s.columns:
        w = s[aff > 0].assign(
            share=lambda x: x["pupils_lost_over_15min"] / x["intending_pupils"].clip(lower=1)
        )
        w = w.sort_values("share", ascending=False).head(top)
        cols = [c for c in ("school", "school_type", "region", "platform", "server",
                            "uplink_mbit_s", "pupils") if c in w.columns]
        text += html("<h3>{t}</h3>", t=tr("The {n} hardest-hit schools", n=len(w))) + table(
            [*(L.column(c, tr) for c in cols), tr("pupils losing more than 15 min"),
             tr("lost pupil-minutes")],
            [
                (*(L.value_label(c, r[c], tr, d.scenario) for c in cols),
                 tr.pct(r["share"], 0), tr.count(r["lost_pupil_minutes"]))
                for _, r in w.iterrows()
            ],
            num=range(len(cols) - 1, len(cols) + 2),
        )
    return text


def population_line(d: RunData, tr: Tr) -> str:
    """What was simulated, with the scale: "at scale 0.05: 1,400 schools · ..."."""
    det = d.details
    scale = d.provenance.get("scale")
    parts = [
        tr("{n} schools", n=tr.count(det.get("schools", 0))),
        tr("{n} pupils ({home} at home)", n=tr.count(det.get("pupils", 0)),
           home=tr.count(det.get("pupils_at_home", 0))),
        tr("{n} video meetings", n=tr.count(det.get("meetings", 0))),
        tr.ngettext("one replication", "{n} replications", d.replications, n=d.replications),
    ]
    line = " · ".join(parts)
    if scale is not None and float(scale) != 1.0:
        # sim.model.scale: a miniature builds its central capacities at the same scale, unless the
        # scenario keeps them as given
        kept = (d.scenario is not None
                and getattr(d.scenario.population, "capacities", "") == "as_given")
        msg = (N_("Simulated at population scale {s} on capacities as given (not scaled with "
                  "demand): ") if kept else
               N_("Simulated at population scale {s} (a faithful miniature: central capacities "
                  "at the same scale): "))
        line = tr(msg, s=tr.plain(float(scale))) + line
    return line


def _note(n: str, tr: Tr) -> str:
    if isinstance(n, Note):
        return tr(n.msgid, **n.values)
    return n


def header(d: RunData, tr: Tr) -> Markup:
    notes = join(html("<p class=note>{t}</p>", t=tr("Note: {n}.", n=_note(n, tr)))
                 for n in d.notes)
    return (
        lead(d, tr, population_line(d, tr))
        + briefing(d.kpis, d.details, d.intervals, tr, read_attribution(d.source),
                   d.scenario, state=state_factor(d))
        + kpi_cards(d, tr)
        + notes
    )


def provenance_names(tr: Tr) -> dict[str, str]:
    """Provenance keys in words (the values stay as recorded, to be copied)."""
    return {
        "version": tr("dlsim version"), "config_hash": tr("configuration hash"),
        "seed": tr("root seed"), "seeds": tr("seeds of the replications"),
        "runtime_s": tr("run time (s)"), "scale": tr("population scale"),
        "capacities": tr("central capacities"),
        "config_file": tr("scenario file"), "git_commit": tr("source version (git)"),
        "model_version": tr("model version"),
        "python": "Python", "platform": tr("computer"), "created": tr("created"),
        "timestamp": tr("created"), "numpy": "NumPy", "simpy": "SimPy",
        "created_utc": tr("created (UTC)"), "updated_utc": tr("updated (UTC)"),
        "sweep_file": tr("sweep file"), "identity_hash": tr("hash of the sweep"),
        "base_config": tr("base scenario"), "base_config_hash": tr("hash of the base scenario"),
        "parameters": tr("settings varied"), "sampling": tr("sampling"), "points": tr("points"),
        "replications": tr("replications"), "tasks": tr("runs"), "last_run": tr("last run"),
        "parameter_names": tr("settings by name"), "executor": tr("run on"),
        "computed": tr("computed"), "skipped": tr("already stored"),
        "complete": tr("complete"), "lost": tr("lost to cluster failures"),
        "wall_s": tr("wall time (s)"),
    }

#: recorded ids of the provenance in words
_PROV_WORDS = {
    "capacities": {"whole_state": N_("the whole state's, scaled with the population"),
                   "as_given": N_("as given in the scenario")},
    "sampling": {"grid": N_("every combination (grid)"),
                 "lhs": N_("a Latin hypercube sample")},
}


def _prov_value(v: Any, tr: Tr, key: str = "") -> Markup:
    """A provenance value as recorded (to be copied); a number, a yes or no, the executor
    in the reader's words and format ("Rechenzeit (s) 1,71"); a table of them as
    "name: value; …"."""
    if key == "executor" and isinstance(v, str):
        return html("{v}", v=L.executor(v, tr))
    if isinstance(v, str) and v in _PROV_WORDS.get(key, {}):
        return html("{v}", v=tr(_PROV_WORDS[key][v]))
    if isinstance(v, bool | int | float):
        return html("{v}", v=tr.plain(v))
    if isinstance(v, dict):
        names = provenance_names(tr)  # a key without a name is an id: shown as written
        return join(((html("{k}: ", k=names[str(k)]) if str(k) in names
                      else html("<code>{k}</code>: ", k=k))
                     + _prov_value(x, tr, str(k)) for k, x in v.items()), "; ")
    if isinstance(v, list):
        return join((_prov_value(x, tr) for x in v), ", ")
    return html("<code>{v}</code>", v=v)


def provenance_rows(prov: dict[str, Any], tr: Tr) -> list[tuple[str, Markup]]:
    """The provenance of a run or sweep as (name, value) rows in the reader's words."""
    names = provenance_names(tr)
    return [(names.get(k, L._words(k)), _prov_value(v, tr, k)) for k, v in prov.items()]


def provenance_table(prov: dict[str, Any], tr: Tr, source: str = "") -> Markup:
    rows: list[tuple[str, Any]] = list(provenance_rows(prov, tr))
    if source == IN_MEMORY:  # Results.to_run_data(): not read from a directory
        rows.append((tr("read from"), tr("memory (the run was not saved to a directory)")))
    elif source:
        rows.append((tr("read from"), html("<code>{v}</code>", v=source)))
    return table(["", ""], rows)


def _patience(d: RunData, tr: Tr) -> str:
    if d.scenario is None:
        return tr("the patience budget")
    return tr.minutes(d.scenario.behaviour.patience_s / 60)


def render_report(results: Any, lang: str | None = None) -> str:
    """The report of one scenario as one self-contained HTML string."""
    d = as_run_data(results)
    tr = _tr(d, lang)
    figs = run_figures(d, tr.lang)
    fig = {k: embed(k, f, tr) for k, f in figs.items()}
    det = d.details
    f = state_factor(d)
    fe_rows = [
        (L.component(f"frontend:{n}", tr, d.scenario), count_text(s.get("arrivals", 0), f, tr),
         count_text(s.get("timed_out", 0), f, tr), tr.pct(s.get("waited_share", 0), 2),
         tr.seconds(s.get("mean_wait_s", 0), 2))
        for n, s in det.get("frontends", {}).items()
    ]
    if d.scenario is not None:
        assumptions, cited = assumptions_html(d.scenario, tr)
    else:
        assumptions = html("<p class=note>{t}</p>", t=tr("The scenario's settings are not "
                                                          "available."))
        cited = []
    muted = "<p class=muted>{t}</p>"
    breakdown_body = schools_basis(d, tr) + fig.get("breakdown", Markup("")) + join(
        html("<h3>{t}</h3>", t=tr("By {what}", what=L.column(c, tr))) +
        breakdown_table(d.schools, c, tr, d.scenario, state_factor(d))
        for c in (*F.BREAKDOWNS, "server")
    )
    sections = [
        Section("kpis", tr("Key figures"), kpi_table(d, tr)),
        Section("causes", tr("Who lost the minutes"),
                causes_table(det, tr, read_attribution(d.source), d.scenario,
                             state_factor(d))),
        Section("capacity", tr("Participants vs capacity"), html(muted, t=tr(
            "Every conference cluster with its platform.") + " " + tr(CAPACITY_LINE))
            + fig["capacity"]),
        Section("retries", tr("Failed joins and the retry wave"), html(muted, t=tr(
            "Every failed attempt is retried after a back-off until the pupil's patience "
            "({patience}) runs out; retries are what turns a fault into a storm.",
            patience=_patience(d, tr))) + fig["retry_wave"]),
        Section("time-to-join", tr("Time to join"), html(muted, t=tr(
            "From the later of a pupil's first attempt and the lesson start to getting in, over "
            "pupil-meetings that got in; with 3 or more replications, whiskers show the 95 % "
            "confidence interval.")) + fig["time_to_join"]),
        Section("front-ends", tr("Login services and school servers"), fig["front_ends"] + table(
            [tr("login service"), tr("requests"), tr("timed out"), tr("had to wait"),
             tr("mean wait")],
            fe_rows, num=range(1, 5))),
        Section("breakdown", tr("Breakdown by school type, region and platform"),
                breakdown_body),
        Section("affected", tr("Schools affected"),
                schools_basis(d, tr) + fig.get("affected_schools", Markup(""))
                + affected_html(d, tr)),
        Section("assumptions", tr("Scenario and assumptions"), assumptions),
        *_cost_section(d, tr),
        Section("sources", tr("Sources"), sources_appendix(cited, tr)),
        Section("provenance", tr("Provenance"), provenance_table(d.provenance, tr, d.source)),
    ]
    return page(tr("dlsim report – {name}", name=tr.text(d.name)), header(d, tr), sections, tr)


def _cost_section(d: Any, tr: Tr) -> list[Section]:
    """The scenario as configured, priced by its ``costs:`` section (none for older runs)."""
    cost = d.summary.get("cost")
    if not cost:
        return []
    rows = [(L.cost_item(i, tr), tr.num(i["quantity"], 1),
             tr.num(i["unit_eur"], 2), tr.num(i["eur"], 0)) for i in cost["items"]]
    rows.append((tr("total"), "", "", tr.num(cost["total_eur"], 0)))
    text = tr("In €, from the scenario's costs section (data/SOURCES.md A56–A62: assumptions).")
    s = state_factor(d)
    if s is not None:  # sim.model.costs prices the whole state's quantities
        text += " " + tr("Every quantity is the whole state's: the reserve node-hours the "
                         "miniature at scale {s} started count × {f}.", s=tr.plain(s),
                         f=tr.sig(1 / s, 4))
    return [Section("cost", tr("Cost of the scenario as configured"), html(
        "<p class=muted>{t}</p>", t=text)
        + table([tr("item"), tr("quantity (whole state)") if s is not None else tr("quantity"),
                 tr("€ each"), tr("€")], rows, num=range(1, 4)))]


def render_briefing(results: Any, lang: str | None = None) -> str:
    """The one-page briefing (for ``--pdf``): verdict, KPI cards and the two key charts."""
    d = as_run_data(results)
    tr = _tr(d, lang)
    windows = F.fault_windows(d.scenario, tr)
    s = state_factor(d)
    charts = {  # the capacity line is the clusters' summed: the series keep the clusters
        "capacity": (tr("Concurrent conference participants vs capacity"), label_count_axes(
            F.capacity_timeline(d.timeseries, None, windows, tr, total_only=True), s, tr)),
        "retry_wave": (tr("Failed joins and retries per minute"),
                       label_count_axes(F.retry_wave(d.timeseries, windows, tr), s, tr)),
    }
    captions = {"capacity": html("<p class='muted small'>{t}</p>", t=tr(CAPACITY_LINE))}
    sections = []
    for name, (title, f) in charts.items():
        # the heading is the page's; the chart keeps its panel titles, small and grey
        f.update_layout(title=None, height=220 if name == "capacity" else 270, width=710,
                        margin={"t": 30, "b": 20, "l": 60, "r": 55}, font={"size": 9})
        f.update_annotations(font_size=10)
        # hatching of ~1,000 per-minute bars makes a 10 MB PDF: solid fills, whose colours
        # print as distinct greys (red, orange, purple, grey), and a thin outline instead
        f.update_traces(marker_pattern_shape="", marker_line_width=0, selector={"type": "bar"})
        sections.append(Section(name, title, captions.get(name, Markup(""))
                                + embed(name, f, tr, static=True)))
    body = (
        lead(d, tr, population_line(d, tr))
        + briefing(d.kpis, d.details, d.intervals, tr, read_attribution(d.source),
                   d.scenario, compact=True, state=state_factor(d)) + kpi_cards(d, tr)
        + too_few_note(d.replications, tr)
    )
    return page(tr("dlsim report – {name}", name=tr.text(d.name)), body, sections, tr,
                kind="briefing")
