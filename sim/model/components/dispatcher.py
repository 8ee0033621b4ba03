"""The dispatcher ("Vermittlungsstelle"): places new rooms on nodes and routes joins.

Placement policies:

- ``least_meetings`` — Scalelite as deployed in January 2021: a server's load is its number of
  running meetings; a create goes to the least-loaded server and counts immediately.
- ``least_participants`` — the later Scalelite rule (load = attendees), by utilisation.

Ties go to the lowest node index, so placement is deterministic. A dispatcher failure
(``sim.model.faults``) sets ``failure_create_share``/``failure_join_share``: that share of
creations/joins fails while it lasts.

Each outcome carries its reason (``sim.model.causes``): a refused creation or join is
``DISPATCHER_FAILURE`` when the dispatcher failure refused it; a creation finding no node up is
``NODE_LOSS`` — the platform's nodes are all lost (every cluster has at least one regular node,
and only a lost node is down; reserve nodes that were never started add none), so it is the
loss of nodes, not the dispatcher, that a planner would have to prevent.
"""

from __future__ import annotations

import heapq

import numpy as np

from sim.model.causes import DISPATCHER_FAILURE, NODE_LOSS, OK
from sim.model.components.conference import NodePool
from sim.model.draws import UnitDraws


class Dispatcher:
    def __init__(self, pool: NodePool, policy: str, draws: UnitDraws):
        self.pool = pool
        self.policy = policy
        self._u = draws  # uniform draws for partial failures
        self.failure_create_share = 0.0
        self.failure_join_share = 0.0
        self.failed_creates = 0
        self.failed_joins = 0
        # least_meetings on a large pool: a heap of (meetings, node), see _place_least_meetings
        self._heap_in_use = policy == "least_meetings" and pool.n_nodes > 8
        self._heap: list[tuple[int, int]] = []
        self._counts: list[int] = []
        self._seen_up_changes = -1

    def place(self) -> tuple[int, int]:
        """Choose a node for a new room: ``(node, OK)``, or ``(-1, cause)`` — ``DISPATCHER_FAILURE``
        when the dispatcher failure refuses it, ``NODE_LOSS`` when no node is up."""
        if self.failure_create_share > 0.0 and self._u.next() < self.failure_create_share:
            self.failed_creates += 1
            return -1, DISPATCHER_FAILURE
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

    def _place_least_used(self) -> int:
        pool = self.pool
        score = np.where(pool.up, pool.participants / pool.cap_participants, np.inf)
        node = int(np.argmin(score))
        if not pool.up[node]:
            return -1
        pool.meetings[node] += 1
        return node

    def _place_least_meetings(self) -> int:
        """The up node with the fewest meetings, lowest index first (numpy's argmin over
        ``pool.meetings`` of the up nodes), from a heap of ``(meetings, node)``.

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
            c, node = heap[0]
            if c != counts[node] or not up[node]:
                heapq.heappop(heap)
                continue
            counts[node] = c + 1
            pool.meetings[node] = c + 1
            heapq.heapreplace(heap, (c + 1, node))
            return node
        return -1

    def _rebuild(self) -> list[tuple[int, int]]:
        pool = self.pool
        self._counts = pool.meetings.tolist()
        self._heap = [(c, n) for n, c in enumerate(self._counts) if pool._up[n]]
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
                score = float(pool.meetings[node])
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
        pool.meetings[node] -= 1
        if self._counts:  # the placement heap is built (least_meetings, large pool)
            c = self._counts[node] - 1
            self._counts[node] = c
            if pool._up[node]:
                heapq.heappush(self._heap, (c, node))
