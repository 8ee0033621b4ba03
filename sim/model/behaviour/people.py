"""The people of one run, wired: pupils' join chains, rooms and teachers, the lobby, logins,
sessions, and the one retry rule they share (see the package docstring for the map)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.config import Scenario
from sim.model.behaviour.context import PupilDraws, PupilRules, Shared
from sim.model.behaviour.lobby import Lobby
from sim.model.behaviour.logins import Logins
from sim.model.behaviour.pupils import Pupils
from sim.model.behaviour.retry import RetryRule
from sim.model.behaviour.rooms import Rooms
from sim.model.behaviour.sessions import Sessions
from sim.model.causes import Ledger
from sim.model.demand import Demand
from sim.model.draws import UnitDraws
from sim.model.effects import Settling
from sim.model.engine import Engine
from sim.model.policies import PolicySet
from sim.model.recorder import Recorder
from sim.model.world import World


@dataclass(frozen=True)
class PeopleOutcome:
    """The people at the end of a run, as the KPIs read them (views of the final state)."""

    pm_status: np.ndarray  # per pupil-meeting: status (sim.model.states) …
    pm_attempts: np.ndarray  # … attempts
    pm_join_t: np.ndarray  # … first join (NaN: never)
    pupil_lost_s: np.ndarray  # per pupil: meeting seconds lost
    login_status: np.ndarray  # per morning login: status …
    login_t: np.ndarray  # … when it got in
    m_state: list[int]  # per meeting: status …
    m_open_t: list[float]  # … when its room opened (NaN: never)
    trying: int  # pupils still trying (the live counter)
    lost_s: float
    session_s: float  # participant-seconds in conferences …
    session_s_platform: list[float]  # … per platform
    ledger: Ledger  # the charges by cause (sim.model.causes)


class Behaviour:
    """Attempt state machines of all pupils and teachers of one run.

    What the run's faults and policies allow is decided from their declarations
    (``sim.model.effects``) and handed in: ``settle`` (settling retries at a down server) and
    ``rejoins_fail`` (per platform, whether a dropped participant may fail to get back in, so
    that drops are simulated; none by default).

    The stream handlers (:meth:`close_meeting`, :meth:`teacher_first_attempt`,
    :meth:`pupil_first_attempt`, :meth:`login_first_attempt`), the node-loss reaction
    (:meth:`node_down`) and read-only views of the state for the sampler and the KPIs.
    """

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
        rejoins_fail: Sequence[bool] | None = None,
    ):
        b = scenario.behaviour
        pol = policies if policies is not None else PolicySet()
        settle = settle if settle is not None else Settling(logins=True, joins=True)
        platforms = world.platforms
        self.retry = RetryRule(b, draws_backoff)
        self.sessions = Sessions(
            len(platforms), b.reconnect_per_h, recorder,
            rng_counted or np.random.Generator(np.random.PCG64(1)))
        self.lobby = Lobby(b.patience_s)
        run = Shared(env, demand, recorder, self.retry, scenario.media, self.lobby,
                     self.sessions, n_pupils)
        self.rooms = Rooms(run, world, b.teacher_patience_s, pol.join_limiter)
        self.pupils = Pupils(
            run, self.rooms, world.school_frontend,
            PupilRules.of(b, pol, settle.joins,
                          rejoins_fail if rejoins_fail is not None else [False] * len(platforms)),
            PupilDraws(reconnect=rng_reconnect, returns=draws_returns or UnitDraws(
                np.random.Generator(np.random.PCG64(0)), "uniform")))
        self.logins = Logins(run, world.school_frontend, self.pupils.login_at_buf,
                             b.login_patience_s, scenario.day.end, settle.logins)
        # the stream's handlers
        self.close_meeting = self.rooms.close_meeting
        self.teacher_first_attempt = self.rooms.teacher_first_attempt
        self.pupil_first_attempt = self.pupils.first_attempt
        self.login_first_attempt = self.logins.first_attempt
        self.node_down = self.rooms.node_down
        # views for the KPIs (numpy views of the live buffers)
        p, lg = self.pupils, self.logins
        self.pm_status, self.pm_attempts, self.pm_join_t = p.pm_status, p.pm_attempts, p.pm_join_t
        self.pupil_lost_s, self.login_at = p.pupil_lost_s, p.login_at
        self.lg_status, self.lg_t, self.lg_attempts = lg.status, lg.t, lg.attempts
        self.m_state, self.m_open_t = self.rooms.m_state, self.rooms.m_open_t

    @property
    def settle_outages(self) -> bool:
        """Settle retries at a down server at once (False: event by event, the reference)."""
        return self.pupils.settle_outages

    @settle_outages.setter
    def settle_outages(self, on: bool) -> None:
        self.pupils.settle_outages = on
        self.logins.settle_outages = on

    # live counters and totals
    @property
    def trying(self) -> int:
        return self.pupils.trying

    @property
    def in_session(self) -> int:
        return self.pupils.in_session

    @property
    def lobby_n(self) -> int:
        return self.lobby.n

    @property
    def lost_s(self) -> float:
        return self.pupils.lost_s

    @property
    def session_s(self) -> float:
        return self.sessions.session_s

    @property
    def session_s_platform(self) -> list[float]:
        return self.sessions.session_s_platform

    @property
    def reconnects_counted(self) -> int:
        return self.sessions.reconnects_counted

    @property
    def reconnects_expected(self) -> float:
        return self.sessions.reconnects_expected

    def outcome(self) -> PeopleOutcome:
        """What the KPIs read of the people at the end of the run."""
        p = self.pupils
        return PeopleOutcome(p.pm_status, p.pm_attempts, p.pm_join_t, p.pupil_lost_s,
                             self.lg_status, self.lg_t, self.m_state, self.m_open_t, p.trying,
                             p.lost_s, self.sessions.session_s,
                             self.sessions.session_s_platform, p.ledger)

    def count_reconnects(self) -> None:
        """Draw the counted reconnects of every session ended (end of run)."""
        self.sessions.count_reconnects()
