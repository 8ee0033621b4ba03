"""The list of sources on a page (sim.report.sources): one rule turns SOURCES.md's code
spans into words and leaves everything else as written (second new-user pass, issue 25:
"welt.de" read as a setting → "De", "e.g." → "G.", the value `none` shown as "no school
server", "Memory mb Memory mb")."""

from __future__ import annotations

import re

from sim.report.assumptions import sources_appendix
from sim.report.i18n import Tr
from sim.report.sources import clean, code_words, is_setting, source_rows


def _text(markup: str) -> str:
    return re.sub(r"<[^>]+>", "", str(markup))


def test_text_outside_code_marks_stays_as_written() -> None:
    for text in ("domain-facts §Incidents: NDR; welt.de dpa/lni 224164558",
                 "≈150 (e.g. 3 × 50 or 6 × 25)", "schulen-hannover.de since Apr 2020",
                 "school_types.pupils (grundschule)"):
        assert _text(clean(text)) == text


def test_a_code_span_is_a_setting_a_name_or_kept() -> None:
    assert _text(clean("`none` (every node 1)")) == "none (every node 1)"
    assert "<code>none</code>" in clean("`none` (every node 1)")
    assert code_words("none") is None and code_words("by_size") is None  # values: as written
    assert code_words("POLL_INTERVAL") is None and code_words("sim/runs/power.py") is None
    assert code_words("hannover_stadt") == "Hannover (city)"
    assert code_words("iserv") == "IServ"
    assert code_words("assignment.platform_shares") == "Platform shares"
    assert code_words("jitter.*") == "Jitter" and code_words("behaviour.backoff_*") == "Backoff"
    assert not is_setting("welt.de") and not is_setting("e.g")
    assert is_setting("platforms[*].dispatcher.poll_interval_s")
    assert is_setting("clusters[*].heterogeneity_cv") and is_setting(".response_share")


def test_every_cited_row_reads_without_garbles() -> None:
    rows = source_rows()
    page = _text(sources_appendix(list(rows), Tr("en")))
    assert "welt.de dpa/lni" in page and "e.g. 3 × 50" in page
    assert " De " not in page and "G. 3" not in page
    assert "no school server" not in page  # the load multiplier's value `none`
    # a wildcard or a unit suffix never doubles a label or becomes "*"
    a81 = _text(clean(rows["A81"]["what"]))
    first, second = (p.strip() for p in a81.split(",", 1))
    assert first != second and "Memory mb" not in a81, a81
    assert _text(clean(rows["A35"]["what"])) != "*"
    assert "Frontend (*)" not in page and "Backoff *" not in page
