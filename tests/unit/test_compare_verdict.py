"""``dlsim compare``'s verdict, units and side-by-side causes and costs (issue 25, point 7)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.report.comparison_report import _diff_cell
from sim.report.comparison_verdict import costs_rows, delta_text, verdict_line
from sim.report.i18n import EN, Tr
from sim.runs.power import power, replications_to_detect


def test_share_differences_are_percentage_points_not_percent() -> None:
    assert delta_text("join_success_rate", -0.0015) == "−0.15 pp"
    assert delta_text("lost_pupil_minutes", 946.0) == "+946"
    text = str(_diff_cell("join_success_rate", (0.012, 0.004), 0.9, EN)[0])
    assert "pp" in text and "%" not in text
    assert "Pp." in delta_text("join_success_rate", 0.01, Tr("de"))


def test_replications_to_detect_matches_the_textbook_sample_size() -> None:
    # differences with standard deviation exactly 10; a change of 2.83 with 80 % power at
    # α = 5 %: n ≈ (z_.975 + z_.8)² (s/δ)² + z_.975²/2 ≈ 100 (Cohen; the noncentral t is exact)
    d = np.array([10.0, -10.0] * 50)
    d = d / d.std(ddof=1) * 10.0
    n = replications_to_detect(d, 2.83)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert n is not None and abs(n - ((z * 10 / 2.83) ** 2 + stats.norm.ppf(0.975) ** 2 / 2)) < 2
    assert power(n, 2.83, 10.0) >= 0.8 > power(n - 1, 2.83, 10.0)
    assert replications_to_detect([1.0], 2.0) is None
    assert replications_to_detect([1.0, 1.0, 1.0], 2.0) == 2


def test_verdict_no_detectable_effect_says_how_many_replications() -> None:
    a = [1000.0, 1100.0, 900.0, 1050.0, 950.0]
    b = [x + e for x, e in zip(a, [60.0, -80.0, 40.0, -20.0, 10.0], strict=True)]
    line = verdict_line("lost_pupil_minutes", a, b)
    assert "no detectable effect" in line
    need = replications_to_detect(np.subtract(b, a), 0.05 * float(np.mean(a)))
    assert need is not None and f"about {need} paired replications" in line
    assert "change (50)" in line
    shifted = [x + 200.0 + e for x, e in zip(a, [3.0, -4.0, 2.0, -1.0, 0.5], strict=True)]
    assert "a detectable effect" in verdict_line("lost_pupil_minutes", a, shifted)


def test_costs_side_by_side() -> None:
    a = {"total_eur": 100.0, "items": [{"item": "conference nodes rented (per day)",
                                        "eur": 100.0}]}
    b = {"total_eur": 250.0, "items": [{"item": "conference nodes rented (per day)",
                                        "eur": 200.0},
                                       {"item": "school servers replaced (one-off)",
                                        "eur": 50.0}]}
    rows = costs_rows(a, b)
    assert rows[-1] == ["total", "100\u202f€", "250\u202f€", "+150\u202f€"]
    assert rows[1][1:] == ["0\u202f€", "50\u202f€", "+50\u202f€"]


@pytest.mark.parametrize("lang", ["en", "de"])
def test_verdict_is_translated(lang: str) -> None:
    tr = Tr(lang)
    verdict_line("join_success_rate", [0.9, 0.91, 0.92], [0.9, 0.915, 0.92], tr)
    assert not tr.missing
