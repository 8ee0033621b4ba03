"""The engine: the only module that touches SimPy's internals.

Everything else schedules through these functions and reads the clock as ``env.now``.

- :class:`Engine` — a ``simpy.Environment`` whose clock ``now`` is a plain attribute (the
  model reads it in every callback; SimPy's own ``now`` is a property over ``_now``).
- :func:`call_later`, :func:`call_at`, :func:`call_urgent` — a callback at a time: one small
  scheduled object (:class:`Call`), no ``simpy.Timeout``, no process. URGENT callbacks (the
  per-interval sampler, faults switching) run before NORMAL events of the same instant, so
  the sampler sees the state *before* anything else happens then.
- :class:`Outcome` and :func:`deliver_later` — a request's outcome scheduled as an event of
  its own (the front ends' completions and time-outs).
- :func:`run_merged` — ``Environment.run`` that also feeds a pre-determined, time-sorted
  stream of entries (first attempts, room opens and closes, logins) to their handlers, with
  the clock set to each entry's time; ties go to SimPy events first.

SimPy internals used: ``Environment._queue`` (the heap of ``(time, priority, id, event)``),
``_now`` (the clock) and ``_eid`` (the id counter), and that ``Environment.step`` processes
any object with ``callbacks`` and ``_ok``. Pinned to simpy 4.1.x in pyproject.toml and
covered by tests/unit/test_engine.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from itertools import islice
from typing import Any

import simpy
from simpy.events import NORMAL, URGENT

OnDone = Callable[[Any, int], None]


class Engine(simpy.Environment):
    """A SimPy environment whose clock ``now`` is a plain attribute (fast to read and set).

    SimPy reads and writes its clock as ``_now``; here that is a property over ``now``, so
    SimPy's own ``step``/``schedule``/``run`` keep working unchanged.
    """

    now = 0.0  # shadows Environment.now (a property): the instance attribute is the clock

    def __init__(self, initial_time: float = 0.0):
        super().__init__(initial_time)
        self.event_budget: int | None = None
        self.eid_end = 0

    def limit_events(self, n: int) -> None:
        """Schedule at most ``n`` more events: the id counter ends there (a C iterator, so
        the loop pays nothing per event), and :func:`run_merged` raises
        :class:`EventBudgetExceeded` when something asks for one more."""
        self.event_budget = max(0, n)
        # the next id, read without drawing one (drawing would shift every later id)
        self.eid_end = int(repr(self._eid)[len("count("):-1]) + self.event_budget
        self._eid = islice(self._eid, self.event_budget)  # type: ignore[assignment]

    def budget_spent(self) -> bool:
        return self.event_budget is not None and next(self._eid, None) is None

    @property
    def _now(self) -> float:
        return self.now

    @_now.setter
    def _now(self, t: float) -> None:
        self.now = t


class EventBudgetExceeded(Exception):
    """The run asked for more events than :meth:`Engine.limit_events` allowed."""

    def __init__(self, now: float):
        super().__init__(f"event budget exceeded at t={now:.0f} s")
        self.now = now


class Call:
    """A scheduled callback: the smallest object SimPy's ``Environment.step`` can process.

    ``step`` pops ``(time, priority, id, event)``, swaps ``event.callbacks`` for None, calls
    each callback with the event and checks ``event._ok``. A full ``simpy.Timeout`` costs an
    ``Event.__init__`` and a closure per call; this costs one small object.
    """

    __slots__ = ("_arg", "_fn", "_ok", "callbacks")

    def __init__(self, fn: Callable[[Any], None], arg: Any):
        self._fn = fn
        self._arg = arg
        self._ok = True
        self.callbacks = _FIRE


def _fire(ev: Call) -> None:
    ev._fn(ev._arg)


_FIRE = [_fire]  # shared: step() only reads the list it swaps out


class Outcome:
    """One request's outcome, scheduled as an event of its own (cheaper than a closure or a
    wrapper per request): ``fn(token, cause)`` at delivery unless ``cancelled``; ``cause``
    is the owner's outcome code (a request queue's: 0 served, else the failure's cause code).
    ``start`` and ``done`` are the owner's bookkeeping (when the request started and ends)."""

    __slots__ = ("_ok", "callbacks", "cancelled", "cause", "done", "fn", "start", "token")

    def __init__(self, fn: OnDone, token: Any, cause: int):
        self.fn = fn
        self.token = token
        self.cause = cause
        self.cancelled = False
        self.start = 0.0
        self.done = 0.0
        self._ok = True
        self.callbacks = _DELIVER

    def deliver(self) -> None:
        if not self.cancelled:
            self.fn(self.token, self.cause)


def _deliver(ev: Outcome) -> None:
    ev.deliver()


_DELIVER = [_deliver]  # shared: step() only reads the list it swaps out


def call_later(
    env: simpy.Environment, delay: float, fn: Callable[[Any], None], arg: Any = None
) -> None:
    """Call ``fn(arg)`` after ``delay`` simulated seconds (one SimPy event, no process)."""
    # what Environment.schedule does, without its call (≈1.2 M times a day at full scale)
    queue: list[Any] = env._queue
    heappush(queue, (env._now + (delay if delay > 0.0 else 0.0), NORMAL, next(env._eid),
                     Call(fn, arg)))


def call_at(
    env: simpy.Environment, t: float, fn: Callable[[Any], None], arg: Any = None
) -> None:
    """Call ``fn(arg)`` at simulated time ``t`` (now if ``t`` has passed): exactly at ``t``,
    where ``call_later(env, t - now, …)`` may round to a neighbouring float."""
    queue: list[Any] = env._queue
    now = env._now
    heappush(queue, (t if t > now else now, NORMAL, next(env._eid), Call(fn, arg)))


def call_urgent(
    env: simpy.Environment, delay: float, fn: Callable[[Any], None], arg: Any = None
) -> None:
    """Call ``fn(arg)`` after ``delay``, before NORMAL events of that instant."""
    env.schedule(Call(fn, arg), URGENT, delay if delay > 0.0 else 0.0)  # type: ignore[arg-type]


def deliver_later(env: simpy.Environment, delay: float, out: Outcome) -> None:
    """Deliver ``out`` after ``delay`` (now if negative): the outcome is itself the event."""
    queue: list[Any] = env._queue
    heappush(queue, (env._now + (delay if delay > 0.0 else 0.0), NORMAL, next(env._eid), out))


def events_processed(env: simpy.Environment) -> int:
    """SimPy events processed so far on ``env``: ids drawn minus events still pending. Call
    it once, after the run (it draws an id itself)."""
    drawn = next(env._eid, None)
    if drawn is None:  # an event budget used to the last id
        drawn = env.eid_end if isinstance(env, Engine) else 0
    return drawn - len(env._queue)


Handler = Callable[[int], None]


def run_merged(
    env: Engine,
    times: Sequence[float],
    kinds: Sequence[int],
    items: Sequence[int],
    handlers: Sequence[Handler],
    until: float,
) -> int:
    """Run ``env`` up to ``until``, merging in a pre-determined stream in time order.

    Entry ``i`` of the stream is ``handlers[kinds[i]](items[i])`` at ``times[i]`` (sorted).
    Stream entries are not SimPy events: between two SimPy events, every entry that is due
    is handled directly, the clock set to its time. Ties go to SimPy events first, so the
    URGENT per-minute sampler sees the state before that instant. This is
    ``Environment.run`` plus one comparison per step; the model's own scheduled objects
    (:class:`Call`, :class:`Outcome`) are dispatched without ``Environment.step``'s generic
    event handling. Returns the number of stream entries handled (those due by ``until``).
    An event budget (:meth:`Engine.limit_events`) spent: :class:`EventBudgetExceeded`.
    """
    n = len(times)
    queue: list[Any] = env._queue
    step = env.step
    pop = heappop
    call = Call
    outcome = Outcome
    i = 0
    inf = float("inf")
    try:
        while True:
            t_sim = queue[0][0] if queue else inf
            if i < n and times[i] < t_sim:
                t = times[i]
                if t > until:
                    n = i
                    continue
                env.now = t
                handlers[kinds[i]](items[i])
                i += 1
            elif t_sim > until:
                break
            else:
                cls = type(queue[0][3])
                if cls is call:
                    env.now, _, _, ev = pop(queue)
                    ev._fn(ev._arg)
                elif cls is outcome:
                    env.now, _, _, out = pop(queue)
                    if not out.cancelled:
                        out.fn(out.token, out.cause)
                else:
                    step()
    except (StopIteration, RuntimeError):  # the id counter ran out (in a process: RuntimeError)
        if isinstance(env, Engine) and env.budget_spent():
            raise EventBudgetExceeded(env.now) from None
        raise
    env.now = until
    return i
