"""Counted reconnects: drawn at the end of the run for every session that ended, as a Poisson
process at ``reconnect_per_h`` over each session less its last minute, recorded as a drop, a
join attempt and a join at a uniform time within the session."""

from __future__ import annotations

import math

import numpy as np

from sim.model.recorder import Code
from sim.model.simulation import Simulation, build
from tests.conftest import small_scenario

# no faults: no school server can go down, so every reconnect is counted, none simulated
NO_FAULTS = ["faults=[]"]


def _run(rate: float, seed: int = 5) -> tuple[Simulation, list[tuple[list[float], float]]]:
    sc = small_scenario(0.01, [*NO_FAULTS, f"behaviour.reconnect_per_h={rate}"])
    model = build(sc, seed)
    ended: list[tuple[list[float], float]] = []
    sessions = model.behaviour.sessions
    inner = sessions.ended

    def spy(platform: int, starts: list[float], now: float) -> None:
        if starts:
            ended.append((list(starts), now))
        inner(platform, starts, now)

    sessions.ended = spy  # type: ignore[method-assign]
    model.run()
    return model, ended


def test_counted_reconnects_follow_the_poisson_expectation() -> None:
    rate = 3.0
    model, ended = _run(rate)
    beh = model.behaviour
    # the expectation from the sessions that ended, computed here independently
    expected = rate / 3600.0 * sum(max(now - s - 60.0, 0.0) for starts, now in ended
                                   for s in starts)
    assert expected > 200
    assert abs(beh.reconnects_expected - expected) < 1e-6 * expected
    # Poisson: within 4 standard deviations
    assert abs(beh.reconnects_counted - expected) < 4.0 * math.sqrt(expected)
    res = model.result
    assert res.extra["dropped_and_rejoined"] == beh.reconnects_counted  # none simulated


def test_counted_reconnects_lie_within_their_sessions() -> None:
    model, ended = _run(3.0)
    drops = np.sort(model.recorder.times(Code.DROP))
    assert drops.size == model.behaviour.reconnects_counted > 0
    lo = min(s for starts, _ in ended for s in starts)
    hi = max(now for _, now in ended)
    assert drops[0] >= lo and drops[-1] <= hi - 60.0
    # every drop falls inside at least one ended session (start, end − 60 s)
    spans = sorted((s, now - 60.0) for starts, now in ended for s in starts if now - s > 60.0)
    starts = np.array([a for a, _ in spans])
    reach = np.maximum.accumulate(np.array([b for _, b in spans]))
    k = np.searchsorted(starts, drops, side="right") - 1
    assert (k >= 0).all() and (drops <= reach[k]).all()
    # and each is a join attempt and a join as well
    assert model.recorder.count(Code.ATTEMPT) >= drops.size
    assert model.recorder.count(Code.JOIN_OK) >= drops.size


def test_no_reconnects_at_rate_zero_and_the_draw_is_done_once() -> None:
    model, ended = _run(0.0)
    assert ended  # sessions ended, nothing drawn
    assert model.behaviour.reconnects_counted == 0 and model.recorder.count(Code.DROP) == 0
    model2, _ = _run(3.0)
    n = model2.recorder.count(Code.DROP)
    model2.behaviour.count_reconnects()  # nothing left to draw: no double counting
    assert model2.recorder.count(Code.DROP) == n
