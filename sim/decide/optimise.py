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
3. **Front** — the screening means give the cost–lost-pupil-minutes Pareto front of the
   combinations that may meet every target (passed the screening and were not turned down
   at confirmation; every combination when none did). Candidates are confirmed in the
   order (cost, screening mean of lost minutes), so among equal-cost feasible combinations
   the one that loses least is recommended, and no row of the front dominates the answer
   (a cheaper or equal-cost row that loses less was confirmed first and turned down).

No candidate accepted is an answer too (``none within the levers given``), with the
candidate that came closest. Runs are stored in ``out_dir/runs.jsonl`` keyed by their
configuration, seed and the model's version (a changed model or scenario computes them again,
never reuses them), so an interrupted optimisation resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import ConfigError, Scenario
from sim.decide.levers import RANKED_LEVERS, Lever, load_levers, rankings
from sim.decide.optimum import (  # re-exported: sim.decide.optimise's results
    ALPHA,
    FRONT_KPI,
    RECORD,
    Candidate,
    OptimumResult,
    lost_mean,
    mix,
    pareto_front,
    to_record,
)
from sim.decide.optimum_page import render as render_page
from sim.decide.optimum_page import write_report
from sim.decide.search import Outcome, choose, optuna_search
from sim.experiments.comparisons import run_tasks
from sim.experiments.executors import task_for
from sim.experiments.targets import Target
from sim.model.costs import scenario_cost
from sim.model.seeds import replication_seeds
from sim.runs.io import write_text
from sim.runs.provenance import model_version
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
    """Rows of finished runs, keyed by configuration, seed and model version (``runs.jsonl``,
    append-only)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.rows: dict[str, dict[str, float]] = {}
        if path is not None and path.exists():
            text = path.read_text(encoding="utf-8", errors="replace")
            if text and not text.endswith("\n"):  # a line cut short by kill -9: drop it, so
                text = text[: text.rfind("\n") + 1]  # the next row starts a line of its own
                write_text(path, text)
            for line in text.splitlines():
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
    lang: str | None = None,
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
    lang
        Language of ``out_dir/report.html`` (None: the scenario's ``report.lang``, else en).

    See the module docstring for the procedure and its guarantee.
    """
    looks = _checked_looks(replications, confirm_replications, confirm_max_replications,
                           max_confirm, batch)
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
    runs = _Runs(scenario, lv, sorted({t.kpi for t in tg} | {FRONT_KPI}), seed,
                 _Store(out / "runs.jsonl" if out is not None else None), executor, progress)
    cands = _screen(runs, _Screening(how, screen_most, batch,
                                     replication_seeds(seed, replications), screen_scale), tg)
    pool = _pool(cands, tg, max_confirm)
    k_tested = max(1, len(pool))
    # fresh seeds: the confirmation must not reuse the screening's (selection bias); the
    # seeds of a look are a prefix of the next look's, so a look re-uses the runs before it
    conf = _Confirmation(looks, ALPHA / (k_tested * len(tg) * len(looks)),
                         replication_seeds(seed + 7_919_000, looks[-1]), confirm_scale)
    best = _confirm(runs, pool, tg, conf)
    front, front_of = _feasible_front(cands, tg)
    full = confirm_scale == 1.0 or (confirm_scale is None and scenario.population.scale == 1.0)
    res = OptimumResult(
        levers=lv, targets=tg, candidates=cands, best=best,
        closest=_closest(pool, cands, tg) if best is None else None,
        confirmed_at_full_scale=full and best is not None,
        runs=len(cands) * replications + sum(len(c.confirm[tg[0].kpi]) for c in pool
                                             if c.confirm),
        pareto=front, front_of=front_of, tested=k_tested, alpha_each=conf.alpha_each,
        screen_scale=screen_scale, confirm_scale=confirm_scale,
        baseline_cost=scenario_cost(scenario), search=how, combinations=n_combos,
        looks=tuple(looks), scenario=scenario,
    )
    if out is not None:
        _save(res, out, lang)
    return res


def _ranking(scenario: Scenario, seed: int) -> dict[str, list[int]]:
    """Schools worst first for each ranked code lever (one baseline run,
    :func:`sim.decide.levers.rankings`)."""
    from sim.model.simulation import simulate_once

    s = simulate_once(scenario, seed).schools
    return rankings(s, [u.mbit_s for u in scenario.assignment.uplink_mix])


def _scaled(scale: float | None) -> list[str]:
    """The override that runs at population scale ``scale`` (None: as given)."""
    return [] if scale is None else [f"population.scale={scale}"]


@dataclass
class _Runs:
    """The runs of lever combinations: their overrides, which are stored and which still
    run, and the KPIs kept of each."""

    scenario: Scenario
    levers: list[Lever]
    kpis: list[str]
    seed: int
    store: _Store
    executor: Any | None
    progress: Callable[[str], None] | None
    ranked: dict[float | None, dict[str, list[int]]] = field(default_factory=dict)
    base_hash: str = field(init=False)
    needs_ranking: bool = field(init=False)

    def __post_init__(self) -> None:
        # the config hash leaves the costs section out: re-pricing a lever re-runs nothing
        self.base_hash = self.scenario.config_hash()
        self.needs_ranking = any(lev.kind in RANKED_LEVERS for lev in self.levers)

    def candidate(self, values: tuple[Any, ...]) -> Candidate:
        """A combination and what its levers cost."""
        return Candidate(values, sum(lev.cost(x)
                                     for lev, x in zip(self.levers, values, strict=True)))

    def ranking(self, scale: float | None) -> dict[str, list[int]]:
        """Which schools the ranked levers pick at ``scale`` (school numbers differ between
        population scales: one baseline run per scale)."""
        if self.needs_ranking and scale not in self.ranked:
            from sim.config import scenario_from_dict

            sc = self.scenario
            rank_sc = scenario_from_dict(sc.model_dump(mode="json"), "<ranking>",
                                         _scaled(scale))
            rank_sc.source_path = sc.source_path
            self.ranked[scale] = _ranking(rank_sc, self.seed)
        return self.ranked.get(scale, {})

    def overrides(self, values: tuple[Any, ...], scale: float | None) -> list[str]:
        """The overrides that set the levers to ``values`` at ``scale``."""
        eff = self.scenario.population.scale if scale is None else scale
        return [o for lev, v in zip(self.levers, values, strict=True)
                for o in lev.overrides(v, self.ranking(scale), eff)]

    def evaluate(self, cands: Sequence[Candidate], seeds: list[int], scale: float | None,
                 phase: str) -> None:
        """Run what is not stored yet and set each candidate's KPI samples of ``phase``
        (``screen`` or ``confirm``) to its runs on ``seeds``, in seed order."""
        tasks, where = [], []
        names = [x.name for x in self.levers]
        for c in cands:
            ov = self.overrides(c.values, scale) + _scaled(scale)
            for s in seeds:
                # keyed by the model's version too: runs of another model are computed again
                key = hashlib.sha256(json.dumps(
                    [self.base_hash, ov, s, model_version()]).encode()).hexdigest()[:20]
                if key not in self.store.rows:
                    tasks.append(task_for(self.scenario, s, ov, key=key, labels={
                        "name": mix(dict(zip(names, c.values, strict=True)))}))
                where.append((c, key))
        if tasks:
            if self.progress is not None:
                self.progress(f"{phase}: {len(tasks)} runs")
            for t, row in zip(tasks, run_tasks(tasks, self.executor), strict=True):
                self.store.add(t.key, {k: float(row[k]) for k in self.kpis})
        for c in cands:
            getattr(c, phase).clear()
        for c, key in where:
            for k in self.kpis:
                getattr(c, phase).setdefault(k, []).append(self.store.rows[key][k])


def _slacks(c: Candidate, tg: Sequence[Target]) -> tuple[float, ...]:
    """Per target: how far the optimistic end of the screening interval is from meeting it,
    relative to the target (≤ 0: it meets it); a NaN end (no finite value) fails."""
    out = []
    for t in tg:
        iv = kpi_interval(t.kpi, c.screen[t.kpi])
        end = iv.hi if t.op == ">=" else iv.lo
        gap = (t.value - end) if t.op == ">=" else (end - t.value)
        out.append(gap / max(abs(t.value), 1e-9) if math.isfinite(gap) else 1e9)
    return tuple(out)


@dataclass(frozen=True)
class _Screening:
    """Which combinations are screened (``how``, at most ``most``; Optuna asks ``batch`` at a
    time), on which seeds and at which population scale."""

    how: str
    most: int
    batch: int
    seeds: list[int]
    scale: float | None


def _screen(runs: _Runs, screening: _Screening, tg: Sequence[Target]) -> list[Candidate]:
    """The screened combinations with their screening samples: every combination, or those
    the Optuna search asks for (in the order they were asked)."""
    sc = screening
    if sc.how == "exhaustive":
        cands = [runs.candidate(v) for v in itertools.product(*(lev.values
                                                                for lev in runs.levers))]
        runs.evaluate(cands, sc.seeds, sc.scale, "screen")
        return cands
    cands = []

    def screen_batch(combos: list[tuple[Any, ...]]) -> list[Outcome]:
        new = [runs.candidate(v) for v in combos]
        runs.evaluate(new, sc.seeds, sc.scale, "screen")
        cands.extend(new)
        return [Outcome(c.cost_eur, float(np.mean(c.screen[FRONT_KPI])), _slacks(c, tg))
                for c in new]

    optuna_search([(lev.name, lev.values) for lev in runs.levers], screen_batch,
                  budget=sc.most, batch=sc.batch, seed=runs.seed)
    return cands


def _pool(cands: list[Candidate], tg: Sequence[Target], k: int) -> list[Candidate]:
    """The candidates to confirm: the ``k`` cheapest whose screening does not clearly fail a
    target (K is fixed before any confirmation run)."""
    survivors = (c for c in cands if all(x <= 0 for x in _slacks(c, tg)))
    # among equal costs the one that loses least first: it is the one to recommend
    return sorted(survivors, key=lambda c: (c.cost_eur, lost_mean(c)))[:k]


def _feasible_front(cands: list[Candidate], tg: Sequence[Target]) -> tuple[list[Candidate], str]:
    """The cost–lost-minutes front of the combinations that may meet every target (passed
    the screening, not turned down at confirmation), so no row of it dominates the answer;
    when there are none, the front of every combination screened. Returns (front, which)."""
    ok = [c for c in cands if all(x <= 0 for x in _slacks(c, tg)) and c.accepted is not False]
    return (pareto_front(ok), "feasible") if ok else (pareto_front(cands), "all")


@dataclass(frozen=True)
class _Confirmation:
    """How candidates are confirmed: the replications at each look, the level ``1 − α_each``
    of each one-sided bound, the fresh seeds (a look's are a prefix of the next look's) and
    the population scale."""

    looks: list[int]
    alpha_each: float
    seeds: list[int]
    scale: float | None


def _confirm(runs: _Runs, pool: list[Candidate], tg: Sequence[Target],
             conf: _Confirmation) -> Candidate | None:
    """The first candidate of ``pool`` (in cost order) proven to meet every target, or None;
    each candidate tried gets ``accepted`` and its bounds."""
    for c in pool:  # sequentially in cost order; stop at the first proven
        for n in conf.looks:
            runs.evaluate([c], conf.seeds[:n], conf.scale, "confirm")
            ok, failed = _look(c, tg, conf.alpha_each)
            if ok or failed:
                break
        c.accepted = ok
        if ok:
            return c
    return None


def _look(c: Candidate, tg: Sequence[Target], alpha_each: float) -> tuple[bool, bool]:
    """After a look at ``c``'s confirmation samples: (proven to meet every target, proven
    to fail one); neither means another look. Sets ``c.bounds``."""
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
    return ok, failed


def _closest(pool: list[Candidate], cands: list[Candidate],
             tg: Sequence[Target]) -> Candidate | None:
    """When none is proven: the candidate whose worst relative shortfall of the mean is
    least (then the cheapest), among the confirmed ones if any, else all screened."""
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
    return min(pool_c, key=lambda c: (shortfall(c), c.cost_eur)) if pool_c else None


def _checked_looks(replications: int, confirm_replications: int,
                   confirm_max_replications: int | None, max_confirm: int,
                   batch: int) -> list[int]:
    """The confirmation's looks, once the counts are checked (ValueError names the first
    that cannot work)."""
    if replications < 2 or confirm_replications < 2:
        raise ValueError("screening and confirmation need at least 2 replications (a CI)")
    if max_confirm < 1:
        raise ValueError("max_confirm must be at least 1")
    looks = _looks(confirm_replications, confirm_max_replications)
    if batch < 1:
        raise ValueError("batch must be at least 1")
    return looks


def _save(res: OptimumResult, out: Path, lang: str | None) -> None:
    """Write ``report.html``, the whole result (``optimum-record.json``, for ``dlsim report``)
    and ``optimum.json`` into ``out``, all or nothing (an interruption
    leaves neither new; ``optimum.json``, renamed last, marks a complete answer)."""
    from sim.runs.io import StagedFiles, json_writer, text_writer

    with StagedFiles() as files:
        files.stage(out / "report.html", text_writer(render_page(res, lang)))
        files.stage(out / RECORD, json_writer(to_record(res)))  # the page in any language
        files.stage(out / "optimum.json", json_writer(res.to_dict()))
