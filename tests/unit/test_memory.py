"""A process running replication after replication holds one run's memory, not every run's.

Sweep and optimiser workers grew by a dead run per task (7.7 GB after 20 full-scale runs):
the model is a reference cycle that only a full collection frees, and CPython starts one by
object counts, which a few thousand objects holding hundreds of MB never reach. These tests
switch the automatic collector off, so that whether a run's model survives depends on the
library alone, never on when the collector happens to run.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

import sim.model.costs as costs
import sim.model.simulation as model
from sim.experiments.executors import run_task, task_for
from tests.conftest import small_scenario

PARTS = ("env", "world", "behaviour", "recorder", "demand", "faults", "policies")


@pytest.fixture
def no_automatic_gc() -> Iterator[None]:
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@pytest.fixture
def parts_of_every_run(monkeypatch: pytest.MonkeyPatch) -> list[weakref.ref[Any]]:
    """Weak references to the parts of every Simulation built from now on."""
    refs: list[weakref.ref[Any]] = []
    init = model.Simulation.__init__

    def tracked(self: model.Simulation, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        refs.extend(weakref.ref(getattr(self, p)) for p in PARTS)

    monkeypatch.setattr(model.Simulation, "__init__", tracked)
    return refs


def _alive(refs: list[weakref.ref[Any]]) -> list[str]:
    return [type(o).__name__ for r in refs if (o := r()) is not None]


def test_the_model_is_a_cycle_that_refcounting_alone_does_not_free(
    no_automatic_gc: None, parts_of_every_run: list[weakref.ref[Any]]
) -> None:
    # the premise of the fix (and proof that the next test can fail): a built, run and
    # dropped Simulation survives until a full collection
    s = model.build(small_scenario(), 3)
    s.run()
    del s
    assert "Engine" in _alive(parts_of_every_run)
    gc.collect()
    assert _alive(parts_of_every_run) == []


def test_simulate_once_frees_its_model_before_returning(
    no_automatic_gc: None, parts_of_every_run: list[weakref.ref[Any]]
) -> None:
    sc = small_scenario()
    results = [model.simulate_once(sc, seed) for seed in (1, 2, 3)]
    assert len(parts_of_every_run) == 3 * len(PARTS)
    assert _alive(parts_of_every_run) == []
    assert all(r.kpis for r in results)  # the results themselves are kept


def test_a_worker_task_leaves_no_model_behind(
    no_automatic_gc: None, parts_of_every_run: list[weakref.ref[Any]]
) -> None:
    # the executors' task, as a sweep's or optimiser's worker runs it (configs differ in
    # nodes, policies and replaced servers, like an optimiser's candidates)
    sc = small_scenario()
    sets = [["platforms[iserv].clusters[iserv-bbb].nodes=350"],
            ["policies.stagger.school_number_slots=3", "assignment.replaced_servers=[1, 2, 3]"],
            ["policies.camera.cameras_off_above=25", "assignment.replaced_servers=[4]"]]
    rows = [run_task(task_for(sc, seed, ov)) for seed, ov in enumerate(sets, 1)]
    assert [r["error"] for r in rows] == [None, None, None]
    assert len(parts_of_every_run) == 3 * len(PARTS)
    assert _alive(parts_of_every_run) == []


def test_cost_cache_is_bounded_and_keyed_by_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    # every lever combination an optimiser's worker prices is another entry
    monkeypatch.setattr(costs, "_CACHE", {})
    monkeypatch.setattr(costs, "_CACHE_MAX", 3)
    sc = small_scenario()
    first = costs.lever_changes(small_scenario(overrides=["assignment.replaced_servers=[0]"]))
    for n in range(1, 7):
        costs.lever_changes(small_scenario(
            overrides=[f"assignment.replaced_servers={list(range(n + 1))}"]))
    assert len(costs._CACHE) == 3
    assert all(len(k) == 64 for k in costs._CACHE)  # a sha256, not the scenario's JSON
    # an evicted entry is recomputed with the same answer
    assert costs.lever_changes(
        small_scenario(overrides=["assignment.replaced_servers=[0]"])) == first
    assert costs.lever_changes(sc) == (0, 0)
