"""Login and join retries that fall within a front-end outage of known end are settled at once
(``sim.model.behaviour``'s settling of login and join chains). With back-off jitter off
the delays are deterministic, so settling must give exactly what the event-by-event path
gives: the same attempts, failures, give-ups and logins at the same times, the same KPIs and
per-minute series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.model.recorder import Code
from sim.model.simulation import Simulation, build
from tests.conftest import small_scenario

FAULTS = (
    'faults=[{kind: overload_crash, tier: outdated, load_threshold: 0.5, response_share: 0.1, '
    'sustain_s: 60, '
    'repair_min: 20}, {kind: uplink_outage, share: 0.3, start: "07:58", end: "08:20", '
    'repair_stages: 2, repair_interval_min: 10}]'
)
# Without jitter, pupils failed by the same crash retry in lockstep, and crashes fall on the
# minute: back-offs commensurate with 60 s would make retries of different servers coincide to
# the microsecond, and such exact ties are broken by scheduling order, which the two paths
# need not share (it decides which request gets which service-time draw). With jitter, as in
# every real scenario, ties do not happen; here back-offs incommensurate with 60 s avoid them.
OVERRIDES = [FAULTS, "school_servers.tiers.outdated.workers=1",
             "school_servers.tiers.outdated.login_service_s=6", "assignment.outdated_share=0.3",
             "behaviour.backoff_jitter=0", "behaviour.backoff_initial_s=15.3",
             "behaviour.backoff_max_s=241.7"]


def _run(settle: bool, overrides: list[str]) -> Simulation:
    model = build(small_scenario(0.02, overrides), seed=4, progress=None)
    model.behaviour.settle_outages = settle
    model.run()
    return model


@pytest.fixture(scope="module")
def pair() -> tuple[Simulation, Simulation]:
    return _run(True, OVERRIDES), _run(False, OVERRIDES)


def test_settled_logins_match_event_by_event(pair: tuple[Simulation, Simulation]) -> None:
    fast, slow = pair
    down = sum(s.rejected_down for s in slow.world.school_servers)
    assert down > 100  # the scenario does exercise outages
    assert len(fast.faults.crashes) > 0
    for code in Code:
        np.testing.assert_array_equal(np.sort(fast.recorder.times(code)),
                                      np.sort(slow.recorder.times(code)), err_msg=code.name)
    assert fast.result.kpis == slow.result.kpis  # type: ignore[union-attr]
    # the per-minute series too: live counters (pupils trying, in session) move at the same
    # times, not when a chain was settled
    pd.testing.assert_frame_equal(fast.result.timeseries, slow.result.timeseries)  # type: ignore[union-attr]
    # and every failure is charged to the same cause (a settled attempt to the hold that
    # refuses it at its own time: the crash and the uplink overlap here)
    for key in ("lost_pupil_minutes_by_cause", "failed_attempts_by_cause"):
        assert fast.result.extra[key] == slow.result.extra[key], key  # type: ignore[union-attr]
    np.testing.assert_array_equal(fast.behaviour.pm_attempts, slow.behaviour.pm_attempts)
    np.testing.assert_array_equal(fast.behaviour.pm_status, slow.behaviour.pm_status)
    np.testing.assert_array_equal(fast.behaviour.pupil_lost_s, slow.behaviour.pupil_lost_s)
    assert [s.rejected_down for s in fast.world.school_servers] == [
        s.rejected_down for s in slow.world.school_servers]
    assert [s.arrivals for s in fast.world.school_servers] == [
        s.arrivals for s in slow.world.school_servers]
    np.testing.assert_array_equal(fast.behaviour.lg_attempts, slow.behaviour.lg_attempts)
    np.testing.assert_array_equal(fast.behaviour.lg_status, slow.behaviour.lg_status)


def test_settling_saves_events(pair: tuple[Simulation, Simulation]) -> None:
    fast, slow = pair
    # the event-by-event path schedules an outcome and a retry per failed attempt
    assert fast.result.events < slow.result.events  # type: ignore[union-attr]


def test_outage_of_unknown_end_is_not_settled() -> None:
    """An outage without a known end may be cleared at any time: go event by event."""
    endless = ['faults=[{kind: uplink_outage, share: 0.5, start: "07:58"}]',
               "behaviour.backoff_jitter=0"]
    fast, slow = _run(True, endless), _run(False, endless)
    assert sum(s.rejected_down for s in fast.world.school_servers) > 100
    assert fast.result.kpis == slow.result.kpis  # type: ignore[union-attr]
    assert fast.result.events == slow.result.events  # type: ignore[union-attr]  # nothing settled
