"""Metrics: event counters, per-minute samples, KPIs with stable names (see DESIGN.md).

Counting is by exception: each attempt outcome appends its time to a compact ``array('d')``;
per-minute counts come from one ``np.histogram`` at the end. State (participants, queues,
utilisation) is sampled once per simulated minute by an URGENT event, i.e. *before* the
events of that instant.

KPI definitions (pupils only; teachers are reported under ``teacher_*``):

- ``join_attempts`` — conference join attempts of pupils (first tries, retries, rejoins).
- ``joins_succeeded`` — attempts that got into the room (incl. rejoins after a drop).
- ``join_success_rate`` — share of intending pupil-meetings that got in at least once.
- ``p50/p95/p99_time_to_join_s`` — from the later of the pupil's first attempt and the
  meeting's start to the first successful join, over pupil-meetings that got in.
- ``p95_time_to_join_retried_s`` — the same among those that needed more than one attempt.
- ``gave_up`` — pupil-meetings whose last chain of attempts ended without getting in.
- ``lost_pupil_minutes`` — meeting minutes pupils missed because they could not get in.
- ``peak_concurrent_participants`` — most people (pupils and teachers) in conferences at once.
- ``peak_node_utilisation`` — highest utilisation (max of participant and bandwidth share)
  any node reached.
- ``blocking_probability`` — share of attempts that reached a node and were refused for
  capacity.
- ``affected_schools_share`` — schools where more than 10 % of the pupils who intended to
  join lost more than 15 minutes in the day.
"""

from __future__ import annotations

from array import array
from enum import IntEnum
from typing import Any

import numpy as np
import pandas as pd


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
    SERVER_CRASH = 16


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
    Code.SERVER_CRASH: "server_crashes",
}

# The KPI contract (DESIGN.md): these names are stable.
KPI_NAMES = (
    "join_attempts",
    "joins_succeeded",
    "join_success_rate",
    "p50_time_to_join_s",
    "p95_time_to_join_s",
    "p99_time_to_join_s",
    "p95_time_to_join_retried_s",
    "gave_up",
    "lost_pupil_minutes",
    "peak_concurrent_participants",
    "peak_node_utilisation",
    "blocking_probability",
    "affected_schools_share",
)


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


def tidy_timeseries(rows: list[tuple[float, str, str, float]]) -> pd.DataFrame:
    """The per-minute series in long format: t (s since midnight), component, metric, value."""
    df = pd.DataFrame(rows, columns=["t", "component", "metric", "value"])
    df["t"] = df["t"].astype("float64")
    df["value"] = df["value"].astype("float64")
    df = df.sort_values(["component", "metric", "t"], kind="stable").reset_index(drop=True)
    df["component"] = df["component"].astype("string")
    df["metric"] = df["metric"].astype("string")
    return df


def percentile(x: np.ndarray, q: float) -> float:
    """Percentile (linear interpolation); 0.0 for an empty sample."""
    if x.size == 0:
        return 0.0
    return float(np.percentile(x, q))


def as_jsonable(d: dict[str, Any]) -> dict[str, Any]:
    """Floats and ints only (numpy scalars converted, NaN → None)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[k] = as_jsonable(v)
        elif isinstance(v, np.integer | int) and not isinstance(v, bool):
            out[k] = int(v)
        elif isinstance(v, np.floating | float):
            fv = float(v)
            out[k] = None if not np.isfinite(fv) else fv
        else:
            out[k] = v
    return out
