"""Run times are measured once (benchmarks/README.md, "Run times quoted elsewhere") and the
pages that quote them say the same: no page of its own figure ("about 20 seconds" beside a
benchmark of 26 s and a notebook's "a few minutes")."""

from __future__ import annotations

import re

from tests.conftest import REPO

PAGES = [REPO / "README.md", REPO / "docs" / "tutorial" / "quickstart.md",
         REPO / "notebooks" / "README.md", *sorted((REPO / "notebooks").glob("[0-9]*.py"))]
# a duration in words or figures, as a run time ("20 seconds", "3 s per run", "a few minutes
# per run", "under a minute each")
DURATION = re.compile(r"\b(\d+(\.\d+)?\s*(seconds?|s|minutes?|min)\b(?! apart)(\s+(per|on|each))"
                      r"|\d+\s+seconds\b|(a few|under a) (seconds?|minutes?)\b(?! apart)"
                      r"|\b(seconds|minutes) per run\b)")
QUOTED = ("about half a second", "about half a minute")


def test_pages_quote_the_measured_run_times_only() -> None:
    bench = (REPO / "benchmarks" / "README.md").read_text(encoding="utf-8")
    assert 'id="run-times-quoted"' in bench and all(q in bench for q in QUOTED)
    for page in PAGES:
        text = page.read_text(encoding="utf-8").replace("\n# ", " ").replace("\n", " ")
        own = [m.group(0) for m in DURATION.finditer(text)]
        assert not own, f"{page.name} quotes a run time of its own: {own}"
    readme = (REPO / "README.md").read_text(encoding="utf-8").replace("\n", " ")
    assert "about half a minute of computing" in readme
