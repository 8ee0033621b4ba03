"""Calibration targets: the figures reported in January 2021, each with its day, its source,
an error model of the report itself and a held-out flag.

```yaml
name: jan-2021
targets:
  - name: wed_iserv_affected
    day: ../../configs/2021-01-13-wednesday-stable.yaml   # a scenario, relative to this file
    statistic: iserv_affected_schools_share               # a name of STATISTICS
    observed: 0.025
    interval: [0.02, 0.03]       # "2–3 %"   — or  relative: 0.1 ("≈")  — or  bound: {gt: x}
    source: S60
    grade: M
    held_out: false              # true: never used to fit, only to check
```

Statistics (:data:`STATISTICS`) are computed from a run and are valid at the calibration
scale: shares, ratios and per-pupil rates, which a faithful miniature (``population.scale``
< 1) keeps, never totals.

**The distance rule** (:func:`error`, :func:`distance`). Each error model is a set of values
the report allows and a width:

- ``interval: [lo, hi]`` — the set ``[lo, hi]``, width half its length;
- ``relative: r`` — the set ``observed ± r·|observed|``, width ``r·|observed|``;
- ``bound: {gt: x}`` (or ``lt``) — the half-line beyond ``x``, width ``scale`` (default
  :data:`BOUND_SCALE` × ``|x|``, SOURCES A144).

A simulated value's *error* is its distance from that set in widths (0 inside). The distance
of simulated statistics from the targets is the root of the sum of squared errors over the
targets used (held-out ones excluded unless asked); a statistic missing or not finite makes
it infinite. A value is *covered* when it lies in the set (error 0).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.config import ConfigError, load_scenario, load_yaml_text, read_config_file
from sim.config.error_lines import format_loc
from sim.model.messages import N_
from sim.model.simulation import RunResult

BOUND_SCALE = 0.1
"""Width of a one-sided bound's error, as a share of the bound (SOURCES A144)."""

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TARGETS = REPO / "data" / "targets" / "jan-2021.yaml"
SOURCE_ID = re.compile(r"^[SA][1-9][0-9]*$")


# ----------------------------------------------------------------------------- statistics
def _iserv_pupils(r: RunResult) -> float:
    s = r.schools
    return float(s.pupils[s.platform == "iserv"].sum())


def _per_iserv_pupil(value: float, r: RunResult) -> float:
    n = _iserv_pupils(r)
    return value / n if n > 0 else math.nan


def _iserv_joins(r: RunResult) -> float:
    return float(r.extra["joins_per_platform"].get("iserv", 0)
                 + r.extra["host_joins_per_platform"].get("iserv", 0))


def _peak_cpu_utilisation(r: RunResult, cluster: str = "iserv-bbb") -> float:
    ts = r.timeseries
    sel = ts[ts.component == f"cluster:{cluster}"]
    cpu = sel[sel.metric == "cpu"].set_index("t")["value"]
    cap = sel[sel.metric == "capacity_cpu"].set_index("t")["value"]
    ratio = (cpu / cap.replace(0.0, np.nan)).dropna()
    return float(ratio.max()) if len(ratio) else math.nan


def _lost_share_outdated(r: RunResult) -> float:
    s = r.schools
    total = float(s.lost_pupil_minutes.sum())
    return float(s.lost_pupil_minutes[s.server == "outdated"].sum()) / total if total else 0.0


@dataclass(frozen=True)
class Statistic:
    """A figure computed from one run, valid at any population scale."""

    name: str
    kind: Literal["share", "ratio", "per pupil"]
    description: str
    compute: Callable[[RunResult], float]


STATISTICS: dict[str, Statistic] = {s.name: s for s in (
    Statistic("iserv_peak_participants_per_pupil", "per pupil",
              N_("IServ's peak concurrent conference participants per IServ pupil"),
              lambda r: _per_iserv_pupil(
                  float(r.extra["peak_participants_per_platform"].get("iserv", 0)), r)),
    Statistic("iserv_joins_per_pupil", "per pupil",
              N_("IServ conference joins (pupils and teachers) per IServ pupil"),
              lambda r: _per_iserv_pupil(_iserv_joins(r), r)),
    Statistic("iserv_conference_hours_per_pupil", "per pupil",
              N_("IServ conference hours per IServ pupil"),
              lambda r: _per_iserv_pupil(
                  float(r.extra["conference_hours_per_platform"].get("iserv", 0.0)), r)),
    Statistic("iserv_minutes_per_join", "ratio",
              N_("IServ conference minutes per join"),
              lambda r: 60.0 * float(r.extra["conference_hours_per_platform"].get("iserv", 0.0))
              / _iserv_joins(r) if _iserv_joins(r) else math.nan),
    Statistic("iserv_affected_schools_share", "share",
              N_("share of IServ schools where > 10 % of pupils lost > 15 minutes"),
              lambda r: float(r.extra["affected_schools_share_per_platform"].get("iserv",
                                                                                 math.nan))),
    Statistic("iserv_peak_cpu_utilisation", "share",
              N_("IServ conference cluster: CPU used ÷ CPU of the nodes up, at the busiest minute"),
              _peak_cpu_utilisation),
    Statistic("affected_schools_share", "share",
              N_("share of all schools where > 10 % of pupils lost > 15 minutes"),
              lambda r: float(r.kpis["affected_schools_share"])),
    Statistic("join_success_rate", "share", N_("share of intending pupil-meetings that got in"),
              lambda r: float(r.kpis["join_success_rate"])),
    Statistic("degraded_share", "share", N_("share of pupil-minutes on a degraded node"),
              lambda r: float(r.kpis["degraded_share"])),
    Statistic("lost_minutes_per_pupil", "per pupil", N_("lost pupil-minutes per pupil"),
              lambda r: float(r.kpis["lost_pupil_minutes"]) / max(1, int(r.extra["pupils"]))),
    Statistic("lost_share_outdated", "share",
              N_("share of the lost pupil-minutes at schools with an outdated own server"),
              _lost_share_outdated),
    Statistic("server_crashes_per_outdated_server", "ratio",
              N_("school server crashes per outdated server"),
              lambda r: float(r.extra["server_crashes"])
              / max(1, int((r.schools.server == "outdated").sum()))),
)}


def run_statistics(run: RunResult) -> dict[str, float]:
    """Every registered statistic of one run (NaN where the run cannot say)."""
    out = {}
    for name, s in STATISTICS.items():
        try:
            out[name] = float(s.compute(run))
        except (KeyError, ZeroDivisionError, TypeError):
            out[name] = math.nan
    return out


def statistics(results: Any) -> dict[str, float]:
    """Every registered statistic from a ``Results`` (the mean over its replications) or a
    single ``RunResult``."""
    runs = getattr(results, "runs", None) or [results]
    per = [run_statistics(r) for r in runs]
    return {k: float(np.mean([p[k] for p in per])) for k in STATISTICS}


# ----------------------------------------------------------------------------- targets
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Number = Annotated[float, Field(allow_inf_nan=False)]


class Bound(_Strict):
    """A one-sided report: ``gt`` ("more than") or ``lt`` ("less than")."""

    gt: Number | None = None
    lt: Number | None = None
    scale: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _one_side(self) -> Bound:
        if (self.gt is None) == (self.lt is None):
            raise ValueError("give exactly one of gt or lt")
        return self

    @property
    def value(self) -> float:
        return float(self.gt if self.gt is not None else self.lt)  # type: ignore[arg-type]

    @property
    def width(self) -> float:
        return float(self.scale) if self.scale is not None else BOUND_SCALE * abs(self.value)


class Target(_Strict):
    """One reported figure."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9_]+$", max_length=80)]
    day: Annotated[str, Field(min_length=1)]
    statistic: str
    observed: Number
    interval: Annotated[list[Number], Field(min_length=2, max_length=2)] | None = None
    relative: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)] | None = None
    bound: Bound | None = None
    source: str
    grade: Literal["H", "M", "L"]
    held_out: bool
    note: str = ""

    @property
    def error_model(self) -> str:
        return "interval" if self.interval else "relative" if self.relative else "bound"

    def allowed(self) -> tuple[float, float]:
        """The values the report allows, as (low, high) (a bound: one end infinite)."""
        if self.interval is not None:
            return float(self.interval[0]), float(self.interval[1])
        if self.relative is not None:
            half = self.relative * abs(self.observed)
            return self.observed - half, self.observed + half
        assert self.bound is not None
        if self.bound.gt is not None:
            return float(self.bound.gt), math.inf
        return -math.inf, float(self.bound.value)

    def width(self) -> float:
        """One unit of error: half the interval, the relative band, a bound's scale."""
        if self.interval is not None:
            return (self.interval[1] - self.interval[0]) / 2.0
        if self.relative is not None:
            return self.relative * abs(self.observed)
        assert self.bound is not None
        return self.bound.width


class TargetsSpec(_Strict):
    name: str = ""
    description: str = ""
    targets: Annotated[list[Target], Field(min_length=1, max_length=200)]


@dataclass
class CalibrationTargets:
    """A checked targets file."""

    spec: TargetsSpec
    source: str
    days: dict[str, Path]
    """Each target's ``day`` as written → the scenario file it names."""

    @property
    def targets(self) -> list[Target]:
        return list(self.spec.targets)

    def used(self, include_held_out: bool = False) -> list[Target]:
        """The targets that fit (and the held-out ones too if asked)."""
        return [t for t in self.spec.targets if include_held_out or not t.held_out]

    @property
    def held_out(self) -> list[Target]:
        return [t for t in self.spec.targets if t.held_out]

    def day_of(self, target: Target) -> Path:
        return self.days[target.day]

    def by_day(self, include_held_out: bool = True) -> dict[Path, list[Target]]:
        """Scenario file → the targets computed from its runs."""
        out: dict[Path, list[Target]] = {}
        for t in self.used(include_held_out):
            out.setdefault(self.days[t.day], []).append(t)
        return out


def error(value: float, target: Target) -> float:
    """How far ``value`` is from what ``target`` allows, in widths (0 inside; inf if NaN)."""
    if value is None or not math.isfinite(float(value)):
        return math.inf
    lo, hi = target.allowed()
    v = float(value)
    outside = lo - v if v < lo else v - hi if v > hi else 0.0
    return outside / target.width()


def covered(value: float, target: Target) -> bool:
    """``value`` lies in what the report allows (its interval, band or half-line)."""
    return error(value, target) == 0.0


def distance(simulated: Mapping[str, float], targets: CalibrationTargets | list[Target],
             include_held_out: bool = False) -> float:
    """Root of the sum of squared errors of the targets used (see the module docstring).

    ``simulated`` maps a target's ``name`` (or, failing that, its ``statistic``) to the
    simulated value; a target missing from it counts as infinitely far."""
    ts = targets.used(include_held_out) if isinstance(targets, CalibrationTargets) else [
        t for t in targets if include_held_out or not t.held_out]
    total = 0.0
    for t in ts:
        v = simulated.get(t.name, simulated.get(t.statistic, math.nan))
        e = error(v, t)
        if not math.isfinite(e):
            return math.inf
        total += e * e
    return math.sqrt(total)


# ----------------------------------------------------------------------------- loading
def _target_problems(t: Target, where: str) -> list[str]:
    problems = []
    if t.statistic not in STATISTICS:
        problems.append(f"{where}.statistic: unknown statistic {t.statistic!r} (known: "
                        f"{', '.join(STATISTICS)})")
    models = [m for m in ("interval", "relative", "bound") if getattr(t, m) is not None]
    if len(models) != 1:
        problems.append(f"{where}: give exactly one error model (interval, relative or bound), "
                        f"not {' and '.join(models) or 'none'}")
    elif t.interval is not None:
        lo, hi = t.interval
        if not lo < hi:
            problems.append(f"{where}.interval: need low < high, got [{lo:g}, {hi:g}]")
        elif not lo <= t.observed <= hi:
            problems.append(f"{where}.observed: {t.observed:g} lies outside its interval "
                            f"[{lo:g}, {hi:g}]")
    elif t.relative is not None and t.observed == 0:
        problems.append(f"{where}.relative: a relative error of an observed 0 has no width")
    elif t.bound is not None and t.bound.width <= 0:
        problems.append(f"{where}.bound: a bound at 0 needs its own scale")
    if not SOURCE_ID.match(t.source):
        problems.append(f"{where}.source: {t.source!r} is not a source or assumption id (S60)")
    return problems


def load_targets(path: str | Path = DEFAULT_TARGETS, check_days: bool = True
                 ) -> CalibrationTargets:
    """Read and check a targets file (one line per problem, :class:`ConfigError`).

    ``check_days``: also load each day's scenario (its own problems are reported naming the
    target that uses it)."""
    from sim.uncertainty.priors import source_ids

    p = Path(path)
    src = str(p)
    data = load_yaml_text(read_config_file(p), src)
    try:
        spec = TargetsSpec.model_validate(data)
    except ValidationError as err:
        lines = []
        for e in err.errors(include_url=False):
            msg = "unknown key (typo?)" if e["type"] == "extra_forbidden" else e["msg"]
            lines.append(f"{src}: {format_loc(tuple(e['loc']))}: "
                         f"{msg.removeprefix('Value error, ')}")
        raise ConfigError(lines) from None
    problems: list[str] = []
    ids = source_ids()
    days: dict[str, Path] = {}
    seen: set[str] = set()
    for i, t in enumerate(spec.targets):
        where = f"{src}: targets[{i}]"
        if t.name in seen:
            problems.append(f"{where}.name: duplicate target name {t.name!r}")
        seen.add(t.name)
        problems += _target_problems(t, where)
        if ids is not None and SOURCE_ID.match(t.source) and t.source not in ids:
            problems.append(f"{where}.source: {t.source} is not a row of data/SOURCES.md")
        if t.day not in days:
            day = (p.resolve().parent / t.day).resolve()
            if not day.is_file():
                problems.append(f"{where}.day: no such scenario file: {day}")
                continue
            if check_days:
                try:
                    load_scenario(day)
                except ConfigError as exc:
                    problems += [f"{where}.day: {line}" for line in exc.problems]
                    continue
            days[t.day] = day
    if not problems and all(t.held_out for t in spec.targets):
        problems.append(f"{src}: targets: every target is held out: nothing to fit")
    if problems:
        raise ConfigError(problems)
    return CalibrationTargets(spec, src, days)
