"""The top of a run report and of its one-page briefing: title, the whole state's figures, the
KPI cards — each figure saying what it counts and for what (issue 25, points 3 and 5).

**One unit.** A run at population scale ``s`` with the whole state's capacities scaled with it
(a faithful miniature, ``sim.model.scale``) simulates ``s`` of the state. Counts a planner
reads first — schools, pupils, lost pupil-minutes, peak participants — are shown as the whole
state's estimate (``miniature / s``, :func:`sim.model.scale.full_state_count`), labelled so,
with the miniature's own figure in small print. Shares and times are the same at any scale.
A scenario that keeps its capacities as given (``population.capacities: as_given``) is not a
miniature of the state: its counts stay its own.

**What each figure counts.** The time to join is over those who got in, so it is shown with
the share that did not; the busiest single node is in the key-figures table, not among the
cards (on a dispatcher-fault day it reads as if capacity were short).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from sim.report.data import RunData
from sim.report.i18n import Tr
from sim.report.layout import Card, cards, html, interval_range
from sim.report.state import (
    count_text,
    interval_whole,
    kpi_name,
    kpi_text,
    miniature_note,
    run_factor,
)

HEADLINE = (
    "join_success_rate",
    "p95_time_to_join_s",
    "lost_pupil_minutes",
    "peak_concurrent_participants",
    "peak_cluster_utilisation",
    "affected_schools_share",
    "degraded_share",
)
#: KPIs over those who got in: shown with the share that did not
_OF_THOSE_IN = ("p50_time_to_join_s", "p95_time_to_join_s", "p99_time_to_join_s")


def state_factor(d: RunData) -> float | None:
    """``s`` when the run is a faithful miniature of the state at scale ``s`` < 1 (its counts
    × 1/s are the whole state's), else None (:func:`sim.report.state.run_factor`)."""
    return run_factor(d)


def state_count(x: Any, s: float | None, tr: Tr) -> str:
    """A miniature's count as the whole state's ("≈ 9,730,850"), or as it is (``s`` None)."""
    return count_text(x, s, tr)


def whole_state_line(d: RunData, tr: Tr) -> Markup:
    """"Whole state (estimated from the miniature): ≈ 2,950 schools · …" (empty for a run that
    is not a miniature)."""
    s = state_factor(d)
    if s is None:
        return Markup("")
    det = d.details
    parts = [
        tr("{n} schools", n=state_count(det.get("schools", 0), s, tr)),
        tr("{n} pupils ({home} at home)", n=state_count(det.get("pupils", 0), s, tr),
           home=state_count(det.get("pupils_at_home", 0), s, tr)),
        tr("{n} lost pupil-minutes", n=state_count(d.kpis.get("lost_pupil_minutes"), s, tr)),
    ]
    return html("<p class=state><b>{h}</b> {p}</p>",
                h=tr("Whole state (estimated from the miniature, counts × {f}):",
                     f=tr.sig(1 / s, 4)),
                p=" · ".join(parts))


def lead(d: RunData, tr: Tr, population: str) -> Markup:
    """Title, the scenario's description, the whole state's figures and (small) what was
    simulated."""
    return html(
        "<h1>{n}</h1><p class=lead>{d}</p>{w}<p class='muted small'>{m}</p>",
        n=tr.text(d.name), d=tr.text(d.description), w=whole_state_line(d, tr), m=population,
    )


def _failed_share(d: RunData) -> float | None:
    rate = d.kpis.get("join_success_rate")
    try:
        return None if rate is None else max(0.0, 1.0 - float(rate))
    except (TypeError, ValueError):
        return None


def kpi_cards(d: RunData, tr: Tr) -> Markup:
    """The headline figures as cards: counts for the whole state (the miniature's below),
    times with the share that never got in."""
    s = state_factor(d)
    failed = _failed_share(d)
    items = []
    for k in HEADLINE:
        iv = interval_whole(k, d.interval(k), s)  # in the unit the card shows
        v = d.kpis.get(k)
        notes = []
        if iv is not None:
            notes.append(tr("95 % CI {range}", range=interval_range(k, iv, tr)) if iv.meaningful
                         else tr("{n} replications: no interval", n=iv.n))
        label, value = kpi_name(k, s, tr), kpi_text(k, v, s, tr, d.interval(k))
        mini = miniature_note(k, v, s, tr, d.interval(k))
        if mini:
            notes.insert(0, mini)
        if k in _OF_THOSE_IN:
            label = tr("{kpi}, of those who got in", kpi=label)
            if failed is not None:
                notes.insert(0, tr("{share} did not get in", share=tr.pct(failed, 1)))
        items.append(Card(label, value, " · ".join(notes)))
    return cards(items)
