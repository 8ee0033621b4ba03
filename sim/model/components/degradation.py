"""Degraded time on conference nodes: the pupil-seconds (and node-seconds) spent on a node
that is overloaded but still serving.

BigBlueButton and Scalelite never refuse a join for load: everyone on an overloaded node stays
in, with degraded audio and frozen video (audio degrades above ≈ 80 % CPU, domain-facts). A
node is **degraded** while its CPU exceeds ``stress_threshold`` of its CPU or its egress
exceeds its bandwidth (:meth:`sim.model.components.conference.NodePool.degraded`).

:class:`DegradedTime` integrates exactly, event by event: each change of a node (a join, a
leave, a capacity change) first adds ``pupils on degraded nodes × elapsed time`` to its
cluster's account, then records the node's new state. Per cluster it keeps the degraded
pupil-seconds and node-seconds (the time-average share of degraded nodes: the quantity the
M/M/∞ oracle checks), and pool-wide the pupil-seconds spent in meetings at all (the
denominator of ``degraded_share``). No sampling: the sampler only reads the accounts.
"""

from __future__ import annotations

from typing import Any


class _Still:
    """A clock that stands at 0 (a node pool used outside a running simulation)."""

    now = 0.0


class DegradedTime:
    """Per-cluster integrals of pupils and nodes in the degraded state, over time."""

    __slots__ = (
        "_cluster",
        "_deg_nodes",
        "_deg_pupils",
        "_env",
        "_marks",
        "_pupil_t",
        "_t",
        "degraded",
        "node_s",
        "pupil_meeting_s",
        "pupil_s",
        "pupils",
    )

    def __init__(self, env: Any, cluster_of: list[int], n_clusters: int):
        self._env = env if env is not None else _Still()
        self._cluster = cluster_of
        self.degraded = [False] * len(cluster_of)  # per node
        self._deg_pupils = [0] * n_clusters  # pupils on degraded nodes now
        self._deg_nodes = [0] * n_clusters  # degraded nodes now
        t0 = float(self._env.now)
        self._t = [t0] * n_clusters
        self.pupil_s = [0.0] * n_clusters  # degraded pupil-seconds so far
        self.node_s = [0.0] * n_clusters  # degraded node-seconds so far
        self.pupils = 0  # pupils in meetings on this pool now
        self._pupil_t = t0
        self.pupil_meeting_s = 0.0  # pupil-seconds in meetings on this pool so far
        self._marks = [(0.0, 0.0)] * n_clusters  # accounts at the last interval's end

    def change(self, node: int, pupils_before: int, pupils_after: int, degraded: bool) -> None:
        """Node ``node`` changed: its pupils went from ``pupils_before`` to ``pupils_after``
        and it is now ``degraded`` (or not)."""
        if pupils_after != pupils_before:
            now = self._env.now
            self.pupil_meeting_s += self.pupils * (now - self._pupil_t)
            self._pupil_t = now
            self.pupils += pupils_after - pupils_before
        was = self.degraded[node]
        if not (was or degraded):
            return
        old = pupils_before if was else 0
        new = pupils_after if degraded else 0
        if old == new and was == degraded:
            return
        c = self._cluster[node]
        self._advance(c)
        self._deg_pupils[c] += new - old
        self._deg_nodes[c] += int(degraded) - int(was)
        self.degraded[node] = degraded

    def _advance(self, c: int) -> None:
        now = self._env.now
        dt = now - self._t[c]
        if dt > 0.0:
            self.pupil_s[c] += self._deg_pupils[c] * dt
            self.node_s[c] += self._deg_nodes[c] * dt
        self._t[c] = now

    def flush(self) -> None:
        """Bring every account up to the clock (before it is read)."""
        for c in range(len(self._t)):
            self._advance(c)
        now = self._env.now
        self.pupil_meeting_s += self.pupils * (now - self._pupil_t)
        self._pupil_t = now

    def interval(self, c: int) -> tuple[float, float, int, int]:
        """Cluster ``c``'s degraded pupil-seconds and node-seconds since the last call (the
        accounts must be flushed), and its degraded pupils and nodes now."""
        pupil_s, node_s = self.pupil_s[c], self.node_s[c]
        mark_p, mark_n = self._marks[c]
        self._marks[c] = (pupil_s, node_s)
        return pupil_s - mark_p, node_s - mark_n, self._deg_pupils[c], self._deg_nodes[c]


def degraded_share(platforms: list[Any]) -> float:
    """Degraded pupil-time over all pupil-time in meetings, over platforms' outcomes with
    ``degraded_pupil_s`` and ``pupil_meeting_s`` (0 with no pupil in a meeting)."""
    total = sum(p.pupil_meeting_s for p in platforms)
    return min(1.0, sum(p.degraded_pupil_s for p in platforms) / total) if total > 0 else 0.0
