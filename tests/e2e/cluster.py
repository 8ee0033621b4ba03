"""A real Dask cluster for end-to-end tests: `dask scheduler` and `dask worker` processes on
127.0.0.1, each worker in its own process group (so a test can kill one outright)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

ENV = {**os.environ, "CI": "1", "COLUMNS": "200"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Terminate the processes (by their pids, in order), then kill stragglers."""
    t0 = time.monotonic()
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=max(0.1, t0 + 3 - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


def kill_group(p: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process started with ``start_new_session`` and all its children."""
    os.killpg(p.pid, signal.SIGKILL)
    p.wait(timeout=10)


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]


@contextmanager
def dask_cluster(n_workers: int = 2) -> Iterator[Cluster]:
    """A scheduler and ``n_workers`` single-threaded workers; always torn down."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": ENV}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
             "--idle-timeout", "300"], **quiet))
        for i in range(n_workers):
            procs.append(subprocess.Popen(
                [*dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--host",
                 "127.0.0.1", "--no-dashboard", "--death-timeout", "60", "--name", f"e2e-{i}"],
                start_new_session=True, **quiet))
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(n_workers, timeout=90)
        yield Cluster(address, procs[0], procs[1:])
    finally:
        stop(procs)  # the scheduler first: workers then close without trying to reconnect
        for p in procs[1:]:  # a worker's nanny may leave its worker process behind
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
