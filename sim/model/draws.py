"""Random draws with mean 1 from a numpy stream, generated in batches (fast scalar access).

Service times, back-off jitter and partial-failure draws take one value at a time in the hot
paths; a batch of numpy draws turned into a list is much cheaper than a numpy call per value.
"""

from __future__ import annotations

import numpy as np


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
