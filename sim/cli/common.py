"""What every command shares: the typer app, the consoles, option types, error helpers and
the executor options (exit 2 for bad input, one ``error:`` line per problem)."""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from sim.config import ConfigError, load_scenario

# Plain help (click's formatter), not rich's panels: rich cuts long option names to fit 80
# columns ("--confirm-replicatio…") and reads config paths' "[iserv]" as markup, dropping it.
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
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
LangOpt = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help="Language of the report and summary: de or en (default: the scenario's "
        "report.lang, else en).",
        show_default=False,
    ),
]
PdfOpt = Annotated[
    Path | None,
    typer.Option("--pdf", help="Also write the one-page briefing as PDF (Chromium).",
                 show_default=False),
]
PngOpt = Annotated[
    Path | None,
    typer.Option("--png", help="Also export each figure as PNG into this directory (Chromium)."),
]


def _u(text: object) -> str:
    """User text (names, paths, parameter values) for a rich line: escaped, so that markup in
    it is printed as written (``"C [/]"`` would crash the console, ``"[draft]"`` vanish)."""
    return escape(str(text))


def _bad_input(exc: ConfigError) -> typer.Exit:
    for line in exc.problems:
        err.print("error: " + line, markup=False, soft_wrap=True)
    return typer.Exit(2)


def _check_lang(lang: str | None) -> str | None:
    """``--lang`` checked (exit 2 with one line for an unknown language)."""
    if lang is None:
        return None
    from sim.report.i18n import LANGS

    if lang not in LANGS:
        raise _fail(f"--lang {lang}: expected one of {', '.join(LANGS)}")
    return lang


def _need_chromium() -> None:
    """Exit 2 with one line if --png cannot work here (no kaleido, or no Chromium for it)."""
    from sim.report import PngExportUnavailable, check_png_export

    try:
        check_png_export()
    except PngExportUnavailable as exc:
        err.print(f"error: --png: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None


WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, max=1024, help="Run on a Dask LocalCluster of N processes."),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="Run on a running Dask cluster, e.g. tcp://HOST:8786."),
]
ReplicationsOpt = Annotated[
    int,
    typer.Option(help="Paired replications (same seeds for every variant).", min=2, max=10_000),
]
JsonOut = Annotated[Path | None, typer.Option("--out", help="Also write the result as JSON.")]


def _note(message: str) -> None:
    """One unwrapped line on stderr."""
    err.print(message, markup=False, soft_wrap=True)


@contextlib.contextmanager
def _decided() -> Iterator[None]:
    """The command's results are in place: a Ctrl-C while it prints them is ignored (the
    outcome is decided, the program exits 0) rather than reported as an interruption that
    wrote nothing. Only in the main thread (where Python's handler runs)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.setitimer(signal.ITIMER_REAL, 0.0)  # a Ctrl-C put off during an import: dropped
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _fail(message: str, code: int = 2) -> typer.Exit:
    """Print one ``error:`` line; the exit to raise (2: bad input)."""
    _note(f"error: {message}")
    return typer.Exit(code)


def _check_executor_options(workers: int | None, scheduler: str | None) -> None:
    """Exit 2 if --workers/--scheduler conflict or the address is not tcp://HOST:PORT."""
    if workers is not None and scheduler is not None:
        raise _fail("give --workers or --scheduler, not both")
    if scheduler is not None and not re.fullmatch(
        r"(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):\d{1,5}", scheduler
    ):
        raise _fail(f"--scheduler {scheduler}: expected tcp://HOST:PORT")
    if scheduler is not None and not 0 < int(scheduler.rsplit(":", 1)[1]) < 65536:
        raise _fail(f"--scheduler {scheduler}: port out of range")


def _executor(workers: int | None, scheduler: str | None) -> Any:
    """The executor the options ask for (exit 2 if they conflict or the cluster is away)."""
    from sim.experiments.executors import make_executor

    _check_executor_options(workers, scheduler)
    try:
        return make_executor(workers=workers, scheduler=scheduler)
    except (OSError, TimeoutError) as exc:
        raise _fail(f"--scheduler {scheduler}: cannot connect ({exc})") from None


def _load(config: Path, sets: list[str]) -> Any:
    from sim.model.population import load_marginals

    sc = load_scenario(config, sets)
    load_marginals(sc)
    return sc


def _num(kpi: str, v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "–"
    if kpi.endswith(("_rate", "_share", "_probability", "_utilisation")):
        return f"{v:.2%}"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def _write_json(path: Path | None, data: dict[str, Any]) -> None:
    if path is not None:
        from sim.runs.io import write_json

        write_json(path, data)
        out.print(f"written: {_u(path)}")


