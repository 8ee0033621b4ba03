"""Erlang-B's bracket for a cluster's capacity: the smallest value a loss system needs for a
target blocking, and a value that cannot meet it.

For ``platforms[i].clusters[j].nodes`` or ``.node_max_participants`` and a target that maps
to a blocking probability (:meth:`sim.experiments.targets.Target.blocking`): the offered load
``A`` of the platform — ``rate × holding`` for Poisson validation demand, else the peak
concurrent participants of an unconstrained baseline run — gives Erlang-B's minimum number of
participant slots ``c*`` for the target blocking ``B``; a loss system can never meet ``B``
with ``c ≤ A(1 − B)`` slots (carried load ``A(1 − B)`` must fit below ``c``). Slots become
the parameter's value via the cluster's node size (``nodes = ⌈slots / node_max_participants⌉``)
or node count. :func:`sim.experiments.sizing.size_capacity` starts its search there.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from sim.config import ConfigError, Scenario, scenario_from_dict
from sim.config.paths import named_in
from sim.experiments.analytic import min_servers_erlang_b
from sim.experiments.targets import Target
from sim.model.simulation import simulate_once

_CAPACITY = re.compile(r"^platforms\[(\d+)\]\.clusters\[(\d+)\]\.(nodes|node_max_participants)$")


@dataclass(frozen=True)
class AnalyticBound:
    """Erlang-B's answer for the parameter, and a value that cannot meet the target."""

    offered_erlangs: float
    load_source: str
    target_blocking: float
    slots: int
    """Erlang-B minimum participant slots for the target blocking."""
    value: int
    """``slots`` expressed as the parameter's value."""
    lower_value: int | None
    """Largest value with at most ``A(1 − B)`` slots (cannot meet the target)."""


def _offered_load(
    scenario: Scenario, param: str, value: int, platform: int, seed: int
) -> tuple[float, str, dict[str, Any]]:
    """Offered load (Erlangs) of the platform that ``param`` (now ``value``) belongs to."""
    plat = scenario.platforms[platform]
    poisson = scenario.demand.poisson
    if scenario.demand.kind == "poisson" and poisson is not None:
        if poisson.platform == plat.name:
            a = poisson.arrival_rate_per_s * poisson.holding_mean_s
            src = f"Poisson demand: {poisson.arrival_rate_per_s:g}/s × {poisson.holding_mean_s:g} s"
            return a, src, {}
        return 0.0, f"the Poisson demand goes to {poisson.platform}, not {plat.name}", {}
    # Timetable demand: the peak of an unconstrained baseline run (capacity ×4 until no node of
    # the platform was full), treated as a stationary offered load — conservative.
    runs = []
    for _ in range(4):
        sc = scenario_from_dict(
            scenario.model_dump(mode="json"), "<baseline>", [f"{param}={value}"]
        )
        sc.source_path = scenario.source_path
        r = simulate_once(sc, seed)
        peak = r.extra["peak_participants_per_platform"][plat.name]
        util = r.extra["peak_node_utilisation_per_platform"][plat.name]
        runs.append({"value": value, "peak_participants": peak, "peak_node_utilisation": util})
        if util < 0.95:
            break
        value *= 4
    return (
        float(runs[-1]["peak_participants"]),
        (
            f"peak concurrent participants on {plat.name} in a baseline run with "
            f"{named_in(scenario, param)}={runs[-1]['value']}"
        ),
        {"runs": runs},
    )


def analytic_bound(
    scenario: Scenario, param: str, target: Target, seed: int = 1
) -> tuple[AnalyticBound | None, str, dict[str, Any]]:
    """Erlang-B bracket for ``param`` (None with the reason when there is none)."""
    m = _CAPACITY.match(param)
    b = target.blocking()
    if not m:
        return None, "no analytic bound for this parameter (only cluster nodes / node size)", {}
    if b is None or not 0.0 < b < 1.0:
        return None, f"no blocking equivalent of the target {target}", {}
    i, j, kind = int(m[1]), int(m[2]), m[3]
    if i >= len(scenario.platforms) or j >= len(scenario.platforms[i].clusters):
        raise ConfigError([f"--param {param}: no such platform/cluster in the scenario"])
    cluster = scenario.platforms[i].clusters[j]
    a, source, baseline = _offered_load(scenario, param, getattr(cluster, kind), i, seed)
    if a <= 0.0:
        return None, f"no offered load on that platform ({source})", baseline
    per = cluster.node_max_participants if kind == "nodes" else cluster.nodes
    slots = min_servers_erlang_b(a, b)
    floor_slots = math.floor(a * (1.0 - b))
    lower = floor_slots // per
    return (
        AnalyticBound(
            offered_erlangs=a,
            load_source=source,
            target_blocking=b,
            slots=slots,
            value=max(1, math.ceil(slots / per)),
            lower_value=lower if lower >= 1 else None,
        ),
        "",
        baseline,
    )
