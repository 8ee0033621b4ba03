"""Run the command line on a pseudo-terminal, as in a planner's shell (for the console tests)."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios

from tests.conftest import REPO


def run_in_pty(args: list[str], columns: int = 80, timeout_s: float = 300) -> str:
    """Run ``python -m sim ARGS`` with its stdout and stderr on a pseudo-terminal."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # CI hides the progress bar
    env |= {"COLUMNS": str(columns), "LINES": "24", "TERM": "xterm-256color"}
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args], stdin=slave, stdout=slave,
                            stderr=slave, env=env, cwd=REPO, close_fds=True)
    os.close(slave)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        proc.wait(timeout=timeout_s)
    finally:
        os.close(master)
    assert proc.returncode == 0, b"".join(chunks).decode(errors="replace")[-3000:]
    return b"".join(chunks).decode(errors="replace")
