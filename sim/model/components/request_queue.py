"""A c-worker FIFO request queue with client time-outs: login services and school servers.

FIFO service with service times drawn at arrival means a request's start time is known the
moment it arrives: ``start = max(arrival, earliest time a worker becomes free)`` (the
Kiefer–Wolfowitz recursion). A request that would wait longer than the client's time-out
fails at ``arrival + timeout_s`` and never occupies a worker, which does not change anyone
else's start. So a request costs at most one scheduled event (its completion or its
time-out), and a caller that only needs the outcome (a morning login) costs none:
:meth:`RequestQueue.request` returns it, :meth:`RequestQueue.submit` schedules a callback.

Optionally the answer then crosses a link of its own (a school's uplink, used by pupils at
home: :class:`~sim.model.components.uplink.Uplink`): the worker is free once the answer is
ready, and the answer's ``transfer_mbit`` queues for the link's bandwidth. The client's time-out
covers the whole wait — for a worker, then for the link; an answer that cannot start its
transfer in time fails with ``uplink_cause`` at the moment the time-out runs out.

Statistics: arrivals, served, timed out, waited, total wait, total busy time, and the queue
length at any instant (``waiting_at``), for Little's law and the Erlang-C oracle.

Every outcome carries its reason: :data:`OK`, or the cause code (``sim.model.causes``) of
the failure — the queue's own ``timeout_cause`` for a request that waited too long, the
cause of the hold that refused it for a request that found the service down. The service is
down while any *hold* is on (:meth:`RequestQueue.hold`, :meth:`RequestQueue.release`): each
fault holds it down for its own reason and cause, and overlapping holds keep it down until the
last one is released. A request refused while several holds are on is charged to the hold that
began first; holds that began at the same instant go to the lowest cause code (a fixed order,
independent of the order in which faults were installed).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.model.causes import OK
from sim.model.components.uplink import Uplink
from sim.model.draws import UnitDraws
from sim.model.engine import Outcome, deliver_later

OnDone = Callable[[Any, int], None]
_heappop = heapq.heappop



@dataclass(frozen=True)
class QueueStats:
    """A queue's counters, for the arrivals from ``count_from`` on (a snapshot)."""

    count_from: float
    arrivals: int
    served: int
    timed_out: int
    waited: int
    wait_sum_s: float  # over served and timed-out requests
    busy_sum_s: float


class RequestQueue:
    """c workers, FIFO, time-out while waiting; outcome known at arrival."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        workers: int,
        timeout_s: float,
        draws: UnitDraws,
        *,
        timeout_cause: int,
        login_service_s: float = 1.0,
        join_service_s: float = 1.0,
        uplink: Uplink | None = None,
        uplink_cause: int = OK,
        transfer_mbit: float = 0.0,
    ):
        self.env = env
        self.name = name
        self.workers = workers
        self.timeout_s = timeout_s
        self.login_service_s = login_service_s
        self.join_service_s = join_service_s
        self._draws = draws
        self.uplink = uplink if transfer_mbit > 0.0 else None
        self.uplink_cause = uplink_cause
        self.transfer_mbit = transfer_mbit
        if timeout_cause == OK:
            raise ValueError(f"{name}: a time-out needs a cause code other than OK")
        if self.uplink is not None and uplink_cause == OK:
            raise ValueError(f"{name}: an uplink needs a cause code other than OK")
        self.timeout_cause = timeout_cause  # the cause of a request that waited too long
        self.up = True  # no hold is on
        # the holds keeping it down: reason → (since, cause, until (inf: not known))
        self._holds: dict[Any, tuple[float, int, float]] = {}
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
        self.offered_s = 0.0  # work offered while up (every request at its mean service time)
        # outages (faults): in-flight requests are tracked only when enabled
        self.tracked = False
        self._inflight: list[Outcome] = []
        self._prune_at = 4 * workers + 64
        self._last_service = 0.0

    # -- the queue ---------------------------------------------------------------------------
    def request(self, mean_service_s: float) -> tuple[int, float]:
        """A request arriving now: ``(OK, completion time)`` or ``(cause, failure time)``
        — the cause of the hold that refuses it, or the time-out's."""
        now = self.env.now
        counted = now >= self.count_from
        if counted:
            self.arrivals += 1
        if not self.up:
            if counted:
                self.rejected_down += 1
            return self.cause_at(now), now
        self.offered_s += mean_service_s
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
            return self.timeout_cause, fail_t
        draws = self._draws  # UnitDraws.next, inlined (≈1.8 M requests a day)
        k = draws._i
        buf = draws._buf
        if k >= len(buf):
            draws._refill()
            buf = draws._buf
            k = 0
        draws._i = k + 1
        service = mean_service_s * buf[k]
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
        if self.uplink is not None:
            # the answer queues for the upload; the client waits at most timeout_s in all
            latest = done + self.timeout_s - (start - now)
            sent = self.uplink.reserve(now, done, self.transfer_mbit, latest)
            if sent is None:
                return self.uplink_cause, latest
            self._last_service = sent[1] - start
            return OK, sent[1]
        return OK, done

    def request_batch(self, times: np.ndarray, mean_service_s: float) -> np.ndarray | None:
        """Requests arriving at ``times`` (sorted, from now on, with nothing observing the queue
        in between): their completion times if none of them has to wait, else None (and
        nothing done: call :meth:`request` one by one).

        The same outcomes, random draws and statistics as :meth:`request` per arrival; one
        vectorised pass instead of a heap operation per request when the queue is unsaturated.
        """
        n = times.size
        if n == 0 or not self.up or self.tracked or self.uplink is not None:
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
        self.offered_s += mean_service_s * n
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
        """Submit a request; ``on_done(token, outcome)`` is called at completion or failure
        (``outcome``: :data:`OK` or the failure's cause code)."""
        now = self.env.now
        cause, t = self.request(mean_service_s)
        out = Outcome(on_done, token, cause)
        if self.tracked:
            out.start = t - (self._last_service if cause == OK else 0.0)
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
    def wait_now_s(self) -> float:
        """How long a request arriving now would wait for a worker."""
        if self.busy < self.workers:
            return 0.0
        return self._busy_until[0] - self.env.now

    @property
    def waiting(self) -> int:
        """Requests queued now (not yet started, not yet timed out)."""
        now = self.env.now
        h = self._waiting_until
        while h and h[0] <= now:
            heapq.heappop(h)
        return len(h)

    def stats(self) -> QueueStats:
        """The counters now."""
        return QueueStats(self.count_from, self.arrivals, self.served, self.timed_out,
                          self.waited, self.wait_sum_s, self.busy_sum_s)

    # -- faults ----------------------------------------------------------------------------
    def enable_outages(self) -> None:
        """Track in-flight requests so that :meth:`hold` can fail them (costs a little)."""
        self.tracked = True

    def hold(self, reason: Any, cause: int, until: float = float("inf"),
             fail_in_service: bool = True) -> None:
        """Hold the service down for ``reason`` (a key of the caller's: one fault, one crash),
        charging the requests it refuses to ``cause``, until :meth:`release` of that reason.

        The service is up only while no hold is on: a crash and an uplink outage that overlap
        keep the server down until both are over. ``until``: when this hold will be released,
        if known (a scheduled restart or repair); callers may then settle requests that fall
        within the outage at once (see :attr:`down_until`, :meth:`cause_at`).

        The first hold takes the service down: every queued request fails now with ``cause``
        (the client sees an error), and so do the requests in service unless
        ``fail_in_service`` is False (a graceful stop). New requests fail at once while down.
        Coming back, the workers start empty apart from requests that survived a graceful stop.
        """
        if not self.tracked:
            raise RuntimeError(f"{self.name}: enable_outages() before the run to model outages")
        if cause == OK:
            raise ValueError(f"{self.name}: a hold needs a cause code other than OK")
        now = self.env.now
        was_up = not self._holds
        self._holds[reason] = (now, cause, until)
        if not was_up:
            return
        self.up = False
        survivors: list[Outcome] = []
        failing: list[Outcome] = []
        for o in self._inflight:
            if o.cancelled or o.done <= now:
                continue
            if o.cause == OK and o.start <= now and not fail_in_service:
                survivors.append(o)
            else:
                o.cancelled = True
                failing.append(o)
        self._busy_until = [o.done for o in survivors]
        heapq.heapify(self._busy_until)
        self._waiting_until = []
        if self.uplink is not None:  # the answers not yet sent are not sent
            self.uplink.clear()
        self._inflight = survivors
        for o in failing:
            o.fn(o.token, cause)

    def release(self, reason: Any) -> None:
        """End the hold of ``reason`` (nothing if it is not on); up when no hold is left."""
        self._holds.pop(reason, None)
        if not self._holds:
            self.up = True

    @property
    def down_until(self) -> float:
        """While down: the earliest time it can be up again (``inf``: not known — a hold
        without ``until`` may be released at any time)."""
        return max(h[2] for h in self._holds.values()) if self._holds else self.env.now

    def cause_at(self, t: float) -> int:
        """The cause a request refused at ``t`` (now, or within the holds on now) is charged
        to: of the holds still on at ``t``, the one that began first; at a tie, the lowest
        cause code. (A hold that begins after now can begin first at no later ``t``, so this
        is what the request will be told.) :data:`OK` if no hold is on."""
        holds = self._holds
        if len(holds) == 1:
            for _, cause, _ in holds.values():
                return cause
        on = [h for h in holds.values() if h[2] > t] or list(holds.values())
        return min(on)[1] if on else OK

    def reject_down(self, t: float) -> int:
        """Count a request at ``t`` that finds the service down, without making it (the
        caller settles a request falling within a known outage ahead of time); returns the
        cause it is refused for (:meth:`cause_at`)."""
        if t >= self.count_from:
            self.arrivals += 1
            self.rejected_down += 1
        return self.cause_at(t)

    def finish(self) -> None:
        """End of run (nothing to flush: outcomes were decided at arrival)."""
