"""How precisely a figure is shown (issue 25, second pass: "≈ 1,049,433"): one rule in
sim.report.layout, used by every page — a mean with a meaningful interval to the leading
digit of the interval's half-width, an estimate without one to 3 significant figures, an
exact count as it is."""

from __future__ import annotations

from sim.report.headline import state_count
from sim.report.i18n import Tr
from sim.report.layout import estimate, fmt_mean, fmt_with_interval, interval_range
from sim.runs.stats import Interval

EN, DE = Tr("en"), Tr("de")


def test_a_mean_is_as_precise_as_its_interval() -> None:
    iv = Interval(188_332.4, 176_000.0, 200_700.0, n=5)  # half-width 12,350: a leading 1
    assert fmt_mean("lost_pupil_minutes", 188_332.4, iv, EN) == "188,000"
    assert interval_range("lost_pupil_minutes", iv, EN) == "176,000–201,000"
    wide = Interval(188_332.4, 143_000.0, 233_000.0, n=5)  # half-width 45,000
    assert fmt_mean("lost_pupil_minutes", 188_332.4, wide, EN) == "190,000"
    tight = Interval(188_332.4, 188_300.0, 188_364.0, n=5)  # half-width 32
    assert fmt_mean("lost_pupil_minutes", 188_332.4, tight, EN) == "188,330"
    share = Interval(0.6102, 0.55, 0.67, n=5)  # ± 6 percentage points
    assert fmt_mean("join_success_rate", 0.6102, share, DE) == "61\u202f%"
    assert fmt_with_interval("join_success_rate", 0.6102, share, EN) == "61\u202f% (55–67\u202f%)"
    fine = Interval(0.98912, 0.9889, 0.98934, n=5)  # ± 0.022 points: the KPI's own 2 digits
    assert fmt_mean("join_success_rate", 0.98912, fine, EN) == "98.91\u202f%"
    secs = Interval(184.46, 150.0, 219.0, n=5)
    assert fmt_mean("p95_time_to_join_s", 184.46, secs, EN) == "180\u202fs"
    # a share is never rounded past whole percent: 97.97 % with a ±25-point interval
    assert fmt_mean("join_success_rate", 0.9797, Interval(0.98, 0.5, 1.0, n=3), EN) == "98\u202f%"


def test_without_a_meaningful_interval_a_mean_keeps_its_format() -> None:
    few = Interval(188_332.4, 100_000.0, 276_000.0, n=2)  # 2 replications: not meaningful
    assert fmt_mean("lost_pupil_minutes", 188_332.4, few, EN) == "188,332"
    assert fmt_mean("lost_pupil_minutes", 188_332.4, None, EN) == "188,332"


def test_a_whole_state_estimate_has_three_significant_figures() -> None:
    assert estimate(1_049_433, EN) == "1,050,000"
    assert estimate(9_730_850, DE) == "9.730.000"
    assert estimate(2_950, EN) == "2,950" and estimate(59, EN) == "59"
    assert state_count(20_989, 0.02, EN) == "≈\u202f1,050,000"
    assert state_count(59, None, EN) == "59"  # not a miniature: an exact count
