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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.api import compare, config_dir, config_path, size, sweep
    from sim.config import ConfigError, Scenario, load_scenario, scenario_from_dict
    from sim.decide.optimise import optimise
    from sim.experiments.attribution import explain
    from sim.experiments.replications import Results, simulate
    from sim.model.seeds import replication_seeds
    from sim.model.simulation import RunResult, simulate_once

# Imported on first use: ``import sim`` (and so ``python -m sim`` and the ``dlsim`` script)
# stays instant, and a Ctrl-C while the command line loads is the command line's to handle.
_LAZY = {"compare": "sim.api", "size": "sim.api", "sweep": "sim.api",
         "config_path": "sim.api", "config_dir": "sim.api",
         "optimise": "sim.decide.optimise", "explain": "sim.experiments.attribution",
         "ConfigError": "sim.config", "Scenario": "sim.config", "load_scenario": "sim.config",
         "scenario_from_dict": "sim.config", "Results": "sim.experiments.replications",
         "simulate": "sim.experiments.replications", "replication_seeds": "sim.model.seeds",
         "RunResult": "sim.model.simulation", "simulate_once": "sim.model.simulation"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
