"""dlsim — discrete-event simulation of distance-learning infrastructure load.

The front door::

    from sim import load_scenario, simulate
    res = simulate(load_scenario("configs/lower-saxony-scenario-c.yaml"))
    res.summary["kpis"]; res.timeseries; res.report("out.html")
"""

from __future__ import annotations

from collections.abc import Callable

from sim.config import ConfigError, Scenario, load_scenario, scenario_from_dict
from sim.model import RunResult, simulate_once
from sim.results import Results
from sim.seeds import SeedTree

__all__ = [
    "ConfigError",
    "Results",
    "RunResult",
    "Scenario",
    "load_scenario",
    "replication_seeds",
    "scenario_from_dict",
    "simulate",
    "simulate_once",
]


def replication_seeds(seed: int, replications: int) -> list[int]:
    """Seeds of replications 0..R-1: replication 0 uses ``seed`` itself, the others are
    children of it in the seed tree (so R=1 and the first of R>1 agree)."""
    tree = SeedTree(seed)
    return [seed] + [tree.child_seed(f"replication.{i}") for i in range(1, replications)]


def simulate(
    scenario: Scenario,
    seed: int = 1,
    replications: int = 1,
    progress: Callable[[float], None] | None = None,
) -> Results:
    """Simulate ``replications`` independent replications of ``scenario``."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    runs = []
    seeds = replication_seeds(seed, replications)
    for i, s in enumerate(seeds):
        cb = None
        if progress is not None:

            def cb(f: float, i: int = i) -> None:
                progress((i + f) / replications)

        runs.append(simulate_once(scenario, s, cb))
    return Results(runs)
