"""``dlsim validate | run | report``: one scenario, its run directory and its report."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sim.cli.common import (
    ConfigArg,
    LangOpt,
    PdfOpt,
    PngOpt,
    SetOpt,
    _bad_input,
    _check_lang,
    _decided,
    _fail,
    _need_chromium,
    _u,
    app,
    err,
    out,
)
from sim.config import MAX_SEED, ConfigError, load_scenario
from sim.model.messages import N_
from sim.runs.rundir import RunDirError, check_run_dir


@app.command()
def validate(config: ConfigArg, set_: SetOpt = None) -> None:
    """Check a scenario file and its data files.

    Exit 2 with one line per problem."""
    sc = _loaded(config, set_ or [])
    out.print(f"{_u(config)}: ok ({_u(sc.name)}, config hash {sc.config_hash()})")


@app.command()
def run(
    config: ConfigArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("out/run"),
    seed: Annotated[int, typer.Option(help="Root seed of the run.", min=0, max=MAX_SEED)] = 1,
    replications: Annotated[
        int, typer.Option(help="Independent replications.", min=1, max=10_000)
    ] = 1,
    set_: SetOpt = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip report.html.")] = False,
    png: PngOpt = None,
    pdf: PdfOpt = None,
    lang: LangOpt = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace the results of another scenario in --out."),
    ] = False,
) -> None:
    """Simulate a scenario and write its results.

    Writes summary.json, timeseries.parquet, schools.parquet and report.html.

    --out must be new, empty, or hold results of the same scenario (same config
    hash): results of another scenario are never silently replaced (--force).
    """
    sc = _loaded(config, set_ or [])
    lang = _check_lang(lang) or sc.report.lang
    from sim.report.i18n import Tr

    tr = Tr(lang)
    if png is not None:
        _need_chromium()  # before simulating, not after
    if pdf is not None:
        _need_browser("--pdf")
    try:
        created = check_run_dir(out_dir, sc.config_hash(), force)
    except RunDirError as exc:
        raise _fail(str(exc)) from None
    t0 = time.perf_counter()
    try:
        res = _simulate(sc, seed, replications, tr)
    except ConfigError as exc:
        _remove_if_empty(out_dir, created)
        raise _bad_input(exc) from None
    except BaseException:
        _remove_if_empty(out_dir, created)
        raise
    sim_s = time.perf_counter() - t0
    paths = _save(res, out_dir, created, not no_report, lang)
    data = res.to_run_data(source=str(out_dir.resolve()))  # saved there (--pdf's provenance)
    with _decided():  # the run is saved: Ctrl-C no longer undoes it
        _print_summary(data, sim_s, tr)  # its second line states the scale (population_line)
        for name, p in paths.items():
            if name != "report":  # printed once, below, as the line to click
                out.print(f"{tr(_FILES.get(name, name)):>14}: {p}", markup=False,
                          soft_wrap=True)
    _export(data, png, pdf, lang)
    if "report" in paths:
        word = _u(tr("Report"))  # (a message inside an f-string is not extracted)
        out.print(f"\n{word}: [bold]{_u(paths['report'].resolve())}[/bold]", soft_wrap=True)


def _loaded(config: Path, sets: list[str]) -> Any:
    """The scenario and its data files, checked (exit 2 with one line per problem)."""
    try:
        sc = load_scenario(config, sets)
        from sim.model.population import load_marginals

        load_marginals(sc)
    except ConfigError as exc:
        raise _bad_input(exc) from None
    return sc


def _simulate(sc: Any, seed: int, replications: int, tr: Any) -> Any:
    """Simulate the replications, with a progress bar on a terminal."""
    from sim import simulate

    if not (err.is_terminal and not os.environ.get("CI")):
        return simulate(sc, seed=seed, replications=replications)
    # the scenario's name on a line of its own (cut to the terminal's width), so the
    # bar keeps its full width at 80 columns
    err.print(tr("Simulating: {name}", name=sc.name), markup=False, no_wrap=True,
              overflow="ellipsis")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=30),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        what = tr.ngettext("one replication", "{n} replications", replications,
                           n=replications)
        task = bar.add_task(_u(what), total=1.0)  # a description is markup
        return simulate(
            sc,
            seed=seed,
            replications=replications,
            progress=lambda f: bar.update(task, completed=f),
        )


def _save(res: Any, out_dir: Path, created: bool, report: bool, lang: str | None) -> Any:
    """Write the run's files into --out (all or nothing); the paths written by name."""
    try:
        return res.save(out_dir, report=report, lang=lang)
    except OSError as exc:
        _remove_if_empty(out_dir, created)
        raise _fail(
            f"--out {out_dir}: cannot write the results ({exc.strerror or exc}); nothing was "
            "changed there (files are written to temporaries and moved into place together)",
            code=1,
        ) from None
    except BaseException:  # Ctrl-C while saving: a directory this run made goes again
        if created:  # (made by this process, which holds its lock: all in it is ours)
            shutil.rmtree(out_dir, ignore_errors=True)
        raise


def _export(data: Any, png: Path | None, pdf: Path | None, lang: str | None) -> None:
    """--png and --pdf: the figures as PNG files and the one-page PDF."""
    if png is not None:
        from sim.report import export_png, run_figures

        for p in export_png(run_figures(data, lang), png):
            out.print(f"{'png':>10}: {p}", markup=False, soft_wrap=True)
    if pdf is not None:
        from sim.report import PdfExportFailed, write_pdf

        try:
            out.print(f"{'pdf':>10}: {write_pdf(data, pdf, lang)}", markup=False,
                      soft_wrap=True)
        except (OSError, PdfExportFailed) as exc:
            raise _fail(f"--pdf {pdf}: {exc}", code=1) from None


@app.command()
def report(
    directory: Annotated[
        Path,
        typer.Argument(help="A run, sweep, comparison, optimise or explain directory.",
                       show_default=False),
    ],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="HTML file (default: DIR/report.html).")
    ] = None,
    png: PngOpt = None,
    pdf: PdfOpt = None,
    lang: LangOpt = None,
) -> None:
    """Write the report of a results directory again.

    The HTML report of a run, sweep, comparison, optimise or explain directory, from what
    it stored (no re-simulation): e.g. in another language (--lang)."""
    from sim.decide.directory import report_directory
    from sim.report import PdfExportFailed
    from sim.report.i18n import Tr

    lang = _check_lang(lang)
    if out_file is not None and out_file.is_dir():
        raise _fail(f"--out {out_file}: is a directory; name the HTML file to write, e.g. "
                    f"{out_file / 'report.html'}")
    if png is not None:
        _need_chromium()
    if pdf is not None:
        _need_browser("--pdf")
    try:
        kind, html_path, pngs = report_directory(directory, out_file, png, lang=lang, pdf=pdf)
    except PdfExportFailed as exc:
        raise _fail(f"--pdf {pdf}: {exc}", code=1) from None
    except RunDirError as exc:  # includes the report's ReportInputError
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"--out {out_file or directory}: cannot write the report "
                    f"({exc.strerror or exc})", code=1) from None
    for p in pngs:  # the PNGs and the PDF
        out.print(f"{p.suffix[1:]:>10}: {p}", markup=False, soft_wrap=True)
    what = _u(Tr(lang)(_REPORTS.get(kind, N_("report"))))
    out.print(f"{what}: [bold]{_u(html_path.resolve())}[/bold]", soft_wrap=True)


def _remove_if_empty(out_dir: Path, created: bool) -> None:
    """Remove the --out directory this run created if nothing was written into it."""
    if created:
        with contextlib.suppress(OSError):
            out_dir.rmdir()


def _need_browser(option: str) -> None:
    """Exit 2 with one line if there is no Chromium for ``option`` (before simulating)."""
    from sim.report import ChromiumNotFound, find_chromium

    try:
        find_chromium()
    except ChromiumNotFound as exc:
        raise _fail(f"{option}: {exc}") from None


# the files of a run directory and the kinds of report, as the terminal names them
_FILES = {"summary": N_("summary"), "timeseries": N_("time series"), "schools": N_("schools")}
_REPORTS = {"run": N_("run report"), "sweep": N_("sweep report"),
            "comparison": N_("comparison report"), "optimise": N_("optimise report"),
            "explain": N_("explain report")}


def _print_summary(data: Any, sim_s: float, tr: Any) -> None:
    """The key figures as a table in the report's language; intervals when meaningful."""
    from sim.model.metrics import KPI_NAMES
    from sim.report.layout import fmt_mean, interval_range
    from sim.report.state import (
        interval_whole,
        kpi_name,
        kpi_text,
        miniature_note,
        run_factor,
        unit_note,
    )

    # the name on a line of its own, cut to the terminal (a title never wraps); what was
    # simulated below it, wrapped at words. Both are user text: printed without markup.
    out.print(tr.text(data.name), markup=False, no_wrap=True, overflow="ellipsis",
              style="bold")
    out.print(tr("Simulated in {s}. {what}", s=tr.seconds(sim_s, 1), what=data_line(data, tr)),
              markup=False, style="dim")
    s = run_factor(data)  # a miniature's counts as the whole state's (sim.report.state)
    t = Table(show_lines=False)
    t.add_column(tr("key figure"), overflow="fold")
    t.add_column(tr("value"), justify="right", no_wrap=True)
    if data.replications > 1:
        t.add_column(tr("95 % confidence interval"), justify="right", overflow="fold")
    if s is not None:
        t.add_column(tr("simulated miniature"), justify="right", no_wrap=True, style="dim")
    for k in KPI_NAMES:
        if k not in data.kpis:
            continue
        v = data.kpis[k]
        raw = data.interval(k) if data.replications > 1 else None
        row = [kpi_name(k, s, tr), kpi_text(k, v, s, tr, raw)]
        if data.replications > 1:
            iv = interval_whole(k, raw, s)
            row.append(interval_range(k, iv, tr) if iv is not None and iv.meaningful
                       else tr("too few replications"))
        if s is not None:
            row.append(miniature_note(k, v, s, tr, raw) and fmt_mean(k, v, raw, tr))
        t.add_row(*(_u(c) for c in row))  # table cells are markup
    out.print(t)
    if s is not None:
        out.print(unit_note(s, tr), markup=False, style="dim")


def data_line(data: Any, tr: Any) -> str:
    from sim.report.run_report import population_line

    return population_line(data, tr)
