"""Causes of lost pupil-minutes and failed attempts (direct accounting).

Every failed attempt carries a cause code, known where the failure is recorded; every lost
pupil-minute is charged to one cause. The taxonomy (names are stable, used in
``attribution.json``, ``schools.parquet`` and the time series):

- ``moderator_late`` — no failure at all: the pupil waited in the lobby because the teacher
  had not opened the room yet (the teacher came late by the timetable's own jitter).
- ``school_server:current`` / ``school_server:outdated`` — a request timed out waiting for a
  worker of the school's own server.
- ``uplink_congestion`` — the server answered, but the answer waited so long for the school's
  upload bandwidth (its own resource, shared with the day's other traffic) that the client's
  time-out ran out first.
- ``school_server_crash`` — the school's server was down after an overload crash (the
  ``overload_crash`` fault: any school server overloaded relative to its own capacity falls
  over and is restarted).
- ``uplink_outage`` — the school's uplink was down (an ``uplink_outage`` fault window).
- ``school_server_outage`` — the school's server was down for another reason (no fault type
  holds a server down for another reason yet; the name is kept for one that will).
- ``login_service:<platform>`` — a request failed or timed out at the platform's front end.
- ``frontend_outage`` — the platform's front end was down (a fault window).
- ``dispatcher`` — a dispatcher failure (the ``dispatcher_failure`` fault) refused to route a
  join or to create the room.
- ``conference_capacity`` — the room's node refused the join at its hard limit (its
  participant limit; CPU or bandwidth only with ``refuse_overload``). Load past the CPU or
  bandwidth refuses no one: those minutes are degraded, not lost (``degraded_pupil_minutes``;
  ``conference:degraded`` in ``dlsim explain``).
- ``rate_limited`` — the join-rate policy refused the join.
- ``node_loss`` — the pupil's node was lost (the minutes until the rejoin), or the room could
  not be created because no node was up (every node of the platform lost).
- ``node_loss_unseen`` — the dispatcher placed the room on a node lost since its last poll
  (``dispatcher.mode: scalelite_poll``: a lost node gets rooms until it has failed
  ``failed_polls_offline`` polls), and the creation failed there.

Each failure site reports its cause with the outcome (``OK`` for none): a front end its
time-out's, or the cause of the hold keeping it down — when several faults hold it down at
once, the hold that began first (at a tie, the lowest code; ``RequestQueue.cause_at``); the
dispatcher ``dispatcher`` or, with no node up, ``node_loss`` (on a node it has not yet seen
lost, ``node_loss_unseen``); a node ``conference_capacity`` at its hard limit (``node_loss``
if it is down); the join-rate limit ``rate_limited``. The behaviour records what it is told
and decides no cause itself (it names one only for what it does itself: the people it sends
out of a lost node's room, ``node_loss``).

Which failure a chain's lost minutes are charged to: the **first** failure of the chain of
attempts (for a pupil who never failed but whose room was late or never opened: the
teacher's first failure, else ``moderator_late``). The first failure is what turned an
ordinary join into a wait; the later failures of the same chain are mostly its consequences
(the retries land in the same overload, or in the one that the outage left behind), and the
whole wait would not have happened without it. One code per pupil-meeting is all the hot path
keeps (a byte written once per chain).
"""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np

OK = 0
"""The outcome of a request served, a join routed, a room placed: no failure. Every failure
site returns ``OK`` or the cause code of its failure (a loss without any failure is charged
to ``moderator_late``, the same code)."""

MODERATOR_LATE = 0
SERVER_CURRENT = 1
SERVER_OUTDATED = 2
SERVER_OUTAGE = 3
FRONTEND_OUTAGE = 4
DISPATCHER_FAILURE = 5  # named "dispatcher" in results (a stable name)
CAPACITY = 6
RATE_LIMITED = 7
NODE_LOSS = 8
SERVER_CRASH = 9
UPLINK_OUTAGE = 10
NODE_UNSEEN = 11  # named "node_loss_unseen" in results
UPLINK_CONGESTION = 12
LOGIN_SERVICE = 13  # + the platform's index (stays last)

STATIC_CAUSES = (
    "moderator_late",
    "school_server:current",
    "school_server:outdated",
    "school_server_outage",
    "frontend_outage",
    "dispatcher",
    "conference_capacity",
    "rate_limited",
    "node_loss",
    "school_server_crash",
    "uplink_outage",
    "node_loss_unseen",
    "uplink_congestion",
)

COLUMN = "cause:"
"""Prefix of the per-cause columns of lost pupil-minutes in a sweep's rows (``cause:<name>``)."""

SERVER_TIER_CAUSE = {"current": SERVER_CURRENT, "outdated": SERVER_OUTDATED}


def cause_names(platform_names: list[str]) -> list[str]:
    """Names of the cause codes of a run with these platforms (index = code)."""
    return list(STATIC_CAUSES) + [f"login_service:{p}" for p in platform_names]


class Ledger:
    """The charges of one run: one record per charge of lost seconds (a return after a
    give-up gives back a negative charge), and failed attempts per cause code."""

    def __init__(self) -> None:
        self.cause = array("B")
        self.pm = array("i")
        self.t = array("d")  # when the lost time began (for the time-of-day series)
        self.amount = array("d")  # seconds
        self.failed = [0] * 256

    def charge(self, cause: int, pm: int, t0: float, seconds: float) -> None:
        self.cause.append(cause)
        self.pm.append(pm)
        self.t.append(t0)
        self.amount.append(seconds)


def attribution(ledger: Ledger, names: list[str], pm_school: np.ndarray, n_schools: int,
                school_platform: np.ndarray, platform_names: list[str],
                school_region: np.ndarray, region_names: list[str], start: float, end: float,
                interval: float) -> tuple[dict[str, Any], dict[str, np.ndarray],
                                          list[tuple[float, str, str, float]]]:
    """The ledger summed up: ``extra`` figures (minutes by cause, in total, per platform and
    per region; failed attempts by cause), per-school minutes by cause, and per-interval rows
    (component ``cause:<name>``, metric ``lost_pupil_minutes``, by when the loss began)."""
    cause = np.frombuffer(ledger.cause, dtype=np.uint8).astype(np.int64)
    minutes = np.frombuffer(ledger.amount, dtype=np.float64) / 60.0
    school = pm_school[np.frombuffer(ledger.pm, dtype=np.int32)]
    t = np.frombuffer(ledger.t, dtype=np.float64)
    n = len(names)
    by_cause = np.bincount(cause, weights=minutes, minlength=n)
    present = [c for c in range(n) if np.any(cause == c)]
    per_school: dict[str, np.ndarray] = {}
    per_platform: dict[str, dict[str, float]] = {p: {} for p in platform_names}
    per_region: dict[str, dict[str, float]] = {r: {} for r in region_names}
    edges = np.arange(start, end + interval, interval)
    rows: list[tuple[float, str, str, float]] = []
    for c in present:
        sel = cause == c
        s = np.bincount(school[sel], weights=minutes[sel], minlength=n_schools)[:n_schools]
        per_school[names[c]] = s
        for i, p in enumerate(platform_names):
            per_platform[p][names[c]] = float(s[school_platform == i].sum())
        for i, r in enumerate(region_names):
            per_region[r][names[c]] = float(s[school_region == i].sum())
        h, _ = np.histogram(np.clip(t[sel], start, end - 1e-9), bins=edges,
                            weights=minutes[sel])
        rows.extend((float(a), f"cause:{names[c]}", "lost_pupil_minutes", float(v))
                    for a, v in zip(edges[:-1], h, strict=True))
    extra: dict[str, Any] = {
        "lost_pupil_minutes_by_cause": {names[c]: float(by_cause[c]) for c in present},
        "failed_attempts_by_cause": {names[c]: int(ledger.failed[c])
                                     for c in range(n) if ledger.failed[c]},
        "lost_pupil_minutes_by_cause_per_platform": per_platform,
        "lost_pupil_minutes_by_cause_per_region": per_region,
    }
    return extra, per_school, rows
