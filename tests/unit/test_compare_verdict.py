"""``dlsim compare``'s verdict, units and side-by-side causes and costs (issue 25, point 7)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import stats

from sim.report.comparison_report import _diff_cell
from sim.report.comparison_verdict import costs_rows, delta_text, overall_verdict, verdict_line
from sim.report.i18n import EN, Tr
from sim.runs.power import power, replications_to_detect


def test_share_differences_are_percentage_points_not_percent() -> None:
    assert delta_text("join_success_rate", -0.0015) == "−0.15 pp"
    # utilisations are shares too, though they may pass 100 % (issue 25, second pass)
    assert delta_text("peak_node_utilisation", 0.0055) == "+0.55 pp"
    assert delta_text("peak_cluster_utilisation", -0.0191) == "−1.91 pp"
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
    assert "no detectable difference" in line
    need = replications_to_detect(np.subtract(b, a), 0.05 * float(np.mean(a)))
    assert need is not None and f"about {need} paired replications would be needed" in line
    # the size of the change in the figure's unit first, then what share of A it is
    assert "To detect a change of 50 (5\u202f% of A's value)" in line
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


def test_a_share_verdict_words_its_change_plainly() -> None:
    """"5 % change (4.83 pp)" read as two different changes: the size comes first, in the
    figure's unit, and what share of A's value it is after it."""
    a, b = [0.96, 0.97, 0.965], [0.962, 0.968, 0.966]
    line = verdict_line("join_success_rate", a, b)
    assert "5 % change" not in line and "(4.83 pp)" not in line
    assert re.search(r"a change of 4\.8\d pp \(5\u202f% of A's value\)", line), line


def test_the_overall_verdict_is_one_line() -> None:
    a = {"lost_pupil_minutes": [1000.0, 1100.0, 900.0, 1050.0, 950.0],
         "join_success_rate": [0.9, 0.91, 0.92, 0.9, 0.91],
         "affected_schools_share": [0.1, 0.1, 0.1, 0.1, 0.1]}
    same = overall_verdict(a, a)
    assert same == ("Verdict: no detectable difference between A and B in Lost pupil-minutes, "
                    "Pupil-meetings that got in and Schools affected (>10 % lost >15 min).")
    b = dict(a, lost_pupil_minutes=[x - 300.0 + e for x, e in zip(
        a["lost_pupil_minutes"], [3.0, -4.0, 2.0, -1.0, 0.5], strict=True)])
    assert overall_verdict(a, b).startswith("Verdict: B is better than A in Lost pupil-minutes;")
    assert overall_verdict(b, a).startswith("Verdict: B is worse than A in Lost pupil-minutes;")
    assert overall_verdict({"lost_pupil_minutes": [1.0]}, {"lost_pupil_minutes": [2.0]}) == ""


def test_whole_state_counts_in_a_comparison_of_miniatures() -> None:
    """A miniature at scale 0.02: a count's difference and its verdict are the whole
    state's (× 50), shares unchanged."""
    assert delta_text("lost_pupil_minutes", -584.0, EN, s=0.02) == "−29,200"
    assert delta_text("join_success_rate", 0.0016, EN, s=0.02) == "+0.16 pp"
    a = [1000.0, 1100.0, 900.0, 1050.0, 950.0]
    line = verdict_line("lost_pupil_minutes", a, a, EN, 0.02)
    assert line.startswith("Lost pupil-minutes, whole state: no detectable difference")
    assert "a change of 2,500 (5\u202f% of A's value)" in line


def test_cost_items_name_policies_in_words() -> None:
    from sim.report.labels import cost_item

    item = {"item": "policy {name}", "fill": {"name": "stagger"}, "eur": 0.0}
    assert cost_item(item) == "policy: staggered start"
    assert cost_item(item, Tr("de")) == "Maßnahme: gestaffelter Unterrichtsbeginn"
    a = {"total_eur": 0.0, "items": [item]}
    assert costs_rows(a, a)[0][0] == "policy: staggered start"


def test_faults_are_paired_by_identity_not_position() -> None:
    """Monday's faults against a copy with the dispatcher fault dropped and the crash rule
    moved to the front: the crash rule is the same fault (no row), the dispatcher fault is
    one A has and B lacks; a changed repair time is a row of that fault."""
    from sim import load_scenario
    from sim.report.comparison_report import fault_rows
    from tests.conftest import REPO

    monday = REPO / "configs" / "2021-01-11-monday-dispatcher-failure.yaml"
    a = load_scenario(monday)
    crash = a.model_dump(mode="json")["faults"][1]
    b = a.model_copy(update={"faults": [a.faults[1]]})
    assert crash["kind"] == "overload_crash"
    rows = fault_rows(a, b, EN)
    assert rows == [("Faulty setting in IServ's dispatcher from 07:50", "present", "–")]
    later = load_scenario(monday, ["faults[0].end=10:00"])
    assert fault_rows(a, later, EN) == [
        ("Faulty setting in IServ's dispatcher from 07:50: End", "12:00", "10:00")]
    assert fault_rows(a, a, EN) == []
