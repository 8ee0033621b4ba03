"""What ``sim.decide.optimise`` found: candidates, the answer, ``optimum.json`` and the report page.

Besides the answer, every optimisation records the **screening bias** it can measure: for
each confirmed candidate and each target KPI, the screening mean (population scale s, the
screening seeds) against the confirmation mean (scale of the confirmation, fresh seeds),
their difference (screening − confirmation) with Welch's 95 % interval and the ratio. The
two samples come from different seeds, so the difference is the scale bias plus noise that
the interval covers. It is computed from the stored runs only, so re-running an existing
optimisation directory adds it without running anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.decide.levers import Lever
from sim.experiments.targets import Target
from sim.runs.stats import difference_bounds, kpi_interval, welch_difference

ALPHA = 0.05
FRONT_KPI = "lost_pupil_minutes"


@dataclass
class Candidate:
    """One combination: its lever values, cost and KPI samples per phase."""

    values: tuple[Any, ...]
    cost_eur: float
    screen: dict[str, list[float]] = field(default_factory=dict)
    confirm: dict[str, list[float]] = field(default_factory=dict)
    accepted: bool | None = None
    bounds: dict[str, float] = field(default_factory=dict)


@dataclass
class OptimumResult:
    """The answer (``best``; None: none within the levers given) and its evidence."""

    levers: list[Lever]
    targets: list[Target]
    candidates: list[Candidate]
    """The screened combinations (all of them, or those the Optuna search tried)."""
    best: Candidate | None
    closest: Candidate | None
    confirmed_at_full_scale: bool
    runs: int
    pareto: list[Candidate]
    tested: int
    alpha_each: float
    screen_scale: float | None
    confirm_scale: float | None
    baseline_cost: dict[str, Any]
    search: str = "exhaustive"
    """``exhaustive`` or ``optuna`` (:mod:`sim.decide.search`)."""
    combinations: int = 0
    """The size of the space (the product of the levers' value counts)."""
    looks: tuple[int, ...] = ()
    """Confirmation replications at each sequential look (one look: one entry)."""
    front_of: str = "feasible"
    """``pareto`` is the front of the combinations that may meet the targets (``feasible``)
    or, when none may, of every combination screened (``all``)."""
    scenario: Any = field(default=None, repr=False)
    """The scenario as given (names the levers' platforms and faults on the page)."""

    def lever_values(self, c: Candidate) -> dict[str, Any]:
        return {lv.name: v for lv, v in zip(self.levers, c.values, strict=True)}

    def words(self, c: Candidate) -> str:
        """A combination as a planner reads it: "IServ conference nodes 350; …" (English)."""
        from sim.decide.lever_labels import lever_words, value_words

        sc = self.scenario
        return "; ".join(f"{lever_words(lv, scenario=sc)}: {value_words(lv, v, scenario=sc)}"
                         for lv, v in zip(self.levers, c.values, strict=True))

    def sentence(self) -> str:
        from sim.decide.lever_labels import target_words

        tg = " and ".join(target_words(t) for t in self.targets)
        if self.best is None:
            near = (f"; closest: {self.words(self.closest)} at "
                    f"€{self.closest.cost_eur:,.0f}" if self.closest else "")
            return f"No combination within the levers given meets {tg} at 95 % confidence{near}."
        return (f"The cheapest combination meeting {tg} at 95 % confidence is "
                f"{self.words(self.best)}, costing €{self.best.cost_eur:,.0f}.")

    def screening_bias(self) -> list[dict[str, Any]]:
        """Per confirmed candidate (in confirmation order): screening vs confirmation means
        of every target KPI (see the module docstring)."""
        out = []
        for c in self.candidates_confirmed():
            kpis: dict[str, Any] = {}
            for kpi in dict.fromkeys(t.kpi for t in self.targets):
                s, f = c.screen[kpi], c.confirm[kpi]
                d = welch_difference(f, s, bounds=difference_bounds(kpi))
                ms, mf = float(np.mean(s)), float(np.mean(f))
                kpis[kpi] = {"screen_mean": _num(ms), "confirm_mean": _num(mf),
                             "difference": _num(d.mean), "lo": _num(d.lo), "hi": _num(d.hi),
                             "ratio": _num(ms / mf) if mf != 0 else None,
                             "screen_n": len(s), "confirm_n": len(f)}
            out.append({"levers": self.lever_values(c), "kpis": kpis})
        return out

    def candidates_confirmed(self) -> list[Candidate]:
        return [c for c in self.candidates if c.confirm]

    def to_dict(self) -> dict[str, Any]:
        """``optimum.json``'s content."""
        shown = self.best or self.closest
        kpis: dict[str, Any] = {}
        if shown is not None:
            samples = shown.confirm or shown.screen
            for kpi, v in samples.items():
                iv = kpi_interval(kpi, v)
                kpis[kpi] = {"mean": _num(float(np.mean(v))), "lo": _num(iv.lo),
                             "hi": _num(iv.hi)}
        screened = ("all combinations" if self.search == "exhaustive" else
                    f"{len(self.candidates)} of {self.combinations} combinations chosen by a "
                    f"seeded constrained TPE search (Optuna)")
        return {
            "answer": self.sentence(),
            "found": self.best is not None,
            "levers": self.lever_values(shown) if shown else {},
            "cost_eur": shown.cost_eur if shown else None,
            "kpis": kpis,
            "targets": [str(t) for t in self.targets],
            "confirmed_at_full_scale": self.confirmed_at_full_scale and self.best is not None,
            "runs": self.runs,
            "pareto_of": self.front_of,
            "pareto": [
                {"levers": self.lever_values(c), "cost_eur": c.cost_eur,
                 FRONT_KPI: _num(float(np.mean(c.screen[FRONT_KPI])))}
                for c in self.pareto
            ],
            "screening_bias": {
                "screen_scale": self.screen_scale, "confirm_scale": self.confirm_scale,
                "difference": "screening mean − confirmation mean, Welch 95 % interval",
                "candidates": self.screening_bias(),
            },
            "method": {
                "procedure": f"screen (CRN, {screened}) then sequential confirmation in "
                             "cost order on fresh CRN seeds, one-sided t bounds at "
                             "1 − α/(K·T·L) (Bonferroni; L sequential looks)",
                "looks": list(self.looks),
                "search": self.search, "combinations": self.combinations,
                "screened": len(self.candidates),
                "alpha": ALPHA, "candidates_tested_K": self.tested,
                "candidates_confirmed": len(self.candidates_confirmed()),
                "alpha_per_bound": self.alpha_each,
                "screen_scale": self.screen_scale, "confirm_scale": self.confirm_scale,
            },
            "baseline_cost": self.baseline_cost,
        }


RECORD = "optimum-record.json"
"""The file in an optimise directory that holds the whole result (``dlsim report DIR``
renders the page again from it, in any language, without simulating)."""


def _pairs(d: dict[Any, Any] | None) -> list[list[Any]] | None:
    """A dict as ``[key, value]`` pairs: JSON keeps the keys' types (a lever value 5 or
    ``none``) only in a list."""
    return None if d is None else [[k, v] for k, v in d.items()]


def _samples(d: dict[str, list[float]]) -> dict[str, list[float | None]]:
    """KPI samples for JSON: an undefined value (NaN) as null."""
    return {k: [_num(float(x)) for x in v] for k, v in d.items()}


def _floats(d: dict[str, list[float | None]]) -> dict[str, list[float]]:
    return {k: [math.nan if x is None else float(x) for x in v] for k, v in d.items()}


def _frozen(v: Any) -> Any:
    """A lever value read back from JSON as the levers file gave it (lists as tuples)."""
    return tuple(_frozen(x) for x in v) if isinstance(v, list) else v


def _candidate(c: Candidate) -> dict[str, Any]:
    return {"values": list(c.values), "cost_eur": c.cost_eur, "screen": _samples(c.screen),
            "confirm": _samples(c.confirm), "accepted": c.accepted,
            "bounds": {k: _num(float(v)) for k, v in c.bounds.items()}}


def to_record(res: OptimumResult) -> dict[str, Any]:
    """The whole of ``res`` as JSON-able data (:data:`RECORD`; :func:`from_record` reads it
    back): levers, targets, every candidate with its samples, the answer by position."""
    cands = res.candidates
    where = {id(c): i for i, c in enumerate(cands)}

    def index(c: Candidate | None) -> int | None:
        return None if c is None else where[id(c)]

    sc = res.scenario
    return {
        "levers": [{"name": lv.name, "kind": lv.kind, "path": lv.path,
                    "values": list(lv.values), "current": lv.current,
                    "per_unit": lv.per_unit, "table": _pairs(lv.table),
                    "platform": lv.platform} for lv in res.levers],
        "targets": [str(t) for t in res.targets],
        "candidates": [_candidate(c) for c in cands],
        "best": index(res.best), "closest": index(res.closest),
        "pareto": [index(c) for c in res.pareto],
        "confirmed_at_full_scale": res.confirmed_at_full_scale, "runs": res.runs,
        "tested": res.tested, "alpha_each": res.alpha_each,
        "screen_scale": res.screen_scale, "confirm_scale": res.confirm_scale,
        "baseline_cost": res.baseline_cost, "search": res.search,
        "combinations": res.combinations, "looks": list(res.looks), "front_of": res.front_of,
        "config": sc.model_dump(mode="json") if sc is not None else None,
    }


def from_record(rec: dict[str, Any], source: str = RECORD) -> OptimumResult:
    """An :class:`OptimumResult` from :func:`to_record`'s data (KeyError, TypeError or
    ValueError when it is not one)."""
    from sim.config import scenario_from_dict

    levers = [Lever(name=lv["name"], kind=lv["kind"], path=lv["path"],
                    values=tuple(_frozen(v) for v in lv["values"]),
                    current=_frozen(lv["current"]), per_unit=lv["per_unit"],
                    table=None if lv["table"] is None else {
                        _frozen(k): float(v) for k, v in lv["table"]},
                    platform=lv.get("platform")) for lv in rec["levers"]]
    cands = [Candidate(values=tuple(_frozen(v) for v in c["values"]),
                       cost_eur=float(c["cost_eur"]),
                       screen=_floats(c["screen"]), confirm=_floats(c["confirm"]),
                       accepted=c["accepted"],
                       bounds={k: math.nan if v is None else float(v)
                               for k, v in c["bounds"].items()}) for c in rec["candidates"]]

    def at(i: int | None) -> Candidate | None:
        return None if i is None else cands[i]

    cfg = rec.get("config")
    return OptimumResult(
        levers=levers, targets=[Target.parse(t) for t in rec["targets"]], candidates=cands,
        best=at(rec["best"]), closest=at(rec["closest"]),
        confirmed_at_full_scale=bool(rec["confirmed_at_full_scale"]), runs=int(rec["runs"]),
        pareto=[c for c in (at(i) for i in rec["pareto"]) if c is not None],
        tested=int(rec["tested"]), alpha_each=float(rec["alpha_each"]),
        screen_scale=rec["screen_scale"], confirm_scale=rec["confirm_scale"],
        baseline_cost=rec["baseline_cost"], search=rec["search"],
        combinations=int(rec["combinations"]), looks=tuple(rec["looks"]),
        front_of=rec["front_of"],
        scenario=None if cfg is None else scenario_from_dict(cfg, source=source),
    )


def _num(x: float) -> float | None:
    return x if math.isfinite(x) else None


def mix(values: dict[str, Any]) -> str:
    """``name=value, …`` as printed."""
    return ", ".join(f"{k}={v}" for k, v in values.items())


def lost_mean(c: Candidate) -> float:
    """A combination's screening mean of lost pupil-minutes (the front's second axis)."""
    return float(np.mean(c.screen[FRONT_KPI]))


def pareto_front(cands: Sequence[Candidate]) -> list[Candidate]:
    """Combinations no other is both cheaper (or as cheap) and better in lost minutes."""
    pts = sorted(cands, key=lambda c: (c.cost_eur, lost_mean(c)))
    front, best = [], math.inf
    for c in pts:
        m = lost_mean(c)
        if m < best:
            front.append(c)
            best = m
    return front


def dominates(a: Candidate, b: Candidate) -> bool:
    """``a`` costs no more than ``b`` and loses fewer minutes, or costs less and loses no
    more (screening means)."""
    la, lb = lost_mean(a), lost_mean(b)
    return (a.cost_eur <= b.cost_eur and la < lb) or (a.cost_eur < b.cost_eur and la <= lb)


def dominating(res: OptimumResult) -> list[Candidate]:
    """The rows of ``res``'s front that dominate its answer (empty: the answer is on it)."""
    return [] if res.best is None else [c for c in res.pareto if dominates(c, res.best)]
