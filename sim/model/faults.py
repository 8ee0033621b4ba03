"""Faults: time-windowed, targeted modifiers of components, declared in the scenario.

Each fault is switched on at ``start`` and repaired at ``end`` — at once, or in
``repair_stages`` equal steps ``repair_interval_min`` apart. Users keep retrying while a fault
lasts, so a repair releases a retry wave (``sim.model.behaviour``).

Which nodes or schools a fault hits is drawn from the population seed (the same servers fail
in every replication); what happens to the people is the run's own randomness.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

import numpy as np

from sim.config.interventions import (
    DispatcherFailure,
    FrontendOutage,
    NodeDegradation,
    NodeLoss,
    OverloadCrash,
    UplinkOutage,
)
from sim.model.causes import FRONTEND_OUTAGE, SERVER_CRASH, UPLINK_OUTAGE
from sim.model.components.school_server import SchoolServer
from sim.model.effects import Declares, Effect
from sim.model.engine import call_urgent
from sim.model.world import World

_T = TypeVar("_T")


def _stages(f: Any) -> list[tuple[float, float]]:
    """(time, remaining fraction of the fault) for each repair step."""
    if f.end is None:
        return []
    k = f.repair_stages
    step = f.repair_interval_min * 60.0
    return [(f.end + i * step, 1.0 - (i + 1) / k) for i in range(k)]


def _staged(f: Any, items: list[_T]) -> list[tuple[float, list[_T]]]:
    """``items`` repaired in ``f``'s repair stages: (time, the items back then); the last
    stage brings back the rest."""
    stages = _stages(f)
    out: list[tuple[float, list[_T]]] = []
    done = 0
    for idx, (t, left) in enumerate(stages):
        upto = len(items) if idx == len(stages) - 1 else round(len(items) * (1 - left))
        out.append((t, items[done:upto]))
        done = upto
    return out


class Fault(Declares):
    """One fault of the scenario, installed into the world before the run.

    A subclass states ``config`` (the scenario's fault type it implements) and ``effects``
    (what it can do to requests and rooms, see ``sim.model.effects``) and implements
    :meth:`install`; it acts on the world's public surface only.
    """

    config: ClassVar[type]

    def __init__(self, world: World, index: int, cfg: Any, log: list[dict[str, Any]]):
        self.world = world
        self.env = world.env
        self.index = index
        self.cfg = cfg
        self.log = log
        self.why = ("fault", index)  # the reason of the holds this fault puts on and releases

    @property
    def platform(self) -> str | None:
        """The platform this fault acts on, for one that can fail a platform's way in
        (``Effect.FAILS_WAY_IN``); None: not one platform's."""
        return None

    def install(self) -> None:
        raise NotImplementedError

    def _at(self, t: float, fn: Any, what: str) -> None:
        def run(_: Any = None) -> None:
            fn()
            self.log.append({"t": self.env.now, "event": what})

        call_urgent(self.env, t - self.env.now, run)

    def _when(self, t: float) -> float:
        """The clock time at which ``_at(t, …)`` runs (to the last bit)."""
        now = self.env.now
        return now + (t - now)

    def _pick_nodes(self, cluster: str, share: float, pick: str) -> tuple[int, list[int]]:
        p_index, pool = self.world.cluster_pool(cluster)
        nodes = self.world.cluster_nodes(cluster)
        k = round(share * len(nodes))
        if pick == "random":
            rng = self.world.infra_seeds.rng(f"faults.{self.index}.nodes")
            chosen = rng.choice(nodes, size=k, replace=False).tolist() if k else []
        else:
            order = np.argsort(pool.cap_participants[nodes], kind="stable")
            if pick == "largest":
                order = order[::-1]
            chosen = [nodes[j] for j in order[:k]]
        return p_index, chosen


class DispatcherFailureFault(Fault):
    """A dispatcher failure (``kind: dispatcher_failure``): a share of room creations and/or
    joins fails at the dispatcher."""

    config = DispatcherFailure
    effects = frozenset({Effect.FAILS_REQUESTS, Effect.FAILS_WAY_IN})

    @property
    def platform(self) -> str:
        return str(self.cfg.platform)

    def install(self) -> None:
        f = self.cfg
        disp = self.world.platform(f.platform).dispatcher

        def set_share(x: float) -> None:
            if f.creates:
                disp.failure_create_share = x
            if f.joins:
                disp.failure_join_share = x

        self._at(f.start, lambda: set_share(f.share),
                 f"dispatcher {f.platform} fails {f.share:.0%}")
        for t, left in _stages(f):
            self._at(t, lambda x=f.share * left: set_share(x),
                     f"dispatcher {f.platform} repaired to {1 - left:.0%}")


class NodeLossFault(Fault):
    """Nodes fail: their meetings end, everyone rejoins, the rooms are re-created elsewhere."""

    config = NodeLoss
    effects = frozenset({Effect.FAILS_REQUESTS, Effect.FAILS_ROOMS, Effect.REOPENS_ROOMS,
                         Effect.MOVES_PARTICIPANTS})

    def install(self) -> None:
        f = self.cfg
        world = self.world
        p_index, chosen = self._pick_nodes(f.cluster, f.share, f.pick)

        def down() -> None:
            for n in chosen:
                world.lose_node(p_index, n)

        def up(batch: list[int]) -> None:
            for n in batch:
                world.restore_node(p_index, n)

        self._at(f.start, down, f"{len(chosen)} nodes of {f.cluster} lost")
        for t, batch in _staged(f, chosen):
            self._at(t, lambda b=batch: up(b), f"{len(batch)} nodes of {f.cluster} back")


class DegradationFault(Fault):
    """Nodes run at a share of their capacity (joins refused sooner; open rooms stay)."""

    config = NodeDegradation
    effects = frozenset({Effect.FAILS_REQUESTS})

    def install(self) -> None:
        f = self.cfg
        p_index, chosen = self._pick_nodes(f.cluster, f.share, "random")
        pool = self.world.platforms[p_index].pool

        def set_factor(x: float) -> None:
            for n in chosen:
                pool.set_capacity_factor(n, x)

        self._at(f.start, lambda: set_factor(f.capacity_factor),
                 f"{len(chosen)} nodes of {f.cluster} at {f.capacity_factor:.0%}")
        for t, left in _stages(f):
            self._at(t, lambda x=1.0 - (1.0 - f.capacity_factor) * left: set_factor(x),
                     f"nodes of {f.cluster} repaired")


class FrontendFault(Fault):
    """A platform's login/join service is down: every request fails on arrival."""

    config = FrontendOutage
    effects = frozenset({Effect.FAILS_REQUESTS, Effect.FAILS_WAY_IN})

    @property
    def platform(self) -> str:
        return str(self.cfg.platform)

    def install(self) -> None:
        f = self.cfg
        fe = self.world.platform(f.platform).frontend
        fe.enable_outages()
        why = self.why
        end = self._when(f.end) if f.end is not None else float("inf")
        self._at(f.start, lambda: fe.hold(why, FRONTEND_OUTAGE, until=end),
                 f"front end {f.platform} down")
        if f.end is not None:
            self._at(f.end, lambda: fe.release(why), f"front end {f.platform} up")


class UplinkFault(Fault):
    """A share of schools lose their uplink: their own servers are unreachable from home."""

    config = UplinkOutage
    effects = frozenset({Effect.FAILS_REQUESTS})

    def install(self) -> None:
        f = self.cfg
        servers = self.world.school_servers_where(region=f.region, school_type=f.school_type)
        rng = self.world.infra_seeds.rng(f"faults.{self.index}.schools")
        hit = [s for s, u in zip(servers, rng.random(len(servers)), strict=True) if u < f.share]
        for s in hit:
            s.enable_outages()

        why = self.why
        batches = _staged(f, hit)
        # each school's outage ends with its repair stage (inf: never repaired this day)
        back = {id(s): self._when(t) for t, batch in batches for s in batch}

        def down() -> None:
            for s in hit:
                s.hold(why, UPLINK_OUTAGE, until=back.get(id(s), float("inf")))

        def up(batch: list[SchoolServer]) -> None:
            for s in batch:
                s.release(why)

        self._at(f.start, down, f"uplinks of {len(hit)} schools down")
        for t, batch in batches:
            self._at(t, lambda b=batch: up(b), f"uplinks of {len(batch)} schools up")


class OverloadCrashFault(Fault):
    """Any school server crashes when overloaded relative to its own capacity (its memory at
    once; its workers and the client's time-out when sustained), and restarts after a repair
    time; a crash fails every request queued or in service. The rule is the configuration's
    (``sim.config.interventions.OverloadCrash``), the same for every tier."""

    config = OverloadCrash
    effects = frozenset({Effect.FAILS_REQUESTS})

    def __init__(self, world: World, index: int, cfg: Any, log: list[dict[str, Any]]):
        super().__init__(world, index, cfg, log)
        self.crashes: list[tuple[float, int]] = []  # (time, school)
        self.why = ("crash", index)

    def install(self) -> None:
        f = self.cfg
        servers = self.world.school_servers_where(tier=f.tier)
        for s in servers:
            s.enable_outages()
        strikes = [0] * len(servers)
        offered = [s.offered_s for s in servers]
        need = max(1, round(f.sustain_s / 60.0))
        end = f.end if f.end is not None else self.world.day_end
        env = self.env
        crashes = self.crashes

        def crash(s: SchoolServer, now: float) -> None:
            s.hold(self.why, SERVER_CRASH, until=now + f.repair_min * 60.0)
            crashes.append((now, s.school))
            call_urgent(env, f.repair_min * 60.0, _restart, (s, self.why))

        def check(_: Any = None) -> None:
            now = env.now
            for k, s in enumerate(servers):
                work_s = s.offered_s - offered[k]  # offered since the last check
                offered[k] = s.offered_s
                if not s.up:
                    strikes[k] = 0
                    continue
                if (s.busy + s.waiting) * f.request_mb > s.memory_mb:
                    strikes[k] = 0
                    crash(s, now)
                elif (work_s >= f.load_threshold * s.workers * 60.0
                      and s.wait_now_s >= f.response_share * s.timeout_s):
                    strikes[k] += 1
                    if strikes[k] >= need:
                        strikes[k] = 0
                        crash(s, now)
                else:
                    strikes[k] = 0
            if now + 60.0 <= end:
                call_urgent(env, 60.0, check)

        def begin(_: Any = None) -> None:  # the offered work counts from the fault's start
            offered[:] = [s.offered_s for s in servers]
            call_urgent(env, 60.0, check)

        call_urgent(env, max(0.0, f.start - env.now), begin)


def _restart(item: tuple[SchoolServer, Any]) -> None:
    server, why = item
    server.release(why)


FAULT_TYPES: tuple[type[Fault], ...] = (
    DispatcherFailureFault, NodeLossFault, DegradationFault, FrontendFault, UplinkFault,
    OverloadCrashFault,
)


def fault_type(cfg: Any) -> type[Fault]:
    """The fault class that implements the scenario's fault ``cfg``."""
    for cls in FAULT_TYPES:
        if isinstance(cfg, cls.config):
            return cls
    raise TypeError(f"no fault type implements {type(cfg).__name__}")


class FaultInjector:
    """Installs a scenario's faults into the world (before the run)."""

    def __init__(self, world: World, faults: list[Any]):
        self.log: list[dict[str, Any]] = []
        self.faults = [fault_type(f)(world, i, f, self.log) for i, f in enumerate(faults)]

    @property
    def types(self) -> list[type[Fault]]:
        return [type(f) for f in self.faults]

    @property
    def declared(self) -> list[tuple[type[Fault], str | None]]:
        """Each fault's type and the platform it acts on (``effects.rejoins_can_fail``)."""
        return [(type(f), f.platform) for f in self.faults]

    def install(self) -> None:
        for f in self.faults:
            f.install()

    @property
    def crashes(self) -> list[tuple[float, int]]:
        """(time, school) of every overload crash so far."""
        return [c for f in self.faults if isinstance(f, OverloadCrashFault) for c in f.crashes]
