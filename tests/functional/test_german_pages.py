"""A German page is German: no English from outside the catalogue (issue 25, point 4).

The catalogue tests (tests/unit/test_translations.py, tests/e2e/test_report_quality.py) find
every *message* in German; what they could not see was English that never was a message: the
shipped scenario's name, description, platform and fault labels, "read from in memory", notes
on earlier values copied from data/SOURCES.md, the list of sources itself (second pass: its
rows in our own words are messages now, its quoted sources marked as English). Here a
shipped scenario's run report and one-page briefing are rendered in German and their visible
text — the page outside scripts, the provenance (values to be copied) and the quoted
sources — and the charts' titles, legends and labels are searched for English words that
are not German ones.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim import load_scenario, simulate
from sim.report import Tr, render_report
from sim.report.run_report import render_briefing, run_figures
from sim.report.scenario_texts import SCENARIO_TEXTS

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
MONDAY = CONFIGS / "2021-01-11-monday-dispatcher-failure.yaml"
# English words that are not German words (nor names): one of them on a German page is English
ENGLISH = {
    "the", "and", "of", "with", "from", "which", "were", "would", "their", "this", "that",
    "they", "than", "into", "been", "have", "its", "memory", "pupils", "schools", "whole",
    "lost", "got", "did", "day", "fault", "ordinary", "outdated", "rush", "dispatcher",
    "servers", "fail", "failure", "setting", "rented", "central", "city", "centre", "every",
}


class _Visible(HTMLParser):
    """Text a reader sees: not scripts or styles, not the provenance (copied as it is), not
    code, not a folded <details> but its summary, not a source quoted as published (marked
    ``lang="en"``: only quoted sources may be, see ``test_only_quoted_sources_are_english``)."""

    SKIP = frozenset({"script", "style", "code"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "meta", "link", "img", "input", "hr"):
            return
        a = dict(attrs)
        hidden = (tag in self.SKIP or a.get("id") == "provenance"
                  or (tag == "details" and "open" not in a)
                  or a.get("lang") == "en")  # a source quoted as published
        if tag == "summary":  # a folded block's summary is seen
            hidden = False
        self.stack.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        in_summary = any(t == "summary" for t, _ in self.stack)
        hidden = any(h for t, h in self.stack if t != "details") or (
            any(t == "details" and h for t, h in self.stack) and not in_summary)
        if not hidden and data.strip():
            self.texts.append(data.strip())


def visible_text(page: str) -> list[str]:
    p = _Visible()
    p.feed(page)
    return p.texts


def _figure_texts(fig: Any) -> list[str]:
    d = fig.to_plotly_json()
    out = [str(t.get("name") or "") for t in d.get("data", [])]
    lay = d.get("layout", {})
    out += [str(a.get("text") or "") for a in lay.get("annotations", [])]
    for v in lay.values():
        if isinstance(v, dict) and isinstance(v.get("title"), dict):
            out.append(str(v["title"].get("text") or ""))
    if isinstance(lay.get("title"), dict):
        out.append(str(lay["title"].get("text") or ""))
    return [re.sub(r"<[^>]+>", " ", t) for t in out if t]


def english_words(texts: list[str]) -> list[str]:
    found = []
    for t in texts:
        if "http" in t:  # addresses hold anything
            continue
        for w in re.findall(r"[A-Za-z]+", t):
            if w in ENGLISH:
                found.append(f"{w!r} in {t[:140]!r}")
    return found


@pytest.fixture(scope="module")
def monday() -> Any:
    sc = load_scenario(MONDAY, ["population.scale=0.02", "day.end=10:30"])
    return simulate(sc, seed=1, replications=2)


def test_the_probe_sees_english() -> None:
    """The word list catches the English of today's German pages (and not German)."""
    assert english_words(["Mon 11 Jan 2021 — IServ dispatcher failure", "gelesen aus in memory"])
    assert not english_words(["Was wäre, wenn die Vermittlung ausfällt: 95 % der Schüler"])


def test_german_run_report_has_no_english(monday: Any) -> None:
    page = render_report(monday, lang="de")
    bad = english_words(visible_text(page))
    bad += english_words([t for f in run_figures(monday, "de").values()
                          for t in _figure_texts(f)])
    assert not bad, "\n".join(bad[:25])


def test_german_briefing_has_no_english(monday: Any) -> None:
    bad = english_words(visible_text(render_briefing(monday, lang="de")))
    assert not bad, "\n".join(bad[:25])


def _texts(node: Any, top: bool = True) -> list[str]:
    """A scenario file's own words: its name and description, every label."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, str) and (k == "label" or (top and k in ("name", "description"))):
                out.append(" ".join(v.split()))
            else:
                out += _texts(v, top=False)
    elif isinstance(node, list):
        for v in node:
            out += _texts(v, top=False)
    return out


SCENARIO_FILES = [*sorted(CONFIGS.glob("*.yaml")),
                  CONFIGS / "whatif" / "scenario-c-dispatcher-fault.yaml"]


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_shipped_scenarios_texts_are_in_german(path: Path) -> None:
    """Every shipped scenario's name, description and labels are in the catalogue and
    translated (a new or edited one must be added to sim/report/scenario_texts.py)."""
    de = Tr("de")
    for text in _texts(yaml.safe_load(path.read_text(encoding="utf-8"))):
        if text in ("Niedersächsische Bildungscloud",):  # a name, German already
            continue
        assert text in SCENARIO_TEXTS, f"{path.name}: {text!r} not in scenario_texts.py"
        assert de.text(text) != text, f"{path.name}: {text!r} has no German translation"


def test_only_quoted_sources_are_english(monday: Any) -> None:
    """What a German page marks as English is a quoted source in the sources table, no more;
    the table's own words (figures, values, reasoning) are German (second pass, issue 25)."""
    page = render_report(monday, lang="de")
    sources = page.split('id="sources"', 1)[1]
    assert page.count('lang="en"') == sources.count('lang="en"') > 0
    assert "Übernommen aus" not in page and "auf Englisch" not in page  # no longer folded
    text = " ".join(visible_text(sources))
    for english in ("Pupils, general education, total", "no figure found", "Scalelite polling",
                    "Mon 11 Jan 2021"):
        assert english not in text, english
    assert "Schüler an allgemeinbildenden Schulen, insgesamt" in text
    assert "keine Zahl gefunden" in text
