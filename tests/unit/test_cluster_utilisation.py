"""peak_cluster_utilisation: the cluster's binding resource, not the participant ceiling."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.metrics import _peak_cluster_utilisation


def _ts(rows: list[tuple[str, float, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["component", "t", "metric", "value"])


def test_cpu_bound_cluster_is_judged_by_its_cpu() -> None:
    # 450 CPU-limited nodes: the participant ceiling (1,200 each) is far away, the CPU is not
    ts = _ts([
        ("cluster:a", 60.0, "participants", 54_000.0),
        ("cluster:a", 60.0, "capacity_participants", 540_000.0),
        ("cluster:a", 60.0, "load_mbit_s", 20_000.0),
        ("cluster:a", 60.0, "capacity_mbit_s", 450_000.0),
        ("cluster:a", 60.0, "cpu", 450.0),
        ("cluster:a", 60.0, "capacity_cpu", 900.0),
    ])
    assert _peak_cluster_utilisation(ts) == pytest.approx(0.5)


def test_without_cpu_the_larger_of_participants_and_bandwidth_counts() -> None:
    ts = _ts([
        ("cluster:a", 60.0, "participants", 100.0),
        ("cluster:a", 60.0, "capacity_participants", 1_000.0),
        ("cluster:a", 60.0, "load_mbit_s", 300.0),
        ("cluster:a", 60.0, "capacity_mbit_s", 1_000.0),
        ("cluster:b", 120.0, "participants", 450.0),
        ("cluster:b", 120.0, "capacity_participants", 1_000.0),
        ("cluster:b", 120.0, "load_mbit_s", 0.0),
        ("cluster:b", 120.0, "capacity_mbit_s", 1_000.0),
        ("cluster:b", 180.0, "participants", 10.0),
        ("cluster:b", 180.0, "capacity_participants", 0.0),  # every node down: no share
    ])
    assert _peak_cluster_utilisation(ts) == pytest.approx(0.45)
    assert _peak_cluster_utilisation(_ts([])) == 0.0
