"""Rooms and teachers: a teacher's attempt creates the room, the lobby is let in, the meeting
ends (or its node is lost and everyone rejoins).

A teacher's attempt: front end → the dispatcher places the room on a node (once) → the
teacher joins the node; then the lobby is let in. A teacher who gives up leaves the room
unopened and its lobby gives up (a room the first pupil opened, by policy, goes on). In
validation runs (``demand.kind: poisson``) every room is a room of one whose "teacher" is the
arriving person: recorded under the pupils' codes, closed after its holding time.

Room state lives in plain lists indexed by meeting (``m``), shared with the pupils' chains.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.model.behaviour.context import Shared
from sim.model.causes import OK
from sim.model.components.conference import NodePool, meeting_load_mbit_s
from sim.model.demand import KIND_POISSON
from sim.model.engine import call_at, call_later
from sim.model.policies import JoinLimiter
from sim.model.recorder import Code
from sim.model.states import M_CLOSED, M_FAILED, M_OPEN, M_OPENING, M_PENDING
from sim.model.world import World


class Rooms:
    """The meetings of one run: their rooms, their teachers' attempt chains, their ends."""

    def __init__(self, run: Shared, world: World, teacher_patience_s: float,
                 limiter: JoinLimiter | None):
        self.env = run.env
        self.rec = run.recorder
        self._rule = run.retry
        self.teacher_patience = teacher_patience_s
        self._media = run.media
        self._limiter = limiter
        self._sessions = run.sessions
        self._lobby = run.lobby
        demand = run.demand
        platforms = world.platforms
        self.platforms = platforms
        n_m = demand.n_meetings
        # plain lists for fast scalar access in callbacks
        self.m_platform: list[int] = world.meeting_platform.tolist()
        self.m_frontend = world.meeting_frontend
        pools = [pl.pool for pl in platforms]
        self.m_pool: list[NodePool] = [pools[p] for p in self.m_platform]
        self.disp = [pl.dispatcher for pl in platforms]
        self.m_start: list[float] = demand.m_start.tolist()
        self.m_end: list[float] = demand.m_end.tolist()
        self.m_hold: list[float] = demand.m_hold.tolist()
        self.m_screen: list[bool] = demand.m_screen.tolist()
        self.m_tcam: list[bool] = demand.m_teacher_cam.tolist()
        self.m_kind: list[int] = demand.m_kind.tolist()
        self.m_teacher_t: list[float] = demand.m_teacher_t.tolist()
        self.m_pm_lo: list[int] = demand.m_pm_lo.tolist()  # the meeting's pupil-meetings: lo … hi-1
        self.m_pm_hi: list[int] = demand.m_pm_hi.tolist()
        self.m_node = [-1] * n_m
        self.m_state = [M_PENDING] * n_m
        self.m_U = [0] * n_m  # participants in the room
        self.m_W = [0] * n_m  # webcams on in the room
        self.m_open_t = [float("nan")] * n_m
        self.m_host_in = [float("nan")] * n_m  # when the teacher (host) got in
        self.m_t_chain = [0.0] * n_m
        self.m_t_attempts = [0] * n_m
        # the cause code (sim.model.causes) of the teacher's first failure (0: none), charged for
        # the pupils who lost minutes waiting for this room without failing themselves
        self.m_cause = bytearray(n_m)
        # what a lost node or a meeting's end does to the pupils in the room (the pupils'
        # chains, attached by the behaviour)
        self._eject: Callable[[int, int, float], None] | None = None
        self._end_sessions: Callable[[int, float], None] | None = None

    def attach(self, eject: Callable[[int, int, float], None],
               end_sessions: Callable[[int, float], None]) -> None:
        self._eject = eject
        self._end_sessions = end_sessions

    def load(self, m: int, u: int, w: int) -> float:
        """Egress of meeting ``m`` with ``u`` participants and ``w`` webcams (BBB's rule)."""
        return meeting_load_mbit_s(u, w, self.m_screen[m], self._media)

    def host_code(self, m: int, pupil_code: Code, teacher_code: Code) -> Code:
        # In Poisson (validation) mode the host of a single-person room is the "pupil".
        return pupil_code if self.m_kind[m] == KIND_POISSON else teacher_code

    # ---------------------------------------------------------------- teachers
    def teacher_first_attempt(self, m: int) -> None:
        self.m_t_chain[m] = self.env.now
        if self.m_state[m] == M_PENDING:
            self.m_state[m] = M_OPENING
        self._teacher_attempt(m)

    def _teacher_wants_in(self, m: int) -> bool:
        st = self.m_state[m]
        return st == M_OPENING or (st == M_OPEN and self.m_host_in[m] != self.m_host_in[m])

    def _teacher_attempt(self, m: int) -> None:
        if not self._teacher_wants_in(m):
            return  # the meeting ended while the teacher waited for a retry
        now = self.env.now
        self.m_t_attempts[m] += 1
        self.rec.rec(self.host_code(m, Code.ATTEMPT, Code.T_ATTEMPT), self.m_platform[m], now)
        fe = self.m_frontend[m]
        fe.submit(m, fe.join_service_s, self._teacher_frontend_done)

    def create_room(self, m: int) -> int:
        """Have the dispatcher place the room on a node (once): ``OK``, or the cause the
        dispatcher refused it for."""
        if self.m_node[m] >= 0:
            return OK
        node, outcome = self.disp[self.m_platform[m]].place()
        if outcome == OK:
            self.m_node[m] = node
        return outcome

    def _teacher_frontend_done(self, m: int, outcome: int) -> None:
        if not self._teacher_wants_in(m):
            return  # the meeting ended while the request was in the front end
        p = self.m_platform[m]
        now = self.env.now
        if outcome != OK:  # the front end's cause of the failure
            self.rec.rec(self.host_code(m, Code.FAIL_FRONTEND, Code.T_FAIL), p, now)
            self._teacher_failed(m, outcome)
            return
        opened = self.m_state[m] == M_OPEN  # by the first pupil (policy)
        if not opened and (outcome := self.create_room(m)) != OK:
            self.rec.rec(self.host_code(m, Code.FAIL_DISPATCH, Code.T_FAIL), p, now)
            self._teacher_failed(m, outcome)
            return
        cam = self.m_tcam[m]
        u, w = self.m_U[m], self.m_W[m]
        d = self.load(m, u + 1, w + cam) - self.load(m, u, w)
        node = self.m_node[m]
        if self._limiter is not None and (outcome := self._limiter.admit(p, node, m, now)) != OK:
            self.rec.rec(self.host_code(m, Code.FAIL_CAPACITY, Code.T_FAIL), p, now)
            self._teacher_failed(m, outcome)
            return
        if (outcome := self.m_pool[m].try_admit(node, d)) != OK:
            self.rec.rec(self.host_code(m, Code.FAIL_CAPACITY, Code.T_FAIL), p, now)
            self._teacher_failed(m, outcome)
            return
        self.m_U[m] = u + 1
        self.m_W[m] = w + int(cam)
        self.m_host_in[m] = now
        self.rec.rec(self.host_code(m, Code.JOIN_OK, Code.T_OPEN), p, now)
        if not opened:
            self.room_opened(m, now)

    def room_opened(self, m: int, now: float) -> None:
        """The room is open: a validation room's end is scheduled, the lobby let in."""
        self.m_state[m] = M_OPEN
        self.m_open_t[m] = now
        if self.m_kind[m] == KIND_POISSON:
            call_later(self.env, self.m_hold[m], self.close_meeting, m)
        self._lobby.release(m, now, opened=True)

    def _teacher_failed(self, m: int, cause: int) -> None:
        if not self.m_cause[m]:
            self.m_cause[m] = cause
        t_next = self._rule.next_try(self.m_t_attempts[m], self.env.now, self.m_t_chain[m],
                                     self.teacher_patience, self.m_end[m])
        if t_next is None:
            self._teacher_give_up(m)
            return
        call_at(self.env, t_next, self._teacher_attempt, m)

    def _teacher_give_up(self, m: int) -> None:
        now = self.env.now
        p = self.m_platform[m]
        self.rec.rec(self.host_code(m, Code.GAVE_UP, Code.T_GAVE_UP), p, now)
        if self.m_state[m] == M_OPEN:
            return  # a pupil-opened room goes on without its teacher
        self.m_state[m] = M_FAILED
        node = self.m_node[m]
        if node >= 0:
            self.disp[p].close(node)
            self.m_node[m] = -1
        self._lobby.release(m, now, opened=False)

    def _pupils_in(self, m: int) -> int:
        """Pupils in open room ``m``: its participants but the teacher, if in."""
        host_in = self.m_host_in[m]
        return self.m_U[m] - (host_in == host_in)

    def _host_leaves(self, m: int, now: float) -> None:
        host_in = self.m_host_in[m]
        if host_in == host_in:  # not NaN: the teacher was in
            self._sessions.add(self.m_platform[m], now - host_in)

    # ---------------------------------------------------------------- a lost node
    def node_down(self, platform: int, node: int) -> None:
        """A node has failed (``World.lose_node``): its meetings end abruptly; everyone in
        them tries to rejoin and the rooms are re-created elsewhere by the dispatcher."""
        pool = self.platforms[platform].pool
        disp = self.disp[platform]
        now = self.env.now
        eject = self._eject
        assert eject is not None
        for m in [m for m, n in enumerate(self.m_node)
                  if n == node and self.m_platform[m] == platform]:
            if self.m_state[m] == M_OPEN:
                u, w = self.m_U[m], self.m_W[m]
                pool.release(node, u, self.load(m, u, w), self._pupils_in(m))
                self._host_leaves(m, now)
                self.m_host_in[m] = float("nan")
                self.m_U[m] = self.m_W[m] = 0
                eject(m, platform, now)
                # the teacher re-creates the room
                self.m_state[m] = M_OPENING
                self.m_t_chain[m] = now
                self.m_t_attempts[m] = 0
                call_later(self.env, self._rule.delay(1), self._teacher_attempt, m)
            disp.close(node)
            self.m_node[m] = -1

    # ---------------------------------------------------------------- meeting end
    def close_meeting(self, m: int) -> None:
        """The meeting's end (a stream entry; a validation room's holding time)."""
        st = self.m_state[m]
        now = self.env.now
        if st == M_OPEN:
            node = self.m_node[m]
            u, w = self.m_U[m], self.m_W[m]
            self.m_pool[m].release(node, u, self.load(m, u, w), self._pupils_in(m))
            self.disp[self.m_platform[m]].close(node)
            self.m_U[m] = self.m_W[m] = 0
            self._host_leaves(m, now)
        elif st == M_OPENING:
            # The teacher never got in before the end: the room is given up.
            node = self.m_node[m]
            if node >= 0:
                self.disp[self.m_platform[m]].close(node)
                self.m_node[m] = -1
            self.rec.rec(self.host_code(m, Code.GAVE_UP, Code.T_GAVE_UP), self.m_platform[m],
                         now)
            st = M_FAILED
        self.m_state[m] = M_CLOSED if st != M_FAILED else M_FAILED
        end_sessions = self._end_sessions
        assert end_sessions is not None
        end_sessions(m, now)
        self._lobby.release(m, now, opened=False)
        # Pupils waiting for a retry find the meeting closed when their timer fires.
