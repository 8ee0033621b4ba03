"""Pupils and teachers: attempts, back-off, give-up — the part that turns a fault into a storm.

State lives in numpy arrays indexed by meeting (``m``), pupil-meeting (``pm``, one intending
participant of one meeting), morning login (``lg``) and pupil. Each step of an attempt is a
callback; nothing here is a generator process.

A pupil's attempt: front end (the school's own server, or the platform's login service; a
login the first time that day, a cheaper join request after) → dispatcher (routes the join) →
the room's node (admits if it has room). Before the teacher has opened the room the pupil
waits in the lobby ("waiting for the moderator"). A failed attempt is retried after an
exponential back-off with jitter; when the next retry would exceed the patience budget, or
fall after the meeting's end, the pupil gives up and the rest of the meeting is lost.

A teacher's attempt creates the room: front end → dispatcher places it on a node → the
teacher joins; then the lobby is let in. A teacher who gives up leaves the room unopened and
its lobby gives up.

A server that is down fails every request on arrival. When the outage's end is known (a
crashed server's restart, a repair), a retry chain that meets it is settled at once up to that
end — the same attempts, failures, back-off draws and give-up, without an event per attempt
(``_logins_while_down``, ``_pupil_while_down``; exact, see tests/functional/
test_outage_settling.py).

Lost pupil-minutes of a chain of attempts: from the later of meeting start and the chain's
start until the join (or until the meeting's end if never joined). Lateness by the pupil's own
choice (arrival jitter) is not counted as lost.
"""

from __future__ import annotations

from array import array

import numpy as np

from sim.components.conference import NodePool
from sim.components.request_queue import RequestQueue
from sim.config import Scenario
from sim.demand import KIND_POISSON, Demand
from sim.draws import UnitDraws
from sim.effects import Settling
from sim.engine import Engine, call_at, call_later
from sim.policies import PolicySet
from sim.recorder import Code, Recorder
from sim.states import (
    DONE,
    GAVE_UP,
    IN_SESSION,
    LOBBY,
    M_CLOSED,
    M_FAILED,
    M_OPEN,
    M_OPENING,
    M_PENDING,
    TRYING,
)
from sim.world import World

_INF = float("inf")



class Behaviour:
    """Attempt state machines of all pupils and teachers of one run."""

    def __init__(
        self,
        env: Engine,
        scenario: Scenario,
        demand: Demand,
        world: World,
        recorder: Recorder,
        draws_backoff: UnitDraws,
        rng_reconnect: np.random.Generator,
        n_pupils: int,
        draws_returns: UnitDraws | None = None,
        rng_counted: np.random.Generator | None = None,
        policies: PolicySet | None = None,
        settle: Settling | None = None,
    ):
        self.env = env
        self.sc = scenario
        self.d = demand
        platforms = world.platforms
        meeting_platform = world.meeting_platform
        meeting_frontend = world.meeting_frontend
        pupil_frontend_of_school = world.school_frontend
        pol = policies if policies is not None else PolicySet()
        settle = settle if settle is not None else Settling(logins=True, joins=True)
        self.platforms = platforms
        self.rec = recorder
        b = scenario.behaviour
        self.retries = b.retries
        self.backoff_initial = b.backoff_initial_s
        self.backoff_factor = b.backoff_factor
        self.backoff_max = b.backoff_max_s
        self.jitter = b.backoff_jitter
        self.patience = b.patience_s
        self.teacher_patience = b.teacher_patience_s
        self.login_patience = b.login_patience_s
        self.reconnect_rate_s = b.reconnect_per_h / 3600.0
        m = scenario.media
        self.audio, self.cam_rate, self.screen_rate = (
            m.audio_mbit_s,
            m.webcam_mbit_s,
            m.screenshare_mbit_s,
        )
        self._backoff = draws_backoff
        self._returns = draws_returns or UnitDraws(np.random.Generator(np.random.PCG64(0)),
                                                   "uniform")
        # settle login and join retries that fall within a front-end outage of known end at
        # once (False: event by event, as a reference for the tests); whether the run's faults
        # and policies allow it is decided from their declarations (sim.effects.settling)
        self.settle_outages = True
        self._settle_logins = settle.logins
        self._settle_joins = b.retries and settle.joins
        self._max_backoff = b.backoff_max_s * (1.0 + b.backoff_jitter)
        self.return_share = b.give_up_return_share
        self.return_after = b.give_up_return_after_s
        self.first_pupil_opens = pol.first_pupil_opens
        self._camera = pol.camera
        self._limiter = pol.join_limiter
        # recorder channels of the hot paths, bound once (one list append per outcome)
        self._c_attempt = recorder.channel(Code.ATTEMPT)
        self._c_join = recorder.channel(Code.JOIN_OK)
        self._c_fail_fe = recorder.channel(Code.FAIL_FRONTEND)
        self._c_fail_disp = recorder.channel(Code.FAIL_DISPATCH)
        self._c_fail_cap = recorder.channel(Code.FAIL_CAPACITY)
        self._c_drop = recorder.channel(Code.DROP)
        self._c_gave_up = recorder.channel(Code.GAVE_UP)
        self._c_rate = recorder.channel(Code.RATE_LIMITED)
        self._rc_rng = rng_reconnect  # drops simulated event by event
        # counted reconnects: a stream of their own, so that drawing them at the end does not
        # move the simulated drops' draws
        self._counted_rng = rng_counted or np.random.Generator(np.random.PCG64(1))

        n_m, n_pm = demand.n_meetings, demand.n_pm
        # meetings: plain lists for fast scalar access in callbacks
        self.m_platform = meeting_platform.tolist()
        self.m_frontend = meeting_frontend
        pools = [pl.pool for pl in platforms]
        self.m_pool: list[NodePool] = [pools[p] for p in self.m_platform]
        self._disp = [pl.dispatcher for pl in platforms]
        self.m_start = demand.m_start.tolist()
        self.m_end = demand.m_end.tolist()
        self.m_hold = demand.m_hold.tolist()
        self.m_screen = demand.m_screen.tolist()
        self.m_tcam = demand.m_teacher_cam.tolist()
        self.m_kind = demand.m_kind.tolist()
        self.m_teacher_t = demand.m_teacher_t.tolist()
        self._m_pm_lo = demand.m_pm_lo.tolist()  # the meeting's pupil-meetings: lo … hi-1
        self._m_pm_hi = demand.m_pm_hi.tolist()
        self.m_node = [-1] * n_m
        self.m_state = [M_PENDING] * n_m
        self.m_U = [0] * n_m
        self.m_W = [0] * n_m
        self.m_open_t = [float("nan")] * n_m
        self.m_host_in = [float("nan")] * n_m  # when the teacher (host) got in
        self.m_t_chain = [0.0] * n_m
        self.m_t_attempts = [0] * n_m
        self.lobby: dict[int, list[int]] = {}
        # pupil-meetings
        self.pm_meeting = demand.pm_meeting.tolist()
        self.pm_pupil = demand.pm_pupil.tolist()
        self.pm_cam = demand.pm_cam.tolist()
        self._cam_eff = bytearray(n_pm)  # camera of the current session (policy may switch off)
        self._counted = bytearray(n_pm)  # reconnects of the current session are counted
        # sessions ended with counted reconnects, drawn at the end (see _sessions_ended)
        self._rc_starts: list[float] = []
        self._rc_ends: list[float] = []
        self._rc_platforms: list[int] = []
        self._rc_sizes: list[int] = []
        self.reconnects_counted = 0  # drawn so far, and their expected number
        self.reconnects_expected = 0.0
        self.pm_counted = np.frombuffer(self._counted, dtype=np.uint8)
        # platforms whose rejoins can fail (a dispatcher or front-end fault is declared)
        self._sim_drops_platform = [
            any(getattr(f, "platform", None) == pl.name for f in scenario.faults)
            for pl in platforms
        ]
        # Hot state in Python buffers (fast scalar access) with numpy views (fast vector ops).
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
        # participant-seconds in conferences (pupils and hosts), summed at each leave: an
        # exact W·λ for Little's law against the sampled occupancy
        self.session_s = 0.0
        self.session_s_platform = [0.0] * len(platforms)
        # pupils
        # when each pupil was logged in to the platform (inf: not yet)
        self._login_at = array("d", [float("inf")]) * n_pupils
        self.login_at = np.frombuffer(self._login_at, dtype=np.float64)
        self._lost = array("d", bytes(8 * n_pupils))
        self.pupil_lost_s = np.frombuffer(self._lost, dtype=np.float64)
        self.pupil_frontend = pupil_frontend_of_school
        self.pupil_school = demand.pupil_school.tolist()
        # each pupil-meeting's front end, looked up once (not pupil → school → front end at
        # every attempt: three random reads over arrays of a million entries)
        self._pm_fe = [pupil_frontend_of_school[s]
                       for s in demand.pupil_school[demand.pm_pupil].tolist()]
        # morning logins
        self.lg_pupil = demand.login_pupil.tolist()
        n_lg = len(self.lg_pupil)
        # the front end each login goes to (its school's server or the platform's service)
        pupil_school = demand.pupil_school
        self._lg_fe = [pupil_frontend_of_school[s]
                       for s in pupil_school[demand.login_pupil].tolist()]
        self._lg_st = bytearray(n_lg)
        self.lg_status = np.frombuffer(self._lg_st, dtype=np.int8)
        self.lg_chain = [0.0] * n_lg
        self._lg_t = array("d", [float("nan")]) * n_lg
        self.lg_t = np.frombuffer(self._lg_t, dtype=np.float64)
        self.lg_first_t = demand.login_t
        self._lg_att = array("i", bytes(4 * n_lg))
        self.lg_attempts = np.frombuffer(self._lg_att, dtype=np.int32)
        self._c_login_attempt = recorder.channel(Code.LOGIN_ATTEMPT)[-1].append
        self._c_login_ok = recorder.channel(Code.LOGIN_OK)[-1].append
        self._c_login_fail = recorder.channel(Code.LOGIN_FAIL)[-1].append
        # live counters for the per-minute series
        self.trying = 0  # pupil chains in progress (incl. lobby)
        self.in_session = 0  # pupils in a conference
        self.lobby_n = 0
        self.lost_s = 0.0

    # ---------------------------------------------------------------- helpers
    def _delay(self, k: int) -> float:
        """Back-off before retry number k (1-based)."""
        base = self.backoff_initial * self.backoff_factor ** (k - 1)
        if base > self.backoff_max:
            base = self.backoff_max
        j = self.jitter
        return base * (1.0 - j + 2.0 * j * self._backoff.next())

    def _next_try(self, att: int, t: float, chain: float, patience: float,
                  end: float) -> float | None:
        """When the retry after failed attempt number ``att`` (at ``t``) comes, or None when
        the user gives up instead: no retries, the patience since the chain's start at
        ``chain`` would be exceeded, or the retry would fall at or after ``end``. One rule for
        pupils, teachers and logins, event by event or settled."""
        if not self.retries:
            return None
        t_next = t + self._delay(att)
        if t_next - chain > patience or t_next >= end:
            return None
        return t_next

    def _load(self, u: int, w: int, screen: bool) -> float:
        if u <= 0:
            return 0.0
        load = w * (u - 1) * self.cam_rate + u * self.audio
        if screen:
            load += (u - 1) * self.screen_rate
        return load

    # ---------------------------------------------------------------- pupils
    def pupil_first_attempt(self, pm: int) -> None:
        self.pm_chain[pm] = self.env.now
        self.trying += 1
        self._st[pm] = TRYING
        self._pupil_attempt(pm)

    def _pupil_attempt(self, pm: int) -> None:
        m = self.pm_meeting[pm]
        now = self.env.now
        st = self.m_state[m]
        if st in (M_FAILED, M_CLOSED) or now >= self.m_end[m]:
            self._pupil_give_up(pm, min(now, self.m_end[m]))
            return
        fe = self._pm_fe[pm]
        if (not fe.up and self._settle_joins and self.settle_outages
                and self._pupil_while_down(pm, m, fe)):
            return
        self._att[pm] += 1
        p = self.m_platform[m]
        self._c_attempt[p].append(now)
        pupil = self.pm_pupil[pm]
        svc = fe.join_service_s if self._login_at[pupil] <= now else fe.login_service_s
        fe.submit(pm, svc, self._pupil_frontend_done)

    def _pupil_while_down(self, pm: int, m: int, fe: RequestQueue) -> bool:
        """The pupil's front end is down: settle at once the attempts of its retry chain that
        fall before the server can be up again and before the meeting could fail (False: too
        little is known, go event by event).

        Each attempt fails on arrival; the only thing that could change the chain meanwhile is
        the meeting failing (its teacher giving up), so the window also ends before the
        earliest time the teacher could give up: a give-up comes at a failed attempt whose next
        retry would exceed the teacher's patience, i.e. not before ``chain + patience − the
        longest back-off``. (A room that is open cannot fail, unless a node loss re-opens it:
        with node-loss faults nothing is settled.) A give-up in the window is scheduled at its
        time, so the live counters stay right.
        """
        now = self.env.now
        st = self.m_state[m]
        end = self.m_end[m]
        if st == M_OPEN:
            safe = end
        else:
            chain_t = self.m_t_chain[m] if st == M_OPENING else self.m_teacher_t[m]
            safe = min(chain_t + self.teacher_patience, end) - self._max_backoff
        until = fe.down_until
        if until == _INF:  # no known end: it may come back any time
            return False
        if safe < until:
            until = safe
        if until <= now:
            return False
        p = self.m_platform[m]
        attempt, fail = self._c_attempt[p].append, self._c_fail_fe[p].append
        chain = self.pm_chain[pm]
        att = self._att[pm]
        t = now
        while True:
            att += 1
            attempt(t)
            fe.reject_down(t)
            fail(t)
            t_next = self._next_try(att, t, chain, self.patience, end)
            if t_next is None:
                self._att[pm] = att
                if t > now:
                    call_at(self.env, t, self._pupil_give_up_now, pm)
                else:
                    self._pupil_give_up(pm, now)
                return True
            if t_next >= until:
                self._att[pm] = att
                call_at(self.env, t_next, self._pupil_attempt, pm)
                return True
            t = t_next

    def _pupil_give_up_now(self, pm: int) -> None:
        self._pupil_give_up(pm, self.env.now)

    def _pupil_frontend_done(self, pm: int, ok: bool) -> None:
        m = self.pm_meeting[pm]
        p = self.m_platform[m]
        now = self.env.now
        if not ok:
            self._c_fail_fe[p].append(now)
            self._pupil_failed(pm)
            return
        pupil = self.pm_pupil[pm]
        if self._login_at[pupil] > now:
            self._login_at[pupil] = now
        st = self.m_state[m]
        if st == M_OPEN:
            disp = self._disp[p]
            if disp.fail_join_share > 0.0 and not disp.route_join():
                self._c_fail_disp[p].append(now)
                self._pupil_failed(pm)
                return
            self._pupil_admit(pm, m, now)
        elif st in (M_FAILED, M_CLOSED):
            self._pupil_give_up(pm, now)
        elif not self._disp[p].route_join():
            self._c_fail_disp[p].append(now)
            self._pupil_failed(pm)
        elif self.first_pupil_opens:  # policy: the first to arrive creates the room
            if not self._create_room(m, now):
                self._c_fail_disp[p].append(now)
                self._pupil_failed(pm)
                return
            if self._pupil_admit(pm, m, now):
                self._room_opened(m, now)
        else:  # the teacher has not opened the room yet: wait for the moderator
            self._st[pm] = LOBBY
            self.lobby_n += 1
            self.lobby.setdefault(m, []).append(pm)

    def _pupil_admit(self, pm: int, m: int, now: float) -> bool:
        u, w = self.m_U[m], self.m_W[m]
        cam = self.pm_cam[pm]
        if cam and self._camera is not None:
            cam = self._camera.camera(cam, u)  # policy: no camera in large rooms
        # egress growth of the meeting by BBB's rule when a participant joins:
        # Y·(w + cam·u) + audio + screen share (the first one in adds audio only)
        if u > 0:
            d = self.cam_rate * (w + cam * u) + self.audio
            if self.m_screen[m]:
                d += self.screen_rate
        else:
            d = self.audio
        node = self.m_node[m]
        if self._limiter is not None and not self._limiter.allow(self.m_platform[m], node, m,
                                                                   now):
            self._c_rate[self.m_platform[m]].append(now)
            self._pupil_failed(pm)
            return False
        if not self.m_pool[m].try_admit(node, d):
            self._c_fail_cap[self.m_platform[m]].append(now)
            self._pupil_failed(pm)
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
        lost = now - (start if start > chain else chain)
        if lost > 0.0:
            self._lost[self.pm_pupil[pm]] += lost
            self.lost_s += lost
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
                call_later(self.env, drop, self._pupil_drop, (pm, session + 1))
        else:
            self._counted[pm] = 1
        return True

    def _pupil_drop(self, item: tuple[int, int]) -> None:
        """A participant whose rejoin could fail (a fault may hit its way in) drops and rejoins
        through the front end and the dispatcher, event by event."""
        pm, session = item
        if self._st[pm] != IN_SESSION or self.pm_session[pm] != session:
            return  # the meeting closed first: stale timer
        m = self.pm_meeting[pm]
        u, w = self.m_U[m], self.m_W[m]
        cam = self._cam_eff[pm]
        d = self._load(u, w, self.m_screen[m]) - self._load(u - 1, w - cam, self.m_screen[m])
        self.m_pool[m].release(self.m_node[m], 1, d)
        now = self.env.now
        _dt = now - self._sess_start[pm]
        self.session_s += _dt
        self.session_s_platform[self.m_platform[m]] += _dt
        self.m_U[m] = u - 1
        self.m_W[m] = w - cam
        self.in_session -= 1
        self.trying += 1
        self._st[pm] = TRYING
        self._c_drop[self.m_platform[m]].append(now)
        self.pm_chain[pm] = now
        self._pupil_attempt(pm)  # the browser reloads at once

    def _sessions_ended(self, m: int, starts: list[float], now: float) -> None:
        """Sessions that ended now (``starts``: their start times) whose reconnects are counted.

        A participant's client drops and reconnects at ``reconnect_per_h`` (a Poisson
        process, not in the last minute). Where no fault can touch the way back in (no
        dispatcher or front-end fault on the platform, the school's server not subject to an
        outage), a reconnect always succeeds within a fraction of a second, so it is counted
        (as a drop, a join attempt and a join, at a uniform time within the session) instead
        of simulated event by event; elsewhere ``_pupil_drop`` simulates it. Nothing in the
        run depends on these counts, so they are drawn for all sessions at once at the end
        (:meth:`count_reconnects`): one vectorised draw instead of a few numpy calls per
        meeting (≈ 8 % of an ordinary day's run time).
        """
        if self.reconnect_rate_s <= 0.0 or not starts:
            return
        self._rc_starts.extend(starts)
        self._rc_ends.append(now)
        self._rc_platforms.append(self.m_platform[m])
        self._rc_sizes.append(len(starts))

    def count_reconnects(self) -> None:
        """Draw and record the counted reconnects of every session ended so far (end of run).

        Per session of ``d`` seconds (less the last minute): ``k ~ Poisson(rate · d)``
        reconnects at uniform times within it, recorded as drop, join attempt and join.
        """
        if not self._rc_starts:
            return
        starts = np.array(self._rc_starts)
        sizes = np.array(self._rc_sizes)
        ends = np.repeat(np.array(self._rc_ends), sizes)
        platforms = np.repeat(np.array(self._rc_platforms), sizes)
        self._rc_starts, self._rc_ends, self._rc_platforms, self._rc_sizes = [], [], [], []
        dur = np.maximum(ends - starts - 60.0, 0.0)
        rng = self._counted_rng
        lam = self.reconnect_rate_s * dur
        k = rng.poisson(lam)
        total = int(k.sum())
        self.reconnects_expected += float(lam.sum())
        self.reconnects_counted += total
        if not total:
            return
        times = np.repeat(starts, k) + rng.random(total) * np.repeat(dur, k)
        at = np.repeat(platforms, k)
        for p in np.unique(at).tolist():
            raw = times[at == p].tobytes()
            self._c_drop[p].frombytes(raw)
            self._c_attempt[p].frombytes(raw)
            self._c_join[p].frombytes(raw)

    def _pupil_failed(self, pm: int) -> None:
        now = self.env.now
        m = self.pm_meeting[pm]
        t_next = self._next_try(self._att[pm], now, self.pm_chain[pm], self.patience,
                                self.m_end[m])
        if t_next is None:
            self._pupil_give_up(pm, now)
            return
        self._st[pm] = TRYING
        call_at(self.env, t_next, self._pupil_attempt, pm)

    def _pupil_give_up(self, pm: int, t: float) -> None:
        m = self.pm_meeting[pm]
        self._st[pm] = GAVE_UP
        self.trying -= 1
        start = self.m_start[m]
        chain = self.pm_chain[pm]
        end = self.m_end[m]
        lost = end - (start if start > chain else chain)
        if lost > 0.0:
            self._lost[self.pm_pupil[pm]] += lost
            self.lost_s += lost
        self._c_gave_up[self.m_platform[m]].append(t)
        if self.return_share > 0.0 and self._returns.next() < self.return_share:
            t_back = t + self.return_after
            if t_back < end - 60.0 and self.m_state[m] not in (M_FAILED, M_CLOSED):
                call_later(self.env, t_back - self.env.now, self._pupil_return, pm)

    def _pupil_return(self, pm: int) -> None:
        """A pupil who gave up tries again: the minutes from now on are no longer lost (they
        are counted again by the new chain)."""
        m = self.pm_meeting[pm]
        if self.m_state[m] in (M_FAILED, M_CLOSED):
            return
        back = self.m_end[m] - self.env.now
        if back > 0.0:
            self._lost[self.pm_pupil[pm]] -= back
            self.lost_s -= back
        self.pupil_first_attempt(pm)

    # ---------------------------------------------------------------- teachers
    def teacher_first_attempt(self, m: int) -> None:
        self.m_t_chain[m] = self.env.now
        if self.m_state[m] == M_PENDING:
            self.m_state[m] = M_OPENING
        self._teacher_attempt(m)

    def _host_code(self, m: int, pupil_code: Code, teacher_code: Code) -> Code:
        # In Poisson (validation) mode the host of a single-person room is the "pupil".
        return pupil_code if self.m_kind[m] == KIND_POISSON else teacher_code

    def _teacher_wants_in(self, m: int) -> bool:
        st = self.m_state[m]
        return st == M_OPENING or (st == M_OPEN and self.m_host_in[m] != self.m_host_in[m])

    def _teacher_attempt(self, m: int) -> None:
        if not self._teacher_wants_in(m):
            return  # the meeting ended while the teacher waited for a retry
        now = self.env.now
        self.m_t_attempts[m] += 1
        self.rec.rec(self._host_code(m, Code.ATTEMPT, Code.T_ATTEMPT), self.m_platform[m], now)
        fe = self.m_frontend[m]
        fe.submit(m, fe.join_service_s, self._teacher_frontend_done)

    def _create_room(self, m: int, now: float) -> bool:
        """Have the dispatcher place the room on a node (once); False if it fails."""
        if self.m_node[m] >= 0:
            return True
        node = self._disp[self.m_platform[m]].place()
        if node < 0:
            return False
        self.m_node[m] = node
        return True

    def _teacher_frontend_done(self, m: int, ok: bool) -> None:
        if not self._teacher_wants_in(m):
            return  # the meeting ended while the request was in the front end
        p = self.m_platform[m]
        now = self.env.now
        if not ok:
            self.rec.rec(self._host_code(m, Code.FAIL_FRONTEND, Code.T_FAIL), p, now)
            self._teacher_failed(m)
            return
        opened = self.m_state[m] == M_OPEN  # by the first pupil (policy)
        if not opened and not self._create_room(m, now):
            self.rec.rec(self._host_code(m, Code.FAIL_DISPATCH, Code.T_FAIL), p, now)
            self._teacher_failed(m)
            return
        cam = self.m_tcam[m]
        scr = self.m_screen[m]
        u, w = self.m_U[m], self.m_W[m]
        d = self._load(u + 1, w + cam, scr) - self._load(u, w, scr)
        node = self.m_node[m]
        if (self._limiter is not None and not self._limiter.allow(p, node, m, now)) or not (
            self.m_pool[m].try_admit(node, d)
        ):
            self.rec.rec(self._host_code(m, Code.FAIL_CAPACITY, Code.T_FAIL), p, now)
            self._teacher_failed(m)
            return
        self.m_U[m] = u + 1
        self.m_W[m] = w + int(cam)
        self.m_host_in[m] = now
        self.rec.rec(self._host_code(m, Code.JOIN_OK, Code.T_OPEN), p, now)
        if not opened:
            self._room_opened(m, now)

    def _room_opened(self, m: int, now: float) -> None:
        self.m_state[m] = M_OPEN
        self.m_open_t[m] = now
        if self.m_kind[m] == KIND_POISSON:
            call_later(self.env, self.m_hold[m], self.close_meeting, m)
        waiting = self.lobby.pop(m, None)
        if waiting:
            self.lobby_n -= len(waiting)
            for pm in waiting:
                if now - self.pm_chain[pm] > self.patience:
                    self._pupil_give_up(pm, self.pm_chain[pm] + self.patience)
                else:
                    self._pupil_admit(pm, m, now)

    def _teacher_failed(self, m: int) -> None:
        t_next = self._next_try(self.m_t_attempts[m], self.env.now, self.m_t_chain[m],
                                self.teacher_patience, self.m_end[m])
        if t_next is None:
            self._teacher_give_up(m)
            return
        call_at(self.env, t_next, self._teacher_attempt, m)

    def _teacher_give_up(self, m: int) -> None:
        now = self.env.now
        p = self.m_platform[m]
        self.rec.rec(self._host_code(m, Code.GAVE_UP, Code.T_GAVE_UP), p, now)
        if self.m_state[m] == M_OPEN:
            return  # a pupil-opened room goes on without its teacher
        self.m_state[m] = M_FAILED
        node = self.m_node[m]
        if node >= 0:
            self._disp[p].close(node)
            self.m_node[m] = -1
        waiting = self.lobby.pop(m, None)
        if waiting:
            self.lobby_n -= len(waiting)
            for pm in waiting:
                self._pupil_give_up(pm, min(now, self.pm_chain[pm] + self.patience))

    # ---------------------------------------------------------------- faults
    def node_down(self, platform: int, node: int) -> None:
        """A node has failed (``World.lose_node``): its meetings end abruptly; everyone in
        them tries to rejoin and the rooms are re-created elsewhere by the dispatcher."""
        pool = self.platforms[platform].pool
        disp = self._disp[platform]
        now = self.env.now
        for m in [m for m, n in enumerate(self.m_node)
                  if n == node and self.m_platform[m] == platform]:
            st = self.m_state[m]
            if st == M_OPEN:
                u, w = self.m_U[m], self.m_W[m]
                pool.release(node, u, self._load(u, w, self.m_screen[m]))
                host_in = self.m_host_in[m]
                if host_in == host_in:  # not NaN: the teacher was in
                    _dt = now - host_in
                    self.session_s += _dt
                    self.session_s_platform[self.m_platform[m]] += _dt
                self.m_host_in[m] = float("nan")
                self.m_U[m] = self.m_W[m] = 0
                lo, hi = int(self.d.m_pm_lo[m]), int(self.d.m_pm_hi[m])
                ended: list[float] = []
                for pm in range(lo, hi):
                    if self._st[pm] != IN_SESSION:
                        continue
                    if self._counted[pm]:
                        ended.append(self._sess_start[pm])
                    _dt = now - self._sess_start[pm]
                    self.session_s += _dt
                    self.session_s_platform[self.m_platform[m]] += _dt
                    self.in_session -= 1
                    self.trying += 1
                    self._st[pm] = TRYING
                    self.pm_chain[pm] = now
                    self._c_drop[platform].append(now)
                    call_later(self.env, self._delay(1), self._pupil_attempt, pm)
                self._sessions_ended(m, ended, now)
                # the teacher re-creates the room
                self.m_state[m] = M_OPENING
                self.m_t_chain[m] = now
                self.m_t_attempts[m] = 0
                call_later(self.env, self._delay(1), self._teacher_attempt, m)
            disp.close(node)
            self.m_node[m] = -1

    # ---------------------------------------------------------------- meeting end
    def close_meeting(self, m: int) -> None:
        st = self.m_state[m]
        now = self.env.now
        if st == M_OPEN:
            node = self.m_node[m]
            u, w = self.m_U[m], self.m_W[m]
            self.m_pool[m].release(node, u, self._load(u, w, self.m_screen[m]))
            self.platforms[self.m_platform[m]].dispatcher.close(node)
            self.m_U[m] = self.m_W[m] = 0
            host_in = self.m_host_in[m]
            if host_in == host_in:  # not NaN: the teacher was in
                _dt = now - host_in
                self.session_s += _dt
                self.session_s_platform[self.m_platform[m]] += _dt
        elif st == M_OPENING:
            # The teacher never got in before the end: the room is given up.
            node = self.m_node[m]
            if node >= 0:
                self.platforms[self.m_platform[m]].dispatcher.close(node)
                self.m_node[m] = -1
            self.rec.rec(self._host_code(m, Code.GAVE_UP, Code.T_GAVE_UP), self.m_platform[m], now)
            st = M_FAILED
        self.m_state[m] = M_CLOSED if st != M_FAILED else M_FAILED
        # the sessions still open end now (a plain loop: ≈ 20 pupils a meeting, less than
        # the call overhead of the numpy operations it replaced)
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
            _dt = sum([now - s0 for s0 in starts])
            self.session_s += _dt
            self.session_s_platform[self.m_platform[m]] += _dt
            if counted_starts:
                self._sessions_ended(m, counted_starts, now)
        waiting = self.lobby.pop(m, None)
        if waiting:
            self.lobby_n -= len(waiting)
            for pm in waiting:
                self._pupil_give_up(pm, min(now, self.pm_chain[pm] + self.patience))
        # Pupils waiting for a retry find the meeting closed when their timer fires.

    # ---------------------------------------------------------------- morning logins
    # A login's outcome is known when it arrives (FIFO front end): no event unless it fails
    # and is retried.
    def login_first_attempt(self, i: int) -> None:
        now = self.env.now
        pupil = self.lg_pupil[i]
        login_at = self._login_at
        if login_at[pupil] <= now:
            self._lg_st[i] = DONE  # already logged in (joined a meeting earlier)
            self._lg_t[i] = now
            return
        self.lg_chain[i] = now
        self._lg_st[i] = TRYING
        fe = self._lg_fe[i]
        if fe.tracked:
            self._login_attempt(i)
            return
        # _login_attempt and its success, inlined: ≈0.9 M first logins a day
        self._lg_att[i] += 1
        self._c_login_attempt(now)
        ok, t = fe.request(fe.login_service_s)
        if ok:
            if t < login_at[pupil]:
                login_at[pupil] = t
            self._lg_st[i] = DONE
            self._lg_t[i] = t
            self._c_login_ok(t)
            return
        self._login_outcome(i, ok, t)

    def _login_attempt(self, i: int) -> None:
        now = self.env.now
        pupil = self.lg_pupil[i]
        login_at = self._login_at
        if login_at[pupil] <= now:  # logged in meanwhile through a meeting
            self._lg_st[i] = DONE
            self._lg_t[i] = now
            return
        fe = self._lg_fe[i]
        if not fe.up and self._settle_logins and self.settle_outages and fe.down_until < _INF:
            self._logins_while_down(i, fe)
            return
        self._lg_att[i] += 1
        self._c_login_attempt(now)
        if fe.tracked:  # an outage may still fail it: deliver the outcome as an event
            fe.submit(i, fe.login_service_s, self._login_done)
            return
        ok, t = fe.request(fe.login_service_s)
        if ok:  # _login_outcome's success, inlined (the common case)
            if t < login_at[pupil]:
                login_at[pupil] = t
            self._lg_st[i] = DONE
            self._lg_t[i] = t
            self._c_login_ok(t)
            return
        self._login_outcome(i, ok, t)

    def _logins_while_down(self, i: int, fe: RequestQueue) -> None:
        """Login ``i`` finds its front end down: settle at once every attempt of its retry
        chain that falls before the front end can be up again.

        While the server is down each attempt fails on arrival, and nothing can log the
        pupil in meanwhile (the pupil's joins go through the same server), so the chain up to
        the outage's known end (a scheduled restart or repair, :attr:`RequestQueue.down_until`)
        is decided now: the same attempts, failures, back-off draws and give-up as event by
        event, with one scheduled retry — the first one after the outage — instead of two
        events per attempt. During the 08:00 crashes of outdated servers this is most of the
        morning's login traffic (≈ 20 % of all front-end requests of an ordinary day).
        """
        until = fe.down_until
        t = self.env.now
        chain = self.lg_chain[i]
        end = self.sc.day.end
        att = self._lg_att[i]
        attempt, fail = self._c_login_attempt, self._c_login_fail
        while True:
            att += 1
            attempt(t)
            fe.reject_down(t)
            fail(t)
            t_next = self._next_try(att, t, chain, self.login_patience, end)
            if t_next is None:
                self._lg_att[i] = att
                self._lg_st[i] = GAVE_UP
                self.rec.rec(Code.LOGIN_GAVE_UP, -1, t)
                return
            if t_next >= until:
                self._lg_att[i] = att
                call_at(self.env, t_next, self._login_attempt, i)
                return
            t = t_next

    def _login_done(self, i: int, ok: bool) -> None:
        self._login_outcome(i, ok, self.env.now)

    def _login_outcome(self, i: int, ok: bool, t: float) -> None:
        pupil = self.lg_pupil[i]
        if ok:
            if t < self._login_at[pupil]:
                self._login_at[pupil] = t
            self._lg_st[i] = DONE
            self._lg_t[i] = t
            self.rec.rec(Code.LOGIN_OK, -1, t)
            return
        self._c_login_fail(t)
        t_next = self._next_try(self._lg_att[i], t, self.lg_chain[i], self.login_patience,
                                self.sc.day.end)
        if t_next is None:
            self._lg_st[i] = GAVE_UP
            self.rec.rec(Code.LOGIN_GAVE_UP, -1, t)
            return
        call_at(self.env, t_next, self._login_attempt, i)
