"""Direct accounting (sim.model.causes): every lost pupil-minute is charged to one cause."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.model.simulation import simulate_once


def _run(config: str, *overrides: str) -> sim.model.simulation.RunResult:
    sc = sim.load_scenario(sim.config_path(config), ["population.scale=0.02", *overrides])
    return simulate_once(sc, 3)


@pytest.mark.parametrize("config", ["lower-saxony-scenario-c.yaml",
                                    "2021-01-11-monday-dispatcher-failure.yaml"])
def test_causes_sum_to_the_totals_overall_and_at_every_school(config: str) -> None:
    r = _run(config)
    total = r.kpis["lost_pupil_minutes"]
    by_cause = r.extra["lost_pupil_minutes_by_cause"]
    assert total > 0 and by_cause
    assert sum(by_cause.values()) == pytest.approx(total, rel=1e-12)
    assert all(v >= -1e-9 for v in by_cause.values())
    cols = [f"lost_pupil_minutes:{c}" for c in by_cause]
    per_school = r.schools[cols].sum(axis=1).to_numpy()
    np.testing.assert_allclose(per_school, r.schools["lost_pupil_minutes"].to_numpy(),
                               rtol=1e-12, atol=1e-9)
    # every cause's school column sums to its total; so do platforms and regions
    for c in by_cause:
        assert r.schools[f"lost_pupil_minutes:{c}"].sum() == pytest.approx(by_cause[c],
                                                                            abs=1e-6)
        for key in ("per_platform", "per_region"):
            part = r.extra[f"lost_pupil_minutes_by_cause_{key}"]
            assert sum(v.get(c, 0.0) for v in part.values()) == pytest.approx(by_cause[c],
                                                                                abs=1e-6)
    ts = r.timeseries
    sel = ts[ts["component"].str.startswith("cause:") & (ts["metric"] == "lost_pupil_minutes")]
    assert sel["value"].sum() == pytest.approx(total, rel=1e-9)


def test_a_dispatcher_failure_alone_is_charged_to_the_dispatcher() -> None:
    # the Monday replay with every on-premise server current: its only problem left is the
    # dispatcher failure
    r = _run("2021-01-11-monday-dispatcher-failure.yaml", "assignment.outdated_share=0")
    total = r.kpis["lost_pupil_minutes"]
    assert total > 0
    assert r.extra["lost_pupil_minutes_by_cause"].get("dispatcher", 0.0) >= 0.95 * total
    assert r.extra["failed_attempts_by_cause"]["dispatcher"] > 0


def test_outdated_servers_are_charged_to_their_tier() -> None:
    r = _run("lower-saxony-scenario-c.yaml")
    by_cause = r.extra["lost_pupil_minutes_by_cause"]
    server = by_cause.get("school_server:outdated", 0.0) + by_cause.get("school_server_crash",
                                                                        0.0)
    assert server >= 0.5 * r.kpis["lost_pupil_minutes"]
    assert "dispatcher" not in by_cause


def test_no_node_up_is_charged_to_the_lost_nodes_not_the_dispatcher() -> None:
    # every IServ node lost 07:40-08:40: rooms created meanwhile find no node up
    r = _run("lower-saxony-scenario-c.yaml", "faults=[{kind: node_loss, cluster: iserv-bbb, "
             'share: 1.0, start: "07:40", end: "08:40"}]', "assignment.outdated_share=0")
    by_cause = r.extra["lost_pupil_minutes_by_cause"]
    # the teachers were refused at the dispatcher's step, for the lost nodes
    assert "dispatcher" not in by_cause and "dispatcher" not in r.extra["failed_attempts_by_cause"]
    assert by_cause["node_loss"] >= 0.9 * r.kpis["lost_pupil_minutes"]
