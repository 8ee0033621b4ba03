"""Conservation in every run: intending = joined + gave up + still trying (total and per school).

The model checks this itself at the end of every run and raises ``ConservationError``; these
tests drive it through regimes where the books are easiest to get wrong (overload, time-outs,
no retries, lobby waits) and check the reported numbers add up.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import simulate_once
from sim.model.simulation import build
from sim.model.states import DONE, GAVE_UP, IN_SESSION, LOBBY, TRYING
from tests.conftest import small_scenario

REGIMES = {
    "ordinary": ([], 1.0),
    "conference_overload": ([], 0.25),
    "frontend_overload": (["platforms[0].frontend.workers=1",
                           "platforms[1].frontend.workers=1"], 1.0),
    "no_retries": (["behaviour.retries=false"], 0.3),
    "impatient": (["behaviour.patience_s=20", "behaviour.teacher_patience_s=30"], 0.3),
    "late_teachers": (["jitter.teacher_lead_mean_s=1", "jitter.pupil_early_share=0.9",
                       "jitter.pupil_early_mean_s=600"], 0.5),
}


@pytest.mark.parametrize("regime", sorted(REGIMES))
def test_books_balance(regime: str) -> None:
    overrides, cap = REGIMES[regime]
    sc = small_scenario(0.01, overrides, capacity_factor=cap)
    model = build(sc, 3)
    res = model.run()  # raises ConservationError if the model's own check fails
    cons = res.meta["conservation"]
    assert cons["intending"] > 0
    assert cons["intending"] == cons["joined"] + cons["gave_up"] + cons["still_trying"]
    st = model.behaviour.pm_status
    # every intending participant is in exactly one final state
    assert set(np.unique(st)) <= {TRYING, LOBBY, IN_SESSION, DONE, GAVE_UP}
    # per school
    d = model.demand
    school = d.m_school[d.pm_meeting]
    n = model.population.n_schools
    total = np.bincount(school, minlength=n)
    parts = sum(np.bincount(school[np.isin(st, s)], minlength=n)
                for s in ([IN_SESSION, DONE], [GAVE_UP], [TRYING, LOBBY]))
    np.testing.assert_array_equal(total, parts)
    k = res.kpis
    assert k["gave_up"] == cons["gave_up"]
    assert k["joins_succeeded"] <= k["join_attempts"]
    assert 0.0 <= k["join_success_rate"] <= 1.0
    assert 0.0 <= k["blocking_probability"] <= 1.0
    # nothing negative in the series
    assert (res.timeseries["value"] >= 0).all()
    # no one is left in a conference, on a node or in a queue after the day
    for p in model.world.platforms:
        assert p.pool.participants.sum() == 0
        assert p.pool.meetings.sum() == 0
    assert model.behaviour.in_session == 0


def test_overload_actually_loses_minutes() -> None:
    """The regimes above are not vacuous: an undersized cluster runs degraded (load never
    refuses) and its undersized front ends lose minutes; with ``refuse_overload`` (the old
    rule) the same cluster refuses and pupils give up."""
    res = simulate_once(small_scenario(0.01, capacity_factor=0.25), seed=3)
    assert res.kpis["degraded_share"] > 0.5
    assert res.kpis["lost_pupil_minutes"] > 100
    refuse = [f"platforms[{i}].clusters[0].refuse_overload=true" for i in range(3)]
    old = simulate_once(small_scenario(0.01, refuse, capacity_factor=0.25), seed=3)
    assert old.kpis["blocking_probability"] > 0.05
    assert old.kpis["lost_pupil_minutes"] > res.kpis["lost_pupil_minutes"]
    assert old.kpis["gave_up"] > 0
