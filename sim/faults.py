"""Faults: time-windowed, targeted modifiers of components, declared in the scenario.

Each fault is switched on at ``start`` and repaired at ``end`` — at once, or in
``repair_stages`` equal steps ``repair_interval_min`` apart. Users keep retrying while a fault
lasts, so a repair releases a retry wave (``sim.behaviour``).

Which nodes or schools a fault hits is drawn from the population seed (the same servers fail
in every replication); what happens to the people is the run's own randomness.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.config.interventions import (
    DispatcherFailure,
    FrontendOutage,
    NodeDegradation,
    NodeLoss,
    OverloadCrash,
    UplinkOutage,
)
from sim.engine import call_urgent
from sim.seeds import SeedTree

if TYPE_CHECKING:
    from sim.components.school_server import SchoolServer
    from sim.model import _Model


def _stages(f: Any) -> list[tuple[float, float]]:
    """(time, remaining fraction of the fault) for each repair step."""
    if f.end is None:
        return []
    k = f.repair_stages
    step = f.repair_interval_min * 60.0
    return [(f.end + i * step, 1.0 - (i + 1) / k) for i in range(k)]


class FaultInjector:
    """Installs a scenario's faults into a built model (before the run)."""

    def __init__(self, model: _Model):
        self.m = model
        self.env = model.env
        self.infra = SeedTree(model.sc.population.seed)
        self.crashes: list[tuple[float, int]] = []  # (time, school) of overload crashes
        self.log: list[dict[str, Any]] = []

    def install(self) -> None:
        for i, f in enumerate(self.m.sc.faults):
            if isinstance(f, DispatcherFailure):
                self._dispatcher(f)
            elif isinstance(f, NodeLoss):
                self._node_loss(i, f)
            elif isinstance(f, NodeDegradation):
                self._degradation(i, f)
            elif isinstance(f, FrontendOutage):
                self._frontend(i, f)
            elif isinstance(f, UplinkOutage):
                self._uplink(i, f)
            elif isinstance(f, OverloadCrash):
                self._overload(i, f)

    def _at(self, t: float, fn: Any, what: str) -> None:
        def run(_: Any = None) -> None:
            fn()
            self.log.append({"t": self.env.now, "event": what})

        call_urgent(self.env, t - self.env.now, run)

    def _when(self, t: float) -> float:
        """The clock time at which ``_at(t, …)`` runs (to the last bit)."""
        now = self.env.now
        return now + (t - now)

    # ------------------------------------------------------------------ dispatcher
    def _dispatcher(self, f: DispatcherFailure) -> None:
        disp = self.m.platform(f.platform).dispatcher

        def set_share(x: float) -> None:
            if f.creates:
                disp.fail_create_share = x
            if f.joins:
                disp.fail_join_share = x

        self._at(f.start, lambda: set_share(f.share),
                 f"dispatcher {f.platform} fails {f.share:.0%}")
        for t, left in _stages(f):
            self._at(t, lambda x=f.share * left: set_share(x),
                     f"dispatcher {f.platform} repaired to {1 - left:.0%}")

    # ------------------------------------------------------------------ nodes
    def _pick_nodes(self, i: int, cluster: str, share: float, pick: str) -> tuple[int, list[int]]:
        p_index, pool = self.m.cluster_pool(cluster)
        ci = pool.cluster_names.index(cluster)
        reserve = set(pool.reserve_nodes)
        nodes = [n for n in range(pool.n_nodes) if pool.cluster_of[n] == ci and n not in reserve]
        k = round(share * len(nodes))
        if pick == "random":
            rng = self.infra.rng(f"faults.{i}.nodes")
            chosen = rng.choice(nodes, size=k, replace=False).tolist() if k else []
        else:
            order = np.argsort(pool.cap_participants[nodes], kind="stable")
            if pick == "largest":
                order = order[::-1]
            chosen = [nodes[j] for j in order[:k]]
        return p_index, chosen

    def _node_loss(self, i: int, f: NodeLoss) -> None:
        p_index, chosen = self._pick_nodes(i, f.cluster, f.share, f.pick)
        pool = self.m.platforms[p_index].pool
        beh = self.m.beh

        def down() -> None:
            for n in chosen:
                beh.node_down(p_index, n)

        self._at(f.start, down, f"{len(chosen)} nodes of {f.cluster} lost")
        stages = _stages(f)
        done = 0
        for idx, (t, left) in enumerate(stages):
            upto = len(chosen) if idx == len(stages) - 1 else round(len(chosen) * (1 - left))
            batch = chosen[done:upto]
            done = upto
            self._at(t, lambda b=batch: _nodes_up(pool, b),
                     f"{len(batch)} nodes of {f.cluster} back")

    def _degradation(self, i: int, f: NodeDegradation) -> None:
        p_index, chosen = self._pick_nodes(i, f.cluster, f.share, "random")
        pool = self.m.platforms[p_index].pool

        def set_factor(x: float) -> None:
            for n in chosen:
                pool.set_capacity_factor(n, x)

        self._at(f.start, lambda: set_factor(f.capacity_factor),
                 f"{len(chosen)} nodes of {f.cluster} at {f.capacity_factor:.0%}")
        for t, left in _stages(f):
            self._at(t, lambda x=1.0 - (1.0 - f.capacity_factor) * left: set_factor(x),
                     f"nodes of {f.cluster} repaired")

    # ------------------------------------------------------------------ front ends, uplinks
    def _frontend(self, i: int, f: FrontendOutage) -> None:
        fe = self.m.platform(f.platform).frontend
        fe.enable_outages()
        why = ("fault", i)
        end = self._when(f.end) if f.end is not None else float("inf")
        self._at(f.start, lambda: fe.set_up(False, reason=why, until=end),
                 f"front end {f.platform} down")
        if f.end is not None:
            self._at(f.end, lambda: fe.set_up(True, reason=why), f"front end {f.platform} up")

    def _uplink(self, i: int, f: UplinkOutage) -> None:
        pop = self.m.pop
        servers = []
        for s in self.m.school_servers:
            if f.region is not None and pop.region_names[pop.school_region[s.school]] != f.region:
                continue
            if (f.school_type is not None
                    and pop.type_names[pop.school_type[s.school]] != f.school_type):
                continue
            servers.append(s)
        rng = self.infra.rng(f"faults.{i}.schools")
        hit = [s for s, u in zip(servers, rng.random(len(servers)), strict=True) if u < f.share]
        for s in hit:
            s.enable_outages()

        why = ("fault", i)
        stages = _stages(f)
        batches: list[tuple[float, list[SchoolServer]]] = []
        done = 0
        for idx, (t, left) in enumerate(stages):
            upto = len(hit) if idx == len(stages) - 1 else round(len(hit) * (1 - left))
            batches.append((t, hit[done:upto]))
            done = upto
        # each school's outage ends with its repair stage (inf: never repaired this day)
        back = {id(s): self._when(t) for t, batch in batches for s in batch}

        def down() -> None:
            for s in hit:
                s.set_up(False, reason=why, until=back.get(id(s), float("inf")))

        def up(batch: list[SchoolServer]) -> None:
            for s in batch:
                s.set_up(True, reason=why)

        self._at(f.start, down, f"uplinks of {len(hit)} schools down")
        for t, batch in batches:
            self._at(t, lambda b=batch: up(b), f"uplinks of {len(batch)} schools up")

    # ------------------------------------------------------------------ overload crashes
    def _overload(self, i: int, f: OverloadCrash) -> None:
        servers = [s for s in self.m.school_servers if s.tier_name == f.tier]
        for s in servers:
            s.enable_outages()
        strikes = [0] * len(servers)
        need = max(1, round(f.sustain_s / 60.0))
        end = f.end if f.end is not None else self.m.sc.day.end
        env = self.env
        why = ("crash", i)

        def check(_: Any = None) -> None:
            now = env.now
            for k, s in enumerate(servers):
                if not s.up:
                    continue
                if s.waiting >= f.queue_threshold and s.busy >= s.workers:
                    strikes[k] += 1
                    if strikes[k] >= need:
                        strikes[k] = 0
                        s.set_up(False, reason=why, until=now + f.repair_min * 60.0)
                        self.crashes.append((now, s.school))
                        call_urgent(env, f.repair_min * 60.0, _restart, (s, why))
                else:
                    strikes[k] = 0
            if now + 60.0 <= end:
                call_urgent(env, 60.0, check)

        call_urgent(env, max(0.0, f.start - env.now) + 60.0, check)


def _nodes_up(pool: Any, nodes: list[int]) -> None:
    for n in nodes:
        pool.set_node_up(n, True)


def _restart(item: tuple[SchoolServer, Any]) -> None:
    server, why = item
    server.set_up(True, reason=why)
