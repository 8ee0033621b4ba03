"""Small helpers over SimPy's environment: callbacks at a time, batched random draws.

The model avoids a generator process per pupil (see PERFORMANCE-NOTES.md): a scheduled action
is one SimPy ``Timeout`` whose callback does the work. The per-minute sampler uses an URGENT
event so it sees the state *before* anything else that happens at that instant.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT


class _Call:
    """A scheduled callback: the smallest object SimPy's ``Environment.step`` can process.

    ``step`` pops ``(time, priority, id, event)``, swaps ``event.callbacks`` for None, calls
    each callback with the event and checks ``event._ok``. A full ``simpy.Timeout`` costs an
    ``Event.__init__`` and a closure per call; this costs one small object. Tested against
    the pinned SimPy range in tests/unit/test_events.py.
    """

    __slots__ = ("_arg", "_fn", "_ok", "callbacks")

    def __init__(self, fn: Callable[[Any], None], arg: Any):
        self._fn = fn
        self._arg = arg
        self._ok = True
        self.callbacks = _FIRE


def _fire(ev: _Call) -> None:
    ev._fn(ev._arg)


_FIRE = [_fire]  # shared: step() only reads the list it swaps out


def call_later(
    env: simpy.Environment, delay: float, fn: Callable[[Any], None], arg: Any = None
) -> None:
    """Call ``fn(arg)`` after ``delay`` simulated seconds (one SimPy event, no process)."""
    # what Environment.schedule does, without its call (≈1.2 M times a day at full scale)
    queue: list[Any] = env._queue
    heappush(queue, (env._now + (delay if delay > 0.0 else 0.0), NORMAL, next(env._eid),
                     _Call(fn, arg)))


def call_at(
    env: simpy.Environment, t: float, fn: Callable[[Any], None], arg: Any = None
) -> None:
    """Call ``fn(arg)`` at simulated time ``t`` (now if ``t`` has passed): exactly at ``t``,
    where ``call_later(env, t - now, …)`` may round to a neighbouring float."""
    queue: list[Any] = env._queue
    now = env._now
    heappush(queue, (t if t > now else now, NORMAL, next(env._eid), _Call(fn, arg)))


def call_urgent(
    env: simpy.Environment, delay: float, fn: Callable[[Any], None], arg: Any = None
) -> None:
    """Call ``fn(arg)`` after ``delay``, before NORMAL events of that instant."""
    env.schedule(_Call(fn, arg), URGENT, delay if delay > 0.0 else 0.0)  # type: ignore[arg-type]


class UnitDraws:
    """Random draws with mean 1 from a numpy stream, generated in batches (fast scalar access).

    ``kind``: "exponential", "deterministic", "gamma" (with ``cv``) or "uniform" (in [0, 1)).
    """

    __slots__ = ("_buf", "_cv", "_i", "_kind", "_rng", "_size")

    def __init__(
        self,
        rng: np.random.Generator,
        kind: str = "exponential",
        cv: float = 1.0,
        batch: int = 16384,
    ):
        self._rng = rng
        self._kind = kind
        self._cv = cv
        self._size = batch
        self._buf: list[float] = []
        self._i = 0

    @classmethod
    def for_cv(cls, rng: np.random.Generator, cv: float) -> UnitDraws:
        """Unit-mean service-time draws with coefficient of variation ``cv``."""
        if cv == 0.0:
            return cls(rng, "deterministic")
        if abs(cv - 1.0) < 1e-12:
            return cls(rng, "exponential")
        return cls(rng, "gamma", cv)

    def _refill(self) -> None:
        if self._kind == "exponential":
            arr = self._rng.standard_exponential(self._size)
        elif self._kind == "gamma":
            shape = 1.0 / (self._cv * self._cv)
            arr = self._rng.gamma(shape, 1.0 / shape, self._size)
        elif self._kind == "uniform":
            arr = self._rng.random(self._size)
        else:
            arr = np.ones(self._size)
        self._buf = arr.tolist()
        self._i = 0

    def next(self) -> float:
        if self._i >= len(self._buf):
            self._refill()
        v = self._buf[self._i]
        self._i += 1
        return v

    def peek(self, n: int) -> np.ndarray:
        """The next ``n`` draws, without consuming them (same values ``next`` would give)."""
        while len(self._buf) - self._i < n:
            rest = self._buf[self._i :]
            self._refill()  # the stream is consumed in the same batches as by ``next``
            self._buf = rest + self._buf
        return np.array(self._buf[self._i : self._i + n], dtype=np.float64)

    def skip(self, n: int) -> None:
        """Consume ``n`` draws already looked at with :meth:`peek`."""
        self._i += n
