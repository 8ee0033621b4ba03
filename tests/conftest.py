"""Shared fixtures: small but complete scenarios that run in about a second."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim import Scenario, load_scenario

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO / "configs" / "lower-saxony-scenario-c.yaml"


def small_scenario(scale: float = 0.02, overrides: list[str] | None = None,
                   capacity_factor: float = 1.0) -> Scenario:
    """The default scenario at ``scale`` (a faithful miniature: its central capacities are
    built at ``scale`` by ``sim.model.scale``), with the whole state's conference nodes and
    front-end workers × ``capacity_factor``."""
    base = load_scenario(DEFAULT_CONFIG)
    sets = [f"population.scale={scale}"]
    if capacity_factor != 1.0:
        for i, p in enumerate(base.platforms):
            workers = max(1, math.ceil(p.frontend.workers * capacity_factor))
            sets.append(f"platforms[{i}].frontend.workers={workers}")
            for j, c in enumerate(p.clusters):
                nodes = max(1, round(c.nodes * capacity_factor))
                sets.append(f"platforms[{i}].clusters[{j}].nodes={nodes}")
    return load_scenario(DEFAULT_CONFIG, sets + list(overrides or []))


@pytest.fixture(scope="session")
def small() -> Scenario:
    return small_scenario()


def synthetic_sweep_results(reps: int = 3, seed: int = 0, causes: bool = True) -> pd.DataFrame:
    """A sweep's ``results.parquet`` as ``dlsim sweep`` writes it (one row per point and
    replication, ``param:<path>`` columns, KPI columns, ``cause:<name>`` columns, ``cost_eur``,
    ``error``), with a known answer: the service target is met from 8 nodes without staggering
    and from 6 nodes with 3 slots, the cheapest such setting being 6 nodes with 3 slots (2 € a
    node, the stagger free); conference capacity loses most minutes where the target is
    missed, crashing school servers (a constant 400 minutes) where it is met. One run failed."""
    rng = np.random.default_rng(seed)
    rows = []
    for nodes in (4, 6, 8, 10, 12):
        for slots in (1, 3):
            eff = nodes - 3 + (2 if slots == 3 else 0)
            for rep in range(reps):
                blocking = 0.3 * math.exp(-eff / 1.2)
                join = 1 - blocking + rng.normal(0, 0.0005)
                p95 = 10 + 400 * math.exp(-eff) + rng.normal(0, 1)
                capacity = max(0.0, 50_000 * blocking + rng.normal(0, 10))
                crash = 400.0 + 5 * math.sin(nodes + rep)
                row: dict[str, Any] = {
                    "point": f"n{nodes}-s{slots}", "replication": rep,
                    "param:platforms[0].clusters[0].nodes": nodes,
                    "param:policies.stagger.school_number_slots": slots,
                    "join_success_rate": join,
                    "p95_time_to_join_s": p95,
                    "blocking_probability": blocking,
                    "lost_pupil_minutes": capacity + crash,
                    "peak_node_utilisation": min(1.0, 6 / nodes),
                    "affected_schools_share": 0.02 + blocking / 3,
                    "error": None,
                }
                if causes:
                    row |= {"cause:conference_capacity": capacity,
                            "cause:school_server_crash": crash, "cost_eur": 2.0 * nodes}
                rows.append(row)
    rows.append({"point": "n4-s1", "replication": reps,
                 "param:platforms[0].clusters[0].nodes": 4,
                 "param:policies.stagger.school_number_slots": 1,
                 "error": "RuntimeError: <b>boom</b>"})
    return pd.DataFrame(rows)
