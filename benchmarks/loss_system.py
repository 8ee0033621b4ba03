"""The loss-system workload of the performance targets, three ways, in one process.

M/M/c/c with A = 100 Erlang, c = 110, N arrivals:

- ``model``  — through dlsim's own conference cluster and the general run loop every day runs
  (``sim.experiments.verification.loss_scenario``; the loop the oracles in tests/oracle use);
- ``simpy_resource`` — the usual SimPy idiom: one process per arrival + ``simpy.Resource``;
- ``heapq`` — a bare event loop on ``heapq`` (the floor for pure Python).

Each returns (blocking probability, wall seconds); the runner prints the ratios.
"""

from __future__ import annotations

import heapq
import time

import numpy as np
import simpy

# Holding time 1 s (arrival rate 100/s): 1 M arrivals fit in the model's one-day horizon.
A, C, HOLD = 100.0, 110, 1.0


def _draws(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    gaps = rng.standard_exponential(n) * HOLD / A
    holds = rng.standard_exponential(n) * HOLD
    return gaps, holds


def heapq_loop(n: int, seed: int = 1) -> tuple[float, float]:
    gaps, holds = _draws(n, seed)
    t0 = time.perf_counter()
    arrivals = np.cumsum(gaps).tolist()
    hold = holds.tolist()
    busy = 0
    blocked = 0
    departures: list[float] = []
    for i in range(n):
        t = arrivals[i]
        while departures and departures[0] <= t:
            heapq.heappop(departures)
            busy -= 1
        if busy < C:
            busy += 1
            heapq.heappush(departures, t + hold[i])
        else:
            blocked += 1
    return blocked / n, time.perf_counter() - t0


def simpy_resource(n: int, seed: int = 1) -> tuple[float, float]:
    gaps, holds = _draws(n, seed)
    t0 = time.perf_counter()
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=C)
    blocked = [0]
    gap = gaps.tolist()
    hold = holds.tolist()

    def call(i: int):  # type: ignore[no-untyped-def]
        if servers.count >= C:
            blocked[0] += 1
            return
        with servers.request() as req:
            yield req
            yield env.timeout(hold[i])

    def source():  # type: ignore[no-untyped-def]
        for i in range(n):
            yield env.timeout(gap[i])
            env.process(call(i))

    env.process(source())
    env.run()
    return blocked[0] / n, time.perf_counter() - t0


def model(n: int, seed: int = 1) -> tuple[float, float]:
    from sim.experiments.verification import loss_scenario
    from sim.model.simulation import simulate_once

    sc = loss_scenario(A, C, holding_s=HOLD, arrivals=n, warmup_holdings=0.0)
    t0 = time.perf_counter()
    r = simulate_once(sc, seed)
    return float(r.kpis["blocking_probability"]), time.perf_counter() - t0


if __name__ == "__main__":
    from sim.experiments.analytic import erlang_b

    n = 200_000
    for fn in (heapq_loop, simpy_resource, model):
        b, s = fn(n)
        print(f"{fn.__name__:>15}: blocking {b:.4f} (Erlang-B {erlang_b(A, C):.4f}), "
              f"{s:.2f} s, {n / s / 1e3:.0f} k arrivals/s")
