"""The world of one run: the infrastructure built from the scenario, and the narrow surface
that faults and policies act on.

Built once per replication: the platforms (front end, dispatcher, conference node pool each),
the schools' own servers, and the routing of every school and meeting to its front end.
Faults (``sim.model.faults``) and policies (``sim.model.policies``) only use the methods below —
they
never see the model or the behaviour, so a new fault is a small class, not an edit in five
files. The one reaction that belongs to the people (a lost node ends its meetings and sends
everyone to rejoin) is registered by the model with :meth:`World.on_node_lost`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.config import Scenario
from sim.model.components.conference import NodePool, ParticipantCount
from sim.model.components.platform import Platform
from sim.model.components.request_queue import QueueStats, RequestQueue
from sim.model.components.school_server import SchoolServer
from sim.model.demand import KIND_POISSON, Demand
from sim.model.draws import UnitDraws
from sim.model.engine import Engine
from sim.model.population import TIER_NAMES, Population
from sim.model.seeds import SeedTree


@dataclass(frozen=True)
class PlatformOutcome:
    """A platform at the end of a run: its front end's counters, its nodes' peaks."""

    name: str
    index: int
    frontend: QueueStats
    peak_utilisation: float  # the busiest node's
    peak_participants: int
    peak_joins_per_node_interval: int
    degraded_pupil_s: float = 0.0  # pupil-seconds on degraded nodes
    pupil_meeting_s: float = 0.0  # pupil-seconds in meetings on the platform's nodes


@dataclass(frozen=True)
class WorldOutcome:
    """The infrastructure at the end of a run, as the KPIs read it."""

    count_from: float  # statistics count from here (a validation run's warm-up)
    peak_participants: int  # most people in conferences at once, all platforms
    platforms: list[PlatformOutcome]
    uplinks: dict[str, float] = field(default_factory=dict)  # schools' uplinks, summed


class World:
    """Platforms, school servers and front-end routing of one run."""

    def __init__(self, env: Engine, scenario: Scenario, pop: Population, demand: Demand,
                 seeds: SeedTree):
        self.env = env
        self.day_start = scenario.day.start
        self.day_end = scenario.day.end
        # which nodes or schools a fault hits is drawn from the population seed: the same
        # servers fail in every replication
        self.infra_seeds = SeedTree(scenario.population.seed)
        self.participants = ParticipantCount()
        reserve = {s.cluster: s.reserve_nodes for s in scenario.policies.scale_up}
        self.platforms = [
            Platform(env, i, p, seeds, self.infra_seeds, self.participants, reserve)
            for i, p in enumerate(scenario.platforms)
        ]
        count_from = -np.inf
        if scenario.demand.kind == "poisson" and scenario.demand.poisson is not None:
            count_from = scenario.day.start + scenario.demand.poisson.warmup_s
        self.count_from = count_from  # statistics count from here (a validation run's warm-up)
        for plat in self.platforms:
            plat.frontend.count_from = count_from
        self._pop = pop
        self._build_frontends(scenario, demand, seeds)
        self._node_lost: Callable[[int, int], None] | None = None

    def _build_frontends(self, sc: Scenario, d: Demand, seeds: SeedTree) -> None:
        pop, env = self._pop, self.env
        self.school_servers: list[SchoolServer] = []
        frontends: list[RequestQueue] = []
        draws = UnitDraws.for_cv(
            seeds.rng("school_servers.service"), sc.school_servers.tiers["current"].service_cv
        )
        # the other traffic's share of each school's uplink, drawn for every school (hosted ones
        # too: the same draws whichever schools have their own server)
        bg = sc.school_servers.uplink_background_share
        background = seeds.rng("school_servers.background").uniform(bg.min, bg.max,
                                                                     pop.n_schools)
        for s in range(pop.n_schools):
            plat = self.platforms[int(pop.school_platform[s])]
            tier = int(pop.school_tier[s])
            if pop.school_on_prem[s] and tier >= 0:
                tname = TIER_NAMES[tier]
                server = SchoolServer(
                    env,
                    s,
                    tname,
                    sc.school_servers.tiers[tname],
                    float(pop.school_uplink_mbit_s[s]),
                    float(background[s]),
                    draws,
                )
                self.school_servers.append(server)
                frontends.append(server)
            else:
                frontends.append(plat.frontend)
        # each school's front end: its own server, or its platform's login service
        self.school_frontend = frontends
        mp = pop.school_platform[d.m_school].astype(np.int64)
        if sc.demand.kind == "poisson" and sc.demand.poisson is not None:
            mp[:] = [p.name for p in sc.platforms].index(sc.demand.poisson.platform)
        self.meeting_platform = mp
        platform_fe = [p.frontend for p in self.platforms]
        self.meeting_frontend: list[RequestQueue]
        if d.n_meetings and bool(np.all(d.m_kind == KIND_POISSON)) and np.all(mp == mp[0]):
            self.meeting_frontend = [platform_fe[int(mp[0])]] * d.n_meetings
        else:
            self.meeting_frontend = [
                platform_fe[p] if kind == KIND_POISSON else frontends[s]
                for p, kind, s in zip(mp.tolist(), d.m_kind.tolist(), d.m_school.tolist(),
                                      strict=True)
            ]

    # ------------------------------------------------------------------ lookup
    def platform(self, name: str) -> Platform:
        for p in self.platforms:
            if p.name == name:
                return p
        raise KeyError(name)

    def cluster_pool(self, cluster: str) -> tuple[int, NodePool]:
        """(platform index, node pool) of the platform that runs ``cluster``."""
        for p in self.platforms:
            if cluster in p.pool.cluster_names:
                return p.index, p.pool
        raise KeyError(cluster)

    def cluster_nodes(self, cluster: str, reserve: bool = False) -> list[int]:
        """The nodes of ``cluster`` in its pool: the regular fleet, or (``reserve``) the
        reserve nodes a scale-up policy may start."""
        _, pool = self.cluster_pool(cluster)
        ci = pool.cluster_names.index(cluster)
        res = set(pool.reserve_nodes)
        return [n for n in range(pool.n_nodes)
                if pool.cluster_of[n] == ci and (n in res) == reserve]

    def school_servers_where(self, region: str | None = None, school_type: str | None = None,
                             tier: str | None = None) -> list[SchoolServer]:
        """The schools' own servers, optionally of one region, school type or server tier."""
        pop = self._pop
        out = []
        for s in self.school_servers:
            if region is not None and pop.region_names[pop.school_region[s.school]] != region:
                continue
            if (school_type is not None
                    and pop.type_names[pop.school_type[s.school]] != school_type):
                continue
            if tier is not None and s.tier_name != tier:
                continue
            out.append(s)
        return out

    # ------------------------------------------------------------------ node loss
    def on_node_lost(self, reaction: Callable[[int, int], None]) -> None:
        """Register what happens to the people on a node that fails: ``reaction(platform
        index, node)`` (the behaviour ends its meetings and sends everyone to rejoin)."""
        self._node_lost = reaction

    def lose_node(self, platform: int, node: int) -> None:
        """A node fails: it admits no one and gets no new rooms; its meetings end abruptly."""
        self.platforms[platform].pool.set_node_up(node, False)
        if self._node_lost is not None:
            self._node_lost(platform, node)

    def restore_node(self, platform: int, node: int) -> None:
        """A node is (back) up: it takes new rooms (a repaired or a started reserve node)."""
        self.platforms[platform].pool.set_node_up(node, True)

    # ------------------------------------------------------------------ the end
    def outcome(self) -> WorldOutcome:
        """The counters and peaks the KPIs read (a snapshot, no component)."""
        for p in self.platforms:
            p.pool.degradation.flush()
        ups = [s.uplink for s in self.school_servers if s.uplink is not None]
        uplinks = {"uplink_transfers": float(sum(u.transfers for u in ups)),
                   "uplink_transfers_waited": float(sum(u.waited for u in ups)),
                   "uplink_wait_s": float(sum(u.wait_sum_s for u in ups)),
                   "uplink_transfers_given_up": float(sum(u.given_up for u in ups))}
        return WorldOutcome(self.count_from, self.participants.peak, [
            PlatformOutcome(p.name, p.index, p.frontend.stats(), p.pool.peak_utilisation,
                            p.pool.peak_participants, p.pool.peak_joins_per_node_interval,
                            sum(p.pool.degradation.pupil_s),
                            p.pool.degradation.pupil_meeting_s)
            for p in self.platforms], uplinks)
