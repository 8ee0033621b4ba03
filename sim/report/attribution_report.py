"""The page of ``dlsim explain`` (``DIR/explain.html``) and its words for the terminal: who
lost the pupil-minutes (direct accounting), what removing each cause recovers (paired
counterfactuals, bounded 95 % intervals) and whether the causes add up — in the reader's
language. It reads ``attribution.json``'s content (:mod:`sim.experiments.attribution`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from sim.report.briefing import causes_table
from sim.report.i18n import EN, Tr
from sim.report.labels import cause
from sim.report.layout import Card, Section, cards, html, page
from sim.report.state import (
    count_text,
    kpi_name,
    kpi_text,
    miniature_factor,
    miniature_note,
    unit_note,
)


def additivity_words(att: Mapping[str, Any], tr: Tr = EN, scenario: Any = None) -> str:
    """Σ recovered against the total lost, and what it says about the causes (the check of
    :func:`sim.experiments.attribution.additivity`, stored as ``additivity``); a faithful
    miniature's minutes as the whole state's."""
    total, rsum = float(att["lost_pupil_minutes"]), float(att["recovered_sum"])
    s = miniature_factor(scenario)
    add = att.get("additivity") or {}
    verdict = add.get("verdict")
    if verdict == "overlap":
        how = tr("more than was lost: the causes overlap (removing one also removes much of "
                 "another's minutes), so their recoveries do not add up")
    elif verdict == "shortfall":
        how = tr("less than was lost: part of the loss needs more than one cause removed, or "
                 "comes from causes without a removal")
    elif verdict == "offsetting":
        names = ", ".join(cause(c, tr, scenario) for c in add.get("disagreeing", []))
        how = tr("close to what was lost in sum, but not row by row ({causes}: what removing "
                 "them recovers differs from the minutes charged to them), so the causes "
                 "interact and their differences offset", causes=names)
    elif verdict == "independent":
        how = tr("close to what was lost, and each cause recovers about the minutes charged "
                 "to it: the causes act nearly independently")
    else:  # an attribution.json from before the check
        how = tr("see the rows for how the causes interact")
    return tr("Recovered, summed over the causes removed one at a time: {sum} against {total} "
              "lost — {how}.", sum=count_text(rsum, s, tr), total=count_text(total, s, tr),
              how=how)


def render_attribution(att: Mapping[str, Any], scenario: Any = None,
                       lang: str | None = None) -> str:
    """The ``dlsim explain`` page as one HTML string."""
    tr = Tr(lang or getattr(getattr(scenario, "report", None), "lang", None))
    total = float(att["lost_pupil_minutes"])
    n = int(att.get("replications", 0))
    causes = att.get("causes", {})
    details = {"lost_pupil_minutes_by_cause": {c: e["direct"] for c, e in causes.items()}}
    name = tr.text(att.get("scenario", ""))  # the shipped scenarios' names are messages
    s = miniature_factor(scenario)
    reps = tr.ngettext("mean of one replication", "mean of {n} replications", n, n=n)
    head = (html("<h1>{t}</h1>", t=tr("Who lost the pupil-minutes: {name}", name=name))
            + cards([Card(kpi_name("lost_pupil_minutes", s, tr),
                          kpi_text("lost_pupil_minutes", total, s, tr),
                          " · ".join(x for x in (
                              miniature_note("lost_pupil_minutes", total, s, tr), reps) if x))])
            + html('<p class=lead>{t}</p>', t=additivity_words(att, tr, scenario)))
    method = tr(
        "Direct: each wait is charged to the first failure that started it, mean over the "
        "replications. Recovered: the same scenario with one cause removed runs the same "
        "replications (common random numbers); the recovered minutes are the paired "
        "difference with its 95 % t interval, bounded to 0 … the minutes lost (removing a "
        "cause cannot recover more than was lost, and the interval is not about a worse day). "
        "The causes are said to act nearly independently only when the recoveries add up to "
        "the loss within ±{s} and each cause's direct minutes lie within its interval "
        "(widened by {r} of the loss).",
        s=tr.pct(float((att.get("additivity") or {}).get("sum_tolerance", 0.05)), 0),
        r=tr.pct(float((att.get("additivity") or {}).get("row_tolerance", 0.05)), 0))
    sections = [
        Section("causes", tr("Lost pupil-minutes by cause"),
                causes_table(details, tr, att, scenario, s) or html(
                    "<p class=muted>{t}</p>", t=tr("Nothing was lost."))),
        Section("method", tr("How it is computed"), html("<p>{t}</p>", t=method)
                + html("<p class=muted>{t}</p>", t=tr(
                    "Seeds: {seeds}; configuration {hash}.",
                    seeds=", ".join(str(s) for s in att.get("seeds", [])),
                    hash=str(att.get("config_hash", ""))))
                + (html("<p class=muted>{t}</p>", t=unit_note(s, tr)) if s else Markup(""))),
    ]
    return page(tr("dlsim explain – {name}", name=name), Markup(head), sections, tr,
                kind="explain")
