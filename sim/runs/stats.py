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
- :func:`series_band` — the per-minute band of a replicated time series, each metric inside
  its bounds (:data:`SERIES_BOUNDS`: utilisation in [0, 1] on the logit scale, everything
  else ≥ 0), vectorised over all minutes.
- :func:`paired_difference` — B − A on common random numbers: mean, t interval and the
  paired t-test's p-value (``scipy.stats.ttest_rel``), the interval within the range a
  difference can take (:func:`difference_bounds`: ±1 for shares).

An interval from fewer than :data:`MIN_MEANINGFUL_REPLICATIONS` replications is returned but
flagged (``meaningful`` is False): with two replications the 95 % t quantile is 12.7, so the
interval mostly reflects the lack of data. Reports say so instead of printing it as precision.

scipy.stats is imported on first use: it costs ≈1 s of CLI start-up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Below this many replications an interval is shown as "not meaningful" (the t quantile
#: for n = 2 is 12.7 and for n = 3 still 4.3; from 3 on the interval starts to inform).
MIN_MEANINGFUL_REPLICATIONS = 3

#: The range each KPI can take: shares are in [0, 1]; counts and times are ≥ 0.
#: A KPI not listed here is unbounded.
KPI_BOUNDS: dict[str, tuple[float, float]] = {
    "join_success_rate": (0.0, 1.0),
    "blocking_probability": (0.0, 1.0),
    "affected_schools_share": (0.0, 1.0),
    # a node or cluster past its CPU or bandwidth runs degraded (no refusal): above 1
    "peak_node_utilisation": (0.0, math.inf),
    "peak_cluster_utilisation": (0.0, math.inf),
    "degraded_share": (0.0, 1.0),
    "degraded_pupil_minutes": (0.0, math.inf),
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
        """``(hi − lo) / 2``: infinite for an unbounded interval, NaN when there is none."""
        d = self.hi - self.lo
        return math.inf if math.isinf(d) else d / 2

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


def t_quantiles(level: float, df: np.ndarray) -> np.ndarray:
    """:func:`t_quantile` for an array of degrees of freedom (one call, vectorised)."""
    from scipy import stats

    return np.asarray(stats.t.ppf(0.5 + level / 2, np.asarray(df, dtype=float)), dtype=float)


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
        """``(hi − lo) / 2``: infinite for an unbounded interval, NaN when there is none."""
        d = self.hi - self.lo
        return math.inf if math.isinf(d) else d / 2

    @property
    def significant(self) -> bool:
        """The interval excludes 0 (same as the paired t-test at ``1 − level``)."""
        return bool(self.lo > 0 or self.hi < 0)

    @property
    def meaningful(self) -> bool:
        return self.n >= MIN_MEANINGFUL_REPLICATIONS


def difference_bounds(kpi: str) -> tuple[float, float]:
    """The range of B − A for a KPI in :data:`KPI_BOUNDS` ``[l, h]``: ``[l − h, h − l]``
    (±1 for a share, i.e. ±100 percentage points; unbounded otherwise)."""
    lo, hi = KPI_BOUNDS.get(kpi, (-math.inf, math.inf))
    return (lo - hi, hi - lo) if math.isfinite(hi - lo) else (-math.inf, math.inf)


def paired_difference(
    a: Iterable[float] | np.ndarray,
    b: Iterable[float] | np.ndarray,
    level: float = 0.95,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> Difference:
    """Mean of ``b − a`` per replication pair, its t interval and ``ttest_rel``'s p-value.

    Pairs where either side is not finite are dropped. One pair gives an infinite interval
    (clipped to ``bounds``); identical differences a zero-width interval (p = 1 when they are
    all 0, else 0). The interval is clipped to ``bounds`` (see :func:`difference_bounds`);
    the p-value is the test's, unaffected.
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
        return Difference(mean, bounds[0], bounds[1], 1, math.nan, level)
    if np.all(d == d[0]):
        return Difference(mean, mean, mean, n, 1.0 if mean == 0.0 else 0.0, level)
    from scipy import stats

    res = stats.ttest_rel(b_, a_)
    ci = res.confidence_interval(level)
    lo, hi = max(float(ci.low), bounds[0]), min(float(ci.high), bounds[1])
    return Difference(mean, lo, hi, n, float(res.pvalue), level)


def welch_difference(
    a: Iterable[float] | np.ndarray,
    b: Iterable[float] | np.ndarray,
    level: float = 0.95,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> Difference:
    """Mean of ``b`` − mean of ``a`` for *independent* samples (different seeds), with
    Welch's t interval and p-value (``scipy.stats.ttest_ind(equal_var=False)``).

    Non-finite values are dropped; ``n`` is the smaller sample's size. Fewer than two values
    on a side give an interval clipped to ``bounds`` (unbounded by default).
    """
    a_, b_ = _clean(a), _clean(b)
    n = int(min(a_.size, b_.size))
    if n == 0:
        return Difference(math.nan, math.nan, math.nan, 0, math.nan, level)
    mean = float(b_.mean() - a_.mean())
    if n == 1:
        return Difference(mean, bounds[0], bounds[1], 1, math.nan, level)
    if a_.std() == 0.0 and b_.std() == 0.0:
        return Difference(mean, mean, mean, n, 1.0 if mean == 0.0 else 0.0, level)
    from scipy import stats

    res = stats.ttest_ind(b_, a_, equal_var=False)
    ci = res.confidence_interval(level)
    lo, hi = max(float(ci.low), bounds[0]), min(float(ci.high), bounds[1])
    return Difference(mean, lo, hi, n, float(res.pvalue), level)


# ----------------------------------------------------------------------------- time series
#: The range of each sampled per-minute metric: utilisation is a share; every other sampled
#: quantity (participants, load, queue lengths, workers, event counts) is ≥ 0.
SERIES_BOUNDS: dict[str, tuple[float, float]] = {
    "utilisation_max": (0.0, 1.0),
    "utilisation_mean": (0.0, 1.0),
}
DEFAULT_SERIES_BOUNDS = (0.0, math.inf)


def series_band(
    df: pd.DataFrame,
    by: Sequence[str] = ("t", "component", "metric"),
    value: str = "value",
    metric: str = "metric",
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean and ``level`` band per group of a long frame of replications (one row per
    replication and group), each band inside its metric's bounds.

    Returns ``by`` + ``value`` (the mean), ``lo``, ``hi``, ``n``. The rule is that of
    :func:`kpi_interval`, vectorised: a group of a share metric whose replications all lie
    strictly inside (0, 1) gets the logit-t band (transformed back); any other group the
    t band clipped to its bounds. A node run degraded below its load can show a utilisation
    above 1; the upper bound is then lifted to what was observed, never beyond it. One
    replication gives a zero-width band.
    """
    from scipy.special import expit, logit

    keys = list(by)
    v = df[value].to_numpy(dtype=float)
    share_rows = df[metric].isin([m for m, b in SERIES_BOUNDS.items() if b == (0.0, 1.0)])
    inner = share_rows.to_numpy() & (v > 0.0) & (v < 1.0)
    # logits of the share values strictly inside (0, 1); groups with a value on a bound do
    # not use them (see ``inside`` below)
    z = np.full(v.shape, np.nan)
    z[inner] = logit(v[inner])
    g = df[keys].assign(_v=v, _z=z).groupby(keys, sort=True, observed=True)
    out = g.agg(
        mean=("_v", "mean"), std=("_v", "std"), count=("_v", "count"), min=("_v", "min"),
        max=("_v", "max"), zmean=("_z", "mean"), zstd=("_z", "std"),
    ).reset_index()
    n = out["count"].to_numpy(dtype=float)
    mean = out["mean"].to_numpy(dtype=float)
    vmax = out["max"].to_numpy(dtype=float)
    b_lo = np.full(n.shape, DEFAULT_SERIES_BOUNDS[0])
    b_hi = np.full(n.shape, DEFAULT_SERIES_BOUNDS[1])
    share = np.zeros(n.shape, dtype=bool)
    for m, (lo_m, hi_m) in SERIES_BOUNDS.items():
        sel = (out[metric] == m).to_numpy()
        b_lo[sel], b_hi[sel] = lo_m, hi_m
        if (lo_m, hi_m) == (0.0, 1.0):
            share |= sel
    b_hi = np.maximum(b_hi, vmax)
    tq = t_quantiles(level, np.maximum(n - 1, 1))
    half = np.where(n > 1, tq * out["std"].fillna(0.0).to_numpy() / np.sqrt(n), 0.0)
    lo = np.clip(mean - half, b_lo, b_hi)
    hi = np.clip(mean + half, b_lo, b_hi)
    inside = share & (out["min"].to_numpy() > 0.0) & (vmax < 1.0) & (n > 1)
    if inside.any():
        zm = out["zmean"].to_numpy(dtype=float)
        zh = tq * out["zstd"].fillna(0.0).to_numpy(dtype=float) / np.sqrt(n)
        lo = np.where(inside, np.minimum(expit(zm - zh), mean), lo)
        hi = np.where(inside, np.maximum(expit(zm + zh), mean), hi)
    res = out[keys].copy()
    res[value] = mean
    res["lo"] = lo
    res["hi"] = hi
    res["n"] = out["count"].astype("int64")
    return res
