"""The dispatcher as Scalelite ran it in January 2021 (``dispatcher.mode: scalelite_poll``):
the 08:00 herd between polls, the lag before a lost node is taken offline, and the load
multiplier on nodes of different sizes — each against the live-count dispatcher or without
the multiplier, on common random numbers (the same creates, ends and node sizes)."""

from __future__ import annotations

from typing import Any

import numpy as np
import simpy

from sim.config import ClusterConfig, DispatcherConfig
from sim.model.causes import CAPACITY, NODE_LOSS, NODE_UNSEEN, OK
from sim.model.components.conference import NodePool
from sim.model.components.dispatcher import Dispatcher
from sim.model.draws import UnitDraws
from sim.model.engine import call_at
from sim.model.seeds import SeedTree


def _setup(nodes: int, cv: float = 0.0, cap: int = 10_000,
           **disp: Any) -> tuple[simpy.Environment, Dispatcher]:
    env = simpy.Environment()
    cluster = ClusterConfig(name="c", nodes=nodes, node_max_participants=cap,
                            node_capacity_mbit_s=1e9, heterogeneity_cv=cv)
    pool = NodePool([cluster], SeedTree(7))
    d = Dispatcher(pool, DispatcherConfig(**disp), UnitDraws(np.random.default_rng(9),
                                                             "uniform"), env)
    return env, d


def _herd_spread(mode: str) -> int:
    """Meetings per node (max − min) right after a burst of creates at 08:00 (t = 3600 s),
    while the first lesson's meetings end around it (a common stream for both modes)."""
    env, d = _setup(20, mode=mode, load_multiplier="none")
    rng = np.random.default_rng(2021)
    first = np.sort(rng.uniform(0.0, 600.0, 300))  # the first lesson's rooms, 07:00–07:10
    ends = rng.uniform(3570.0, 3630.0, 300)  # … end around 08:00
    burst = np.sort(rng.uniform(3605.0, 3640.0, 300))  # the 08:00 creates

    def create(i: int) -> None:
        node, outcome = d.place()
        assert outcome == OK
        if i < len(ends):
            call_at(env, float(ends[i]), d.close, node)

    for i, t in enumerate(first):
        call_at(env, float(t), create, i)
    for t in burst:
        call_at(env, float(t), create, 10**9)
    env.run(until=3641.0)
    m = d.pool.meetings
    assert int(m.sum()) == 300  # every first-lesson room ended, every 08:00 room placed
    return int(m.max() - m.min())


def test_the_0800_herd_is_wider_with_a_60_s_poll_than_with_live_counts() -> None:
    live = _herd_spread("live")
    polled = _herd_spread("scalelite_poll")
    assert live <= 2  # live counts keep the nodes level
    assert polled >= live + 4  # the poll's view piles the burst onto some nodes


def _lost_node_run(failed_polls: int) -> list[tuple[float, int, int]]:
    """One create a second for 420 s on 10 nodes; node 3 lost at 125 s, back at 300 s.
    Returns (time, node, outcome) of every create."""
    env, d = _setup(10, poll_interval_s=60.0, failed_polls_offline=failed_polls)
    log: list[tuple[float, int, int]] = []

    def create(_: Any) -> None:
        node, outcome = d.place()
        log.append((env.now, node, outcome))

    for k in range(420):
        call_at(env, k + 0.5, create)
    call_at(env, 125.0, lambda _: d.pool.set_node_up(3, False))
    call_at(env, 300.0, lambda _: d.pool.set_node_up(3, True))
    env.run(until=421.0)
    return log


def test_a_lost_node_gets_rooms_until_its_second_failed_poll_never_after() -> None:
    log = _lost_node_run(2)
    unseen = [t for t, _, o in log if o == NODE_UNSEEN]
    # polls at 60, 120, 180, 240 …: the node fails the polls at 180 and 240, offline at 240
    assert unseen and min(unseen) > 125.0
    assert max(unseen) > 180.0  # still placed on after its first failed poll
    assert max(unseen) < 240.0  # never after the second
    assert not [t for t, _, o in log if o not in (OK, NODE_UNSEEN)]
    # back up at 300: new rooms reach it only after the next poll answers (360)
    back = [t for t, n, o in log if n == 3 and o == OK and t > 125.0]
    assert back and min(back) > 360.0
    # one failed poll is enough with failed_polls_offline = 1: no room after 180
    assert max(t for t, _, o in _lost_node_run(1) if o == NODE_UNSEEN) < 180.0


def test_a_live_dispatcher_sees_a_lost_node_at_once() -> None:
    _, d = _setup(4, mode="live")
    d.pool.set_node_up(2, False)
    assert all(d.place()[0] != 2 for _ in range(12))
    for n in range(4):
        d.pool.set_node_up(n, False)
    assert d.place() == (-1, NODE_LOSS)


def test_no_node_online_in_the_polled_view_is_node_loss() -> None:
    env, d = _setup(3)
    for n in range(3):
        d.pool.set_node_up(n, False)
    assert [d.place()[1] for _ in range(3)] == [NODE_UNSEEN] * 3  # not yet noticed
    env.run(until=121.0)  # two failed polls
    assert d.place() == (-1, NODE_LOSS)


def _utilisation_after_placing(load_multiplier: str) -> tuple[np.ndarray, int]:
    """70 meetings of 25 on 10 nodes of different sizes (CV 25 %, ≈ 200 participants each);
    returns each node's utilisation and the joins refused for capacity."""
    _, d = _setup(10, cv=0.25, cap=200, load_multiplier=load_multiplier)
    pool = d.pool
    refused = 0
    for _ in range(70):
        node, outcome = d.place()
        assert outcome == OK
        for _ in range(25):
            refused += pool.try_admit(node, 0.0) == CAPACITY
    util = pool.participants / pool.cap_participants
    return util, refused


def test_the_load_multiplier_keeps_utilisations_of_unequal_nodes_close() -> None:
    with_mult, refused_with = _utilisation_after_placing("by_size")
    without, refused_without = _utilisation_after_placing("none")
    # the cluster is at ≈ 75 % (1,750 of ≈ 2,400 places)
    assert 0.7 < with_mult.mean() < 0.95
    assert refused_with == 0 and with_mult.max() - with_mult.min() < 0.3
    # equal meetings on unequal nodes: the smallest is full while the cluster is not
    assert without.max() >= 1.0 and refused_without > 0
    assert without.max() - without.min() > 2 * (with_mult.max() - with_mult.min())
