"""``dlsim sensitivity``: which uncertain inputs move which statistics — Morris elementary
effects (μ*, σ) or Sobol indices (first and total order with intervals), with SALib.

The design lives on the unit cube, one axis per input of the priors (SALib's problem has
bounds [0, 1] everywhere); each point is mapped to values through the inputs' quantile
functions (:meth:`Priors.from_unit`), so a uniform design on the cube is a design with the
priors' own distributions. Morris (4 levels) steps an input by 2/3 of its prior quantiles
and, as SALib does, divides the change of a statistic by that step: μ* is in the statistic's
unit per the input's whole prior range (for an input with a linear effect, exactly the change
from its lowest to its highest value). Every point runs once with the same run
seed (common random numbers: the population seed, when it is an input, still varies), so
differences come from the inputs, not from the noise of different seeds.

The runs are a sweep: one row per design point in ``OUT/results.parquet`` with a
``param:<path>`` column per input and a ``stat:<name>`` column per statistic, stored as they
finish (``OUT/parts/``) under keys of the point, the run seed, the base scenario's config hash
and the model's version, so an interrupted analysis resumes and a directory made by another
design, scenario or model is refused (:mod:`sim.experiments.sweep.store`).

``--runs`` is a budget: Morris uses ``r = runs // (inputs + 1)`` trajectories (at least 2);
Sobol the largest power of two ``N`` with ``N·(inputs + 2) ≤ runs`` (at least 2).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError, Scenario
from sim.experiments.executors import Task
from sim.experiments.sweep.spec import PARAM, Range, Sweep, SweepSpec, row_key
from sim.uncertainty.priors import Priors
from sim.uncertainty.targets import STATISTICS, run_statistics

METHODS = ("morris", "sobol")
MORRIS_LEVELS = 4
STAT = "stat:"
"""Prefix of the statistics' columns in results.parquet."""
MAX_RUNS = 100_000
SOBOL_MIN_BASE = 64
"""Below this base sample Sobol's bootstrap intervals are wide (the CLI warns)."""


@dataclass
class Design:
    """Points of a sensitivity design: on the unit cube and as input values."""

    method: str
    size: int
    """Morris: trajectories r; Sobol: base sample N."""
    unit: np.ndarray
    values: pd.DataFrame

    @property
    def runs(self) -> int:
        return int(self.unit.shape[0])


def problem(priors: Priors) -> dict[str, Any]:
    """SALib's problem: one axis per input, bounds [0, 1] (the quantiles of its prior)."""
    d = len(priors.paths)
    return {"num_vars": d, "names": priors.paths, "bounds": [[0.0, 1.0]] * d}


def design_size(method: str, inputs: int, runs: int) -> int:
    """Trajectories (Morris) or base sample (Sobol) that ``runs`` runs allow."""
    if method == "morris":
        return max(2, runs // (inputs + 1))
    n = 2
    while 2 * n * (inputs + 2) <= runs:
        n *= 2
    return n


def make_design(priors: Priors, method: str, runs: int, seed: int) -> Design:
    """The design of ``method`` within ``runs`` runs (seeded)."""
    if method not in METHODS:
        raise ConfigError([f"--method {method}: expected one of {', '.join(METHODS)}"])
    prob = problem(priors)
    size = design_size(method, prob["num_vars"], runs)
    if method == "morris":
        from SALib.sample import morris as morris_sample

        unit = morris_sample.sample(prob, N=size, num_levels=MORRIS_LEVELS, seed=seed)
    else:
        from SALib.sample import sobol as sobol_sample

        unit = sobol_sample.sample(prob, N=size, calc_second_order=False, seed=seed)
    return Design(method, size, np.asarray(unit, dtype=float), priors.from_unit(unit))


def _plain(v: Any) -> Any:
    return int(v) if isinstance(v, np.integer) else float(v)


def build(scenario: Scenario, priors: Priors, design: Design, seed: int,
          name: str = "sensitivity") -> Sweep:
    """The design's runs as a sweep on ``scenario`` (one replication per point, run seed
    ``seed``): what :func:`sim.experiments.sweep.run_sweep` stores and resumes."""
    if design.runs > MAX_RUNS:
        raise ConfigError([f"--runs: the design needs {design.runs:,} runs, more than "
                           f"{MAX_RUNS:,}"])
    dump = scenario.model_dump(mode="json")
    base_hash = scenario.config_hash()
    bounds = priors.bounds()
    points: list[dict[str, Any]] = [{str(k): _plain(v) for k, v in row.items()}
                                     for row in design.values.to_dict(orient="records")]
    tasks = []
    for i, pt in enumerate(points):
        tasks.append(Task(
            key=row_key({**pt, "design": f"{design.method}.{i}"}, 0, seed, base_hash),
            base=dump, overrides=tuple(priors.overrides(pt)), seed=seed,
            source_path=scenario.source_path,
            labels={"point": i, "replication": 0, **{PARAM + k: v for k, v in pt.items()}},
            extract=run_statistics))
    # a sweep whose points come from the design (not a grid or a hypercube of its own)
    spec = SweepSpec.model_construct(
        name=name, description=f"{design.method} design over {priors.source}",
        base=str(scenario.source_path or scenario.name), overrides=[],
        sampling=design.method, points=len(points),
        parameters={p: Range.model_construct(low=lo, high=hi, integer=None)
                    for p, (lo, hi) in bounds.items()},
        replications=1, seed=seed)
    return Sweep(spec=spec, path=Path(priors.source), name=name, base=scenario,
                 base_config_hash=base_hash, points=points, seeds=[seed], tasks=tasks,
                 point_hashes=[""] * len(points))


def take_statistics(row: dict[str, Any]) -> None:
    """``on_row`` of the sweep: the statistics computed where the run ran become columns."""
    stats = row.pop("extract", None) or {}
    for k in STATISTICS:
        row[STAT + k] = float(stats.get(k, math.nan))


# ----------------------------------------------------------------------------- analysis
def indices(priors: Priors, design: Design, y: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """SALib's indices of one output ``y`` (one value per design point, in design order).

    Morris: ``mu``, ``mu_star``, ``sigma``, ``mu_star_conf`` (95 % bootstrap half-width);
    Sobol: ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (95 % half-widths). An output that does
    not vary has every index 0 (SALib would divide by its zero variance)."""
    prob = problem(priors)
    y = np.asarray(y, dtype=float)
    d = prob["num_vars"]
    names = (("mu", "mu_star", "sigma", "mu_star_conf") if design.method == "morris"
             else ("S1", "S1_conf", "ST", "ST_conf"))
    if np.ptp(y) == 0.0:
        return {n: np.zeros(d) for n in names}
    if design.method == "morris":
        from SALib.analyze import morris as morris_analyze

        res = morris_analyze.analyze(prob, design.unit, y, num_resamples=1000,
                                     conf_level=0.95, num_levels=MORRIS_LEVELS, seed=seed)
    else:
        from SALib.analyze import sobol as sobol_analyze

        res = sobol_analyze.analyze(prob, y, calc_second_order=False, num_resamples=1000,
                                    conf_level=0.95, seed=seed)
    return {n: np.asarray(res[n], dtype=float) for n in names}


def analyse(priors: Priors, design: Design, results: pd.DataFrame, outputs: Sequence[str],
            seed: int) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Tidy indices (one row per output and input) and, per output left out, why:
    ``{"stored": n, "runs": N}`` (runs missing), ``{"missing": m}`` (runs without a value)
    or ``{"constant": v}`` (the same value in every run: no input moves it)."""
    rows: list[dict[str, Any]] = []
    skipped: dict[str, dict[str, float]] = {}
    ok = results.sort_values("point")
    for out in outputs:
        col = STAT + out
        y = ok[col].to_numpy(dtype=float) if col in ok.columns else np.zeros(0)
        if len(y) != design.runs:
            skipped[out] = {"stored": len(y), "runs": design.runs}
            continue
        if not np.isfinite(y).all():
            skipped[out] = {"missing": int((~np.isfinite(y)).sum())}
            continue
        if np.ptp(y) == 0.0:
            skipped[out] = {"constant": float(y[0])}
            continue
        ix = indices(priors, design, y, seed)
        key = "mu_star" if design.method == "morris" else "ST"
        top = float(np.max(ix[key])) if len(ix[key]) else 0.0
        for j, path in enumerate(priors.paths):
            row = {"output": out, "input": path, "method": design.method,
                   **{k: float(v[j]) for k, v in ix.items()},
                   "relative": float(ix[key][j]) / top if top > 0 else 0.0,
                   "output_mean": float(np.mean(y)), "output_sd": float(np.std(y, ddof=1))}
            rows.append(row)
    return pd.DataFrame(rows), skipped


@dataclass
class SensitivityResult:
    """What ``dlsim sensitivity`` found and wrote."""

    out_dir: Path
    priors: Priors
    design: Design
    scenario: Scenario
    seed: int
    outputs: list[str]
    table: pd.DataFrame
    skipped: dict[str, dict[str, float]]
    computed: int
    resumed: int
    errors: int
    wall_s: float
    executor: str

    def ranking(self, output: str) -> list[tuple[str, float]]:
        """Inputs of ``output`` from the one that moves it most (μ* or ST)."""
        t = self.table[self.table.output == output]
        key = "mu_star" if self.design.method == "morris" else "ST"
        t = t.sort_values(key, ascending=False)
        return list(zip(t["input"], t[key].astype(float), strict=True))


def run_sensitivity(scenario: Scenario, priors: Priors, out_dir: str | Path,
                    method: str = "morris", runs: int = 160, seed: int = 1,
                    outputs: Sequence[str] | None = None, executor: Any = None,
                    force: bool = False, progress: Callable[..., None] | None = None
                    ) -> SensitivityResult:
    """Run (or resume) the design into ``out_dir`` and write its indices and page.

    Writes ``results.parquet`` (a row per run), ``indices.parquet`` (a row per output and
    input) and ``sensitivity.json``, each atomically; the page is
    :func:`sim.uncertainty.sensitivity_page.write_report`."""
    from sim.experiments.sweep import run_sweep

    t0 = time.perf_counter()
    outs = list(outputs) if outputs else list(STATISTICS)
    unknown = [o for o in outs if o not in STATISTICS]
    if unknown:
        raise ConfigError([f"--output {o}: unknown statistic (known: {', '.join(STATISTICS)})"
                           for o in unknown])
    design = make_design(priors, method, runs, seed)
    sweep = build(scenario, priors, design, seed)
    res = run_sweep(sweep, out_dir, executor, force=force, progress=progress,
                    on_row=take_statistics)
    table, skipped = analyse(priors, design, res.results, outs, seed)
    result = SensitivityResult(Path(out_dir), priors, design, scenario, seed, outs, table,
                               skipped, res.computed, res.skipped, res.errors,
                               time.perf_counter() - t0, res.executor)
    write(result)
    return result


def write(result: SensitivityResult) -> None:
    """``indices.parquet`` and ``sensitivity.json`` (atomically)."""
    from sim.runs.io import write_json, write_parquet
    from sim.runs.provenance import model_version, package_version
    from sim.uncertainty.priors import describe

    d = result.out_dir
    write_parquet(d / "indices.parquet", result.table)
    write_json(d / "sensitivity.json", {
        "method": result.design.method, "design_size": result.design.size,
        "runs": result.design.runs, "seed": result.seed,
        "scale": float(result.scenario.population.scale),
        "scenario": result.scenario.source_path, "config_hash": result.scenario.config_hash(),
        "priors": result.priors.source, "inputs": describe(result.priors),
        "outputs": result.outputs, "skipped_outputs": result.skipped,
        "computed": result.computed, "resumed": result.resumed, "errors": result.errors,
        "wall_s": round(result.wall_s, 3), "executor": result.executor,
        "version": package_version(), "model_version": model_version(),
        "indices": result.table.to_dict(orient="records"),
    })
