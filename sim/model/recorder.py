"""Recording outcomes as they happen: one compact time array per outcome code and platform.

Counting is by exception: each attempt outcome appends its time to an ``array('d')``;
per-interval counts come from one ``np.histogram`` at the end (:meth:`Recorder.event_series`).
State (participants, queues, utilisation) is sampled once per interval (``sim.model.sampler``).
What the counts mean as KPIs is defined in ``sim.model.metrics``.
"""

from __future__ import annotations

from array import array
from enum import IntEnum

import numpy as np


class Code(IntEnum):
    ATTEMPT = 0
    JOIN_OK = 1
    FAIL_FRONTEND = 2
    FAIL_DISPATCH = 3
    FAIL_CAPACITY = 4
    GAVE_UP = 5
    DROP = 6
    T_ATTEMPT = 7
    T_OPEN = 8
    T_FAIL = 9
    T_GAVE_UP = 10
    LOGIN_ATTEMPT = 11
    LOGIN_OK = 12
    LOGIN_FAIL = 13
    LOGIN_GAVE_UP = 14
    RATE_LIMITED = 15


METRIC_OF_CODE = {
    Code.ATTEMPT: "join_attempts",
    Code.JOIN_OK: "joins_succeeded",
    Code.FAIL_FRONTEND: "failed_frontend",
    Code.FAIL_DISPATCH: "failed_dispatcher",
    Code.FAIL_CAPACITY: "refused_capacity",
    Code.GAVE_UP: "gave_up",
    Code.DROP: "dropped",
    Code.T_ATTEMPT: "teacher_attempts",
    Code.T_OPEN: "rooms_opened",
    Code.T_FAIL: "teacher_failed_attempts",
    Code.T_GAVE_UP: "rooms_failed",
    Code.LOGIN_ATTEMPT: "login_attempts",
    Code.LOGIN_OK: "logins_succeeded",
    Code.LOGIN_FAIL: "failed_logins",
    Code.LOGIN_GAVE_UP: "logins_gave_up",
    Code.RATE_LIMITED: "rate_limited",
}

class Recorder:
    """Times of attempt outcomes, per outcome code and platform (the last slot: no platform)."""

    def __init__(self, n_platforms: int, count_from: float = -np.inf):
        self.n_platforms = n_platforms
        self.count_from = count_from
        self._t = [[array("d") for _ in range(n_platforms + 1)] for _ in Code]
        self.samples: list[tuple[float, str, str, float]] = []

    def rec(self, code: int, platform: int, t: float) -> None:
        self._t[code][platform].append(t)

    def channel(self, code: Code) -> list[array]:
        """The per-platform time arrays of ``code`` (append a time to record an outcome)."""
        return self._t[code]

    def times(self, code: Code, platform: int | None = None) -> np.ndarray:
        """Event times of ``code`` (all platforms if ``platform`` is None), counted ones only."""
        if platform is None:
            parts = [np.frombuffer(a, dtype=float) for a in self._t[code] if len(a)]
            arr = np.concatenate(parts) if parts else np.zeros(0)
        else:
            arr = np.frombuffer(self._t[code][platform], dtype=float)
        return arr[arr >= self.count_from] if np.isfinite(self.count_from) else arr

    def count(self, code: Code, platform: int | None = None) -> int:
        return int(self.times(code, platform).size)

    def sample(self, t: float, component: str, metric: str, value: float) -> None:
        self.samples.append((t, component, metric, float(value)))

    def event_series(
        self, platform_names: list[str], start: float, end: float, interval: float
    ) -> list[tuple[float, str, str, float]]:
        """Per-interval counts of every outcome, per platform and in total."""
        edges = np.arange(start, end + interval, interval)
        rows: list[tuple[float, str, str, float]] = []
        t_left = edges[:-1]
        for code in Code:
            metric = METRIC_OF_CODE[code]
            total = np.zeros(t_left.size)
            for p in range(self.n_platforms + 1):
                arr = np.frombuffer(self._t[code][p], dtype=float)
                if arr.size == 0:
                    continue
                h, _ = np.histogram(arr, bins=edges)
                total += h
                if p < self.n_platforms:
                    comp = f"platform:{platform_names[p]}"
                    rows.extend(
                        zip(
                            t_left.tolist(),
                            [comp] * h.size,
                            [metric] * h.size,
                            h.astype(float).tolist(),
                            strict=True,
                        )
                    )
            if total.any():
                rows.extend(
                    zip(
                        t_left.tolist(),
                        ["total"] * total.size,
                        [metric] * total.size,
                        total.tolist(),
                        strict=True,
                    )
                )
        return rows
