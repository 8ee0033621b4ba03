"""Sessions: participant-seconds in conferences, and the reconnects of sessions that ended.

Participant-seconds (pupils and hosts) are summed at each leave — an exact W·λ for Little's
law against the sampled occupancy. Every session that ends is accounted here
(:meth:`Sessions.add`), whatever ended it: the meeting's end, a lost node, a drop.

A participant's client drops and reconnects at ``reconnect_per_h`` (a Poisson process, not
in the last minute). Where no fault can touch the way back in (no dispatcher failure or
front-end outage on the platform, the school's server not subject to an outage), a reconnect
always succeeds within a fraction of a second, so it is counted (as a drop, a join attempt and
a join, at a uniform time within the session) instead of simulated event by event; elsewhere
the pupils' chain simulates it (``sim.model.behaviour.pupils``). Nothing in the run depends on
these counts, so they are drawn for all sessions at once at the end
(:meth:`Sessions.count_reconnects`): one vectorised draw instead of a few numpy calls per
meeting (≈ 8 % of an ordinary day's run time).
"""

from __future__ import annotations

import numpy as np

from sim.model.recorder import Code, Recorder


class Sessions:
    """Session time per platform, and the reconnects counted for sessions that ended."""

    def __init__(self, n_platforms: int, reconnect_per_h: float, recorder: Recorder,
                 rng_counted: np.random.Generator):
        self.session_s = 0.0
        self.session_s_platform = [0.0] * n_platforms
        self.reconnect_rate_s = reconnect_per_h / 3600.0
        # counted reconnects: a stream of their own, so that drawing them at the end does not
        # move the simulated drops' draws
        self._rng = rng_counted
        self._c_drop = recorder.channel(Code.DROP)
        self._c_attempt = recorder.channel(Code.ATTEMPT)
        self._c_join = recorder.channel(Code.JOIN_OK)
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._platforms: list[int] = []
        self._sizes: list[int] = []
        self.reconnects_counted = 0  # drawn so far, and their expected number
        self.reconnects_expected = 0.0

    def add(self, platform: int, dt: float) -> None:
        """``dt`` participant-seconds ended on ``platform``."""
        self.session_s += dt
        self.session_s_platform[platform] += dt

    def ended(self, platform: int, starts: list[float], now: float) -> None:
        """Sessions that ended now (``starts``: their start times) whose reconnects are
        counted (drawn at the end of the run)."""
        if self.reconnect_rate_s <= 0.0 or not starts:
            return
        self._starts.extend(starts)
        self._ends.append(now)
        self._platforms.append(platform)
        self._sizes.append(len(starts))

    def count_reconnects(self) -> None:
        """Draw and record the counted reconnects of every session ended so far (end of run).

        Per session of ``d`` seconds (less the last minute): ``k ~ Poisson(rate · d)``
        reconnects at uniform times within it, recorded as drop, join attempt and join.
        """
        if not self._starts:
            return
        starts = np.array(self._starts)
        sizes = np.array(self._sizes)
        ends = np.repeat(np.array(self._ends), sizes)
        platforms = np.repeat(np.array(self._platforms), sizes)
        self._starts, self._ends, self._platforms, self._sizes = [], [], [], []
        dur = np.maximum(ends - starts - 60.0, 0.0)
        rng = self._rng
        lam = self.reconnect_rate_s * dur
        k = rng.poisson(lam)
        total = int(k.sum())
        self.reconnects_expected += float(lam.sum())
        self.reconnects_counted += total
        if not total:
            return
        times = np.repeat(starts, k) + rng.random(total) * np.repeat(dur, k)
        at = np.repeat(platforms, k)
        for p in np.unique(at).tolist():
            raw = times[at == p].tobytes()
            self._c_drop[p].frombytes(raw)
            self._c_attempt[p].frombytes(raw)
            self._c_join[p].frombytes(raw)
