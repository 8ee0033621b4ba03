"""Self-contained HTML reports (plotly inline, works offline, one file; user text escaped).

- :func:`render_report` / :func:`write_report` — one scenario (plain :class:`RunData`, from
  ``Results.to_run_data()`` or a run directory read back with :func:`load_run_dir`);
- :func:`render_briefing` / :func:`write_pdf` — the one-page briefing (PDF via Chromium);
- :func:`render_comparison` — two scenarios side by side with paired differences;
- :func:`render_sweep` — KPI vs parameter with CI bands and the sizing answer;
- :func:`report_directory` — whichever fits a run, sweep, comparison or explain directory
  (``dlsim report DIR``; an optimise directory's page is :mod:`sim.decide.directory`'s);
- :func:`export_png` — the figures as PNG files (kaleido with the system's Chromium).

Every function takes ``lang`` ("de" or "en"; default: the scenario's ``report.lang``, else
English). The package never imports the simulation's ``Results``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from sim.report.comparison_report import (
    comparison_figures,
    normalise_diffs,
    render_comparison,
    resolve_diffs,
)
from sim.report.data import (
    ATTRIBUTION_JSON,
    ReportInputError,
    RunData,
    as_run_data,
    load_comparison_dir,
    load_run_dir,
    report_kind,
)
from sim.report.i18n import LANGS, Tr, check_lang
from sim.report.layout import KPI_LABELS, SERVICE_TARGET, Target, fmt_kpi, meets, target_text
from sim.report.pdf import PdfExportFailed, html_to_pdf
from sim.report.png import (
    ChromiumNotFound,
    PngExportUnavailable,
    check_png_export,
    export_png,
    find_chromium,
)
from sim.report.run_report import render_briefing, render_report, run_figures
from sim.report.sweep_report import (
    SweepData,
    kpi_vs_param,
    load_sweep_dir,
    point_stats,
    render_sweep,
    sizing_answer,
    x_param,
)
from sim.runs.io import write_text

_fmt = fmt_kpi  # the CLI's KPI table uses the report's formatting

__all__ = [
    "KPI_LABELS",
    "LANGS",
    "SERVICE_TARGET",
    "ChromiumNotFound",
    "PdfExportFailed",
    "PngExportUnavailable",
    "ReportInputError",
    "RunData",
    "SweepData",
    "Target",
    "Tr",
    "as_run_data",
    "check_lang",
    "check_png_export",
    "comparison_figures",
    "export_png",
    "find_chromium",
    "fmt_kpi",
    "html_to_pdf",
    "kpi_vs_param",
    "load_comparison_dir",
    "load_run_dir",
    "load_sweep_dir",
    "meets",
    "normalise_diffs",
    "point_stats",
    "render_briefing",
    "render_comparison",
    "render_report",
    "render_sweep",
    "report_directory",
    "resolve_diffs",
    "run_figures",
    "sizing_answer",
    "target_text",
    "write_pdf",
    "write_report",
    "x_param",
]


def write_report(results: Any, path: str | Path, lang: str | None = None) -> Path:
    """Write the report of one scenario to ``path`` (atomically)."""
    return write_text(path, render_report(results, lang=lang))


def write_pdf(results: Any, path: str | Path, lang: str | None = None) -> Path:
    """Write the one-page briefing of one scenario as PDF (headless Chromium)."""
    return html_to_pdf(render_briefing(results, lang=lang), path)


def report_directory(
    path: str | Path,
    out: str | Path | None = None,
    png_dir: str | Path | None = None,
    lang: str | None = None,
    pdf: str | Path | None = None,
) -> tuple[str, Path, list[Path]]:
    """Report on a run, sweep or comparison directory without re-simulating.

    Returns (kind, path of the HTML file, PNG and PDF files written). ``png_dir`` is checked
    for a browser before anything is written; ``pdf`` (runs only) is the briefing's path.
    """
    p = Path(path)
    kind = report_kind(p)
    if png_dir is not None:
        check_png_export()
    if pdf is not None and kind != "run":
        raise ReportInputError(f"{p}: --pdf is available for the report of one run, not a {kind}")
    figs: dict[str, go.Figure]
    extra: list[Path] = []
    if kind == "run":
        data = load_run_dir(p)
        html, figs = render_report(data, lang), run_figures(data, lang)
        if pdf is not None:
            extra.append(write_pdf(data, pdf, lang))
    elif kind == "sweep":
        sweep = load_sweep_dir(p)
        html = render_sweep(sweep, lang=lang)
        tr = Tr(lang or sweep.lang)
        figs = {"kpi_vs_param": kpi_vs_param(point_stats(sweep), x_param(sweep), tr=tr)}
    elif kind == "explain":
        return kind, _explain_page(p, out, lang), []
    elif kind == "optimise":  # its page is the decision layer's (sim.decide.directory)
        raise ReportInputError(f"{p}: an optimise directory; its page is written by "
                               "sim.decide.directory.report_directory (dlsim report)")
    else:
        a, b, given = load_comparison_dir(p)
        html = render_comparison(a, b, given, lang=lang)
        tr = Tr(lang or b.lang or a.lang)
        figs = comparison_figures(a, b, resolve_diffs(a, b, given, tr)[0], (a.name, b.name), tr)
    html_path = write_text(Path(out) if out else p / "report.html", html)
    pngs = export_png(figs, png_dir) if png_dir is not None else []
    return kind, html_path, pngs + extra


def _explain_page(p: Path, out: str | Path | None, lang: str | None) -> Path:
    """``DIR/explain.html`` (or ``out``) from ``DIR/attribution.json``, in ``lang``."""
    from sim.config import ConfigError, scenario_from_dict
    from sim.report.attribution_report import render_attribution
    from sim.runs.rundir import read_json_object

    src = p / ATTRIBUTION_JSON
    att = read_json_object(src)
    scenario = None
    if isinstance(att.get("config"), dict):
        try:
            scenario = scenario_from_dict(att["config"], source=f"{src} config")
        except ConfigError:  # a configuration that no longer validates: default labels
            scenario = None
    try:
        html = render_attribution(att, scenario, lang)
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportInputError(f"{src}: not the attribution dlsim explain writes "
                               f"({exc.__class__.__name__}: {exc})") from None
    return write_text(Path(out) if out else p / "explain.html", html)
