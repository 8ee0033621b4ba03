"""Policies planners can decide, each a small class that declares its effects
(``sim.model.effects``):

- :class:`JoinLimiter` — join-rate limits per node and per meeting (refused joins retry);
- :class:`ScaleUpController` — emergency scale-up of reserve nodes;
- :class:`CameraRule` — no camera for pupils joining large rooms;
- :class:`FirstPupilOpens` — the first to arrive creates the room, nobody waits for the teacher;
- :class:`Stagger` — staggered start of whole schools by number, or of year groups by given
  offsets (applied where the demand is drawn, ``sim.model.demand``);
- :class:`StaggerWithinSchool` — each school starts its years or classes in slots (IServ's
  advice, January 2021; also applied where the demand is drawn).

:func:`build` makes the policies a scenario asks for; the behaviour receives the join limiter,
the camera rule and the first-pupil flag, and the scale-up controllers act on the world.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from sim.config import Scenario
from sim.config.interventions import JoinRateLimit, ScaleUp
from sim.model.causes import OK, RATE_LIMITED
from sim.model.effects import Declares, Effect
from sim.model.engine import call_later
from sim.model.world import World


class JoinLimiter(Declares):
    """Token buckets per node and per meeting: a join beyond the rate is refused (and retried
    by the client after its back-off), as jicofo's join-rate limit does."""

    effects = frozenset({Effect.FAILS_REQUESTS})

    def __init__(self, cfg: JoinRateLimit, n_platforms: int):
        self.node_rate = cfg.per_node_per_s
        self.node_burst = float(cfg.node_burst)
        self.meeting_rate = cfg.per_meeting_per_min / 60.0 if cfg.per_meeting_per_min else None
        self.meeting_burst = float(cfg.meeting_burst)
        self._node: list[dict[int, list[float]]] = [{} for _ in range(n_platforms)]
        self._meeting: dict[int, list[float]] = {}

    @staticmethod
    def _take(bucket: list[float], rate: float, burst: float, now: float) -> bool:
        tokens = min(burst, bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return True
        bucket[0] = tokens
        return False

    def admit(self, platform: int, node: int, meeting: int, now: float) -> int:
        """A join to ``node`` of ``meeting`` now: ``OK``, or ``RATE_LIMITED``."""
        if self.meeting_rate is not None:
            b = self._meeting.get(meeting)
            if b is None:
                b = self._meeting[meeting] = [self.meeting_burst, now]
            if not self._take(b, self.meeting_rate, self.meeting_burst, now):
                return RATE_LIMITED
        if self.node_rate is not None:
            nodes = self._node[platform]
            b = nodes.get(node)
            if b is None:
                b = nodes[node] = [self.node_burst, now]
            if not self._take(b, self.node_rate, self.node_burst, now):
                return RATE_LIMITED
        return OK


class ScaleUpController(Declares):
    """Starts reserve nodes of a cluster in steps when its utilisation stays high."""

    effects: ClassVar[frozenset[Effect] | None] = frozenset()  # adds capacity only

    def __init__(self, world: World, cfg: ScaleUp):
        self.world = world
        self.env = world.env
        self.cfg = cfg
        self.platform, self.pool = world.cluster_pool(cfg.cluster)
        self.cluster_index = self.pool.cluster_names.index(cfg.cluster)
        self.reserve = world.cluster_nodes(cfg.cluster, reserve=True)
        self._nodes = [n for n in range(self.pool.n_nodes)
                       if self.pool.cluster_of[n] == self.cluster_index]
        self.pending = False
        self.started: list[tuple[float, int]] = []

    def install(self) -> None:
        call_later(self.env, self.cfg.check_interval_s, self._check)

    def _utilisation(self) -> float:
        """Mean utilisation of the cluster's nodes that are up (1 if none is)."""
        pool = self.pool
        num = 0.0
        n = 0
        for node in self._nodes:
            if not pool.node_up(node):
                continue
            n += 1
            num += pool.utilisation(node)  # the largest of CPU, bandwidth, participant shares
        return num / n if n else 1.0

    def _check(self, _: object = None) -> None:
        env = self.env
        if not self.pending and self.reserve and self._utilisation() > self.cfg.threshold:
            self.pending = True
            call_later(env, self.cfg.delay_min * 60.0, self._start_nodes)
        if env.now + self.cfg.check_interval_s < self.world.day_end:
            call_later(env, self.cfg.check_interval_s, self._check)

    def _start_nodes(self, _: object = None) -> None:
        step = self.reserve[: self.cfg.step_nodes]
        self.reserve = self.reserve[self.cfg.step_nodes:]
        for node in step:
            self.world.restore_node(self.platform, node)
        self.started.append((self.env.now, len(step)))
        self.pending = False


class CameraRule(Declares):
    """Pupils joining a meeting that already has ``off_above`` participants join without
    camera (less egress per node; nobody is refused for it)."""

    effects: ClassVar[frozenset[Effect] | None] = frozenset()

    def __init__(self, off_above: int):
        self.off_above = off_above

    def camera(self, wanted: bool, participants: int) -> bool:
        """Whether a pupil who wants a camera joins with it into a room of ``participants``."""
        return wanted and participants < self.off_above


class FirstPupilOpens(Declares):
    """The first participant (pupil or teacher) creates the room; nobody waits for the
    teacher. The behaviour's pupil chain opens the room when this policy is on."""

    effects = frozenset({Effect.OPENS_ROOMS})


class Stagger(Declares):
    """Staggered start: the timetable shifts by school number and year (``sim.model.demand``)."""

    effects: ClassVar[frozenset[Effect] | None] = frozenset()


class StaggerWithinSchool(Declares):
    """IServ's advice of 8 Jan 2021 (S104): each school starts its years (or classes) in
    slots a few minutes apart, so its own server and uplink see the morning rush spread out
    — staggering whole schools by number cannot do that, it only moves each school's rush
    (applied where the demand is drawn, ``sim.model.demand.within_school_offsets_s``)."""

    effects: ClassVar[frozenset[Effect] | None] = frozenset()  # moves demand in time only


@dataclass
class PolicySet:
    """The policies one run applies."""

    join_limiter: JoinLimiter | None = None
    camera: CameraRule | None = None
    first_pupil_opens: bool = False
    scale_ups: list[ScaleUpController] = field(default_factory=list)
    types: list[type[Declares]] = field(default_factory=list)

    def install(self) -> None:
        for ctl in self.scale_ups:
            ctl.install()


def build(scenario: Scenario, world: World) -> PolicySet:
    """The policies ``scenario`` asks for, acting on ``world``."""
    pol = scenario.policies
    out = PolicySet()
    lim = pol.join_rate_limit
    if lim.per_node_per_s or lim.per_meeting_per_min:
        out.join_limiter = JoinLimiter(lim, len(world.platforms))
        out.types.append(JoinLimiter)
    if pol.camera.cameras_off_above is not None:
        out.camera = CameraRule(pol.camera.cameras_off_above)
        out.types.append(CameraRule)
    if pol.first_pupil_opens_room:
        out.first_pupil_opens = True
        out.types.append(FirstPupilOpens)
    st = pol.stagger
    if st.school_number_slots > 1 or st.offset_min_by_year:
        out.types.append(Stagger)
    if st.staggers_within_schools():
        out.types.append(StaggerWithinSchool)
    out.scale_ups = [ScaleUpController(world, s) for s in pol.scale_up]
    if out.scale_ups:
        out.types.append(ScaleUpController)
    return out
