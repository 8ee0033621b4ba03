"""The SimPy internals the model relies on (pinned simpy range in pyproject.toml):
``Environment._queue``/``_now``/``_eid``, and events that ``Environment.step`` can process
without being ``simpy.Event`` instances."""

from __future__ import annotations

from typing import Any

import simpy

from sim.components.request_queue import RequestQueue
from sim.events import UnitDraws, call_later, call_urgent


def test_call_later_orders_like_schedule() -> None:
    env = simpy.Environment()
    seen: list[Any] = []
    call_later(env, 2.0, seen.append, "b")
    call_later(env, 1.0, seen.append, "a")
    call_later(env, 2.0, seen.append, "c")  # same time: scheduling order
    call_urgent(env, 2.0, seen.append, "urgent")  # same time: before NORMAL events
    call_later(env, -1.0, seen.append, "now")  # negative delays mean now
    env.run()
    assert seen == ["now", "a", "urgent", "b", "c"]
    assert env.now == 2.0


def test_request_outcome_is_an_event_step_can_process() -> None:
    import numpy as np

    env = simpy.Environment()
    fe = RequestQueue(env, "fe", workers=1, timeout_s=10.0,
                      draws=UnitDraws(np.random.default_rng(1), "deterministic"))
    got: list[tuple[Any, bool, float]] = []
    for token in ("x", "y"):
        fe.submit(token, 1.0, lambda tok, ok: got.append((tok, ok, env.now)))
    env.run()  # the generic Environment.step, not the model's run loop
    assert got == [("x", True, 1.0), ("y", True, 2.0)]
