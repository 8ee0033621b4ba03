"""Faithful scale: ``population.scale`` < 1 is a miniature of the whole state.

A scenario file describes the whole state: its conference nodes, reserve nodes, scale-up
steps, login-service workers and external load are the state's. A run at
``population.scale = s`` simulates ``s`` of the schools, so it must also build ``s`` of the
*central* capacities — otherwise a tenth of the pupils meets the whole fleet and nothing is
ever loaded (issue 17: at 0.1 the capacity line sat at ≈190 k against ≈8 k participants).
Per-school resources (the schools' own servers, their uplinks, class sizes) stay per school:
each simulated school is a whole school.

- :func:`faithful` turns a scenario into the one a run builds.
:class:`sim.model.simulation.Simulation`
  applies it to every scenario it is given, so no caller (CLI, experiments, sweeps, sizing,
  what-if grids, notebooks) can run a miniature with the full fleet by accident.
- :func:`scaled` is for callers that want a miniature of a scenario: it only sets the
  population scale (the capacities follow at build time).
- :func:`scale_report` states what was built: the factor, each central capacity at full
  scale and as built, and the realised ratio of capacity to demand (1 within rounding).

**Rounding rule.** A full-state count ``n`` becomes ``round_half_up(n × s)``, at least 1
(every full-state count is ≥ 1: a cluster of 20 nodes at scale 0.01 keeps one node). The
rounding error is therefore at most half a node per cluster — large in relative terms for
small clusters at small scale, which is why :func:`scale_report` gives the realised ratio.

**What is not scaled.** ``population.capacities: as_given`` keeps every capacity as written
(a small state on the full fleet, or a file that sets its miniature's capacities itself).
Poisson demand (``demand.kind: poisson``, the verification oracles) does not come from the
population, so its capacities are never scaled. Faults and policies that name shares of a
fleet (``share: 0.3`` of the nodes) are scale-free; per-node limits (participants per node,
join rate per node) are per node and stay.

Queueing is not scale-free: ``s`` of the demand on ``s`` of the servers blocks more
(Erlang-B) — see docs/scale.md for the measured bias.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sim.config import Scenario
from sim.model.messages import N_

__all__ = [
    "ScaleReport",
    "describe",
    "faithful",
    "full_state_count",
    "scale_count",
    "scale_report",
    "scaled",
    "with_scale",
]


def scale_count(full: int, factor: float) -> int:
    """``full`` central units at ``factor`` of the state: round half up, at least 1."""
    if full <= 0:
        return full
    return max(1, math.floor(full * factor + 0.5))


def full_state_count(miniature: float, factor: float) -> float:
    """A count found in a miniature at ``factor``, in whole-state units (``miniature / factor``)."""
    return miniature / factor


def factor_of(scenario: Scenario) -> float:
    """The factor central capacities are built at: ``population.scale``, or 1 when the scenario
    keeps its capacities as given (``population.capacities: as_given``, Poisson demand, or a
    scenario :func:`faithful` has already scaled)."""
    if scenario.population.capacities != "whole_state" or scenario.demand.kind == "poisson":
        return 1.0
    return float(scenario.population.scale)


def faithful(scenario: Scenario) -> Scenario:
    """The scenario a run builds: central capacities scaled with demand (see module doc).

    Idempotent: the result says ``population.capacities: as_given`` (its numbers are the
    miniature's own), so applying it again changes nothing. At factor 1 the scenario is
    returned unchanged (the same object).
    """
    s = factor_of(scenario)
    if s == 1.0:
        return scenario
    d: dict[str, Any] = scenario.model_dump(mode="python")
    for p in d["platforms"]:
        p["frontend"]["workers"] = scale_count(p["frontend"]["workers"], s)
        for c in p["clusters"]:
            c["nodes"] = scale_count(c["nodes"], s)
    for su in d["policies"]["scale_up"]:
        su["reserve_nodes"] = scale_count(su["reserve_nodes"], s)
        su["step_nodes"] = scale_count(su["step_nodes"], s)
    ext = d["population"].get("external")
    if ext is not None:
        # the external block is relative to the state's marginals: it shrinks with the state
        ext["scale"] = ext["scale"] * s
    d["population"]["capacities"] = "as_given"
    out = Scenario.model_validate(d)
    out.source_path = scenario.source_path
    return out


def scaled(scenario: Scenario, factor: float) -> Scenario:
    """A miniature of ``scenario`` at ``factor`` of its population (``population.scale`` ×
    ``factor``); its central capacities follow when it is built (:func:`faithful`)."""
    if factor <= 0:
        raise ValueError(f"scale factor must be positive, got {factor!r}")
    d: dict[str, Any] = scenario.model_dump(mode="python")
    d["population"]["scale"] = scenario.population.scale * factor
    out = Scenario.model_validate(d)
    out.source_path = scenario.source_path
    return out


def with_scale(scenario: Scenario, scale: float) -> Scenario:
    """``scenario`` with ``population.scale`` set to ``scale`` (e.g. 1.0 to confirm a
    miniature's answer for the whole state)."""
    d: dict[str, Any] = scenario.model_dump(mode="python")
    d["population"]["scale"] = scale
    out = Scenario.model_validate(d)
    out.source_path = scenario.source_path
    return out


@dataclass(frozen=True)
class ScaleItem:
    """One central capacity: its whole-state count, the exact target and what was built."""

    name: str
    full: int
    target: float
    built: int

    @property
    def ratio(self) -> float:
        """Built over target: 1 means the capacity scaled exactly with demand."""
        return self.built / self.target if self.target > 0 else 1.0


@dataclass(frozen=True)
class ScaleReport:
    """What a run at a population scale built, against the whole state."""

    factor: float
    mode: str  # "faithful" (capacities scaled), "as_given" or "poisson" (not scaled)
    items: list[ScaleItem] = field(default_factory=list)

    @property
    def worst_ratio(self) -> float:
        """The realised capacity-to-demand ratio furthest from 1 (1 when nothing was scaled)."""
        if not self.items:
            return 1.0
        return max((i.ratio for i in self.items), key=lambda r: abs(math.log(r)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "factor": self.factor,
            "mode": self.mode,
            "worst_capacity_ratio": self.worst_ratio,
            "items": [{"name": i.name, "full": i.full, "target": i.target, "built": i.built,
                       "ratio": i.ratio} for i in self.items],
        }


def scale_report(scenario: Scenario) -> ScaleReport:
    """What :func:`faithful` builds from ``scenario`` (a whole-state scenario)."""
    if scenario.demand.kind == "poisson":
        return ScaleReport(1.0, "poisson")
    if scenario.population.capacities != "whole_state":
        return ScaleReport(float(scenario.population.scale), "as_given")
    s = float(scenario.population.scale)
    items: list[ScaleItem] = []
    for p in scenario.platforms:
        items.append(ScaleItem(f"{p.name} login-service workers", p.frontend.workers,
                               p.frontend.workers * s, scale_count(p.frontend.workers, s)))
        for c in p.clusters:
            items.append(ScaleItem(f"{c.name} nodes", c.nodes, c.nodes * s,
                                   scale_count(c.nodes, s)))
    for su in scenario.policies.scale_up:
        items.append(ScaleItem(f"{su.cluster} reserve nodes", su.reserve_nodes,
                               su.reserve_nodes * s, scale_count(su.reserve_nodes, s)))
        items.append(ScaleItem(f"{su.cluster} scale-up step", su.step_nodes,
                               su.step_nodes * s, scale_count(su.step_nodes, s)))
    return ScaleReport(s, "faithful", items)


def describe(scenario: Scenario, tr: Any = None) -> str:
    """The scale in one line, for CLI summaries and report headers (``tr``: a
    :class:`sim.report.i18n.Tr` for the reader's language; English without)."""
    rep = scale_report(scenario)
    s = float(scenario.population.scale)

    def num(x: float, digits: int | None) -> str:  # digits None: as few as the value needs
        if tr is None:
            return f"{x:g}" if digits is None else f"{x:.{digits}f}"
        return tr.sig(x, 6) if digits is None else tr.num(x, digits)

    # English msgids (N_), translated by ``tr`` when there is one
    kw: dict[str, str] = {}
    if rep.mode == "poisson":
        msg = N_("Poisson demand: capacities as given (not scaled with a population)")
    elif s == 1.0:
        msg = N_("population scale 1 (the whole state)")
    elif rep.mode == "as_given":
        msg = N_("population scale {s}; capacities as given (population.capacities: "
                 "as_given — not scaled with demand)")
        kw = {"s": num(s, None)}
    else:
        msg = N_("population scale {s}: a faithful miniature — central capacities built at "
                 "{s} of the whole state's (rounding: capacity-to-demand ratio {ratio} at "
                 "worst)")
        kw = {"s": num(s, None), "ratio": num(rep.worst_ratio, 2)}
    return str(tr(msg, **kw)) if tr is not None else msg.format(**kw)
