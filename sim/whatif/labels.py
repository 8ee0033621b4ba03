"""Every word the what-if page shows, in one place (English for now).

The ``reports`` workstream is building a label registry with a German and English catalogue in
``sim/report``; at merge time these entries move there. Keys are stable; values are what a
planner reads.
"""

from __future__ import annotations

import re
from typing import Any

UI: dict[str, str] = {
    "title": "What if …? — {name}",
    "lead": (
        "Move a control: the charts, key figures and the service verdict below switch at once "
        "to that simulated setting. Only simulated settings can be chosen; nothing between "
        "them is interpolated."
    ),
    "howto": (
        "To size a lever: set the others as planned, then read the line under it — it lists "
        "the simulated values at which the service target is met — or move it until the "
        "verdict turns green. Pin a setting to see another one against it."
    ),
    "levers": "Settings",
    "pin": "Pin this setting for comparison",
    "unpin": "Clear the pinned setting",
    "pinned": "Pinned for comparison",
    "pinned_none": "Nothing pinned: pin a setting to compare another one with it.",
    "current": "Shown",
    "meets_at": "Target met at (other settings as shown): {values}",
    "meets_nowhere": "Target met at none of the simulated values (other settings as shown)",
    "not_simulated": "This setting has no successful runs: nothing to show.",
    "verdict_met": "Service target met",
    "verdict_not_met": "Service target <b>not</b> met",
    "verdict_ci": " (at the 95 % confidence bound)",
    "verdict_means": " (on the means of {n} replication(s), see the note below)",
    "misses": "Missed: {what}.",
    "verdict_unknown": "Service target: cannot be judged (a key figure is missing).",
    "kpis": "Key figures (mean of the replications, 95 % confidence interval)",
    "ci": "95 % CI {lo} – {hi}",
    "ci_not_meaningful": "no 95 % CI from {n} run(s)",
    "ci_note": (
        "Fewer than 3 replications per setting: the 95 % intervals would mostly show the lack "
        "of data, so none are shown and the verdict uses the means. Run more replications "
        "before deciding."
    ),
    "pinned_value": "pinned {value} · difference {diff}",
    "capacity_title": "Participants and capacity over the day (mean of the replications)",
    "capacity_axis": "participants",
    "participants_of": "participants, {cluster}",
    "capacity_of": "capacity, {cluster}",
    "failures_title": "Failed join attempts per minute, by cause, and pupils still trying",
    "failures_axis": "failed attempts per minute",
    "trying_axis": "pupils still trying",
    "trying": "pupils still trying to get in",
    "pinned_prefix": "pinned: ",
    "lost": "Lost pupil-minutes and their causes",
    "lost_note": (
        "The model does not yet attribute lost minutes to causes. Shown here: the lost "
        "pupil-minutes in total (a key figure) and, as the closest thing the runs record, the "
        "failed attempts of the day by cause. Full attribution comes with a later version."
    ),
    "cause": "cause",
    "failed_day": "failed attempts in the day",
    "cost_note": "Costs: the model has no cost figures yet, so none are shown.",
    "about": "About this page",
    "about_text": (
        "{points} simulated settings × {replications} replication(s) each, common random "
        "numbers (replication i uses the same seed at every setting). Base scenario: {base}."
        " Population scale {scale}. Service target: {target}. Built by dlsim {version} on "
        "{when}; the page is one file and works offline."
    ),
    "time_axis": "time of day",
}

CAUSES: dict[str, str] = {
    "failed_frontend": "platform front-end failed or timed out",
    "failed_dispatcher": "dispatcher failed to place the join",
    "refused_capacity": "refused: conference nodes full",
    "rate_limited": "refused by the join rate limit",
    "failed_logins": "login at the school's own server failed",
}
"""The failure counts recorded per minute (component ``total``), in the order shown."""

# Default lever labels by the last part of the config path; a grid file's ``labels:`` wins.
LEVER_LEAF: dict[str, str] = {
    "nodes": "Conference nodes ({where})",
    "node_max_participants": "Participants per conference node ({where})",
    "slot_min": "Staggered start: minutes between start slots",
    "school_number_slots": "Staggered start: number of start slots",
    "school_start_spread_min": "Spread of the schools' own bell times (± minutes)",
    "outdated_share": "Outdated school servers still in use (share of on-premise servers)",
    "cameras_off_above": "Cameras off for pupils joining above this many participants",
    "end": "{where}: ends at",
    "start": "{where}: starts at",
    "share": "{where}: share affected",
    "workers": "Front-end workers ({where})",
    "scale": "Population scale",
}


def lever_label(path: str, where: str = "") -> str:
    """Words for a config path: from :data:`LEVER_LEAF` by its last part, else the path."""
    leaf = re.split(r"[.\[]", path)[-1].rstrip("]")
    text = LEVER_LEAF.get(leaf)
    if text is None:
        return path
    return text.format(where=where or path.rsplit(".", 1)[0]).replace(" ()", "")


def fmt(key: str, **values: Any) -> str:
    return UI[key].format(**values)
