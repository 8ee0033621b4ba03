"""The dispatcher ("Vermittlungsstelle"): places new rooms on nodes and routes joins.

Placement policies:

- ``least_meetings`` — Scalelite's rule in January 2021: a server's load is its number of
  running meetings × its load multiplier; a create goes to the least-loaded server, whose
  load rises by one meeting at once.
- ``least_participants`` — the later Scalelite rule (load = attendees), by utilisation, on
  live counts.

What ``least_meetings`` sees (``dispatcher.mode``):

- ``scalelite_poll`` (default) — Scalelite as it ran: every ``poll_interval_s`` it polls each
  server for its running meetings; between polls it adds one for each room it placed itself
  and sees nothing else (meetings that ended are seen at the next poll), so a burst of
  creates piles onto the servers that looked emptiest at the last poll. A server that does
  not answer ``failed_polls_offline`` polls in a row is taken offline; until then a lost node
  keeps getting rooms, whose creation fails (``NODE_UNSEEN``: a room placed on a node lost
  since the dispatcher's last poll). One poll answered brings a server back.
- ``live`` — the running meetings of every node at every instant, a lost node at once.

The load multiplier (``load_multiplier: by_size``) is 1 / the node's size factor
(``NodePool.size``), so larger nodes take more rooms; ``none`` weighs every node alike.

Ties go to the lowest node index, so placement is deterministic. A dispatcher failure
(``sim.model.faults``) sets ``failure_create_share``/``failure_join_share``: that share of
creations/joins fails while it lasts.

Each outcome carries its reason (``sim.model.causes``): a refused creation or join is
``DISPATCHER_FAILURE`` when the dispatcher failure refused it; a creation finding no node up
(no node online in the dispatcher's view) is ``NODE_LOSS`` — the platform's nodes are all
lost (every cluster has at least one regular node, and only a lost node is down; reserve
nodes that were never started add none), so it is the loss of nodes, not the dispatcher,
that a planner would have to prevent; a creation on a node lost since the last poll is
``NODE_UNSEEN``.
"""

from __future__ import annotations

import heapq

import numpy as np
import simpy

from sim.config import DispatcherConfig
from sim.model.causes import DISPATCHER_FAILURE, NODE_LOSS, NODE_UNSEEN, OK
from sim.model.components.conference import NodePool
from sim.model.draws import UnitDraws
from sim.model.engine import call_urgent


class Dispatcher:
    def __init__(self, pool: NodePool, cfg: DispatcherConfig, draws: UnitDraws,
                 env: simpy.Environment | None = None):
        self.pool = pool
        self.policy = cfg.policy
        self._u = draws  # uniform draws for partial failures
        self.failure_create_share = 0.0
        self.failure_join_share = 0.0
        self.failed_creates = 0
        self.failed_joins = 0
        self.unseen_creates = 0  # creations placed on a node lost since the last poll
        self._mult: list[float] = (
            (1.0 / pool.size).tolist() if cfg.load_multiplier == "by_size"
            else [1.0] * pool.n_nodes)
        self.polled = cfg.mode == "scalelite_poll" and cfg.policy == "least_meetings"
        # least_meetings on a large live pool: a heap of (load, node, meetings), see
        # _place_least_meetings
        self._heap_in_use = (not self.polled and cfg.policy == "least_meetings"
                             and pool.n_nodes > 8)
        self._heap: list[tuple[float, int, int]] = []
        self._counts: list[int] = []
        self._seen_up_changes = -1
        if self.polled:
            if env is None:
                raise ValueError("a polling dispatcher needs the simulation's environment")
            self._env = env
            self._interval = cfg.poll_interval_s
            self._offline_after = cfg.failed_polls_offline
            # the dispatcher's view: which servers are online, failed polls in a row, and
            # each server's meetings as of its last answered poll plus its own placements
            self.online: list[bool] = list(pool._up)
            self._fails = [0] * pool.n_nodes
            self._view: list[int] = pool.meetings.tolist()
            self._poll_heap: list[tuple[float, int]] = []
            self._rebuild_polled()
            call_urgent(env, self._interval, self._poll)

    def place(self) -> tuple[int, int]:
        """Choose a node for a new room: ``(node, OK)``, or ``(-1, cause)`` — ``DISPATCHER_FAILURE``
        when the dispatcher failure refuses it, ``NODE_LOSS`` when no node is up."""
        if self.failure_create_share > 0.0 and self._u.next() < self.failure_create_share:
            self.failed_creates += 1
            return -1, DISPATCHER_FAILURE
        if self.polled:
            return self._place_polled()
        if self._heap_in_use:
            node = self._place_least_meetings()
        elif self.pool.n_nodes <= 8:  # small pools: a Python scan beats numpy's call overhead
            node = self._place_small()
        else:
            node = self._place_least_used()
        if node < 0:
            self.failed_creates += 1
            return -1, NODE_LOSS
        return node, OK

    # -- Scalelite's view from its polls -----------------------------------------------------
    def _poll(self, _: object = None) -> None:
        """Poll every server: an up node answers with its running meetings (and is online
        again); a lost one fails the poll and is taken offline after ``failed_polls_offline``
        failures in a row."""
        pool = self.pool
        up = pool._up
        meetings = pool.meetings.tolist()
        online, fails, view = self.online, self._fails, self._view
        for n in range(pool.n_nodes):
            if up[n]:
                fails[n] = 0
                online[n] = True
                view[n] = meetings[n]
            else:
                fails[n] += 1
                if fails[n] >= self._offline_after:
                    online[n] = False
        self._rebuild_polled()
        call_urgent(self._env, self._interval, self._poll)

    def _rebuild_polled(self) -> None:
        mult, view = self._mult, self._view
        self._poll_heap = [(view[n] * mult[n], n) for n in range(self.pool.n_nodes)
                           if self.online[n]]
        heapq.heapify(self._poll_heap)

    def _place_polled(self) -> tuple[int, int]:
        """The online server with the least load in the dispatcher's view; its load rises
        by one meeting at once, whether or not the creation succeeds (a lost node that the
        dispatcher still thinks online refuses it: ``NODE_UNSEEN``)."""
        heap = self._poll_heap
        if not heap:
            self.failed_creates += 1
            return -1, NODE_LOSS
        node = heap[0][1]
        c = self._view[node] + 1
        self._view[node] = c
        heapq.heapreplace(heap, (c * self._mult[node], node))
        if not self.pool._up[node]:
            self.failed_creates += 1
            self.unseen_creates += 1
            return -1, NODE_UNSEEN
        self.pool.meetings[node] += 1
        return node, OK

    # -- live counts ----------------------------------------------------------------------
    def _place_least_used(self) -> int:
        pool = self.pool
        score = np.where(pool.up, pool.participants / pool.cap_participants, np.inf)
        node = int(np.argmin(score))
        if not pool.up[node]:
            return -1
        pool.meetings[node] += 1
        return node

    def _place_least_meetings(self) -> int:
        """The up node with the least load (meetings × multiplier), lowest index first, from
        a heap of ``(load, node, meetings)``.

        Entries are checked when they reach the top: one whose count is no longer the node's,
        or whose node is down, is dropped. Every change of a node's count pushes its new
        entry, so each up node always has a current one; a node coming back up (the pool's
        ``up_changes`` moved) or too many dropped entries rebuild the heap.
        """
        pool = self.pool
        heap = self._heap
        if pool.up_changes != self._seen_up_changes or len(heap) > 4 * pool.n_nodes + 64:
            heap = self._rebuild()
        counts = self._counts
        up = pool._up
        while heap:
            _, node, c = heap[0]
            if c != counts[node] or not up[node]:
                heapq.heappop(heap)
                continue
            counts[node] = c + 1
            pool.meetings[node] = c + 1
            heapq.heapreplace(heap, ((c + 1) * self._mult[node], node, c + 1))
            return node
        return -1

    def _rebuild(self) -> list[tuple[float, int, int]]:
        pool = self.pool
        mult = self._mult
        self._counts = pool.meetings.tolist()
        self._heap = [(c * mult[n], n, c) for n, c in enumerate(self._counts) if pool._up[n]]
        heapq.heapify(self._heap)
        self._seen_up_changes = pool.up_changes
        return self._heap

    def _place_small(self) -> int:
        pool = self.pool
        best, best_score = -1, float("inf")
        for node in range(pool.n_nodes):
            if not pool._up[node]:
                continue
            if self.policy == "least_meetings":
                score = float(pool.meetings[node]) * self._mult[node]
            else:
                score = pool._p[node] / pool._cap_p[node]
            if score < best_score:
                best, best_score = node, score
        if best < 0:
            return -1
        pool.meetings[best] += 1
        return best

    def route_join(self) -> int:
        """A join through the dispatcher: ``OK``, or ``DISPATCHER_FAILURE`` when the dispatcher
        failure refuses it."""
        if self.failure_join_share > 0.0 and self._u.next() < self.failure_join_share:
            self.failed_joins += 1
            return DISPATCHER_FAILURE
        return OK

    def close(self, node: int) -> None:
        pool = self.pool
        pool.meetings[node] -= 1  # a polling dispatcher sees it at its next poll
        if self._counts:  # the placement heap is built (least_meetings, large pool)
            c = self._counts[node] - 1
            self._counts[node] = c
            if pool._up[node]:
                heapq.heappush(self._heap, (c * self._mult[node], node, c))
