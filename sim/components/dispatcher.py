"""The dispatcher ("Vermittlungsstelle"): places new rooms on nodes and routes joins.

Placement policies:

- ``least_meetings`` — Scalelite as deployed in January 2021: a server's load is its number of
  running meetings; a create goes to the least-loaded server and counts immediately.
- ``least_participants`` — the later Scalelite rule (load = attendees), by utilisation.

Ties go to the lowest node index, so placement is deterministic. Faults (``sim.faults``) set
``fail_create_share``/``fail_join_share``: that share of creations/joins fails while active.
"""

from __future__ import annotations

import numpy as np

from sim.components.conference import NodePool
from sim.events import UnitDraws


class Dispatcher:
    def __init__(self, pool: NodePool, policy: str, draws: UnitDraws):
        self.pool = pool
        self.policy = policy
        self._u = draws  # uniform draws for partial failures
        self.fail_create_share = 0.0
        self.fail_join_share = 0.0
        self.failed_creates = 0
        self.failed_joins = 0
        self._inf = np.iinfo(np.int64).max

    def place(self) -> int:
        """Choose a node for a new room; -1 when the dispatcher fails or no node is up."""
        if self.fail_create_share > 0.0 and self._u.next() < self.fail_create_share:
            self.failed_creates += 1
            return -1
        pool = self.pool
        if pool.n_nodes <= 8:  # small pools: a Python scan beats numpy's call overhead
            return self._place_small()
        if self.policy == "least_meetings":
            score = np.where(pool.up, pool.meetings, self._inf)
        else:
            score = np.where(pool.up, pool.participants / pool.cap_participants, np.inf)
        node = int(np.argmin(score))
        if not pool.up[node]:
            self.failed_creates += 1
            return -1
        pool.meetings[node] += 1
        return node

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
            self.failed_creates += 1
            return -1
        pool.meetings[best] += 1
        return best

    def route_join(self) -> bool:
        """Whether a join gets through the dispatcher (False during a dispatcher fault)."""
        if self.fail_join_share > 0.0 and self._u.next() < self.fail_join_share:
            self.failed_joins += 1
            return False
        return True

    def close(self, node: int) -> None:
        self.pool.meetings[node] -= 1
