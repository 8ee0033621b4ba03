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
      - lever: move_region_to_platform                     # defined in code (below)
        platform: hannover-city
        values: [none, hannover_stadt, [hannover_stadt, hannover]]

Levers defined in code (their cost rule is fixed here and in :mod:`sim.model.costs`, documented in
docs/optimise.md):

- ``replace_outdated_servers``: N (the value) — the outdated servers of the N schools whose
  own server lost the most pupil-minutes in a baseline run at the same population scale (the
  direct attribution's ``school_server_crash`` + ``school_server:outdated``, see
  :func:`rankings`; ``round(N × scale)`` schools at a smaller scale) are replaced by current
  ones (``assignment.replaced_servers``); cost N × ``costs.server_replacement_eur
  ["outdated"]`` unless ``cost_eur`` is given.
- ``upgrade_uplinks``: N — the uplinks of the N on-premise schools whose uplink lost the most
  pupil-minutes (``uplink_congestion``: answers that waited for the school's upload bandwidth
  past the client's time-out, ``sim/model/causes.py``), among those not already in the
  fastest class, go to the next faster class of ``assignment.uplink_mix``
  (``assignment.upgraded_uplinks``); same scale rule; cost N × ``costs.uplink_upgrade_eur``.
- ``move_region_to_platform`` (with ``platform: P``): each value is ``none``, a region or a
  list of regions — every school of those regions not already on P moves to P and is hosted
  there (``assignment.region_moves``, applied after the platform draw so no other school
  changes); cost from the population built at scale 1 (:func:`sim.model.costs.central_moves`):
  ``costs.central_move_eur`` per school moved + ``costs.central_per_pupil_year_eur`` per pupil
  moved for one school year. Whether P has the capacity for them is for the KPIs to show.

The file is validated like a scenario: unknown keys, a path that does not exist, values of
the wrong type (each value is validated in the scenario), an empty range or a missing cost →
:class:`~sim.config.ConfigError` naming the file and the lever (exit 2 on the command line).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from sim.config import ConfigError, Scenario, scenario_from_dict
from sim.config.files import read_config_file
from sim.config.overrides import defaults_as_data
from sim.config.paths import named, positional, split
from sim.model.costs import central_moves, lever_room, move_eur, per_school_eur

CODE_LEVERS = ("replace_outdated_servers", "upgrade_uplinks", "move_region_to_platform")
RANKED_LEVERS = {"replace_outdated_servers": "servers", "upgrade_uplinks": "uplinks"}
"""The code levers that need a ranking of schools (a baseline run), and what they price."""
NO_MOVE = "none"
MAX_VALUES = 10_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Finite = Annotated[float, Field(allow_inf_nan=False)]
"""A number that means something: not NaN, not ±infinity."""


class _Range(_Strict):
    low: Finite
    high: Finite
    step: Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _PerUnit(_Strict):
    # ≥ 0: fewer units than the scenario's already cost less (a negative cost); a negative
    # price per unit would make every added unit a saving
    per_unit: Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _LeverSpec(_Strict):
    path: str | None = None
    lever: Literal["replace_outdated_servers", "upgrade_uplinks",
                   "move_region_to_platform"] | None = None
    platform: str | None = None
    # which form is meant is told by its keys, so that a problem is reported for that form
    # only (not "or else it should have been a table" as well)
    values: Annotated[
        Annotated[_Range, Tag("range")] | Annotated[list[Any], Tag("list")],
        Discriminator(lambda v: "range" if isinstance(v, dict | _Range) else "list")]
    cost_eur: Annotated[
        Annotated[_PerUnit, Tag("per_unit")] | Annotated[dict[Any, Finite], Tag("table")],
        Discriminator(lambda v: "per_unit" if isinstance(v, _PerUnit) or (
            isinstance(v, dict) and "per_unit" in v) else "table")] | None = None


_FORMS = ("range", "list", "per_unit", "table")
"""Tags of the forms ``values`` and ``cost_eur`` take: left out of a problem's field path
right after ``values``/``cost_eur`` (``per_unit`` is also a key, one level further down)."""


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
    platform: str | None = None
    """The platform a ``move_region_to_platform`` lever moves regions to."""

    def cost(self, value: Any) -> float:
        """€ of setting the lever to ``value`` (relative to the scenario as given)."""
        if self.table is not None:
            return float(self.table[_key(value)])
        assert self.per_unit is not None
        base = self.current if isinstance(self.current, int | float) else 0
        return float(self.per_unit * (value - base))

    def overrides(self, value: Any, ranking: Sequence[int] | Mapping[str, Sequence[int]],
                  scale: float = 1.0) -> list[str]:
        """``--set`` overrides realising ``value`` (``ranking``: schools, worst first — this
        lever's list, or :func:`rankings`' mapping by lever kind).

        A school count is a count at full scale: a run at population scale ``s`` changes
        ``round(N × s)`` schools (its population has about ``s`` times the schools).
        """
        if self.kind == "path":
            return [f"{self.path}={yaml.safe_dump(value, default_flow_style=True).strip()}"
                    .replace("\n...", "")]
        if self.kind == "move_region_to_platform":
            return [f"assignment.region_moves.{r}={self.platform}" for r in move_regions(value)]
        if isinstance(ranking, Mapping):
            ranking = ranking.get(self.kind, [])
        ids = sorted(int(i) for i in ranking[: round(int(value) * scale)])
        hook = "replaced_servers" if self.kind == "replace_outdated_servers" else "upgraded_uplinks"
        return [f"assignment.{hook}={ids}"]


def move_regions(value: Any) -> list[str]:
    """The regions a ``move_region_to_platform`` value names (``none``/null: no region)."""
    if value is None or value == NO_MOVE:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


SERVER_CAUSES = ("school_server_crash", "school_server:outdated")
"""Minutes charged to a school's own server by the direct attribution (``sim/model/causes.py``)."""
QUEUE_CAUSES = ("uplink_congestion",)
"""Minutes charged to a school's uplink (its upload bandwidth, a resource of its own)."""


def rankings(schools: Any, uplink_mix: Sequence[float] | None = None) -> dict[str, list[int]]:
    """Schools worst first for each ranked code lever, from a baseline run's schools table
    (``schools.parquet``: ``school``, ``server``, ``uplink_mbit_s``, ``lost_pupil_minutes:*``).

    - ``replace_outdated_servers``: outdated servers by the minutes charged to the school's
      server (:data:`SERVER_CAUSES`: its overload crashes and its slow service);
    - ``upgrade_uplinks``: on-premise schools not in the fastest uplink class (of
      ``uplink_mix``, default: the fastest in the table) by the minutes charged to their
      uplink (:data:`QUEUE_CAUSES`); ties: the slower uplink first.

    Schools with no such minutes come last, so N schools change as long as N schools can: a
    value above what the state has is refused when the levers are read (:func:`_check_room`);
    at a miniature, whose own draw may have a school or two fewer than ``round(N × scale)``,
    the listed ones change. Ties otherwise by school number.
    """
    import pandas as pd

    s = pd.DataFrame(schools)

    def charged(causes: Sequence[str]) -> Any:
        cols = [f"lost_pupil_minutes:{c}" for c in causes if f"lost_pupil_minutes:{c}" in s]
        return s[cols].sum(axis=1) if cols else pd.Series(0.0, index=s.index)

    out: dict[str, list[int]] = {}
    srv = s.assign(_m=charged(SERVER_CAUSES))
    srv = srv[srv["server"] == "outdated"]
    out["replace_outdated_servers"] = [
        int(x) for x in srv.sort_values(["_m", "school"], ascending=[False, True])["school"]]
    top = max(uplink_mix) if uplink_mix else float(s["uplink_mbit_s"].max())
    up = s.assign(_m=charged(QUEUE_CAUSES))
    up = up[up["server"].isin(["current", "outdated"]) & (up["uplink_mbit_s"] < top)]
    out["upgrade_uplinks"] = [int(x) for x in up.sort_values(
        ["_m", "uplink_mbit_s", "school"], ascending=[False, True, True])["school"]]
    return out


def _key(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):  # a list of regions (move_region_to_platform)
        return tuple(value)
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
    # a regular UTF-8 file of bounded size (not a FIFO, /dev/zero or a directory)
    text = read_config_file(file)
    try:
        raw = yaml.safe_load(text)  # not the scenario loader: a cost table may key null
    except yaml.YAMLError as exc:
        raise ConfigError([f"{file}: not valid YAML ({' '.join(str(exc).split())})"]) from None
    if not isinstance(raw, dict):
        got = "an empty file" if raw is None else f"a {type(raw).__name__}"
        raise ConfigError([f"{file}: expected a mapping with the key levers: (a list of "
                           f"levers), got {got}"])
    try:
        doc = _LeversFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            # the discriminators' tags name a form, not a key of the file
            loc = tuple(x for i, x in enumerate(e["loc"])
                        if not (i and e["loc"][i - 1] in ("values", "cost_eur") and x in _FORMS))
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
        if spec.path is not None and spec.platform is not None:
            raise ConfigError([f"{where}: platform: only move_region_to_platform takes a "
                               "platform"])
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
            pos = positional(dump, spec.path, defaults_as_data(), where=where)
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
        elif spec.lever == "move_region_to_platform":
            lever = _move_lever(spec, values, scenario, where)
        else:
            if spec.platform is not None:
                raise ConfigError([f"{where}: platform: only move_region_to_platform takes a "
                                   "platform"])
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                       for v in values):
                raise ConfigError([f"{where}: values: school counts must be whole numbers ≥ 0"])
            _check_room(scenario, str(spec.lever), max(values), where)
            if spec.cost_eur is None:
                per_unit = per_school_eur(scenario, RANKED_LEVERS[str(spec.lever)], 1)
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
    seen: dict[str, str] = {}
    for lv in levers:
        if lv.kind != "move_region_to_platform":
            continue
        for v in lv.values:
            for r in move_regions(v):
                if seen.setdefault(r, lv.name) != lv.name:
                    raise ConfigError([f"{file}: lever {lv.name}: region {r!r} is also moved "
                                       f"by {seen[r]} (a region moves to one platform; give "
                                       "the choice as one lever per region set)"])
    return levers


def _check_room(scenario: Scenario, kind: str, most: int, where: str) -> None:
    """A ranked lever asking for more schools than the state has for it: exit 2 naming both
    numbers (never priced at N while changing fewer)."""
    servers, uplinks = lever_room(scenario)
    if kind == "replace_outdated_servers":
        has, what = servers, "outdated on-premise school servers"
    else:
        top = max(u.mbit_s for u in scenario.assignment.uplink_mix)
        has, what = uplinks, f"on-premise school uplinks below the fastest class ({top:g} Mbit/s)"
    if most > has:
        raise ConfigError([f"{where}: values: {most:,} asked for, but the state has {has:,} "
                           f"{what} (the population at scale 1, population.seed "
                           f"{scenario.population.seed})"])


def _move_lever(spec: _LeverSpec, values: list[Any], scenario: Scenario, where: str) -> Lever:
    """A ``move_region_to_platform`` lever, priced from the population built at scale 1."""
    from sim.model.population import load_marginals

    if spec.platform is None:
        raise ConfigError([f"{where}: platform: missing (the platform the regions move to)"])
    known = [p.name for p in scenario.platforms]
    if spec.platform not in known:
        raise ConfigError([f"{where}: platform: unknown platform {spec.platform!r} "
                           f"(known: {', '.join(known)})"])
    if spec.cost_eur is not None:
        raise ConfigError([f"{where}: cost_eur: a move is priced by the scenario's costs "
                           "section (costs.central_move_eur per school, "
                           "costs.central_per_pupil_year_eur per pupil and year); set those"])
    _, regions = load_marginals(scenario)
    region_names = [str(r) for r in regions["region"]]
    for v in values:
        if not (v is None or isinstance(v, str) or (
                isinstance(v, list) and v and all(isinstance(r, str) for r in v))):
            raise ConfigError([f"{where}: values: {v!r} is not none, a region or a list of "
                               "regions"])
        for r in move_regions(v):
            if r not in region_names:
                raise ConfigError([f"{where}: values: unknown region {r!r} "
                                   f"(known: {', '.join(region_names)})"])
    # a list of regions as a tuple: a combination of values is a key of the optimiser's tables
    values = [tuple(v) if isinstance(v, list) else v for v in values]
    dump = scenario.model_dump(mode="json")
    base = move_eur(scenario, *central_moves(scenario))
    table: dict[Any, float] = {}
    lever = Lever(f"move_region_to_platform[{spec.platform}]", "move_region_to_platform", None,
                  tuple(values), NO_MOVE, None, table, spec.platform)
    for v in values:
        moved = scenario_from_dict(dump, f"{where}: value {v!r}", lever.overrides(v, []))
        moved.source_path = scenario.source_path
        # the cost of the scenario's moves with this value, less those it has already
        table[_key(v)] = move_eur(scenario, *central_moves(moved)) - base
    return lever
