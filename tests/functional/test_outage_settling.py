"""Login and join retries that fall within a front-end outage of known end are settled at once
(``Behaviour._logins_while_down``, ``Behaviour._pupil_while_down``). With back-off jitter off
the delays are deterministic, so settling must give exactly what the event-by-event path
gives: the same attempts, failures, give-ups and logins at the same times, the same KPIs and
per-minute series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.metrics import Code
from sim.model import _Model
from tests.conftest import small_scenario

FAULTS = (
    'faults=[{kind: overload_crash, tier: outdated, queue_threshold: 1, sustain_s: 60, '
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


def _run(settle: bool, overrides: list[str]) -> _Model:
    model = _Model(small_scenario(0.02, overrides), seed=4, progress=None)
    model.beh.settle_outages = settle
    model.res = model.run()  # type: ignore[attr-defined]
    return model


@pytest.fixture(scope="module")
def pair() -> tuple[_Model, _Model]:
    return _run(True, OVERRIDES), _run(False, OVERRIDES)


def test_settled_logins_match_event_by_event(pair: tuple[_Model, _Model]) -> None:
    fast, slow = pair
    down = sum(s.rejected_down for s in slow.school_servers)
    assert down > 100  # the scenario does exercise outages
    assert len(fast.faults.crashes) > 0
    for code in Code:
        np.testing.assert_array_equal(np.sort(fast.rec.times(code)),
                                      np.sort(slow.rec.times(code)), err_msg=code.name)
    assert fast.res.kpis == slow.res.kpis  # type: ignore[attr-defined]
    # the per-minute series too: live counters (pupils trying, in session) move at the same
    # times, not when a chain was settled
    pd.testing.assert_frame_equal(fast.res.timeseries, slow.res.timeseries)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(fast.beh.pm_attempts, slow.beh.pm_attempts)
    np.testing.assert_array_equal(fast.beh.pm_status, slow.beh.pm_status)
    np.testing.assert_array_equal(fast.beh.pupil_lost_s, slow.beh.pupil_lost_s)
    assert [s.rejected_down for s in fast.school_servers] == [
        s.rejected_down for s in slow.school_servers]
    assert [s.arrivals for s in fast.school_servers] == [s.arrivals for s in slow.school_servers]
    np.testing.assert_array_equal(fast.beh.lg_attempts, slow.beh.lg_attempts)
    np.testing.assert_array_equal(fast.beh.lg_status, slow.beh.lg_status)


def test_settling_saves_events(pair: tuple[_Model, _Model]) -> None:
    fast, slow = pair
    # the event-by-event path schedules an outcome and a retry per failed attempt
    assert fast.res.events < slow.res.events  # type: ignore[attr-defined]


def test_outage_of_unknown_end_is_not_settled() -> None:
    """An outage without a known end may be cleared at any time: go event by event."""
    endless = ['faults=[{kind: uplink_outage, share: 0.5, start: "07:58"}]',
               "behaviour.backoff_jitter=0"]
    fast, slow = _run(True, endless), _run(False, endless)
    assert sum(s.rejected_down for s in fast.school_servers) > 100
    assert fast.res.kpis == slow.res.kpis  # type: ignore[attr-defined]
    assert fast.res.events == slow.res.events  # type: ignore[attr-defined]  # nothing settled
