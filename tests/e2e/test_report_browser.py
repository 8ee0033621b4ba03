"""The reports as a reader sees them: rendered in headless Chromium, offline.

Every figure must have been drawn by plotly (an SVG inside each figure), and the page must
raise no errors. Without Chromium these tests skip on a developer machine and fail in CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.browser import render

# figures each report must draw (the run report's optional ones exist for these fixtures)
EXPECTED = {
    "run": {"capacity", "retry_wave", "time_to_join", "front_ends", "breakdown",
            "affected_schools"},
    "comparison": {"paired_differences", "comparison_timeline", "time_to_join"},
    "sweep": {"kpi_vs_param"},
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_report_draws_in_chromium(kind: str, report_dirs: dict[str, Path]) -> None:
    page = report_dirs[kind] / "report.html"
    html = page.read_text(encoding="utf-8")
    names = {n for n in EXPECTED[kind] if f'data-figure="{n}"' in html}
    assert names == EXPECTED[kind], f"figures missing from the page: {EXPECTED[kind] - names}"

    probe = render(page)

    assert probe["errors"] == [], probe["errors"]
    assert probe["plotly"], "plotly.js did not load (it must be inlined: the page is offline)"
    assert probe["figures"] == len(EXPECTED[kind])
    assert probe["drawn"] == probe["figures"], f"not drawn: {probe['not_drawn']}"
    assert probe["plot_containers"] >= probe["figures"]
    assert probe["main_svg"] >= probe["figures"]
    assert probe["traces"] >= 2 * probe["figures"]


def test_page_errors_are_caught(tmp_path: Path) -> None:
    """The probe itself: a page with a failing script and an undrawn figure is reported."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><head><title>t</title></head><body>"
                    '<div class=figure data-figure="x"></div>'
                    "<script>undefinedFunction()</script></body></html>")
    probe = render(page, budget_ms=2000)
    assert probe["figures"] == 1 and probe["drawn"] == 0 and probe["not_drawn"] == ["x"]
    assert any("undefinedFunction" in e for e in probe["errors"]), probe["errors"]
