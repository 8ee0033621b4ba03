"""Policies planners can decide: join-rate limits, emergency scale-up (and, applied where the
demand is drawn, staggered start and camera rules; see ``sim.demand`` and ``sim.behaviour``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.config.interventions import JoinRateLimit, ScaleUp
from sim.events import call_later

if TYPE_CHECKING:
    from sim.model import _Model


class JoinLimiter:
    """Token buckets per node and per meeting: a join beyond the rate is refused (and retried
    by the client after its back-off), as jicofo's join-rate limit does."""

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

    def allow(self, platform: int, node: int, meeting: int, now: float) -> bool:
        if self.meeting_rate is not None:
            b = self._meeting.get(meeting)
            if b is None:
                b = self._meeting[meeting] = [self.meeting_burst, now]
            if not self._take(b, self.meeting_rate, self.meeting_burst, now):
                return False
        if self.node_rate is not None:
            nodes = self._node[platform]
            b = nodes.get(node)
            if b is None:
                b = nodes[node] = [self.node_burst, now]
            if not self._take(b, self.node_rate, self.node_burst, now):
                return False
        return True


class ScaleUpController:
    """Starts reserve nodes of a cluster in steps when its utilisation stays high."""

    def __init__(self, model: _Model, cfg: ScaleUp):
        self.model = model
        self.cfg = cfg
        self.platform, self.pool = model.cluster_pool(cfg.cluster)
        ci = self.pool.cluster_names.index(cfg.cluster)
        self.reserve = [n for n in self.pool.reserve_nodes if self.pool.cluster_of[n] == ci]
        self.cluster_index = ci
        self.pending = False
        self.started: list[tuple[float, int]] = []

    def install(self) -> None:
        env = self.model.env
        call_later(env, self.cfg.check_interval_s, self._check)

    def _utilisation(self) -> float:
        pool = self.pool
        num = 0.0
        n = 0
        for node in range(pool.n_nodes):
            if pool.cluster_of[node] != self.cluster_index or not pool._up[node]:
                continue
            n += 1
            num += pool.utilisation(node)  # the largest of CPU, bandwidth, participant shares
        return num / n if n else 1.0

    def _check(self, _: object = None) -> None:
        env = self.model.env
        if not self.pending and self.reserve and self._utilisation() > self.cfg.threshold:
            self.pending = True
            call_later(env, self.cfg.delay_min * 60.0, self._start_nodes)
        if env.now + self.cfg.check_interval_s < self.model.sc.day.end:
            call_later(env, self.cfg.check_interval_s, self._check)

    def _start_nodes(self, _: object = None) -> None:
        step = self.reserve[: self.cfg.step_nodes]
        self.reserve = self.reserve[self.cfg.step_nodes:]
        for node in step:
            self.pool.set_node_up(node, True)
        self.started.append((self.model.env.now, len(step)))
        self.pending = False
