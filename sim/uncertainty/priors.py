"""Priors files: every uncertain input of a scenario as a distribution.

```yaml
name: default-day
scenario: ../lower-saxony-scenario-c.yaml   # the paths are checked against it (optional)
inputs:
  - path: assignment.outdated_share           # a config path, as --set takes it
    dist: uniform                             # a scipy.stats name, or discrete
    params: {loc: 0.2, scale: 0.3}            # scipy's own parameter names
    source: A24                               # a row of data/SOURCES.md
  - path: school_servers.tiers.outdated.login_service_s
    dist: loguniform
    params: {a: 1.5, b: 7.5}
    tied: {school_servers.tiers.outdated.join_service_s: 0.2}   # set to value × 0.2
    source: A44
  - path: population.seed                     # the generated population is an input too
    dist: discrete
    params: {values: [2021, 2022, 2023], weights: [1, 1, 1]}
    source: A140
```

``dist`` is any continuous distribution of ``scipy.stats`` (uniform, loguniform, beta, triang,
truncnorm, …) with ``params`` as scipy names them (shape parameters, ``loc``, ``scale``), or
``discrete`` with ``values`` and optional ``weights`` (normalised). Every prior must have a
finite, non-empty support: sensitivity analysis and calibration both need bounds. ``integer:
true`` rounds draws (a count); a discrete prior of whole numbers gives whole numbers.
``tied`` sets further paths to the drawn value times a factor (one input that the scenario
states in several places: an outdated server's login and join times, the CPU law of every
cluster).

Everything is checked before anything runs (:func:`load_priors`): an unknown path, a value of
the support the scenario refuses, an unknown distribution, parameters scipy refuses, an empty
or unbounded support, an unknown source id — one line per problem naming the file and the
field (:class:`ConfigError`, exit 2).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import scipy.stats as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.config import (
    ConfigError,
    Scenario,
    load_scenario,
    load_yaml_text,
    read_config_file,
    scenario_from_dict,
)
from sim.config import paths as config_paths
from sim.config.error_lines import format_loc
from sim.experiments.sweep.spec import override
from sim.model.seeds import SeedTree

REPO = Path(__file__).resolve().parents[2]
SOURCES_MD = REPO / "data" / "SOURCES.md"
SOURCE_ID = re.compile(r"^[SA][1-9][0-9]*$")
DISCRETE = "discrete"
MAX_INPUTS = 100
MAX_DISCRETE_VALUES = 1000
_U_EPS = 1e-12  # the unit cube's edges map to the support's ends (ppf(0) of a discrete is below)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Number = Annotated[float, Field(allow_inf_nan=False)]


class PriorInput(_Strict):
    """One uncertain input: a config path and its distribution."""

    path: Annotated[str, Field(min_length=1, max_length=300)]
    dist: Annotated[str, Field(min_length=1, max_length=50)]
    params: dict[str, Number | list[Number]] = Field(default_factory=dict)
    source: Annotated[str, Field(min_length=1)]
    label: str = ""
    integer: bool = False
    tied: dict[str, Annotated[float, Field(gt=0.0, le=1e6, allow_inf_nan=False)]] = Field(
        default_factory=dict)


class PriorsSpec(_Strict):
    """What a priors file may say."""

    name: str = ""
    description: str = ""
    scenario: str | None = None
    inputs: Annotated[list[PriorInput], Field(min_length=1, max_length=MAX_INPUTS)]


@dataclass
class Priors:
    """A checked priors file: its inputs, their frozen distributions and bounds."""

    spec: PriorsSpec
    source: str
    _frozen: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def inputs(self) -> list[PriorInput]:
        return list(self.spec.inputs)

    @property
    def paths(self) -> list[str]:
        """The inputs' config paths, in file order (the columns of :meth:`sample`)."""
        return [i.path for i in self.spec.inputs]

    def input(self, path: str) -> PriorInput:
        for i in self.spec.inputs:
            if i.path == path:
                return i
        raise KeyError(path)

    def frozen(self) -> dict[str, Any]:
        """Path → the frozen ``scipy.stats`` distribution (``rv_discrete`` for discrete)."""
        return dict(self._frozen)

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Path → (lowest, highest) value of the support."""
        out = {}
        for p, d in self._frozen.items():
            lo, hi = d.support()
            out[p] = (float(lo), float(hi))
        return out

    def sample(self, n: int, seed: int) -> pd.DataFrame:
        """``n`` independent draws from the priors: a column per path.

        Each input draws from its own stream of the seed tree (``priors.<path>``), so adding
        an input never changes another input's draws."""
        tree = SeedTree(seed)
        cols = {}
        for inp in self.spec.inputs:
            x = self._frozen[inp.path].rvs(size=int(n), random_state=tree.rng(f"priors.{inp.path}"))
            cols[inp.path] = self._typed(inp, np.asarray(x, dtype=float))
        return pd.DataFrame(cols)

    def from_unit(self, u: np.ndarray) -> pd.DataFrame:
        """Points of the unit cube (``n × inputs``) → values, through each prior's quantile
        function: a uniform design on the cube is a design with the priors' distribution."""
        u = np.clip(np.atleast_2d(np.asarray(u, dtype=float)), _U_EPS, 1.0 - _U_EPS)
        if u.shape[1] != len(self.spec.inputs):
            raise ValueError(f"{u.shape[1]} columns for {len(self.spec.inputs)} inputs")
        cols = {inp.path: self._typed(inp, np.asarray(self._frozen[inp.path].ppf(u[:, j]),
                                                      dtype=float))
                for j, inp in enumerate(self.spec.inputs)}
        return pd.DataFrame(cols)

    def _typed(self, inp: PriorInput, x: np.ndarray) -> pd.Series:
        if is_integer_input(inp):
            return pd.Series(np.rint(x).astype(np.int64))
        return pd.Series(x)

    def overrides(self, values: Mapping[str, Any]) -> list[str]:
        """``--set``-style overrides that set each input (and what it ties) to ``values``."""
        sets = []
        for path, v in values.items():
            inp = self.input(path)  # KeyError: not an input of these priors
            value = round(float(v)) if is_integer_input(inp) else float(v)
            sets.append(override(path, value))
            for other, factor in inp.tied.items():
                sets.append(override(other, float(value) * factor))
        return sets

    def apply(self, scenario: Scenario, values: Mapping[str, Any]) -> Scenario:
        """``scenario`` with the inputs set to ``values`` (path → value), validated.

        Raises
        ------
        KeyError
            A path that is not an input of these priors.
        ConfigError
            The scenario refuses a value (it names the priors file and the values).
        """
        sets = self.overrides(values)
        where = f"{self.source}: values ({', '.join(sets)})"
        try:
            out = scenario_from_dict(scenario.model_dump(mode="json"), where, sets)
        except ConfigError as exc:
            raise ConfigError([f"{where}: {line.removeprefix('--set ')}"
                               if line.startswith("--set ") else line
                               for line in exc.problems]) from None
        out.source_path = scenario.source_path
        return out


def is_integer_input(inp: PriorInput) -> bool:
    """Draws are whole numbers: ``integer: true``, or a discrete prior of whole numbers."""
    if inp.integer:
        return True
    if inp.dist == DISCRETE:
        values = inp.params.get("values")
        return isinstance(values, list) and all(float(v).is_integer() for v in values)
    return False


# ----------------------------------------------------------------------------- checking
def continuous_names() -> list[str]:
    """The continuous distributions of ``scipy.stats`` by name."""
    return sorted(n for n in dir(st) if isinstance(getattr(st, n, None), st.rv_continuous))


def _freeze_continuous(inp: PriorInput, where: str) -> tuple[Any, list[str]]:
    gen = getattr(st, inp.dist, None)
    if not isinstance(gen, st.rv_continuous):
        return None, [f"{where}.dist: {inp.dist!r} is not a distribution scipy.stats knows "
                      "(e.g. uniform, loguniform, beta, triang, truncnorm; or discrete)"]
    allowed = [*(gen.shapes.replace(" ", "").split(",") if gen.shapes else []), "loc", "scale"]
    problems = []
    for k, v in inp.params.items():
        if k not in allowed:
            problems.append(f"{where}.params.{k}: not a parameter of {inp.dist} "
                            f"(its parameters: {', '.join(allowed)})")
        elif isinstance(v, list):
            problems.append(f"{where}.params.{k}: expected a number, got a list")
    missing = [s for s in allowed[:-2] if s not in inp.params]
    if missing:
        problems.append(f"{where}.params: {inp.dist} needs {', '.join(missing)}")
    if problems:
        return None, problems
    try:
        frozen = gen(**inp.params)
        lo, hi = (float(x) for x in frozen.support())
    except (TypeError, ValueError) as exc:
        return None, [f"{where}.params: scipy refuses them for {inp.dist}: {exc}"]
    shown = ", ".join(f"{k}={v:g}" for k, v in inp.params.items() if not isinstance(v, list))
    if math.isnan(lo) or math.isnan(hi) or not lo < hi:
        return None, [f"{where}.params: empty support: {inp.dist}({shown}) has no values "
                      "(parameters out of their range)"]
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None, [f"{where}.params: {inp.dist}({shown}) is unbounded ({lo:g} to {hi:g}): "
                      "sensitivity and calibration need finite bounds (use e.g. truncnorm)"]
    return frozen, []


def _freeze_discrete(inp: PriorInput, where: str) -> tuple[Any, list[str]]:
    extra = sorted(set(inp.params) - {"values", "weights"})
    if extra:
        return None, [f"{where}.params.{extra[0]}: discrete takes only values and weights"]
    values, weights = inp.params.get("values"), inp.params.get("weights")
    if not isinstance(values, list) or not values:
        return None, [f"{where}.params.values: empty support: discrete needs a non-empty list "
                      "of values"]
    if len(values) > MAX_DISCRETE_VALUES:
        return None, [f"{where}.params.values: {len(values):,} values is more than "
                      f"{MAX_DISCRETE_VALUES:,}"]
    if len(set(values)) != len(values):
        return None, [f"{where}.params.values: duplicate values"]
    w = [1.0] * len(values) if weights is None else weights
    if not isinstance(w, list) or len(w) != len(values):
        return None, [f"{where}.params.weights: need one weight per value ({len(values)})"]
    if any(x < 0 for x in w) or sum(w) <= 0:
        return None, [f"{where}.params.weights: weights must be ≥ 0 and not all 0 (empty "
                      "support)"]
    order = np.argsort(values)
    xk = np.asarray(values, dtype=float)[order]
    pk = np.asarray(w, dtype=float)[order] / float(sum(w))
    keep = pk > 0
    return st.rv_discrete(values=(xk[keep], pk[keep])), []


def source_ids() -> set[str] | None:
    if not SOURCES_MD.is_file():
        return None  # outside a checkout: ids are checked for their form only
    return set(re.findall(r"^\| ([SA][0-9]+) \|", SOURCES_MD.read_text(encoding="utf-8"),
                          flags=re.M))


def _check_inputs(spec: PriorsSpec, src: str) -> tuple[dict[str, Any], list[str]]:
    frozen: dict[str, Any] = {}
    problems: list[str] = []
    ids = source_ids()
    seen: dict[str, int] = {}
    for i, inp in enumerate(spec.inputs):
        where = f"{src}: inputs[{i}]"
        for p in (inp.path, *inp.tied):
            if not config_paths.is_path(p):
                problems.append(f"{where}: malformed config path {p!r}")
            elif p in seen:
                problems.append(f"{where}: {p} is already set by inputs[{seen[p]}]")
            else:
                seen[p] = i
        if not SOURCE_ID.match(inp.source):
            problems.append(f"{where}.source: {inp.source!r} is not a source or assumption id "
                            "(S12, A24)")
        elif ids is not None and inp.source not in ids:
            problems.append(f"{where}.source: {inp.source} is not a row of data/SOURCES.md")
        fn = _freeze_discrete if inp.dist == DISCRETE else _freeze_continuous
        d, more = fn(inp, where)
        problems += more
        if d is not None:
            frozen[inp.path] = d
    return frozen, problems


def _probe_values(inp: PriorInput, d: Any) -> list[float]:
    """The values a scenario is checked with: both ends and the median (every value of a
    discrete prior of a few values)."""
    if inp.dist == DISCRETE:
        xk = list(d.xk)
        return xk if len(xk) <= 20 else [xk[0], xk[len(xk) // 2], xk[-1]]
    lo, hi = d.support()
    return [float(lo), float(d.median()), float(hi)]


def _check_against(scenario: Scenario, priors: Priors) -> list[str]:
    """Each input's path and values against the scenario, one problem per input."""
    dump = scenario.model_dump(mode="json")
    problems: list[str] = []
    for i, inp in enumerate(priors.spec.inputs):
        d = priors._frozen.get(inp.path)
        if d is None:
            continue
        for v in _probe_values(inp, d):
            sets = priors.overrides({inp.path: v})
            where = f"{priors.source}: inputs[{i}] ({', '.join(sets)})"
            try:
                scenario_from_dict(dump, where, sets)
            except ConfigError as exc:  # an override's own problem says "--set …": the file's
                problems += [f"{priors.source}: inputs[{i}].path: {line.removeprefix('--set ')}"
                             if line.startswith("--set ") else line for line in exc.problems]
                break
    return problems


def load_priors(path: str | Path, scenario: Scenario | None = None) -> Priors:
    """Read and check a priors file.

    Parameters
    ----------
    path
        The priors YAML file.
    scenario
        The scenario whose config paths the inputs name; default: the file's ``scenario:``
        (relative to the file), else the built-in default scenario.

    Raises
    ------
    ConfigError
        One line per problem: ``<file>: <field>: <what is wrong>``.
    """
    p = Path(path)
    src = str(p)
    data = load_yaml_text(read_config_file(p), src)
    try:
        spec = PriorsSpec.model_validate(data)
    except ValidationError as err:
        lines: list[str] = []
        for e in err.errors(include_url=False):
            loc = tuple(e["loc"])
            if len(loc) >= 4 and loc[2] == "params" and loc[-1] in ("float", "list[float]"):
                # a parameter is a number or a list of numbers: one line, not one per branch
                if e["type"] == "list_type":
                    continue
                loc = loc[:-1]
            msg = "unknown key (typo?)" if e["type"] == "extra_forbidden" else e["msg"]
            line = f"{src}: {format_loc(loc)}: {msg}"
            if line not in lines:
                lines.append(line)
        raise ConfigError(lines) from None
    frozen, problems = _check_inputs(spec, src)
    if problems:
        raise ConfigError(problems)
    priors = Priors(spec, src, frozen)
    if scenario is None:
        scenario = _scenario_of(spec, p)
    problems = _check_against(scenario, priors)
    if problems:
        raise ConfigError(problems)
    return priors


def _scenario_of(spec: PriorsSpec, p: Path) -> Scenario:
    if spec.scenario is None:
        return Scenario()
    base = (p.resolve().parent / spec.scenario).resolve()
    if not base.is_file():
        raise ConfigError([f"{p}: scenario: no such scenario file: {base}"])
    return load_scenario(base)


def describe(priors: Priors) -> list[dict[str, Any]]:
    """One plain row per input (path, distribution, bounds, source): for pages and JSON."""
    rows = []
    bounds = priors.bounds()
    for inp in priors.spec.inputs:
        lo, hi = bounds[inp.path]
        params: Sequence[str] = [f"{k}={v}" for k, v in inp.params.items()]
        rows.append({"path": inp.path, "label": inp.label or inp.path, "dist": inp.dist,
                     "params": ", ".join(params), "low": lo, "high": hi,
                     "source": inp.source, "tied": dict(inp.tied)})
    return rows
