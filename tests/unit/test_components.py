"""Unit tests for the building blocks: the request queue, conference nodes, the dispatcher and
the scheduling helpers of :mod:`sim.model.engine` and the draws of :mod:`sim.model.draws`. Every
test drives
a real ``simpy.Environment``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import simpy

from sim.config import ClusterConfig, DispatcherConfig, MediaConfig
from sim.model.causes import CAPACITY, DISPATCHER_FAILURE, NODE_LOSS, OK, UPLINK_CONGESTION
from sim.model.components.conference import (
    NodePool,
    ParticipantCount,
    join_load_mbit_s,
    meeting_load_mbit_s,
    node_cpu_load,
    participants_per_node,
)
from sim.model.components.dispatcher import Dispatcher
from sim.model.components.request_queue import RequestQueue
from sim.model.components.uplink import Uplink
from sim.model.draws import UnitDraws
from sim.model.engine import call_later, call_urgent
from sim.model.seeds import SeedTree

Event = tuple[float, Any, bool]


# ============================================================================ request queue


# cause codes the tests give a queue (any besides OK)
TIMED_OUT, DOWN = 99, 98


class Log:
    """Collects ``on_done(token, outcome)`` calls with the time they happen: ``events`` as
    (time, token, served?), ``outcomes`` as (token, outcome)."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.events: list[Event] = []
        self.outcomes: list[tuple[Any, int]] = []

    def __call__(self, token: Any, outcome: int) -> None:
        self.events.append((self.env.now, token, outcome == OK))
        self.outcomes.append((token, outcome))


def _queue(env: simpy.Environment, workers: int = 1, timeout_s: float = math.inf,
           kind: str = "deterministic", **kw: Any) -> RequestQueue:
    draws = UnitDraws(np.random.default_rng(0), kind)
    return RequestQueue(env, "q", workers=workers, timeout_s=timeout_s, draws=draws,
                        timeout_cause=TIMED_OUT, **kw)


def _submit_at(env: simpy.Environment, q: RequestQueue, t: float, token: Any,
               service_s: float, log: Log) -> None:
    call_later(env, t - env.now, lambda tok: q.submit(tok, service_s, log), token)


def test_fifo_order_and_exact_times() -> None:
    env = simpy.Environment()
    q = _queue(env, workers=1)
    log = Log(env)
    for i in range(5):
        q.submit(f"r{i}", 10.0, log)
    env.run()
    assert log.events == [(10.0 * (i + 1), f"r{i}", True) for i in range(5)]
    assert q.served == 5 and q.arrivals == 5 and q.waited == 4
    assert q.wait_sum_s == 0 + 10 + 20 + 30 + 40
    assert q.busy == 0 and q.waiting == 0


def test_fifo_with_staggered_arrivals() -> None:
    env = simpy.Environment()
    q = _queue(env, workers=1)
    log = Log(env)
    for t, tok in [(0.0, "a"), (1.0, "b"), (2.0, "c"), (2.5, "d")]:
        _submit_at(env, q, t, tok, 4.0, log)
    env.run()
    assert [e[1] for e in log.events] == ["a", "b", "c", "d"]
    assert [e[0] for e in log.events] == [4.0, 8.0, 12.0, 16.0]


def test_deterministic_service_with_two_workers() -> None:
    env = simpy.Environment()
    q = _queue(env, workers=2)
    log = Log(env)
    q.submit("a", 3.0, log)
    q.submit("b", 5.0, log)
    q.submit("c", 2.0, log)  # waits for a, starts at 3
    env.run()
    assert log.events == [(3.0, "a", True), (5.0, "b", True), (5.0, "c", True)]
    assert q.wait_sum_s == 3.0


def test_answers_queue_for_the_uplink_not_for_workers() -> None:
    env = simpy.Environment()
    q = _queue(env, workers=4, uplink=Uplink(10.0), uplink_cause=UPLINK_CONGESTION,
               transfer_mbit=8.0)
    log = Log(env)
    q.submit("a", 1.0, log)  # answer ready at 1, sent 1–1.8
    q.submit("b", 1.0, log)  # ready at 1 too: waits for the link, sent 1.8–2.6
    env.run()
    assert log.events == [(pytest.approx(1.8), "a", True), (pytest.approx(2.6), "b", True)]
    assert q.busy_sum_s == 2.0  # the workers were free once the answers were ready
    assert q.uplink is not None and q.uplink.waited == 1
    assert q.uplink.wait_sum_s == pytest.approx(0.8)


def test_an_answer_ready_earlier_takes_an_earlier_gap_on_the_uplink() -> None:
    up = Uplink(1.0)
    assert up.reserve(0.0, 10.0, 2.0, math.inf) == (10.0, 12.0)  # reserved first, ready late
    assert up.reserve(0.0, 1.0, 2.0, math.inf) == (1.0, 3.0)  # fits before it
    assert up.reserve(0.0, 9.0, 2.0, math.inf) == (12.0, 14.0)  # no gap of 2 s before 12
    assert up.waited == 1


def test_an_answer_that_cannot_be_sent_in_time_fails_as_uplink_congestion() -> None:
    env = simpy.Environment()
    q = _queue(env, workers=4, timeout_s=5.0, uplink=Uplink(1.0), uplink_cause=UPLINK_CONGESTION,
               transfer_mbit=4.0)
    outcomes = [q.request(1.0) for _ in range(3)]
    # a: sent 1–5; b: waits 4 s, sent 5–9; c: would wait 8 s > 5 s → gives up at 1 + 5
    assert outcomes[:2] == [(OK, 5.0), (OK, 9.0)]
    assert outcomes[2] == (UPLINK_CONGESTION, 6.0)
    assert q.uplink is not None and q.uplink.given_up == 1


def test_never_more_than_workers_busy() -> None:
    env = simpy.Environment()
    workers = 3
    q = RequestQueue(env, "q", workers=workers, timeout_s=5.0, timeout_cause=TIMED_OUT,
                     draws=UnitDraws(np.random.default_rng(4), "exponential"))
    log = Log(env)
    rng = np.random.default_rng(5)
    t = 0.0
    for i in range(400):
        t += rng.exponential(0.3)
        _submit_at(env, q, t, i, 1.0, log)
    seen: list[tuple[int, int]] = []

    def probe(_: Any) -> None:
        seen.append((q.busy, q.waiting))
        if env.now < t + 20:
            call_later(env, 0.05, probe)

    call_later(env, 0.0, probe)
    env.run()
    busy = np.array([s[0] for s in seen])
    waiting = np.array([s[1] for s in seen])
    assert busy.max() == workers
    assert (busy <= workers).all() and (busy >= 0).all() and (waiting >= 0).all()
    # work-conserving: nobody waits while a worker is idle
    assert (busy[waiting > 0] == workers).all()
    assert waiting.max() > 0
    # every request ends exactly once
    assert sorted(e[1] for e in log.events) == list(range(400))
    assert q.served + q.timed_out == 400


def test_timeout_fails_exactly_at_submit_plus_timeout() -> None:
    env = simpy.Environment()
    q = _queue(env, workers=1, timeout_s=30.0)
    log = Log(env)
    _submit_at(env, q, 0.0, "A", 100.0, log)  # served 0–100
    _submit_at(env, q, 5.0, "B", 100.0, log)  # gives up at 35
    _submit_at(env, q, 75.0, "C", 100.0, log)  # would give up at 105, starts at 100
    _submit_at(env, q, 80.0, "D", 100.0, log)  # gives up at 110 (C took the worker)
    env.run()
    assert log.events == [
        (35.0, "B", False),
        (100.0, "A", True),
        (110.0, "D", False),
        (200.0, "C", True),
    ]
    assert q.timed_out == 2 and q.served == 2
    assert q.wait_sum_s == 0 + 30 + 25 + 30


def _integrate_waiting(env: simpy.Environment, q: RequestQueue, dt: float,
                       until: float) -> list[float]:
    """∫ queue length dt by probing ``q.waiting`` on a grid (exact when all event times lie
    on the grid: the queue length is piecewise constant between them)."""
    area = [0.0]

    def probe(_: Any) -> None:
        area[0] += q.waiting * dt
        if env.now + dt < until:
            call_later(env, dt, probe)

    call_later(env, 0.0, probe)
    return area


def test_littles_law_deterministic_example() -> None:
    """∫ queue length dt equals the sum of waiting times (L·T = λT·W)."""
    env = simpy.Environment()
    q = _queue(env, workers=1, timeout_s=22.0)
    log = Log(env)
    for t, tok in [(0.0, "a"), (0.0, "b"), (0.0, "c"), (5.0, "d")]:
        _submit_at(env, q, t, tok, 10.0, log)
    area = _integrate_waiting(env, q, 0.5, 40.0)
    env.run()
    q.finish()
    # waits: a 0, b 10, c 20; d would wait 25 > 22 and gives up at 5 + 22
    assert log.events == [(10.0, "a", True), (20.0, "b", True), (27.0, "d", False),
                          (30.0, "c", True)]
    assert q.wait_sum_s == 52.0
    # queue length 2 on [0,5), 3 on [5,10), 2 on [10,20), 1 on [20,27)
    assert area[0] == 2 * 5 + 3 * 5 + 2 * 10 + 1 * 7
    assert area[0] == q.wait_sum_s
    assert q.served == 3 and q.timed_out == 1 and q.waited == 3


def test_littles_law_random_example() -> None:
    env = simpy.Environment()
    q = RequestQueue(env, "q", workers=2, timeout_s=3.0, timeout_cause=TIMED_OUT,
                     draws=UnitDraws(np.random.default_rng(1), "exponential"))
    log = Log(env)
    rng = np.random.default_rng(2)
    t = 0.0
    for i in range(1000):
        t += rng.exponential(0.55)
        _submit_at(env, q, t, i, 1.0, log)
    area = _integrate_waiting(env, q, 0.01, t + 10.0)
    env.run()
    q.finish()
    assert q.timed_out > 0 and q.waited > 0
    assert area[0] == pytest.approx(q.wait_sum_s, rel=0.02)


def test_statistics_count_only_from_count_from() -> None:
    env = simpy.Environment()
    q = _queue(env, workers=1)
    q.count_from = 10.0
    log = Log(env)
    _submit_at(env, q, 0.0, "early", 20.0, log)
    _submit_at(env, q, 10.0, "late", 5.0, log)  # waits 10 s for "early"
    env.run()
    assert [e[1] for e in log.events] == ["early", "late"]
    assert q.arrivals == 1 and q.served == 1
    assert q.wait_sum_s == 10.0


def test_down_service_refuses_new_requests_and_recovers() -> None:
    env = simpy.Environment()
    q = _queue(env, workers=1, timeout_s=30.0)
    q.enable_outages()
    log = Log(env)
    call_later(env, 4.0, lambda _: q.hold("test", DOWN))
    _submit_at(env, q, 6.0, "E", 10.0, log)
    call_later(env, 12.0, lambda _: q.release("test"))
    _submit_at(env, q, 12.0, "F", 10.0, log)
    env.run()
    assert log.events == [(6.0, "E", False), (22.0, "F", True)]
    assert q.rejected_down == 1


def test_outage_needs_tracking() -> None:
    env = simpy.Environment()
    q = _queue(env, workers=1, timeout_s=30.0)
    with pytest.raises(RuntimeError, match="enable_outages"):
        q.hold("test", DOWN)


def test_crash_fails_queued_and_in_service_requests() -> None:
    env = simpy.Environment()
    q = _queue(env, workers=1, timeout_s=30.0)
    q.enable_outages()
    log = Log(env)
    for tok in ("A", "B", "C"):
        q.submit(tok, 10.0, log)
    call_later(env, 4.0, lambda _: q.hold("test", DOWN))
    env.run()
    assert sorted(log.events) == [(4.0, "A", False), (4.0, "B", False), (4.0, "C", False)]
    assert q.waiting == 0 and q.busy == 0


def test_graceful_stop_lets_service_finish_but_fails_queue() -> None:
    env = simpy.Environment()
    q = _queue(env, workers=1, timeout_s=30.0)
    q.enable_outages()
    log = Log(env)
    for tok in ("A", "B", "C"):
        q.submit(tok, 10.0, log)
    call_later(env, 4.0, lambda _: q.hold("test", DOWN, fail_in_service=False))
    env.run()
    assert (4.0, "B", False) in log.events
    assert (4.0, "C", False) in log.events
    assert (10.0, "A", True) in log.events  # already in service: finishes
    assert q.waiting == 0


@pytest.mark.parametrize("graceful", [False, True])
def test_outage_and_restore_never_overcommit_workers(graceful: bool) -> None:
    env = simpy.Environment()
    q = _queue(env, workers=1, timeout_s=30.0)
    q.enable_outages()
    log = Log(env)
    for tok in ("A", "B", "C"):
        q.submit(tok, 10.0, log)
    call_later(env, 4.0, lambda _: q.hold("test", DOWN, fail_in_service=not graceful))
    call_later(env, 8.0, lambda _: q.release("test"))
    _submit_at(env, q, 8.0, "F", 10.0, log)
    env.run()
    # deterministic service of 10 s: a success at t was in service on [t − 10, t)
    ends = sorted(t for t, _, ok in log.events if ok)
    in_service = max(sum(e - 10.0 <= x < e for e in ends) for x in np.arange(0.0, 40.0, 0.5))
    assert in_service <= 1
    # F waits for A when A survived the graceful stop, else starts at once
    assert (20.0 if graceful else 18.0, "F", True) in log.events


# ============================================================================ conference nodes


def _cluster(**kw: Any) -> ClusterConfig:
    base: dict[str, Any] = {"name": "c", "nodes": 3, "node_max_participants": 2,
                            "node_capacity_mbit_s": 1.0, "heterogeneity_cv": 0.0}
    base.update(kw)
    return ClusterConfig(**base)


def test_node_participant_limit() -> None:
    pool = NodePool([_cluster()], SeedTree(1))
    assert pool.try_admit(0, 0.1) == OK
    assert pool.try_admit(0, 0.1) == OK
    assert pool.try_admit(0, 0.1) == CAPACITY  # third participant: over the limit of 2
    assert pool.participants[0] == 2
    assert pool.load_mbit_s[0] == pytest.approx(0.2)
    assert pool.admitted == 2 and pool.refused == 1
    assert pool.try_admit(1, 0.1) == OK  # other nodes unaffected


def test_node_past_its_bandwidth_admits_and_runs_degraded() -> None:
    """Bandwidth never refuses (BBB does not): past its egress a node admits and runs
    degraded; with ``refuse_overload`` the old rule refuses."""
    pool = NodePool([_cluster(node_max_participants=100)], SeedTree(1))
    assert pool.try_admit(1, 0.6) == OK
    assert not pool.degraded(1)
    assert pool.try_admit(1, 0.6) == OK  # 1.2 Mbit/s > 1.0: admitted, degraded
    assert pool.participants[1] == 2 and pool.refused == 0
    assert pool.degraded(1) and pool.utilisation(1) == pytest.approx(1.2)
    pool.release(1, 1, 0.6)
    assert not pool.degraded(1)
    old = NodePool([_cluster(node_max_participants=100, refuse_overload=True)], SeedTree(1))
    assert old.try_admit(1, 0.6) == OK
    assert old.try_admit(1, 0.6) == CAPACITY  # the old rule: 1.2 Mbit/s > 1.0 refused
    assert old.try_admit(1, 0.4) == OK  # exactly at capacity is allowed
    assert old.load_mbit_s[1] == pytest.approx(1.0)
    assert old.refused == 1


def test_release_restores_room() -> None:
    pool = NodePool([_cluster()], SeedTree(1))
    assert pool.try_admit(0, 0.3) == OK and pool.try_admit(0, 0.3) == OK
    assert pool.try_admit(0, 0.3) == CAPACITY
    pool.release(0, 1, 0.3)
    assert pool.participants[0] == 1
    assert pool.load_mbit_s[0] == pytest.approx(0.3)
    assert pool.try_admit(0, 0.3) == OK
    pool.release(0, 2, 0.6)
    assert pool.participants[0] == 0
    assert pool.load_mbit_s[0] == 0.0
    assert pool.total_participants == 0
    assert pool.shared.now == 0


def test_down_node_refuses() -> None:
    pool = NodePool([_cluster()], SeedTree(1))
    pool.set_node_up(2, False)
    assert pool.try_admit(2, 0.0) == NODE_LOSS  # refused for the loss of the node, not its capacity
    assert pool.participants[2] == 0 and pool.refused == 1


def test_peak_tracking() -> None:
    shared = ParticipantCount()
    a = NodePool([_cluster(name="a", node_max_participants=10)], SeedTree(1), shared)
    b = NodePool([_cluster(name="b", node_max_participants=10)], SeedTree(1), shared)
    for _ in range(4):
        assert a.try_admit(0, 0.05) == OK
    for _ in range(3):
        assert b.try_admit(1, 0.05) == OK
    assert shared.now == 7 and shared.peak == 7
    assert a.peak_participants == 4 and b.peak_participants == 3
    assert a.peak_utilisation == pytest.approx(0.4)  # 4 of 10 people (bandwidth 0.2 of 1)
    a.release(0, 4, 0.2)
    assert shared.now == 3 and shared.peak == 7
    assert a.peak_participants == 4 and a.total_participants == 0
    assert a.peak_utilisation == pytest.approx(0.4)
    # bandwidth can set the peak utilisation too
    assert b.try_admit(2, 0.9) == OK
    assert b.peak_utilisation == pytest.approx(0.9)


def test_heterogeneous_node_sizes() -> None:
    cl = _cluster(nodes=2000, node_max_participants=250, node_capacity_mbit_s=1000.0,
                  heterogeneity_cv=0.25)
    a = NodePool([cl], SeedTree(3))
    b = NodePool([cl], SeedTree(3))
    np.testing.assert_array_equal(a.cap_participants, b.cap_participants)
    assert a.cap_participants.std() > 0
    assert a.cap_participants.min() >= 1
    assert abs(a.cap_participants.mean() / 250 - 1) < 0.03
    assert abs(a.cap_mbit_s.std() / a.cap_mbit_s.mean() - 0.25) < 0.03
    # participant and bandwidth capacity scale together (one factor per node)
    np.testing.assert_allclose(a.cap_participants, np.rint(a.cap_mbit_s / 4.0))


def test_cluster_view_sums() -> None:
    pool = NodePool([_cluster(name="x"), _cluster(name="y", nodes=2)], SeedTree(1))
    assert pool.n_nodes == 5
    pool.try_admit(0, 0.5)
    pool.try_admit(4, 0.25)
    pool.set_node_up(1, False)
    x, y = pool.cluster_view()
    assert x["participants"] == 1 and y["participants"] == 1
    assert x["nodes_up"] == 2 and y["nodes_up"] == 2
    assert x["capacity_participants"] == 4 and y["capacity_participants"] == 4
    assert x["load_mbit_s"] == pytest.approx(0.5) and y["load_mbit_s"] == pytest.approx(0.25)
    assert x["utilisation_max"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("u", "w", "screen"),
    [(1, 0, False), (1, 1, True), (2, 1, False), (10, 3, True), (30, 0, True), (25, 25, False)],
)
def test_meeting_load_follows_bbb_rule(u: int, w: int, screen: bool) -> None:
    media = MediaConfig(audio_mbit_s=0.04, webcam_mbit_s=0.4, screenshare_mbit_s=0.5)
    expected = w * (u - 1) * 0.4 + u * 0.04 + (u - 1) * 0.5 * screen
    assert meeting_load_mbit_s(u, w, screen, media) == pytest.approx(expected)


def test_meeting_load_examples() -> None:
    media = MediaConfig()
    assert meeting_load_mbit_s(0, 0, True, media) == 0.0
    assert meeting_load_mbit_s(1, 1, True, media) == pytest.approx(media.audio_mbit_s)
    # 10 people, teacher's camera and screen: 9 viewers of each
    got = meeting_load_mbit_s(10, 1, True, MediaConfig(audio_mbit_s=0.04, webcam_mbit_s=0.4,
                                                       screenshare_mbit_s=0.5))
    assert got == pytest.approx(3.6 + 0.4 + 4.5)


@pytest.mark.parametrize("u", [0, 1, 2, 9, 40])
@pytest.mark.parametrize("w", [0, 1, 5])
@pytest.mark.parametrize("cam", [False, True])
@pytest.mark.parametrize("screen", [False, True])
def test_join_load_is_the_difference_of_meeting_loads(u: int, w: int, cam: bool,
                                                      screen: bool) -> None:
    """The join's increment (the model's hot path) is the BBB rule's difference."""
    if w > u:
        return
    media = MediaConfig(audio_mbit_s=0.04, webcam_mbit_s=0.4, screenshare_mbit_s=0.5)
    diff = (meeting_load_mbit_s(u + 1, w + cam, screen, media)
            - meeting_load_mbit_s(u, w, screen, media))
    assert join_load_mbit_s(u, w, cam, screen, media) == pytest.approx(diff, rel=1e-12,
                                                                       abs=1e-12)


# ============================================================================ dispatcher


def _dispatcher(nodes: int = 4, policy: str = "least_meetings") -> Dispatcher:
    pool = NodePool([_cluster(nodes=nodes, node_max_participants=10)], SeedTree(1))
    cfg = DispatcherConfig(policy=policy, mode="live", load_multiplier="none")
    return Dispatcher(pool, cfg, UnitDraws(np.random.default_rng(9), "uniform"))


def _place(d: Dispatcher) -> int:
    """The node ``d`` places a room on (-1: refused, for whatever reason)."""
    node, outcome = d.place()
    assert (node >= 0) == (outcome == OK)
    return node


def test_least_meetings_round_robin_with_low_index_ties() -> None:
    d = _dispatcher(4)
    assert [_place(d) for _ in range(9)] == [0, 1, 2, 3, 0, 1, 2, 3, 0]
    np.testing.assert_array_equal(d.pool.meetings, [3, 2, 2, 2])


def test_least_meetings_picks_least_loaded() -> None:
    d = _dispatcher(4)
    d.pool.meetings[:] = [2, 1, 1, 3]
    assert _place(d) == 1  # [2, 2, 1, 3]
    assert _place(d) == 2  # [2, 2, 2, 3]
    assert _place(d) == 0  # three-way tie: lowest index
    d.close(1)
    d.close(1)
    assert d.pool.meetings[1] == 0
    assert _place(d) == 1


def test_least_meetings_skips_down_nodes() -> None:
    d = _dispatcher(4)
    d.pool.meetings[:] = [5, 0, 0, 1]
    d.pool.set_node_up(1, False)
    d.pool.set_node_up(2, False)
    assert [_place(d) for _ in range(4)] == [3, 3, 3, 3]  # 3 reaches 5 meetings
    assert _place(d) == 0  # tie 5:5 goes to the lower index
    np.testing.assert_array_equal(d.pool.meetings, [6, 0, 0, 5])


@pytest.mark.parametrize("nodes", [3, 40])
def test_no_node_up_is_node_loss_not_the_dispatcher(nodes: int) -> None:
    """A room that finds no node up is refused for the loss of the nodes; one the dispatcher
    failure refuses, for the dispatcher — for either, whatever the other is doing."""
    for policy in ("least_meetings", "least_participants"):
        d = _dispatcher(nodes, policy)
        for node in range(nodes):
            d.pool.set_node_up(node, False)
        assert d.place() == (-1, NODE_LOSS)
        d.failure_create_share = 1.0
        assert d.place() == (-1, DISPATCHER_FAILURE)  # the dispatcher refuses before looking
        d.pool.set_node_up(1, True)
        assert d.place() == (-1, DISPATCHER_FAILURE)
        d.failure_create_share = 0.0
        assert d.place() == (1, OK)
        assert d.failed_creates == 3
        assert d.route_join() == OK
        d.failure_join_share = 1.0
        assert d.route_join() == DISPATCHER_FAILURE


@pytest.mark.parametrize("nodes", [4, 40])
def test_least_meetings_matches_argmin_over_up_nodes(nodes: int) -> None:
    """Small pools scan, large ones keep a heap: both place where numpy's argmin over the up
    nodes' meeting counts does, through closes, node failures and returns."""
    d = _dispatcher(nodes)
    pool = d.pool
    rng = np.random.default_rng(7)
    rooms: list[int] = []
    for _ in range(6000):
        r = rng.random()
        if r < 0.5 or not rooms:
            if pool.up.any():
                want = int(np.argmin(np.where(pool.up, pool.meetings, np.iinfo(np.int64).max)))
            else:
                want = -1
            got = _place(d)
            assert got == want
            if got >= 0:
                rooms.append(got)
        elif r < 0.95:
            d.close(rooms.pop(int(rng.integers(len(rooms)))))
        else:
            node = int(rng.integers(nodes))
            pool.set_node_up(node, not pool._up[node])
        np.testing.assert_array_equal(pool.meetings, np.bincount(rooms, minlength=nodes))


def test_least_participants_policy() -> None:
    d = _dispatcher(4, "least_participants")
    for node, n in enumerate([5, 2, 2, 0]):
        for _ in range(n):
            assert d.pool.try_admit(node, 0.0) == OK
    d.pool.set_node_up(3, False)
    assert _place(d) == 1


@pytest.mark.parametrize("share", [1.0, 0.0])
def test_failure_create_share_extremes(share: float) -> None:
    d = _dispatcher(4)
    d.failure_create_share = share
    placed = [_place(d) for _ in range(500)]
    if share == 1.0:
        assert placed == [-1] * 500
        assert d.failed_creates == 500
        assert (d.pool.meetings == 0).all()
    else:
        assert -1 not in placed
        assert d.failed_creates == 0


def test_failure_create_share_partial() -> None:
    d = _dispatcher(4)
    d.failure_create_share = 0.3
    failed = sum(_place(d) == -1 for _ in range(4000))
    assert abs(failed / 4000 - 0.3) < 0.03
    assert d.failed_creates == failed


@pytest.mark.parametrize("share", [1.0, 0.0])
def test_failure_join_share_extremes(share: float) -> None:
    d = _dispatcher(2)
    d.failure_join_share = share
    routed = [d.route_join() for _ in range(300)]
    assert routed == [OK if share == 0.0 else DISPATCHER_FAILURE] * 300
    assert d.failed_joins == (300 if share == 1.0 else 0)


# ============================================================================ sim.model.engine


def test_call_urgent_runs_before_normal_at_same_time() -> None:
    env = simpy.Environment()
    order: list[tuple[float, str]] = []
    call_later(env, 5.0, lambda a: order.append((env.now, a)), "normal-1")
    call_urgent(env, 5.0, lambda a: order.append((env.now, a)), "urgent")
    call_later(env, 5.0, lambda a: order.append((env.now, a)), "normal-2")
    call_later(env, 4.0, lambda a: order.append((env.now, a)), "earlier")
    env.run()
    assert order == [(4.0, "earlier"), (5.0, "urgent"), (5.0, "normal-1"), (5.0, "normal-2")]


def test_call_later_negative_delay_runs_now() -> None:
    env = simpy.Environment()
    env.run(until=10.0)
    seen: list[float] = []
    call_later(env, -5.0, lambda _: seen.append(env.now))
    call_later(env, 0.0, lambda _: seen.append(env.now))
    env.run()
    assert seen == [10.0, 10.0]
    assert env.now == 10.0


def test_call_urgent_negative_delay_never_runs_time_backwards() -> None:
    env = simpy.Environment()
    env.run(until=10.0)
    seen: list[float] = []
    call_urgent(env, -5.0, lambda _: seen.append(env.now))
    env.run()
    assert seen == [10.0]


def test_call_later_passes_argument_and_chains() -> None:
    env = simpy.Environment()
    seen: list[tuple[float, int]] = []

    def tick(n: int) -> None:
        seen.append((env.now, n))
        if n < 3:
            call_later(env, 1.5, tick, n + 1)

    call_later(env, 1.0, tick, 0)
    env.run()
    assert seen == [(1.0, 0), (2.5, 1), (4.0, 2), (5.5, 3)]


@pytest.mark.parametrize(
    ("kind", "cv"), [("exponential", 1.0), ("gamma", 0.5), ("uniform", None),
                     ("deterministic", 0.0)],
)
def test_unit_draws(kind: str, cv: float | None) -> None:
    draws = UnitDraws(np.random.default_rng(0), kind, cv if cv is not None else 1.0, batch=1000)
    x = np.array([draws.next() for _ in range(20_000)])  # spans several refills
    if kind == "uniform":
        assert x.min() >= 0.0 and x.max() < 1.0
        assert abs(x.mean() - 0.5) < 0.01
        return
    assert abs(x.mean() - 1.0) < 0.03
    assert x.std() / x.mean() == pytest.approx(cv, abs=0.03)
    assert np.unique(x[:1000]).size == (1 if kind == "deterministic" else 1000)


def test_unit_draws_for_cv() -> None:
    rng = np.random.default_rng(0)
    assert UnitDraws.for_cv(rng, 0.0).next() == 1.0
    d = UnitDraws.for_cv(np.random.default_rng(1), 2.0)
    y = np.array([d.next() for _ in range(50_000)])
    assert y.std() / y.mean() == pytest.approx(2.0, rel=0.1)


def test_overlapping_outages_keep_the_service_down_until_both_end() -> None:
    env = simpy.Environment()
    q = _queue(env, workers=1, timeout_s=30.0)
    q.enable_outages()
    log = Log(env)
    seen: dict[str, float] = {}
    call_later(env, 4.0, lambda _: q.hold("crash", DOWN, until=20.0))
    call_later(env, 10.0, lambda _: q.hold("uplink", DOWN + 1, until=30.0))
    call_later(env, 15.0, lambda _: seen.update(at15=q.down_until))
    call_later(env, 20.0, lambda _: q.release("crash"))  # the uplink is still out
    _submit_at(env, q, 25.0, "G", 1.0, log)
    call_later(env, 30.0, lambda _: q.release("uplink"))
    _submit_at(env, q, 31.0, "H", 1.0, log)
    call_later(env, 40.0, lambda _: seen.update(at40=q.down_until))
    env.run()
    assert log.events == [(25.0, "G", False), (32.0, "H", True)]
    assert seen == {"at15": 30.0, "at40": 40.0}
    assert q.rejected_down == 1


def test_outage_of_unknown_end_has_no_down_until() -> None:
    env = simpy.Environment()
    q = _queue(env, workers=1, timeout_s=30.0)
    q.enable_outages()
    q.hold("a", DOWN, until=50.0)
    q.hold("b", DOWN)  # no known end
    assert q.down_until == float("inf")
    q.reject_down(0.0)
    assert q.arrivals == 1 and q.rejected_down == 1


def test_each_outcome_carries_its_cause() -> None:
    """A time-out is the queue's own cause; a request failed by a hold, queued or refused,
    is the hold's."""
    env = simpy.Environment()
    q = _queue(env, workers=1, timeout_s=5.0)
    q.enable_outages()
    log = Log(env)
    _submit_at(env, q, 0.0, "A", 10.0, log)  # served 0–10
    _submit_at(env, q, 1.0, "B", 10.0, log)  # times out at 6
    _submit_at(env, q, 20.0, "C", 10.0, log)  # in service when the hold begins at 25
    call_later(env, 25.0, lambda _: q.hold("uplink", DOWN))
    _submit_at(env, q, 26.0, "D", 10.0, log)  # refused at once
    env.run()
    assert log.outcomes == [("B", TIMED_OUT), ("A", OK), ("C", DOWN), ("D", DOWN)]


def test_overlapping_holds_charge_the_one_that_began_first() -> None:
    """Crash 4–20, uplink 10–30: refused at 12 → crash (it began first, though the uplink
    was put on last), at 25 → uplink (the crash is over); the settling view ahead of time
    (``cause_at``) says the same; holds that begin together go to the lower cause code."""
    env = simpy.Environment()
    q = _queue(env, workers=1, timeout_s=30.0)
    q.enable_outages()
    log = Log(env)
    crash, uplink = 5, 7
    call_later(env, 4.0, lambda _: q.hold("crash", crash, until=20.0))
    seen: dict[str, int] = {}

    def at10(_: Any) -> None:
        q.hold("uplink", uplink, until=30.0)
        seen.update(ahead12=q.cause_at(12.0), ahead25=q.cause_at(25.0))

    call_later(env, 10.0, at10)
    _submit_at(env, q, 12.0, "E", 1.0, log)
    call_later(env, 20.0, lambda _: q.release("crash"))
    _submit_at(env, q, 25.0, "F", 1.0, log)
    call_later(env, 30.0, lambda _: q.release("uplink"))
    env.run()
    assert log.outcomes == [("E", crash), ("F", uplink)]
    assert seen == {"ahead12": crash, "ahead25": uplink}
    # a tie: both begin at the same instant, in either order
    for first, second in ((uplink, crash), (crash, uplink)):
        env = simpy.Environment()
        q = _queue(env, workers=1)
        q.enable_outages()
        q.hold("a", first)
        q.hold("b", second)
        assert q.cause_at(env.now) == crash
        q.release("a")
        q.release("b")
        assert q.up and q.cause_at(env.now) == OK


def test_a_hold_needs_a_cause() -> None:
    env = simpy.Environment()
    q = _queue(env, workers=1)
    q.enable_outages()
    with pytest.raises(ValueError, match="cause"):
        q.hold("x", OK)
    with pytest.raises(ValueError, match="cause"):
        RequestQueue(env, "q", workers=1, timeout_s=1.0, timeout_cause=OK,
                     draws=UnitDraws(np.random.default_rng(0), "deterministic"))


# ============================================================================ media mix (CPU)


def _bbb(**kw: Any) -> ClusterConfig:
    base: dict[str, Any] = {"name": "c", "nodes": 1, "node_cpu": 1.0,
                            "node_max_participants": 100_000, "heterogeneity_cv": 0.0}
    base.update(kw)
    return ClusterConfig(**base)


# The CPU law's anchors (SOURCES A53): participants one reference server (BBB 2.2's minimum,
# 8 cores) holds, by room size, cameras on and screen-share probability. All on video: a 4-vCPU
# VM holds ≈ 20; 4 vCPUs are 2 physical cores with hyper-threading, so 8 cores hold 4 × 20.
CPU_ANCHORS = (  # (name, participants, rooms of, cameras per room, screen share)
    ("typical", 150.0, 25, 0.9 + 24 * 0.15, 0.5),
    ("cameras_off", 550.0, 25, 0.0, 0.0),
    ("all_video", 80.0, 20, 20.0, 0.0),
)


def _fit_cpu_law(anchors: tuple[tuple[str, float, int, float, float], ...]) -> tuple[float, float]:
    """Least squares of log CPU (a reference server full at each anchor) over ``anchors``."""
    from scipy.optimize import least_squares

    m = MediaConfig()
    p = np.array([a[1] for a in anchors])
    e = np.array([a[1] / a[2] * (w * (a[2] - 1) * m.webcam_mbit_s + a[2] * m.audio_mbit_s
                                 + s * (a[2] - 1) * m.screenshare_mbit_s)
                  for a in anchors for w, s in [(a[3], a[4])]])
    fit = least_squares(lambda x: np.log(np.exp(x[0]) * p + np.exp(x[1]) * e),
                        x0=[np.log(1e-3), np.log(1e-3)])
    return float(np.exp(fit.x[0])), float(np.exp(fit.x[1]))


def test_cpu_law_defaults_are_the_least_squares_fit_of_all_anchors() -> None:
    """The defaults are the fit of all three anchors (SOURCES A53, docs/model.md); its
    residuals and the held-out predictions are the ones the docs report."""
    a, c = _fit_cpu_law(CPU_ANCHORS)
    cfg = ClusterConfig(name="c", nodes=1)
    assert cfg.cpu_per_participant == pytest.approx(a, rel=1e-3)
    assert cfg.cpu_per_mbit_s == pytest.approx(c, rel=1e-3)
    m, node = MediaConfig(), _bbb()
    held = {n: participants_per_node(node, m, size, webcams=w, screenshare=s)
            for n, _, size, w, s in CPU_ANCHORS}
    assert held["typical"] == pytest.approx(181, abs=1)  # +20 % against ≈ 150
    assert held["cameras_off"] == pytest.approx(526, abs=1)  # −4 % against 550
    assert held["all_video"] == pytest.approx(69, abs=1)  # −13 % against 80
    # each anchor held out: the other two (an exact fit) predict it
    out = {}
    for i, (name, *_rest) in enumerate(CPU_ANCHORS):
        a2, c2 = _fit_cpu_law(CPU_ANCHORS[:i] + CPU_ANCHORS[i + 1:])
        fitted = _bbb(cpu_per_participant=a2, cpu_per_mbit_s=c2)
        _, _, size, w, s = CPU_ANCHORS[i]
        out[name] = participants_per_node(fitted, m, size, webcams=w, screenshare=s)
    assert out["typical"] == pytest.approx(203, abs=1)
    assert out["cameras_off"] == pytest.approx(234, abs=1)
    assert out["all_video"] == pytest.approx(54, abs=1)
    # a node twice the size holds twice as much; the participant ceiling caps it
    assert participants_per_node(_bbb(node_cpu=2.0), m, 25, 0) == pytest.approx(
        2 * participants_per_node(node, m, 25, 0))
    assert participants_per_node(_bbb(node_max_participants=300), m, 25, 0) == 300


def test_capacity_falls_with_cameras_and_their_bit_rate() -> None:
    m, c = MediaConfig(), _bbb()
    held = [participants_per_node(c, m, 25, webcams=w) for w in (0, 1, 5, 25)]
    assert held == sorted(held, reverse=True) and held[0] > 5 * held[-1]
    hd = MediaConfig(webcam_mbit_s=0.6)
    assert participants_per_node(c, hd, 25, 5) < participants_per_node(c, m, 25, 5)


def test_pool_refuses_by_cpu_only_with_refuse_overload() -> None:
    """The old rule, kept as an option: a join that adds a camera's egress is refused once
    the CPU is full, while audio-only joins still fit; a pool without node_cpu ignores CPU."""
    m, c = MediaConfig(), _bbb(refuse_overload=True)
    pool = NodePool([c], SeedTree(1))
    # fill to just under the CPU with audio-only participants
    n = 0
    while node_cpu_load(n + 1, (n + 1) * m.audio_mbit_s, c) <= 0.95:
        assert pool.try_admit(0, m.audio_mbit_s) == OK
        n += 1
    big_video = 0.06 / c.cpu_per_mbit_s  # 0.06 reference servers' worth of forwarding
    assert pool.try_admit(0, big_video) == CAPACITY
    assert pool.try_admit(0, m.audio_mbit_s) == OK
    assert pool.utilisation(0) == pytest.approx(float(pool.cpu[0]) / c.node_cpu)
    free = NodePool([_bbb(node_cpu=None)], SeedTree(1))
    for _ in range(n + 1):
        assert free.try_admit(0, m.audio_mbit_s) == OK
    assert free.try_admit(0, big_video) == OK
    assert np.isinf(free.cap_cpu).all()


def test_cluster_view_reports_cpu_only_with_a_cpu_limit() -> None:
    for nodes in (3, 10):  # the small-pool path and the numpy path
        pool = NodePool([_bbb(name="a", nodes=nodes), _bbb(name="b", nodes=nodes,
                                                            node_cpu=None)], SeedTree(1))
        pool.try_admit(0, 1.0)
        a, b = pool.cluster_view()
        assert a["capacity_cpu"] == pytest.approx(nodes * 1.0)
        assert a["cpu"] == pytest.approx(node_cpu_load(1, 1.0, _bbb()))
        assert "cpu" not in b and "capacity_cpu" not in b


def test_node_at_three_times_its_cpu_admits_and_counts_degraded_minutes() -> None:
    """Issue 24's acceptance test: joins that drive a node to 3 × its CPU are all admitted
    (no refusal, no blocking); the pupil-minutes while it is above 80 % of its CPU are counted
    exactly, and they stop when it drops back below."""
    c = _bbb(node_max_participants=100_000)

    class Clock:
        now = 0.0

    clock = Clock()
    pool = NodePool([c], SeedTree(1), env=clock)
    d = 0.5  # each pupil adds 0.5 Mbit/s of egress (a camera in a busy room)
    per = node_cpu_load(1, d, c)  # CPU per such pupil
    n3 = int(3.0 * c.node_cpu / per) + 1  # enough pupils for 3 × the node's CPU
    k = int(0.8 * c.node_cpu / per)  # the last pupil at or below 80 % of the CPU
    for _ in range(n3):
        clock.now += 1.0  # one pupil a second
        assert pool.try_admit(0, d, pupil=True) == OK
    assert pool.refused == 0 and pool.admitted == n3
    assert float(pool.cpu[0]) > 3.0 * c.node_cpu and pool.degraded(0)
    clock.now += 60.0  # a minute at 3 × its CPU
    pool.release(0, n3, n3 * d, pupils=n3)
    assert not pool.degraded(0)
    clock.now += 600.0  # nothing counts once empty
    deg = pool.degradation
    deg.flush()
    # pupil j (1-based) joined at t = j; the node is degraded from pupil k + 1 on, with j
    # pupils on it during [j, j + 1) and all n3 for the last 60 s
    expected = sum(range(k + 1, n3)) + n3 * 60.0
    assert deg.pupil_s[0] == pytest.approx(expected)
    assert deg.node_s[0] == pytest.approx(n3 - (k + 1) + 60.0)
    assert deg.pupil_meeting_s == pytest.approx(sum(range(1, n3)) + n3 * 60.0)
    view = pool.cluster_view()[0]
    assert view["degraded_pupil_minutes"] == pytest.approx(expected / 60.0)
    assert view["degraded_pupils"] == 0.0
    assert pool.cluster_view()[0]["degraded_pupil_minutes"] == 0.0  # per interval


def test_teachers_make_a_node_degraded_but_only_pupils_count() -> None:
    class Clock:
        now = 0.0

    clock = Clock()
    pool = NodePool([_cluster(node_max_participants=100)], SeedTree(1), env=clock)
    assert pool.try_admit(0, 0.5, pupil=True) == OK
    assert pool.try_admit(0, 0.7) == OK  # a teacher takes the node past its 1 Mbit/s
    assert pool.degraded(0)
    clock.now = 30.0
    pool.release(0, 1, 0.7)  # the teacher leaves: no longer degraded
    clock.now = 90.0
    pool.release(0, 1, 0.5, pupils=1)
    pool.degradation.flush()
    assert pool.degradation.pupil_s[0] == pytest.approx(30.0)  # the one pupil, 30 s
    assert pool.degradation.pupil_meeting_s == pytest.approx(90.0)


def test_degraded_node_loses_cpu_too() -> None:
    pool = NodePool([_bbb()], SeedTree(1))
    pool.set_capacity_factor(0, 0.5)
    assert pool.cap_cpu[0] == pytest.approx(0.5)
