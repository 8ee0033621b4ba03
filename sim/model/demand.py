"""Demand: the timetable turned into meetings, participants and logins — all drawn up front.

Everything that does not depend on the state of the infrastructure is sampled here with numpy
before the simulation starts (who is at home, which classes meet, when each pupil first tries
to join, who has a webcam). The model then only simulates what does depend on the state:
queues, refusals, retries, give-ups. Pre-sampling per entity keeps results identical however
events interleave, and gives common random numbers across scenarios.

Two kinds of demand:

- ``timetable`` — the school day: a morning login of pupils at home, the daily check-in of
  years 1–10 at the first period (2021 decree), live lessons by share per period, arrival
  jitter around the bell, the teacher opening the room a little before.
- ``poisson`` — validation mode: a stationary Poisson stream of single-person rooms with
  exponential (or deterministic) holding times, for the Erlang oracles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import Scenario
from sim.model.population import Population
from sim.model.seeds import SeedTree

KIND_CHECKIN, KIND_LESSON, KIND_POISSON = 0, 1, 2
KIND_NAMES = {KIND_CHECKIN: "checkin", KIND_LESSON: "lesson", KIND_POISSON: "poisson"}


@dataclass
class Demand:
    # meetings
    m_school: np.ndarray
    m_class: np.ndarray
    m_kind: np.ndarray
    m_start: np.ndarray
    m_end: np.ndarray  # scheduled end (inf for poisson: closes after its holding time)
    m_hold: np.ndarray  # holding time after opening (poisson), else 0
    m_teacher_t: np.ndarray
    m_teacher_cam: np.ndarray
    m_screen: np.ndarray
    m_pm_lo: np.ndarray  # participants of meeting m are pm_lo[m]..pm_hi[m]-1
    m_pm_hi: np.ndarray
    # pupil-meetings (intending participants)
    pm_meeting: np.ndarray
    pm_pupil: np.ndarray
    pm_first_t: np.ndarray
    pm_cam: np.ndarray
    # morning logins
    login_pupil: np.ndarray
    login_t: np.ndarray
    # pupils
    pupil_school: np.ndarray
    n_at_home: int

    @property
    def n_meetings(self) -> int:
        return int(self.m_start.size)

    @property
    def n_pm(self) -> int:
        return int(self.pm_meeting.size)


def _jitter(
    rng: np.random.Generator, n: int, early_share: float, early_mean: float, late_mean: float
) -> np.ndarray:
    early = rng.random(n) < early_share
    e = rng.standard_exponential(n)
    return np.where(early, -early_mean * e, late_mean * e)


def school_start_offsets_s(scenario: Scenario, pop: Population) -> np.ndarray:
    """Per school: shift of its timetable (seconds), from the staggered-start settings."""
    by_type = scenario.timetable.start_offset_min_by_type
    off = np.zeros(len(pop.type_names))
    for name, minutes in by_type.items():
        if name in pop.type_names:
            off[pop.type_names.index(name)] = minutes * 60.0
    spread = scenario.timetable.school_start_spread_min * 60.0
    # A school's own bell time is a property of the school, not of the replication.
    rng = SeedTree(scenario.population.seed).rng("population.bell_times")
    u = rng.random(pop.n_schools)
    # rounded to whole minutes: bells ring on the minute
    own = np.round((2.0 * u - 1.0) * spread / 60.0) * 60.0
    # policy: start slots by school number (Mebis: 08:15, 08:30, …)
    st = scenario.policies.stagger
    slots = (np.arange(pop.n_schools) % st.school_number_slots) * st.slot_min * 60.0
    return off[pop.school_type] + own + slots


def class_start_offsets_s(scenario: Scenario, pop: Population) -> np.ndarray:
    """Per class: the school's shift plus the staggering of its year group."""
    off = school_start_offsets_s(scenario, pop)[pop.class_school]
    by_year = scenario.policies.stagger.offset_min_by_year
    if by_year:
        years = np.zeros(14)
        for y, minutes in by_year.items():
            years[y] = minutes * 60.0
        off = off + years[pop.class_year]
    return off


def period_starts_s(scenario: Scenario) -> np.ndarray:
    tt = scenario.timetable
    starts = []
    t = tt.first_period_start
    for k in range(1, tt.periods + 1):
        starts.append(t)
        t += tt.period_min * 60.0 + tt.breaks_min.get(k, 0.0) * 60.0
    return np.array(starts)


def build_demand(scenario: Scenario, pop: Population, seeds: SeedTree) -> Demand:
    if scenario.demand.kind == "poisson":
        return _poisson_demand(scenario, pop, seeds)
    return _timetable_demand(scenario, pop, seeds)


def _timetable_demand(scenario: Scenario, pop: Population, seeds: SeedTree) -> Demand:
    tt = scenario.timetable
    beh = scenario.behaviour
    jit = scenario.jitter
    n_cls = pop.n_classes
    cls_school = pop.class_school
    cls_type = pop.school_type[cls_school]
    cls_offset = class_start_offsets_s(scenario, pop)

    n_home = seeds.rng("demand.at_home").binomial(pop.class_size, scenario.population.at_home_share)

    # --- meetings -----------------------------------------------------------------------
    periods = period_starts_s(scenario)
    period_s = tt.period_min * 60.0
    m_class_parts: list[np.ndarray] = []
    m_kind_parts: list[np.ndarray] = []
    m_start_parts: list[np.ndarray] = []
    m_end_parts: list[np.ndarray] = []
    m_group_parts: list[np.ndarray] = []  # 0: check-in, k+1: lessons of period k
    has_checkin = np.zeros(n_cls, dtype=bool)
    if tt.checkin.enabled:
        ci = tt.checkin
        eligible = (pop.class_year >= ci.min_year) & (pop.class_year <= ci.max_year)
        has_checkin = eligible & (seeds.rng("demand.checkin").random(n_cls) < ci.video_share)
        idx = np.flatnonzero(has_checkin)
        start = periods[0] + cls_offset[idx]
        m_class_parts.append(idx)
        m_kind_parts.append(np.full(idx.size, KIND_CHECKIN, np.int8))
        m_start_parts.append(start)
        m_end_parts.append(start + ci.duration_min * 60.0)
        m_group_parts.append(np.zeros(idx.size, np.int16))
    share = np.full(len(pop.type_names), tt.live_lesson_share)
    for name, value in tt.live_lesson_share_by_type.items():
        if name in pop.type_names:
            share[pop.type_names.index(name)] = value
    cls_share = share[cls_type]
    rng_lessons = seeds.rng("demand.lessons")
    rng_phase = seeds.rng("demand.lessons.phase")
    checkin_s = tt.checkin.duration_min * 60.0 if tt.checkin.enabled else 0.0
    for k, p_start in enumerate(periods):
        live = rng_lessons.random(n_cls) < cls_share
        idx = np.flatnonzero(live)
        start = p_start + cls_offset[idx]
        end = start + period_s
        if k == 0 and checkin_s > 0:
            # A class with a check-in holds its first lesson after it, in the same period.
            start = np.where(has_checkin[idx], start + checkin_s, start)
        if tt.live_lesson_min is not None:
            # The live phase is part of the period (the rest is work on tasks), placed at a
            # uniform whole minute within what is left of it; a stream of its own, one draw
            # per class and period, so that lesson shares do not reshuffle it (common random
            # numbers).
            live_s = tt.live_lesson_min * 60.0
            u = rng_phase.random(n_cls)[idx]
            slack_min = np.maximum(0.0, (end - start - live_s) / 60.0)
            start = start + np.floor(u * (np.floor(slack_min) + 1.0)) * 60.0
            end = np.minimum(end, start + live_s)
        keep = end - start >= 5 * 60.0
        idx, start, end = idx[keep], start[keep], end[keep]
        m_class_parts.append(idx)
        m_kind_parts.append(np.full(idx.size, KIND_LESSON, np.int8))
        m_start_parts.append(start)
        m_end_parts.append(end)
        m_group_parts.append(np.full(idx.size, k + 1, np.int16))
    m_class = np.concatenate(m_class_parts).astype(np.int64)
    m_group = np.concatenate(m_group_parts)
    m_kind = np.concatenate(m_kind_parts)
    m_start = np.concatenate(m_start_parts)
    m_end = np.concatenate(m_end_parts)
    # drop meetings outside the simulated day
    day = scenario.day
    keep = (m_start >= day.start) & (m_end <= day.end)
    order = np.flatnonzero(keep)[np.lexsort((m_class[keep], m_start[keep]))]
    m_class, m_kind, m_start, m_end = m_class[order], m_kind[order], m_start[order], m_end[order]
    m_group = m_group[order]
    n_m = m_class.size

    # Teachers and participants are drawn per group of meetings (the check-in, the lessons of
    # each period) from the group's own stream: changing how many classes hold a check-in
    # does not reshuffle the draws of any lesson (common random numbers).
    m_teacher_t = np.empty(n_m)
    m_teacher_cam = np.empty(n_m, dtype=bool)
    m_screen = np.empty(n_m, dtype=bool)
    pm_parts: list[tuple[np.ndarray, ...]] = []
    for g in np.unique(m_group):
        sel = np.flatnonzero(m_group == g)
        sel = sel[np.argsort(m_class[sel], kind="stable")]  # draws keyed by class, not time
        rng_t = seeds.rng(f"demand.teachers.g{g}")
        lead = jit.teacher_lead_mean_s * rng_t.standard_exponential(sel.size)
        m_teacher_t[sel] = np.maximum(m_start[sel] - lead, day.start)
        m_teacher_cam[sel] = rng_t.random(sel.size) < beh.webcam_share_teachers
        m_screen[sel] = rng_t.random(sel.size) < beh.screenshare_share
        # each pupil at home joins with probability `attendance`
        home = n_home[m_class[sel]]
        rep = np.repeat(sel, home)
        k_in_class = np.arange(rep.size) - np.repeat(np.cumsum(home) - home, home)
        rng_p = seeds.rng(f"demand.participants.g{g}")
        attend = rng_p.random(rep.size) < beh.attendance
        meeting = rep[attend]
        pupil = pop.class_first_pupil[m_class[meeting]] + k_in_class[attend]
        jitter = _jitter(rng_p, meeting.size, jit.pupil_early_share, jit.pupil_early_mean_s,
                         jit.pupil_late_mean_s)
        cam = rng_p.random(meeting.size) < beh.webcam_share_pupils
        pm_parts.append((meeting, pupil, jitter, cam))
    if pm_parts:
        pm_meeting = np.concatenate([p[0] for p in pm_parts])
        by_meeting = np.argsort(pm_meeting, kind="stable")
        pm_meeting = pm_meeting[by_meeting]
        pm_pupil = np.concatenate([p[1] for p in pm_parts])[by_meeting]
        jitter = np.concatenate([p[2] for p in pm_parts])[by_meeting]
        pm_cam = np.concatenate([p[3] for p in pm_parts])[by_meeting]
    else:
        pm_meeting = pm_pupil = np.zeros(0, dtype=np.int64)
        jitter = np.zeros(0)
        pm_cam = np.zeros(0, dtype=bool)
    m_s, m_e = m_start[pm_meeting], m_end[pm_meeting]
    # Nobody plans to arrive in the last minute (or after the end) of a meeting.
    pm_first_t = np.clip(m_s + jitter, day.start, m_e - 60.0)
    counts = np.bincount(pm_meeting, minlength=n_m)
    m_pm_hi = np.cumsum(counts)
    m_pm_lo = m_pm_hi - counts

    # --- morning logins of pupils at home (tasks, messenger): the 08:00 thundering herd ---
    rng_l = seeds.rng("demand.logins")
    cls_of_home = np.repeat(np.arange(n_cls), n_home)
    kk = np.arange(cls_of_home.size) - np.repeat(np.cumsum(n_home) - n_home, n_home)
    logs = rng_l.random(cls_of_home.size) < scenario.login.share
    login_cls = cls_of_home[logs]
    login_pupil = pop.class_first_pupil[login_cls] + kk[logs]
    lj = _jitter(
        rng_l,
        login_pupil.size,
        scenario.login.early_share,
        scenario.login.early_mean_s,
        scenario.login.late_mean_s,
    )
    login_t = np.clip(periods[0] + cls_offset[login_cls] + lj, day.start, day.end - 1.0)
    # In time order (stable: ties keep their order, so the run handles them as before): the
    # run then reads each login's state sequentially instead of at random over ~1 M entries.
    in_time = np.argsort(login_t, kind="stable")
    login_pupil, login_t = login_pupil[in_time], login_t[in_time]

    pupil_school = np.repeat(cls_school, pop.class_size).astype(np.int32)
    return Demand(
        m_school=cls_school[m_class].astype(np.int64),
        m_class=m_class,
        m_kind=m_kind,
        m_start=m_start,
        m_end=m_end,
        m_hold=np.zeros(n_m),
        m_teacher_t=m_teacher_t,
        m_teacher_cam=m_teacher_cam,
        m_screen=m_screen,
        m_pm_lo=m_pm_lo,
        m_pm_hi=m_pm_hi,
        pm_meeting=pm_meeting.astype(np.int64),
        pm_pupil=pm_pupil.astype(np.int64),
        pm_first_t=pm_first_t,
        pm_cam=pm_cam,
        login_pupil=login_pupil.astype(np.int64),
        login_t=login_t,
        pupil_school=pupil_school,
        n_at_home=int(n_home.sum()),
    )


def _poisson_demand(scenario: Scenario, pop: Population, seeds: SeedTree) -> Demand:
    cfg = scenario.demand.poisson
    assert cfg is not None
    day = scenario.day
    rng = seeds.rng("demand.poisson")
    horizon = day.end - day.start
    lam = cfg.arrival_rate_per_s
    n_expected = lam * horizon
    n = int(n_expected + 10 * np.sqrt(n_expected) + 100)
    t = day.start + np.cumsum(rng.standard_exponential(n) / lam)
    t = t[t < day.end]
    n = t.size
    if cfg.holding == "exponential":
        hold = cfg.holding_mean_s * rng.standard_exponential(n)
    else:
        hold = np.full(n, cfg.holding_mean_s)
    # Every arrival is a single-person room on the named platform, hosted by a pseudo-school.
    pidx = [p.name for p in scenario.platforms].index(cfg.platform)
    schools = np.flatnonzero(pop.school_platform == pidx)
    school = int(schools[0]) if schools.size else 0
    empty_i = np.zeros(0, dtype=np.int64)
    return Demand(
        m_school=np.full(n, school, dtype=np.int64),
        m_class=np.full(n, -1, dtype=np.int64),
        m_kind=np.full(n, KIND_POISSON, np.int8),
        m_start=t,
        m_end=np.full(n, np.inf),
        m_hold=hold,
        m_teacher_t=t,
        m_teacher_cam=np.zeros(n, dtype=bool),
        m_screen=np.zeros(n, dtype=bool),
        m_pm_lo=np.zeros(n, dtype=np.int64),
        m_pm_hi=np.zeros(n, dtype=np.int64),
        pm_meeting=empty_i,
        pm_pupil=empty_i,
        pm_first_t=np.zeros(0),
        pm_cam=np.zeros(0, dtype=bool),
        login_pupil=empty_i,
        login_t=np.zeros(0),
        pupil_school=np.zeros(0, dtype=np.int32),
        n_at_home=0,
    )
