"""``dlsim explain``'s words and page (issue 25, point 6): "the causes act nearly
independently" only when the rows agree as well as the sum; the page in both languages."""

from __future__ import annotations

from typing import Any

import pytest

from sim.experiments.attribution import additivity
from sim.report.attribution_report import additivity_words, render_attribution
from sim.report.i18n import Tr


def _att(rows: dict[str, tuple[float, float, float, float]]) -> dict[str, Any]:
    """cause → (direct, recovered mean, lo, hi); the total is the sum of the direct."""
    causes = {c: {"direct": d, "direct_share": 0.0, "recovered_mean": m, "recovered_lo": lo,
                  "recovered_hi": hi, "recovered_ci95": (hi - lo) / 2, "n": 3, "removal": "x"}
              for c, (d, m, lo, hi) in rows.items()}
    total = sum(v[0] for v in rows.values())
    att = {"lost_pupil_minutes": total, "replications": 3, "seeds": [1, 2, 3],
           "scenario": "test", "config_hash": "abc", "causes": causes,
           "recovered_sum": sum(v[1] for v in rows.values())}
    att["interaction"] = att["recovered_sum"] - total
    att["additivity"] = additivity(att)
    return att


def test_a_sum_that_agrees_with_rows_that_do_not_is_not_independence() -> None:
    # 1,000 lost; the dispatcher is charged 600 but its removal recovers 900, the servers
    # 400 but recover 100: the sum matches, the rows do not
    att = _att({"dispatcher": (600.0, 900.0, 850.0, 950.0),
                "school_server:outdated": (400.0, 100.0, 60.0, 140.0)})
    assert att["additivity"]["verdict"] == "offsetting"
    assert set(att["additivity"]["disagreeing"]) == {"dispatcher", "school_server:outdated"}
    words = additivity_words(att)
    assert "independently" not in words and "not row by row" in words


def test_rows_and_sum_agreeing_is_independence() -> None:
    att = _att({"dispatcher": (600.0, 610.0, 560.0, 660.0),
                "school_server:outdated": (400.0, 395.0, 350.0, 440.0)})
    assert att["additivity"] == {"verdict": "independent", "disagreeing": [],
                                 "sum_tolerance": 0.05, "row_tolerance": 0.05}
    assert "nearly independently" in additivity_words(att)


@pytest.mark.parametrize("lang", ["en", "de"])
def test_explain_page_in_both_languages(lang: str) -> None:
    att = _att({"dispatcher": (600.0, 900.0, 850.0, 950.0),
                "moderator_late": (10.0, 0.0, 0.0, 0.0)})
    att["causes"]["moderator_late"].update(recovered_mean=None, recovered_lo=None,
                                           recovered_hi=None, removal=None)
    page = render_attribution(att, lang=lang)
    assert f'<html lang="{lang}">' in page
    assert ("Zurückgewonnen" if lang == "de" else "Recovered, summed") in page
    tr = Tr(lang)
    additivity_words(att, tr)
    assert not tr.missing
