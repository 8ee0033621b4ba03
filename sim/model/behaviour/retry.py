"""The retry rule: back-off, give-up, and settling a chain that meets a server outage.

One rule for pupils, teachers and logins, event by event or settled: after failed attempt
number ``k`` the user retries after ``min(initial · factor^(k−1), max)`` seconds with
±``jitter`` uniform jitter, unless the retry would exceed the patience since the chain's
start or fall at or after the end of what the user wants (the meeting, the day).

A server that is down fails every request on arrival. When the outage's end is known (a
crashed server's restart, a repair), a retry chain that meets it is settled at once up to
that end (:func:`settle_while_down`) — the same attempts, failures, back-off draws and give-up
as event by event, without an event per attempt (exact, see
tests/functional/test_outage_settling.py). Whether the run's faults and policies allow
settling is decided from their declarations (``sim.model.effects.settling``).
"""

from __future__ import annotations

from collections.abc import Callable

from sim.config.models import BehaviourConfig
from sim.model.components.request_queue import RequestQueue
from sim.model.draws import UnitDraws


class RetryRule:
    """Back-off and give-up of every attempt chain of one run."""

    __slots__ = ("_draws", "factor", "initial", "jitter", "max", "max_backoff", "retries")

    def __init__(self, cfg: BehaviourConfig, draws: UnitDraws):
        self.retries = cfg.retries
        self.initial = cfg.backoff_initial_s
        self.factor = cfg.backoff_factor
        self.max = cfg.backoff_max_s
        self.jitter = cfg.backoff_jitter
        # the longest back-off any retry can take
        self.max_backoff = cfg.backoff_max_s * (1.0 + cfg.backoff_jitter)
        self._draws = draws

    def delay(self, k: int) -> float:
        """Back-off before retry number k (1-based)."""
        base = self.initial * self.factor ** (k - 1)
        if base > self.max:
            base = self.max
        j = self.jitter
        return base * (1.0 - j + 2.0 * j * self._draws.next())

    def next_try(self, att: int, t: float, chain: float, patience: float,
                 end: float) -> float | None:
        """When the retry after failed attempt number ``att`` (at ``t``) comes, or None when
        the user gives up instead: no retries, the patience since the chain's start at
        ``chain`` would be exceeded, or the retry would fall at or after ``end``."""
        if not self.retries:
            return None
        t_next = t + self.delay(att)
        if t_next - chain > patience or t_next >= end:
            return None
        return t_next


def settle_while_down(rule: RetryRule, fe: RequestQueue, t: float, att: int, chain: float,
                      patience: float, end: float, until: float,
                      attempt: Callable[[float], None], fail: Callable[[float], None],
                      failed_by_cause: list[int] | None = None) -> tuple[int, float, bool, int]:
    """Settle a chain whose attempt at ``t`` finds ``fe`` down, up to ``until`` (before which
    every attempt fails on arrival): each attempt is recorded (``attempt``, ``fail``) and
    counted at the front end, with the same back-off draws as event by event, and charged to
    the cause the front end refuses it for at its time (``failed_by_cause``, if given).

    Returns ``(attempts so far, time, gave_up, cause of the first attempt's refusal)``: the
    give-up's time, or the first retry at or after ``until`` (to be scheduled as an event).
    """
    first = 0
    while True:
        att += 1
        attempt(t)
        cause = fe.reject_down(t)
        fail(t)
        if failed_by_cause is not None:
            failed_by_cause[cause] += 1
        if not first:
            first = cause
        t_next = rule.next_try(att, t, chain, patience, end)
        if t_next is None:
            return att, t, True, first
        if t_next >= until:
            return att, t_next, False, first
        t = t_next
