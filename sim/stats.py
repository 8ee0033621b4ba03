"""Statistics of replicated simulation output — the one module, built on ``scipy.stats``.

Every confidence interval dlsim prints, stores or draws comes from here: experiments,
comparisons, sizing, sweeps, verification and the reports call these functions rather than
computing their own quantiles.

- :func:`mean_interval` — Student-t interval of the mean of independent replications.
- :func:`share_interval` — the same for a share in [0, 1] (success rate, blocking,
  utilisation), computed on the logit scale and transformed back, so it never leaves
  [0, 1]. When a replication sits exactly on a bound (0 or 1) the logit is infinite; the
  raw-scale t interval clipped to [0, 1] is used instead, and the method says so.
- :func:`kpi_interval` — picks the right one of the two (and clips non-negative KPIs at 0)
  from :data:`KPI_BOUNDS`.
- :func:`wilson_interval` — a single binomial proportion from counts (Wilson score). Use it
  only where the trials are independent; blocking indicators of successive arrivals are
  not (PERFORMANCE-NOTES.md), so the simulation's KPIs use replications instead.
- :func:`paired_difference` — B − A on common random numbers: mean, t interval and the
  paired t-test's p-value (``scipy.stats.ttest_rel``).

An interval from fewer than :data:`MIN_MEANINGFUL_REPLICATIONS` replications is returned but
flagged (``meaningful`` is False): with two replications the 95 % t quantile is 12.7, so the
interval mostly reflects the lack of data. Reports say so instead of printing it as precision.

scipy.stats is imported on first use: it costs ≈1 s of CLI start-up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Below this many replications an interval is shown as "not meaningful" (the t quantile
#: for n = 2 is 12.7 and for n = 3 still 4.3; from 3 on the interval starts to inform).
MIN_MEANINGFUL_REPLICATIONS = 3

#: The range each KPI can take: shares are in [0, 1]; counts and times are ≥ 0.
#: A KPI not listed here is unbounded.
KPI_BOUNDS: dict[str, tuple[float, float]] = {
    "join_success_rate": (0.0, 1.0),
    "blocking_probability": (0.0, 1.0),
    "affected_schools_share": (0.0, 1.0),
    "peak_node_utilisation": (0.0, 1.0),
    "peak_cluster_utilisation": (0.0, 1.0),
    "join_attempts": (0.0, math.inf),
    "joins_succeeded": (0.0, math.inf),
    "gave_up": (0.0, math.inf),
    "lost_pupil_minutes": (0.0, math.inf),
    "peak_concurrent_participants": (0.0, math.inf),
    "p50_time_to_join_s": (0.0, math.inf),
    "p95_time_to_join_s": (0.0, math.inf),
    "p99_time_to_join_s": (0.0, math.inf),
    "p95_time_to_join_retried_s": (0.0, math.inf),
}


def is_share(kpi: str) -> bool:
    """True for KPIs that are shares in [0, 1]."""
    return KPI_BOUNDS.get(kpi) == (0.0, 1.0)


@dataclass(frozen=True)
class Interval:
    """A point estimate with its confidence interval ``[lo, hi]``.

    ``half_width`` is ``(hi − lo) / 2`` (for a symmetric t interval the usual ± figure);
    ``method`` is one of ``"t"``, ``"logit-t"``, ``"t, clipped"``, ``"wilson"``, ``"none"``.
    """

    mean: float
    lo: float
    hi: float
    n: int
    level: float = 0.95
    method: str = "t"

    @property
    def half_width(self) -> float:
        return (self.hi - self.lo) / 2 if math.isfinite(self.hi - self.lo) else math.inf

    @property
    def meaningful(self) -> bool:
        """Enough replications for the interval to say something (see module docstring)."""
        return self.method == "wilson" or self.n >= MIN_MEANINGFUL_REPLICATIONS

    def contains(self, x: float) -> bool:
        return self.lo <= x <= self.hi

    def as_dict(self) -> dict[str, Any]:
        return {
            "mean": self.mean,
            "lo": self.lo,
            "hi": self.hi,
            "n": self.n,
            "level": self.level,
            "method": self.method,
            "meaningful": self.meaningful,
        }


def _clean(values: Iterable[float] | np.ndarray) -> np.ndarray:
    v = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    return v[np.isfinite(v)]


def t_quantile(level: float, df: float) -> float:
    """Two-sided Student-t quantile: ``t_{(1+level)/2, df}``."""
    from scipy import stats

    return float(stats.t.ppf(0.5 + level / 2, df))


def mean_interval(
    values: Iterable[float] | np.ndarray,
    level: float = 0.95,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> Interval:
    """Student-t interval of the mean of independent replications, clipped to ``bounds``.

    One value gives a degenerate interval ``[x, x]`` flagged not meaningful; identical values
    give a zero-width interval.
    """
    v = _clean(values)
    n = int(v.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, level, "none")
    mean = float(v.mean())
    if n == 1:
        return Interval(mean, mean, mean, 1, level, "none")
    sd = float(v.std(ddof=1))
    half = t_quantile(level, n - 1) * sd / math.sqrt(n)
    lo, hi = mean - half, mean + half
    method = "t"
    if lo < bounds[0] or hi > bounds[1]:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
        method = "t, clipped"
    return Interval(mean, lo, hi, n, level, method)


def share_interval(values: Iterable[float] | np.ndarray, level: float = 0.95) -> Interval:
    """Interval for the mean of a share in [0, 1] that stays inside [0, 1].

    The t interval is computed for the logits of the replications and transformed back
    (the logistic transform is monotone, so the interval keeps its coverage for the median
    of the back-transformed distribution and can never leave (0, 1)). The point estimate
    stays the arithmetic mean of the shares, the figure the KPI tables report. If a value
    lies on 0 or 1 the logit is infinite; then the raw t interval clipped to [0, 1] is used.
    """
    v = _clean(values)
    n = int(v.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, level, "none")
    if np.any((v < 0) | (v > 1)):
        raise ValueError(f"share_interval: values outside [0, 1]: {v[(v < 0) | (v > 1)][:3]}")
    mean = float(v.mean())
    if n == 1:
        return Interval(mean, mean, mean, 1, level, "none")
    if np.all(v == v[0]):
        return Interval(mean, mean, mean, n, level, "t")
    if np.any((v == 0) | (v == 1)):
        return mean_interval(v, level, bounds=(0.0, 1.0))
    from scipy.special import expit, logit

    z = logit(v)
    zi = mean_interval(z, level)
    lo, hi = float(expit(zi.lo)), float(expit(zi.hi))
    # the arithmetic mean of shares may lie outside the back-transformed interval of the
    # logits only by rounding; keep the reported point inside what is reported around it
    lo, hi = min(lo, mean), max(hi, mean)
    return Interval(mean, lo, hi, n, level, "logit-t")


def kpi_interval(kpi: str, values: Iterable[float] | np.ndarray, level: float = 0.95) -> Interval:
    """The interval a KPI's replications support, respecting :data:`KPI_BOUNDS`."""
    if is_share(kpi):
        return share_interval(values, level)
    return mean_interval(values, level, bounds=KPI_BOUNDS.get(kpi, (-math.inf, math.inf)))


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> Interval:
    """Wilson score interval of a binomial proportion (``scipy.stats.binomtest``)."""
    if trials <= 0:
        return Interval(math.nan, math.nan, math.nan, 0, level, "none")
    if not 0 <= successes <= trials:
        raise ValueError(f"wilson_interval: {successes} successes out of {trials} trials")
    from scipy import stats

    ci = stats.binomtest(int(successes), int(trials)).proportion_ci(level, method="wilson")
    return Interval(successes / trials, float(ci.low), float(ci.high), int(trials), level, "wilson")


@dataclass(frozen=True)
class Difference:
    """B − A on common random numbers: mean difference, its interval and the paired test."""

    mean: float
    lo: float
    hi: float
    n: int
    p_value: float
    level: float = 0.95

    @property
    def half_width(self) -> float:
        return (self.hi - self.lo) / 2 if math.isfinite(self.hi - self.lo) else math.inf

    @property
    def significant(self) -> bool:
        """The interval excludes 0 (same as the paired t-test at ``1 − level``)."""
        return bool(self.lo > 0 or self.hi < 0)

    @property
    def meaningful(self) -> bool:
        return self.n >= MIN_MEANINGFUL_REPLICATIONS


def paired_difference(
    a: Iterable[float] | np.ndarray, b: Iterable[float] | np.ndarray, level: float = 0.95
) -> Difference:
    """Mean of ``b − a`` per replication pair, its t interval and ``ttest_rel``'s p-value.

    Pairs where either side is not finite are dropped. One pair gives an infinite interval;
    identical differences a zero-width interval (p = 1 when they are all 0, else 0).
    """
    a_ = np.asarray(list(a) if not isinstance(a, np.ndarray) else a, dtype=float)
    b_ = np.asarray(list(b) if not isinstance(b, np.ndarray) else b, dtype=float)
    if a_.shape != b_.shape:
        raise ValueError(f"paired_difference: {a_.size} values against {b_.size}")
    ok = np.isfinite(a_) & np.isfinite(b_)
    a_, b_ = a_[ok], b_[ok]
    n = int(a_.size)
    if n == 0:
        return Difference(math.nan, math.nan, math.nan, 0, math.nan, level)
    d = b_ - a_
    mean = float(d.mean())
    if n == 1:
        return Difference(mean, -math.inf, math.inf, 1, math.nan, level)
    if np.all(d == d[0]):
        return Difference(mean, mean, mean, n, 1.0 if mean == 0.0 else 0.0, level)
    from scipy import stats

    res = stats.ttest_rel(b_, a_)
    ci = res.confidence_interval(level)
    return Difference(mean, float(ci.low), float(ci.high), n, float(res.pvalue), level)
