"""Levers: what ``dlsim optimise`` may change, with candidate values and what each costs.

A levers file::

    levers:
      - path: platforms[iserv].clusters[iserv-bbb].nodes   # by name or position
        values: {low: 300, high: 700, step: 25}            # or a list
        cost_eur: {per_unit: 40}                           # × (value − the scenario's value)
      - path: policies.stagger.school_number_slots
        values: [1, 3]
        cost_eur: {1: 0, 3: 0}                             # a cost for every value
      - lever: replace_outdated_servers                    # defined in code (below)
        values: [0, 20, 40]

Levers defined in code (their cost rule is fixed here and documented in docs/optimise.md):

- ``replace_outdated_servers``: N (the value) — the outdated servers of the N schools that
  lost the most pupil-minutes in a baseline run at the same population scale
  (``schools.parquet``'s ``lost_pupil_minutes``; ``round(N × scale)`` schools at a smaller
  scale) are replaced by current ones; cost N × ``costs.server_replacement_eur
  ["outdated"]`` unless ``cost_eur`` is given.

The file is validated like a scenario: unknown keys, a path that does not exist, values of
the wrong type (each value is validated in the scenario), an empty range or a missing cost →
:class:`~sim.config.ConfigError` naming the file and the lever (exit 2 on the command line).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.config import ConfigError, Scenario, scenario_from_dict
from sim.config.loading import _defaults_as_data
from sim.config.paths import named, positional, split

CODE_LEVERS = ("replace_outdated_servers",)
MAX_VALUES = 10_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Range(_Strict):
    low: float
    high: float
    step: Annotated[float, Field(gt=0)]


class _PerUnit(_Strict):
    per_unit: float


class _LeverSpec(_Strict):
    path: str | None = None
    lever: Literal["replace_outdated_servers"] | None = None
    values: _Range | list[Any]
    cost_eur: _PerUnit | dict[Any, float] | None = None


class _LeversFile(_Strict):
    levers: Annotated[list[_LeverSpec], Field(min_length=1)]


@dataclass(frozen=True)
class Lever:
    """One lever: a config path (``path``) or a code lever (``kind``), values, cost rule."""

    name: str
    """As printed: the named path, or the code lever's name."""
    kind: str
    """``path`` or a name in :data:`CODE_LEVERS`."""
    path: str | None
    """Positional config path (``kind == "path"``)."""
    values: tuple[Any, ...]
    current: Any
    per_unit: float | None
    table: dict[Any, float] | None

    def cost(self, value: Any) -> float:
        """€ of setting the lever to ``value`` (relative to the scenario as given)."""
        if self.table is not None:
            return float(self.table[_key(value)])
        assert self.per_unit is not None
        base = self.current if isinstance(self.current, int | float) else 0
        return float(self.per_unit * (value - base))

    def overrides(self, value: Any, ranking: Sequence[int], scale: float = 1.0) -> list[str]:
        """``--set`` overrides realising ``value`` (``ranking``: schools, worst first).

        A school count is a count at full scale: a run at population scale ``s`` replaces
        ``round(N × s)`` servers (its population has about ``s`` times the schools).
        """
        if self.kind == "path":
            return [f"{self.path}={yaml.safe_dump(value, default_flow_style=True).strip()}"
                    .replace("\n...", "")]
        ids = sorted(int(i) for i in ranking[: round(int(value) * scale)])
        return [f"assignment.replaced_servers={ids}"]


def _key(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _expand(spec: _LeverSpec, where: str) -> list[Any]:
    if isinstance(spec.values, list):
        if not spec.values:
            raise ConfigError([f"{where}: values: the list is empty"])
        return list(spec.values)
    r = spec.values
    if r.high < r.low:
        raise ConfigError([f"{where}: values: empty range (high {r.high:g} < low {r.low:g})"])
    n = math.floor((r.high - r.low) / r.step + 1e-9) + 1
    if n > MAX_VALUES:
        raise ConfigError([f"{where}: values: {n} values (at most {MAX_VALUES})"])
    whole = all(float(x).is_integer() for x in (r.low, r.high, r.step))
    vals = [r.low + i * r.step for i in range(n)]
    return [int(v) for v in vals] if whole else vals


def _current(scenario: Scenario, path: str, where: str) -> Any:
    node: Any = scenario.model_dump(mode="json")
    for tok in split(path):
        if isinstance(tok, int):
            if not isinstance(node, list) or tok >= len(node):
                raise ConfigError([f"{where}: path: no list element [{tok}] in the scenario"])
            node = node[tok]
        else:
            if not isinstance(node, dict) or tok not in node:
                raise ConfigError([f"{where}: path: no setting {tok!r} in the scenario"])
            node = node[tok]
    return node


def load_levers(file: str | Path, scenario: Scenario) -> list[Lever]:
    """Read and validate a levers file against ``scenario`` (:class:`ConfigError` if bad)."""
    file = Path(file)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"{file}: cannot read the levers file ({exc.strerror})"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{file}: not valid YAML ({exc})"]) from None
    try:
        doc = _LeversFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            loc = e["loc"]
            at = ".".join(str(x) for x in loc)
            if len(loc) >= 2 and loc[0] == "levers" and isinstance(loc[1], int):
                at = f"lever {loc[1] + 1}: " + ".".join(str(x) for x in loc[2:])
            problems.append(f"{file}: {at}: {e['msg']}")
        raise ConfigError(problems) from None
    dump = scenario.model_dump(mode="json")
    levers: list[Lever] = []
    for i, spec in enumerate(doc.levers):
        label = spec.path or spec.lever or "?"
        where = f"{file}: lever {i + 1} ({label})"
        if (spec.path is None) == (spec.lever is None):
            raise ConfigError([f"{where}: give exactly one of path (a config path) or lever "
                               f"(one of {', '.join(CODE_LEVERS)})"])
        values = _expand(spec, where)
        if len({repr(_key(v)) for v in values}) != len(values):
            raise ConfigError([f"{where}: values: a value is listed twice"])
        per_unit = table = None
        if isinstance(spec.cost_eur, _PerUnit):
            per_unit = spec.cost_eur.per_unit
        elif isinstance(spec.cost_eur, dict):
            table = {_key(k): float(v) for k, v in spec.cost_eur.items()}
            missing = [v for v in values if _key(v) not in table]
            if missing:
                raise ConfigError([f"{where}: cost_eur: no cost for the value(s) "
                                   f"{', '.join(repr(m) for m in missing)}"])
        if spec.path is not None:
            pos = positional(dump, spec.path, _defaults_as_data(), where=where)
            current = _current(scenario, pos, where)
            if isinstance(current, dict | list) and not isinstance(values[0], dict | list):
                raise ConfigError([f"{where}: path: {spec.path} is a section, not a setting"])
            if spec.cost_eur is None:
                raise ConfigError([f"{where}: cost_eur: missing (per_unit or a cost per value;"
                                   " zero is a legitimate cost but must be stated)"])
            if per_unit is not None and not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in [*values, current]
            ):
                raise ConfigError([f"{where}: cost_eur: per_unit needs numeric values"])
            lever = Lever(named(dump, pos), "path", pos, tuple(values), current, per_unit, table)
        else:
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                       for v in values):
                raise ConfigError([f"{where}: values: school counts must be whole numbers ≥ 0"])
            if spec.cost_eur is None:
                per_unit = scenario.costs.server_replacement_eur.get("outdated", 0.0)
            lever = Lever(str(spec.lever), str(spec.lever), None, tuple(values), 0,
                          per_unit, table)
        for v in values:  # every value must be valid in the scenario (types, bounds)
            try:
                scenario_from_dict(dump, f"{where}: value {v!r}", lever.overrides(v, []))
            except ConfigError as exc:
                raise ConfigError(exc.problems) from None
        levers.append(lever)
    names = [lv.name for lv in levers]
    if len(set(names)) != len(names):
        raise ConfigError([f"{file}: the same lever appears twice"])
    return levers
