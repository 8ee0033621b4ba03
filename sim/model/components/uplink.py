"""A school's uplink as its own resource: answers queue for upload bandwidth, not for workers.

Pupils at home reach the school's own server over the school's connection; every answer the
server sends them (the page and its data) crosses the school's *upload* bandwidth, which the
day's other traffic (task up- and downloads, staff) shares. The uplink sends one transfer at
a time at the bandwidth left over by that traffic (``mbit_s``), so a transfer takes
``mbit / mbit_s`` seconds and, when the link is busy, waits.

Outcomes are known when the request arrives (as for :mod:`sim.model.components.request_queue`):
a transfer is *reserved* as soon as the server's answer is known to be ready, into the first
gap of the link's timetable at or after that instant that fits it (first fit). Reservations are
made in the order the requests arrive, not the order their answers become ready, so a later
request whose answer is ready earlier takes an earlier gap when one fits: the link never idles
while a ready answer waits, except in a gap too short for it (an approximation of a link that
sends whatever is ready; the busy time is the same).

A transfer that would start so late that the client's time-out runs out first is not sent:
the client gave up (:meth:`Uplink.reserve` returns None). Statistics: transfers sent, those
that waited, their total wait, and the transfers given up.
"""

from __future__ import annotations

from bisect import bisect_right


class Uplink:
    """Upload bandwidth of one school: a first-fit timetable of transfers."""

    def __init__(self, mbit_s: float):
        if mbit_s <= 0.0:
            raise ValueError("an uplink needs a positive bandwidth")
        self.mbit_s = mbit_s
        self._starts: list[float] = []  # reserved transfers, sorted, never overlapping
        self._ends: list[float] = []
        self.transfers = 0
        self.waited = 0
        self.wait_sum_s = 0.0
        self.given_up = 0

    def reserve(self, now: float, ready: float, mbit: float, latest_start: float
                ) -> tuple[float, float] | None:
        """A transfer of ``mbit`` whose data is ready at ``ready`` (≥ ``now``): its (start,
        end), or None if it could not start by ``latest_start`` (the client gave up; nothing
        reserved)."""
        starts, ends = self._starts, self._ends
        k = bisect_right(ends, now)
        if k:  # transfers over by now are forgotten
            del starts[:k]
            del ends[:k]
        dur = mbit / self.mbit_s
        j = bisect_right(ends, ready)
        start = ready
        n = len(starts)
        while j < n and starts[j] < start + dur:  # no gap before reservation j: after it
            start = max(start, ends[j])
            j += 1
        if start > latest_start:
            self.given_up += 1
            return None
        starts.insert(j, start)
        ends.insert(j, start + dur)
        self.transfers += 1
        if start > ready:
            self.waited += 1
            self.wait_sum_s += start - ready
        return start, start + dur

    def clear(self) -> None:
        """Every reserved transfer dropped (the server or the link went down)."""
        self._starts.clear()
        self._ends.clear()
