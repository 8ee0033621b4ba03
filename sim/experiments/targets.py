"""Service targets: ``KPI>=value`` or ``KPI<=value``, the bound of an interval that must
meet one, and the Erlang-B blocking probability a target is equivalent to.

Targets and their blocking equivalents: ``blocking_probability<=B`` → ``B``;
``join_success_rate>=p`` → ``1 − p``; ``pQ_time_to_join_s<=T`` → ``1 − Q/100`` (a join that
succeeds at the first attempt takes about no time, so Q % must not be refused). Sizing
(:mod:`sim.experiments.sizing`) and ``dlsim optimise`` (:mod:`sim.decide.optimise`) both
judge their candidates against these.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sim.config import ConfigError
from sim.config.override_errors import did_you_mean
from sim.model.metrics import KPI_NAMES
from sim.runs.stats import Interval, is_share

_TARGET = re.compile(r"^\s*([a-z0-9_]+)\s*(>=|<=)\s*([-+0-9.eE]+)\s*(%?)\s*$")
_PCT = re.compile(r"^p(\d+)_time_to_join_s$")


def unknown_kpi(name: str) -> str:
    """"unknown KPI 'x'; did you mean 'y'? (known: …)": the words for a misspelt KPI name
    (``--target``, ``--kpi``)."""
    return f"unknown KPI {name!r}{did_you_mean(name, KPI_NAMES)} (known: {', '.join(KPI_NAMES)})"


@dataclass(frozen=True)
class Target:
    """A service target such as ``join_success_rate>=0.99``."""

    kpi: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str) -> Target:
        """Parse ``KPI>=value`` or ``KPI<=value`` (:class:`ConfigError` if malformed).

        A share (``join_success_rate``, ``blocking_probability``, …) is a fraction of 1;
        written as a percentage (``join_success_rate>=99%``) it is read as 0.99, and a share
        above 1 without the ``%`` is refused saying so."""
        m = _TARGET.match(text)
        if not m:
            raise ConfigError([f"--target {text}: expected KPI>=value or KPI<=value"])
        kpi, op, raw, pct = m.groups()
        if kpi not in KPI_NAMES:
            raise ConfigError([f"--target {text}: {unknown_kpi(kpi)}"])
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError([f"--target {text}: {raw!r} is not a number"]) from None
        if not math.isfinite(value):
            raise ConfigError([f"--target {text}: the value must be finite"])
        # a value no run can have: the target is always met or never (hours of runs for an
        # answer known before the first)
        if value < 0:
            raise ConfigError([f"--target {text}: {kpi} is never negative (got {value:g})"])
        if pct and not is_share(kpi):
            raise ConfigError([f"--target {text}: {kpi} is not a share; give it without %"])
        if pct:
            value /= 100.0
        if is_share(kpi) and not 0.0 <= value <= 1.0:
            raise ConfigError([f"--target {text}: {kpi} is a share, a fraction of 1 "
                               f"(write {value / 100:g} or {value:g}%)"
                               if 1.0 < value <= 100.0 and not pct else
                               f"--target {text}: {kpi} is a share: between 0 and 1 (0 % and "
                               "100 %)"])
        return cls(kpi, op, value)

    def bound(self, mean: float, half: float) -> float:
        """The CI bound that must meet the target (lower for ``>=``, upper for ``<=``)."""
        return mean - half if self.op == ">=" else mean + half

    def met(self, mean: float, half: float) -> bool:
        return self._meets(self.bound(mean, half))

    def interval_bound(self, iv: Interval) -> float:
        """The end of ``iv`` that must meet the target (``lo`` for ``>=``, ``hi`` for ``<=``)."""
        return iv.lo if self.op == ">=" else iv.hi

    def met_by(self, iv: Interval) -> bool:
        """Does the interval's relevant end meet the target?"""
        return self._meets(self.interval_bound(iv))

    def _meets(self, b: float) -> bool:
        if not math.isfinite(b):
            return False
        return b >= self.value if self.op == ">=" else b <= self.value

    def blocking(self) -> float | None:
        """The Erlang-B blocking target equivalent to this target (None if there is none)."""
        if self.kpi == "blocking_probability" and self.op == "<=":
            return self.value
        if self.kpi == "join_success_rate" and self.op == ">=":
            return 1.0 - self.value
        m = _PCT.match(self.kpi)
        if m and self.op == "<=":
            return 1.0 - int(m[1]) / 100.0
        return None

    def __str__(self) -> str:
        return f"{self.kpi}{self.op}{self.value:g}"
