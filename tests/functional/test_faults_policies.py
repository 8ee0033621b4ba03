"""Directional checks of faults and policies on common random numbers (same seed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim import simulate
from sim.model.simulation import simulate_once
from tests.conftest import small_scenario

SEED = 3


def _dispatcher(start: str, end: str, **kw: object) -> str:
    extra = "".join(f", {k}: {v}" for k, v in kw.items())
    return (f'faults=[{{kind: dispatcher_failure, platform: iserv, start: "{start}", '
            f'end: "{end}"{extra}}}]')


def _per_min(ts: pd.DataFrame, component: str, metric: str) -> pd.Series:
    s = ts[(ts.component == component) & (ts.metric == metric)]
    return s.set_index("t")["value"]


def test_longer_dispatcher_failure_loses_more_minutes() -> None:
    lost = [simulate(small_scenario(0.01, over), seed=SEED).kpis["lost_pupil_minutes"]
            for over in ([], [_dispatcher("08:00", "09:00")], [_dispatcher("08:00", "11:00")])]
    assert lost[0] < lost[1] < lost[2], lost
    assert lost[2] > 2 * lost[1]


def test_dispatcher_failure_blocks_joins_while_it_lasts() -> None:
    r = simulate(small_scenario(0.01, [_dispatcher("08:00", "11:00")]), seed=SEED)
    joins = _per_min(r.timeseries, "platform:iserv", "joins_succeeded")
    fails = _per_min(r.timeseries, "platform:iserv", "failed_dispatcher")
    during = joins.loc[8 * 3600 + 60: 11 * 3600 - 60]
    assert during.sum() == 0
    assert fails.loc[8 * 3600: 11 * 3600].sum() > 100
    assert joins.loc[11 * 3600: 12 * 3600].sum() > 0


def test_retry_wave_after_repair_exceeds_pre_fault_join_rate() -> None:
    """Users keep retrying: when the fault is fixed mid-lesson, the joins of the next minutes
    exceed the ordinary join rate before the fault."""
    r = simulate(small_scenario(0.02, [_dispatcher("08:00", "10:20")]), seed=SEED)
    joins = _per_min(r.timeseries, "platform:iserv", "joins_succeeded")
    before = joins.loc[7 * 3600 + 30 * 60: 8 * 3600 - 60].mean()
    wave = joins.loc[10 * 3600 + 20 * 60: 10 * 3600 + 24 * 60].mean()
    ordinary = simulate(small_scenario(0.02), seed=SEED)
    same_time = _per_min(ordinary.timeseries, "platform:iserv", "joins_succeeded").loc[
        10 * 3600 + 20 * 60: 10 * 3600 + 24 * 60].mean()
    assert wave > before, (wave, before)
    assert wave > same_time, (wave, same_time)


def test_staggering_lowers_the_morning_peak() -> None:
    def morning_peak(over: list[str]) -> tuple[float, float]:
        r = simulate(small_scenario(0.02, over), seed=SEED)
        ts = r.timeseries
        logins = _per_min(ts, "total", "login_attempts").loc[7 * 3600: 9 * 3600].max()
        joins = _per_min(ts, "total", "join_attempts").loc[7 * 3600: 9 * 3600].max()
        return float(logins), float(joins)

    # all IServ schools hosted: the peak of demand, not of retries at crashed local servers
    flat = morning_peak(["timetable.school_start_spread_min=0",
                         "assignment.on_prem_share.iserv=0"])
    staggered = morning_peak(["timetable.school_start_spread_min=0",
                              "assignment.on_prem_share.iserv=0",
                              "policies.stagger.school_number_slots=4",
                              "policies.stagger.slot_min=15"])
    assert staggered[0] < 0.6 * flat[0], (staggered, flat)
    assert staggered[1] < flat[1], (staggered, flat)


def test_join_rate_limit_lowers_peak_node_stress() -> None:
    over = ["timetable.school_start_spread_min=0", "jitter.pupil_late_mean_s=20",
            "jitter.pupil_early_mean_s=20"]
    free = simulate(small_scenario(0.02, over), seed=SEED)
    limited = simulate(small_scenario(0.02, [*over, "policies.join_rate_limit.per_node_per_s=0.2",
                                             "policies.join_rate_limit.node_burst=5"]), seed=SEED)
    a = free.summary["details"]["peak_joins_per_node_per_interval"]
    b = limited.summary["details"]["peak_joins_per_node_per_interval"]
    assert b < a, (b, a)
    assert b <= 0.2 * 60 + 5
    assert limited.summary["details"]["rate_limited"] > 0


def test_shorter_scale_up_delay_degrades_fewer_minutes() -> None:
    """Reserve nodes started sooner relieve the overloaded ones sooner: fewer pupil-minutes
    on degraded nodes (load refuses no one, so no minute was lost to capacity either way)."""
    def degraded(delay: float) -> float:
        over = ["policies.scale_up=[{cluster: iserv-bbb, reserve_nodes: 12, step_nodes: 4, "
                f"threshold: 0.5, delay_min: {delay}}}]"]
        r = simulate(small_scenario(0.02, over, capacity_factor=0.35), seed=SEED)
        assert r.summary["details"]["nodes_started_by_scale_up"] > 0
        return float(r.kpis["degraded_pupil_minutes"])

    no_reserve = simulate(small_scenario(0.02, capacity_factor=0.35), seed=SEED)
    fast, slow = degraded(5), degraded(60)
    assert fast < slow < no_reserve.kpis["degraded_pupil_minutes"], (fast, slow)


def test_node_loss_drops_meetings_and_they_come_back() -> None:
    over = ['faults=[{kind: node_loss, cluster: iserv-bbb, share: 0.5, start: "09:00", '
            'end: "09:40", repair_stages: 2, repair_interval_min: 10}]']
    r = simulate(small_scenario(0.02, over), seed=SEED)
    ts = r.timeseries
    nodes = _per_min(ts, "cluster:iserv-bbb", "nodes_up")
    full = nodes.loc[8 * 3600]
    assert nodes.loc[9 * 3600 + 60] <= np.ceil(full / 2)
    assert nodes.loc[10 * 3600 + 60] == full
    dropped = _per_min(ts, "platform:iserv", "dropped").loc[9 * 3600: 9 * 3600 + 60].sum()
    assert dropped > 0


def test_rooms_placed_on_a_lost_node_before_the_dispatcher_notices_have_their_cause() -> None:
    """Half of IServ's nodes lost at 07:59, in the morning's creates: Scalelite's poll places
    rooms on them for up to two minutes (``node_loss_unseen``); a live dispatcher never."""
    over = ['faults=[{kind: node_loss, cluster: iserv-bbb, share: 0.5, start: "07:59", '
            'end: "09:00"}]']
    polled = simulate_once(small_scenario(0.02, over), SEED)
    live = simulate_once(small_scenario(0.02, [*over, "platforms[iserv].dispatcher.mode=live"]),
                         SEED)
    # the teachers' creations failed there; their lobbies' minutes are charged to it
    assert polled.extra["lost_pupil_minutes_by_cause"].get("node_loss_unseen", 0.0) > 0.0
    assert "node_loss_unseen" not in live.extra["lost_pupil_minutes_by_cause"]
    assert live.extra["lost_pupil_minutes_by_cause"]["node_loss"] > 0.0


def test_overload_crash_of_one_tier_hits_that_tier_only() -> None:
    over = ['faults=[{kind: overload_crash, tier: outdated, load_threshold: 0.5, '
            'response_share: 0.1, sustain_s: 60, repair_min: 20}]',
            "school_servers.tiers.outdated.workers=1",
            "school_servers.tiers.outdated.login_service_s=6", "assignment.outdated_share=0.3"]
    r = simulate(small_scenario(0.02, over), seed=SEED)
    d = r.summary["details"]
    assert d["server_crashes"] > 0
    schools = r.schools
    crashed = d["schools_with_crashed_server"]
    assert crashed <= int((schools["server"] == "outdated").sum())
    assert d["server_crashes_by_tier"]["current"] == 0


def test_first_pupil_opens_room_removes_lobby_waits() -> None:
    over = ["jitter.teacher_lead_mean_s=1", "jitter.pupil_early_share=0.9",
            "jitter.pupil_early_mean_s=300"]
    lobby = simulate(small_scenario(0.01, over), seed=SEED)
    first = simulate(small_scenario(0.01, [*over, "policies.first_pupil_opens_room=true"]),
                     seed=SEED)
    wait = lambda r: _per_min(r.timeseries, "total", "pupils_in_lobby").sum()  # noqa: E731
    assert wait(first) == 0 < wait(lobby)


def test_cameras_off_lowers_bandwidth() -> None:
    over = ["behaviour.webcam_share_pupils=0.8"]
    cams = simulate(small_scenario(0.01, over), seed=SEED)
    off = simulate(small_scenario(0.01, [*over, "policies.camera.cameras_off_above=5"]),
                   seed=SEED)
    load = lambda r: _per_min(r.timeseries, "cluster:iserv-bbb", "load_mbit_s").max()  # noqa: E731
    assert load(off) < 0.7 * load(cams)


def test_cameras_off_raises_node_capacity_when_cpu_binds() -> None:
    """Common random numbers: the same day with many cameras on, on a fleet too small for it,
    once as is and once with cameras off in rooms above 5. Each node's CPU then carries more
    people: far fewer pupil-minutes are spent on overloaded nodes (no join is refused either
    way: load degrades, it does not refuse)."""
    over = ["behaviour.webcam_share_pupils=0.6"]
    cams = simulate(small_scenario(0.01, over, capacity_factor=0.5), seed=SEED)
    off = simulate(small_scenario(0.01, [*over, "policies.camera.cameras_off_above=5"],
                                  capacity_factor=0.5), seed=SEED)
    refused = lambda r: r.runs[0].extra["refused_capacity"]  # noqa: E731
    assert refused(cams) == 0 and refused(off) == 0
    assert cams.kpis["degraded_share"] > 0.3
    assert off.kpis["degraded_pupil_minutes"] < 0.5 * cams.kpis["degraded_pupil_minutes"]
    cpu = lambda r: (_per_min(r.timeseries, "cluster:iserv-bbb", "cpu")  # noqa: E731
                     / _per_min(r.timeseries, "cluster:iserv-bbb", "participants")).max()
    assert cpu(off) < cpu(cams)  # CPU per participant falls with the cameras


def _school_server_peaks(over: list[str]) -> dict[int, int]:
    """Per school with its own server: the most requests it held at once (served and queued,
    sampled every 10 s up to 11:00) on the default day without crashes, seed ``SEED``."""
    from sim.model.engine import call_urgent
    from sim.model.simulation import build

    s = build(small_scenario(0.02, ["faults=[]", *over]), seed=SEED)
    servers = s.world.school_servers
    peaks = dict.fromkeys((srv.school for srv in servers), 0)

    def look(_: object = None) -> None:
        for srv in servers:
            peaks[srv.school] = max(peaks[srv.school], srv.busy + srv.waiting)
        if s.env.now < 11 * 3600:
            call_urgent(s.env, 10.0, look)

    call_urgent(s.env, 0.0, look)
    s.run()
    return peaks


def test_stagger_by_year_relieves_a_schools_own_server() -> None:
    """IServ's advice (S104): a school that starts its years 10 minutes apart spreads its own
    morning rush, so its own server holds fewer requests at its peak; staggering whole
    schools by number only moves each school's rush and leaves every school's peak as it
    was (the same random numbers, shifted)."""
    flat = _school_server_peaks([])
    by_year = _school_server_peaks(["policies.stagger.within_school_slots=3",
                                    "policies.stagger.within_school_slot_min=10"])
    by_number = _school_server_peaks(["policies.stagger.school_number_slots=3",
                                      "policies.stagger.slot_min=15"])
    schools = sorted(flat)
    assert len(schools) > 20
    a = np.array([flat[k] for k in schools])
    y = np.array([by_year[k] for k in schools])
    n = np.array([by_number[k] for k in schools])
    # the busiest servers whose rush queues (a worker freed once the answer is ready — the
    # uplink is its own resource — leaves few servers queueing at this scale)
    busiest = np.argsort(a)[-3:]
    busiest = busiest[a[busiest] > 10]
    assert busiest.size >= 2
    assert a.max() > 20  # the rush does queue at some schools' servers
    # by year: lower peaks in sum and at each of the busiest servers
    assert y.sum() < 0.85 * a.sum(), (y.sum(), a.sum())
    assert (y[busiest] < 0.8 * a[busiest]).all(), (y[busiest], a[busiest])
    # by school number: each school's own peak as without it (within the noise of the
    # shared random streams whose draws the shifted timing reorders: reconnects)
    # (10 %: two servers hold most of the sum since answers queue for the uplink, not for
    # workers, so one server's noise moves it)
    assert abs(n.sum() - a.sum()) <= 0.1 * a.sum(), (n.sum(), a.sum())
    # at the busiest servers one server's peak is noisy (one retry wave more or less), so:
    # staggering by year relieves each of them more than staggering by number does
    assert (y[busiest] < n[busiest]).all(), (y[busiest], n[busiest])
