"""sim.runs.stats: intervals respect their bounds, agree with textbook values, and cover."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.runs import stats


def test_mean_interval_is_the_textbook_t_interval() -> None:
    x = np.array([10.0, 12.0, 11.0, 14.0, 13.0])
    iv = stats.mean_interval(x)
    # t_{0.975, 4} = 2.776445; sd = 1.5811; half = 2.776445 * 1.5811 / sqrt(5) = 1.9632
    assert iv.mean == pytest.approx(12.0)
    assert iv.half_width == pytest.approx(1.96324, rel=1e-4)
    assert iv.method == "t" and iv.meaningful


def test_one_replication_gives_no_interval_and_says_so() -> None:
    iv = stats.mean_interval([3.0])
    assert (iv.lo, iv.hi, iv.n, iv.meaningful, iv.method) == (3.0, 3.0, 1, False, "none")
    assert not stats.mean_interval([1.0, 2.0]).meaningful


def test_two_replications_near_one_stay_inside_unit_interval() -> None:
    # the report once printed "98.90 % ± 3.59 %" for two replications
    iv = stats.share_interval([0.9975, 0.9805])
    assert 0.0 <= iv.lo <= iv.mean <= iv.hi <= 1.0
    raw = stats.mean_interval([0.9975, 0.9805])
    assert raw.hi > 1.0  # what the plain t interval would have said
    assert iv.method == "logit-t"


def test_share_on_the_bound_falls_back_to_clipped_t() -> None:
    iv = stats.share_interval([1.0, 0.99, 0.995])
    assert iv.method in {"t", "t, clipped"} and iv.lo >= 0.0 and iv.hi <= 1.0


def test_share_outside_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError):
        stats.share_interval([0.5, 1.2])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12))
def test_share_interval_never_leaves_unit_interval(xs: list[float]) -> None:
    iv = stats.share_interval(xs)
    assert 0.0 <= iv.lo <= iv.mean + 1e-12
    assert iv.mean - 1e-12 <= iv.hi <= 1.0


def test_kpi_interval_clips_counts_at_zero_and_uses_logit_for_shares() -> None:
    assert stats.kpi_interval("lost_pupil_minutes", [0.0, 0.0, 30.0]).lo == 0.0
    assert stats.kpi_interval("join_success_rate", [0.97, 0.98, 0.99]).method == "logit-t"
    assert stats.kpi_interval("some_new_kpi", [-5.0, 5.0]).lo < -5.0


def test_logit_interval_covers_about_as_often_as_it_says() -> None:
    # replications of a share near 1, as a good day's success rate is
    rng = np.random.default_rng(7)
    true_median = 0.985
    hits = 0
    trials = 2000
    for _ in range(trials):
        z = rng.normal(math.log(true_median / (1 - true_median)), 0.4, size=5)
        hits += stats.share_interval(1 / (1 + np.exp(-z))).contains(true_median)
    assert 0.93 <= hits / trials <= 0.97


def test_wilson_matches_the_published_value() -> None:
    # Wilson 95 % for 5 of 10: [0.2366, 0.7634] (Newcombe 1998, table I style check)
    iv = stats.wilson_interval(5, 10)
    assert (iv.lo, iv.hi) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert stats.wilson_interval(0, 20).lo == 0.0
    with pytest.raises(ValueError):
        stats.wilson_interval(11, 10)


def test_paired_difference_agrees_with_scipy_and_detects_a_shift() -> None:
    from scipy import stats as ss

    rng = np.random.default_rng(1)
    a = rng.normal(100, 10, 8)
    b = a + 2.0 + rng.normal(0, 0.5, 8)  # common random numbers: a small, clear shift
    d = stats.paired_difference(a, b)
    assert d.mean == pytest.approx(float(np.mean(b - a)))
    assert d.p_value == pytest.approx(float(ss.ttest_rel(b, a).pvalue))
    assert d.significant and d.lo > 0
    same = stats.paired_difference(a, a)
    assert (same.mean, same.half_width, same.p_value, same.significant) == (0.0, 0.0, 1.0, False)
    one = stats.paired_difference([1.0], [2.0])
    assert math.isinf(one.half_width) and not one.significant


def _long(rows: list[tuple[float, str, str, list[float]]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(t, c, m, v) for t, c, m, vals in rows for v in vals],
        columns=["t", "component", "metric", "value"],
    )


def test_series_band_keeps_each_metric_inside_its_bounds() -> None:
    df = _long(
        [
            (0.0, "cluster:a", "utilisation_max", [0.99, 0.93]),  # plain t: hi > 1
            (0.0, "cluster:a", "queue_length", [0.0, 3.0]),  # plain t: lo < 0
            (0.0, "cluster:a", "utilisation_mean", [0.0, 0.4]),  # on the bound: clipped t
            (60.0, "cluster:a", "participants", [7.0]),  # one replication
        ]
    ).drop_duplicates()
    band = stats.series_band(df).set_index(["t", "metric"])
    assert set(band.columns) == {"component", "value", "lo", "hi", "n"}
    assert (band["lo"] >= 0).all() and (band["lo"] <= band["value"]).all()
    assert (band["value"] <= band["hi"]).all()
    q = band.loc[(0.0, "queue_length")]
    assert q["lo"] == 0.0 and q["hi"] == pytest.approx(stats.mean_interval([0.0, 3.0]).hi)
    one = band.loc[(60.0, "participants")]
    assert (one["lo"], one["hi"], one["n"]) == (7.0, 7.0, 1)
    u = band.loc[(0.0, "utilisation_mean")]
    assert u["lo"] >= 0.0 and u["hi"] <= 1.0


def test_series_band_of_a_share_is_the_logit_interval() -> None:
    vals = [0.99, 0.93, 0.97]
    band = stats.series_band(_long([(0.0, "cluster:a", "utilisation_max", vals)]))
    iv = stats.share_interval(vals)
    assert band["lo"].iloc[0] == pytest.approx(iv.lo) and band["hi"].iloc[0] == pytest.approx(iv.hi)
    assert band["hi"].iloc[0] < 1.0


def test_series_band_above_one_stays_within_what_was_observed() -> None:
    # a node run degraded below its load shows utilisation above 1: the band may not claim more
    band = stats.series_band(_long([(0.0, "cluster:a", "utilisation_max", [1.05, 1.13])]))
    assert band["hi"].iloc[0] == pytest.approx(1.13) and band["lo"].iloc[0] >= 0.0


def test_difference_of_shares_stays_within_plus_minus_one() -> None:
    # two replications, blocking 0 % in A and 0–30 % in B: the plain t interval runs past ±100 pp
    a, b = [0.0, 0.0], [0.0, 0.3]
    plain = stats.paired_difference(a, b)
    assert plain.lo < -1.0 and plain.hi > 1.0
    d = stats.paired_difference(a, b, bounds=stats.difference_bounds("blocking_probability"))
    assert (d.lo, d.hi) == (-1.0, 1.0) and d.p_value == plain.p_value
    assert stats.difference_bounds("lost_pupil_minutes") == (-math.inf, math.inf)
