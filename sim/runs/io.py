"""Atomic output files: write to a temporary file in the same directory, then rename.

A reader (or an interrupted run) never sees a half-written summary, series or report, and
:class:`StagedFiles` writes a set of files all-or-nothing: a run directory never mixes the
summary of one run with the time series of another, even when the disk fills up half-way.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

#: Names this machine in the temporaries a writer leaves (with its pid), so that a later run
#: can tell a dead writer's leftovers from a live one's.
HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"
_TMP = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<host>[A-Za-z0-9-]+)-(?P<pid>\d+)\.)?[^.]+\.tmp$")
STALE_FOREIGN_S = 24 * 3600.0
"""A temporary written by another machine (shared disk) counts as abandoned after a day."""


def _tmp_prefix(path: Path) -> str:
    """``.<name>.<host>-<pid>.``: whose temporary it is, so that one left by a killed process
    (``kill -9``, power loss) can be told from one a running process is still writing."""
    return f".{path.name}.{HOST}-{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_temporaries(directory: str | Path, names: Iterable[str] | None = None) -> list[Path]:
    """Temporaries in ``directory`` left by a process that no longer runs.

    Ours (``.<name>.<host>-<pid>.<random>.tmp``): stale when that process is gone (or, from
    another host, older than :data:`STALE_FOREIGN_S`). Without host and pid (older versions):
    always stale. A temporary of a process that is still writing is never returned. With
    ``names``, only temporaries of those files.
    """
    wanted = None if names is None else set(names)
    d = Path(directory)
    if not d.is_dir():
        return []
    out = []
    for p in d.iterdir():
        m = _TMP.match(p.name)
        if m is None or not p.is_file() or (wanted is not None and m["name"] not in wanted):
            continue
        if m["pid"] is None:
            out.append(p)
        elif m["host"] == HOST:
            if int(m["pid"]) != os.getpid() and not _alive(int(m["pid"])):
                out.append(p)
        else:
            with contextlib.suppress(OSError):
                if time.time() - p.stat().st_mtime > STALE_FOREIGN_S:
                    out.append(p)
    return sorted(out)


def remove_stale_temporaries(
    directory: str | Path, names: Iterable[str] | None = None
) -> list[Path]:
    """Delete :func:`stale_temporaries` (they never became files: nothing is lost)."""
    gone = []
    for p in stale_temporaries(directory, names):
        with contextlib.suppress(OSError):
            p.unlink()
            gone.append(p)
    return gone


class StagedFiles:
    """Write several files to temporaries first; move them all into place only at the end.

    ``commit()`` renames in the order staged (put the file that marks a complete output
    last). If anything fails before ``commit()`` — an exception, a full disk, Ctrl-C — the
    temporaries are removed and the files already in place stay untouched. Renames need no
    space, so a disk that is full at commit time cannot leave a mixed set behind.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []

    def stage(self, path: str | Path, write: Callable[[Path], None]) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(path), suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        self._staged.append((tmp_path, path))
        write(tmp_path)
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o644)
        return path

    def commit(self) -> None:
        # Ctrl-C waits for the renames (microseconds): between two of them it would leave a
        # set of which some files are new and some old; once they start, the outcome is decided
        with _ctrl_c_deferred():
            try:
                while self._staged:
                    tmp, path = self._staged[0]
                    os.replace(tmp, path)
                    self._staged.pop(0)
            finally:  # a rename refused (target is a directory, …): no temporary stays behind
                self.abort()

    def abort(self) -> None:
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged.clear()

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


@contextlib.contextmanager
def _ctrl_c_deferred() -> Any:
    """A Ctrl-C (SIGINT, or dlsim's SIGALRM retry of one, :mod:`sim.cli`) that arrives while
    the block runs is noted and delivered when it ends, as it would have been. Python runs
    signal handlers in the main thread only, so the handlers are swapped there (blocking the
    signal would not do: the kernel hands it to any other thread that does not block it)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    held = (signal.SIGINT, signal.SIGALRM)
    old = {s: signal.signal(s, lambda signum, frame: noted.append(signum)) for s in held}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        for signum in dict.fromkeys(noted):
            signal.raise_signal(signum)  # handled now by what handles it normally


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and atomically move the result to ``path``."""
    with StagedFiles() as files:
        return files.stage(path, write)


def text_writer(text: str) -> Callable[[Path], None]:
    def write(p: Path) -> None:
        p.write_text(text, encoding="utf-8")

    return write


def json_writer(data: Any) -> Callable[[Path], None]:
    return text_writer(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")


def parquet_writer(df: pd.DataFrame) -> Callable[[Path], None]:
    return lambda p: df.to_parquet(p, index=False, engine="pyarrow")


def write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, text_writer(text))


def write_json(path: str | Path, data: Any) -> Path:
    return atomic_write(path, json_writer(data))


def write_parquet(path: str | Path, df: pd.DataFrame) -> Path:
    return atomic_write(path, parquet_writer(df))


# ------------------------------------------------------------------------------ one writer
LOCK_DIR_ENV = "DLSIM_LOCK_DIR"
"""Where the output locks live (default: ``<tmp>/dlsim-locks``): outside the output directory,
so that taking one writes nothing of the user's, even for a directory that does not exist yet."""


def _lock_path(out: Path) -> Path:
    import hashlib

    where = Path(os.environ.get(LOCK_DIR_ENV) or Path(tempfile.gettempdir()) / "dlsim-locks")
    where.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(str(out.expanduser().resolve()).encode()).hexdigest()[:24]
    return where / f"{key}.lock"


@contextlib.contextmanager
def exclusive_output(out: Path, option: str = "--out") -> Any:
    """Hold the one writer's lock of ``out`` (``fcntl.flock``, released when the process ends,
    however it ends): a second dlsim writing the same ``out`` at once is refused
    (:class:`~sim.config.ConfigError`, exit 2) before it reads or writes anything there, so a
    directory never mixes the files of two processes."""
    import fcntl

    from sim.config import ConfigError

    try:
        path = _lock_path(out)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:  # no place for locks (read-only /tmp): the checks of each command remain
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise ConfigError([f"{option} {out}: another dlsim process{who} is writing into it "
                               "right now; wait for it to finish, or choose another "
                               f"{option}"]) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock
