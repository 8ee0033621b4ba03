"""A c-worker FIFO request queue with client time-outs: login services and school servers.

Callback-based (no process per request, no ``simpy.Resource``): a request that finds a free
worker schedules exactly one event (its completion); one that has to wait also schedules its
time-out. A request still queued at its time-out fails — the browser gave up — and its entry
is skipped lazily when a worker reaches it.

Optionally the request also carries data over a shared link (a school's uplink used by pupils
at home): the transfer time is ``transfer_mbit × busy workers / available link Mbit/s``,
a processor-sharing approximation taken when the request starts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import simpy

from sim.events import UnitDraws, call_later

OnDone = Callable[[Any, bool], None]


class RequestQueue:
    """c workers, FIFO, time-out while waiting; statistics for Little's law and Erlang-C."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        workers: int,
        timeout_s: float,
        draws: UnitDraws,
        login_service_s: float = 1.0,
        join_service_s: float = 1.0,
        link_mbit_s: float = 0.0,
        transfer_mbit: float = 0.0,
    ):
        self.env = env
        self.login_service_s = login_service_s
        self.join_service_s = join_service_s
        self.name = name
        self.workers = workers
        self.timeout_s = timeout_s
        self._draws = draws
        self.link_mbit_s = link_mbit_s
        self.transfer_mbit = transfer_mbit
        self.up = True
        self.busy = 0
        self.waiting = 0
        self._queue: deque[list[Any]] = deque()
        # statistics
        self.arrivals = 0
        self.served = 0
        self.timed_out = 0
        self.rejected_down = 0
        self.waited = 0  # requests that had to queue
        self.wait_sum_s = 0.0  # over all requests that started service
        self.count_from = 0.0  # statistics only for arrivals at/after this time
        self._area_t = env.now
        self.area_waiting = 0.0  # ∫ waiting dt (for Little's law)
        self.area_busy = 0.0

    # -- bookkeeping -------------------------------------------------------------------------
    def _advance(self) -> None:
        now = self.env.now
        dt = now - self._area_t
        if dt > 0.0:
            self.area_waiting += self.waiting * dt
            self.area_busy += self.busy * dt
            self._area_t = now

    def reset_statistics(self) -> None:
        """Start the statistics afresh at the current time (after a warm-up)."""
        self._advance()
        self.area_waiting = self.area_busy = 0.0
        self.arrivals = self.served = self.timed_out = self.waited = 0
        self.wait_sum_s = 0.0
        self.count_from = self.env.now

    # -- requests ----------------------------------------------------------------------------
    def submit(self, token: Any, mean_service_s: float, on_done: OnDone) -> None:
        """Submit a request; ``on_done(token, ok)`` is called at completion or time-out."""
        self.arrivals += 1
        if not self.up:
            self.rejected_down += 1
            on_done(token, False)
            return
        if self.busy < self.workers:
            self._advance()
            self._start(token, mean_service_s, on_done, 0.0)
            return
        self._advance()
        entry = [token, mean_service_s, on_done, self.env.now, True]
        self._queue.append(entry)
        self.waiting += 1
        self.waited += 1
        if self.timeout_s < float("inf"):
            call_later(self.env, self.timeout_s, self._on_timeout, entry)

    def _start(self, token: Any, mean_service_s: float, on_done: OnDone, waited_s: float) -> None:
        self.busy += 1
        self.wait_sum_s += waited_s
        service = mean_service_s * self._draws.next()
        if self.transfer_mbit > 0.0:
            service += self.transfer_mbit * self.busy / self.link_mbit_s
        call_later(self.env, service, self._on_complete, (token, on_done))

    def _on_complete(self, item: tuple[Any, OnDone]) -> None:
        self._advance()
        self.busy -= 1
        self.served += 1
        token, on_done = item
        self._next()
        on_done(token, True)

    def _next(self) -> None:
        q = self._queue
        while q and self.busy < self.workers:
            entry = q.popleft()
            if entry[4]:
                entry[4] = False
                self.waiting -= 1
                self._start(entry[0], entry[1], entry[2], self.env.now - entry[3])

    def _on_timeout(self, entry: list[Any]) -> None:
        if not entry[4]:
            return  # already served: a stale timer is a cheap no-op
        self._advance()
        entry[4] = False
        self.waiting -= 1
        self.timed_out += 1
        self.wait_sum_s += self.timeout_s
        entry[2](entry[0], False)

    # -- faults ------------------------------------------------------------------------------
    def set_up(self, up: bool) -> None:
        """Take the service down (queued requests fail now) or bring it back."""
        self._advance()
        self.up = up
        if not up:
            while self._queue:
                entry = self._queue.popleft()
                if entry[4]:
                    entry[4] = False
                    self.waiting -= 1
                    self.rejected_down += 1
                    entry[2](entry[0], False)

    def finish(self) -> None:
        self._advance()
