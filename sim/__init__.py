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
    sim.week(sim.config_path("2021-01-week.yaml"), scale=0.02)  # five days, carried over

    # what a notebook reads off its runs (sim.views), without a module behind ``sim``
    small = sim.scaled(sc, 0.02)                     # the faithful miniature (sim.model.scale)
    a, b = sim.simulate(small, replications=3), sim.simulate(other, replications=3)
    sim.kpi_table({"A": a, "B": b})                  # means with their 95 % intervals
    sim.compare(a, b)                                # paired B − A of the runs made
    sim.compare_report(a, b, "cmp.html"); a.plot(); sim.figures.retry_wave(a.timeseries)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import ModuleType

    from sim.api import calibrate, compare, config_dir, config_path, size, sweep, week
    from sim.config import ConfigError, Scenario, load_scenario, scenario_from_dict
    from sim.decide.levers import load_levers
    from sim.decide.optimise import optimise
    from sim.experiments.attribution import explain
    from sim.experiments.executors import make_executor
    from sim.experiments.replications import Results, simulate
    from sim.model.scale import describe, scale_report, scaled
    from sim.model.seeds import replication_seeds
    from sim.model.simulation import RunResult, simulate_once
    from sim.views import (
        compare_report,
        explain_table,
        kpi_table,
        report_directory,
        summarise,
        whatif,
    )

    figures: ModuleType

# Imported on first use: ``import sim`` (and so ``python -m sim`` and the ``dlsim`` script)
# stays instant, and a Ctrl-C while the command line loads is the command line's to handle.
_LAZY = {"calibrate": "sim.api", "compare": "sim.api", "size": "sim.api", "sweep": "sim.api",
         "week": "sim.api",
         "config_path": "sim.api", "config_dir": "sim.api",
         "optimise": "sim.decide.optimise", "explain": "sim.experiments.attribution",
         "ConfigError": "sim.config", "Scenario": "sim.config", "load_scenario": "sim.config",
         "scenario_from_dict": "sim.config", "Results": "sim.experiments.replications",
         "simulate": "sim.experiments.replications", "replication_seeds": "sim.model.seeds",
         "RunResult": "sim.model.simulation", "simulate_once": "sim.model.simulation",
         # the miniature (sim.model.scale) and what notebooks read off runs (sim.views)
         "scaled": "sim.model.scale", "describe": "sim.model.scale",
         "scale_report": "sim.model.scale", "load_levers": "sim.decide.levers",
         "make_executor": "sim.experiments.executors",
         "kpi_table": "sim.views", "compare_report": "sim.views", "summarise": "sim.views",
         "whatif": "sim.views", "report_directory": "sim.views", "explain_table": "sim.views"}
# Whole modules: the report's charts (plotly figures), for a notebook to show or restyle.
_MODULES = {"figures": "sim.report.figures"}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(_MODULES[name])
    if name not in _LAZY:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_MODULES))


__all__ = [
    "ConfigError",
    "Results",
    "RunResult",
    "Scenario",
    "calibrate",
    "compare",
    "compare_report",
    "config_dir",
    "config_path",
    "describe",
    "explain",
    "explain_table",
    "figures",
    "kpi_table",
    "load_levers",
    "load_scenario",
    "make_executor",
    "optimise",
    "replication_seeds",
    "report_directory",
    "scale_report",
    "scaled",
    "scenario_from_dict",
    "simulate",
    "simulate_once",
    "size",
    "summarise",
    "sweep",
    "week",
    "whatif",
]
