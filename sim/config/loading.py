"""Loading scenarios: safe YAML, ``--set`` overrides, one clear line per problem."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.config import override_errors, paths
from sim.config.base import ConfigError
from sim.config.models import Scenario


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


MAX_CONFIG_BYTES = 2_000_000
MAX_DATA_BYTES = 50_000_000
"""A data table (school types, regions) of the state is about 1 kB; 50 MB is a mistake."""


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # a key with a control character (\x1e splits a line for str.splitlines) is shown
            # escaped: one problem stays one line
            text = part if part.isprintable() else repr(part)
            out += ("." if out else "") + text
    return out or "(top level)"


def _format_validation_error(
    err: ValidationError, source: str, positional: Sequence[str] = (), given: Sequence[str] = ()
) -> list[str]:
    """One line per problem; a problem at or under an override's path is the override's
    (``--set <as written>: …``, :mod:`sim.config.override_errors`)."""
    problems = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            hint = override_errors.suggestion(Scenario, loc)
            msg = f"unknown key{hint}" if hint else "unknown key (typo?)"
        msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        named = re.match(r"^([A-Za-z_][\w.\[\]]*): (.*)$", msg) if not loc else None
        if named and paths.is_path(named[1]):  # a cross-field check names its own path
            toks = paths.split(named[1])
            if not any(isinstance(t, paths.ByName) for t in toks):
                loc, msg = tuple(toks), named[2]
        set_by = override_errors.owner(loc, positional, given) if loc else None
        if set_by is not None:  # the override's problem, not the file's
            where, field = set_by
            problems.append(f"--set {where}: {field}: {msg}")
        else:
            problems.append(f"{source}: {_format_loc(loc)}: {msg}")
    return problems


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


def _defaults_as_data() -> dict[str, Any]:
    return Scenario().model_dump(mode="json", exclude={"source_path"})


def _materialise_defaults(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """An override into a section the file leaves out starts from that section's defaults.

    Walk each override's path through the data and the defaults side by side; where the data
    lacks a key that the defaults have, copy the defaults (so ``--set
    school_servers.tiers.outdated.workers=2`` changes one field, not the whole section, and
    ``platforms[0].frontend.workers=8`` finds the default platforms).
    """
    defaults: dict[str, Any] | None = None
    for text in overrides:
        key = text.split("=", 1)[0].strip()
        defaults = defaults or _defaults_as_data()
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


def scenario_from_dict(
    data: Mapping[str, Any], source: str = "<dict>", overrides: Iterable[str] = (),
    *, user_overrides: bool = False,
) -> Scenario:
    """Validate a raw mapping (plus overrides) into a :class:`Scenario`.

    ``user_overrides``: the overrides are the user's (``--set``, ``overrides=``), so a problem
    they cause is reported as ``--set <as written>: …``; otherwise (a sweep's point, a lever's
    value) it is reported against ``source``, which names where they came from."""
    try:
        raw: dict[str, Any] = json.loads(json.dumps(dict(data), default=str))
    except (TypeError, ValueError, RecursionError) as exc:  # keys that are not text, cycles
        raise ConfigError([f"{source}: (top level): not plain settings data ({exc})"]) from None
    given = list(overrides)
    overrides = given
    if any("[" in o.partition("=")[0] for o in given):  # names → positions, first
        overrides = resolve_names(raw, given, _defaults_as_data())
    try:
        raw = _materialise_defaults(raw, overrides)
        raw = apply_overrides(raw, overrides)
    except ConfigError as exc:  # say it with the path as the user wrote it
        renamed = {f"--set {o}:": f"--set {g}:" for o, g in zip(overrides, given, strict=True)}
        lines = []
        for line in exc.problems:
            for o, g in renamed.items():
                if line.startswith(o):
                    line = g + line[len(o) :]
                    break
            lines.append(line)
        raise ConfigError(lines) from None
    if "source_path" in raw:
        raise ConfigError([f"{source}: source_path: unknown key (typo?)"])
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as err:
        blamed = (overrides, given) if user_overrides else ((), ())
        raise ConfigError(_format_validation_error(err, source, *blamed)) from None
    return scenario



def with_overrides(scenario: Scenario, overrides: Iterable[str]) -> Scenario:
    """``scenario`` with ``--set``-style overrides applied (validated afresh; it keeps the
    file it came from, so relative data paths still resolve)."""
    given = list(overrides)
    if not given:
        return scenario
    out = scenario_from_dict(scenario.model_dump(mode="json"), scenario.name, given,
                             user_overrides=True)
    out.source_path = scenario.source_path
    return out


def load_scenario(
    path: str | Path, overrides: Iterable[str] = (), *, check_files: bool = True
) -> Scenario:
    """Load, override and validate a scenario file.

    Parameters
    ----------
    path
        YAML file.
    overrides
        ``"a.b.c=value"`` strings applied before validation.
    check_files
        Also check that the data files it names exist and are readable.

    Raises
    ------
    ConfigError
        With one line per problem (file, field path, what is wrong).
    """
    p = Path(path)
    text = read_config_file(p)
    data = load_yaml_text(text, str(p))
    data = _resolve_extends(data, p, [])
    scenario = scenario_from_dict(data, str(p), overrides, user_overrides=True)
    scenario.source_path = str(p.resolve())
    if check_files:
        check_data_files(scenario, str(p))
    return scenario


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


def _resolve_extends(data: dict[str, Any], path: Path, chain: list[Path]) -> dict[str, Any]:
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
    base = _resolve_extends(base, base_path, [*chain, path.resolve()])
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
