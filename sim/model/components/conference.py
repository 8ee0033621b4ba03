"""Conference clusters: BigBlueButton nodes with capacity in CPU, participants and Mbit/s.

A meeting's egress from its node follows BBB's bandwidth rule (domain-facts):
``out = W·(U−1)·Y + U·audio + S·(U−1)·screen`` for U participants, W webcams at Y Mbit/s and
S screen shares (:func:`meeting_load_mbit_s`, the one load function of the model).

A node's CPU load is ``a·participants + c·egress`` (:func:`node_cpu_load`): a cost per
participant (audio mixing, signalling) and a cost per Mbit/s of media forwarded (an SFU's
work grows with the packets it relays). With ``a`` and ``c`` a least-squares fit to three load
figures (SOURCES A53) a reference server (BBB 2.2's minimum, 8 cores) holds ≈530 people with
cameras off, ≈70 all on camera, and ≈180 in a typical class mix (at full CPU), so that
turning cameras off (the advice IServ gave in Jan 2021) raises what a node holds.
Utilisation is the largest of the three shares (participants, bandwidth, CPU).

A join is refused only at a hard limit — the node's participant limit
(``node_max_participants``) — or when the node is down. Load never refuses one: as with BBB
and Scalelite, a node past its CPU or bandwidth keeps admitting and everyone on it has
degraded audio and video. A node whose CPU exceeds ``stress_threshold`` of its CPU (BBB audio
degrades above ≈ 80 %) or whose egress exceeds its bandwidth is **degraded**; the pupil-time
spent on degraded nodes is integrated event by event
(:class:`sim.model.components.degradation.DegradedTime`, the KPIs ``degraded_pupil_minutes``
and ``degraded_share``). ``refuse_overload: true`` on a cluster restores the old rule
(refuse a join that would take the node past its CPU or bandwidth).

Call sites pass, per join, the growth of the meeting's egress
(``meeting_load_mbit_s(u + 1, w + cam, …) − meeting_load_mbit_s(u, w, …)``, with ``cam``
the joiner's camera *after* any camera policy); the CPU follows from participants and egress
inside :class:`NodePool`, so a camera policy needs nothing else.

All nodes of a platform's clusters live in one pool of numpy arrays so the dispatcher can pick
the least-loaded node with one ``argmin``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.config import ClusterConfig, MediaConfig
from sim.model.causes import CAPACITY, NODE_LOSS, OK
from sim.model.components.degradation import DegradedTime
from sim.model.seeds import SeedTree


def meeting_load_mbit_s(
    participants: int, webcams: int, screenshare: bool, media: MediaConfig
) -> float:
    """Node egress (Mbit/s) of one meeting by BBB's rule."""
    if participants <= 0:
        return 0.0
    u = participants
    load = webcams * (u - 1) * media.webcam_mbit_s + u * media.audio_mbit_s
    if screenshare:
        load += (u - 1) * media.screenshare_mbit_s
    return load


def node_cpu_load(participants: float, egress_mbit_s: float, cluster: ClusterConfig) -> float:
    """CPU a node's meetings need, in reference servers (compare with ``cluster.node_cpu``)."""
    return cluster.cpu_per_participant * participants + cluster.cpu_per_mbit_s * egress_mbit_s


def participants_per_node(
    cluster: ClusterConfig, media: MediaConfig, meeting_size: int, webcams: float,
    screenshare: float = 0.0,
) -> float:
    """How many participants one (average) node holds when all its meetings have
    ``meeting_size`` participants, ``webcams`` cameras on and a screen share with probability
    ``screenshare``: the tightest of CPU, bandwidth and the participant ceiling."""
    u = meeting_size
    egress = (webcams * (u - 1) * media.webcam_mbit_s + u * media.audio_mbit_s
              + screenshare * (u - 1) * media.screenshare_mbit_s)
    limits = [float(cluster.node_max_participants),
              cluster.node_capacity_mbit_s / egress * u if egress > 0 else math.inf]
    if cluster.node_cpu is not None:
        limits.append(cluster.node_cpu / node_cpu_load(u, egress, cluster) * u)
    return min(limits)


def join_load_mbit_s(
    participants: int, webcams: int, camera: bool, screenshare: bool, media: MediaConfig
) -> float:
    """Growth of a meeting's node egress (Mbit/s) when one participant joins a meeting of
    ``participants`` with ``webcams`` cameras on (``camera``: the newcomer's): the difference
    of :func:`meeting_load_mbit_s` after and before, written out (the join's hot path) —
    ``Y·(W + cam·U) + audio (+ screen share)``, audio only for the first one in. Tested
    against that difference: a change to the rule changes both."""
    if participants <= 0:
        return media.audio_mbit_s
    load = media.webcam_mbit_s * (webcams + camera * participants) + media.audio_mbit_s
    if screenshare:
        load += media.screenshare_mbit_s
    return load


class ParticipantCount:
    """People in conferences across all platforms, and the most at any one time."""

    __slots__ = ("now", "peak")

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0


class NodePool:
    """All conference nodes of one platform (possibly several clusters)."""

    def __init__(
        self,
        clusters: list[ClusterConfig],
        seeds: SeedTree,
        shared: ParticipantCount | None = None,
        reserve: dict[str, int] | None = None,
        env: Any = None,
    ):
        """``env``: the simulation's clock (``env.now``) for the degraded-time accounts
        (None: a clock standing at 0, for a pool used outside a run)."""
        self.shared = shared if shared is not None else ParticipantCount()
        self.cluster_names = [c.name for c in clusters]
        caps_p: list[np.ndarray] = []
        caps_b: list[np.ndarray] = []
        caps_c: list[np.ndarray] = []
        cost_a: list[np.ndarray] = []
        cost_c: list[np.ndarray] = []
        cluster_of: list[np.ndarray] = []
        stress: list[float] = []
        is_reserve: list[np.ndarray] = []
        refuse: list[bool] = []
        sizes: list[np.ndarray] = []
        reserve = reserve or {}
        for i, c in enumerate(clusters):
            # Node sizes vary (mixed fleets, rented servers): lognormal factor, fixed per cluster.
            # Reserve nodes (started by a scale-up policy) draw from their own stream so that
            # the regular fleet is the same with or without a reserve.
            parts = [(c.nodes, f"infrastructure.cluster.{c.name}")]
            if reserve.get(c.name):
                parts.append((reserve[c.name], f"infrastructure.cluster.{c.name}.reserve"))
            for k, (count, stream) in enumerate(parts):
                rng = seeds.rng(stream)
                if c.heterogeneity_cv > 0:
                    s = float(np.sqrt(np.log1p(c.heterogeneity_cv**2)))
                    f = np.exp(s * rng.standard_normal(count) - s * s / 2)
                else:
                    f = np.ones(count)
                sizes.append(f)
                caps_p.append(
                    np.maximum(1, np.rint(c.node_max_participants * f)).astype(np.int64)
                )
                caps_b.append(c.node_capacity_mbit_s * f)
                # the same size factor scales a node's CPU; no CPU limit → infinite
                caps_c.append(c.node_cpu * f if c.node_cpu is not None
                              else np.full(count, np.inf))
                cost_a.append(np.full(count, c.cpu_per_participant))
                cost_c.append(np.full(count, c.cpu_per_mbit_s))
                cluster_of.append(np.full(count, i, dtype=np.int32))
                is_reserve.append(np.full(count, k == 1))
            stress.append(c.stress_threshold)
            refuse.append(c.refuse_overload)
        self.cap_participants = np.concatenate(caps_p)
        self.cap_mbit_s = np.concatenate(caps_b)
        self.cap_cpu = np.concatenate(caps_c)
        self.cpu_per_participant = np.concatenate(cost_a)
        self.cpu_per_mbit_s = np.concatenate(cost_c)
        self.cluster_of = np.concatenate(cluster_of)
        # each node's size factor (1 = the cluster's configured node): the dispatcher's load
        # multiplier is its inverse (Scalelite's per-server `load_multiplier`)
        self.size = np.concatenate(sizes)
        self.stress_threshold = np.array(stress)[self.cluster_of]
        n = self.cap_participants.size
        self.n_nodes = n
        # Hot state as Python lists (fast scalar access in callbacks); numpy views on demand.
        self._p: list[int] = [0] * n
        self._load: list[float] = [0.0] * n
        self._cap_p: list[int] = self.cap_participants.tolist()
        self._cap_b: list[float] = self.cap_mbit_s.tolist()
        self._cap_c: list[float] = self.cap_cpu.tolist()
        self._ca: list[float] = self.cpu_per_participant.tolist()
        self._cc: list[float] = self.cpu_per_mbit_s.tolist()
        self._up: list[bool] = [True] * n
        self._pp: list[int] = [0] * n  # pupils per node (degraded time counts pupils)
        # CPU above which a node is degraded (stress_threshold of its CPU)
        self._deg_cpu: list[float] = (self.stress_threshold * self.cap_cpu).tolist()
        cl = self.cluster_of.tolist()
        self._refuse: list[bool] = [refuse[i] for i in cl]
        self.degradation = DegradedTime(env, cl, len(clusters))
        self.meetings = np.zeros(n, dtype=np.int64)  # the dispatcher's argmin works on these
        self.up = np.ones(n, dtype=bool)
        self.up_changes = 0
        self._joins: list[int] = [0] * n  # joins per node since the last sample (node stress)
        self.peak_joins_per_node_interval = 0
        self.reserve_nodes = np.flatnonzero(np.concatenate(is_reserve)).tolist()
        for node in self.reserve_nodes:  # reserve nodes start switched off
            self.set_node_up(node, False)
        self._base_cap = (self.cap_participants.copy(), self.cap_mbit_s.copy(),
                          self.cap_cpu.copy())
        self.refused = 0
        self.admitted = 0
        self.peak_utilisation = 0.0
        self.peak_participants = 0
        self.total_participants = 0
        self._n_clusters = len(clusters)
        # clusters with a CPU limit also report their CPU (sum over nodes, reference servers)
        self._cluster_has_cpu = [c.node_cpu is not None for c in clusters]

    @property
    def participants(self) -> np.ndarray:
        """Participants per node (a copy)."""
        return np.array(self._p, dtype=np.int64)

    @property
    def load_mbit_s(self) -> np.ndarray:
        """Egress per node in Mbit/s (a copy)."""
        return np.array(self._load)

    def set_node_up(self, node: int, up: bool) -> None:
        """Mark a node up or down (a down node admits no one and gets no new rooms)."""
        self._up[node] = up
        self.up[node] = up
        self.up_changes += 1  # the dispatcher's placement heap is rebuilt

    def set_capacity_factor(self, node: int, factor: float) -> None:
        """Run a node at ``factor`` of its normal capacity (degraded throughput)."""
        cp = max(1, round(float(self._base_cap[0][node]) * factor))
        cb = float(self._base_cap[1][node]) * factor
        cc = float(self._base_cap[2][node]) * factor
        self._cap_p[node] = cp
        self._cap_b[node] = cb
        self._cap_c[node] = cc
        self.cap_participants[node] = cp
        self.cap_mbit_s[node] = cb
        self.cap_cpu[node] = cc
        self._deg_cpu[node] = float(self.stress_threshold[node]) * cc
        pp = self._pp[node]
        self.degradation.change(node, pp, pp, self.degraded(node))

    def degraded(self, node: int) -> bool:
        """Whether ``node`` runs degraded: its CPU above ``stress_threshold`` of its CPU, or
        its egress above its bandwidth."""
        load = self._load[node]
        return (self._ca[node] * self._p[node] + self._cc[node] * load > self._deg_cpu[node]
                or load > self._cap_b[node])

    @property
    def cpu(self) -> np.ndarray:
        """CPU load per node in reference servers (a copy)."""
        return self.cpu_per_participant * self.participants + self.cpu_per_mbit_s * self.load_mbit_s

    def node_up(self, node: int) -> bool:
        """Whether ``node`` is up."""
        return self._up[node]

    def utilisation(self, node: int) -> float:
        """Largest of the node's participant, bandwidth and CPU shares."""
        p, load = self._p[node], self._load[node]
        cpu = self._ca[node] * p + self._cc[node] * load
        return max(p / self._cap_p[node], load / self._cap_b[node], cpu / self._cap_c[node])

    def try_admit(self, node: int, d_load: float, pupil: bool = False) -> int:
        """Add one participant (egress grows by ``d_load``; ``pupil``: a pupil, whose time
        on a degraded node counts) unless a hard limit stops it: ``OK``, or the refusal's
        cause — ``CAPACITY`` (the node's participant limit; with ``refuse_overload`` also its
        bandwidth or CPU), ``NODE_LOSS`` (the node is down). CPU and bandwidth load never
        refuse by default: the node runs degraded."""
        if not self._up[node]:
            self.refused += 1
            return NODE_LOSS
        p = self._p[node] + 1
        load = self._load[node] + d_load
        cap_p = self._cap_p[node]
        cap_b = self._cap_b[node]
        cap_c = self._cap_c[node]
        cpu = self._ca[node] * p + self._cc[node] * load
        if p > cap_p or (self._refuse[node] and (load > cap_b or cpu > cap_c)):
            self.refused += 1
            return CAPACITY
        self._p[node] = p
        self._load[node] = load
        pp = self._pp[node]
        if pupil:
            self._pp[node] = pp + 1
        self.degradation.change(node, pp, pp + pupil,
                                cpu > self._deg_cpu[node] or load > cap_b)
        self._joins[node] += 1
        self.admitted += 1
        n = self.total_participants + 1
        self.total_participants = n
        if n > self.peak_participants:
            self.peak_participants = n
        sh = self.shared
        sh.now += 1
        if sh.now > sh.peak:
            sh.peak = sh.now
        u = p / cap_p
        ub = load / cap_b
        if ub > u:
            u = ub
        ub = cpu / cap_c
        if ub > u:
            u = ub
        if u > self.peak_utilisation:
            self.peak_utilisation = u
        return OK

    def release(self, node: int, participants: int, d_load: float, pupils: int = 0) -> None:
        """Remove ``participants`` (``pupils`` of them pupils) whose meeting egress was
        ``d_load``."""
        self._p[node] -= participants
        self.total_participants -= participants
        self.shared.now -= participants
        v = self._load[node] - d_load
        self._load[node] = v if v > 1e-9 else 0.0
        pp = self._pp[node]
        self._pp[node] = pp - pupils
        self.degradation.change(node, pp, pp - pupils, self.degraded(node))

    def _degraded_view(self, out: list[dict[str, float]]) -> list[dict[str, float]]:
        """Add each cluster's degraded time in the interval since the last view (minutes)
        and its degraded pupils and nodes now."""
        deg = self.degradation
        deg.flush()
        for i, view in enumerate(out):
            pupil_s, node_s, pupils, nodes = deg.interval(i)
            view["degraded_pupil_minutes"] = pupil_s / 60.0
            view["degraded_node_minutes"] = node_s / 60.0
            view["degraded_pupils"] = float(pupils)
            view["degraded_nodes"] = float(nodes)
        return out

    # -- per-minute views --------------------------------------------------------------------
    def cluster_view(self) -> list[dict[str, float]]:
        """Per cluster: participants, capacity, load, utilisation (max and mean), nodes up."""
        if self.n_nodes < 8:
            return self._degraded_view(self._cluster_view_small())
        out = []
        part = self.participants
        load = self.load_mbit_s
        joins = np.array(self._joins)
        self._joins = [0] * self.n_nodes
        if joins.size and int(joins.max()) > self.peak_joins_per_node_interval:
            self.peak_joins_per_node_interval = int(joins.max())
        cpu = self.cpu_per_participant * part + self.cpu_per_mbit_s * load
        util = np.maximum(np.maximum(part / self.cap_participants, load / self.cap_mbit_s),
                          cpu / self.cap_cpu)
        for i in range(self._n_clusters):
            sel = self.cluster_of == i
            up = sel & self.up
            n_up = int(up.sum())
            out.append(
                {
                    "participants": float(part[sel].sum()),
                    "capacity_participants": float(self.cap_participants[up].sum()),
                    "load_mbit_s": float(load[sel].sum()),
                    "capacity_mbit_s": float(self.cap_mbit_s[up].sum()),
                    "meetings": float(self.meetings[sel].sum()),
                    "utilisation_max": float(util[up].max()) if n_up else 0.0,
                    "utilisation_mean": float(util[up].mean()) if n_up else 0.0,
                    "stressed_nodes": float((util[up] > self.stress_threshold[up]).sum()),
                    "nodes_up": float(n_up),
                    "max_joins_per_node": float(joins[sel].max()) if sel.any() else 0.0,
                }
            )
            if self._cluster_has_cpu[i]:
                out[-1]["cpu"] = float(cpu[sel].sum())
                out[-1]["capacity_cpu"] = float(self.cap_cpu[up].sum())
        return self._degraded_view(out)

    def _cluster_view_small(self) -> list[dict[str, float]]:
        """cluster_view of a pool of fewer than 8 nodes in plain Python (numpy's call overhead
        dominates there; a validation run samples every few seconds). Same values: numpy sums
        fewer than 8 floats one after the other, as here."""
        n = self.n_nodes
        joins = self._joins
        self._joins = [0] * n
        if joins and max(joins) > self.peak_joins_per_node_interval:
            self.peak_joins_per_node_interval = max(joins)
        part, load, cap_p, cap_b, up = self._p, self._load, self._cap_p, self._cap_b, self._up
        cap_c, ca, cc = self._cap_c, self._ca, self._cc
        cluster_of = self.cluster_of.tolist()
        stress = self.stress_threshold.tolist()
        meetings = self.meetings.tolist()
        cpu = [ca[k] * part[k] + cc[k] * load[k] for k in range(n)]
        util = [max(part[k] / cap_p[k], load[k] / cap_b[k], cpu[k] / cap_c[k])
                for k in range(n)]
        out = []
        for i in range(self._n_clusters):
            sel = [k for k in range(n) if cluster_of[k] == i]
            on = [k for k in sel if up[k]]
            u_on = [util[k] for k in on]
            load_sum = cap_b_sum = u_sum = cpu_sum = cap_c_sum = 0.0
            for k in sel:
                load_sum += load[k]
                cpu_sum += cpu[k]
            for k in on:
                cap_b_sum += cap_b[k]
                cap_c_sum += cap_c[k]
                u_sum += util[k]
            out.append(
                {
                    "participants": float(sum(part[k] for k in sel)),
                    "capacity_participants": float(sum(cap_p[k] for k in on)),
                    "load_mbit_s": float(load_sum),
                    "capacity_mbit_s": float(cap_b_sum),
                    "meetings": float(sum(meetings[k] for k in sel)),
                    "utilisation_max": float(max(u_on)) if on else 0.0,
                    "utilisation_mean": u_sum / len(on) if on else 0.0,
                    "stressed_nodes": float(sum(1 for k in on if util[k] > stress[k])),
                    "nodes_up": float(len(on)),
                    "max_joins_per_node": float(max(joins[k] for k in sel)) if sel else 0.0,
                }
            )
            if self._cluster_has_cpu[i]:
                out[-1]["cpu"] = float(cpu_sum)
                out[-1]["capacity_cpu"] = float(cap_c_sum)
        return out
