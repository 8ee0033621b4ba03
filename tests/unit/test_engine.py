"""``sim.model.engine``: the SimPy internals the model relies on (pinned simpy range in
pyproject.toml): ``Environment._queue``/``_now``/``_eid``, events that ``Environment.step`` can
process without being ``simpy.Event`` instances, and the merged-stream run loop."""

from __future__ import annotations

from typing import Any

import numpy as np
import simpy

from sim.model.causes import OK
from sim.model.components.request_queue import RequestQueue
from sim.model.draws import UnitDraws
from sim.model.engine import (
    Engine,
    Outcome,
    call_at,
    call_later,
    call_urgent,
    deliver_later,
    events_processed,
    run_merged,
)


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
    fe = RequestQueue(env, "fe", workers=1, timeout_s=10.0, timeout_cause=1,
                      draws=UnitDraws(np.random.default_rng(1), "deterministic"))
    got: list[tuple[Any, int, float]] = []
    for token in ("x", "y"):
        fe.submit(token, 1.0, lambda tok, outcome: got.append((tok, outcome, env.now)))
    env.run()  # the generic Environment.step, not the model's run loop
    assert got == [("x", OK, 1.0), ("y", OK, 2.0)]


def test_engine_clock_is_simpys_clock() -> None:
    """``Engine.now`` is a plain attribute; SimPy's own step/schedule/timeouts read and set
    the same clock through ``_now``."""
    env = Engine(initial_time=5.0)
    assert env.now == 5.0
    seen: list[float] = []

    def proc() -> Any:
        yield env.timeout(2.5)
        seen.append(env.now)
        call_later(env, 1.0, lambda _: seen.append(env.now))

    env.process(proc())
    env.run()
    assert seen == [7.5, 8.5]
    assert env.now == 8.5
    env.now = 10.0  # the run loop sets the clock directly
    assert env.peek() == float("inf")
    env.timeout(1.0)
    assert env.peek() == 11.0


def test_run_merged_orders_stream_after_simpy_events_and_counts() -> None:
    env = Engine(initial_time=0.0)
    seen: list[tuple[str, Any, float]] = []
    call_urgent(env, 2.0, lambda a: seen.append(("urgent", a, env.now)), "u")
    call_at(env, 2.0, lambda a: seen.append(("call", a, env.now)), "c")
    fe = RequestQueue(env, "fe", workers=1, timeout_s=10.0, timeout_cause=1,
                      draws=UnitDraws(np.random.default_rng(1), "deterministic"))
    fe.submit("r", 1.5, lambda tok, outcome: seen.append(("outcome", tok, env.now)))
    # stream entries at 1.0, 2.0 (a tie with the SimPy events: they go first), 2.0, 9.0
    handlers = (lambda i: seen.append(("s0", i, env.now)),
                lambda i: seen.append(("s1", i, env.now)))
    handled = run_merged(env, [1.0, 2.0, 2.0, 9.0], [0, 1, 0, 1], [10, 11, 12, 13], handlers,
                         until=5.0)
    assert handled == 3  # the entry at 9.0 is after the end
    assert seen == [("s0", 10, 1.0), ("outcome", "r", 1.5), ("urgent", "u", 2.0),
                    ("call", "c", 2.0), ("s1", 11, 2.0), ("s0", 12, 2.0)]
    assert env.now == 5.0
    assert events_processed(env) == 3


def test_deliver_later_cancelled_outcome_is_a_no_op() -> None:
    env = Engine()
    got: list[Any] = []
    out = Outcome(lambda tok, outcome: got.append(tok), "x", OK)
    deliver_later(env, 1.0, out)
    out.cancelled = True
    run_merged(env, [], [], [], (), until=2.0)
    assert got == []
