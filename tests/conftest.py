"""Shared fixtures: small but complete scenarios that run in about a second."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim import Scenario, load_scenario

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO / "configs" / "lower-saxony-scenario-c.yaml"


def small_scenario(scale: float = 0.02, overrides: list[str] | None = None,
                   capacity_factor: float = 1.0) -> Scenario:
    """The default scenario at ``scale`` with capacities scaled alike (×``capacity_factor``).

    Conference nodes and front-end workers shrink with the population so that a small run
    stresses the infrastructure as the full state would.
    """
    base = load_scenario(DEFAULT_CONFIG)
    sets = [f"population.scale={scale}"]
    for i, p in enumerate(base.platforms):
        workers = max(1, math.ceil(p.frontend.workers * scale * capacity_factor))
        sets.append(f"platforms[{i}].frontend.workers={workers}")
        for j, c in enumerate(p.clusters):
            nodes = max(1, round(c.nodes * scale * capacity_factor))
            sets.append(f"platforms[{i}].clusters[{j}].nodes={nodes}")
    return load_scenario(DEFAULT_CONFIG, sets + list(overrides or []))


@pytest.fixture(scope="session")
def small() -> Scenario:
    return small_scenario()
