"""Faithful scale (sim.model.scale): central capacities follow demand on the built world."""

from __future__ import annotations

import math

import pytest

from sim import load_scenario
from sim.experiments.verification import loss_scenario
from sim.model.scale import faithful, scale_count, scale_report, scaled
from sim.model.simulation import build
from tests.conftest import DEFAULT_CONFIG, REPO

MONDAY = REPO / "configs" / "2021-01-11-monday-dispatcher-failure.yaml"
NATIONAL = REPO / "configs" / "national-iserv-thursday.yaml"


def test_rounding_rule() -> None:
    assert scale_count(450, 0.1) == 45
    assert scale_count(25, 0.1) == 3  # 2.5 rounds half up
    assert scale_count(24, 0.1) == 2
    assert scale_count(20, 0.01) == 1  # at least one where the whole state has one
    assert scale_count(1, 0.001) == 1


@pytest.mark.parametrize("scale", [0.02, 0.1])
def test_built_world_keeps_capacity_to_demand(scale: float) -> None:
    full = load_scenario(MONDAY)
    sc = scaled(full, scale)
    sim = build(sc, seed=1)
    pupils_full = sum(int(p) for p in build_pupils(full))
    demand_ratio = sim.population.n_pupils / pupils_full
    # demand rounds too (whole schools, at least one per type): within 5 %
    assert demand_ratio == pytest.approx(scale, rel=0.05)
    for p_full, plat in zip(full.platforms, sim.world.platforms, strict=True):
        built_nodes = plat.pool.n_nodes - sum(
            1 for n in plat.pool.reserve_nodes)
        full_nodes = sum(c.nodes for c in p_full.clusters)
        # the rounding rule: half up, at least one node per cluster
        assert built_nodes == sum(max(1, math.floor(c.nodes * scale + 0.5))
                                  for c in p_full.clusters)
        assert plat.frontend.workers == scale_count(p_full.frontend.workers, scale)
        if full_nodes * scale >= 20:  # large enough that rounding is below 3 % (+ demand rounding)
            assert built_nodes / demand_ratio / full_nodes == pytest.approx(1, rel=0.06)
    reserve_full = sum(s.reserve_nodes for s in full.policies.scale_up)
    reserve_built = sum(len(p.pool.reserve_nodes) for p in sim.world.platforms)
    assert reserve_built == sum(scale_count(s.reserve_nodes, scale)
                                for s in full.policies.scale_up)
    assert reserve_full > 0 and reserve_built == pytest.approx(reserve_full * scale, abs=1)
    rep = sim.scale
    assert rep.mode == "faithful" and rep.factor == scale
    assert all(abs(i.built - i.target) <= 0.5 or i.full * scale < 1 for i in rep.items)


def build_pupils(sc):  # type: ignore[no-untyped-def]
    from sim.model.population import load_marginals

    types, _ = load_marginals(sc)
    return types["pupils"].to_numpy()


def test_external_block_shrinks_with_the_state() -> None:
    full = load_scenario(NATIONAL)
    assert full.population.external is not None
    run = faithful(scaled(full, 0.05))
    assert run.population.external is not None
    assert run.population.external.scale == pytest.approx(full.population.external.scale * 0.05)


def test_idempotent_and_identity_at_full_scale() -> None:
    full = load_scenario(DEFAULT_CONFIG)
    assert faithful(full) is full
    once = faithful(scaled(full, 0.1))
    assert faithful(once) is once
    assert once.population.capacities == "as_given"
    assert once.platforms[0].clusters[0].nodes == scale_count(full.platforms[0].clusters[0].nodes,
                                                              0.1)


def test_as_given_and_poisson_are_not_scaled() -> None:
    kept = load_scenario(DEFAULT_CONFIG, ["population.scale=0.05",
                                          "population.capacities=as_given"])
    assert faithful(kept) is kept
    assert scale_report(kept).mode == "as_given"
    oracle = loss_scenario(5.0, 8, arrivals=2000)  # Poisson demand at population.scale 0.001
    assert faithful(oracle) is oracle
    sim = build(oracle, seed=1)
    assert sim.world.platforms[0].pool.n_nodes == 1
    assert math.isclose(sim.scale.factor, 1.0)


def test_result_describes_the_whole_state() -> None:
    full = load_scenario(DEFAULT_CONFIG, ["day.end=09:30"])
    sim = build(scaled(full, 0.01), seed=1)
    assert sim.scenario.platforms[0].clusters[0].nodes == full.platforms[0].clusters[0].nodes
    assert sim.built.platforms[0].clusters[0].nodes == scale_count(
        full.platforms[0].clusters[0].nodes, 0.01)
