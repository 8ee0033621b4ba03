"""peak_cluster_utilisation: the cluster's binding resource, not the participant ceiling."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.model.capacity import peak_cluster_utilisation


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
    assert peak_cluster_utilisation(ts) == pytest.approx(0.5)


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
    assert peak_cluster_utilisation(ts) == pytest.approx(0.45)
    assert peak_cluster_utilisation(_ts([])) == 0.0


def test_capacity_at_mix_is_what_the_binding_resource_holds() -> None:
    from sim.model.capacity import capacity_at_mix

    rows = []
    for t, p, cpu in ((0.0, 0.0, 0.0), (60.0, 100.0, 50.0), (120.0, 200.0, 60.0)):
        a = {"participants": p, "capacity_participants": 1_200.0, "load_mbit_s": p * 0.1,
             "capacity_mbit_s": 1e6, "cpu": cpu, "capacity_cpu": 200.0}
        b = {"participants": 10.0, "capacity_participants": 250.0, "load_mbit_s": 1.0,
             "capacity_mbit_s": 1e6}
        rows += [("cluster:a", t, m, v) for m, v in a.items()]
        rows += [("cluster:b", t, m, v) for m, v in b.items()]
    ts = _ts(rows)
    a = capacity_at_mix(ts, "cluster:a")["value"].tolist()
    # 0.5 CPU per participant at 01:00 (and, carried back, at 00:00), 0.3 at 02:00
    assert a == pytest.approx([400.0, 400.0, 200.0 / 0.3])
    assert capacity_at_mix(ts, "cluster:b")["value"].tolist() == [250.0] * 3  # ceiling binds
    assert capacity_at_mix(ts, "total")["value"].tolist() == pytest.approx(
        [650.0, 650.0, 250.0 + 200.0 / 0.3])


def test_capacity_line_ignores_the_mix_of_a_handful_of_people() -> None:
    """A few teachers with cameras before the lessons (or while a fault keeps the pupils out)
    do not set the cluster's mix: below MIX_FLOOR of the peak the nearest representative
    minute's mix holds, so the line does not swing as if servers were lost (issue 25)."""
    from sim.model.capacity import MIX_FLOOR, capacity_at_mix

    rows = []
    # 2 people with cameras (1 Mbit/s each) at 00:00, then 1,000 pupils at 0.1 Mbit/s each
    for t, p, mbit in ((0.0, 2.0, 2.0), (60.0, 1000.0, 100.0), (120.0, 1000.0, 100.0)):
        rows += [("cluster:a", t, m, v) for m, v in {
            "participants": p, "capacity_participants": 5_000.0, "load_mbit_s": mbit,
            "capacity_mbit_s": 300.0}.items()]
    assert MIX_FLOOR * 1000.0 > 2.0
    assert capacity_at_mix(_ts(rows), "cluster:a")["value"].tolist() == pytest.approx(
        [3000.0, 3000.0, 3000.0])
