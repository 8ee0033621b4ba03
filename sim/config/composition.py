"""Scenario composition: ``extends: other.yaml`` starts from another scenario file and changes
what differs (mappings merge key by key, lists and name-keyed mappings are replaced)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sim.config.base import ConfigError
from sim.config.files import MAX_CONFIG_BYTES, read_regular_file
from sim.config.safe_yaml import load_yaml_text

_DATA_FILE_KEYS = ("school_types_file", "regions_file")


# Mappings keyed by names (platforms, school types, tiers) or by period and year numbers
# (breaks, year-group offsets: a file with 3 periods must not inherit a break after period 4)
# — a file that extends another
# states the whole mapping, so it replaces the base's rather than adding keys to it
# (``platform_shares: {iserv: 0.7, moodle: 0.3}`` must not keep the base's bildungscloud).
_REPLACED_MAPPINGS = frozenset(
    {
        "platform_shares",
        "on_prem_share",
        "live_lesson_share_by_type",
        "start_offset_min_by_type",
        "breaks_min",
        "offset_min_by_year",
    }
)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: mappings merge key by key (except the name-keyed ones in
    ``_REPLACED_MAPPINGS``), everything else is replaced."""
    out = dict(base)
    for k, v in over.items():
        if k in _REPLACED_MAPPINGS:
            out[k] = v
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def resolve_extends(data: dict[str, Any], path: Path, chain: list[Path]) -> dict[str, Any]:
    """``extends: other.yaml`` — start from another scenario file and change what differs.

    Lists (faults, platforms) are replaced, not appended. Data-file paths of the base stay
    relative to the base file.
    """
    if "extends" not in data:
        return data
    data = dict(data)
    ref = data.pop("extends")
    if not isinstance(ref, str) or not ref.strip():
        raise ConfigError([f"{path}: extends: expected the path of another scenario file"])
    base_path = (path.parent / ref).resolve()
    if base_path in chain or base_path == path.resolve():
        cycle = " -> ".join(str(c) for c in [*chain, path.resolve(), base_path])
        raise ConfigError([f"{path}: extends: circular ({cycle})"])
    if not base_path.exists():
        raise ConfigError([f"{path}: extends: no such scenario file {base_path}"])
    # special files (a FIFO, /dev/zero) are refused by read_regular_file, named as extends
    raw = read_regular_file(base_path, MAX_CONFIG_BYTES, f"{path}: extends: {base_path}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: extends: {base_path}: not a UTF-8 text file"]) from None
    base = load_yaml_text(text, str(base_path))
    base = resolve_extends(base, base_path, [*chain, path.resolve()])
    pop = base.get("population")
    if isinstance(pop, dict):
        pop = dict(pop)
        for key in _DATA_FILE_KEYS:
            rel = pop.get(key)
            if isinstance(rel, str) and not Path(rel).is_absolute():
                target = (base_path.parent / rel).resolve()
                pop[key] = os.path.relpath(target, path.resolve().parent)
        base["population"] = pop
    return _deep_merge(base, data)
