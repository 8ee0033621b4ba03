"""The code levers move what they say, on common random numbers (small scale, fast)."""

from __future__ import annotations

import pandas as pd
import pytest

from sim import simulate_once
from sim.decide.levers import QUEUE_CAUSES, load_levers, rankings
from tests.conftest import small_scenario

SCALE = 0.05


def _participant_minutes(run, platform: str) -> float:  # type: ignore[no-untyped-def]
    """Participants summed over the samples of the day, on the platform's clusters."""
    clusters = [f"cluster:{c.name}" for p in run.scenario.platforms if p.name == platform
                for c in p.clusters]
    ts = run.timeseries
    s = ts[ts["component"].isin(clusters) & (ts["metric"] == "participants")]
    return float(s["value"].sum())


def test_empty_hooks_leave_the_run_bit_identical() -> None:
    plain = simulate_once(small_scenario(0.02), 3)
    hooks = simulate_once(small_scenario(0.02, ["assignment.upgraded_uplinks=[]",
                                                "assignment.region_moves={}",
                                                "assignment.replaced_servers=[]"]), 3)
    assert plain.kpis == hooks.kpis
    assert plain.extra == hooks.extra
    pd.testing.assert_frame_equal(plain.schools, hooks.schools)
    pd.testing.assert_frame_equal(plain.timeseries, hooks.timeseries)


def test_moving_hannover_off_iserv_lowers_iserv_participants() -> None:
    base = simulate_once(small_scenario(SCALE), 1)
    moved = simulate_once(small_scenario(SCALE, [
        "assignment.region_moves.hannover_stadt=hannover-city",
        "assignment.region_moves.hannover=hannover-city"]), 1)
    on_iserv = [int((r.schools["platform"] == "iserv").sum()) for r in (base, moved)]
    assert on_iserv[1] < on_iserv[0]
    assert _participant_minutes(moved, "iserv") < _participant_minutes(base, "iserv")
    assert _participant_minutes(moved, "hannover-city") > _participant_minutes(
        base, "hannover-city")


def _queue_minutes(schools: pd.DataFrame) -> pd.Series:
    cols = [f"lost_pupil_minutes:{c}" for c in QUEUE_CAUSES if f"lost_pupil_minutes:{c}" in schools]
    return schools[cols].sum(axis=1)


# a day whose uplinks are busy with other traffic (60–90 %): on the default day (15–45 %) few
# schools lose minutes at their uplink at this scale, so the ranking would have little to rank
BUSY_UPLINKS = ["school_servers.uplink_background_share.min=0.6",
                "school_servers.uplink_background_share.max=0.9"]


@pytest.mark.parametrize("seed", [2, 3])
def test_upgrading_uplinks_never_adds_minutes_at_the_uplinks(tmp_path, seed: int) -> None:  # type: ignore[no-untyped-def]
    """The minutes charged to the upgraded schools' uplinks (``uplink_congestion``) do not
    rise, on the same seed. Only at those schools: the run's random streams are shared, so
    another school's day (e.g. whether its overloaded server crashes) may come out differently
    on the same seed."""
    sc = small_scenario(SCALE, BUSY_UPLINKS)
    base = simulate_once(sc, seed)
    rank = rankings(base.schools, [u.mbit_s for u in sc.assignment.uplink_mix])
    f = tmp_path / "l.yaml"
    f.write_text("levers:\n- lever: upgrade_uplinks\n  values: [0, 200, 600]\n", encoding="utf-8")
    lever = load_levers(f, sc)[0]
    for n in (200, 600):
        ov = lever.overrides(n, rank, SCALE)
        up = simulate_once(small_scenario(SCALE, [*BUSY_UPLINKS, *ov]), seed)  # CRN
        ids = [int(x) for x in ov[0].split("=", 1)[1].strip("[]").split(",")]
        assert len(ids) == round(n * SCALE)
        assert (up.schools.loc[ids, "uplink_mbit_s"] > base.schools.loc[ids, "uplink_mbit_s"]).all()
        before = float(_queue_minutes(base.schools).loc[ids].sum())
        after = float(_queue_minutes(up.schools).loc[ids].sum())
        assert before > 0  # the ranking found schools that lost minutes there
        assert after <= before + 1e-9, (n, before, after)
