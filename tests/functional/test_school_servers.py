"""Schools' own servers and uplinks (issue 24c), directionally on common random numbers:

- one overload rule for every tier: more load relative to a server's capacity, more crashes,
  for current servers as for outdated ones (a current server fails under enough load);
- the uplink is its own resource: a faster uplink, fewer answers waiting for it; uplink
  congestion is a cause of its own, and ``explain`` can take it away;
- the other traffic's share of each uplink is drawn per school from a range.
"""

from __future__ import annotations

import pytest

from sim import config_path, load_scenario, simulate
from sim.experiments.attribution import removal_for
from sim.model.simulation import build
from tests.conftest import small_scenario

SEED = 3


def _crashes(tier: str, login_s: float) -> dict[str, int]:
    """Crashes by tier when the one tier's morning login costs ``login_s`` of a worker (more
    work per pupil: more load against the same capacity)."""
    over = ["assignment.outdated_share=" + ("0" if tier == "current" else "1"),
            f"school_servers.tiers.{tier}.login_service_s={login_s}"]
    r = simulate(small_scenario(0.02, over), seed=SEED)
    return dict(r.runs[0].extra["server_crashes_by_tier"])


@pytest.mark.parametrize(("tier", "loads"), [("current", (1.5, 15.0, 60.0)),
                                             ("outdated", (1.0, 7.5, 30.0))])
def test_more_load_more_crashes_for_any_tier(tier: str, loads: tuple[float, ...]) -> None:
    crashes = [_crashes(tier, s)[tier] for s in loads]
    assert crashes[0] <= crashes[1] <= crashes[2], crashes
    assert crashes[2] > crashes[0], crashes
    assert crashes[2] > 0


def test_a_current_server_fails_under_enough_load() -> None:
    by_tier = _crashes("current", 60.0)
    assert by_tier["current"] > 0
    assert by_tier["outdated"] == 0  # there are none


def test_a_day_with_a_rush_crashes_outdated_servers_more_often_than_current_ones() -> None:
    # the February check-in's morning rush (without it, the default day at this scale may
    # crash no server at all)
    sc = load_scenario(config_path("2021-02-february-checkin.yaml"), ["population.scale=0.05"])
    r = simulate(sc, seed=SEED)
    by_tier = r.runs[0].extra["server_crashes_by_tier"]
    schools = r.schools
    rate = {t: by_tier[t] / max(1, int((schools["server"] == t).sum()))
            for t in ("current", "outdated")}
    assert rate["outdated"] > rate["current"], (by_tier, rate)


def _uplink(mbit: float, extra: list[str] | None = None) -> dict[str, float]:
    over = [f"assignment.uplink_mix=[{{share: 1.0, mbit_s: {mbit}}}]", "faults=[]",
            *(extra or [])]
    return simulate(small_scenario(0.02, over), seed=SEED).runs[0].extra


def test_a_faster_uplink_means_fewer_uplink_waits() -> None:
    slow, fast = _uplink(2.0), _uplink(50.0)
    assert slow["uplink_transfers_waited"] > fast["uplink_transfers_waited"]
    assert slow["uplink_wait_s"] > fast["uplink_wait_s"] >= 0.0
    assert slow["uplink_transfers"] > 0


def test_uplink_congestion_is_its_own_cause() -> None:
    x = _uplink(0.5, ["school_servers.uplink_background_share=0.5"])
    lost = x["lost_pupil_minutes_by_cause"]
    assert lost.get("uplink_congestion", 0.0) > 0.0, lost
    assert x["failed_attempts_by_cause"].get("uplink_congestion", 0) > 0
    assert x["uplink_transfers_given_up"] > 0
    # the workers were not the bottleneck: uplink minutes dominate the servers' own
    servers = lost.get("school_server:current", 0.0) + lost.get("school_server:outdated", 0.0)
    assert lost["uplink_congestion"] > servers
    remove = removal_for("uplink_congestion")
    assert remove is not None
    sc = small_scenario(0.02, ["assignment.uplink_mix=[{share: 1.0, mbit_s: 0.5}]"])
    assert remove(sc).assignment.uplink_mix[0].mbit_s == 5.0


def test_background_share_is_drawn_per_school_from_its_range() -> None:
    ranged = build(small_scenario(0.02, ["school_servers.uplink_background_share.min=0.1",
                                         "school_servers.uplink_background_share.max=0.4"]),
                   seed=SEED, progress=None)
    shares = [s.background_share for s in ranged.world.school_servers]
    assert min(shares) >= 0.1 and max(shares) <= 0.4
    assert len(set(shares)) > len(shares) // 2  # drawn, not one value
    fixed = build(small_scenario(0.02, ["school_servers.uplink_background_share=0.3"]),
                  seed=SEED, progress=None)
    assert {s.background_share for s in fixed.world.school_servers} == {0.3}
