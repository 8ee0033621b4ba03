"""Provenance stamped on every result: config hash, seed, versions, git commit if known."""

from __future__ import annotations

import datetime as _dt
import hashlib
import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any


def package_version() -> str:
    try:
        return metadata.version("dlsim")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the source tree this package runs from (None outside a git checkout)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        commit = out.stdout.strip()
        if out.returncode != 0 or not commit:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


# the source that decides what a run produces: the model and the configuration's rules
# (defaults, references, validation). A stored run computed by other source is never reused.
MODEL_SOURCE = ("sim/model", "sim/config")


@lru_cache(maxsize=1)
def model_digest() -> str:
    """A digest of the model's source (every ``.py`` under :data:`MODEL_SOURCE`, by relative
    path and contents): it changes whenever the code that produces results changes, committed
    or not."""
    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha256()
    for folder in MODEL_SOURCE:
        for f in sorted((root / folder).rglob("*.py")):
            h.update(f.relative_to(root).as_posix().encode())
            h.update(b"\0")
            h.update(f.read_bytes())
            h.update(b"\0")
    return h.hexdigest()[:12]


def model_version() -> str:
    """What stored runs are keyed by besides the scenario's hash: the package version and the
    model's source digest, e.g. ``0.1.0+model.3f2a9c1b7d04``."""
    return f"{package_version()}+model.{model_digest()}"


def model_change(stored: str | None) -> str | None:
    """Why runs stored by model version ``stored`` cannot be reused (None: they can)."""
    now = model_version()
    if stored == now:
        return None
    if not stored:
        return f"the runs were stored without a model version (this model is {now})"
    return f"the model changed since the runs were stored ({stored} → {now})"


def provenance(config_hash: str, seed: int, **extra: Any) -> dict[str, Any]:
    import numpy
    import simpy

    return {
        "config_hash": config_hash,
        "seed": seed,
        "version": package_version(),
        "git_commit": git_commit(),
        "model_version": model_version(),
        "created_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": numpy.__version__,
        **extra,
    }
