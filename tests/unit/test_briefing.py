"""The briefing at the top of reports (sim.report.briefing)."""

from __future__ import annotations

import json
from pathlib import Path

from sim.report.briefing import briefing, causes_table, failed_criteria, read_attribution
from sim.report.i18n import Tr

KPIS = {"join_success_rate": 0.9826, "p95_time_to_join_s": 60.0, "lost_pupil_minutes": 1000.0}
DETAILS = {"lost_pupil_minutes_by_cause": {"school_server:outdated": 900.0,
                                           "dispatcher": 80.0, "moderator_late": 20.0}}
ATT = {"lost_pupil_minutes": 1000.0, "causes": {
    "school_server:outdated": {"direct": 900.0, "recovered_mean": 950.0, "recovered_ci95": 30.0,
                               "recovered_lo": 920.0, "recovered_hi": 980.0},
    "moderator_late": {"direct": 20.0, "recovered_mean": None, "recovered_ci95": None}}}


def _plain(x: object) -> str:
    """The text with the typographic spaces of number formatting as plain spaces."""
    return str(x).replace("\u202f", " ").replace("\xa0", " ")


def test_names_the_failed_criterion_the_causes_and_the_recovery() -> None:
    text = _plain(briefing(KPIS, DETAILS, None, Tr("en"), ATT))
    assert "Service target not met" in text
    assert "98.26 %" in text and "99.00 %" in text  # the failed criterion and by how much
    assert "time to join was" not in text  # the criterion that held is not listed
    assert "outdated school servers (90.0 %)" in text
    assert "the dispatcher (8.0 %)" in text
    assert "would recover 950" in text and "920 to 980" in text


def test_german_briefing_has_no_english_left() -> None:
    text = _plain(briefing(KPIS, DETAILS, None, Tr("de"), ATT)) + _plain(
        causes_table(DETAILS, Tr("de"), ATT))
    assert "veraltete Schulserver (90,0 %)" in text
    for english in ("Who lost", "removing", "would recover", "outdated", "against the target",
                    "Counterfactuals", " to "):
        assert english not in text


def test_met_target_lists_no_failed_criterion() -> None:
    ok = {"join_success_rate": 0.995, "p95_time_to_join_s": 60.0}
    assert failed_criteria(ok) == []
    assert "Service target met" in str(briefing(ok, {}, None))


def test_attribution_is_read_only_when_valid(tmp_path: Path) -> None:
    assert read_attribution(tmp_path) is None
    (tmp_path / "attribution.json").write_text("not json")
    assert read_attribution(tmp_path) is None
    (tmp_path / "attribution.json").write_text(json.dumps(ATT))
    assert read_attribution(tmp_path) == ATT


def test_whole_state_figure_is_rounded_as_the_card_rounds_it() -> None:
    """A miniature's lost minutes in the briefing sentence use the card's rule (its interval),
    not a second one: the second new-user pass saw "≈ 9,140,000" beside a card's
    "≈ 9,100,000" for the same figure."""
    from sim.report.state import kpi_text
    from sim.runs.stats import Interval

    lost, s = 182_758.0, 0.02
    iv = {"lost_pupil_minutes": Interval(lost, lost - 5_000.0, lost + 5_000.0, 3)}
    tr = Tr("en")
    card = _plain(kpi_text("lost_pupil_minutes", lost, s, tr, iv["lost_pupil_minutes"]))
    text = _plain(briefing({**KPIS, "lost_pupil_minutes": lost}, DETAILS, iv, tr, state=s))
    assert card.startswith("≈ ") and card[2:] in text, (card, text)
    # ± 250,000 for the whole state supports hundreds of thousands; three significant
    # figures (the rule for a figure without an interval) would say 9,140,000
    assert "9,100,000" in text and "9,140,000" not in text
