"""dlsim — discrete-event simulation of distance-learning infrastructure load.

The front door::

    import sim
    sc = sim.load_scenario(sim.config_path("lower-saxony-scenario-c.yaml"))
    res = sim.simulate(sc, replications=3)
    res.summary["kpis"]; res.timeseries; res.report("out.html")

    # many runs, as tidy frames (see sim.api): one row per point × replication × KPI …
    df = sim.sweep(sc, {"platforms[iserv].clusters[iserv-bbb].nodes": [8, 16]}, replications=2)
    sim.compare(sc_a, sc_b, replications=5)          # … one row per KPI
    sim.size(sc, "platforms[iserv].clusters[iserv-bbb].nodes", "join_success_rate>=0.99")
    sim.optimise(sc, "configs/levers/lower-saxony.yaml", ["join_success_rate>=0.99"])
    sim.explain(sc, replications=3)   # lost minutes by cause, and what removing each recovers
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.config import ConfigError, Scenario, load_scenario, scenario_from_dict
from sim.model import RunResult, simulate_once
from sim.results import Results
from sim.seeds import replication_seeds

if TYPE_CHECKING:
    from sim.api import compare, config_dir, config_path, size
    from sim.attribution import explain
    from sim.optimise import optimise

# Imported on first use (they pull in the executors, pandas frames and scipy): ``sim.sweep``
# is the sweep package, whose module object is callable (``sim.sweep(...)`` is
# :func:`sim.api.sweep`).
_LAZY = {"compare": "sim.api", "size": "sim.api", "optimise": "sim.optimise",
         "explain": "sim.attribution", "config_path": "sim.api",
         "config_dir": "sim.api", "sweep": None}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    module = _LAZY[name]
    if module is None:
        return importlib.import_module(f"sim.{name}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ConfigError",
    "Results",
    "RunResult",
    "Scenario",
    "compare",
    "config_dir",
    "config_path",
    "explain",
    "load_scenario",
    "optimise",
    "replication_seeds",
    "scenario_from_dict",
    "simulate",
    "simulate_once",
    "size",
    "sweep",
]


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
