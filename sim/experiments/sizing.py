"""Capacity sizing: the smallest integer setting that meets a service target at 95 % confidence.

1. **Analytic bracket** (:mod:`sim.experiments.capacity_bound`): for a cluster's node count or
   node size and a target that maps to a blocking probability, Erlang-B's slot count for the
   platform's offered load, and a value that cannot meet the target.
2. **Search with paired replications**: every candidate runs the same R seeds (common random
   numbers). A candidate *meets* the target when the 95 % CI bound does — the lower bound for
   ``>=``, the upper bound for ``<=``. The bracket is checked (and widened if the model
   disagrees with the analytic bound), then bisected over integers, assuming more capacity
   never makes the KPI worse.

**Scale.** At ``population.scale`` s < 1 the search runs on the faithful miniature
(:func:`sim.model.scale.faithful`): a central capacity (conference or reserve nodes, scale-up steps,
login-service workers) is searched over the miniature's own integer counts, and the answer
is given for the whole state as ``answer / s`` (``answer_whole_state``), with the rounding
that implies (one miniature node is ``1 / s`` whole-state nodes). ``confirm_at_full_scale``
runs that whole-state figure at scale 1 on the search's seeds and says whether it meets the
target there (queueing is not scale-free: see docs/scale.md).

Targets (:class:`~sim.experiments.targets.Target`) with a blocking equivalent get the
bracket; other KPIs and parameters are searched from the scenario's current value without an
analytic bound.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError, Scenario, parse_override, scenario_from_dict
from sim.config.overrides import defaults_as_data
from sim.config.paths import named_in, positional
from sim.experiments.capacity_bound import AnalyticBound, analytic_bound
from sim.experiments.comparisons import kpi_values, run_tasks
from sim.experiments.executors import task_for
from sim.experiments.targets import Target
from sim.model.scale import factor_of, faithful, with_scale
from sim.model.seeds import replication_seeds
from sim.runs.stats import kpi_interval, mean_interval, paired_difference

__all__ = [  # Target, AnalyticBound and analytic_bound are re-exported from their homes
    "AnalyticBound", "Evidence", "SizingResult", "Target", "Unreachable", "analytic_bound",
    "confirm_at_full_scale", "current_value", "positional_param", "search_minimum",
    "size_capacity", "whole_state_step",
]

# the central capacities sim.model.scale scales with demand (searched in miniature units)
_CENTRAL = re.compile(
    r"^(platforms\[\d+\]\.(frontend\.workers|clusters\[\d+\]\.nodes)"
    r"|policies\.scale_up\[\d+\]\.(reserve_nodes|step_nodes))$"
)


@dataclass(frozen=True)
class Evidence:
    """One candidate value: the KPI over R paired replications, and whether it meets.

    ``lo``/``hi`` is the 95 % interval inside the KPI's bounds (:func:`sim.runs.stats.kpi_interval`)
    and ``bound`` its end that must meet the target; ``ci95`` the plain t half-width.
    """

    value: int
    mean: float
    ci95: float
    bound: float
    met: bool
    per_replication: list[float]
    lo: float = math.nan
    hi: float = math.nan


@dataclass
class SizingResult:
    """The answer, the evidence behind it and the analytic bound beside it."""

    param: str
    target: Target
    answer: int | None
    current_value: int
    analytic: AnalyticBound | None
    candidates: dict[int, Evidence]
    replications: int
    seed: int
    note: str = ""
    outcome: str = "answer"
    """``answer``, ``unreachable`` (more of the parameter stops helping) or ``budget``."""
    analytic_note: str = ""
    baseline: dict[str, Any] = field(default_factory=dict)
    param_named: str = ""
    """``param`` with list elements by name (``platforms[iserv].clusters[iserv-bbb].nodes``)."""
    scale: float = 1.0
    """Factor the search ran at (``population.scale`` of a faithful miniature, else 1)."""
    central: bool = False
    """``param`` is a central capacity: ``answer`` and ``current_value`` are the miniature's
    counts, ``answer_whole_state`` and ``current_whole_state`` the whole state's."""
    current_whole_state: int | None = None
    confirmation: dict[str, Any] | None = None
    """The whole-state answer run at scale 1 (:func:`confirm_at_full_scale`)."""

    @property
    def answer_whole_state(self) -> float | None:
        """The answer in whole-state units: ``answer / scale`` for a central capacity."""
        if self.answer is None:
            return None
        return self.whole_state(self.answer)

    def whole_state(self, value: int) -> float:
        """A searched value in whole-state units: ``value / scale`` for a central capacity
        searched in miniature, else the value itself."""
        return value / self.scale if self.central else float(value)

    def table(self) -> pd.DataFrame:
        """The candidates by value: mean, lo, hi, ci95, CI bound, meets."""
        cols = ["value", "mean", "lo", "hi", "ci95", "bound", "meets"]
        rows = [
            {"value": e.value, "mean": e.mean, "lo": e.lo, "hi": e.hi, "ci95": e.ci95,
             "bound": e.bound, "meets": e.met}
            for e in sorted(self.candidates.values(), key=lambda e: e.value)
        ]
        return pd.DataFrame(rows, columns=cols)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""

        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, list):
                return [clean(x) for x in v]
            return v

        whole = self.answer_whole_state
        current = (self.current_whole_state if self.central and self.current_whole_state
                   is not None else self.current_value)
        return {  # every count the whole state's first, the miniature's labelled after it
            "param": self.param,
            "target": str(self.target),
            "answer": None if whole is None else whole_count(whole),
            "current_value": current,
            "scale": self.scale,
            "central": self.central,
            "answer_miniature": self.answer,
            "current_miniature": self.current_value,
            "confirmation": self.confirmation,
            "param_named": self.param_named or self.param,
            "confidence": (
                "95 % CI bound (t-based, paired replications; shares on the logit scale)"
            ),
            "replications": self.replications,
            "seed": self.seed,
            "analytic": asdict(self.analytic) if self.analytic else None,
            "analytic_note": self.analytic_note,
            "baseline": self.baseline,
            "candidates": [
                {"value": whole_count(self.whole_state(e.value)), "value_miniature": e.value,
                 **{k: clean(v) for k, v in asdict(e).items() if k != "value"}}
                for e in sorted(self.candidates.values(), key=lambda e: e.value)
            ],
            "outcome": self.outcome,
            "note": self.note,
        }


def whole_count(v: float) -> int | float:
    """A whole-state count as an int where it is one (3 miniature nodes at scale 0.02 are
    150.0), else the float (a scale that does not divide evenly)."""
    return round(v) if abs(v - round(v)) < 1e-9 else v


def positional_param(scenario: Scenario, param: str) -> str:
    """``param`` with names resolved to positions (:class:`ConfigError` listing the names)."""
    dump = scenario.model_dump(mode="json")
    return positional(dump, param, defaults_as_data(), where=f"--param {param}")


def current_value(scenario: Scenario, param: str) -> int:
    """The scenario's integer value at config path ``param`` (:class:`ConfigError` if none).

    List elements by position or by name (``platforms[iserv].clusters[iserv-bbb].nodes``).
    """
    tokens, _ = parse_override(f"{positional_param(scenario, param)}=0")
    node: Any = scenario.model_dump(mode="json")
    for tok in tokens:
        if tok.startswith("["):
            idx = int(tok[1:-1])
            if not isinstance(node, list) or idx >= len(node):
                raise ConfigError([f"--param {param}: no list element {tok} at that path"])
            node = node[idx]
        else:
            if not isinstance(node, dict) or tok not in node:
                raise ConfigError([f"--param {param}: no setting {tok!r} at that path"])
            node = node[tok]
    if not isinstance(node, int) or isinstance(node, bool):
        raise ConfigError([f"--param {param}: not an integer setting (sizing searches integers)"])
    return node


class _Budget(Exception):
    pass


class Unreachable(Exception):
    pass


def search_minimum(
    meets: Callable[[int], bool],
    hi: int,
    lo: int | None,
    minimum: int,
    gains: Callable[[int, int], bool] | None = None,
    maximum: int | None = None,
) -> int:
    """Smallest value meeting the target, given a start ``hi`` and a value ``lo`` assumed to
    fail (the analytic lower bound; verified before it decides the answer).

    Above the start the step doubles; the search gives up (:class:`Unreachable`) past
    ``maximum`` or as soon as a larger value no longer ``gains`` on the previous one.
    """
    verified = False
    if not meets(hi):  # the model needs more than the start: widen upward, doubling the step
        step = max(1, math.ceil(hi / 4))
        while True:
            nxt = hi + step
            if maximum is not None and nxt > maximum:
                raise Unreachable(f"no value up to {maximum} meets the target")
            if meets(nxt):
                break
            if gains is not None and not gains(hi, nxt):
                raise Unreachable(
                    f"the KPI does not improve significantly from {hi} to {nxt} (paired "
                    "95 % CI): something else limits it (or more replications would tell)"
                )
            hi, step = nxt, step * 2
        lo, hi, verified = hi, nxt, True
    while True:
        if lo is None:  # find a failing value below hi by halving
            if hi <= minimum:
                return hi
            cand = max(minimum, hi // 2)
            if meets(cand):
                hi = cand
                continue
            lo, verified = cand, True
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if meets(mid):
                hi = mid
            else:
                lo, verified = mid, True
        if verified or not meets(lo):
            return hi
        hi, lo = lo, None  # the assumed bound was wrong: the model meets it; go lower


def size_capacity(
    scenario: Scenario,
    param: str,
    target: Target | str,
    replications: int = 5,
    seed: int = 1,
    executor: Any | None = None,
    max_candidates: int = 16,
    minimum: int = 1,
    maximum: int | None = None,
    progress: Callable[[Evidence], None] | None = None,
    run_progress: Callable[[int, int], None] | None = None,
) -> SizingResult:
    """Smallest integer value of ``param`` whose KPI meets ``target`` at 95 % confidence.

    Parameters
    ----------
    scenario
        The scenario (every other setting stays as it is).
    param
        Config path of an integer setting, e.g. ``platforms[0].clusters[0].nodes``.
    target
        ``Target`` or text such as ``"join_success_rate>=0.99"``.
    replications, seed
        Paired replications per candidate (≥ 2), all candidates on the same seeds.
    executor
        Where replications run (default: this process).
    max_candidates
        Most candidate values to simulate.
    minimum, maximum
        Range of values to consider (default maximum: 64 × the start of the search). The
        search also stops when a larger value brings no significant paired gain: the target
        is then not reachable through this parameter alone.
    progress
        Called with each candidate's :class:`Evidence`.
    run_progress
        ``run_progress(done, replications)`` after each replication of a candidate.

    Returns
    -------
    SizingResult
        ``answer`` is None when the target is not reachable through ``param`` or the
        candidate budget ran out (``note`` says which).
    """
    tgt = Target.parse(target) if isinstance(target, str) else target
    if replications < 2:
        raise ValueError("sizing needs at least 2 replications per candidate (a CI)")
    p = _searched(scenario, param)
    seeds = replication_seeds(seed, replications)
    bound, why, baseline = analytic_bound(p.scenario, p.path, tgt, seeds[0])
    trials = _Trials(p.scenario, p.path, tgt, seeds, executor, max_candidates, progress,
                     run_progress)
    answer, outcome, note = _search(trials, bound, p, minimum, maximum)
    return SizingResult(
        param=p.path,
        target=tgt,
        answer=answer,
        current_value=p.now,
        analytic=bound,
        candidates=trials.cache,
        replications=replications,
        seed=seed,
        note=note,
        outcome=outcome,
        analytic_note=why,
        baseline=baseline,
        param_named=p.shown if p.given == p.path else p.given,
        scale=p.factor,
        central=p.central,
        current_whole_state=p.whole_now,
    )


@dataclass(frozen=True)
class _Searched:
    """The parameter a search sizes: as given, by position and by name; the scenario it is
    searched on (the faithful miniature) and its value there and in the whole state."""

    given: str
    path: str
    shown: str
    factor: float
    central: bool
    """A central capacity at a scale below 1: searched in the miniature's own counts."""
    whole_now: int
    scenario: Scenario
    now: int


def _searched(scenario: Scenario, param: str) -> _Searched:
    """Where the search runs and in whose counts: the miniature's own counts (a whole-state
    count would plateau over 1/s values); :class:`ConfigError` for a parameter it cannot set."""
    path = positional_param(scenario, param)  # names → positions; printed with names
    shown = named_in(scenario, path)
    factor = factor_of(scenario)
    whole_now = current_value(scenario, path)
    mini = faithful(scenario)
    now = current_value(mini, path)
    scenario_from_dict(mini.model_dump(mode="json"), "<sizing>", [f"{path}={now}"])
    return _Searched(given=param, path=path, shown=shown, factor=factor,
                     central=factor != 1.0 and bool(_CENTRAL.match(path)),
                     whole_now=whole_now, scenario=mini, now=now)


def whole_state_step(scenario: Scenario, param: str) -> float:
    """Whole-state units per unit of ``param`` as a search simulates it: ``1 / scale`` for a
    central capacity searched in miniature (one node there stands for that many), else 1."""
    p = _searched(scenario, param)
    return 1.0 / p.factor if p.central else 1.0


@dataclass
class _Trials:
    """Candidate values of ``param`` run on the same seeds (paired replications), at most
    ``most`` of them; the :class:`Evidence` of each in ``cache``."""

    scenario: Scenario
    param: str
    target: Target
    seeds: list[int]
    executor: Any | None
    most: int
    progress: Callable[[Evidence], None] | None
    run_progress: Callable[[int, int], None] | None
    cache: dict[int, Evidence] = field(default_factory=dict)

    def meets(self, value: int) -> bool:
        """Does ``value`` meet the target (run once; :class:`_Budget` past ``most``)?"""
        if value not in self.cache:
            if len(self.cache) >= self.most:
                raise _Budget
            self.cache[value] = self._run(value)
            if self.progress is not None:
                self.progress(self.cache[value])
        return self.cache[value].met

    def _run(self, value: int) -> Evidence:
        """The target KPI of ``value`` over the replications, and whether it meets."""
        tgt, param = self.target, self.param
        tasks = [
            task_for(
                self.scenario,
                s,
                [f"{param}={value}"],
                key=f"{value}-{r}",
                labels={"replication": r, "name": f"{param}={value}"},
            )
            for r, s in enumerate(self.seeds)
        ]
        v = kpi_values(run_tasks(tasks, self.executor, self.run_progress), tgt.kpi)
        iv = kpi_interval(tgt.kpi, v)
        return Evidence(
            value,
            float(v.mean()),
            mean_interval(v).half_width,
            tgt.interval_bound(iv),
            # a replication where the KPI is undefined leaves the candidate unproven
            tgt.met_by(iv) and bool(np.isfinite(v).all()),
            v.tolist(),
            iv.lo,
            iv.hi,
        )

    def gains(self, smaller: int, larger: int) -> bool:
        """Is ``larger`` significantly better than ``smaller`` (paired, same seeds)?"""
        a, b = self.cache[smaller].per_replication, self.cache[larger].per_replication
        diff = paired_difference(np.array(a), np.array(b))
        # better means up for a >= target, down for a <= target
        return bool(diff.lo > 0 if self.target.op == ">=" else diff.hi < 0)


def _search(trials: _Trials, bound: AnalyticBound | None, p: _Searched, minimum: int,
            maximum: int | None) -> tuple[int | None, str, str]:
    """The smallest value meeting the target, searched from the analytic bracket (else from
    the current value), and how the search ended: (answer, outcome, note) with the outcome
    ``answer``, ``budget`` or ``unreachable``."""
    hi = max(minimum, bound.value if bound else p.now)
    assumed = bound.lower_value if bound and bound.lower_value is not None else None
    try:
        answer = search_minimum(
            trials.meets,
            hi,
            assumed if assumed is not None and assumed < hi else None,
            minimum,
            trials.gains,
            maximum if maximum is not None else 64 * max(hi, p.now),
        )
    except _Budget:
        return None, "budget", (
            f"stopped after {trials.most} candidates before the bracket closed; "
            "raise --max-candidates or start nearer the answer"
        )
    except Unreachable as exc:
        return None, "unreachable", f"target not reachable through {p.shown}: {exc}"
    return answer, "answer", ""


def confirm_at_full_scale(
    result: SizingResult,
    scenario: Scenario,
    executor: Any | None = None,
    run_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run the whole-state answer of a search at a miniature at scale 1: the same
    replications (seeds) as the search, the whole-state value rounded half up. Stored in
    ``result.confirmation`` and returned: value, KPI mean and 95 % interval, whether it meets.
    """
    if result.answer_whole_state is None:
        raise ValueError("no answer to confirm")
    value = max(1, math.floor(result.answer_whole_state + 0.5))
    full = with_scale(scenario, 1.0)
    seeds = replication_seeds(result.seed, result.replications)
    tasks = [task_for(full, s, [f"{result.param}={value}"], key=f"confirm-{value}-{r}",
                      labels={"replication": r, "name": f"{result.param}={value} at scale 1"})
             for r, s in enumerate(seeds)]
    v = kpi_values(run_tasks(tasks, executor, run_progress), result.target.kpi)
    iv = kpi_interval(result.target.kpi, v)
    conf = {
        "value": value,
        "scale": 1.0,
        "replications": result.replications,
        "mean": float(v.mean()),
        "lo": iv.lo,
        "hi": iv.hi,
        "bound": result.target.interval_bound(iv),
        "met": bool(result.target.met_by(iv) and np.isfinite(v).all()),
        "per_replication": v.tolist(),
    }
    result.confirmation = conf
    return conf
