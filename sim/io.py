"""Atomic output files: write to a temporary file in the same directory, then rename.

A reader (or an interrupted run) never sees a half-written summary, series or report, and
:class:`StagedFiles` writes a set of files all-or-nothing: a run directory never mixes the
summary of one run with the time series of another, even when the disk fills up half-way.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd


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
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        self._staged.append((tmp_path, path))
        write(tmp_path)
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o644)
        return path

    def commit(self) -> None:
        for tmp, path in self._staged:
            os.replace(tmp, path)
        self._staged.clear()

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
