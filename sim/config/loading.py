"""Loading scenarios: a file (:mod:`sim.config.files`, :mod:`sim.config.safe_yaml`), its
``extends:`` (:mod:`sim.config.composition`) and ``--set`` overrides
(:mod:`sim.config.overrides`) validated into a :class:`Scenario`, one line per problem
(:mod:`sim.config.error_lines`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.config.base import ConfigError
from sim.config.composition import resolve_extends
from sim.config.error_lines import format_validation_error
from sim.config.files import check_data_files, read_config_file
from sim.config.models import Scenario
from sim.config.overrides import (
    apply_overrides,
    defaults_as_data,
    materialise_defaults,
    resolve_names,
)
from sim.config.safe_yaml import load_yaml_text


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
        overrides = resolve_names(raw, given, defaults_as_data())
    try:
        raw = materialise_defaults(raw, overrides)
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
        raise ConfigError(format_validation_error(err, source, *blamed)) from None
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
    data = resolve_extends(data, p, [])
    scenario = scenario_from_dict(data, str(p), overrides, user_overrides=True)
    scenario.source_path = str(p.resolve())
    if check_files:
        check_data_files(scenario, str(p))
    return scenario
