"""The cheapest combination of levers meeting every target with 95 % confidence.

Procedure (a two-stage screen-then-confirm ranking-and-selection scheme in the sense of
Nelson, Swann, Goldsman & Song 2001, "Simple procedures for selecting the best simulated
system when the number of alternatives is large", Oper. Res. 49(6); feasibility checking
after Andradóttir & Kim 2010, "Fully sequential procedures for comparing constrained
systems via simulation", Naval Res. Logist. 57(5); Bonferroni's inequality for the
multiple comparisons):

1. **Screening** — every combination of the levers' values (exhaustive: the product of the
   value lists) runs ``replications`` replications on common random numbers (the same seeds
   for every combination), at ``screen_scale`` when given. A combination survives when the
   optimistic end of its two-sided 95 % interval meets every target (a loose filter: it
   only discards combinations that clearly fail).
2. **Confirmation** — the ``max_confirm`` cheapest survivors (K, fixed before any
   confirmation run) run ``confirm_replications`` *fresh* replications (seeds independent of
   the screening, so the selection does not bias the confirmation) at ``confirm_scale``
   (default the full population, scale 1), again on common random numbers, one after the
   other in cost order. A candidate is accepted when, for each of the T targets, its
   one-sided Student-t bound at level ``1 − α/(K·T)`` meets the target. The first accepted
   is the answer. Guarantee: an infeasible candidate passes with probability at most
   α/(K·T) per target it fails, so by Bonferroni's inequality the returned combination is
   infeasible with probability at most α (= 5 %) — up to the normal approximation of the
   replication means. The price of the guarantee is conservatism: a feasible candidate
   whose KPI sits close to the target may not be proven and a dearer one returned.

   **Sequential looks** (``confirm_max_replications`` > ``confirm_replications``): a
   candidate neither proven feasible nor proven infeasible after n replications gets n more
   (8 → 16 → 32 …, up to the maximum); L looks in all. Every look is one more test, so each
   bound is taken at ``1 − α/(K·T·L)`` (Bonferroni over candidates, targets and looks: the
   guarantee holds whatever is seen at a look). A candidate whose *other* one-sided bound at
   that level already fails a target is dropped at once: clear failures cost no more runs,
   close calls get the replications they need (in the spirit of Andradóttir & Kim's fully
   sequential feasibility check, with a Bonferroni continuation region instead of theirs).
3. **Front** — the screening means give the cost–lost-pupil-minutes Pareto front.

No candidate accepted is an answer too (``none within the levers given``), with the
candidate that came closest. Runs are stored in ``out_dir/runs.jsonl`` keyed by their
configuration and seed, so an interrupted optimisation resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import ConfigError, Scenario
from sim.decide.levers import RANKED_LEVERS, Lever, load_levers, rankings
from sim.decide.optimum import (  # re-exported: sim.decide.optimise's results
    ALPHA,
    FRONT_KPI,
    Candidate,
    OptimumResult,
    mix,
    pareto_front,
    write_report,
)
from sim.decide.search import Outcome, choose, optuna_search
from sim.experiments.comparisons import run_tasks
from sim.experiments.executors import task_for
from sim.experiments.sizing import Target
from sim.model.costs import scenario_cost
from sim.model.seeds import replication_seeds
from sim.runs.stats import kpi_interval

__all__ = ["ALPHA", "FRONT_KPI", "Candidate", "OptimumResult", "optimise", "pareto_front",
           "write_report"]


def _looks(first: int, most: int | None) -> list[int]:
    """Replications at each look of the confirmation: ``first``, doubling, up to ``most``."""
    most = first if most is None else most
    if most < first:
        raise ValueError(f"confirm_max_replications ({most}) is below confirm_replications "
                         f"({first})")
    out = [first]
    while out[-1] < most:
        out.append(min(2 * out[-1], most))
    return out


class _Store:
    """Rows of finished runs, keyed by configuration and seed (``runs.jsonl``, append-only)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.rows: dict[str, dict[str, float]] = {}
        if path is not None and path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by an interruption
                    continue
                self.rows[rec["key"]] = rec["kpis"]

    def add(self, key: str, kpis: dict[str, float]) -> None:
        self.rows[key] = kpis
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"key": key, "kpis": kpis}) + "\n")
                fh.flush()


def _ranking(scenario: Scenario, seed: int) -> dict[str, list[int]]:
    """Schools worst first for each ranked code lever (one baseline run,
    :func:`sim.decide.levers.rankings`)."""
    from sim.model.simulation import simulate_once

    s = simulate_once(scenario, seed).schools
    return rankings(s, [u.mbit_s for u in scenario.assignment.uplink_mix])


def optimise(
    scenario: Scenario,
    levers: Sequence[Lever] | str | Path,
    targets: Sequence[Target | str],
    *,
    replications: int = 3,
    confirm_replications: int = 8,
    confirm_max_replications: int | None = None,
    seed: int = 1,
    screen_scale: float | None = None,
    confirm_scale: float | None = 1.0,
    max_confirm: int = 5,
    budget_runs: int | None = None,
    executor: Any | None = None,
    out_dir: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    search: str = "auto",
    batch: int = 8,
) -> OptimumResult:
    """The cheapest combination of ``levers`` meeting every target at 95 % confidence.

    Parameters
    ----------
    scenario
        The scenario as given (levers change it; everything else stays).
    levers
        Levers (:func:`sim.decide.levers.load_levers`) or a levers file.
    targets
        ``Target`` or ``"KPI>=v"`` / ``"KPI<=v"``; all must hold.
    replications, confirm_replications
        Replications per combination when screening / per candidate when confirming.
    confirm_max_replications
        Sequential looks: an undecided candidate's replications are doubled up to this many
        (None: ``confirm_replications``, one look).
    screen_scale, confirm_scale
        ``population.scale`` of the screening / confirmation runs (None: as given).
        ``confirmed_at_full_scale`` is true only when the confirmation ran at scale 1.
    max_confirm
        K, the most candidates confirmed (Bonferroni divides α by K × the targets).
    budget_runs
        Most simulation runs (screening plus the most the confirmation may need). None:
        screen every combination (at most :data:`sim.decide.search.MAX_EXHAUSTIVE`).
    search
        ``auto`` (exhaustive when every combination fits the budget, else Optuna),
        ``exhaustive`` (a space over the budget is refused) or ``optuna``
        (:func:`sim.decide.search.optuna_search`; needs ``budget_runs``).
    batch
        Combinations the Optuna search asks at a time (they run in parallel).
    executor
        Where the runs go (the sweep executors; default this process).
    out_dir
        Where runs are stored (resumable); None keeps them in memory.

    See the module docstring for the procedure and its guarantee.
    """
    if replications < 2 or confirm_replications < 2:
        raise ValueError("screening and confirmation need at least 2 replications (a CI)")
    if max_confirm < 1:
        raise ValueError("max_confirm must be at least 1")
    looks = _looks(confirm_replications, confirm_max_replications)
    if batch < 1:
        raise ValueError("batch must be at least 1")
    tg = [Target.parse(t) if isinstance(t, str) else t for t in targets]
    if not tg:
        raise ConfigError(["--target: give at least one target"])
    lv = load_levers(levers, scenario) if isinstance(levers, str | Path) else list(levers)
    n_combos = math.prod(len(lev.values) for lev in lv)
    how, screen_most = choose(search, n_combos, replications,
                              max_confirm * looks[-1], budget_runs)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    store = _Store(out / "runs.jsonl" if out is not None else None)
    kpis = sorted({t.kpi for t in tg} | {FRONT_KPI})
    # the config hash leaves the costs section out: re-pricing a lever re-runs nothing
    base_hash = scenario.config_hash()

    def scaled(scale: float | None) -> list[str]:
        return [] if scale is None else [f"population.scale={scale}"]

    needs_ranking = any(lev.kind in RANKED_LEVERS for lev in lv)
    ranked: dict[float | None, dict[str, list[int]]] = {}

    def ranking(scale: float | None) -> dict[str, list[int]]:
        # school numbers differ between population scales: one baseline run per scale
        if needs_ranking and scale not in ranked:
            from sim.config import scenario_from_dict

            rank_sc = scenario_from_dict(scenario.model_dump(mode="json"), "<ranking>",
                                         scaled(scale))
            rank_sc.source_path = scenario.source_path
            ranked[scale] = _ranking(rank_sc, seed)
        return ranked.get(scale, {})

    def overrides(values: tuple[Any, ...], scale: float | None) -> list[str]:
        eff = scenario.population.scale if scale is None else scale
        return [o for lev, v in zip(lv, values, strict=True)
                for o in lev.overrides(v, ranking(scale), eff)]

    def evaluate(cands: Sequence[Candidate], seeds: list[int], scale: float | None,
                 phase: str) -> None:
        tasks, where = [], []
        for c in cands:
            ov = overrides(c.values, scale) + scaled(scale)
            for s in seeds:
                key = hashlib.sha256(
                    json.dumps([base_hash, ov, s]).encode()).hexdigest()[:20]
                if key not in store.rows:
                    tasks.append(task_for(scenario, s, ov, key=key,
                                          labels={"name": mix(dict(zip(
                                              [x.name for x in lv], c.values, strict=True)))}))
                where.append((c, key))
        if tasks:
            if progress is not None:
                progress(f"{phase}: {len(tasks)} runs")
            for t, row in zip(tasks, run_tasks(tasks, executor), strict=True):
                store.add(t.key, {k: float(row[k]) for k in kpis})
        for c in cands:
            getattr(c, phase).clear()
        for c, key in where:
            for k in kpis:
                getattr(c, phase).setdefault(k, []).append(store.rows[key][k])

    def candidate(v: tuple[Any, ...]) -> Candidate:
        return Candidate(v, sum(lev.cost(x) for lev, x in zip(lv, v, strict=True)))

    def slacks(c: Candidate) -> tuple[float, ...]:
        # per target: how far the optimistic end of the screening interval is from meeting
        # it, relative to the target (≤ 0: it meets it); a NaN end (no finite value) fails
        out = []
        for t in tg:
            iv = kpi_interval(t.kpi, c.screen[t.kpi])
            end = iv.hi if t.op == ">=" else iv.lo
            gap = (t.value - end) if t.op == ">=" else (end - t.value)
            out.append(gap / max(abs(t.value), 1e-9) if math.isfinite(gap) else 1e9)
        return tuple(out)

    def survives(c: Candidate) -> bool:
        return all(x <= 0 for x in slacks(c))

    screen_seeds = replication_seeds(seed, replications)
    if how == "exhaustive":
        cands = [candidate(v) for v in itertools.product(*(lev.values for lev in lv))]
        evaluate(cands, screen_seeds, screen_scale, "screen")
    else:
        cands = []

        def screen_batch(combos: list[tuple[Any, ...]]) -> list[Outcome]:
            new = [candidate(v) for v in combos]
            evaluate(new, screen_seeds, screen_scale, "screen")
            cands.extend(new)
            return [Outcome(c.cost_eur, float(np.mean(c.screen[FRONT_KPI])), slacks(c))
                    for c in new]

        optuna_search([(lev.name, lev.values) for lev in lv], screen_batch,
                      budget=screen_most, batch=batch, seed=seed)

    survivors = sorted((c for c in cands if survives(c)), key=lambda c: c.cost_eur)
    pool = survivors[:max_confirm]
    k_tested = max(1, len(pool))
    alpha_each = ALPHA / (k_tested * len(tg) * len(looks))
    # fresh seeds: the confirmation must not reuse the screening's (selection bias); the
    # seeds of a look are a prefix of the next look's, so a look re-uses the runs before it
    confirm_seeds = replication_seeds(seed + 7_919_000, looks[-1])
    best: Candidate | None = None
    for c in pool:  # sequentially in cost order; stop at the first proven
        for n in looks:
            evaluate([c], confirm_seeds[:n], confirm_scale, "confirm")
            ok, failed = True, False
            for t in tg:
                # a one-sided bound at 1 − a is an end of the two-sided interval at 1 − 2a
                iv = kpi_interval(t.kpi, c.confirm[t.kpi], level=1.0 - 2.0 * alpha_each)
                b = t.interval_bound(iv)
                c.bounds[str(t)] = b
                finite = bool(np.isfinite(c.confirm[t.kpi]).all())
                ok = ok and t._meets(b) and finite
                # the other end: even the optimistic bound misses, so it is infeasible
                other = iv.hi if t.op == ">=" else iv.lo
                failed = failed or not finite or not t._meets(other)
            if ok or failed:
                break
        c.accepted = ok
        if ok:
            best = c
            break
    closest = None
    if best is None:
        def shortfall(c: Candidate) -> float:
            sample = c.confirm or c.screen
            worst = 0.0
            for t in tg:
                m = float(np.mean(sample[t.kpi]))
                gap = (t.value - m) if t.op == ">=" else (m - t.value)
                worst = max(worst, gap / max(abs(t.value), 1e-9))
            return worst

        # confirmed candidates carry the better (full-scale, fresh-seed) evidence: prefer them
        pool_c = [c for c in pool if c.confirm] or cands
        closest = min(pool_c, key=lambda c: (shortfall(c), c.cost_eur)) if pool_c else None
    full = confirm_scale == 1.0 or (confirm_scale is None and scenario.population.scale == 1.0)
    res = OptimumResult(
        levers=lv, targets=tg, candidates=cands, best=best, closest=closest,
        confirmed_at_full_scale=full and best is not None,
        runs=len(cands) * replications + sum(len(c.confirm[tg[0].kpi]) for c in pool
                                             if c.confirm),
        pareto=pareto_front(cands), tested=k_tested, alpha_each=alpha_each,
        screen_scale=screen_scale, confirm_scale=confirm_scale,
        baseline_cost=scenario_cost(scenario), search=how, combinations=n_combos,
        looks=tuple(looks),
    )
    if out is not None:
        from sim.runs.io import write_json

        write_json(out / "optimum.json", res.to_dict())
        write_report(res, out / "report.html")
    return res

