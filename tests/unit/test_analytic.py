"""Unit tests for :mod:`sim.experiments.analytic` (analytic queueing oracles).

Reference values are recomputed independently with exact rational arithmetic
(``fractions.Fraction``) from the textbook closed forms, and cross-checked
against classic published Erlang-B tables (1 % grade of service: 10 trunks
carry 4.46 E, 20 -> 12.03 E, 50 -> 37.90 E, 100 -> 84.06 E).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.experiments.analytic import (
    MMcKResult,
    engset_blocking,
    erlang_b,
    erlang_c,
    min_servers_erlang_b,
    min_servers_erlang_c_wait,
    mmc_mean_response,
    mmc_mean_wait,
    mmc_prob_wait_longer_than,
    mmck,
)

# --------------------------------------------------------------------------- exact references


def exact_erlang_b(a: Fraction | int | str, c: int) -> Fraction:
    """Textbook Erlang-B ``(A^c / c!) / sum_k A^k / k!`` in exact arithmetic."""
    a = Fraction(a)
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[c] / sum(terms)


def exact_erlang_c(a: Fraction | int | str, c: int) -> Fraction:
    """Textbook Erlang-C ``(A^c/c! * c/(c-A)) / (sum_{k<c} A^k/k! + A^c/c! * c/(c-A))``."""
    a = Fraction(a)
    tail = a**c / math.factorial(c) * c / (c - a)
    return tail / (sum(a**k / math.factorial(k) for k in range(c)) + tail)


def exact_engset_call(n: int, beta: Fraction, c: int) -> Fraction:
    """Engset call congestion: time congestion of ``n - 1`` sources (binomial weights)."""
    terms = [math.comb(n - 1, k) * beta**k for k in range(c + 1)]
    return terms[c] / sum(terms)


# --------------------------------------------------------------------------- Erlang-B

ERLANG_B_CASES = [
    (1, 1),  # 1/2
    (2, 2),  # 2/5
    (10, 10),  # ~0.21458
    (100, 110),  # ~0.02746
    ("0.5", 3),
    ("4.46", 10),
    ("12.03", 20),
    ("37.9", 50),
    ("84.06", 100),
    (30, 20),  # overload
]


@pytest.mark.parametrize(("a", "c"), ERLANG_B_CASES)
def test_erlang_b_matches_exact_formula(a: int | str, c: int) -> None:
    assert erlang_b(float(Fraction(a)), c) == pytest.approx(float(exact_erlang_b(a, c)), rel=1e-12)


@pytest.mark.parametrize(
    ("a", "c", "expected"),
    [(1.0, 1, 0.5), (2.0, 2, 0.4), (10.0, 10, 0.21458), (100.0, 110, 0.02746)],
)
def test_erlang_b_known_values(a: float, c: int, expected: float) -> None:
    assert erlang_b(a, c) == pytest.approx(expected, abs=5e-6)


@pytest.mark.parametrize(("a", "c"), [(4.46, 10), (12.03, 20), (37.90, 50), (84.06, 100)])
def test_erlang_b_published_one_percent_table(a: float, c: int) -> None:
    # Table loads are rounded to 0.01 E, so B is 1 % only to within that rounding.
    assert erlang_b(a, c) == pytest.approx(0.01, abs=5e-5)


def test_erlang_b_edge_cases() -> None:
    assert erlang_b(5.0, 0) == 1.0
    assert erlang_b(0.0, 3) == 0.0


def test_erlang_b_large_inputs_do_not_overflow() -> None:
    b = erlang_b(1e6, 100_000)
    assert math.isfinite(b)
    assert b == pytest.approx(1 - 100_000 / 1e6, abs=1e-5)  # heavy overload: B ~ 1 - c/A
    b = erlang_b(1e5, 100_000)
    assert b == pytest.approx(math.sqrt(2 / (math.pi * 1e5)), rel=1e-2)  # B(A, A) ~ sqrt(2/piA)


@settings(max_examples=200, database=None, deadline=None)
@given(a=st.floats(0.0, 500.0), c=st.integers(0, 600))
def test_erlang_b_decreasing_in_servers(a: float, c: int) -> None:
    b0, b1 = erlang_b(a, c), erlang_b(a, c + 1)
    assert 0.0 <= b1 <= b0 <= 1.0
    if a > 0 and b0 > 1e-300:
        assert b1 < b0


@settings(max_examples=200, database=None, deadline=None)
@given(a=st.floats(0.0, 500.0), da=st.floats(0.0, 100.0), c=st.integers(0, 600))
def test_erlang_b_increasing_in_load(a: float, da: float, c: int) -> None:
    assert erlang_b(a + da, c) >= erlang_b(a, c) * (1 - 1e-12)


# --------------------------------------------------------------------------- Erlang-C / M/M/c


def test_erlang_c_textbook_value() -> None:
    assert erlang_c(2.0, 3) == pytest.approx(4 / 9, rel=1e-14)


@pytest.mark.parametrize(("a", "c"), [(2, 3), ("0.7", 1), (8, 10), (95, 100), ("49.5", 50)])
def test_erlang_c_matches_exact_formula(a: int | str, c: int) -> None:
    assert erlang_c(float(Fraction(a)), c) == pytest.approx(float(exact_erlang_c(a, c)), rel=1e-11)


@pytest.mark.parametrize(("a", "c"), [(3.0, 3), (5.0, 3), (1e6, 10)])
def test_erlang_c_unstable_is_one(a: float, c: int) -> None:
    assert erlang_c(a, c) == 1.0


def test_mm1_measures() -> None:
    lam, mu = 0.75, 1.0
    rho = lam / mu
    assert erlang_c(rho, 1) == pytest.approx(rho)
    assert mmc_mean_wait(lam, mu, 1) == pytest.approx(rho / (mu - lam))
    assert mmc_mean_response(lam, mu, 1) == pytest.approx(1 / (mu - lam))
    assert mmc_prob_wait_longer_than(lam, mu, 1, 2.0) == pytest.approx(rho * math.exp(-0.5))


def test_mmc_measures_consistent() -> None:
    lam, mu, c = 8.0, 1.0, 10
    wq = mmc_mean_wait(lam, mu, c)
    assert wq == pytest.approx(float(exact_erlang_c(8, 10)) / (c * mu - lam), rel=1e-12)
    assert mmc_mean_response(lam, mu, c) == pytest.approx(wq + 1 / mu)
    assert mmc_prob_wait_longer_than(lam, mu, c, 0.0) == pytest.approx(erlang_c(8.0, 10))
    assert mmc_mean_wait(0.0, mu, c) == 0.0


def test_mmc_unstable() -> None:
    assert mmc_mean_wait(10.0, 1.0, 10) == math.inf
    assert mmc_mean_response(12.0, 1.0, 10) == math.inf
    assert mmc_prob_wait_longer_than(12.0, 1.0, 10, 5.0) == 1.0


# --------------------------------------------------------------------------- M/M/c/K


@pytest.mark.parametrize(
    ("lam", "mu", "c"),
    [(1.0, 1.0, 1), (10.0, 1.0, 10), (3.0, 0.5, 4), (95.0, 1.0, 100), (9990.0, 1.0, 10_000)],
)
def test_mmck_with_k_equal_c_is_erlang_b(lam: float, mu: float, c: int) -> None:
    r = mmck(lam, mu, c, c)
    assert isinstance(r, MMcKResult)
    assert r.blocking == pytest.approx(erlang_b(lam / mu, c), rel=1e-9)
    assert r.mean_in_queue == 0.0
    assert r.mean_wait == 0.0
    assert r.mean_in_system == pytest.approx(r.throughput / mu, rel=1e-9)  # carried load


@pytest.mark.parametrize(("lam", "mu", "c"), [(4.0, 1.0, 5), (8.0, 1.0, 10), (45.0, 0.5, 100)])
def test_mmck_large_k_approaches_erlang_c(lam: float, mu: float, c: int) -> None:
    r = mmck(lam, mu, c, c + 3000)
    a, rho = lam / mu, lam / (c * mu)
    lq = erlang_c(a, c) * rho / (1 - rho)
    assert r.mean_in_queue == pytest.approx(lq, abs=1e-6)
    assert r.blocking < 1e-12
    assert r.mean_wait == pytest.approx(mmc_mean_wait(lam, mu, c), abs=1e-6)
    assert r.mean_response == pytest.approx(mmc_mean_response(lam, mu, c), abs=1e-6)


@pytest.mark.parametrize(("rho", "k"), [(0.5, 1), (0.5, 5), (0.9, 20), (1.0, 7), (2.0, 10)])
def test_mm1k_closed_form(rho: float, k: int) -> None:
    mu = 2.0
    lam = rho * mu
    if rho == 1.0:
        p = [1 / (k + 1)] * (k + 1)
        l_sys = k / 2
    else:
        p = [(1 - rho) * rho**n / (1 - rho ** (k + 1)) for n in range(k + 1)]
        l_sys = rho / (1 - rho) - (k + 1) * rho ** (k + 1) / (1 - rho ** (k + 1))
    r = mmck(lam, mu, 1, k)
    thr = lam * (1 - p[k])
    assert r.blocking == pytest.approx(p[k], rel=1e-12)
    assert r.mean_in_system == pytest.approx(l_sys, rel=1e-12)
    assert r.mean_in_queue == pytest.approx(l_sys - (1 - p[0]), rel=1e-12, abs=1e-15)
    assert r.throughput == pytest.approx(thr, rel=1e-12)
    assert r.mean_response == pytest.approx(l_sys / thr, rel=1e-12)  # Little's law
    assert r.throughput == pytest.approx(mu * (1 - p[0]), rel=1e-12)  # flow balance


def test_mmck_large_sizes_are_finite() -> None:
    r = mmck(2.0e4, 1.0, 10_000, 10_000 + 5_000)
    assert r.blocking == pytest.approx(0.5, abs=1e-3)  # rho = 2: half the arrivals are lost
    assert all(math.isfinite(v) for v in vars(r).values())


def test_mmck_zero_arrivals() -> None:
    r = mmck(0.0, 4.0, 2, 5)
    assert (r.blocking, r.mean_in_system, r.throughput) == (0.0, 0.0, 0.0)
    assert r.mean_response == 0.25


def test_mmck_result_is_frozen() -> None:
    r = mmck(1.0, 1.0, 1, 2)
    with pytest.raises(AttributeError):
        r.blocking = 0.0  # type: ignore[misc]


# --------------------------------------------------------------------------- Engset


@pytest.mark.parametrize(("n", "beta", "c"), [(5, "0.2", 2), (20, "0.1", 3), (50, "1/3", 10)])
def test_engset_matches_exact_formula(n: int, beta: str, c: int) -> None:
    got = engset_blocking(n, float(Fraction(beta)), 1.0, c)
    assert got == pytest.approx(float(exact_engset_call(n, Fraction(beta), c)), rel=1e-12)


def test_engset_rate_scaling_and_no_blocking_when_few_sources() -> None:
    assert engset_blocking(20, 0.3, 2.0, 4) == pytest.approx(engset_blocking(20, 0.15, 1.0, 4))
    assert engset_blocking(3, 5.0, 1.0, 3) == 0.0
    assert engset_blocking(4, 5.0, 1.0, 0) == 1.0


@pytest.mark.parametrize(("a", "c"), [(10.0, 10), (5.0, 8), (30.0, 25)])
def test_engset_tends_to_erlang_b(a: float, c: int) -> None:
    target = erlang_b(a, c)
    errors = [abs(engset_blocking(n, a / n, 1.0, c) - target) for n in (10**3, 10**4, 10**6)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-4 * max(target, 1e-3)


# --------------------------------------------------------------------------- inverses


@pytest.mark.parametrize(
    ("a", "target"),
    [(4.46, 0.0101), (84.0, 0.01), (10.0, 0.2), (0.0, 0.5), (1000.0, 0.001), (1e6, 0.01)],
)
def test_min_servers_erlang_b_is_minimal(a: float, target: float) -> None:
    c = min_servers_erlang_b(a, target)
    assert erlang_b(a, c) <= target
    assert c == 0 or erlang_b(a, c - 1) > target


def test_min_servers_erlang_b_table_value() -> None:
    assert min_servers_erlang_b(84.06, 0.01) == 100
    assert min_servers_erlang_b(4.46, 0.01) == 10


@settings(max_examples=100, database=None, deadline=None)
@given(a=st.floats(0.0, 300.0), target=st.floats(1e-6, 0.99))
def test_min_servers_erlang_b_property(a: float, target: float) -> None:
    c = min_servers_erlang_b(a, target)
    assert erlang_b(a, c) <= target
    assert c == 0 or erlang_b(a, c - 1) > target


@pytest.mark.parametrize(
    ("lam", "mu", "wq", "pw"),
    [
        (10.0, 1.0, None, 0.2),
        (10.0, 1.0, 0.05, None),
        (95.0, 1.0, 0.01, 0.1),
        (3.0, 1.0, 1e-6, None),
        (0.0, 1.0, None, 0.5),
        (500.0, 2.0, 0.001, 0.05),
    ],
)
def test_min_servers_erlang_c_wait_is_minimal(
    lam: float, mu: float, wq: float | None, pw: float | None
) -> None:
    def ok(c: int) -> bool:
        if c < 1 or lam >= c * mu:
            return False
        good = wq is None or mmc_mean_wait(lam, mu, c) <= wq
        return good and (pw is None or erlang_c(lam / mu, c) <= pw)

    c = min_servers_erlang_c_wait(lam, mu, target_mean_wait=wq, target_prob_wait=pw)
    assert ok(c)
    assert not ok(c - 1)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "call",
    [
        lambda: erlang_b(-1.0, 3),
        lambda: erlang_b(float("nan"), 3),
        lambda: erlang_b(float("inf"), 3),
        lambda: erlang_b(1.0, -1),
        lambda: erlang_b(1.0, 2.5),  # type: ignore[arg-type]
        lambda: erlang_b(1.0, True),
        lambda: erlang_c(-0.1, 2),
        lambda: erlang_c(1.0, 1.0),  # type: ignore[arg-type]
        lambda: mmc_mean_wait(-1.0, 1.0, 2),
        lambda: mmc_mean_wait(1.0, 0.0, 2),
        lambda: mmc_mean_wait(1.0, 1.0, 0),
        lambda: mmc_mean_response(1.0, -1.0, 2),
        lambda: mmc_prob_wait_longer_than(1.0, 1.0, 2, -1.0),
        lambda: mmck(1.0, 1.0, 3, 2),
        lambda: mmck(-1.0, 1.0, 3, 5),
        lambda: mmck(1.0, 1.0, 0, 5),
        lambda: engset_blocking(-1, 0.1, 1.0, 2),
        lambda: engset_blocking(10, -0.1, 1.0, 2),
        lambda: engset_blocking(10, 0.1, 0.0, 2),
        lambda: engset_blocking(10, 0.1, 1.0, -2),
        lambda: min_servers_erlang_b(-5.0, 0.01),
        lambda: min_servers_erlang_b(5.0, 0.0),
        lambda: min_servers_erlang_b(5.0, 1.0),
        lambda: min_servers_erlang_b(5.0, 1.5),
        lambda: min_servers_erlang_c_wait(5.0, 1.0),
        lambda: min_servers_erlang_c_wait(5.0, 1.0, target_prob_wait=0.0),
        lambda: min_servers_erlang_c_wait(5.0, 1.0, target_prob_wait=1.0),
        lambda: min_servers_erlang_c_wait(5.0, 1.0, target_mean_wait=0.0),
        lambda: min_servers_erlang_c_wait(5.0, 1.0, target_mean_wait=-1.0),
        lambda: min_servers_erlang_c_wait(-5.0, 1.0, target_mean_wait=1.0),
    ],
)
def test_invalid_inputs_raise_value_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"must|required"):
        call()
