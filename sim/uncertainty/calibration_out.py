"""What a calibration directory holds besides pyABC's database: the posterior as a table,
the per-input and per-target summaries with the posterior-predictive checks, the page.

- ``posterior.parquet``: one row per particle of every generation — a column per config path,
  ``weight`` (normalised within its generation), ``generation``, ``distance``; the posterior
  is the last generation (:func:`posterior`).
- ``calibration.json``: settings, the stop, per input prior and posterior (median, 90 %
  interval, whether identified), per target observed, posterior-predictive mean and 90 %
  interval from fresh runs at posterior draws, ``held_out``, ``covered``.
- ``calibration.html``: :mod:`sim.uncertainty.calibration_page`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.runs.io import write_json, write_parquet, write_text
from sim.uncertainty.abc_engine import Mapper, parameter_names, serial_map
from sim.uncertainty.calibrate import ParticleModel, Settings
from sim.uncertainty.priors import Priors
from sim.uncertainty.targets import CalibrationTargets, Target

LEVEL = 0.90
IDENTIFIED = 0.6
"""An input is identified when its posterior 90 % interval is at most this share of its
prior's (SOURCES A161)."""


def posterior_table(history: Any, priors: Priors) -> pd.DataFrame:
    """Every generation's particles: a column per config path, weight, generation, distance."""
    names = parameter_names(priors.paths)
    frames = []
    for t in range(history.max_t + 1):
        df, w = history.get_distribution(m=0, t=t)
        dist = history.get_weighted_distances(t=t)
        out = pd.DataFrame({p: df[names[p]].to_numpy(dtype=float) for p in priors.paths})
        out["weight"] = np.asarray(w, dtype=float)
        out["generation"] = t
        out["distance"] = (dist["distance"].to_numpy(dtype=float)
                           if len(dist) == len(out) else math.nan)
        frames.append(out)
    return pd.concat(frames, ignore_index=True)


def posterior(table: pd.DataFrame) -> pd.DataFrame:
    """The last generation of a posterior table."""
    return table[table.generation == table.generation.max()].reset_index(drop=True)


def wquantiles(x: np.ndarray, w: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Weighted quantiles (numpy's inverted-CDF rule with weights)."""
    return [float(np.quantile(x, q, weights=w, method="inverted_cdf")) for q in qs]


def input_summary(priors: Priors, post: pd.DataFrame) -> list[dict[str, Any]]:
    """Per input: prior and posterior median and 90 % interval, width ratio, identified."""
    lo_q, hi_q = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
    w = post.weight.to_numpy(dtype=float)
    rows = []
    for inp in priors.inputs:
        d = priors.frozen()[inp.path]
        p_lo, p_med, p_hi = (float(d.ppf(q)) for q in (lo_q, 0.5, hi_q))
        q_lo, q_med, q_hi = wquantiles(post[inp.path].to_numpy(dtype=float), w,
                                       (lo_q, 0.5, hi_q))
        ratio = (q_hi - q_lo) / (p_hi - p_lo) if p_hi > p_lo else math.nan
        rows.append({"path": inp.path, "label": inp.label or inp.path, "source": inp.source,
                     "prior": {"median": p_med, "lo": p_lo, "hi": p_hi},
                     "posterior": {"median": q_med, "lo": q_lo, "hi": q_hi},
                     "width_ratio": ratio,
                     "identified": bool(math.isfinite(ratio) and ratio <= IDENTIFIED)})
    return rows


def posterior_draws(post: pd.DataFrame, paths: Sequence[str], n: int, seed: int
                    ) -> list[dict[str, float]]:
    """``n`` particles drawn from the posterior by weight (seeded)."""
    rng = np.random.default_rng([int(seed), 26])
    w = post.weight.to_numpy(dtype=float)
    idx = rng.choice(len(post), size=int(n), replace=True, p=w / w.sum())
    return [{p: float(post[p].iloc[int(i)]) for p in paths} for i in idx]


def _predict_one(job: tuple[ParticleModel, dict[str, float], int]) -> dict[str, float]:
    model, values, seed = job
    return model.simulate(values, seed)


def predictive(model: ParticleModel, draws: list[dict[str, float]], seed: int,
               mapper: Mapper = serial_map) -> list[dict[str, float]]:
    """Fresh runs (new seeds) of every target day at the posterior draws."""
    seeds = np.random.default_rng([int(seed), 27]).integers(1, 2**31 - 1, size=len(draws))
    return list(mapper(_predict_one, [(model, d, int(s)) for d, s in zip(draws, seeds,
                                                                        strict=True)]))


def overlaps(lo: float, hi: float, target: Target) -> bool:
    a, b = target.allowed()
    return bool(lo <= b and hi >= a)


def target_summary(targets: CalibrationTargets, sims: Sequence[Mapping[str, float]]
                   ) -> list[dict[str, Any]]:
    """Per target: observed, the predictive mean and 90 % interval, held out, covered."""
    rows = []
    for t in targets.targets:
        v = np.array([s.get(t.name, math.nan) for s in sims], dtype=float)
        v = v[np.isfinite(v)]
        lo, hi = ((float(np.quantile(v, (1 - LEVEL) / 2)), float(np.quantile(v, 1 - (1 - LEVEL)
                                                                           / 2)))
                  if len(v) else (math.nan, math.nan))
        a, b = t.allowed()
        rows.append({"name": t.name, "statistic": t.statistic, "day": t.day,
                     "observed": t.observed, "allowed": [a, b], "error_model": t.error_model,
                     "source": t.source, "grade": t.grade, "held_out": t.held_out,
                     "mean": float(v.mean()) if len(v) else math.nan, "lo": lo, "hi": hi,
                     "n": len(v),
                     "covered": bool(len(v) and overlaps(lo, hi, t))})
    return rows


def _finite(x: Any) -> Any:
    """JSON has no NaN or infinity: they become null."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    return x


def full_scale_check(model: ParticleModel, post: pd.DataFrame, targets: CalibrationTargets,
                     miniature: list[dict[str, Any]], draws: int, seed: int,
                     mapper: Mapper = serial_map) -> list[dict[str, Any]]:
    """``draws`` posterior draws run at ``model``'s scale (1: the whole state): per target
    the values, whether each lies in the miniature's predictive 90 % interval, and whether
    it is covered by the report."""
    ds = posterior_draws(post, model.priors.paths, draws, seed)
    sims = predictive(model, ds, seed + 1, mapper)
    mini = {r["name"]: r for r in miniature}
    rows = []
    for t in targets.targets:
        v = [float(s.get(t.name, math.nan)) for s in sims]
        m = mini[t.name]
        rows.append({"name": t.name, "held_out": t.held_out, "values": v,
                     "in_miniature_interval": [bool(m["lo"] <= x <= m["hi"]) for x in v],
                     "covered": [bool(overlaps(x, x, t)) for x in v]})
    return rows


def write_outputs(out: Path, history: Any, priors: Priors, targets: CalibrationTargets,
                  settings: Settings, model: ParticleModel, mapper: Mapper = serial_map,
                  extra: Mapping[str, Any] | None = None, full_scale: int = 0
                  ) -> dict[str, Any]:
    """Posterior table, predictive checks (and with ``full_scale`` > 0 that many posterior
    draws at scale 1), ``calibration.json`` and the page (EN and DE)."""
    from sim.uncertainty.calibration_page import render

    table = posterior_table(history, priors)
    post = posterior(table)
    draws = posterior_draws(post, priors.paths, settings.predictive_draws, settings.seed)
    sims = predictive(model, draws, settings.seed, mapper)
    pops = history.get_all_populations()
    checks = target_summary(targets, sims)
    if full_scale > 0:
        whole = ParticleModel(priors, targets, 1.0, model.cache_dir, held_out_days=True)
        extra = {**dict(extra or {}), "full_scale": full_scale_check(
            whole, post, targets, checks, full_scale, settings.seed, mapper)}
    result = _finite({
        "settings": asdict(settings), "generations": int(history.max_t + 1),
        "simulations": int(history.total_nr_simulations),
        "day_runs": int(history.total_nr_simulations) * model.day_runs,
        "epsilons": [float(e) for e in pops[pops.t >= 0].epsilon],
        "inputs": input_summary(priors, post), "targets": checks,
        "priors": priors.source, "targets_file": targets.source, **dict(extra or {})})
    write_parquet(out / "posterior.parquet", table)
    write_json(out / "calibration.json", result)
    for lang in ("en", "de"):
        name = "calibration.html" if lang == "en" else f"calibration.{lang}.html"
        write_text(out / name, render(result, table, priors, lang))
    return result


def calibrate(config: Path, priors_file: Path, targets_file: Path, out: Path,
              settings: Settings, workers: int | None = None, scheduler: str | None = None,
              full_scale: int = 0) -> dict[str, Any]:
    """Load and check the inputs, run (or continue) the ABC-SMC in ``out``, write the outputs.

    Raises :class:`~sim.config.ConfigError` for bad input before anything runs."""
    import time

    from sim.config import load_scenario
    from sim.uncertainty.calibrate import make_mapper, run_abc
    from sim.uncertainty.priors import load_priors
    from sim.uncertainty.targets import load_targets

    scenario = load_scenario(config)
    priors = load_priors(priors_file, scenario)
    targets = load_targets(targets_file)
    mapper, close = make_mapper(workers, scheduler)
    started = time.perf_counter()
    try:
        model = ParticleModel(priors, targets, settings.scale, out / "sims")
        history = run_abc(priors, targets, scenario, out, settings, mapper, model)
        fitted = time.perf_counter() - started
        checks = ParticleModel(priors, targets, settings.scale, out / "sims", held_out_days=True)
        return write_outputs(out, history, priors, targets, settings, checks, mapper,
                             {"wall_time_s": {"abc": round(fitted, 1)}}, full_scale)
    finally:
        close()
