"""The cost of a scenario as configured (€), from its ``costs:`` section.

Running costs are per simulated day (rented conference nodes, reserve node-hours actually
started); one-off costs are what the scenario's changes would cost once (replaced school
servers, upgraded uplinks, schools moved to a central platform). Policies are priced when
switched on. Defaults and their sources: data/SOURCES.md A56–A62.

Every figure is the **state's** (population scale 1), whatever scale the run has:

- conference nodes are state counts already (faithful scale, ``sim/model/scale.py``); the
  reserve nodes a run started are the miniature's, so they count ``1/s`` each
  (:func:`sim.model.scale.full_state_count`);
- ``assignment.replaced_servers`` / ``upgraded_uplinks`` list schools of the run's population:
  those the hook changes (an outdated server; an uplink below the fastest class — a hosted
  school's number changes nothing and costs nothing) are counted, and at scale s each stands
  for 1/s of the state's (``round(count / s)``), the inverse of the levers' ``round(N × s)``;
- moved schools (``assignment.region_moves``) are counted in the population built at scale 1:
  the schools whose platform the moves change (every school of the region not already on the
  new platform, :func:`sim.model.population.region_moves`), and their enrolled pupils. A move costs
  ``central_move_eur`` once per school plus ``central_per_pupil_year_eur`` per pupil for
  **one school year** (the licence of the year the move is made for; later years are not in
  the price).

The levers of ``dlsim optimise`` price their values with the same functions
(:func:`central_moves`, :func:`lever_changes`, :func:`move_eur`,
:func:`per_school_eur`), so a run report's cost and
an optimiser's candidate cost follow one rule.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sim.config import Scenario
from sim.model.messages import N_
from sim.model.scale import factor_of, full_state_count

_CACHE: dict[str, tuple[int, int]] = {}
"""Counts from built populations, by the digest of what they depend on (a report and an
optimiser ask again for the same scenario). Every run of a sweep or optimiser worker prices
its scenario, and each lever combination is another key: keyed by a digest (not the
scenario's JSON, ≈ 5 kB) and holding at most :data:`_CACHE_MAX` entries, the cache stays
small however many combinations a worker runs."""
_CACHE_MAX = 1024


def _cached(parts: list[Any], count: Callable[[], tuple[int, int]]) -> tuple[int, int]:
    key = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    hit = _CACHE.get(key)
    if hit is None:
        hit = count()
        while len(_CACHE) >= _CACHE_MAX:
            del _CACHE[next(iter(_CACHE))]  # the oldest first (dicts keep insertion order)
        _CACHE[key] = hit
    return hit


def central_moves(scenario: Scenario) -> tuple[int, int]:
    """Schools and pupils of the state that ``assignment.region_moves`` moves to another
    platform (counted at population scale 1; (0, 0) without moves)."""
    if not scenario.assignment.region_moves:
        return 0, 0
    from sim.model.population import build_population, region_moves

    full = scenario.model_copy(deep=True)
    full.population.scale = 1.0
    moves = dict(full.assignment.region_moves)
    full.assignment.region_moves = {}

    def count() -> tuple[int, int]:
        pop = build_population(full)  # without the moves: which schools they would move
        full.assignment.region_moves = moves
        moved = region_moves(full, pop.school_region, pop.school_platform, pop.region_names,
                             pop.platform_names)
        return int(moved.sum()), int(pop.school_pupils[moved].sum())

    return _cached([full.model_dump(mode="json", exclude={"report", "costs"}),
                    full.data_digests(), moves], count)


def move_eur(scenario: Scenario, schools: int, pupils: int) -> float:
    """€ of moving ``schools`` with ``pupils`` to a central platform (one-off + one year)."""
    c = scenario.costs
    return schools * c.central_move_eur + pupils * c.central_per_pupil_year_eur


def lever_changes(scenario: Scenario) -> tuple[int, int]:
    """The state's number of servers ``assignment.replaced_servers`` replaces and of uplinks
    ``assignment.upgraded_uplinks`` upgrades: the listed schools the hook changes in the run's
    population (an outdated server; an uplink below the fastest class), ``round(count /
    scale)``."""
    a = scenario.assignment
    if not a.replaced_servers and not a.upgraded_uplinks:
        return 0, 0
    import numpy as np

    from sim.model.population import TIER_OUTDATED, build_population

    plain = scenario.model_copy(deep=True)
    plain.assignment.replaced_servers = []
    plain.assignment.upgraded_uplinks = []

    def count() -> tuple[int, int]:
        pop = build_population(plain)  # as drawn: which listed schools a hook changes
        n = pop.n_schools
        rep = np.array([i for i in set(a.replaced_servers) if i < n], dtype=int)
        upg = np.array([i for i in set(a.upgraded_uplinks) if i < n], dtype=int)
        top = max(u.mbit_s for u in a.uplink_mix)
        return (int(np.sum(pop.school_tier[rep] == TIER_OUTDATED)),
                int(np.sum(pop.school_uplink_mbit_s[upg] < top)))

    servers, uplinks = _cached(["lists", plain.model_dump(mode="json",
                                                          exclude={"report", "costs"}),
                                plain.data_digests(), sorted(set(a.replaced_servers)),
                                sorted(set(a.upgraded_uplinks))], count)
    s = scenario.population.scale
    return round(servers / s), round(uplinks / s)


def lever_room(scenario: Scenario) -> tuple[int, int]:
    """The state's schools the ranked levers can change: outdated on-premise servers (for
    ``replace_outdated_servers``) and on-premise uplinks below the fastest class (for
    ``upgrade_uplinks``), in the population built at scale 1 as the scenario draws it."""
    from sim.model.population import TIER_NONE, TIER_OUTDATED, build_population

    full = scenario.model_copy(deep=True)
    full.population.scale = 1.0
    # the scenario's own lists number the schools of its scale, not the state's
    full.assignment.replaced_servers = []
    full.assignment.upgraded_uplinks = []

    def count() -> tuple[int, int]:
        pop = build_population(full)
        top = max(u.mbit_s for u in full.assignment.uplink_mix)
        on_prem = pop.school_tier != TIER_NONE
        return (int((pop.school_tier == TIER_OUTDATED).sum()),
                int((on_prem & (pop.school_uplink_mbit_s < top)).sum()))

    return _cached(["room", full.model_dump(mode="json", exclude={"report", "costs"}),
                    full.data_digests()], count)


def per_school_eur(scenario: Scenario, what: str, schools: int) -> float:
    """€ of replacing ``schools`` outdated servers (``what="servers"``) or upgrading
    ``schools`` uplinks (``"uplinks"``)."""
    c = scenario.costs
    unit = (c.server_replacement_eur.get("outdated", 0.0) if what == "servers"
            else c.uplink_upgrade_eur)
    return schools * unit


def active_policies(scenario: Scenario) -> list[str]:
    """The policies switched on in ``scenario`` (priced by ``costs.policy_eur``)."""
    p = scenario.policies
    on = []
    if p.stagger.is_on():  # by school number, year offsets or within schools: one price
        on.append("stagger")
    if p.camera.cameras_off_above is not None:
        on.append("camera")
    if p.join_rate_limit.per_node_per_s is not None or (
        p.join_rate_limit.per_meeting_per_min is not None
    ):
        on.append("join_rate_limit")
    return on


def scenario_cost(scenario: Scenario, run_result: Any | None = None) -> dict[str, Any]:
    """€ breakdown: ``{"total_eur", "items": [{item, fill, quantity, unit_eur, eur}]}``.

    With ``run_result`` (a :class:`sim.model.simulation.RunResult`) the reserve nodes that the
    emergency
    scale-up started are priced for the rest of the day from their start (an upper bound:
    the run records how many started, not when each one stopped).
    """
    c = scenario.costs
    items: list[dict[str, Any]] = []

    def add(item: str, quantity: float, unit: float, **fill: str) -> None:
        # ``item`` is an English msgid (N_), translated where shown; ``fill`` its placeholders
        items.append({"item": item, "fill": fill, "quantity": quantity, "unit_eur": unit,
                      "eur": quantity * unit})

    nodes = sum(cl.nodes for p in scenario.platforms for cl in p.clusters)
    add(N_("conference nodes rented (per day)"), nodes, c.node_per_day_eur)
    if run_result is not None:
        # the run's reserve nodes are the miniature's: priced as the whole state's, like the
        # nodes above (sim.model.scale builds s of each central capacity)
        started = full_state_count(
            float(run_result.extra.get("nodes_started_by_scale_up", 0) or 0), factor_of(scenario))
        hours = (scenario.day.end - scenario.day.start) / 3600.0
        add(N_("reserve node-hours started (upper bound)"), started * hours,
            c.reserve_node_hour_eur)
    replaced, upgraded = lever_changes(scenario)
    if replaced:
        add(N_("school servers replaced (one-off)"), replaced,
            per_school_eur(scenario, "servers", 1))
    if upgraded:
        add(N_("school uplinks upgraded (one-off)"), upgraded,
            per_school_eur(scenario, "uplinks", 1))
    schools, pupils = central_moves(scenario)
    if schools:
        add(N_("schools moved to a central platform (one-off)"), schools, c.central_move_eur)
        add(N_("pupils moved: central platform licence (one school year)"), pupils,
            c.central_per_pupil_year_eur)
    for name in active_policies(scenario):
        add(N_("policy {name}"), 1, c.policy_eur.get(name, 0.0), name=name)
    return {"total_eur": float(sum(i["eur"] for i in items)), "items": items}
