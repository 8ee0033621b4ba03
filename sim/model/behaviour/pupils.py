"""Pupils' join chains: attempt, lobby, admission, drop and rejoin, give-up and return.

A pupil's attempt: front end (the school's own server, or the platform's login service; a
login the first time that day, a cheaper join request after) → dispatcher (routes the join)
→ the room's node (admits if it has room). Before the teacher has opened the room the pupil
waits in the lobby ("waiting for the moderator"). A failed attempt is retried by the retry
rule (``sim.model.behaviour.retry``); when the user gives up, the rest of the meeting is lost.

Lost pupil-minutes of a chain of attempts: from the later of meeting start and the chain's
start until the join (or until the meeting's end if never joined). Lateness by the pupil's
own choice (arrival jitter) is not counted as lost.

State lives in Python buffers indexed by pupil-meeting (``pm``, one intending participant
of one meeting) and pupil, with numpy views for the KPIs.
"""

from __future__ import annotations

from array import array

import numpy as np

from sim.model.behaviour.context import PupilDraws, PupilRules, Shared
from sim.model.behaviour.retry import settle_while_down
from sim.model.behaviour.rooms import Rooms
from sim.model.causes import MODERATOR_LATE, NODE_LOSS, OK, Ledger
from sim.model.components.conference import join_load_mbit_s
from sim.model.components.request_queue import RequestQueue
from sim.model.demand import Demand
from sim.model.engine import call_at, call_later
from sim.model.recorder import Code, Recorder
from sim.model.states import (
    DONE,
    GAVE_UP,
    IN_SESSION,
    LOBBY,
    M_CLOSED,
    M_FAILED,
    M_OPEN,
    M_OPENING,
    TRYING,
)

_INF = float("inf")


class Pupils:
    """The join chains of all pupil-meetings of one run."""

    def __init__(self, run: Shared, rooms: Rooms, frontend_of_school: list[RequestQueue],
                 rules: PupilRules, draws: PupilDraws):
        self.env = run.env
        self.rooms = rooms
        self._lobby, self._sessions, self._rule = run.lobby, run.sessions, run.retry
        self._media = run.media
        self.patience = rules.patience_s
        self.return_share, self.return_after = rules.return_share, rules.return_after_s
        self._limiter, self._camera = rules.limiter, rules.camera
        self.first_pupil_opens = rules.first_pupil_opens
        self.settle_outages = True  # False: event by event (the reference for the tests)
        self._settle = rules.settle  # retries on, and the run's faults and policies allow it
        # platforms whose way in can fail a rejoin: their drops are simulated event by event
        self._sim_drops_platform = list(rules.rejoins_fail) or [False] * len(rooms.disp)
        self._rc_rng, self._returns = draws.reconnect, draws.returns
        self.reconnect_rate_s = run.sessions.reconnect_rate_s
        self._share_rooms(rooms)
        self._bind_channels(run.recorder)
        self._chain_state(run.demand, run.n_pupils, frontend_of_school)
        # live counters for the per-minute series
        self.trying = 0  # pupil chains in progress (incl. lobby)
        self.in_session = 0  # pupils in a conference
        self.lost_s = 0.0
        # direct accounting (sim.model.causes): the cause of each chain's first failure (0: none)
        self._cause = bytearray(run.demand.n_pm)
        self._m_cause = rooms.m_cause
        self.ledger = Ledger()
        self.failed_by_cause = self.ledger.failed
        run.lobby.attach(self.admit, self.give_up, self.pm_chain)
        rooms.attach(self.eject, self.end_sessions)

    def _share_rooms(self, rooms: Rooms) -> None:
        """The rooms' state, shared (the same lists)."""
        self.m_state, self.m_end, self.m_start = rooms.m_state, rooms.m_end, rooms.m_start
        self.m_platform, self.m_pool, self.m_node = rooms.m_platform, rooms.m_pool, rooms.m_node
        self.m_U, self.m_W, self.m_screen = rooms.m_U, rooms.m_W, rooms.m_screen
        self.m_t_chain, self.m_teacher_t = rooms.m_t_chain, rooms.m_teacher_t
        self._m_pm_lo, self._m_pm_hi = rooms.m_pm_lo, rooms.m_pm_hi
        self._disp = rooms.disp

    def _bind_channels(self, recorder: Recorder) -> None:
        """The recorder channels of the hot paths, bound once (one list append per outcome)."""
        self._c_attempt = recorder.channel(Code.ATTEMPT)
        self._c_join = recorder.channel(Code.JOIN_OK)
        self._c_fail_fe = recorder.channel(Code.FAIL_FRONTEND)
        self._c_fail_disp = recorder.channel(Code.FAIL_DISPATCH)
        self._c_fail_cap = recorder.channel(Code.FAIL_CAPACITY)
        self._c_drop = recorder.channel(Code.DROP)
        self._c_gave_up = recorder.channel(Code.GAVE_UP)
        self._c_rate = recorder.channel(Code.RATE_LIMITED)

    def _chain_state(self, demand: Demand, n_pupils: int,
                     frontend_of_school: list[RequestQueue]) -> None:
        """Per pupil-meeting and per pupil: hot state in Python buffers (fast scalar access)
        with numpy views (fast vector ops)."""
        n_pm = demand.n_pm
        self.pm_meeting = demand.pm_meeting.tolist()
        self.pm_pupil = demand.pm_pupil.tolist()
        self.pm_cam = demand.pm_cam.tolist()
        self._cam_eff = bytearray(n_pm)  # camera of the current session (policy may switch off)
        self._counted = bytearray(n_pm)  # reconnects of the current session are counted
        self.pm_counted = np.frombuffer(self._counted, dtype=np.uint8)
        self._st = bytearray(n_pm)
        self.pm_status = np.frombuffer(self._st, dtype=np.int8)
        self._att = array("i", bytes(4 * n_pm))
        self.pm_attempts = np.frombuffer(self._att, dtype=np.int32)
        self._join = array("d", [float("nan")]) * n_pm
        self.pm_join_t = np.frombuffer(self._join, dtype=np.float64)
        self.pm_chain = [0.0] * n_pm
        self.pm_session = [0] * n_pm
        self._sess_start = array("d", bytes(8 * n_pm))  # start of the current session
        self.pm_session_start = np.frombuffer(self._sess_start, dtype=np.float64)
        # when each pupil was logged in to the platform (inf: not yet); shared with the logins
        self.login_at_buf = array("d", [float("inf")]) * n_pupils
        self._login_at = self.login_at_buf
        self.login_at = np.frombuffer(self.login_at_buf, dtype=np.float64)
        self._lost = array("d", bytes(8 * n_pupils))
        self.pupil_lost_s = np.frombuffer(self._lost, dtype=np.float64)
        # each pupil-meeting's front end, looked up once (not pupil → school → front end at
        # every attempt: three random reads over arrays of a million entries)
        self._pm_fe = [frontend_of_school[s]
                       for s in demand.pupil_school[demand.pm_pupil].tolist()]

    # ---------------------------------------------------------------- attempts
    def first_attempt(self, pm: int) -> None:
        """Pupil-meeting ``pm``'s first attempt (a stream entry at its pre-sampled time)."""
        self.pm_chain[pm] = self.env.now
        self._cause[pm] = 0
        self.trying += 1
        self._st[pm] = TRYING
        self._attempt(pm)

    def _attempt(self, pm: int) -> None:
        m = self.pm_meeting[pm]
        now = self.env.now
        st = self.m_state[m]
        if st in (M_FAILED, M_CLOSED) or now >= self.m_end[m]:
            self.give_up(pm, min(now, self.m_end[m]))
            return
        fe = self._pm_fe[pm]
        if not fe.up and self._settle and self.settle_outages and self._while_down(pm, m, fe):
            return
        self._att[pm] += 1
        p = self.m_platform[m]
        self._c_attempt[p].append(now)
        pupil = self.pm_pupil[pm]
        svc = fe.join_service_s if self._login_at[pupil] <= now else fe.login_service_s
        fe.submit(pm, svc, self._frontend_done)

    def _while_down(self, pm: int, m: int, fe: RequestQueue) -> bool:
        """The pupil's front end is down: settle at once the attempts of its retry chain that
        fall before the server can be up again and before the meeting could fail (False: too
        little is known, go event by event).

        Each attempt fails on arrival; the only thing that could change the chain meanwhile is
        the meeting failing (its teacher giving up), so the window also ends before the
        earliest time the teacher could give up: a give-up comes at a failed attempt whose next
        retry would exceed the teacher's patience, i.e. not before ``chain + patience − the
        longest back-off``. (A room that is open cannot fail unless a fault declares that it
        fails or re-opens rooms: then nothing is settled, ``sim.model.effects``.) A give-up in the
        window is scheduled at its time, so the live counters stay right.
        """
        now = self.env.now
        st = self.m_state[m]
        end = self.m_end[m]
        if st == M_OPEN:
            safe = end
        else:
            chain_t = self.m_t_chain[m] if st == M_OPENING else self.m_teacher_t[m]
            safe = min(chain_t + self.rooms.teacher_patience, end) - self._rule.max_backoff
        until = fe.down_until
        if until == _INF:  # no known end: it may come back any time
            return False
        if safe < until:
            until = safe
        if until <= now:
            return False
        p = self.m_platform[m]
        att0 = self._att[pm]
        att, t, gave_up, cause = settle_while_down(
            self._rule, fe, now, att0, self.pm_chain[pm], self.patience, end, until,
            self._c_attempt[p].append, self._c_fail_fe[p].append, self.failed_by_cause)
        self._att[pm] = att
        if not self._cause[pm]:
            self._cause[pm] = cause
        if not gave_up:
            call_at(self.env, t, self._attempt, pm)
        elif t > now:
            call_at(self.env, t, self._give_up_now, pm)
        else:
            self.give_up(pm, now)
        return True

    def _give_up_now(self, pm: int) -> None:
        self.give_up(pm, self.env.now)

    def _frontend_done(self, pm: int, outcome: int) -> None:
        m = self.pm_meeting[pm]
        p = self.m_platform[m]
        now = self.env.now
        if outcome != OK:  # the front end's cause of the failure
            self._c_fail_fe[p].append(now)
            self._failed(pm, outcome)
            return
        pupil = self.pm_pupil[pm]
        if self._login_at[pupil] > now:
            self._login_at[pupil] = now
        st = self.m_state[m]
        if st == M_OPEN:
            disp = self._disp[p]
            if disp.failure_join_share > 0.0 and (outcome := disp.route_join()) != OK:
                self._c_fail_disp[p].append(now)
                self._failed(pm, outcome)
                return
            self.admit(pm, m, now)
        elif st in (M_FAILED, M_CLOSED):
            self.give_up(pm, now)
        elif (outcome := self._disp[p].route_join()) != OK:
            self._c_fail_disp[p].append(now)
            self._failed(pm, outcome)
        elif self.first_pupil_opens:  # policy: the first to arrive creates the room
            if (outcome := self.rooms.create_room(m)) != OK:
                self._c_fail_disp[p].append(now)
                self._failed(pm, outcome)
                return
            if self.admit(pm, m, now):
                self.rooms.room_opened(m, now)
        else:  # the teacher has not opened the room yet: wait for the moderator
            self._st[pm] = LOBBY
            self._lobby.add(m, pm)

    def admit(self, pm: int, m: int, now: float) -> bool:
        """Pupil-meeting ``pm`` joins its open room's node if the node (and the join-rate
        limit) lets it in; else the attempt failed."""
        u, w = self.m_U[m], self.m_W[m]
        cam = self.pm_cam[pm]
        if cam and self._camera is not None:
            cam = self._camera.camera(cam, u)  # policy: no camera in large rooms
        d = join_load_mbit_s(u, w, cam, self.m_screen[m], self._media)
        node = self.m_node[m]
        limiter = self._limiter
        if limiter is not None and (
                outcome := limiter.admit(self.m_platform[m], node, m, now)) != OK:
            self._c_rate[self.m_platform[m]].append(now)
            self._failed(pm, outcome)
            return False
        if (outcome := self.m_pool[m].try_admit(node, d, True)) != OK:
            self._c_fail_cap[self.m_platform[m]].append(now)
            self._failed(pm, outcome)
            return False
        self._cam_eff[pm] = cam
        self.m_U[m] = u + 1
        self.m_W[m] = w + cam
        self._st[pm] = IN_SESSION
        self.trying -= 1
        self.in_session += 1
        session = self.pm_session[pm]
        self._sess_start[pm] = now
        if session == 0:
            self._join[pm] = now
        self.pm_session[pm] = session + 1
        start = self.m_start[m]
        chain = self.pm_chain[pm]
        t0 = start if start > chain else chain
        lost = now - t0
        if lost > 0.0:
            self._lost[self.pm_pupil[pm]] += lost
            self.lost_s += lost
            self._charge(pm, m, t0, lost)
        p = self.m_platform[m]
        self._c_join[p].append(now)
        if self.reconnect_rate_s > 0.0 and (
            self._sim_drops_platform[p]
            or self._pm_fe[pm].tracked
        ):
            # a fault may fail the rejoin: simulate the drop (counted reconnects otherwise)
            self._counted[pm] = 0
            drop = self._rc_rng.exponential(1.0 / self.reconnect_rate_s)
            if now + drop < self.m_end[m] - 60.0:
                call_later(self.env, drop, self._drop, (pm, session + 1))
        else:
            self._counted[pm] = 1
        return True

    def _drop(self, item: tuple[int, int]) -> None:
        """A participant whose rejoin could fail (a fault may hit its way in) drops and rejoins
        through the front end and the dispatcher, event by event."""
        pm, session = item
        if self._st[pm] != IN_SESSION or self.pm_session[pm] != session:
            return  # the meeting closed first: stale timer
        m = self.pm_meeting[pm]
        u, w = self.m_U[m], self.m_W[m]
        cam = self._cam_eff[pm]
        rooms = self.rooms
        d = rooms.load(m, u, w) - rooms.load(m, u - 1, w - cam)
        self.m_pool[m].release(self.m_node[m], 1, d, 1)
        now = self.env.now
        self._sessions.add(self.m_platform[m], now - self._sess_start[pm])
        self.m_U[m] = u - 1
        self.m_W[m] = w - cam
        self.in_session -= 1
        self.trying += 1
        self._st[pm] = TRYING
        self._c_drop[self.m_platform[m]].append(now)
        self.pm_chain[pm] = now
        self._cause[pm] = 0
        self._attempt(pm)  # the browser reloads at once

    def _charge(self, pm: int, m: int, t0: float, lost: float) -> None:
        """Charge lost seconds to the chain's first failure, else the teacher's
        (sim.model.causes)."""
        cause = self._cause[pm] or self._m_cause[m] or MODERATOR_LATE
        self._cause[pm] = cause  # a return after a give-up gives back to the same cause
        self.ledger.charge(cause, pm, t0, lost)

    def _failed(self, pm: int, cause: int) -> None:
        self.failed_by_cause[cause] += 1
        if not self._cause[pm]:
            self._cause[pm] = cause
        now = self.env.now
        m = self.pm_meeting[pm]
        t_next = self._rule.next_try(self._att[pm], now, self.pm_chain[pm], self.patience,
                                     self.m_end[m])
        if t_next is None:
            self.give_up(pm, now)
            return
        self._st[pm] = TRYING
        call_at(self.env, t_next, self._attempt, pm)

    def give_up(self, pm: int, t: float) -> None:
        """The chain ends at ``t`` without getting in: the rest of the meeting is lost (some
        come back later, ``behaviour.give_up_return_share``)."""
        m = self.pm_meeting[pm]
        self._st[pm] = GAVE_UP
        self.trying -= 1
        start = self.m_start[m]
        chain = self.pm_chain[pm]
        end = self.m_end[m]
        t0 = start if start > chain else chain
        lost = end - t0
        if lost > 0.0:
            self._lost[self.pm_pupil[pm]] += lost
            self.lost_s += lost
            self._charge(pm, m, t0, lost)
        self._c_gave_up[self.m_platform[m]].append(t)
        if self.return_share > 0.0 and self._returns.next() < self.return_share:
            t_back = t + self.return_after
            if t_back < end - 60.0 and self.m_state[m] not in (M_FAILED, M_CLOSED):
                call_later(self.env, t_back - self.env.now, self._return, pm)

    def _return(self, pm: int) -> None:
        """A pupil who gave up tries again: the minutes from now on are no longer lost (they
        are counted again by the new chain)."""
        m = self.pm_meeting[pm]
        if self.m_state[m] in (M_FAILED, M_CLOSED):
            return
        back = self.m_end[m] - self.env.now
        if back > 0.0:
            self._lost[self.pm_pupil[pm]] -= back
            self.lost_s -= back
            # returned to the cause the give-up charged (the chain and its cause are unchanged)
            chain = self.pm_chain[pm]
            start = self.m_start[m]
            self._charge(pm, m, start if start > chain else chain, -back)
        self.first_attempt(pm)

    # ---------------------------------------------------------------- the room ends
    def eject(self, m: int, platform: int, now: float) -> None:
        """Meeting ``m``'s node was lost: everyone in it tries to rejoin after a back-off."""
        ended: list[float] = []
        st, counted, sess_start = self._st, self._counted, self._sess_start
        sessions = self._sessions
        for pm in range(self._m_pm_lo[m], self._m_pm_hi[m]):
            if st[pm] != IN_SESSION:
                continue
            if counted[pm]:
                ended.append(sess_start[pm])
            sessions.add(platform, now - sess_start[pm])
            self.in_session -= 1
            self.trying += 1
            st[pm] = TRYING
            self.pm_chain[pm] = now
            self._cause[pm] = NODE_LOSS
            self._c_drop[platform].append(now)
            call_later(self.env, self._rule.delay(1), self._attempt, pm)
        sessions.ended(platform, ended, now)

    def end_sessions(self, m: int, now: float) -> None:
        """Meeting ``m`` ended: the sessions still open end now."""
        # a plain loop: ≈ 20 pupils a meeting, less than the call overhead of numpy
        status, sess_start, counted = self._st, self._sess_start, self._counted
        starts: list[float] = []
        counted_starts: list[float] = []
        for pm in range(self._m_pm_lo[m], self._m_pm_hi[m]):
            if status[pm] == IN_SESSION:
                status[pm] = DONE
                s0 = sess_start[pm]
                starts.append(s0)
                if counted[pm]:
                    counted_starts.append(s0)
        if starts:
            self.in_session -= len(starts)
            p = self.m_platform[m]
            self._sessions.add(p, sum([now - s0 for s0 in starts]))
            if counted_starts:
                self._sessions.ended(p, counted_starts, now)
