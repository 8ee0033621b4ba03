"""The report's contract: escaping, self-containment, reading run directories back,
sources, comparison differences, sweep sizing, and the browser lookup for PNG export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sim import Results, simulate
from sim.report import (
    ChromiumNotFound,
    ReportInputError,
    SweepData,
    find_chromium,
    load_run_dir,
    normalise_diffs,
    point_stats,
    render_comparison,
    render_report,
    render_sweep,
    report_directory,
    report_kind,
    sizing_answer,
)
from sim.report.assumptions import assumptions, source_rows
from sim.runs.io import write_parquet
from tests.conftest import small_scenario, synthetic_sweep_results

EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(scope="module")
def evil() -> Results:
    sc = small_scenario(0.02, [f"name={EVIL}", f"description=Planned by {EVIL} & co",
                               "day.end=10:00"])
    return simulate(sc, seed=2, replications=2)


@pytest.fixture(scope="module")
def plain_run() -> Results:
    return simulate(small_scenario(0.02, ["day.end=10:00"]), seed=2, replications=2)


def _assert_escaped(html: str) -> None:
    assert EVIL not in html
    assert ESCAPED in html
    assert "<script>alert" not in html.lower()


@pytest.mark.reliability
def test_user_text_is_escaped(evil: Results) -> None:
    """A scenario named `<script>alert(1)</script>`: the report escapes it."""
    html = render_report(evil)
    _assert_escaped(html)
    assert "Planned by &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html


@pytest.mark.reliability
def test_user_text_is_escaped_everywhere(evil: Results, plain_run: Results,
                                         tmp_path: Path) -> None:
    """User text (names, descriptions, fault labels) is escaped in every kind of report: run,
    comparison and sweep."""
    _assert_escaped(render_comparison(plain_run, evil))
    evil.save(tmp_path / "run")
    _assert_escaped((tmp_path / "run" / "report.html").read_text(encoding="utf-8"))
    _assert_escaped(render_report(load_run_dir(tmp_path / "run")))
    sweep = tmp_path / "sweep"
    write_parquet(sweep / "results.parquet", synthetic_sweep_results())
    (sweep / "sweep.json").write_text(json.dumps({"name": EVIL, "description": EVIL}))
    _, path, _ = report_directory(sweep)
    html = path.read_text(encoding="utf-8")
    _assert_escaped(html)
    assert "RuntimeError: &lt;b&gt;boom&lt;/b&gt;" in html  # error text from the data, too


def test_self_contained(plain_run: Results) -> None:
    from plotly.offline import get_plotlyjs

    html = render_report(plain_run)
    bundle = get_plotlyjs()
    assert html.count(bundle) == 1, "plotly.js must be inlined exactly once"
    ours = html.replace(bundle, "")  # (plotly.js itself names a CDN for map data)
    for external in ('src="http', "src='http", "<link", "cdn.plot.ly", "@import"):
        assert external not in ours, external
    for section in ("Key figures", "Participants vs capacity", "retry wave", "Time to join",
                    "Breakdown by school type, region and platform", "Schools affected",
                    "Scenario and assumptions", "Sources", "Provenance", "configuration hash",
                    "Only 2 replications: too few for a meaningful 95 % confidence interval"):
        assert section in html, section


def test_run_dir_round_trip(plain_run: Results, tmp_path: Path) -> None:
    """A run directory alone rebuilds the report: KPIs, settings and provenance."""
    plain_run.save(tmp_path, report=False)
    data = load_run_dir(tmp_path)
    assert data.scenario is not None and data.notes == []
    assert data.scenario.config_hash() == plain_run.scenario.config_hash()
    assert data.kpis == plain_run.summary["kpis"]
    assert data.replications == 2 and {"lo", "hi"} <= set(data.timeseries.columns)
    html = render_report(data)
    assert plain_run.summary["provenance"]["config_hash"] in html
    assert "set in this scenario" in html  # the scale differs from the documented default


def test_old_run_dir_without_config(plain_run: Results, tmp_path: Path) -> None:
    plain_run.save(tmp_path, report=False)
    s = json.loads((tmp_path / "summary.json").read_text())
    del s["config"]
    s["provenance"].pop("config_file", None)
    (tmp_path / "summary.json").write_text(json.dumps(s))
    data = load_run_dir(tmp_path)
    assert data.scenario is None and any("not recorded" in n for n in data.notes)
    assert "not recorded" in render_report(data)
    assert "Konfiguration des Laufs wurde nicht gespeichert" in render_report(data, lang="de")


def test_report_kind_and_bad_input(plain_run: Results, tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="no such directory"):
        report_kind(tmp_path / "missing")
    with pytest.raises(ReportInputError, match="neither a run directory"):
        report_kind(tmp_path)
    (tmp_path / "f").write_text("x")
    with pytest.raises(ReportInputError, match="not a directory"):
        report_kind(tmp_path / "f")
    (tmp_path / "summary.json").write_text("{not json")
    with pytest.raises(ReportInputError, match=r"summary\.json"):
        load_run_dir(tmp_path)
    (tmp_path / "summary.json").write_text(json.dumps({"kpis": {}}))
    with pytest.raises(ReportInputError, match=r"timeseries\.parquet: missing"):
        load_run_dir(tmp_path)
    plain_run.save(tmp_path / "a", report=False)
    plain_run.save(tmp_path / "b", report=False)
    (tmp_path / "summary.json").unlink()
    assert report_kind(tmp_path) == "comparison"


def test_every_assumption_cites_known_sources(plain_run: Results) -> None:
    rows = source_rows()
    assert {"S60", "A31", "A46"} <= set(rows)
    items = assumptions(plain_run.scenario)
    assert len(items) >= 12
    for a in items:
        assert a.ids, a.topic
        assert all(i in rows for i in a.ids), (a.topic, a.ids)
    html = render_report(plain_run)
    assert 'href="#src-A31"' in html and 'id="src-A31"' in html
    assert 'id="src-S62"' in html  # an S row that a cited A row rests on


def test_fault_windows_are_shown() -> None:
    fault = ("faults=[{kind: dispatcher_failure, label: dispatcher down, platform: iserv, "
             "start: '08:00', end: '08:30'}]")
    res = simulate(small_scenario(0.02, ["day.end=09:00", fault]), seed=1)
    html = render_report(res)
    assert "dispatcher down" in html  # shaded in the charts, listed in the assumptions
    assert "S52" in html and "S55" in html


def test_comparison_paired_differences(plain_run: Results) -> None:
    worse = simulate(small_scenario(0.02, ["day.end=10:00"], capacity_factor=0.4), seed=2,
                     replications=2)
    html = render_comparison(plain_run, worse)
    assert "paired over 2 replications on common random numbers" in html
    assert "B − A" in html and "IServ conference nodes" in html  # settings diff, in words
    assert "platforms[0]" not in html
    # issue 25, point 7: the verdict on the headline figures, causes and costs side by side
    # (a miniature at scale 0.02: its counts as the whole state's, issue 25 second pass)
    assert "Lost pupil-minutes, whole state: " in html and ("detectable" in html)
    assert "Verdict: " in html  # the comparison in one line, at the top
    assert 'id="causes-costs"' in html and "conference nodes rented (per day)" in html


def test_normalise_diffs_accepts_the_usual_shapes() -> None:
    d = normalise_diffs({
        "a": {"mean": 1.0, "ci95": 0.5}, "b": {"diff": -2, "half_width": 1},
        "c": {"lo": 1.0, "hi": 3.0}, "d": (4.0, 0.1), "e": 5, "f": {"ci": [0, 2]},
        "g": None, "h": {"mean": float("nan")},
    })
    assert d["a"] == (1.0, 0.5) and d["b"] == (-2.0, 1.0) and d["c"] == (2.0, 1.0)
    assert d["d"] == (4.0, 0.1) and d["e"] == (5.0, None) and d["f"] == (1.0, 1.0)
    assert d["g"] == (None, None) and d["h"] == (None, None)


def test_sweep_statistics_and_sizing() -> None:
    data = SweepData(synthetic_sweep_results(reps=3))
    assert len(data.failed) == 1 and len(data.ok) == 30
    stats = point_stats(data)
    assert len(stats) == 10 and (stats["n"] == 3).all()
    nodes = "param:platforms[0].clusters[0].nodes"
    ans = {label: best for label, best, _ in sizing_answer(stats, nodes)}
    assert ans == {"policies.stagger.school_number_slots=1": 8,
                   "policies.stagger.school_number_slots=3": 6}
    strict = (("blocking_probability", "<=", 1e-9),)
    assert all(best is None for _, best, _ in sizing_answer(stats, nodes, strict))
    html = render_sweep(data)
    assert "Sizing answer" in html and "Failed runs" in html
    assert np.isfinite(stats["join_success_rate:ci95"]).all()


def test_find_chromium_honours_and_checks_the_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLSIM_CHROMIUM", str(tmp_path / "nope"))
    with pytest.raises(ChromiumNotFound, match="DLSIM_CHROMIUM"):
        find_chromium()
    exe = tmp_path / "chromium"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv("DLSIM_CHROMIUM", str(exe))
    assert find_chromium() == str(exe)
    monkeypatch.delenv("DLSIM_CHROMIUM")
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    monkeypatch.setattr("sim.report.png.DEBIAN_CHROMIUM", str(tmp_path / "missing"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ChromiumNotFound, match="apt-get install chromium"):
        find_chromium()


def test_png_export_needs_kaleido(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from sim.report import PngExportUnavailable, check_png_export

    monkeypatch.setitem(sys.modules, "kaleido", None)  # as if not installed
    with pytest.raises(PngExportUnavailable, match=r"dlsim\[report\]"):
        check_png_export()


def test_saved_report_says_where_the_run_is(plain_run: Results, tmp_path: Path) -> None:
    """A report written by ``Results.save`` names its directory in the provenance, never
    "memory" (issue 25, second pass); one rendered from memory says so."""
    plain_run.save(tmp_path / "run")
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert str((tmp_path / "run").resolve()) in html
    assert "not saved to a directory" not in html
    assert "not saved to a directory" in render_report(plain_run)


def test_every_table_of_a_miniature_gives_whole_state_counts(plain_run: Results) -> None:
    """Issue 25, second new-user pass: outside the headline cards the miniature's counts were
    unlabelled — the key-figures table, the breakdowns, the causes, the charts' axes. Every
    count is the whole state's (× 1/scale), labelled so, the miniature's in small print;
    shares stay as they are."""
    import re

    from sim.report.i18n import Tr
    from sim.report.layout import estimate
    from sim.report.run_report import breakdown_table, kpi_table, run_figures
    from sim.report.state import run_factor

    d = plain_run.to_run_data()
    s = run_factor(d)
    assert s == pytest.approx(0.02)
    t = str(kpi_table(d, Tr("en")))
    lost = d.kpis["lost_pupil_minutes"]
    assert "Lost pupil-minutes, whole state" in t
    assert f"≈\u202f{estimate(lost / s)}" in t  # the whole state's estimate …
    assert f"simulated miniature: {lost:,.0f}" in t  # … and the miniature's, small
    assert f"{100 * d.kpis['join_success_rate']:.2f}\u202f%" in t  # a share as it is
    assert "Pupil-meetings that got in, whole state" not in t
    by_type = str(breakdown_table(d.schools, "school_type", Tr("en"), d.scenario, s))
    cells = [float(c.replace("≈\u202f", "").replace(",", ""))
             for c in re.findall(r"<td[^>]*>(≈[^<]*)</td>", by_type)]
    assert cells  # counts shown as whole-state estimates
    page = render_report(plain_run)
    assert "lost pupil-minutes charged, whole state" in page  # the causes table
    axis = run_figures(d)["capacity"].layout.yaxis.title.text
    assert "× 50 for the whole state" in axis
