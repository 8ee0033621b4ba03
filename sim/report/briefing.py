"""The briefing at the top of a report: in plain words, which criterion of the service target
failed and by how much, who lost the minutes (direct accounting, ``sim.model.causes``), what
removing each cause would recover (when ``attribution.json`` is in the directory,
``sim.experiments.attribution``), and the verdict — consistent with those numbers because it is
computed
from them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from markupsafe import Markup

from sim.report.i18n import EN, Tr
from sim.report.labels import cause, fmt_kpi, kpi_label
from sim.report.layout import SERVICE_TARGET, html, join, table, verdict
from sim.report.state import count_text, whole_figure
from sim.runs import rundir
from sim.runs.stats import Interval

TOP = 3  # causes named


def read_attribution(directory: str | Path | None) -> dict[str, Any] | None:
    """``attribution.json`` of a directory, if there is a readable one (read by
    :func:`sim.runs.rundir.read_attribution`)."""
    return rundir.read_attribution(directory)


def failed_criteria(kpis: Mapping[str, Any], tr: Tr = EN) -> list[str]:
    """Each failed criterion of the service target, in words with the shortfall."""
    out = []
    for k, op, thr in SERVICE_TARGET:
        v = kpis.get(k)
        if v is None or v != v:
            continue
        v = float(v)
        if (op == ">=" and v < thr) or (op == "<=" and v > thr):
            out.append(tr("{kpi} was {value} against the target {op} {target}",
                          kpi=kpi_label(k, tr), value=fmt_kpi(k, v, tr),
                          op="≥" if op == ">=" else "≤", target=fmt_kpi(k, thr, tr)))
    return out


def briefing(kpis: Mapping[str, Any], details: Mapping[str, Any],
             intervals: Mapping[str, Interval | None] | None = None, tr: Tr = EN,
             attribution: Mapping[str, Any] | None = None, scenario: Any = None,
             prefix: str = "", compact: bool = False, state: float | None = None) -> Markup:
    """The verdict line, then the failed criteria, the top causes and what removing them
    recovers (``compact``, for the one-page PDF: the verdict and the causes only — the KPI
    cards beside it show the criteria's values). ``state``: the scale of a faithful miniature,
    whose lost minutes are then given as the whole state's estimate (``minutes / state``)."""
    parts = [verdict(kpis, intervals, tr, prefix=prefix, see=False)]
    failed = [] if compact else failed_criteria(kpis, tr)
    if failed:
        parts.append(html("<p>{t}.</p>", t="; ".join(failed)))
    by_cause = {str(c): float(v) for c, v in (details.get("lost_pupil_minutes_by_cause")
                                              or {}).items()}
    lost = float(kpis.get("lost_pupil_minutes") or 0.0)
    total = sum(by_cause.values())
    if total > 0 and lost > 0:
        top = sorted(by_cause.items(), key=lambda kv: -kv[1])[:TOP]
        named = ", ".join(tr("{cause} ({share})", cause=cause(c, tr, scenario),
                             share=tr.pct(v / total)) for c, v in top)
        if state is None:
            text = tr("Who lost the {n} pupil-minutes: {causes}.", n=tr.count(lost),
                      causes=named)
        else:
            text = tr("Who lost the ≈ {n} pupil-minutes of the whole state (estimated): "
                      "{causes}.", n=whole_figure("lost_pupil_minutes", lost, state, tr,
                                                (intervals or {}).get("lost_pupil_minutes")),
                      causes=named)
        parts.append(html("<p>{t}</p>", t=text))
    degraded = float(kpis.get("degraded_pupil_minutes") or 0.0)
    if degraded > 0:
        n_deg = tr.count(degraded) if state is None else whole_figure(
            "degraded_pupil_minutes", degraded, state, tr,
            (intervals or {}).get("degraded_pupil_minutes"))
        parts.append(html("<p>{t}</p>", t=tr(
            "Overload degrades, it does not refuse: {n} pupil-minutes ({share} of the time "
            "pupils spent in meetings) were on overloaded nodes, with degraded audio and "
            "video.", n=n_deg, share=tr.pct(float(kpis.get("degraded_share")
                                                            or 0.0)))))
    if attribution and not compact:
        rows = []
        for c, e in attribution["causes"].items():
            rec = e.get("recovered_mean")
            if rec is None or not e.get("direct"):
                continue
            rows.append(tr("removing {cause} would recover {mean} (95 %: {lo} to {hi})",
                           cause=cause(c, tr, scenario), mean=count_text(rec, state, tr),
                           lo=count_text(e.get("recovered_lo"), state, tr),
                           hi=count_text(e.get("recovered_hi"), state, tr)))
        if rows:
            parts.append(html("<p>{t}</p>", t=tr(
                "Counterfactuals on the same random numbers: {rows}.", rows="; ".join(rows[:TOP]))))
    return html('<div class="briefing">{b}</div>', b=join(parts))


def causes_table(details: Mapping[str, Any], tr: Tr = EN,
                 attribution: Mapping[str, Any] | None = None, scenario: Any = None,
                 state: float | None = None) -> Markup:
    """Every cause with its direct minutes and share, and (with ``attribution.json``) what
    removing it recovers with its 95 % interval; empty if nothing was lost. ``state``: the
    scale of a faithful miniature, whose minutes are shown as the whole state's."""
    by_cause = {str(c): float(v) for c, v in (details.get("lost_pupil_minutes_by_cause")
                                              or {}).items()}
    total = sum(by_cause.values())
    if total <= 0:
        return Markup("")
    att = (attribution or {}).get("causes", {})
    rows: list[tuple[str, ...]] = []
    for c, v in sorted(by_cause.items(), key=lambda kv: -kv[1]):
        e = att.get(c) or {}
        rec = e.get("recovered_mean")
        rows.append((cause(c, tr, scenario), count_text(v, state, tr), tr.pct(v / total),
                     "–" if rec is None else count_text(rec, state, tr),
                     "–" if rec is None else tr("{lo} to {hi}",
                                                lo=count_text(e["recovered_lo"], state, tr),
                                                hi=count_text(e["recovered_hi"], state, tr))))
    heads = [tr("cause"), tr("lost pupil-minutes charged") if state is None
             else tr("lost pupil-minutes charged, whole state"), tr("share")]
    if att:
        heads += [tr("recovered if removed"), tr("95 % interval")]
    else:
        rows = [r[:3] for r in rows]
    note = tr("Each wait is charged to the first failure that started it (a pupil who never "
              "failed: to the teacher's). Removing causes one at a time need not add up: "
              "causes overlap.")
    return html("<p class=muted>{t}</p>", t=note) + table(heads, rows, num=range(1, len(heads)))
