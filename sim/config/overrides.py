"""``--set`` overrides: ``a.b.c=value`` parsed (the value as YAML), list elements by position or
by name, applied to a raw config mapping before validation; a section the file leaves out
starts from its defaults."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from sim.config import paths
from sim.config.base import ConfigError
from sim.config.models import Scenario
from sim.config.safe_yaml import safe_load


def parse_override(text: str) -> tuple[list[str], Any]:
    """Parse ``a.b.c=value`` (value parsed as YAML, so numbers and lists work).

    List elements by position or by name: ``platforms[0]`` or ``platforms[iserv]``
    (:mod:`sim.config.paths`; names are resolved against the data where applied).
    """
    if "=" not in text:
        raise ConfigError([f"--set {text}: expected key.path=value"])
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or not paths.is_path(key):
        raise ConfigError([f"--set {text}: malformed key path {key!r}"])
    try:
        value = safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        raise ConfigError([f"--set {text}: value is not valid YAML ({problem})"]) from None
    parts: list[str] = []
    for token in re.findall(r"[^.\[\]]+|\[[^\[\]]+\]", key):
        parts.append(token)
    return parts, value


def resolve_names(
    data: Mapping[str, Any], overrides: Iterable[str], defaults: Mapping[str, Any] | None = None
) -> list[str]:
    """The overrides with list elements given by name (``platforms[iserv]``) turned into
    positions in ``data`` (or, for sections ``data`` leaves out, in ``defaults``).

    Raises :class:`ConfigError` naming the names that exist when a name matches nothing.
    Malformed overrides are passed through for :func:`parse_override` to report.
    """
    out = []
    for text in overrides:
        key, sep, raw = text.partition("=")
        k = key.strip()
        if sep and paths.is_path(k) and any(isinstance(t, paths.ByName) for t in paths.split(k)):
            text = f"{paths.positional(data, k, defaults, where=f'--set {text}')}={raw}"
        out.append(text)
    return out


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``--set`` overrides to a raw config mapping (before validation)."""
    for given in overrides:
        text = resolve_names(data, [given])[0]
        path, value = parse_override(text)
        node: Any = data
        for i, part in enumerate(path):
            last = i == len(path) - 1
            if part.startswith("["):
                idx = int(part[1:-1])
                if not isinstance(node, list) or idx >= len(node):
                    raise ConfigError([f"--set {text}: no list element {part} at that path"])
                if last:
                    node[idx] = value
                else:
                    node = node[idx]
            else:
                if not isinstance(node, dict):
                    raise ConfigError([f"--set {text}: {part!r} is not inside a mapping"])
                if last:
                    node[part] = value
                else:
                    nxt = node.get(part)
                    if nxt is None:
                        nxt = {}
                        node[part] = nxt
                    # expand defaults-free sections lazily: validation catches unknown keys
                    node = nxt
    return data


def defaults_as_data() -> dict[str, Any]:
    return Scenario().model_dump(mode="json", exclude={"source_path"})


def materialise_defaults(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """An override into a section the file leaves out starts from that section's defaults.

    Walk each override's path through the data and the defaults side by side; where the data
    lacks a key that the defaults have, copy the defaults (so ``--set
    school_servers.tiers.outdated.workers=2`` changes one field, not the whole section, and
    ``platforms[0].frontend.workers=8`` finds the default platforms).
    """
    defaults: dict[str, Any] | None = None
    for text in overrides:
        key = text.split("=", 1)[0].strip()
        defaults = defaults or defaults_as_data()
        tokens = re.findall(r"[^.\[\]]+|\[\d+\]", key)
        node: Any = data
        dnode: Any = defaults
        for tok in tokens[:-1]:
            if tok.startswith("["):
                idx = int(tok[1:-1])
                if not (isinstance(node, list) and idx < len(node)):
                    break
                node = node[idx]
                dnode = dnode[idx] if isinstance(dnode, list) and idx < len(dnode) else None
                continue
            if not isinstance(node, dict):
                break
            dval = dnode.get(tok) if isinstance(dnode, dict) else None
            if tok not in node or node[tok] is None:
                if dval is None:
                    break
                node[tok] = json.loads(json.dumps(dval))
            node, dnode = node[tok], dval
    return data
