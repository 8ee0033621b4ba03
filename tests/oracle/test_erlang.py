"""The model's queueing mechanisms against their analytic oracles (statistical, seeded).

Each case runs the model in validation mode with independent replications (fixed seeds, so the
CI is reproducible). It asserts that the analytic value lies inside the 99 % CI, and that the
run was long enough: the 95 % CI half-width is below 10 % of the analytic value. A correct
model fails a single case with probability ≈ 1 %; the seeds are fixed, so CI is stable.
"""

from __future__ import annotations

import pytest

from sim.experiments.verification import (
    DEGRADED_CASES,
    ERLANG_B_CASES,
    ERLANG_C_CASES,
    degraded_case,
    erlang_b_case,
    erlang_c_case,
)

B_REPLICATIONS, B_ARRIVALS = 10, 20_000
C_REPLICATIONS, C_ARRIVALS = 10, 60_000
D_REPLICATIONS, D_ARRIVALS = 10, 20_000


@pytest.mark.slow
@pytest.mark.parametrize(("offered", "servers"), ERLANG_B_CASES,
                         ids=[f"A={a:g},c={c}" for a, c in ERLANG_B_CASES])
def test_cluster_is_erlang_b(offered: float, servers: int) -> None:
    res = erlang_b_case(offered, servers, B_REPLICATIONS, B_ARRIVALS)
    b = res["blocking"]
    assert b.rel_half95 < 0.10, f"run too short: ±{b.rel_half95:.1%}"
    assert b.inside99, f"Erlang-B {b.analytic:.5f} outside {b.mean:.5f} ± {b.half99:.5f}"
    # Little's law on the cluster: mean occupancy = λ (1 − B) h
    occ = res["occupancy"]
    assert occ.inside99, f"L={occ.mean:.3f} vs λ(1−B)h={occ.analytic:.3f} ± {occ.half99:.3f}"


@pytest.mark.slow
@pytest.mark.parametrize(("offered", "workers"), ERLANG_C_CASES,
                         ids=[f"A={a:g},c={c}" for a, c in ERLANG_C_CASES])
def test_frontend_is_erlang_c(offered: float, workers: int) -> None:
    res = erlang_c_case(offered, workers, C_REPLICATIONS, C_ARRIVALS)
    for key in ("p_wait", "mean_wait"):
        e = res[key]
        assert e.rel_half95 < 0.10, f"{key}: run too short: ±{e.rel_half95:.1%}"
        assert e.inside99, f"{key}: {e.analytic:.5f} outside {e.mean:.5f} ± {e.half99:.5f}"
    # Little's law on the queue, with the queue length sampled independently every second
    lq = res["queue_length"]
    assert lq.inside99, f"Lq={lq.mean:.4f} vs λWq={lq.analytic:.4f} ± {lq.half99:.4f}"


@pytest.mark.slow
@pytest.mark.parametrize(("offered", "threshold"), DEGRADED_CASES,
                         ids=[f"A={a:g},k={k}" for a, k in DEGRADED_CASES])
def test_degraded_time_is_the_poisson_tail(offered: float, threshold: int) -> None:
    """A node with no participant limit is M/M/∞: the share of time it runs degraded (more
    than k people by its CPU), integrated by the same accounts as degraded_pupil_minutes and
    read from the run's time series, is P(N > k) for N ~ Poisson(A); no join is refused."""
    res = degraded_case(offered, threshold, D_REPLICATIONS, D_ARRIVALS)
    e = res["degraded"]
    assert e.rel_half95 < 0.10, f"run too short: ±{e.rel_half95:.1%}"
    assert e.inside99, f"P(N>k) {e.analytic:.5f} outside {e.mean:.5f} ± {e.half99:.5f}"
    occ = res["occupancy"]
    assert occ.inside99, f"L={occ.mean:.3f} vs A={occ.analytic:.3f} ± {occ.half99:.3f}"
