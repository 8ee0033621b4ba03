"""Same scenario + seed → identical results; another seed → different results."""

from __future__ import annotations

import pandas as pd

from sim import simulate
from tests.conftest import small_scenario


def test_same_seed_identical() -> None:
    sc = small_scenario(0.01, capacity_factor=0.4)
    a = simulate(sc, seed=11)
    b = simulate(sc, seed=11)
    assert a.kpis == b.kpis
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.schools, b.schools)


def test_different_seed_differs() -> None:
    sc = small_scenario(0.01, capacity_factor=0.4)
    a = simulate(sc, seed=11)
    b = simulate(sc, seed=12)
    assert a.kpis != b.kpis
    assert not a.timeseries["value"].equals(b.timeseries["value"])


def test_replications_share_first_seed() -> None:
    """Replication 0 of R uses the root seed itself, so R=1 and R=3 agree on it."""
    sc = small_scenario(0.005)
    one = simulate(sc, seed=5)
    three = simulate(sc, seed=5, replications=3)
    assert three.runs[0].kpis == one.kpis
    assert len({r.seed for r in three.runs}) == 3
    ci = three.kpi_ci95
    assert set(ci) == set(one.kpis)
