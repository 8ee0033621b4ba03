"""Morning logins: each pupil who uses the platform that day logs in once, through the same
front end as the pupil's joins (the school's own server, or the platform's login service).

A login's outcome is known when it arrives (FIFO front end, ``RequestQueue.request``): no
event unless it fails and is retried, or an outage may still fail it (a tracked front end
delivers the outcome as an event). A pupil who got into a meeting first is logged in by that
(``login_at``, shared with the pupils' chains).
"""

from __future__ import annotations

from array import array

import numpy as np

from sim.model.behaviour.context import Shared
from sim.model.behaviour.retry import settle_while_down
from sim.model.causes import OK
from sim.model.components.request_queue import RequestQueue
from sim.model.engine import call_at
from sim.model.recorder import Code
from sim.model.states import DONE, GAVE_UP, TRYING

_INF = float("inf")


class Logins:
    """The login chains of one run."""

    def __init__(self, run: Shared, frontend_of_school: list[RequestQueue], login_at: array,
                 patience_s: float, day_end: float, settle: bool):
        self.env = run.env
        self._rule = run.retry
        demand, recorder = run.demand, run.recorder
        self._patience = patience_s
        self._end = day_end
        self._login_at = login_at  # when each pupil was logged in (inf: not yet); shared
        self.settle_outages = True  # False: event by event (the reference for the tests)
        self._settle = settle  # the run's faults and policies allow settling
        self.pupil = demand.login_pupil.tolist()
        n = len(self.pupil)
        # the front end each login goes to (its school's server or the platform's service)
        self._fe = [frontend_of_school[s]
                    for s in demand.pupil_school[demand.login_pupil].tolist()]
        self._st = bytearray(n)
        self.status = np.frombuffer(self._st, dtype=np.int8)
        self.chain = [0.0] * n
        self._t = array("d", [float("nan")]) * n
        self.t = np.frombuffer(self._t, dtype=np.float64)  # when each got in
        self.first_t = demand.login_t
        self._att = array("i", bytes(4 * n))
        self.attempts = np.frombuffer(self._att, dtype=np.int32)
        self._c_attempt = recorder.channel(Code.LOGIN_ATTEMPT)[-1].append
        self._c_ok = recorder.channel(Code.LOGIN_OK)[-1].append
        self._c_fail = recorder.channel(Code.LOGIN_FAIL)[-1].append
        self._c_gave_up = recorder.channel(Code.LOGIN_GAVE_UP)[-1].append

    def first_attempt(self, i: int) -> None:
        """Login ``i``'s first attempt (a stream entry at its pre-sampled time)."""
        # ≈ 0.9 M first logins a day: the checks inlined, the actions in their one place
        now = self.env.now
        if self._login_at[self.pupil[i]] <= now:  # joined a meeting earlier
            self._mark_in(i, now)
            return
        self.chain[i] = now
        self._st[i] = TRYING
        fe = self._fe[i]
        if fe.tracked:  # an outage may be on: settle or submit
            self._attempt_now(i, now)
            return
        # _try on a front end without outages, inlined; the outcome in its one place
        self._att[i] += 1
        self._c_attempt(now)
        outcome, t = fe.request(fe.login_service_s)
        if outcome == OK:
            self._succeeded(i, t)
        else:
            self._failed(i, t)

    def _attempt(self, i: int) -> None:
        now = self.env.now
        if self._already_in(i, now):  # logged in meanwhile through a meeting
            return
        self._attempt_now(i, now)

    def _attempt_now(self, i: int, now: float) -> None:
        fe = self._fe[i]
        if (not fe.up and self._settle and self.settle_outages and fe.down_until < _INF):
            self._settle_down(i, fe)
            return
        self._try(i, now)

    def _already_in(self, i: int, now: float) -> bool:
        if self._login_at[self.pupil[i]] <= now:
            self._mark_in(i, now)
            return True
        return False

    def _mark_in(self, i: int, now: float) -> None:
        """The pupil is logged in already (through a meeting): nothing to do."""
        self._st[i] = DONE
        self._t[i] = now

    def _try(self, i: int, now: float) -> None:
        fe = self._fe[i]
        self._att[i] += 1
        self._c_attempt(now)
        if fe.tracked:  # an outage may still fail it: deliver the outcome as an event
            fe.submit(i, fe.login_service_s, self._done)
            return
        outcome, t = fe.request(fe.login_service_s)
        if outcome == OK:
            self._succeeded(i, t)
        else:
            self._failed(i, t)

    def _succeeded(self, i: int, t: float) -> None:
        """Login ``i`` got in at ``t``: the one place a successful login is recorded."""
        pupil = self.pupil[i]
        if t < self._login_at[pupil]:
            self._login_at[pupil] = t
        self._st[i] = DONE
        self._t[i] = t
        self._c_ok(t)

    def _done(self, i: int, outcome: int) -> None:
        t = self.env.now
        if outcome == OK:
            self._succeeded(i, t)
        else:
            self._failed(i, t)

    def _failed(self, i: int, t: float) -> None:
        self._c_fail(t)
        t_next = self._rule.next_try(self._att[i], t, self.chain[i], self._patience, self._end)
        if t_next is None:
            self._st[i] = GAVE_UP
            self._c_gave_up(t)
            return
        call_at(self.env, t_next, self._attempt, i)

    def _settle_down(self, i: int, fe: RequestQueue) -> None:
        """Login ``i`` finds its front end down: settle at once every attempt of its retry
        chain that falls before the front end can be up again.

        While the server is down each attempt fails on arrival, and nothing can log the
        pupil in meanwhile (the pupil's joins go through the same server), so the chain up to
        the outage's known end (a scheduled restart or repair, :attr:`RequestQueue.down_until`)
        is decided now, with one scheduled retry — the first one after the outage — instead
        of two events per attempt. During the 08:00 crashes of outdated servers this is most
        of the morning's login traffic (≈ 20 % of all front-end requests of an ordinary day).
        """
        att, t, gave_up, _ = settle_while_down(
            self._rule, fe, self.env.now, self._att[i], self.chain[i], self._patience,
            self._end, fe.down_until, self._c_attempt, self._c_fail)
        self._att[i] = att
        if gave_up:
            self._st[i] = GAVE_UP
            self._c_gave_up(t)
        else:
            call_at(self.env, t, self._attempt, i)
