"""A c-worker FIFO request queue with client time-outs: login services and school servers.

FIFO service with service times drawn at arrival means a request's start time is known the
moment it arrives: ``start = max(arrival, earliest time a worker becomes free)`` (the
Kiefer–Wolfowitz recursion). A request that would wait longer than the client's time-out
fails at ``arrival + timeout_s`` and never occupies a worker, which does not change anyone
else's start. So a request costs at most one scheduled event (its completion or its
time-out), and a caller that only needs the outcome (a morning login) costs none:
:meth:`RequestQueue.request` returns it, :meth:`RequestQueue.submit` schedules a callback.

Optionally a request also carries data over a shared link (a school's uplink used by pupils
at home): transfer time ``transfer_mbit × busy workers / available link Mbit/s`` taken when
the request starts (a processor-sharing approximation).

Statistics: arrivals, served, timed out, waited, total wait, total busy time, and the queue
length at any instant (``waiting_at``), for Little's law and the Erlang-C oracle.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from sim.model.draws import UnitDraws
from sim.model.engine import Outcome, deliver_later

OnDone = Callable[[Any, bool], None]
_heappop = heapq.heappop


class RequestQueue:
    """c workers, FIFO, time-out while waiting; outcome known at arrival."""

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
        self.name = name
        self.workers = workers
        self.timeout_s = timeout_s
        self.login_service_s = login_service_s
        self.join_service_s = join_service_s
        self._draws = draws
        self.link_mbit_s = link_mbit_s
        self.transfer_mbit = transfer_mbit
        self.up = True
        # cause codes (sim.model.causes) of a request failing here: up, and down; set by the world
        self.cause = 0
        self.outage_cause = 0
        self._down: dict[Any, float] = {}  # why it is down → when that ends (inf: unknown)
        self._busy_until: list[float] = []  # heap: when each busy worker frees up
        self._waiting_until: list[float] = []  # heap: when each queued request leaves the queue
        # statistics (for arrivals at or after count_from)
        self.count_from = -float("inf")
        self.arrivals = 0
        self.served = 0
        self.timed_out = 0
        self.rejected_down = 0
        self.waited = 0
        self.wait_sum_s = 0.0  # over served and timed-out requests
        self.busy_sum_s = 0.0
        # outages (faults): in-flight requests are tracked only when enabled
        self.tracked = False
        self._inflight: list[Outcome] = []
        self._prune_at = 4 * workers + 64
        self._last_service = 0.0

    # -- the queue ---------------------------------------------------------------------------
    def request(self, mean_service_s: float) -> tuple[bool, float]:
        """A request arriving now: ``(True, completion time)`` or ``(False, failure time)``."""
        now = self.env.now
        counted = now >= self.count_from
        if counted:
            self.arrivals += 1
        if not self.up:
            if counted:
                self.rejected_down += 1
            return False, now
        heap = self._busy_until
        while heap and heap[0] <= now:  # workers done by now are free
            _heappop(heap)
        if len(heap) < self.workers:
            start = now
            reuse = False
        else:
            start = heap[0]  # FIFO: the earliest worker to become free takes this request
            reuse = True
        if start - now > self.timeout_s:
            fail_t = now + self.timeout_s
            heapq.heappush(self._waiting_until, fail_t)
            if counted:
                self.timed_out += 1
                self.waited += 1
                self.wait_sum_s += self.timeout_s
            return False, fail_t
        draws = self._draws  # UnitDraws.next, inlined (≈1.8 M requests a day)
        k = draws._i
        buf = draws._buf
        if k >= len(buf):
            draws._refill()
            buf = draws._buf
            k = 0
        draws._i = k + 1
        service = mean_service_s * buf[k]
        if self.transfer_mbit > 0.0:
            # busy at start: all workers when queued (the freed one is taken at once),
            # otherwise those in service now plus this request
            busy = len(heap) if reuse else len(heap) + 1
            service += self.transfer_mbit * min(busy, self.workers) / self.link_mbit_s
        done = start + service
        self._last_service = service
        if reuse:
            heapq.heapreplace(heap, done)
        else:
            heapq.heappush(heap, done)
        if start > now:
            heapq.heappush(self._waiting_until, start)
        if counted:
            self.served += 1
            self.busy_sum_s += service
            if start > now:
                self.waited += 1
                self.wait_sum_s += start - now
        return True, done

    def request_batch(self, times: np.ndarray, mean_service_s: float) -> np.ndarray | None:
        """Requests arriving at ``times`` (sorted, from now on, with nothing observing the queue
        in between): their completion times if none of them has to wait, else None (and
        nothing done: call :meth:`request` one by one).

        The same outcomes, random draws and statistics as :meth:`request` per arrival; one
        vectorised pass instead of a heap operation per request when the queue is unsaturated.
        """
        n = times.size
        if n == 0 or not self.up or self.tracked or self.transfer_mbit > 0.0:
            return None if n else times.copy()
        heap = self._busy_until
        service = mean_service_s * self._draws.peek(n)
        # In service at arrival i at most: the carried-over workers plus the earlier arrivals
        # of the batch within one maximal service time (a bound, with a margin for rounding).
        reach = float(service.max()) * (1.0 + 1e-9) + 1e-12
        lo = np.searchsorted(times, times - reach, side="left")
        in_service = len(heap) + int((np.arange(n) - lo).max())
        if in_service >= self.workers:
            return None
        self._draws.skip(n)
        done = times + service
        counted = times >= self.count_from
        if counted.all():
            k, served_s = n, service
        else:
            k, served_s = int(counted.sum()), service[counted]
        if k:
            self.arrivals += k
            self.served += k
            # sequential, as request() adds them (bit-identical totals)
            self.busy_sum_s = float(np.add.accumulate(np.concatenate(([self.busy_sum_s],
                                                                      served_s)))[-1])
        self._last_service = float(service[-1])
        last = float(times[-1])
        busy = [t for t in heap if t > last]
        busy.extend(done[done > last].tolist())
        heapq.heapify(busy)
        self._busy_until = busy
        return done

    def submit(self, token: Any, mean_service_s: float, on_done: OnDone) -> None:
        """Submit a request; ``on_done(token, ok)`` is called at completion or time-out."""
        now = self.env.now
        ok, t = self.request(mean_service_s)
        out = Outcome(on_done, token, ok)
        if self.tracked:
            out.start = t - (self._last_service if ok else 0.0)
            out.done = t
            inflight = self._inflight
            inflight.append(out)
            if len(inflight) > self._prune_at:  # amortised pruning of finished ones
                kept = [o for o in inflight if o.done > now and not o.cancelled]
                self._inflight = kept
                # next time at twice what is still in flight: a long queue (requests waiting
                # for their time-out) is not copied again at every submit
                self._prune_at = max(4 * self.workers + 64, 2 * len(kept))
        # the outcome object is itself the scheduled event (sim.model.engine.Outcome)
        deliver_later(self.env, t - now, out)

    # -- views -------------------------------------------------------------------------------
    @property
    def busy(self) -> int:
        """Workers busy now."""
        now = self.env.now
        h = self._busy_until
        while h and h[0] <= now:
            heapq.heappop(h)
        return len(h)

    @property
    def waiting(self) -> int:
        """Requests queued now (not yet started, not yet timed out)."""
        now = self.env.now
        h = self._waiting_until
        while h and h[0] <= now:
            heapq.heappop(h)
        return len(h)

    # -- faults ----------------------------------------------------------------------------
    def enable_outages(self) -> None:
        """Track in-flight requests so that :meth:`set_up` can fail them (costs a little)."""
        self.tracked = True

    def set_up(self, up: bool, fail_in_service: bool = True, reason: Any = "manual",
               until: float = float("inf")) -> None:
        """Take the service down for ``reason`` or end that reason's outage.

        The service is up only while no reason holds it down: a crash and an uplink outage
        that overlap keep the server down until both are over. ``until``: when this reason's
        outage will end, if known (a scheduled restart or repair); callers may then settle
        requests that fall within the outage at once (see :attr:`down_until`).

        Going down (the first reason), every queued request fails now (the client sees an
        error), and so do the requests in service unless ``fail_in_service`` is False (a
        graceful stop). New requests fail at once while down. Coming back, the workers start
        empty apart from requests that survived a graceful stop.
        """
        if not self.tracked:
            raise RuntimeError(f"{self.name}: enable_outages() before the run to model outages")
        now = self.env.now
        if up:
            self._down.pop(reason, None)
            if not self._down:
                self.up = True
            return
        was_up = not self._down
        self._down[reason] = until
        if not was_up:
            return
        self.up = False
        survivors: list[Outcome] = []
        failing: list[Outcome] = []
        for o in self._inflight:
            if o.cancelled or o.done <= now:
                continue
            if o.ok and o.start <= now and not fail_in_service:
                survivors.append(o)
            else:
                o.cancelled = True
                failing.append(o)
        self._busy_until = [o.done for o in survivors]
        heapq.heapify(self._busy_until)
        self._waiting_until = []
        self._inflight = survivors
        for o in failing:
            o.fn(o.token, False)

    @property
    def down_until(self) -> float:
        """While down: the earliest time it can be up again (``inf``: not known — a reason
        set down without ``until`` may be cleared at any time)."""
        return max(self._down.values()) if self._down else self.env.now

    def reject_down(self, t: float) -> None:
        """Count a request at ``t`` that found the service down, without making it (the
        caller settled a request falling within a known outage ahead of time)."""
        if t >= self.count_from:
            self.arrivals += 1
            self.rejected_down += 1

    def finish(self) -> None:
        """End of run (nothing to flush: outcomes were decided at arrival)."""
