"""Verification against queueing theory: the model in its validation modes vs analytic values.

The model itself (not test-only code) is run in validation mode — a stationary Poisson stream
of single-person rooms, exponential holding times, no retries — so that

- a conference cluster with c participant slots is M/M/c/c: blocking = Erlang-B(A, c);
- a platform front end with c workers and no time-out is M/M/c: P(wait) = Erlang-C(A, c),
  mean wait = C / (cμ − λ);
- Little's law L = λW holds on the queue and on the cluster;
- a node without a participant limit is M/M/∞, and the share of time it runs degraded (above
  ``k`` people, by its CPU) is the Poisson tail P(N > k) with mean A = λ/μ — the degraded-time
  measure behind ``degraded_pupil_minutes``.

Estimates come from independent replications (the blocking indicators of successive arrivals
are correlated, so a binomial CI would be far too narrow): mean and t-based 95 % and 99 %
confidence half-widths. ``tests/oracle/`` asserts the analytic value lies in the 99 % CI;
``python -m sim.experiments.verification`` writes ``docs/verification.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import Scenario, scenario_from_dict
from sim.experiments.analytic import erlang_b, erlang_c, mmc_mean_wait
from sim.model.seeds import SeedTree
from sim.model.simulation import simulate_once
from sim.runs.stats import mean_interval


@dataclass(frozen=True)
class Estimate:
    """Replication estimate of one quantity, with its analytic value."""

    name: str
    analytic: float
    mean: float
    half95: float
    half99: float
    replications: int
    per_replication: tuple[float, ...]

    @property
    def inside99(self) -> bool:
        return abs(self.mean - self.analytic) <= self.half99

    @property
    def rel_half95(self) -> float:
        return self.half95 / self.analytic if self.analytic else float("inf")


def _estimate(name: str, analytic: float, values: list[float]) -> Estimate:
    v = np.asarray(values, dtype=float)
    n = v.size
    # plain (unbounded) t intervals: the oracle asks whether the analytic value is inside
    i95, i99 = mean_interval(v, 0.95), mean_interval(v, 0.99)
    return Estimate(
        name=name,
        analytic=analytic,
        mean=float(v.mean()),
        half95=i95.half_width if n > 1 else float("inf"),
        half99=i99.half_width if n > 1 else float("inf"),
        replications=n,
        per_replication=tuple(float(x) for x in v),
    )


def _base(horizon_s: float, warmup_s: float, sample_s: int) -> dict[str, Any]:
    return {
        "name": "validation",
        "day": {"start": 0, "end": warmup_s + horizon_s, "sample_interval_s": sample_s},
        "population": {"scale": 0.001},
        "assignment": {"platform_shares": {"p": 1.0}, "region_overrides": [],
                       "on_prem_share": {}},
        "behaviour": {"retries": False, "webcam_share_teachers": 0.0, "screenshare_share": 0.0},
    }


def loss_scenario(offered_erlangs: float, servers: int, holding_s: float = 10.0,
                  arrivals: int = 50_000, warmup_holdings: float = 10.0) -> Scenario:
    """M/M/c/c through the model's own conference cluster (one node of ``servers`` slots)."""
    rate = offered_erlangs / holding_s
    warmup = warmup_holdings * holding_s
    d = _base(arrivals / rate, warmup, sample_s=5)
    d["platforms"] = [{
        "name": "p",
        # an instantaneous front end: the cluster is the only queueing element
        "frontend": {"workers": 1_000_000, "join_service_s": 1e-9, "service_cv": 0.0},
        "clusters": [{"name": "c", "nodes": 1, "node_max_participants": servers,
                      "node_capacity_mbit_s": 1e12, "heterogeneity_cv": 0.0}],
    }]
    d["demand"] = {"kind": "poisson", "poisson": {
        "platform": "p", "arrival_rate_per_s": rate, "holding_mean_s": holding_s,
        "warmup_s": warmup}}
    return scenario_from_dict(d, "<validation:loss>")


def queue_scenario(offered_erlangs: float, workers: int, service_s: float = 1.0,
                   arrivals: int = 50_000, warmup_s: float = 600.0) -> Scenario:
    """M/M/c through the model's own front end (login service), no time-out, no capacity limit."""
    rate = offered_erlangs / service_s
    d = _base(arrivals / rate, warmup_s, sample_s=1)
    d["platforms"] = [{
        "name": "p",
        "frontend": {"workers": workers, "join_service_s": service_s, "service_cv": 1.0,
                     "timeout_s": 1e12},
        "clusters": [{"name": "c", "nodes": 1, "node_max_participants": 10_000_000,
                      "node_capacity_mbit_s": 1e12, "heterogeneity_cv": 0.0}],
    }]
    d["demand"] = {"kind": "poisson", "poisson": {
        "platform": "p", "arrival_rate_per_s": rate, "holding_mean_s": 1.0,
        "warmup_s": warmup_s}}
    return scenario_from_dict(d, "<validation:queue>")


def _run_all(sc: Scenario, seeds: list[int], workers: int) -> list[Any]:
    """Replications in parallel processes (they are independent); results in seed order."""
    if workers <= 1:
        return [simulate_once(sc, s) for s in seeds]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        return list(ex.map(_replicate, [(sc, s) for s in seeds]))


def _replicate(args: tuple[Scenario, int]) -> Any:
    sc, seed = args
    r = simulate_once(sc, seed)
    r.schools = r.schools.iloc[:0]  # keep what crosses the process boundary small
    return r


def _workers() -> int:
    import os

    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else (os.cpu_count() or 1)))


def _seeds(seed: int, n: int) -> list[int]:
    tree = SeedTree(seed)
    return [tree.child_seed(f"verification.{i}") for i in range(n)]


def erlang_b_case(offered_erlangs: float, servers: int, replications: int = 10,
                  arrivals: int = 50_000, seed: int = 2021) -> dict[str, Estimate]:
    """Blocking and Little's law (mean occupancy = λ(1−B)h) on the conference cluster."""
    sc = loss_scenario(offered_erlangs, servers, arrivals=arrivals)
    blocking, occupancy = [], []
    warm = sc.day.start + (sc.demand.poisson.warmup_s if sc.demand.poisson else 0.0)
    for r in _run_all(sc, _seeds(seed, replications), _workers()):
        blocking.append(r.kpis["blocking_probability"])
        ts = r.timeseries
        sel = ts[(ts.component == "total") & (ts.metric == "participants") & (ts.t >= warm)]
        occupancy.append(float(sel["value"].mean()))
    b = erlang_b(offered_erlangs, servers)
    return {
        "blocking": _estimate("blocking", b, blocking),
        "occupancy": _estimate("mean occupancy (Little: λ(1−B)h)",
                               offered_erlangs * (1 - b), occupancy),
    }


def infinite_server_scenario(offered_erlangs: float, threshold: int, holding_s: float = 10.0,
                             arrivals: int = 50_000, warmup_holdings: float = 10.0) -> Scenario:
    """M/M/∞ through the model's own conference cluster: one node with no participant limit
    whose CPU makes it degraded exactly while it holds more than ``threshold`` people
    (single-person rooms, audio only: each adds ``a + c·audio`` of CPU)."""
    rate = offered_erlangs / holding_s
    warmup = warmup_holdings * holding_s
    d = _base(arrivals / rate, warmup, sample_s=5)
    per_person = 1e-3 + 1e-3 * 0.04  # cpu_per_participant + cpu_per_mbit_s × audio
    stress = 0.8
    d["platforms"] = [{
        "name": "p",
        "frontend": {"workers": 1_000_000, "join_service_s": 1e-9, "service_cv": 0.0},
        "clusters": [{"name": "c", "nodes": 1, "node_max_participants": 10_000_000,
                      "node_capacity_mbit_s": 1e12, "heterogeneity_cv": 0.0,
                      "cpu_per_participant": 1e-3, "cpu_per_mbit_s": 1e-3,
                      "stress_threshold": stress,
                      # degraded from threshold + 1 people on: CPU share above 0.8
                      "node_cpu": (threshold + 0.5) * per_person / stress}],
    }]
    d["media"] = {"audio_mbit_s": 0.04}
    d["demand"] = {"kind": "poisson", "poisson": {
        "platform": "p", "arrival_rate_per_s": rate, "holding_mean_s": holding_s,
        "warmup_s": warmup}}
    return scenario_from_dict(d, "<validation:infinite>")


def degraded_case(offered_erlangs: float, threshold: int, replications: int = 10,
                  arrivals: int = 50_000, seed: int = 2021) -> dict[str, Estimate]:
    """The degraded-time measure on M/M/∞: the time-average share of time the node is
    degraded (more than ``threshold`` people on it) against the Poisson tail P(N > k), N with
    mean A = λ/μ; read from the run's time series (``degraded_node_minutes`` per interval,
    integrated event by event) after the warm-up; and the mean occupancy against A."""
    from scipy.stats import poisson

    sc = infinite_server_scenario(offered_erlangs, threshold, arrivals=arrivals)
    warm = sc.day.start + (sc.demand.poisson.warmup_s if sc.demand.poisson else 0.0)
    horizon_min = (sc.day.end - warm) / 60.0
    share, occupancy = [], []
    for r in _run_all(sc, _seeds(seed, replications), _workers()):
        ts = r.timeseries
        deg = ts[(ts.component == "cluster:c") & (ts.metric == "degraded_node_minutes")
                 & (ts.t > warm)]
        share.append(float(deg["value"].sum()) / horizon_min)
        sel = ts[(ts.component == "total") & (ts.metric == "participants") & (ts.t >= warm)]
        occupancy.append(float(sel["value"].mean()))
    return {
        "degraded": _estimate("time share degraded (P(N > k))",
                              float(poisson.sf(threshold, offered_erlangs)), share),
        "occupancy": _estimate("mean occupancy (A)", offered_erlangs, occupancy),
    }


def erlang_c_case(offered_erlangs: float, workers: int, replications: int = 10,
                  arrivals: int = 50_000, seed: int = 2021) -> dict[str, Estimate]:
    """P(wait), mean wait and Little's law (Lq = λWq) on the front end."""
    service_s = 1.0
    sc = queue_scenario(offered_erlangs, workers, service_s=service_s, arrivals=arrivals)
    lam = offered_erlangs / service_s
    p_wait, w_q, l_q = [], [], []
    warm = sc.day.start + (sc.demand.poisson.warmup_s if sc.demand.poisson else 0.0)
    for r in _run_all(sc, _seeds(seed, replications), _workers()):
        fe = r.extra["frontends"]["p"]
        p_wait.append(fe["waited_share"])
        w_q.append(fe["mean_wait_s"])
        ts = r.timeseries
        sel = ts[(ts.component == "frontend:p") & (ts.metric == "queue_length") & (ts.t >= warm)]
        l_q.append(float(sel["value"].mean()))
    c = erlang_c(offered_erlangs, workers)
    wq = mmc_mean_wait(lam, 1 / service_s, workers)
    return {
        "p_wait": _estimate("P(wait)", c, p_wait),
        "mean_wait": _estimate("mean wait Wq (s)", wq, w_q),
        "queue_length": _estimate("mean queue length (Little: λWq)", lam * wq, l_q),
    }


# Cases spanning light to heavy load (A/c from 0.5 to 1.1 for the loss system; the queue
# needs A/c < 1 to be stable).
ERLANG_B_CASES = ((5.0, 10), (16.0, 20), (45.0, 50), (50.0, 50), (55.0, 50))
# M/M/∞ with a degradation threshold k: P(N > k) from ≈ 0.5 down to ≈ 0.1
DEGRADED_CASES = ((20.0, 20), (20.0, 25), (50.0, 55))
ERLANG_C_CASES = ((5.0, 10), (6.0, 10), (7.0, 10), (8.0, 10), (8.5, 10))


def _row(case: str, e: Estimate) -> str:
    ok = "yes" if e.inside99 else "**no**"
    return (f"| {case} | {e.name} | {e.analytic:.5g} | {e.mean:.5g} | ± {e.half95:.3g} "
            f"({e.rel_half95:.1%}) | ± {e.half99:.3g} | {ok} | {e.replications} |")


def write_report(path: Path, replications: int = 10, arrivals_b: int = 20_000,
                 arrivals_c: int = 60_000) -> str:
    lines = [
        "# Verification: the model against queueing theory",
        "",
        f"Generated by `python -m sim.experiments.verification` on {dt.date.today().isoformat()} "
        f"({replications} independent replications per case; {arrivals_b:,} arrivals per "
        f"replication for the loss system, {arrivals_c:,} for the queue, after a warm-up). "
        "Do not edit by hand; the same cases run in `tests/oracle/`.",
        "",
        "The model runs in its validation mode (Poisson arrivals of single-person rooms, "
        "exponential times, no retries); the estimates are replication means with t-based "
        "confidence half-widths. *Inside 99 % CI* is what `tests/oracle/` asserts.",
        "",
        "## Conference cluster as M/M/c/c (Erlang-B) and Little's law",
        "",
        "| case (A, c) | quantity | analytic | simulated | 95 % CI | 99 % CI | inside 99 % CI "
        "| R |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for a, c in ERLANG_B_CASES:
        for e in erlang_b_case(a, c, replications, arrivals_b).values():
            lines.append(_row(f"A={a:g}, c={c} (A/c={a / c:.2f})", e))
    lines += [
        "",
        "## Front end (login service) as M/M/c (Erlang-C) and Little's law",
        "",
        "| case (A, c) | quantity | analytic | simulated | 95 % CI | 99 % CI | inside 99 % CI "
        "| R |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for a, c in ERLANG_C_CASES:
        for e in erlang_c_case(a, c, replications, arrivals_c).values():
            lines.append(_row(f"A={a:g}, c={c} (ρ={a / c:.2f})", e))
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description="Write docs/verification.md")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "docs"
                                         / "verification.md"))
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--arrivals-b", type=int, default=20_000)
    ap.add_argument("--arrivals-c", type=int, default=60_000)
    args = ap.parse_args()
    print(write_report(Path(args.out), args.replications, args.arrivals_b, args.arrivals_c))


if __name__ == "__main__":
    main()
