"""The cost of a scenario as configured (€), from its ``costs:`` section.

Running costs are per simulated day (rented conference nodes, reserve node-hours actually
started); one-off costs are what the scenario's changes would cost once (replaced school
servers). Policies are priced when switched on. Defaults and their sources: data/SOURCES.md
A56–A62.
"""

from __future__ import annotations

from typing import Any

from sim.config import Scenario


def active_policies(scenario: Scenario) -> list[str]:
    """The policies switched on in ``scenario`` (priced by ``costs.policy_eur``)."""
    p = scenario.policies
    on = []
    if p.stagger.school_number_slots > 1 or p.stagger.offset_min_by_year:
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

    With ``run_result`` (a :class:`sim.model.RunResult`) the reserve nodes that the emergency
    scale-up started are priced for the rest of the day from their start (an upper bound:
    the run records how many started, not when each one stopped).
    """
    c = scenario.costs
    items: list[dict[str, Any]] = []

    def add(item: str, quantity: float, unit: float, **fill: str) -> None:
        # ``item`` is an English msgid of the report catalogue; ``fill`` its placeholders
        items.append({"item": item, "fill": fill, "quantity": quantity, "unit_eur": unit,
                      "eur": quantity * unit})

    nodes = sum(cl.nodes for p in scenario.platforms for cl in p.clusters)
    add("conference nodes rented (per day)", nodes, c.node_per_day_eur)
    if run_result is not None:
        started = float(run_result.extra.get("nodes_started_by_scale_up", 0) or 0)
        hours = (scenario.day.end - scenario.day.start) / 3600.0
        add("reserve node-hours started (upper bound)", started * hours, c.reserve_node_hour_eur)
    replaced = len(set(scenario.assignment.replaced_servers))
    if replaced:
        add("school servers replaced (one-off)", replaced,
            c.server_replacement_eur.get("outdated", 0.0))
    for name in active_policies(scenario):
        add("policy {name}", 1, c.policy_eur.get(name, 0.0), name=name)
    return {"total_eur": float(sum(i["eur"] for i in items)), "items": items}
