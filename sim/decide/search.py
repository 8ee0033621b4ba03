"""Which lever combinations ``sim.decide.optimise`` screens: all of them, or an Optuna search.

A space whose exhaustive screening would not fit the run budget is searched with Optuna
(Akiba, Sano, Yanase, Ohta & Koyama 2019, "Optuna: A Next-generation Hyperparameter
Optimization Framework", *KDD '19*) through its ask-and-tell interface, with the
Tree-structured Parzen Estimator (TPE: Bergstra, Bardenet, Bengio & Kégl 2011, "Algorithms
for Hyper-Parameter Optimization", *NeurIPS*) under inequality constraints (Optuna's
constrained TPE; background: Watanabe & Hutter 2023, "c-TPE: Tree-structured Parzen
Estimator with Inequality Constraints for Expensive Hyperparameter Optimization",
*IJCAI '23*):

- a trial is a combination, each lever an index into its values (an ordered integer for
  numeric levers, so that "more servers" is a direction the estimator can learn; a
  categorical choice otherwise);
- objective: its cost (€), minimised — the question is the cheapest feasible combination;
  the screening mean of lost pupil-minutes is kept on the trial (``lost``) and the front
  is drawn from every screened combination. A second objective (multi-objective TPE, Ozaki
  et al. 2020, *GECCO '20*) spreads the budget along the whole front: on a 40 × 40 toy with
  a capacity constraint and 120 of 1,600 combinations, it found the cheapest feasible one
  for 1 of 8 seeds, cost alone for 8 of 8 (docs/optimise.md);
- constraints, one per target: the target's slack at the *optimistic* end of the
  screening interval, relative to the target (≤ 0: the combination survives screening);
- trials are asked a batch at a time (the constant liar keeps a batch's pending trials
  apart) and the batch runs in parallel on the executor;
- a combination already screened is told its stored outcome without a run, so the budget
  counts distinct combinations; the search stops when the budget is spent, the space is
  exhausted, or the sampler keeps proposing screened combinations (it has converged).

The sampler is seeded: the same seed, levers and stored runs give the same trials, so an
interrupted search resumes by re-asking and finding every earlier trial's runs in the store.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

SEARCHES = ("auto", "exhaustive", "optuna")
MAX_EXHAUSTIVE = 10_000
"""Most combinations screened exhaustively when no run budget is given."""


@dataclass(frozen=True)
class Outcome:
    """What the search learns of one screened combination."""

    cost_eur: float
    lost: float
    slacks: tuple[float, ...]
    """Per target, ≤ 0 when the optimistic end of the screening interval meets it."""


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _order(values: Sequence[Any]) -> list[int]:
    idx = list(range(len(values)))
    return sorted(idx, key=lambda i: values[i]) if _numeric(values) else idx


def optuna_search(
    levers: Sequence[tuple[str, Sequence[Any]]],
    evaluate: Callable[[list[tuple[Any, ...]]], list[Outcome]],
    *,
    budget: int,
    batch: int,
    seed: int,
    stall: int | None = None,
) -> list[tuple[Any, ...]]:
    """Combinations screened by a seeded constrained TPE search, in order of first trial.

    ``levers``: (name, values) per lever. ``evaluate(combos)`` screens new combinations (one
    batch, in parallel) and returns their outcomes. ``budget``: most distinct combinations.
    ``stall``: stop after this many consecutive trials that proposed an already screened
    combination (default 20 batches).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    total = math.prod(len(v) for _, v in levers)
    budget = min(budget, total)
    stall = 20 * batch if stall is None else stall
    # orders of the numeric levers' values, so that index i is the i-th smallest value
    orders = [_order(v) for _, v in levers]
    sampler = optuna.samplers.TPESampler(
        seed=seed, multivariate=True, constant_liar=True,
        n_startup_trials=max(10, min(2 * batch, budget // 4)))
    study = optuna.create_study(direction="minimize", sampler=sampler)
    seen: dict[tuple[Any, ...], Outcome] = {}
    order: list[tuple[Any, ...]] = []

    def tell(trial: Any, o: Outcome) -> None:
        for k, s in enumerate(o.slacks):
            trial.set_constraint(f"target_{k}", s)
        trial.set_user_attr("lost", o.lost if math.isfinite(o.lost) else None)
        study.tell(trial, o.cost_eur)

    repeats = 0
    while len(seen) < budget and repeats < stall:
        fresh: list[tuple[Any, ...]] = []
        waiting: list[tuple[Any, tuple[Any, ...]]] = []
        while (len(fresh) < min(batch, budget - len(seen)) and repeats < stall):
            trial = study.ask()
            combo = []
            for (name, values), idx in zip(levers, orders, strict=True):
                if _numeric(values):
                    i = trial.suggest_int(name, 0, len(values) - 1)
                else:
                    i = trial.suggest_categorical(name, list(range(len(values))))
                combo.append(values[idx[i]])
            c = tuple(combo)
            if c in seen:  # already screened: no run, and the sampler learns it again
                tell(trial, seen[c])
                repeats += 1
                continue
            if c in fresh:  # proposed twice in one batch: runs once, told twice
                repeats += 1
            else:
                repeats = 0
                fresh.append(c)
            waiting.append((trial, c))  # told once its batch has run
        if fresh:
            for c, o in zip(fresh, evaluate(fresh), strict=True):
                seen[c] = o
                order.append(c)
        for trial, c in waiting:
            tell(trial, seen[c])
    return order


def choose(search: str, combos: int, per_combo: int, confirm_runs: int,
           budget_runs: int | None) -> tuple[str, int]:
    """(``exhaustive`` | ``optuna``, most combinations screened) for a space of ``combos``.

    ``per_combo`` runs screen one combination; the confirmation may need ``confirm_runs``.
    :class:`~sim.config.ConfigError` (naming the option) when the budget cannot be kept.
    """
    from sim.config import ConfigError

    if search not in SEARCHES:
        raise ConfigError([f"--search {search}: expected one of {', '.join(SEARCHES)}"])
    if budget_runs is not None and budget_runs < 1:
        raise ConfigError([f"--budget-runs {budget_runs}: must be at least 1"])
    needed = combos * per_combo + confirm_runs
    if search == "exhaustive" or (search == "auto" and (
            budget_runs is None or needed <= budget_runs)):
        if budget_runs is not None and needed > budget_runs:
            raise ConfigError([
                f"--budget-runs {budget_runs}: the exhaustive search needs up to {needed} runs "
                f"({combos} combinations × {per_combo} + {confirm_runs} to confirm); narrow "
                f"the levers, raise the budget or use --search optuna"])
        if budget_runs is None and combos > MAX_EXHAUSTIVE:
            raise ConfigError([
                f"--budget-runs: not given, and {combos} combinations are too many to screen "
                f"them all (at most {MAX_EXHAUSTIVE}); give a run budget to search them with "
                f"Optuna"])
        return "exhaustive", combos
    if budget_runs is None:
        raise ConfigError(["--budget-runs: --search optuna needs a run budget"])
    room = (budget_runs - confirm_runs) // per_combo
    least = min(combos, 10)
    if room < least:
        raise ConfigError([
            f"--budget-runs {budget_runs}: too small to search; screening {least} "
            f"combinations × {per_combo} + {confirm_runs} to confirm needs "
            f"{least * per_combo + confirm_runs} runs"])
    return "optuna", min(room, combos)
