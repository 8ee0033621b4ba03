"""Children that get the signals a test sends them, whatever the test's own shell did.

A process inherits its parent's signal dispositions. When ``make test`` is started as a
background job of a non-interactive shell, SIGINT arrives *ignored*; Python then keeps it
ignored (no ``KeyboardInterrupt``), so a child sent SIGINT carries on and exits 0. The product
is right to respect an ignored SIGINT; a test must not depend on it. Every child a test
signals is started with :func:`default_signals` as its ``preexec_fn``: SIGINT and SIGTERM
back to their defaults, explicitly, before the child's program starts.
"""

from __future__ import annotations

import signal


def default_signals() -> None:
    """``preexec_fn`` of a child a test will signal: SIGINT/SIGTERM at their defaults (Python
    installs its ``KeyboardInterrupt`` handler only for a SIGINT that is not ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
