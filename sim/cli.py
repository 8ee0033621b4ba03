"""Command line: ``dlsim run | validate``.

Exit codes: 0 success; 2 bad input (config, data, arguments) with one line per problem;
1 internal error (a one-line message; ``DLSIM_DEBUG=1`` shows the traceback); 130 interrupted.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from sim.config import ConfigError, load_scenario

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="dlsim: simulate distance-learning infrastructure load (Szenario C school days).",
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

ConfigArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a setting: key.path=value (repeatable)."),
]


def _bad_input(exc: ConfigError) -> typer.Exit:
    for line in exc.problems:
        err.print("error: " + line, markup=False, soft_wrap=True)
    return typer.Exit(2)


@app.command()
def validate(config: ConfigArg, set_: SetOpt = None) -> None:
    """Check a scenario file (and its data files); exit 2 with one line per problem."""
    try:
        sc = load_scenario(config, set_ or [])
        from sim.population import load_marginals

        load_marginals(sc)
    except ConfigError as exc:
        raise _bad_input(exc) from None
    out.print(f"{config}: ok ({sc.name}, config hash {sc.config_hash()})")


@app.command()
def run(
    config: ConfigArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("out/run"),
    seed: Annotated[int, typer.Option(help="Root seed of the run.", min=0)] = 1,
    replications: Annotated[
        int, typer.Option(help="Independent replications.", min=1, max=10_000)
    ] = 1,
    set_: SetOpt = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip report.html.")] = False,
) -> None:
    """Simulate a scenario; write summary.json, timeseries.parquet and report.html."""
    from sim import simulate

    try:
        sc = load_scenario(config, set_ or [])
        from sim.population import load_marginals

        load_marginals(sc)
    except ConfigError as exc:
        raise _bad_input(exc) from None
    if out_dir.exists() and not out_dir.is_dir():
        err.print(f"[red]error:[/red] --out {out_dir}: exists and is not a directory")
        raise typer.Exit(2)
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
                task = bar.add_task(sc.name, total=1.0)
                res = simulate(
                    sc,
                    seed=seed,
                    replications=replications,
                    progress=lambda f: bar.update(task, completed=f),
                )
        else:
            res = simulate(sc, seed=seed, replications=replications)
    except ConfigError as exc:
        raise _bad_input(exc) from None
    sim_s = time.perf_counter() - t0
    paths = res.save(out_dir, report=not no_report)
    _print_summary(res.summary, sim_s)
    for name, p in paths.items():
        out.print(f"{name:>10}: {p}")
    if "report" in paths:
        out.print(f"\nReport: [bold]{paths['report'].resolve()}[/bold]")


def _print_summary(summary: dict, sim_s: float) -> None:
    from sim.report import KPI_LABELS, _fmt

    t = Table(title=f"{summary['scenario']} — simulated in {sim_s:.1f} s", show_lines=False)
    t.add_column("KPI")
    t.add_column("value", justify="right")
    ci = summary.get("kpis_ci95", {})
    for k, v in summary["kpis"].items():
        val = _fmt(k, v)
        if k in ci:
            val += f" ± {_fmt(k, ci[k])}"
        t.add_row(f"{KPI_LABELS[k][0]} ({k})", val)
    out.print(t)


def main(argv: list[str] | None = None) -> None:
    """Entry point with the exit-code contract (never a traceback for bad input)."""
    try:
        rc = app(args=argv, standalone_mode=False)
    except KeyboardInterrupt:
        err.print("interrupted: no partial results were written")
        sys.exit(130)
    except ConfigError as exc:
        for line in exc.problems:
            err.print(f"error: {line}", soft_wrap=True, markup=False)
        sys.exit(2)
    except typer.Abort:
        err.print("interrupted: no partial results were written")
        sys.exit(130)
    except Exception as exc:  # usage errors (exit 2) and internal errors (exit 1)
        show = getattr(exc, "show", None)
        code = getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):  # click/typer usage errors
            show()
            sys.exit(code)
        if os.environ.get("DLSIM_DEBUG"):
            raise
        err.print(
            f"internal error: {exc.__class__.__name__}: {exc} (set DLSIM_DEBUG=1 for a traceback)",
            markup=False,
        )
        sys.exit(1)
    sys.exit(rc if isinstance(rc, int) else 0)
