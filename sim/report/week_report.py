"""The week report: the days side by side, a verdict per day, what carried over.

Rendered from records only — ``week.json`` (:func:`sim.experiments.week.WeekResult.meta`) and
the tidy frame ``week.parquet`` — in English or German (the gettext catalogue).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from markupsafe import Markup

from sim.report.headline import state_count
from sim.report.i18n import N_, Tr
from sim.report.labels import fmt_kpi, kpi_label
from sim.report.layout import Section, html, join, page, table

GOOD_DAY = 0.95
"""A day is good when at least this share of intended pupil-meetings got in (A179)."""
BAD_DAY = 0.90
"""… and bad below this share (A179); in between, a day with trouble."""

#: The rows of the side-by-side table: (frame kpi, label, kind for formatting).
ROWS: tuple[tuple[str, str, str], ...] = (
    ("join_success_rate", "", "kpi"),
    ("lost_pupil_minutes", "", "kpi"),
    ("affected_schools_share", "", "kpi"),
    ("peak_concurrent_participants", "", "kpi"),
    ("iserv.joins", N_("IServ joins (pupils)"), "count"),
    ("iserv.conference_hours", N_("IServ conference hours"), "count"),
    ("iserv.peak_participants", N_("IServ peak participants"), "count"),
    ("iserv.affected_schools_share", N_("IServ schools affected"), "share"),
)
RULE_TEXT = {
    "capacity": N_("capacity added overnight: {value} nodes (the platform had {share} of its "
                   "schools affected)"),
    "stagger_after_trouble": N_("{value} schools stagger their start ({new} newly, after "
                                "trouble)"),
    "video_share": N_("live-video share × {value} (confidence returns after a good day)"),
    "patience": N_("pupils' patience × {value} after a bad day"),
    "faults_repaired": N_("{value} faults of the day before happen again (not repaired)"),
}
RULE_NAMES = {
    "capacity": N_("capacity overnight"),
    "stagger_after_trouble": N_("stagger after trouble"),
    "video_share": N_("video share"),
    "patience": N_("patience"),
    "faults_repaired": N_("faults repaired"),
}


def day_verdict(join_success: float) -> str:
    """``good``, ``trouble`` or ``bad`` (see :data:`GOOD_DAY`, :data:`BAD_DAY`)."""
    if join_success >= GOOD_DAY:
        return "good"
    return "trouble" if join_success >= BAD_DAY else "bad"


def _means(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.groupby(["kpi", "day"], sort=False)["value"].mean().unstack("day")


#: KPIs that are counts (shown as the whole state's when the week ran as a miniature)
COUNT_KPIS = frozenset({"lost_pupil_minutes", "peak_concurrent_participants"})


def _fmt(kpi: str, kind: str, v: Any, tr: Tr, s: float | None = None) -> str:
    if v is None or pd.isna(v):
        return "–"
    if kind == "count" or kpi in COUNT_KPIS:
        return state_count(float(v), s, tr)
    if kind == "kpi":
        return fmt_kpi(kpi, float(v), tr)
    if kind == "share":
        return tr.pct(float(v), 1)
    return tr.num(float(v))


def _note_text(n: Mapping[str, Any], tr: Tr, s: float | None) -> str:
    v = n.get("value")
    if n["rule"] == "stagger_after_trouble":  # schools: a miniature's count
        kw = {"value": state_count(v, s, tr), "new": state_count(n.get("new", 0), s, tr)}
    else:  # nodes are the whole state's already; factors are factors
        kw = {"value": tr.num(v, 2) if isinstance(v, float) else tr.num(v),
              "share": tr.pct(float(n.get("share", 0.0)), 1)}
    return tr(RULE_TEXT[str(n["rule"])], **kw) + f" [{n.get('source', '')}]"


def _verdicts(days: list[dict[str, Any]], means: pd.DataFrame, tr: Tr) -> Markup:
    words = {"good": tr("good day"), "trouble": tr("day with trouble"), "bad": tr("bad day")}
    rows, was_bad = [], False
    for d in days:
        js = float(means.loc["join_success_rate", d["name"]])
        v = day_verdict(js)
        extra = tr("recovered") if was_bad and v == "good" else ""
        was_bad = was_bad or v == "bad"
        if v == "good" and extra:
            was_bad = False
        rows.append((d["name"], d.get("date") or "", words[v], extra))
    return table([tr("day"), tr("date"), tr("verdict"), ""], rows)


def _carried(days: list[dict[str, Any]], rules_on: list[str], tr: Tr,
             s: float | None) -> Markup:
    rows = []
    for d in days:
        per_rep = d.get("carried") or [[]]
        first = per_rep[0] if per_rep else []
        text = "; ".join(_note_text(n, tr, s) for n in first) or tr("nothing")
        rows.append((d["name"], text))
    on = ", ".join(tr(RULE_NAMES[r]) for r in rules_on) or tr("none")
    return (html("<p>{t}</p>", t=tr("Rules on: {rules}.", rules=on))
            + html("<p class=muted>{t}</p>",
                   t=tr("What carried into each day (first replication; the others in week.json)."))
            + table([tr("day"), tr("carried over from the day before")], rows))


def render_week(meta: Mapping[str, Any], frame: pd.DataFrame, lang: str | None = None) -> str:
    """The week report as one HTML page."""
    tr = Tr(lang)
    days = list(meta["days"])
    names = [d["name"] for d in days]
    means = _means(frame)
    scale = float(meta.get("provenance", {}).get("scale", 1.0))
    s = scale if 0 < scale < 1 else None  # a miniature: counts × 1/s are the whole state's
    rows = []
    for kpi, label, kind in ROWS:
        if kpi not in means.index:
            continue
        name = tr(label) if label else kpi_label(kpi, tr)
        rows.append([name, *(_fmt(kpi, kind, means.loc[kpi].get(n), tr, s) for n in names)])
    side = table([tr("figure"), *names], rows, num=range(1, len(names) + 1))
    head = (html("<h1>{t}</h1>", t=tr.text(meta.get("name") or tr("The week")))
            + html("<p class=lead>{t}</p>", t=tr.text(meta.get("description", "")))
            + html("<p class=muted>{t}</p>", t=tr(
                "{n} days in order, {r} replication(s) of the week, population scale {s}; "
                "means over the replications.", n=len(days), r=meta.get("replications", 1),
                s=tr.num(scale, 3)))
            + (html("<p class=state>{t}</p>", t=tr(
                "Counts are the whole state's, estimated from the miniature (× {f}).",
                f=tr.sig(1 / s, 4))) if s is not None else Markup("")))
    sections = [
        Section("days", tr("The days side by side"), side),
        Section("verdicts", tr("A verdict per day"),
                html("<p class=muted>{t}</p>", t=tr(
                    "Good: at least {g} of intended pupil-meetings got in; bad: below {b}.",
                    g=tr.pct(GOOD_DAY, 0), b=tr.pct(BAD_DAY, 0)))
                + _verdicts(days, means, tr)),
        Section("carried", tr("What carried over"),
                _carried(days, meta.get("rules_on", []), tr, s)),
        Section("provenance", tr("Provenance"), join([
            html("<p class=muted>{t}</p>", t=tr("week file {f}, identity {i}, model {m}",
                 f=meta.get("file", ""), i=meta.get("identity", ""),
                 m=meta.get("provenance", {}).get("model_version", "")))])),
    ]
    return page(tr("dlsim week – {name}", name=tr.text(meta.get("name", ""))), head, sections,
                tr, kind="week")
