"""Files a scenario reads: regular files of bounded size only (never a FIFO, ``/dev/zero`` or a
directory), UTF-8 text, and the data tables it names checked before anything is built."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sim.config.base import ConfigError
from sim.config.models import Scenario

MAX_CONFIG_BYTES = 2_000_000
MAX_DATA_BYTES = 50_000_000
"""A data table (school types, regions) of the state is about 1 kB; 50 MB is a mistake."""


def read_regular_file(p: Path, limit: int, where: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or :class:`ConfigError`.

    Anything else is refused before it is read: a FIFO would block forever, ``/dev/zero``
    never ends, a directory has no contents. The file is opened without blocking and checked
    again through its descriptor (it may have been replaced since), and at most ``limit + 1``
    bytes are read whatever its size claims.
    """
    try:
        st = p.stat()
    except FileNotFoundError:
        raise ConfigError([f"{where}: no such file"]) from None
    except OSError as exc:
        raise ConfigError([f"{where}: cannot read: {exc.strerror}"]) from None
    if stat.S_ISDIR(st.st_mode):
        raise ConfigError([f"{where}: is a directory, expected a YAML file"])
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError([f"{where}: not a regular file ({_file_kind(st.st_mode)})"])
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise ConfigError([f"{where}: not a regular file"])
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise ConfigError([f"{where}: cannot read: {exc.strerror}"]) from None
    if len(raw) > limit:
        raise ConfigError([f"{where}: more than {limit:,} bytes is too large for this file"])
    return raw


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def read_config_file(path: str | Path) -> str:
    p = Path(path)
    raw = read_regular_file(p, MAX_CONFIG_BYTES, f"{p}: (file)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError([f"{p}: (file): not a UTF-8 text file"]) from None


def check_data_files(scenario: Scenario, source: str) -> None:
    problems = []
    for field in ("school_types_file", "regions_file"):
        rel = getattr(scenario.population, field)
        f = scenario.resolve_path(rel)
        if not f.exists():
            problems.append(f"{source}: population.{field}: data file not found: {f}")
        elif not f.is_file():
            problems.append(f"{source}: population.{field}: not a regular file: {f}")
        elif f.stat().st_size > MAX_DATA_BYTES:
            problems.append(f"{source}: population.{field}: {f} has {f.stat().st_size:,} "
                            f"bytes, more than the {MAX_DATA_BYTES:,} a data table may have")
        else:
            try:
                with open(f, "rb") as fh:
                    fh.read(1)
            except OSError as exc:
                problems.append(f"{source}: population.{field}: cannot read {f}: {exc.strerror}")
    if problems:
        raise ConfigError(problems)
