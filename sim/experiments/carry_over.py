"""The carry-over rules of a week (``carry_over:`` in a week file, :mod:`sim.config.week`).

Each rule has one home here: :func:`learn` reads a finished day (its KPIs, details and
schools) into the :class:`WeekState`; :func:`overrides` turns that state into ``--set``-style
overrides of the next day's scenario. A rule that is off neither learns nor overrides, so
switching it off changes only what it carries. The day then runs as any scenario does.

| rule | learns from day d | changes day d + 1 |
|---|---|---|
| ``capacity`` | platform's share of affected schools > threshold | cluster nodes += share (stays) |
| ``stagger_after_trouble`` | the schools affected | those schools stagger within (year slots) |
| ``video_share`` | ``join_success_rate`` ≥ good | live-lesson share × a factor that grows |
| ``patience`` | ``join_success_rate`` < bad | ``behaviour.patience_s`` × factor (that day) |
| ``faults_repaired`` | — (off: the day's faults) | off: yesterday's faults happen again |

``faults_repaired`` left out of a week file means repaired (nothing recurs); only a declared
rule with ``enabled: false`` makes the day's incidents recur.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from sim.config import Scenario
from sim.config.week import CarryOver

STANDING_FAULTS = frozenset({"overload_crash"})
"""Fault kinds that are a standing rule of every day (school servers falling over), not an
incident of one day: never carried, whatever ``faults_repaired`` says."""


@dataclass(frozen=True)
class DayOutcome:
    """What the rules read off a finished day (one replication)."""

    kpis: dict[str, Any]
    details: dict[str, Any]
    schools: pd.DataFrame
    scenario: Scenario


@dataclass(frozen=True)
class WeekState:
    """What has carried over so far (the same for every rule's reader)."""

    added_nodes: int = 0
    """Whole-state nodes added to the watched cluster so far."""
    staggering: frozenset[int] = frozenset()
    """Schools that stagger within the next day."""
    video_factor: float = 1.0
    patience_factor: float = 1.0
    faults: tuple[dict[str, Any], ...] = ()
    """Yesterday's incidents that happen again (``faults_repaired`` off)."""
    notes: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    """What changed overnight: one dict per rule that carried something (for the report)."""


def _on(rules: CarryOver, name: str) -> Any:
    r = getattr(rules, name)
    return r if r is not None and r.enabled else None


def first_state(rules: CarryOver) -> WeekState:
    """The state of the first day (only the video share's starting factor applies)."""
    v = _on(rules, "video_share")
    return WeekState(video_factor=v.start_factor if v else 1.0)


def _rate(outcome: DayOutcome) -> float:
    v = outcome.kpis.get("join_success_rate")
    return math.nan if v is None else float(v)


def learn(rules: CarryOver, state: WeekState, day: DayOutcome) -> WeekState:
    """The state for the next day, from ``state`` and the day that just ended."""
    notes: list[dict[str, Any]] = []
    new = replace(state, notes=())
    if (c := _on(rules, "capacity")) is not None:
        share = float(day.details.get("affected_schools_share_per_platform", {})
                      .get(c.platform, 0.0))
        if share > c.trouble_affected_share:
            base = _cluster_nodes(day.scenario, c.platform, c.cluster) - state.added_nodes
            add = round(base * c.add_share)
            new = replace(new, added_nodes=state.added_nodes + add)
            notes.append(_note("capacity", c.source, add, share=share))
    if (s := _on(rules, "stagger_after_trouble")) is not None:
        sch = day.schools
        hit = frozenset(int(i) for i in sch.loc[sch["affected"].astype(bool), "school"])
        keep = state.staggering if s.sticky else frozenset()
        new = replace(new, staggering=keep | hit)
        notes.append(_note("stagger_after_trouble", s.source, len(keep | hit), new=len(hit - keep)))
    rate = _rate(day)
    if (v := _on(rules, "video_share")) is not None and rate >= v.good_day_join_success:
        f = min(v.max_factor, state.video_factor * (1.0 + v.growth_per_good_day))
        new = replace(new, video_factor=f)
        notes.append(_note("video_share", v.source, f, join_success_rate=rate))
    if (pt := _on(rules, "patience")) is not None:
        bad = rate < pt.bad_day_join_success_below
        new = replace(new, patience_factor=pt.patience_factor if bad else 1.0)
        if bad:
            notes.append(_note("patience", pt.source, pt.patience_factor, join_success_rate=rate))
    if rules.faults_repaired is not None and not rules.faults_repaired.enabled:
        incidents = tuple(f.model_dump(mode="json") for f in day.scenario.faults
                          if f.kind not in STANDING_FAULTS)
        new = replace(new, faults=incidents)
        if incidents:
            notes.append(_note("faults_repaired", rules.faults_repaired.source,
                               len(incidents), off=True))
    return replace(new, notes=tuple(notes))


def _note(rule: str, source: str, value: Any, **why: Any) -> dict[str, Any]:
    return {"rule": rule, "source": source, "value": value, **why}


def _cluster_nodes(sc: Scenario, platform: str, cluster: str) -> int:
    for p in sc.platforms:
        if p.name == platform:
            for c in p.clusters:
                if c.name == cluster:
                    return int(c.nodes)
    raise KeyError(f"carry_over.capacity: no cluster {cluster!r} on platform {platform!r}")


def overrides(rules: CarryOver, state: WeekState, sc: Scenario) -> list[str]:
    """``--set``-style overrides that apply ``state`` to a day's scenario ``sc``."""
    out: list[str] = []
    if (c := _on(rules, "capacity")) is not None and state.added_nodes:
        n = _cluster_nodes(sc, c.platform, c.cluster) + state.added_nodes
        out.append(f"platforms[{c.platform}].clusters[{c.cluster}].nodes={n}")
    s = _on(rules, "stagger_after_trouble")
    st = sc.policies.stagger
    everyone = st.staggers_within_schools() and st.within_school_only is None
    if s is not None and state.staggering and not everyone:
        out += [f"policies.stagger.within_school_slots={s.slots}",
                f"policies.stagger.within_school_slot_min={s.slot_min!r}",
                f"policies.stagger.within_school_by={s.by}",
                f"policies.stagger.within_school_only={sorted(state.staggering)}"]
    if _on(rules, "video_share") is not None and state.video_factor != 1.0:
        tt = sc.timetable
        out.append(f"timetable.live_lesson_share={_share(tt.live_lesson_share, state)!r}")
        if tt.live_lesson_share_by_type:
            by = {k: _share(v, state) for k, v in tt.live_lesson_share_by_type.items()}
            out.append(f"timetable.live_lesson_share_by_type={json.dumps(by)}")
    if _on(rules, "patience") is not None and state.patience_factor != 1.0:
        out.append(f"behaviour.patience_s={sc.behaviour.patience_s * state.patience_factor!r}")
    if state.faults:
        own = [f.model_dump(mode="json") for f in sc.faults]
        out.append(f"faults={json.dumps(own + list(state.faults))}")
    return out


def _share(v: float, state: WeekState) -> float:
    return round(min(1.0, v * state.video_factor), 6)
