"""Week files: days run in order, and the rules that carry what one day taught into the next.

```yaml
name: The week of 11–15 January 2021
days:                                   # in order; each a scenario file (relative to this file)
  - {name: mon, date: 2021-01-11, scenario: 2021-01-11-monday-dispatcher-failure.yaml}
  - {name: tue, date: 2021-01-12, scenario: 2021-01-12-tuesday-triple-load.yaml,
     set: ["policies.stagger.slot_min=5"]}          # inline overrides on that day's file
set: []                                 # overrides applied to every day
carry_over:                             # each rule declared once, with its source; a rule
  capacity: {source: A170, add_share: 0.33}         # left out, or `enabled: false`, is off
                                                    # (faults_repaired left out: repaired)
  stagger_after_trouble: {source: S59}
  video_share: {source: A174, start_factor: 0.9}
  patience: {source: A177}
  faults_repaired: {source: A176}
replications: 1
seed: 1
```

``--set`` on a week (``dlsim week --set``, ``sim.week(overrides=…)``): ``days[NAME].<path>=v``
changes that day's scenario (NAME: the day's name or position); ``carry_over.…``,
``replications``, ``seed`` change the week file; any other path changes every day's scenario.
What each rule does is :mod:`sim.experiments.carry_over`'s; this module only says what a week
file may hold and loads it (:class:`ConfigError`, one line per problem naming file and field).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from sim.config.base import ConfigError, Name, Seed, Share, Strict, StrictInt
from sim.config.error_lines import format_loc
from sim.config.files import read_config_file
from sim.config.loading import load_scenario, with_overrides
from sim.config.models import Scenario
from sim.config.overrides import apply_overrides
from sim.config.safe_yaml import load_yaml_text

SourceId = Annotated[str, Field(pattern=r"^[SA][0-9]{1,4}$")]
"""A row of data/SOURCES.md: ``S<n>`` (a published source) or ``A<n>`` (an assumption)."""
WEEK_KEYS = frozenset({"carry_over", "replications", "seed", "name", "description"})
"""Top-level keys of a week file a ``--set`` may change (others go to the days' scenarios)."""


class Rule(Strict):
    """A carry-over rule: on unless ``enabled: false``, with the row of data/SOURCES.md that
    says where its numbers come from."""

    enabled: bool = Field(default=True, description="Whether the rule applies.")
    source: SourceId = Field(description="Its row in data/SOURCES.md (S… or A…).")


class CapacityRule(Rule):
    """Capacity added overnight after a day with trouble on a platform (IServ added rented
    servers after Monday); the servers stay for the rest of the week."""

    platform: Name = Field(default="iserv", description="The platform watched.")
    cluster: Name = Field(default="iserv-bbb", description="Its cluster that grows.")
    trouble_affected_share: Share = Field(
        default=0.10, description="A day is one with trouble when more than this share of the "
        "platform's schools were affected (KPI `affected_schools_share`, per platform).")
    add_share: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        default=0.33, description="Nodes added overnight, as a share of the cluster's nodes.")


class StaggerRule(Rule):
    """Schools that had trouble start their year groups a few minutes apart the next day
    (IServ asked schools to start conferences apart after Monday)."""

    slots: Annotated[StrictInt, Field(ge=2, le=13)] = Field(
        default=3, description="Start slots within each of those schools.")
    slot_min: Annotated[float, Field(ge=0.0, le=120.0)] = Field(
        default=5.0, description="Minutes between two start slots.")
    by: Literal["year", "class"] = Field(default="year", description="Slots by year or class.")
    sticky: bool = Field(default=True, description="A school that staggered keeps staggering "
                         "for the rest of the week.")


class VideoShareRule(Rule):
    """Teachers' live-video share grows through the week as confidence returns: each day's
    `timetable.live_lesson_share` times a confidence factor that starts at `start_factor` and
    grows after every good day."""

    start_factor: Annotated[float, Field(gt=0.0, le=2.0)] = Field(
        default=0.9, description="Factor on the first day.")
    growth_per_good_day: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.05, description="Relative growth after a good day.")
    good_day_join_success: Share = Field(
        default=0.95, description="A day is good when at least this share of intended "
        "pupil-meetings got in (KPI `join_success_rate`).")
    max_factor: Annotated[float, Field(gt=0.0, le=2.0)] = Field(
        default=1.2, description="The factor never grows beyond this.")


class PatienceRule(Rule):
    """Pupils' patience after a bad day: they give up sooner the next day."""

    bad_day_join_success_below: Share = Field(
        default=0.9, description="A day is bad when fewer than this share of intended "
        "pupil-meetings got in (KPI `join_success_rate`).")
    patience_factor: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.5, description="`behaviour.patience_s` times this factor on the day after.")


class RepairRule(Rule):
    """Faults are repaired overnight. Off: every fault of the day before (other than the
    standing overload rule of school servers) happens again the next day, at the same times."""


class CarryOver(Strict):
    """What carries from one day to the next; a rule left out is off (``faults_repaired`` left
    out: faults are repaired, nothing recurs)."""

    capacity: CapacityRule | None = Field(default=None, description="Capacity added overnight.")
    stagger_after_trouble: StaggerRule | None = Field(
        default=None, description="Schools that had trouble stagger the next day.")
    video_share: VideoShareRule | None = Field(
        default=None, description="The live-video share grows as confidence returns.")
    patience: PatienceRule | None = Field(
        default=None, description="Pupils' patience after a bad day.")
    faults_repaired: RepairRule | None = Field(
        default=None, description="Faults repaired overnight.")

    def on(self) -> list[str]:
        """Names of the rules that apply."""
        return [k for k in type(self).model_fields
                if (r := getattr(self, k)) is not None and r.enabled]


class DayEntry(Strict):
    """One day of the week."""

    name: Name = Field(description="Short name (`mon`), used in `days[mon].…` and outputs.")
    date: dt.date | None = Field(
        default=None, description="The calendar date (YYYY-MM-DD), shown in the report.")
    scenario: Annotated[str, Field(min_length=1)] = Field(
        description="The day's scenario file, relative to the week file.")
    set: list[str] = Field(default_factory=list, description="Overrides of that day.")


class WeekSpec(Strict):
    """What a week file may say."""

    name: str = ""
    description: str = ""
    days: Annotated[list[DayEntry], Field(min_length=1, max_length=14)]
    set: list[str] = Field(default_factory=list, description="Overrides of every day.")
    carry_over: CarryOver = Field(default_factory=CarryOver)
    replications: Annotated[StrictInt, Field(ge=1, le=1000)] = 1
    seed: Seed = 1

    @model_validator(mode="after")
    def _unique_names(self) -> WeekSpec:
        names = [d.name for d in self.days]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"day names must differ ({', '.join(dup)} more than once)")
        return self


@dataclass
class Week:
    """A validated week: the spec, and each day's scenario before anything carries over."""

    spec: WeekSpec
    path: Path
    days: list[Scenario]
    """Day i's scenario: its file, the week's ``set``, its own ``set`` and the user's."""

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.spec.days]


_DAY_SET = re.compile(r"^days\[([^\]]+)\]\.(.+)$", re.S)


def _route(sets: list[str], spec_days: list[Any]
           ) -> tuple[list[str], list[str], dict[int, list[str]]]:
    """``--set`` strings split into: the week file's, every day's, and each day's."""
    week: list[str] = []
    every: list[str] = []
    by_day: dict[int, list[str]] = {}
    names = [d.get("name") if isinstance(d, dict) else None for d in spec_days]
    for s in sets:
        key = s.partition("=")[0].strip()
        m = _DAY_SET.match(s)
        if m:
            ref = m.group(1)
            i = int(ref) if ref.isdigit() else names.index(ref) if ref in names else -1
            if not 0 <= i < len(spec_days):
                raise ConfigError([f"--set {s}: no day {ref!r} (days: "
                                   f"{', '.join(str(n) for n in names)})"])
            by_day.setdefault(i, []).append(m.group(2))
        elif key.split(".")[0].split("[")[0] in WEEK_KEYS:
            week.append(s)
        else:
            every.append(s)
    return week, every, by_day


def _problems(err: ValidationError, source: str) -> list[str]:
    """One line per problem: ``<file>: <field path>: <what is wrong>``."""
    out = []
    for e in err.errors(include_url=False):
        msg = "unknown key (typo?)" if e["type"] == "extra_forbidden" else e["msg"]
        msg = msg.removeprefix("Value error, ")
        out.append(f"{source}: {format_loc(tuple(e['loc']))}: {msg}")
    return out


def load_week(path: str | Path, overrides: list[str] | tuple[str, ...] = (),
              scale: float | None = None) -> Week:
    """Load and check a week file and every day's scenario (``scale``: each day's population
    at that share of its own, a faithful miniature). Raises :class:`ConfigError`."""
    p = Path(path)
    data = load_yaml_text(read_config_file(p), str(p))
    days_given = data.get("days")
    raw_days: list[Any] = days_given if isinstance(days_given, list) else []
    week_sets, every, by_day = _route(list(overrides), raw_days)
    if week_sets:
        data = apply_overrides(data, week_sets)
    try:
        spec = WeekSpec.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_problems(err, str(p))) from None
    problems: list[str] = []
    days: list[Scenario] = []
    for i, d in enumerate(spec.days):
        f = (p.parent / d.scenario).resolve()
        where = f"{p}: days[{i}].scenario"
        if not f.is_file():
            problems.append(f"{where}: no such scenario file {f}")
            continue
        sets = [*spec.set, *d.set, *every, *by_day.get(i, [])]
        try:
            sc = load_scenario(f, sets)
            if scale is not None:
                sc = with_overrides(sc, [f"population.scale={sc.population.scale * scale!r}"])
        except ConfigError as exc:
            problems += [f"{p}: days[{d.name}]: {line}" for line in exc.problems]
            continue
        days.append(sc)
    if problems:
        raise ConfigError(problems)
    return Week(spec, p, days)
