"""Command line: ``dlsim run | validate | report | compare | sweep | size | replications | whatif
| optimise | explain | week``.

Exit codes: 0 success; 2 bad input (config, data, arguments) with one line per problem;
1 internal error (a one-line message; ``DLSIM_DEBUG=1`` shows the traceback), or results that
could not be written; 130 interrupted.

Layout: ``common`` (the app, consoles, option types, error helpers), ``scenario`` (validate,
run, report), ``experiments`` (compare, sweep), ``sizing`` (size, replications), ``whatif``
(the what-if page), ``optimise``, ``explain``; ``help_doc`` writes ``docs/reference/cli.md``
from the app's help. :func:`main` is the console script's entry point and enforces the
exit-code contract.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["app", "main"]

COMMAND_MODULES = ("scenario", "experiments", "sizing", "whatif", "optimise", "explain",
                   "week", "uncertainty", "calibrate", "posterior")


def _load() -> Any:
    """The app with every command registered (importing a module registers its commands, in
    this order). Imported on first use, inside :func:`main`'s handling of Ctrl-C."""
    for module in COMMAND_MODULES:
        importlib.import_module(f"sim.cli.{module}")
    return importlib.import_module("sim.cli.common").app


def __getattr__(name: str) -> Any:
    if name == "app":
        return _load()
    raise AttributeError(f"module 'sim.cli' has no attribute {name!r}")


def main(argv: list[str] | None = None) -> None:
    """Entry point with the exit-code contract (never a traceback for bad input).

    Run as the program (``argv`` None), a Ctrl-C after the outcome is decided is ignored:
    the results are complete (or the message printed), and the interpreter's shutdown must
    not turn it into a traceback or a death by SIGINT."""
    if argv is None:  # the program: note every Ctrl-C (a C extension may hide it, below)
        import signal

        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _ctrl_c)
            signal.signal(signal.SIGALRM, _ctrl_c)  # a Ctrl-C put off until an import ends
    code = _main(argv)
    if argv is None:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
    sys.exit(code)


_CTRL_C: list[int] = []
_RETRY_S = 0.05
"""How soon a Ctrl-C that came during an import is raised again (if the import has ended)."""


def _ctrl_c(signum: int, frame: Any) -> None:
    """Python's SIGINT handler, noting that Ctrl-C was pressed; raised at once, or — when it
    came while a module was being imported — as soon as the import has ended.

    Raised inside an import, the ``KeyboardInterrupt`` can land in importlib's module-lock
    callback, where Python prints it as "Exception ignored … Traceback" and carries on (the
    command then ran to the end, exit 0), or leave a C extension half initialised (found by
    ``make stress-interrupt``: one run in 50 died by SIGSEGV). Imports take a second or two,
    so the interruption waits for them: re-checked every :data:`_RETRY_S` s (SIGALRM)."""
    import signal

    _CTRL_C.append(signum)
    if _importing(frame):
        signal.setitimer(signal.ITIMER_REAL, _RETRY_S)
        return
    signal.setitimer(signal.ITIMER_REAL, 0.0)  # raised once, not again by a pending retry
    raise KeyboardInterrupt


def _importing(frame: Any) -> bool:
    """Whether ``frame`` runs inside importlib (importing a module, or its lock's callback)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _by_ctrl_c(exc: BaseException) -> bool:
    """Whether ``exc`` came of a Ctrl-C: a ``KeyboardInterrupt`` in its chain, or one noted by
    :func:`_ctrl_c` (a C extension's import interrupted by Ctrl-C raises an ImportError that
    does not chain it: pandas' "could not import module")."""
    if _CTRL_C:
        return True
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


def _out_option(args: list[str]) -> Path | None:
    """The ``--out`` a command line names (the last one, as click takes it), if any."""
    out = None
    for i, a in enumerate(args):
        if a == "--":
            break
        if a == "--out" and i + 1 < len(args):
            out = args[i + 1]
        elif a.startswith("--out="):
            out = a[len("--out="):]
    return Path(out) if out else None


def _one_writer(args: list[str]) -> Any:
    """Every command that writes ``--out`` holds its lock for the whole command: of two
    processes writing the same ``--out`` at once, the second is refused (exit 2)."""
    import contextlib

    from sim.runs.io import exclusive_output

    out = _out_option(args)
    return exclusive_output(out) if out is not None else contextlib.nullcontext()


def _main(argv: list[str] | None) -> int:
    try:
        app = _load()
        from sim.cli.common import err
        from sim.config import ConfigError
    except Exception as exc:  # a Ctrl-C inside a C extension's import becomes an ImportError
        if not _by_ctrl_c(exc):
            raise
        sys.stderr.write("interrupted: no partial results were written\n")
        return 130
    except KeyboardInterrupt:  # Ctrl-C while the command line is still being imported
        sys.stderr.write("interrupted: no partial results were written\n")
        return 130
    import typer

    try:
        with _one_writer(sys.argv[1:] if argv is None else argv):
            rc = app(args=argv, standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort):
        err.print("interrupted: no partial results were written")
        return 130
    except ConfigError as exc:
        for line in exc.problems:
            err.print(f"error: {line}", soft_wrap=True, markup=False)
        return 2
    except Exception as exc:  # usage errors (exit 2) and internal errors (exit 1)
        if _by_ctrl_c(exc):  # e.g. pandas' "could not import module" after a Ctrl-C
            err.print("interrupted: no partial results were written")
            return 130
        show = getattr(exc, "show", None)
        code = getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):  # click/typer usage errors
            show()
            return code
        if os.environ.get("DLSIM_DEBUG"):
            raise
        err.print(
            f"internal error: {exc.__class__.__name__}: {exc} (set DLSIM_DEBUG=1 for a traceback)",
            markup=False,
        )
        return 1
    if rc == 130:  # typer turns Ctrl-C inside a command into a return value of 130
        err.print("interrupted: no partial results were written")
    return rc if isinstance(rc, int) else 0
