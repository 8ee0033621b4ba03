"""``dlsim validate | run | report``: one scenario, its run directory and its report."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Annotated

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
    PngOpt,
    SetOpt,
    _bad_input,
    _fail,
    _need_chromium,
    _u,
    app,
    err,
    out,
)
from sim.config import MAX_SEED, ConfigError, load_scenario
from sim.rundir import RunDirError, check_run_dir


@app.command()
def validate(config: ConfigArg, set_: SetOpt = None) -> None:
    """Check a scenario file (and its data files); exit 2 with one line per problem."""
    try:
        sc = load_scenario(config, set_ or [])
        from sim.population import load_marginals

        load_marginals(sc)
    except ConfigError as exc:
        raise _bad_input(exc) from None
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
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace the results of another scenario in --out."),
    ] = False,
) -> None:
    """Simulate a scenario; write summary.json, timeseries.parquet and report.html.

    --out must be new, empty, or hold results of the same scenario (same config hash):
    results of another scenario are never silently replaced (--force replaces them).
    """
    from sim import simulate

    try:
        sc = load_scenario(config, set_ or [])
        from sim.population import load_marginals

        load_marginals(sc)
    except ConfigError as exc:
        raise _bad_input(exc) from None
    if png is not None:
        _need_chromium()  # before simulating, not after
    try:
        created = check_run_dir(out_dir, sc.config_hash(), force)
    except RunDirError as exc:
        raise _fail(str(exc)) from None
    t0 = time.perf_counter()
    show = err.is_terminal and not os.environ.get("CI")
    try:
        if show:
            with Progress(
                TextColumn("[bold]simulating[/bold] {task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>5.1f}%"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            ) as bar:
                task = bar.add_task(_u(sc.name), total=1.0)
                res = simulate(
                    sc,
                    seed=seed,
                    replications=replications,
                    progress=lambda f: bar.update(task, completed=f),
                )
        else:
            res = simulate(sc, seed=seed, replications=replications)
    except ConfigError as exc:
        _remove_if_empty(out_dir, created)
        raise _bad_input(exc) from None
    except BaseException:
        _remove_if_empty(out_dir, created)
        raise
    sim_s = time.perf_counter() - t0
    try:
        paths = res.save(out_dir, report=not no_report)
    except OSError as exc:
        _remove_if_empty(out_dir, created)
        raise _fail(
            f"--out {out_dir}: cannot write the results ({exc.strerror or exc}); nothing was "
            "changed there (files are written to temporaries and moved into place together)",
            code=1,
        ) from None
    _print_summary(res.summary, sim_s)
    for name, p in paths.items():
        out.print(f"{name:>10}: {_u(p)}")
    if png is not None:
        from sim.report import export_png, run_figures

        for p in export_png(run_figures(res), png):
            out.print(f"{'png':>10}: {_u(p)}")
    if "report" in paths:
        out.print(f"\nReport: [bold]{_u(paths['report'].resolve())}[/bold]")


@app.command()
def report(
    directory: Annotated[
        Path,
        typer.Argument(help="A run, sweep or comparison directory.", show_default=False),
    ],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="HTML file (default: DIR/report.html).")
    ] = None,
    png: PngOpt = None,
) -> None:
    """Write the HTML report of a run, sweep or comparison directory (no re-simulation)."""
    from sim.report import report_directory

    if out_file is not None and out_file.is_dir():
        raise _fail(f"--out {out_file}: is a directory; name the HTML file to write, e.g. "
                    f"{out_file / 'report.html'}")
    if png is not None:
        _need_chromium()
    try:
        kind, html_path, pngs = report_directory(directory, out_file, png)
    except RunDirError as exc:  # includes the report's ReportInputError
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"--out {out_file or directory}: cannot write the report "
                    f"({exc.strerror or exc})", code=1) from None
    for p in pngs:
        out.print(f"{'png':>10}: {_u(p)}")
    out.print(f"{kind} report: [bold]{_u(html_path.resolve())}[/bold]")


def _remove_if_empty(out_dir: Path, created: bool) -> None:
    """Remove the --out directory this run created if nothing was written into it."""
    if created:
        with contextlib.suppress(OSError):
            out_dir.rmdir()


def _print_summary(summary: dict, sim_s: float) -> None:
    from sim.report import KPI_LABELS, _fmt

    t = Table(title=f"{_u(summary['scenario'])} — simulated in {sim_s:.1f} s", show_lines=False)
    t.add_column("KPI")
    t.add_column("value", justify="right")
    ci = summary.get("kpis_ci95", {})
    for k, v in summary["kpis"].items():
        val = _fmt(k, v)
        if k in ci:
            val += f" ± {_fmt(k, ci[k])}"
        t.add_row(f"{KPI_LABELS[k][0]} ({k})", val)
    out.print(t)


