"""One replication: ``simulate_once(scenario, seed) → RunResult``; ``build(scenario, seed)`` for
a :class:`Simulation` to look into before and after it runs.

Build order: population (fixed per scenario, cached) → demand (pre-sampled from the seed tree)
→ the world (platforms, school servers, front-end routing; ``sim.model.world``) → behaviour (the
people's attempt chains; ``sim.model.behaviour``) → faults and policies on the world
(``sim.model.faults``, ``sim.model.policies``) → the per-interval sampler (``sim.model.sampler``) →
the engine
runs the pre-determined stream (first attempts, teacher opens, meeting ends, morning logins)
merged with the scheduled events (``sim.model.engine.run_merged``) → KPIs, tidy time series,
conservation check (``sim.model.metrics``).

Only what depends on the state of the infrastructure is simulated event by event; see
``sim.model.demand`` and PERFORMANCE-NOTES.md for why.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError, Scenario
from sim.model.behaviour import Behaviour
from sim.model.demand import KIND_POISSON, Demand, build_demand
from sim.model.draws import UnitDraws
from sim.model.effects import rejoins_can_fail, settling
from sim.model.engine import Engine, EventBudgetExceeded, events_processed, run_merged
from sim.model.faults import FaultInjector
from sim.model.metrics import ConservationError, RunEnd, summarise
from sim.model.policies import PolicySet
from sim.model.policies import build as build_policies
from sim.model.population import Population, build_population, event_budget, over_budget
from sim.model.recorder import Recorder
from sim.model.sampler import start_sampler
from sim.model.scale import faithful, scale_report
from sim.model.seeds import SeedTree
from sim.model.world import World

__all__ = ["ConservationError", "RunResult", "Simulation", "build", "population_for",
           "simulate_once"]

# order of simultaneous pre-determined events: ends before opens before attempts
_CLOSE, _TEACHER, _PUPIL, _LOGIN = 0, 1, 2, 3


@dataclass
class RunResult:
    """Everything one replication produced."""

    scenario: Scenario
    seed: int
    kpis: dict[str, float]
    extra: dict[str, Any]
    timeseries: pd.DataFrame
    schools: pd.DataFrame
    runtime_s: float
    events: int  # events processed: stream entries handled and SimPy events
    meta: dict[str, Any] = field(default_factory=dict)


ProgressFn = Callable[[float], None]

_POP_CACHE: dict[str, Population] = {}


def population_for(scenario: Scenario) -> Population:
    """The scenario's school registry (cached: it depends only on population settings)."""
    key = repr(
        (
            scenario.population.model_dump(mode="json"),
            scenario.assignment.model_dump(mode="json"),
            [p.name for p in scenario.platforms],
            scenario.source_path,
        )
    )
    pop = _POP_CACHE.get(key)
    if pop is None:
        pop = build_population(scenario)
        if len(_POP_CACHE) > 8:
            _POP_CACHE.clear()
        _POP_CACHE[key] = pop
    return pop


class Simulation:
    """One replication, wired and ready to :meth:`run` (once).

    Public parts to look into (tests, benchmarks): ``world`` (platforms, school servers),
    ``behaviour`` (the people's state arrays), ``recorder``, ``faults``, ``policies``,
    ``demand``, ``population``, ``env``. ``behaviour.settle_outages = False`` before the run
    decides every retry at a down server event by event (the reference for settling).

    Its parts refer to each other (components hold the engine, the engine's queue holds
    callbacks bound to components), so a dropped Simulation is freed only by the cycle
    collector: after building and running many in one process, call ``gc.collect()``
    (:func:`simulate_once` does it for each run).
    """

    def __init__(self, scenario: Scenario, seed: int, progress: ProgressFn | None = None):
        # The one choke point of faithful scale: every run builds the miniature's central
        # capacities from the whole-state scenario (sim.model.scale). ``scenario`` stays the
        # whole-state one (what results and reports describe); ``built`` is what runs.
        self.scenario = scenario
        self.scale = scale_report(scenario)
        self.built = faithful(scenario)
        scenario = self.built
        self.seed = seed
        self.progress = progress
        self.seeds = SeedTree(seed)
        self.population = population_for(scenario)
        self.demand: Demand = build_demand(scenario, self.population, self.seeds)
        self.env = Engine(initial_time=scenario.day.start)
        self.world = World(self.env, scenario, self.population, self.demand, self.seeds)
        self.recorder = Recorder(len(self.world.platforms), self.world.count_from)
        self.faults = FaultInjector(self.world, list(scenario.faults))
        self.policies: PolicySet = build_policies(scenario, self.world)
        self.behaviour = Behaviour(
            self.env,
            scenario,
            self.demand,
            self.world,
            self.recorder,
            UnitDraws(self.seeds.rng("behaviour.backoff"), "uniform"),
            self.seeds.rng("behaviour.reconnect"),
            n_pupils=max(self.population.n_pupils, int(self.demand.pupil_school.size)),
            draws_returns=UnitDraws(self.seeds.rng("behaviour.returns"), "uniform"),
            rng_counted=self.seeds.rng("behaviour.reconnect_counted"),
            policies=self.policies,
            settle=settling(self.faults.types + self.policies.types),
            rejoins_fail=rejoins_can_fail(
                self.faults.declared + [(t, None) for t in self.policies.types],
                [p.name for p in self.world.platforms]),
        )
        self.world.on_node_lost(self.behaviour.node_down)
        self.faults.install()
        self.policies.install()
        self.result: RunResult | None = None

    def _stream(self) -> tuple[list[float], list[int], list[int]]:
        d = self.demand
        timetable = d.m_kind != KIND_POISSON
        closes = np.flatnonzero(timetable)
        t = np.concatenate([d.m_end[closes], d.m_teacher_t, d.pm_first_t, d.login_t])
        kind = np.concatenate(
            [
                np.full(closes.size, _CLOSE, np.int8),
                np.full(d.n_meetings, _TEACHER, np.int8),
                np.full(d.n_pm, _PUPIL, np.int8),
                np.full(d.login_t.size, _LOGIN, np.int8),
            ]
        )
        idx = np.concatenate(
            [closes, np.arange(d.n_meetings), np.arange(d.n_pm), np.arange(d.login_t.size)]
        )
        order = np.lexsort((idx, kind, t))
        return t[order].tolist(), kind[order].tolist(), idx[order].tolist()

    def run(self) -> RunResult:
        """Run the day and summarise it (the result is also kept as ``self.result``)."""
        if self.result is not None:
            raise RuntimeError("a Simulation runs once: build another")
        sc = self.built
        t0 = time.perf_counter()
        beh = self.behaviour
        start_sampler(sc, self.world, beh, self.recorder, self.progress)
        # The model's state (lists of a million entries) is long-lived: freeze it out of the
        # collector's sight for the run, and collect rarely. No gc.collect() first: it walks
        # every element of those lists (≈ 0.25 s for a million rooms); garbage frozen with
        # them is collected after unfreeze().
        old = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(100_000, 50, 100)
        try:
            ts, kinds, idxs = self._stream()
            handlers = (beh.close_meeting, beh.teacher_first_attempt, beh.pupil_first_attempt,
                        beh.login_first_attempt)
            # the event budget, checked inside the loop: a day that slips past the estimates
            # (check_size) stops with exit 2 instead of running for hours
            budget, setting = event_budget()
            self.env.limit_events(budget - len(ts))
            try:
                handled = run_merged(self.env, ts, kinds, idxs, handlers, sc.day.end + 1e-6)
            except EventBudgetExceeded as exc:
                raise ConfigError([over_budget(sc, budget, setting, exc.now)]) from None
            del ts, kinds, idxs  # millions of entries: not held while the results are built
            events = handled + events_processed(self.env)
            beh.count_reconnects()
        finally:
            gc.set_threshold(*old)
            gc.unfreeze()
        runtime = time.perf_counter() - t0
        s = summarise(RunEnd(sc, self.population, self.demand, self.recorder,
                             self.world.outcome(), beh.outcome(), self.env.now,
                             self.faults.crashes,
                             sum(n for c in self.policies.scale_ups for _, n in c.started)))
        self.result = RunResult(
            scenario=self.scenario,
            seed=self.seed,
            kpis=s.kpis,
            extra=s.extra,
            timeseries=s.timeseries,
            schools=s.schools,
            runtime_s=runtime,
            events=events,
            meta={"conservation": s.conservation, "scale": self.scale.as_dict()},
        )
        return self.result


def build(scenario: Scenario, seed: int = 1, progress: ProgressFn | None = None) -> Simulation:
    """Wire one replication of ``scenario`` with ``seed`` without running it."""
    return Simulation(scenario, seed, progress)


def simulate_once(
    scenario: Scenario, seed: int = 1, progress: ProgressFn | None = None
) -> RunResult:
    """Run one replication of ``scenario`` with ``seed`` (a pure function of both).

    The run's model is freed before this returns (see :class:`Simulation` on why that needs
    a collection): a process running replication after replication (a sweep's or an
    optimiser's worker) holds one run's memory at a time, not every run's.
    """
    sim = Simulation(scenario, seed, progress)
    try:
        return sim.run()
    finally:
        # The model is one big reference cycle (the engine's queue → callbacks bound to
        # components → the engine), so it dies only in a full collection, and CPython
        # starts one by object counts, not bytes: a few thousand objects holding hundreds
        # of MB of lists and arrays, moved straight into the oldest generation by the run's
        # gc.unfreeze(), never trigger it. Workers grew by a dead run per task (7.7 GB
        # after 20 full-scale runs). Collecting here costs ≈ 0.05 s beyond the freeing
        # itself (docs/architecture.md, memory); the result holds nothing of the cycle.
        del sim
        gc.collect()
