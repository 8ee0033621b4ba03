"""Experiments: replications on the seed tree, paired comparisons, and how many replications a
target precision needs.

- Replication ``i`` of *every* scenario uses ``replication_seeds(seed, R)[i]``; since each
  component draws from its own named stream of the seed tree, two scenarios run with the same
  seeds share common random numbers (CRN). A paired comparison then looks at the per-replication
  differences B − A, whose confidence interval is much narrower than that of two independent
  estimates.
- :func:`replications_for_precision` is the replications algorithm of Hoad, Robinson & Davies
  (2010) as sim-tools implements it: the confidence-interval method (relative CI half-width
  ``≤ precision``) plus a look-ahead that the precision must survive, with a budget cap.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import Scenario
from sim.experiments.executors import SerialExecutor, Task, task_for
from sim.experiments.replications import Results
from sim.experiments.targets import unknown_kpi
from sim.model.costs import scenario_cost
from sim.model.metrics import KPI_NAMES
from sim.model.seeds import replication_seeds
from sim.runs.power import verdict
from sim.runs.rundir import write_comparison
from sim.runs.stats import (
    difference_bounds,
    kpi_interval,
    mean_interval,
    paired_difference,
    t_quantile,
)


class RunFailed(RuntimeError):
    """A replication raised; an experiment built on it would be meaningless."""


def run_tasks(
    tasks: Sequence[Task],
    executor: Any | None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Rows of ``tasks`` in task order (raises :class:`RunFailed` if one failed);
    ``progress(done, total)`` after each finished run."""
    ex = executor if executor is not None else SerialExecutor()
    by_key: dict[str, dict[str, Any]] = {}
    for row in ex.run(tasks):
        by_key[row["key"]] = row
        if progress is not None:
            progress(len(by_key), len(tasks))
    rows = [by_key[t.key] for t in tasks]
    for t, row in zip(tasks, rows, strict=True):
        if row.get("error"):
            raise RunFailed(f"{t.labels.get('name', 'run')} seed {t.seed}: {row['error']}")
    return rows


def replicate(
    scenario: Scenario,
    seed: int = 1,
    replications: int = 5,
    executor: Any | None = None,
    overrides: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """KPI rows of ``replications`` replications of ``scenario`` (plus ``overrides``).

    Parameters
    ----------
    scenario
        The scenario.
    seed, replications
        Root seed and count; replication ``i`` uses ``replication_seeds(seed, R)[i]`` (CRN).
    executor
        Where to run (default: this process), see :mod:`sim.experiments.executors`.
    overrides
        ``a.b[0].c=value`` strings applied to the scenario first.

    Returns
    -------
    list of dict
        One row per replication, in replication order (KPIs, ``seed``, ``runtime_s`` …).
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    h = scenario.config_hash()
    tasks = [
        task_for(
            scenario,
            s,
            overrides,
            key=f"{h}-{'|'.join(overrides)}-{i}-{s}",
            labels={"replication": i, "name": scenario.name},
        )
        for i, s in enumerate(replication_seeds(seed, replications))
    ]
    return run_tasks(tasks, executor)


def kpi_values(rows: Sequence[dict[str, Any]], kpi: str) -> np.ndarray:
    """The values of ``kpi`` across rows (NaN where undefined)."""
    return np.array([np.nan if r.get(kpi) is None else float(r[kpi]) for r in rows], dtype=float)


# ----------------------------------------------------------------------------- comparisons
@dataclass(frozen=True)
class KpiDifference:
    """One KPI in a paired comparison: both means and the difference B − A, with 95 % CIs.

    ``a_lo``/``a_hi`` and ``b_lo``/``b_hi`` are the intervals of the two means inside the
    KPI's bounds (:func:`sim.runs.stats.kpi_interval`); ``lo``/``hi`` the paired t interval of the
    difference (within ±1 for a share) and ``p_value`` the paired t-test
    (``scipy.stats.ttest_rel``). The ``*_ci95`` fields are the plain t half-widths, kept for
    compatibility.
    """

    kpi: str
    a_mean: float
    a_ci95: float
    b_mean: float
    b_ci95: float
    diff: float
    diff_ci95: float
    p_value: float
    lo: float = math.nan
    hi: float = math.nan
    n: int = 0
    a_lo: float = math.nan
    a_hi: float = math.nan
    b_lo: float = math.nan
    b_hi: float = math.nan

    @property
    def significant(self) -> bool:
        """The 95 % CI of the difference excludes zero."""
        return bool(self.lo > 0 or self.hi < 0)

    @property
    def meaningful(self) -> bool:
        """Enough paired replications for the interval to inform (see :mod:`sim.runs.stats`)."""
        from sim.runs.stats import MIN_MEANINGFUL_REPLICATIONS

        return self.n >= MIN_MEANINGFUL_REPLICATIONS


def kpi_difference(kpi: str, a: np.ndarray, b: np.ndarray) -> KpiDifference:
    """Both arms' means and bounded intervals, and the paired difference B − A."""
    ia, ib = kpi_interval(kpi, a), kpi_interval(kpi, b)
    d = paired_difference(a, b, bounds=difference_bounds(kpi))
    return KpiDifference(
        kpi,
        ia.mean,
        _plain_half(a),
        ib.mean,
        _plain_half(b),
        d.mean,
        paired_difference(a, b).half_width,  # the plain ± figure, for compatibility
        d.p_value,
        d.lo,
        d.hi,
        d.n,
        ia.lo,
        ia.hi,
        ib.lo,
        ib.hi,
    )


def _plain_half(v: np.ndarray) -> float:
    """The symmetric t half-width (0 for one replication, as the ``*_ci95`` fields had it)."""
    iv = mean_interval(v)
    return 0.0 if iv.n == 1 else iv.half_width


@dataclass
class Comparison:
    """A paired comparison of scenarios A and B on common random numbers."""

    a: str
    b: str
    a_config_hash: str
    b_config_hash: str
    seed: int
    seeds: list[int]
    kpis: list[KpiDifference]
    a_values: dict[str, list[float]] = field(default_factory=dict)
    b_values: dict[str, list[float]] = field(default_factory=dict)
    a_results: Results | None = None
    b_results: Results | None = None
    causes: dict[str, dict[str, float]] = field(default_factory=dict)
    """Mean lost pupil-minutes by cause of ``a`` and ``b``."""
    costs: dict[str, Any] = field(default_factory=dict)
    """``scenario_cost`` of ``a`` and ``b``."""
    """The replications themselves (with time series) when ``compare(keep_runs=True)``."""

    def table(self) -> pd.DataFrame:
        """One row per KPI: means, CIs, difference B − A with its CI, p-value, significant."""
        df = pd.DataFrame([k.__dict__ for k in self.kpis])
        df["significant"] = [k.significant for k in self.kpis]
        return df

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: scenarios, seeds and per KPI the means, difference and CIs."""

        def clean(v: float) -> float | None:
            return None if not math.isfinite(v) else float(v)

        return {
            "a": {"scenario": self.a, "config_hash": self.a_config_hash},
            "b": {"scenario": self.b, "config_hash": self.b_config_hash},
            "seed": self.seed,
            "replications": len(self.seeds),
            "seeds": self.seeds,
            "method": "paired t on per-replication differences B - A (common random numbers)",
            "kpis": {
                k.kpi: {
                    "a_mean": clean(k.a_mean),
                    "a_ci95": clean(k.a_ci95),
                    "b_mean": clean(k.b_mean),
                    "b_ci95": clean(k.b_ci95),
                    "diff": clean(k.diff),
                    "diff_ci95": clean(k.diff_ci95),
                    "p_value": clean(k.p_value),
                    "significant": k.significant,
                    "a_lo": clean(k.a_lo),
                    "a_hi": clean(k.a_hi),
                    "b_lo": clean(k.b_lo),
                    "b_hi": clean(k.b_hi),
                    "lo": clean(k.lo),
                    "hi": clean(k.hi),
                    "n": k.n,
                    "meaningful": k.meaningful,
                }
                for k in self.kpis
            },
            "per_replication": {"a": self.a_values, "b": self.b_values},
            # the verdict per KPI (sim.runs.power): detectable, or how many pairs would show 5 %
            "verdict": {k: verdict(k, self.a_values.get(k, []), self.b_values.get(k, []))
                        for k in self.a_values},
            "causes": self.causes,
            "costs": self.costs,
            # B − A per KPI as `dlsim report` reads a comparison: the 95 % half-width, the
            # interval, the paired t-test's p-value and the number of pairs
            "diffs": {
                k.kpi: {
                    "diff": clean(k.diff),
                    "ci95": clean(k.diff_ci95),
                    "lo": clean(k.lo),
                    "hi": clean(k.hi),
                    "p_value": clean(k.p_value),
                    "n": k.n,
                    "meaningful": k.meaningful,
                }
                for k in self.kpis
            },
        }

    def save(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``comparison.json`` and, if the runs were kept, the run directories ``a/`` and
        ``b/`` (summary, time series, schools) — a directory ``dlsim report`` renders."""
        out = Path(out_dir)
        paths: dict[str, Path] = {}
        for arm, res in (("a", self.a_results), ("b", self.b_results)):
            if res is not None:
                res.save(out / arm, report=False)
                paths[arm] = out / arm
        # last: a comparison.json always describes the run directories beside it
        paths["comparison"] = write_comparison(out, self.to_dict())  # format: sim.runs.rundir
        return {k: paths[k] for k in ("comparison", "a", "b") if k in paths}


def compare(
    a: Scenario,
    b: Scenario,
    seed: int = 1,
    replications: int = 5,
    executor: Any | None = None,
    keep_runs: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Paired comparison of two scenarios with common random numbers.

    Parameters
    ----------
    a, b
        The scenarios (B − A is reported).
    seed, replications
        Both scenarios run replication ``i`` with the same seed (``replication_seeds``).
    executor
        Where to run (default: this process).
    keep_runs
        Keep the replications (time series, schools) for :meth:`Comparison.save`.
    progress
        ``progress(done, total)`` after each of the ``2 × replications`` runs.

    Returns
    -------
    Comparison
        Per KPI the two means with 95 % CIs and the mean difference with its paired 95 % CI.
    """
    if replications < 2:
        raise ValueError("a paired comparison needs at least 2 replications")
    seeds = replication_seeds(seed, replications)
    ha, hb = a.config_hash(), b.config_hash()
    tasks = [
        task_for(
            sc,
            s,
            key=f"{arm}-{i}",
            labels={"arm": arm, "replication": i, "name": sc.name},
            keep_result=keep_runs,
        )
        for arm, sc in (("a", a), ("b", b))
        for i, s in enumerate(seeds)
    ]
    tasks = [dataclasses.replace(t, extract=_by_cause) for t in tasks]
    rows = run_tasks(tasks, executor, progress)
    ra = [r for r in rows if r["arm"] == "a"]
    rb = [r for r in rows if r["arm"] == "b"]
    out = []
    for k in KPI_NAMES:
        out.append(kpi_difference(k, kpi_values(ra, k), kpi_values(rb, k)))
    return Comparison(
        a=a.name,
        b=b.name,
        a_config_hash=ha,
        b_config_hash=hb,
        seed=seed,
        seeds=seeds,
        kpis=out,
        a_values={k: kpi_values(ra, k).tolist() for k in KPI_NAMES},
        b_values={k: kpi_values(rb, k).tolist() for k in KPI_NAMES},
        a_results=Results([r.pop("result") for r in ra]) if keep_runs else None,
        b_results=Results([r.pop("result") for r in rb]) if keep_runs else None,
        causes={"a": _mean_causes(ra), "b": _mean_causes(rb)},
        costs={"a": scenario_cost(a), "b": scenario_cost(b)},
    )


def _by_cause(result: Any) -> dict[str, float]:
    """What a task keeps of its run besides the KPIs: the minutes by cause (picklable)."""
    return dict(result.extra.get("lost_pupil_minutes_by_cause", {}))


def _mean_causes(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    names = sorted({c for r in rows for c in r.get("extract") or {}})
    return {c: float(np.mean([(r.get("extract") or {}).get(c, 0.0) for r in rows]))
            for c in names}


# ------------------------------------------------------------ number of replications
def precision_trace(values: Sequence[float] | np.ndarray, alpha: float = 0.05) -> pd.DataFrame:
    """The confidence-interval method's table for one KPI, one row per replication count n.

    Columns: ``n``, ``value`` (replication n's value), ``mean`` (cumulative), ``half_width``
    (t-based, level 1 − alpha), ``lower``, ``upper``, ``deviation`` (half_width / |mean|;
    0 when there is no spread, NaN for n < 3 as in sim-tools).
    """
    v = np.asarray(values, dtype=float)
    rows = []
    for n in range(1, v.size + 1):
        x = v[:n]
        mean = float(x.mean())
        if n < 2:
            half = math.nan
        else:
            half = t_quantile(1 - alpha, n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
        if n < 3:
            dev = math.nan
        elif half == 0.0:
            dev = 0.0
        elif mean == 0.0:
            dev = math.inf
        else:
            dev = half / abs(mean)
        rows.append(
            {
                "n": n,
                "value": float(v[n - 1]),
                "mean": mean,
                "half_width": half,
                "lower": mean - half,
                "upper": mean + half,
                "deviation": dev,
            }
        )
    return pd.DataFrame(rows)


def _look_ahead(n: int, look_ahead: int) -> int:
    """Replications that must keep the precision after it is first met (Hoad et al.: kLimit)."""
    return look_ahead if n <= 100 else math.floor(look_ahead * n / 100)


def solution(
    deviations: Sequence[float], precision: float, initial: int = 3, look_ahead: int = 5
) -> int | None:
    """Smallest n ≥ ``initial`` whose deviation, and that of the following kLimit(n)
    replications, are within ``precision`` — or None if the data cannot show it yet."""
    dev = list(deviations)
    for n in range(max(initial, 3), len(dev) + 1):
        k = _look_ahead(n, look_ahead)
        if n + k > len(dev):
            return None
        window = dev[n - 1 : n + k]
        if all(math.isfinite(d) and d <= precision for d in window):
            return n
    return None


@dataclass
class ReplicationsChoice:
    """How many replications each KPI needs for the target precision."""

    needed: dict[str, int | None]
    """Per KPI: the replications needed, or None if not reached within the budget."""
    precision: float
    relative: bool
    budget: int
    runs: int
    """Replications actually run (the look-ahead costs extra runs)."""
    trace: pd.DataFrame
    """:func:`precision_trace` of every KPI, with a ``kpi`` column."""

    @property
    def replications(self) -> int | None:
        """The number to use for all chosen KPIs (None if any was not reached)."""
        vals = list(self.needed.values())
        if not vals or any(v is None for v in vals):
            return None
        return max(v for v in vals if v is not None)


def replications_for_precision(
    scenario: Scenario,
    kpis: Sequence[str],
    precision: float = 0.05,
    relative: bool = True,
    seed: int = 1,
    initial: int = 3,
    look_ahead: int = 5,
    budget: int = 50,
    alpha: float = 0.05,
    executor: Any | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplicationsChoice:
    """The number of replications needed for a target CI half-width (Hoad et al. 2010).

    Replications are added one at a time (in batches of the executor's parallelism: the
    decision depends only on the deterministic sequence of replication values, so a batch may
    only run a few replications more than needed) until every KPI's CI half-width has been
    within ``precision`` at some n and stayed so for the look-ahead, or ``budget`` runs.

    Parameters
    ----------
    scenario, kpis
        What to run and which KPIs must be precise.
    precision
        Target half-width: relative to the mean (``relative=True``, e.g. 0.05 = ±5 %), or in
        the KPI's own unit.
    seed
        Root seed; replication ``i`` uses ``replication_seeds(seed, ·)[i]``.
    initial, look_ahead
        Replications before the first check (≥ 3); replications the precision must survive
        (``look_ahead`` up to n = 100, then ``look_ahead`` % of n).
    budget
        Most replications to run in total (look-ahead included).
    alpha
        1 − confidence level of the CI.
    executor, progress
        Where to run; ``progress(done, budget)`` after each batch.

    Returns
    -------
    ReplicationsChoice
    """
    unknown = [k for k in kpis if k not in KPI_NAMES]
    if unknown or not kpis:
        raise ValueError(unknown_kpi(unknown[0]) if unknown else "no KPI given")
    if not precision > 0:
        raise ValueError("precision must be positive")
    if initial < 3 or budget < initial:
        raise ValueError("need 3 <= initial <= budget")
    ex = executor if executor is not None else SerialExecutor()
    seeds = replication_seeds(seed, budget)
    h = scenario.config_hash()
    rows: list[dict[str, Any]] = []
    needed: dict[str, int | None] = {k: None for k in kpis}
    batch = max(1, int(getattr(ex, "parallelism", 1)))
    while len(rows) < budget:
        todo = initial if not rows else batch
        idx = range(len(rows), min(budget, len(rows) + todo))
        tasks = [
            task_for(
                scenario, seeds[i], key=f"{h}-{i}", labels={"replication": i, "name": scenario.name}
            )
            for i in idx
        ]
        rows += run_tasks(tasks, ex)
        if progress is not None:
            progress(len(rows), budget)
        for k in kpis:
            pt = precision_trace(kpi_values(rows, k), alpha)
            dev = pt["deviation"] if relative else pt["half_width"]
            needed[k] = solution(dev.tolist(), precision, initial, look_ahead)
        if all(v is not None for v in needed.values()):
            break
    trace = pd.concat(
        [precision_trace(kpi_values(rows, k), alpha).assign(kpi=k) for k in kpis],
        ignore_index=True,
    )
    return ReplicationsChoice(needed, precision, relative, budget, len(rows), trace)
