"""The report of any results directory (``dlsim report DIR``, ``sim.report_directory``): a
run, sweep, comparison or explain directory through :func:`sim.report.report_directory`, an
optimise directory from the whole result it stored (``optimum-record.json``) — each in the
language asked for, without simulating."""

from __future__ import annotations

from pathlib import Path

from sim.decide.optimum import RECORD, from_record
from sim.decide.optimum_page import front_figure, render
from sim.report import ReportInputError, Tr, check_png_export, export_png
from sim.report import report_directory as report_other
from sim.report.data import report_kind
from sim.runs.io import write_text
from sim.runs.rundir import read_json_object


def report_directory(
    path: str | Path,
    out: str | Path | None = None,
    png_dir: str | Path | None = None,
    lang: str | None = None,
    pdf: str | Path | None = None,
) -> tuple[str, Path, list[Path]]:
    """Write the report of the results directory ``path``; (kind, HTML file, PNG and PDF
    files written). :class:`ReportInputError` for a directory that cannot be reported on."""
    p = Path(path)
    if report_kind(p) != "optimise":
        return report_other(p, out, png_dir, lang=lang, pdf=pdf)
    if pdf is not None:
        raise ReportInputError(f"{p}: --pdf is available for the report of one run, not an "
                               "optimise directory")
    if png_dir is not None:
        check_png_export()
    src = p / RECORD
    if not src.is_file():
        raise ReportInputError(
            f"{src}: missing (an optimise directory written before the page could be rendered "
            "again); run the same dlsim optimise with this --out once more: its runs are "
            "stored, nothing is simulated again")
    try:
        res = from_record(read_json_object(src), source=str(src))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ReportInputError(f"{src}: not the record dlsim optimise writes "
                               f"({exc.__class__.__name__}: {exc})") from None
    lang = lang or getattr(getattr(res.scenario, "report", None), "lang", None)
    html_path = write_text(Path(out) if out else p / "report.html", render(res, lang))
    pngs = (export_png({"front": front_figure(res, Tr(lang))}, png_dir)
            if png_dir is not None else [])
    return "optimise", html_path, pngs
