"""Analytic queueing formulas used as test oracles and for capacity sizing.

The simulator is validated against these closed forms, which also size server
pools before a run: Erlang-B/C for M/M/c, M/M/c waiting-time measures, the
finite-capacity M/M/c/K queue, Engset finite-source blocking and inverse
(minimal-server) sizing. All evaluation uses normalised recursions or log
space, so results stay finite for ~1e5 servers and loads up to ~1e6 Erlangs.

References
----------
A. K. Erlang, "Solution of some problems in the theory of probabilities of
significance in automatic telephone exchanges", 1917.
L. Kleinrock, *Queueing Systems, Volume 1: Theory*, Wiley, 1975.
D. Gross, J. F. Shortle, J. M. Thompson and C. M. Harris, *Fundamentals of
Queueing Theory*, 4th ed., Wiley, 2008.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np


def _real(name: str, value: float) -> float:
    """Return ``value`` as float, rejecting non-real inputs and bools."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    return float(value)


def _nonneg(name: str, value: float, positive: bool = False) -> float:
    """Validate a finite real that is ``>= 0`` (``> 0`` if ``positive``)."""
    v = _real(name, value)
    if not math.isfinite(v) or v < 0.0 or (positive and v == 0.0):
        raise ValueError(f"{name} must be finite and {'>' if positive else '>='} 0, got {value!r}")
    return v


def _count(name: str, value: int, minimum: int = 0) -> int:
    """Validate an integer count that is at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _target(name: str, value: float, upper: float = 1.0) -> float:
    """Validate a target strictly inside ``(0, upper)``."""
    v = _real(name, value)
    if not 0.0 < v < upper:
        raise ValueError(f"{name} must lie strictly in (0, {upper}), got {value!r}")
    return v


def _b_step(a: float, b: float, k: int) -> float:
    """One Erlang-B recursion step: ``B(k)`` from ``b = B(k-1)``."""
    return a * b / (k + a * b)


def _c_from_b(a: float, c: int, b: float) -> float:
    """Erlang-C from Erlang-B, ``C = c B / (c - A (1 - B))``; 1 if ``A >= c``."""
    return 1.0 if a >= c else min(1.0, max(0.0, c * b / (c - a * (1.0 - b))))


def erlang_b(offered_erlangs: float, servers: int) -> float:
    """Blocking probability of the M/M/c/c (Erlang loss) system.

    Parameters
    ----------
    offered_erlangs : float
        Offered load ``A = lambda / mu`` in Erlangs, ``A >= 0``.
    servers : int
        Number of servers ``c >= 0``.

    Returns
    -------
    float
        ``B(A, c)`` via ``B(0) = 1``, ``B(k) = A B(k-1) / (k + A B(k-1))``.
    """
    a = _nonneg("offered_erlangs", offered_erlangs)
    b = 1.0
    for k in range(1, _count("servers", servers) + 1):
        b = _b_step(a, b, k)
    return b


def erlang_c(offered_erlangs: float, servers: int) -> float:
    """Probability that an arrival has to wait in an M/M/c queue.

    Parameters
    ----------
    offered_erlangs, servers
        As for :func:`erlang_b`.

    Returns
    -------
    float
        ``C = c B / (c - A (1 - B))``, ``B = erlang_b(A, c)``; 1.0 if ``A >= c``.
    """
    a, c = _nonneg("offered_erlangs", offered_erlangs), _count("servers", servers)
    return _c_from_b(a, c, erlang_b(a, c))


def _mmc_args(lam: float, mu: float, c: int) -> tuple[float, float, int]:
    """Validate ``(arrival_rate, service_rate, servers)`` of an M/M/c model."""
    lam, mu = _nonneg("arrival_rate", lam), _nonneg("service_rate", mu, positive=True)
    return lam, mu, _count("servers", c, minimum=1)


def mmc_mean_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in queue ``Wq = C / (c mu - lambda)`` of an M/M/c queue.

    Parameters
    ----------
    arrival_rate, service_rate : float
        Poisson arrival rate ``lambda >= 0``; service rate per server ``mu > 0``.
    servers : int
        Number of servers ``c >= 1``.

    Returns
    -------
    float
        Mean delay before service starts; ``inf`` if ``lambda >= c mu``.
    """
    lam, mu, c = _mmc_args(arrival_rate, service_rate, servers)
    return math.inf if lam >= c * mu else erlang_c(lam / mu, c) / (c * mu - lam)


def mmc_mean_response(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean sojourn time ``W = Wq + 1 / mu`` of an M/M/c queue.

    Parameters and stability handling are as for :func:`mmc_mean_wait`.
    """
    return mmc_mean_wait(arrival_rate, service_rate, servers) + 1.0 / service_rate


def mmc_prob_wait_longer_than(
    arrival_rate: float, service_rate: float, servers: int, t: float
) -> float:
    """Waiting-time tail ``P(Wq > t) = C exp(-(c mu - lambda) t)`` of M/M/c.

    Parameters
    ----------
    arrival_rate, service_rate, servers
        As for :func:`mmc_mean_wait`; ``t >= 0`` is the threshold.

    Returns
    -------
    float
        Probability that an arrival waits longer than ``t``; 1.0 if unstable.
    """
    lam, mu, c = _mmc_args(arrival_rate, service_rate, servers)
    t = _nonneg("t", t)
    stable = lam < c * mu
    return erlang_c(lam / mu, c) * math.exp(-(c * mu - lam) * t) if stable else 1.0


@dataclass(frozen=True)
class MMcKResult:
    """Steady-state M/M/c/K measures; wait/response refer to admitted customers."""

    blocking: float
    mean_in_system: float
    mean_in_queue: float
    mean_wait: float
    mean_response: float
    throughput: float


def mmck(arrival_rate: float, service_rate: float, servers: int, capacity: int) -> MMcKResult:
    """Solve the M/M/c/K queue (``c`` servers, at most ``K`` in the system).

    Parameters
    ----------
    arrival_rate, service_rate : float
        Poisson arrival rate ``lambda >= 0``; service rate per server ``mu > 0``.
    servers, capacity : int
        Number of servers ``c >= 1`` and system capacity ``K >= c``.

    Returns
    -------
    MMcKResult
        Blocking ``p_K``, ``L``, ``Lq``, ``Wq``, ``W`` (Little's law, admitted
        rate) and throughput ``lambda (1 - p_K)``; log-space, safe for ``K ~ 1e4``.
    """
    lam, mu, c = _mmc_args(arrival_rate, service_rate, servers)
    cap = _count("capacity", capacity, minimum=c)
    if lam == 0.0:
        return MMcKResult(0.0, 0.0, 0.0, 0.0, 1.0 / mu, 0.0)
    log_a = math.log(lam / mu)
    n = np.arange(cap + 1, dtype=float)
    logp = np.zeros(cap + 1)  # unnormalised: n log A - log n! (n <= c), then * rho
    logp[1 : c + 1] = np.cumsum(log_a - np.log(n[1 : c + 1]))
    logp[c + 1 :] = logp[c] + (n[c + 1 :] - c) * (log_a - math.log(c))
    p = np.exp(logp - logp.max())
    p /= p.sum()
    blocking, l_sys = float(p[cap]), float(np.dot(n, p))
    l_q, thr = float(np.dot(np.maximum(n - c, 0.0), p)), lam * (1.0 - blocking)
    wq = l_q / thr if thr > 0.0 else math.inf
    return MMcKResult(blocking, l_sys, l_q, wq, wq + 1.0 / mu, thr)


def engset_blocking(
    sources: int, per_idle_source_rate: float, service_rate: float, servers: int
) -> float:
    """Engset **call congestion** of a finite-source loss system (lost calls cleared).

    Parameters
    ----------
    sources, servers : int
        Number of sources ``N >= 0`` and of servers ``c >= 0``.
    per_idle_source_rate, service_rate : float
        Call rate ``alpha >= 0`` of one idle source; service rate ``mu > 0``.

    Returns
    -------
    float
        Probability that an *arriving call* is blocked; by the arrival theorem it
        equals the *time congestion* (fraction of time all servers busy) with
        ``N - 1`` sources. Recursion: ``E(k) = x_k / (k + x_k)``, ``x_k = (N - k)
        beta E(k-1)``, ``beta = alpha / mu``. Zero if ``N <= c``.
    """
    n_src, c = _count("sources", sources), _count("servers", servers)
    alpha = _nonneg("per_idle_source_rate", per_idle_source_rate)
    beta = alpha / _nonneg("service_rate", service_rate, positive=True)
    if n_src <= c:
        return 0.0
    e = 1.0
    for k in range(1, c + 1):
        x = (n_src - k) * beta * e  # (M - k + 1) with M = N - 1 sources
        e = x / (k + x)
    return e


def min_servers_erlang_b(offered_erlangs: float, target_blocking: float) -> int:
    """Smallest ``c`` such that ``erlang_b(offered_erlangs, c) <= target_blocking``.

    Parameters
    ----------
    offered_erlangs, target_blocking : float
        Offered load ``A >= 0`` in Erlangs; target blocking in ``(0, 1)``.

    Returns
    -------
    int
        Minimal number of servers (found by running the recursion upward).
    """
    a = _nonneg("offered_erlangs", offered_erlangs)
    target = _target("target_blocking", target_blocking)
    c, b = 0, 1.0
    while b > target:
        c += 1
        b = _b_step(a, b, c)
    return c


def min_servers_erlang_c_wait(
    arrival_rate: float,
    service_rate: float,
    target_mean_wait: float | None = None,
    target_prob_wait: float | None = None,
) -> int:
    """Smallest stable ``c`` meeting M/M/c waiting targets.

    Parameters
    ----------
    arrival_rate, service_rate : float
        Arrival rate ``lambda >= 0``; service rate per server ``mu > 0``.
    target_mean_wait : float, optional
        Upper bound ``> 0`` on the mean queueing delay ``Wq``.
    target_prob_wait : float, optional
        Upper bound in ``(0, 1)`` on the probability of waiting ``C(A, c)``.

    Returns
    -------
    int
        Minimal ``c > lambda / mu`` meeting every supplied target (one required).
    """
    lam, mu, _ = _mmc_args(arrival_rate, service_rate, 1)
    if target_mean_wait is None and target_prob_wait is None:
        raise ValueError("at least one of target_mean_wait, target_prob_wait is required")
    max_wq, max_pw = math.inf, 1.0
    if target_mean_wait is not None:
        max_wq = _target("target_mean_wait", target_mean_wait, upper=math.inf)
    if target_prob_wait is not None:
        max_pw = _target("target_prob_wait", target_prob_wait)
    a = lam / mu
    c = math.floor(a) + 1  # smallest stable pool
    b = erlang_b(a, c)
    while True:
        pw = _c_from_b(a, c, b)
        if c * mu > lam and pw <= max_pw and pw / (c * mu - lam) <= max_wq:
            return c
        c += 1
        b = _b_step(a, b, c)
