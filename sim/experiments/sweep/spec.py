"""Sweep files: a base scenario, parameters by config path with values, replications, seed.

```yaml
name: nodes-x-stagger
base: ../lower-saxony-scenario-c.yaml      # relative to this file
overrides: [population.scale=0.05]         # applied to the base first
parameters:                                # grid: every combination (first one slowest)
  platforms[0].clusters[0].nodes: [8, 12, 16, 20, 24]
  timetable.school_start_spread_min: [0, 10, 20, 30, 45]
replications: 5
seed: 1
```

or a Latin hypercube sample: ``sampling: lhs``, ``points: 20`` and ``{low, high}`` ranges
(rounded to integers when both bounds are integers, or with ``integer: true``); the sample is
``scipy.stats.qmc.LatinHypercube`` seeded from the seed tree (stream ``sweep.lhs`` of
``seed``). The point sets differ from those of the earlier hand-written sampler.

Config paths name list elements by position or by name
(``platforms[iserv].clusters[iserv-bbb].nodes``), in ``parameters`` and in ``overrides``.

Every parameter value and every point is validated against the scenario before anything runs:
a bad sweep file is a :class:`ConfigError` (exit 2) naming the file, the field and the problem.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.config import (
    MAX_COUNT,
    MAX_QUANTITY,
    ConfigError,
    Scenario,
    Seed,
    load_scenario,
    load_yaml_text,
    read_config_file,
    scenario_from_dict,
)
from sim.config.paths import named
from sim.experiments.executors import Task
from sim.model.seeds import SeedTree

PARAM = "param:"
"""Prefix of the parameter columns in results.parquet and summary.parquet."""
MAX_TASKS = 1_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Range(_Strict):
    """A continuous (or integer) range for Latin hypercube sampling."""

    low: int | float
    high: int | float
    integer: bool | None = None
    """Round sampled values to integers (default: when both bounds are integers)."""


Scalar = int | float | bool | str


class SweepSpec(_Strict):
    """What a sweep file may say."""

    name: str = ""
    description: str = ""
    base: Annotated[str, Field(min_length=1)]
    overrides: list[str] = Field(default_factory=list)
    sampling: Literal["grid", "lhs"] = "grid"
    points: Annotated[int, Field(gt=0, le=100_000)] | None = None
    parameters: Annotated[dict[str, list[Scalar] | Range], Field(min_length=1)]
    replications: Annotated[int, Field(ge=1, le=10_000)] = 1
    seed: Seed = 1


def format_value(value: Any) -> str:
    """A parameter value as the right-hand side of an override (YAML that parses back to it)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        r = repr(value)
        return r if "." in r and "e" not in r else np.format_float_positional(value)
    # a YAML double-quoted scalar, every non-ASCII character escaped: parses back exactly
    text = yaml.dump(
        str(value), Dumper=yaml.SafeDumper, default_style='"', allow_unicode=False, width=math.inf
    )
    return text.strip().removesuffix("...").strip()


def override(path: str, value: Any) -> str:
    """``path=value`` as ``--set`` takes it."""
    return f"{path}={format_value(value)}"


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:  # a key with a control character is shown escaped: one problem, one line
            out += ("." if out else "") + (part if part.isprintable() else repr(part))
    return out or "(top level)"


def _spec_problems(err: ValidationError, source: str, data: dict[str, Any]) -> list[str]:
    raw = data.get("parameters")
    lines = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        # a parameter is a list or a range: report only the branch matching what was written
        if len(loc) >= 3 and loc[0] == "parameters" and isinstance(raw, dict):
            wrote_range = isinstance(raw.get(loc[1]), dict)
            if str(loc[2]).startswith("list") == wrote_range:
                continue
            loc = loc[:2] + loc[3:]
        msg = "unknown key (typo?)" if e["type"] == "extra_forbidden" else e["msg"]
        lines.append(f"{source}: {_loc(loc)}: {msg}")
    return lines


def _check_spec(spec: SweepSpec, source: str) -> list[str]:
    problems = []
    for path, values in spec.parameters.items():
        where = f"{source}: parameters.{path}"
        if spec.sampling == "grid":
            if isinstance(values, Range):
                problems.append(f"{where}: a range needs 'sampling: lhs' (grid takes a list)")
                continue
            if not values:
                problems.append(f"{where}: no values")
            if any(isinstance(v, float) and not math.isfinite(v) for v in values):
                problems.append(f"{where}: values must be finite")
            elif any(_too_large(v) for v in values):
                problems.append(f"{where}: values must lie within ±{MAX_QUANTITY:g} (integers "
                                f"within ±{MAX_INT:,}): no setting takes more")
            if len(values) > MAX_VALUES:
                problems.append(f"{where}: {len(values):,} values is more than {MAX_VALUES:,}")
            if len({json.dumps(v) for v in values}) != len(values):
                problems.append(f"{where}: duplicate values")
            kinds = {
                "number"
                if isinstance(v, int | float) and not isinstance(v, bool)
                else type(v).__name__
                for v in values
            }
            if len(kinds) > 1:
                problems.append(f"{where}: values mix types ({', '.join(sorted(kinds))})")
        else:
            if not isinstance(values, Range):
                problems.append(f"{where}: 'sampling: lhs' takes a range {{low, high}}")
            elif not (
                math.isfinite(values.low)
                and math.isfinite(values.high)
                and values.low < values.high
            ):
                problems.append(f"{where}: need finite low < high")
            elif _too_large(values.low) or _too_large(values.high):
                problems.append(f"{where}: low and high must lie within ±{MAX_QUANTITY:g}: no "
                                "setting takes more")
    if spec.sampling == "lhs" and spec.points is None:
        problems.append(f"{source}: points: 'sampling: lhs' needs the number of points")
    if spec.sampling == "grid" and spec.points is not None:
        problems.append(
            f"{source}: points: only with 'sampling: lhs' (a grid takes every combination)"
        )
    return problems


MAX_VALUES = 10_000
"""Values of one grid parameter (a longer list is a mistake, and is parsed before any check)."""
MAX_INT = MAX_COUNT * 1000
"""Largest integer a sweep value may be: every count of the scenario is at most MAX_COUNT;
far below int64, so the parameter columns of the results always fit."""


def _too_large(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    return abs(v) > (MAX_INT if isinstance(v, int) else MAX_QUANTITY)


def grid_size(spec: SweepSpec) -> int:
    """Points of the grid, computed without building it."""
    return math.prod(len(v) for v in spec.parameters.values() if not isinstance(v, Range))


def _grid(spec: SweepSpec) -> list[dict[str, Any]]:
    paths = list(spec.parameters)
    lists = [spec.parameters[p] for p in paths]
    return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*lists)]


def _lhs(spec: SweepSpec) -> list[dict[str, Any]]:
    """Latin hypercube of ``points`` points over the ranges (``scipy.stats.qmc``): each range
    cut into ``points`` strata, one point in each stratum of each range, the strata of the
    ranges paired at random. Seeded from stream ``sweep.lhs`` of the seed tree, so the same
    seed gives the same points (the same design as the hand-written sampler this replaced,
    but other point sets for a given seed)."""
    from scipy.stats import qmc

    n = int(spec.points or 0)
    ranges = list(spec.parameters.items())
    rng = SeedTree(spec.seed).rng("sweep.lhs")
    u = qmc.LatinHypercube(d=len(ranges), rng=rng).random(n)
    out: list[dict[str, Any]] = [{} for _ in range(n)]
    for col, (path, r) in enumerate(ranges):
        assert isinstance(r, Range)
        x = qmc.scale(u[:, [col]], [r.low], [r.high])[:, 0]
        integer = (
            r.integer
            if r.integer is not None
            else (isinstance(r.low, int) and isinstance(r.high, int))
        )
        for i in range(n):
            out[i][path] = round(float(x[i])) if integer else float(x[i])
    return out


@dataclass
class Sweep:
    """A validated sweep: its points, seeds and the tasks to run."""

    spec: SweepSpec
    path: Path
    name: str
    base: Scenario
    base_config_hash: str
    points: list[dict[str, Any]]
    seeds: list[int]
    tasks: list[Task]
    point_hashes: list[str]

    @property
    def parameters(self) -> list[str]:
        """The swept config paths, in file order."""
        return list(self.spec.parameters)

    @property
    def named_parameters(self) -> dict[str, str]:
        """Each swept path as written → the same path with list elements by name
        (``platforms[0].clusters[0].nodes`` → ``platforms[iserv].clusters[iserv-bbb].nodes``),
        the form to print."""
        dump = self.base.model_dump(mode="json")
        return {p: named(dump, p) for p in self.spec.parameters}

    @property
    def columns(self) -> list[str]:
        """Their columns in results and summary: ``param:<path>``."""
        return [PARAM + p for p in self.spec.parameters]

    def identity(self) -> dict[str, Any]:
        """What makes two sweep files "the same sweep" (replications may grow: rows are keyed
        by point and replication, and replication i's seed does not depend on R)."""
        return {
            "base_config_hash": self.base_config_hash,
            "parameters": self.parameters,
            "points": self.points,
            "seed": self.spec.seed,
        }

    def identity_hash(self) -> str:
        payload = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def row_key(point: dict[str, Any], replication: int, seed: int, base_hash: str) -> str:
    """Identity of one (point, replication) row: stable across runs and machines."""
    from sim.runs.provenance import model_version

    # the model's version too: a row computed by another model never matches (issue 30)
    payload = json.dumps(
        [sorted(point.items()), replication, seed, base_hash, model_version()],
        separators=(",", ":"), default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _value_problems(
    sweep_src: str, dump: dict[str, Any], points: list[dict[str, Any]]
) -> list[str]:
    """Problems of each parameter value on its own (one per parameter is enough)."""
    problems: list[str] = []
    bad_paths: set[str] = set()
    for point in points:
        for path, v in point.items():
            if path in bad_paths:
                continue
            ov = override(path, v)
            try:
                scenario_from_dict(dump, f"{sweep_src}: parameters.{ov}", [ov])
            except ConfigError as exc:
                bad_paths.add(path)
                problems += [
                    line.replace(f"--set {ov}:", f"{sweep_src}: parameters.{ov}:")
                    for line in exc.problems
                ]
    return problems


def _point_hashes(
    sweep_src: str, base: Scenario, dump: dict[str, Any], points: list[dict[str, Any]]
) -> list[str]:
    """Config hash of every point's scenario (:class:`ConfigError` if a combination fails)."""
    hashes: list[str] = []
    problems: list[str] = []
    data: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for p, point in enumerate(points):
        sets = [override(k, v) for k, v in point.items()]
        try:
            sc = scenario_from_dict(dump, f"{sweep_src}: point {p} ({', '.join(sets)})", sets)
        except ConfigError as exc:
            problems += exc.problems
            if len(problems) >= 20:
                break
            continue
        sc.source_path = base.source_path
        try:
            _check_point_against_data(sc, base, f"{sweep_src}: point {p} ({', '.join(sets)})", data)
        except ConfigError as exc:
            problems += exc.problems
            if len(problems) >= 20:
                break
        hashes.append(sc.config_hash())
    if problems:
        raise ConfigError(problems)
    return hashes


def _check_point_against_data(
    sc: Scenario, base: Scenario, source: str,
    cache: dict[tuple[str, str], tuple[set[str], set[str]]],
) -> None:
    """What ``dlsim validate`` checks with the data files, for one point: the tables and the
    memory estimate once per pair of data files, the names the point refers to every time."""
    from sim.config.references import reference_problems
    from sim.model.population import load_marginals

    key = (str(sc.resolve_path(sc.population.school_types_file)),
           str(sc.resolve_path(sc.population.regions_file)))
    if key not in cache:
        # the tables (and the memory estimate) of the base's data files are checked against
        # the base, whose file they are named in; swept data files against the point
        base_key = (str(base.resolve_path(base.population.school_types_file)),
                    str(base.resolve_path(base.population.regions_file)))
        _, regions = load_marginals(base if key == base_key else sc)
        import pandas as pd  # every type of the file (load_marginals returns the selected ones)

        cache[key] = (set(pd.read_csv(key[0])["school_type"]), set(regions["region"]))
    type_names, region_names = cache[key]
    problems = reference_problems(sc, type_names, region_names, source)
    if problems:
        raise ConfigError(problems)


def check_spec(data: dict[str, Any], src: str) -> SweepSpec:
    """Validate a sweep's settings (a sweep file's mapping): :class:`ConfigError` with one
    line per problem, ``<src>: <field>: <what is wrong>``."""
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_spec_problems(err, src, data)) from None
    problems = _check_spec(spec, src)
    if problems:
        raise ConfigError(problems)
    return spec


def load_sweep(
    path: str | Path, replications: int | None = None, data: dict[str, Any] | None = None
) -> Sweep:
    """Read and validate a sweep file; build its points and tasks.

    Parameters
    ----------
    path
        The sweep YAML file.
    replications
        Override the file's ``replications``.
    data
        The file's contents already parsed (a what-if grid file is a sweep file with keys of
        its own, which its reader removes first); ``path`` still names the file in errors
        and resolves ``base``.

    Raises
    ------
    ConfigError
        One line per problem (file, field path, what is wrong).
    """
    p = Path(path)
    src = str(p)
    if data is None:
        data = load_yaml_text(read_config_file(p), src)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_spec_problems(err, src, data)) from None
    if replications is not None:
        spec = spec.model_copy(update={"replications": replications})
    problems = _check_spec(spec, src)
    if problems:
        raise ConfigError(problems)
    base_path = (p.resolve().parent / spec.base).resolve()
    if not base_path.is_file():
        raise ConfigError([f"{src}: base: no such scenario file: {base_path}"])
    base = load_scenario(base_path, spec.overrides)
    return build_sweep(spec, base, p, spec.name or p.stem)


def build_sweep(spec: SweepSpec, base: Scenario, path: Path, name: str) -> Sweep:
    """Points, seeds and tasks of a checked ``spec`` on ``base`` (its overrides applied).

    ``path`` names where the sweep came from in messages and in ``sweep.json`` (the sweep
    file, or a label for a sweep built in Python by :func:`sim.api.sweep`).
    """
    src = str(path)
    n_points = grid_size(spec) if spec.sampling == "grid" else int(spec.points or 0)
    n_tasks = n_points * spec.replications
    if n_tasks > MAX_TASKS:  # before the grid is built: 10^9 points would not fit in memory
        raise ConfigError([
            f"{src}: parameters: {n_points:,} points × {spec.replications} replications = "
            f"{n_tasks:,} runs is more than {MAX_TASKS:,}; use fewer values, or "
            "'sampling: lhs' with a number of points"
        ])
    points = _grid(spec) if spec.sampling == "grid" else _lhs(spec)
    dump = base.model_dump(mode="json")
    if spec.sampling == "grid":  # a bad value is reported once, not at every point it is in
        problems = _value_problems(src, dump, points)
        if problems:
            raise ConfigError(problems)
    hashes = _point_hashes(src, base, dump, points)
    from sim.model.seeds import replication_seeds

    seeds = replication_seeds(spec.seed, spec.replications)
    base_hash = base.config_hash()
    tasks: list[Task] = []
    for i, point in enumerate(points):
        sets = tuple(override(k, v) for k, v in point.items())
        for r, seed in enumerate(seeds):
            tasks.append(
                Task(
                    key=row_key(point, r, seed, base_hash),
                    base=dump,
                    overrides=sets,
                    seed=seed,
                    source_path=base.source_path,
                    labels={
                        "point": i,
                        "replication": r,
                        **{PARAM + k: v for k, v in point.items()},
                        "config_hash": hashes[i],
                    },
                )
            )
    return Sweep(
        spec=spec,
        path=path,
        name=name,
        base=base,
        base_config_hash=base_hash,
        points=points,
        seeds=seeds,
        tasks=tasks,
        point_hashes=hashes,
    )
