"""Reading YAML safely: YAML 1.2's plain scalars, no duplicate keys, no aliases, no deep nesting.

Every YAML file a user gives (scenarios, their ``extends:`` bases, ``--set`` values, sweep and
what-if files) is parsed by :func:`safe_load` or, for a whole document, :func:`load_yaml_text`,
which turns every problem into one :class:`~sim.config.base.ConfigError` line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from sim.config.base import ConfigError


class _ScenarioLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with YAML 1.2's plain scalars instead of YAML 1.1's surprises.

    - no base-60 numbers: under YAML 1.1 an unquoted ``end: 17:00`` is the integer 1020
      (17·60), which would silently become 00:17; here it stays "17:00", a time of day;
    - no octal, binary or hexadecimal integers: ``nodes: 0450`` is not 296 (YAML 1.1 octal)
      but the text "0450", which a count refuses with a clear message;
    - booleans are only ``true``/``false``: ``nodes: yes`` is not 1 and ``name: no`` is the
      text "no" (a boolean setting still accepts yes/no/on/off, as text);
    - ``1e20`` is a number (YAML 1.1 needs a dot), so bounds apply to it;
    - no timestamps: ``2021-01-11`` stays text (a field that wants a date parses it), and a
      date that does not exist (``2021-13-40``) is the field's problem, not a crash of the
      YAML reader (it was an internal error, exit 1).
    """


_DROPPED = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:timestamp")
_ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _rx, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9_]*)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:0|[1-9][0-9_]*)[eE][-+]?[0-9]+"
        r"|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
):
    _ScenarioLoader.add_implicit_resolver(_tag, re.compile(_rx), list(_first))

MAX_DEPTH = 40
"""Deepest nesting of mappings and lists in a scenario (the models need 6; deeper documents
would exhaust the recursion limit while being built)."""


def _mapping_without_duplicates(loader: _ScenarioLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """A mapping whose keys are unique: a repeated key is an error, not "the last one wins"."""
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, bool) or not isinstance(key, str | int):
            shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "…"
            raise yaml.constructor.ConstructorError(
                None, None,
                f"a key must be a name or a whole number, not {type(key).__name__} ({shown!r})",
                key_node.start_mark,
            )
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_ScenarioLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` with times of day kept as strings (see ``_ScenarioLoader``)."""
    return yaml.load(text, Loader=_ScenarioLoader)


def load_yaml_text(text: str, source: str) -> dict[str, Any]:
    """Parse YAML safely; refuse anchors/aliases (alias bombs) and non-mapping documents."""
    if "\x00" in text:
        raise ConfigError([f"{source}: (top level): not a YAML text file (binary content)"])
    try:
        # Reject aliases before any expansion (a "billion laughs" document never grows) and
        # deep nesting before anything is built (it would exhaust the recursion limit).
        depth = 0
        for event in yaml.parse(text, Loader=_ScenarioLoader):
            if isinstance(event, yaml.AliasEvent):
                raise ConfigError(
                    [f"{source}: (top level): YAML aliases (*name) are not allowed in scenarios"]
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else "?"
                    raise ConfigError(
                        [f"{source}: (top level): nested more than {MAX_DEPTH} levels deep "
                         f"at line {line} (a scenario needs at most 6)"]
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        data = safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        raise ConfigError([f"{source}: (top level): not valid YAML{where}: {problem}"]) from None
    if data is None:
        raise ConfigError([f"{source}: (top level): the file is empty"])
    if not isinstance(data, Mapping):
        raise ConfigError(
            [f"{source}: (top level): expected a mapping of settings, got {type(data).__name__}"]
        )
    return dict(data)
