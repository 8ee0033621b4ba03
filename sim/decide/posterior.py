"""A posterior for decisions (issue 27): reading draws, resampling them, and the probability
that a plan meets its target over them — with a lower 95 % bound.

- :func:`read_posterior`: any parquet with one numeric column per config path and a
  ``weight`` column (a calibration's ``posterior.parquet`` — its ``generation`` column is
  kept apart, only the last generation is used — or draws written by hand). Every problem is
  one line naming the file and the column (:class:`~sim.config.ConfigError`: exit 2).
- :func:`resample`: ``n`` draws with replacement, in proportion to the weights, seeded.
- :func:`probability_met`: the share of (draw × replication) outcomes that met the target,
  with its one-sided lower 95 % Clopper–Pearson bound (Clopper & Pearson 1934, *Biometrika*
  26:404–413) — the value-at-risk form of Bayesian risk optimisation (Wu, Zhu & Zhou 2018,
  *SIAM J. Optim.* 28(2):1588–1612) accepts a plan when that bound is ≥ 1 − β.
- :func:`robust_servers_erlang_b`: the analytic answer on a loss system with uncertain load:
  the smallest ``c`` whose Erlang-B blocking meets the target at arrival rates carrying
  ≥ 1 − β of the posterior weight (the oracle the robust optimiser is validated against).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.config import ConfigError, Scenario, scenario_from_dict
from sim.experiments.analytic import erlang_b
from sim.experiments.sweep.spec import override

WEIGHT, GENERATION = "weight", "generation"


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ConfigError(f"{path}: no such posterior file")
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow's many error types: all say "not a readable parquet"
        raise ConfigError(f"{path}: not a readable parquet file ({type(exc).__name__})") from None


def _column_problems(path: Path, table: pd.DataFrame, scenario: Scenario | None) -> list[str]:
    problems: list[str] = []
    dump = scenario.model_dump(mode="json") if scenario is not None else None
    for col in table.columns:
        if col in (WEIGHT, GENERATION):
            continue
        values = table[col]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            problems.append(f"{path}: column '{col}': not numeric ({values.dtype})")
            continue
        bad = int((~np.isfinite(values.to_numpy(float))).sum())
        if bad:
            problems.append(f"{path}: column '{col}': {bad} missing or infinite values")
            continue
        if dump is not None:
            try:
                scenario_from_dict(dump, f"{path}: column '{col}'",
                                   [override(str(col), float(values.iloc[0]))])
            except ConfigError as exc:
                problems += [f"{path}: column '{col}': {line.removeprefix('--set ')}"
                             if line.startswith("--set ") else line for line in exc.problems]
    return problems


def _weight_problems(path: Path, w: pd.Series) -> list[str]:
    if not pd.api.types.is_numeric_dtype(w) or pd.api.types.is_bool_dtype(w):
        return [f"{path}: column '{WEIGHT}': not numeric ({w.dtype})"]
    arr = w.to_numpy(float)
    if not np.isfinite(arr).all():
        return [f"{path}: column '{WEIGHT}': {int((~np.isfinite(arr)).sum())} missing or "
                "infinite weights"]
    if (arr < 0).any():
        return [f"{path}: column '{WEIGHT}': {int((arr < 0).sum())} negative weights"]
    if arr.sum() <= 0:
        return [f"{path}: column '{WEIGHT}': the weights sum to zero"]
    return []


def read_posterior(path: str | Path, scenario: Scenario | None = None) -> pd.DataFrame:
    """The draws of ``path`` (config-path columns and ``weight``, weights summing to 1).

    With ``generation`` present, only the last generation's rows. With ``scenario``, every
    column must be a config path the scenario accepts a number at (checked with the first
    draw's value). Raises :class:`ConfigError`, one line per problem."""
    p = Path(path)
    table = _read(p)
    if len(table) == 0:
        raise ConfigError(f"{p}: no draws (the table has no rows)")
    problems: list[str] = []
    if WEIGHT not in table.columns:
        problems.append(f"{p}: column '{WEIGHT}': missing (one weight per draw is required)")
    else:
        problems += _weight_problems(p, table[WEIGHT])
    inputs = [c for c in table.columns if c not in (WEIGHT, GENERATION)]
    if not inputs:
        problems.append(f"{p}: no config-path columns beside '{WEIGHT}'")
    problems += _column_problems(p, table, scenario)
    if problems:
        raise ConfigError(problems)
    if GENERATION in table.columns:
        table = table[table[GENERATION] == table[GENERATION].max()]
    out = table[inputs].reset_index(drop=True).astype(float)
    w = table[WEIGHT].to_numpy(float)
    out[WEIGHT] = w / w.sum()
    return out


def resample(post: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` draws of ``post`` with replacement in proportion to ``weight`` (seeded), without
    the weight column."""
    rng = np.random.default_rng(seed)
    w = post[WEIGHT].to_numpy(float)
    idx = rng.choice(len(post), size=int(n), replace=True, p=w / w.sum())
    return post.drop(columns=[WEIGHT]).iloc[idx].reset_index(drop=True)


@dataclass(frozen=True)
class Probability:
    """The share of outcomes that met the target and its one-sided lower bound."""

    estimate: float
    lower: float
    met: int
    trials: int
    level: float

    def settles(self, beta: float) -> bool:
        """Whether the plan is accepted: the lower bound is at least ``1 - beta``."""
        return self.lower >= 1 - beta


def probability_met(met: Sequence[bool] | np.ndarray, level: float = 0.95) -> Probability:
    """From one verdict per draw × replication: the share met and its one-sided lower
    Clopper–Pearson bound at ``level`` (``Beta(1 - level; k, n - k + 1)``; 0 when k = 0)."""
    arr = np.asarray(met, dtype=bool).ravel()
    n, k = int(arr.size), int(arr.sum())
    if n == 0:
        raise ValueError("probability_met: no outcomes")
    lower = float(stats.beta.ppf(1 - level, k, n - k + 1)) if k > 0 else 0.0
    return Probability(estimate=k / n, lower=lower, met=k, trials=n, level=level)


def robust_servers_erlang_b(rates: Sequence[float], weights: Sequence[float],
                            service_rate: float, target_blocking: float,
                            beta: float) -> int:
    """The smallest ``c`` such that the arrival rates at which Erlang-B blocking with ``c``
    servers is ≤ ``target_blocking`` carry ≥ ``1 - beta`` of the weight."""
    lam = np.asarray(rates, float)
    w = np.asarray(weights, float)
    if lam.shape != w.shape or lam.size == 0 or (w < 0).any() or w.sum() <= 0:
        raise ValueError("robust_servers_erlang_b: rates and non-negative weights, same length")
    if not 0 < beta < 1 or service_rate <= 0:
        raise ValueError("robust_servers_erlang_b: need 0 < beta < 1 and service_rate > 0")
    w = w / w.sum()
    c = 1
    while True:
        ok = np.array([erlang_b(x / service_rate, c) <= target_blocking for x in lam])
        if w[ok].sum() >= 1 - beta - 1e-12:
            return c
        c += 1


def summary(post: pd.DataFrame) -> dict[str, object]:
    """Draws, Kish's effective sample size (Σw)² / Σw², and per input the weighted 5 %,
    50 % and 95 % quantiles."""
    from sim.uncertainty.calibration_out import wquantiles

    w = post[WEIGHT].to_numpy(float)
    inputs = {c: wquantiles(post[c].to_numpy(float), w, (0.05, 0.5, 0.95))
              for c in post.columns if c != WEIGHT}
    return {"draws": len(post), "effective": float(w.sum() ** 2 / (w ** 2).sum()),
            "inputs": inputs}
