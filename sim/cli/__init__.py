"""Command line: ``dlsim run | validate | report | compare | sweep | size | replications | whatif
| optimise | explain``.

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

import typer

from sim.cli.common import app, err
from sim.config import ConfigError

# importing registers the commands, in this order
for _module in ("scenario", "experiments", "sizing", "whatif", "optimise", "explain"):
    importlib.import_module(f"sim.cli.{_module}")

__all__ = ["app", "main"]


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
    if rc == 130:  # typer turns Ctrl-C inside a command into a return value of 130
        err.print("interrupted: no partial results were written")
    sys.exit(rc if isinstance(rc, int) else 0)
