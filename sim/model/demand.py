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

from sim.config import ConfigError, Scenario
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
    """Per class: the school's shift plus the staggering of its year group and the school's
    own start slots (by year or class)."""
    off = school_start_offsets_s(scenario, pop)[pop.class_school]
    by_year = scenario.policies.stagger.offset_min_by_year
    if by_year:
        years = np.zeros(14)
        for y, minutes in by_year.items():
            years[y] = minutes * 60.0
        off = off + years[pop.class_year]
    if scenario.policies.stagger.staggers_within_schools():
        off = off + within_school_offsets_s(scenario, pop)
    return off


def within_school_offsets_s(scenario: Scenario, pop: Population) -> np.ndarray:
    """Per class: its start slot within its school × the slot length (seconds).

    ``by: year`` — year y starts in slot (y − 1) mod slots, so a school's year groups spread
    evenly whatever its first year; ``by: class`` — a school's classes (ordered by year,
    then parallel class) take the slots in turn, so parallel classes of a year start apart.
    The rule is fixed, not drawn: it changes no random number."""
    st = scenario.policies.stagger
    if st.within_school_by == "year":
        slot = (pop.class_year.astype(np.int64) - 1) % st.within_school_slots
    else:
        slot = class_rank_in_school(pop.class_school) % st.within_school_slots
    if st.within_school_only is not None:  # only the schools named (dlsim week's carry-over)
        only = np.asarray(st.within_school_only, dtype=np.int64)
        if only.size and int(only.max()) >= pop.n_schools:
            raise ConfigError([
                f"policies.stagger.within_school_only: school {int(only.max())} does not exist "
                f"(this population has schools 0–{pop.n_schools - 1})"])
        chosen = np.zeros(pop.n_schools, dtype=bool)
        chosen[only] = True
        slot = np.where(chosen[pop.class_school], slot, 0)
    return slot * st.within_school_slot_min * 60.0


def class_rank_in_school(class_school: np.ndarray) -> np.ndarray:
    """Per class: its position among its school's classes (0, 1, …, in class order)."""
    n = class_school.size
    order = np.argsort(class_school, kind="stable")
    sorted_school = class_school[order]
    first = np.searchsorted(sorted_school, sorted_school, side="left")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - first
    return rank


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
    """The school day's demand: its meetings, who intends to join each, the morning logins."""
    n_home = seeds.rng("demand.at_home").binomial(pop.class_size, scenario.population.at_home_share)
    cls_offset = class_start_offsets_s(scenario, pop)
    periods = period_starts_s(scenario)
    meetings = _meetings_of_the_day(scenario, pop, seeds, periods, cls_offset)
    hosts, pms = _hosts_and_participants(scenario, pop, seeds, meetings, n_home)
    login_pupil, login_t = _morning_logins(scenario, pop, seeds, n_home,
                                           periods[0] + cls_offset)
    n_m = meetings.class_idx.size
    return Demand(
        m_school=pop.class_school[meetings.class_idx].astype(np.int64),
        m_class=meetings.class_idx,
        m_kind=meetings.kind,
        m_start=meetings.start,
        m_end=meetings.end,
        m_hold=np.zeros(n_m),
        m_teacher_t=hosts.teacher_t,
        m_teacher_cam=hosts.teacher_cam,
        m_screen=hosts.screen,
        m_pm_lo=pms.lo,
        m_pm_hi=pms.hi,
        pm_meeting=pms.meeting.astype(np.int64),
        pm_pupil=pms.pupil.astype(np.int64),
        pm_first_t=pms.first_t,
        pm_cam=pms.cam,
        login_pupil=login_pupil.astype(np.int64),
        login_t=login_t,
        pupil_school=np.repeat(pop.class_school, pop.class_size).astype(np.int32),
        n_at_home=int(n_home.sum()),
    )


@dataclass
class _Meetings:
    """Meetings of classes: class, kind, scheduled start and end, and the draw group of each
    (0: the check-in, k + 1: the lessons of period k; each group draws from its own streams)."""

    class_idx: np.ndarray
    kind: np.ndarray
    start: np.ndarray
    end: np.ndarray
    group: np.ndarray

    @classmethod
    def of(cls, idx: np.ndarray, kind: int, start: np.ndarray, end: np.ndarray,
           group: int) -> _Meetings:
        """One group's meetings: classes ``idx``, all of ``kind``."""
        return cls(idx, np.full(idx.size, kind, np.int8), start, end,
                   np.full(idx.size, group, np.int16))


def _meetings_of_the_day(scenario: Scenario, pop: Population, seeds: SeedTree,
                         periods: np.ndarray, cls_offset: np.ndarray) -> _Meetings:
    """Which classes meet when: check-ins and live lessons inside the simulated day, in time
    order (ties by class)."""
    has_checkin, checkins = _checkins(scenario, pop, seeds, periods[0] + cls_offset)
    parts = [checkins] if checkins is not None else []
    parts += _live_lessons(scenario, pop, seeds, periods, cls_offset, has_checkin)
    m_class = np.concatenate([p.class_idx for p in parts]).astype(np.int64)
    m_group = np.concatenate([p.group for p in parts])
    m_kind = np.concatenate([p.kind for p in parts])
    m_start = np.concatenate([p.start for p in parts])
    m_end = np.concatenate([p.end for p in parts])
    # drop meetings outside the simulated day
    day = scenario.day
    keep = (m_start >= day.start) & (m_end <= day.end)
    order = np.flatnonzero(keep)[np.lexsort((m_class[keep], m_start[keep]))]
    return _Meetings(m_class[order], m_kind[order], m_start[order], m_end[order],
                     m_group[order])


def _checkins(scenario: Scenario, pop: Population, seeds: SeedTree,
              first_bell: np.ndarray) -> tuple[np.ndarray, _Meetings | None]:
    """Which classes hold the daily check-in by video (per class: a flag), and those
    meetings at each class's first bell (None when the check-in is off)."""
    ci = scenario.timetable.checkin
    if not ci.enabled:
        return np.zeros(pop.n_classes, dtype=bool), None
    eligible = (pop.class_year >= ci.min_year) & (pop.class_year <= ci.max_year)
    has_checkin = eligible & (seeds.rng("demand.checkin").random(pop.n_classes) < ci.video_share)
    idx = np.flatnonzero(has_checkin)
    start = first_bell[idx]
    return has_checkin, _Meetings.of(idx, KIND_CHECKIN, start, start + ci.duration_min * 60.0, 0)


def _lesson_share_by_class(scenario: Scenario, pop: Population) -> np.ndarray:
    """Per class: the share of periods its school holds as live lessons."""
    tt = scenario.timetable
    share = np.full(len(pop.type_names), tt.live_lesson_share)
    for name, value in tt.live_lesson_share_by_type.items():
        if name in pop.type_names:
            share[pop.type_names.index(name)] = value
    return share[pop.school_type[pop.class_school]]


def _live_lessons(scenario: Scenario, pop: Population, seeds: SeedTree, periods: np.ndarray,
                  cls_offset: np.ndarray, has_checkin: np.ndarray) -> list[_Meetings]:
    """Per period: which classes hold a live lesson, and when its live phase runs (meetings
    shorter than 5 minutes are dropped)."""
    tt = scenario.timetable
    n_cls = pop.n_classes
    period_s = tt.period_min * 60.0
    cls_share = _lesson_share_by_class(scenario, pop)
    rng_lessons = seeds.rng("demand.lessons")
    rng_phase = seeds.rng("demand.lessons.phase")
    checkin_s = tt.checkin.duration_min * 60.0 if tt.checkin.enabled else 0.0
    out = []
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
        out.append(_Meetings.of(idx[keep], KIND_LESSON, start[keep], end[keep], k + 1))
    return out


@dataclass
class _Hosts:
    """Per meeting: when its teacher opens the room, with a webcam or not, and whether the
    screen is shared."""

    teacher_t: np.ndarray
    teacher_cam: np.ndarray
    screen: np.ndarray


@dataclass
class _PupilMeetings:
    """Pupil-meetings by meeting: pupil, planned first attempt, webcam; meeting m's are
    ``lo[m]..hi[m]-1``."""

    meeting: np.ndarray
    pupil: np.ndarray
    first_t: np.ndarray
    cam: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def _hosts_and_participants(scenario: Scenario, pop: Population, seeds: SeedTree,
                            meetings: _Meetings,
                            n_home: np.ndarray) -> tuple[_Hosts, _PupilMeetings]:
    """Who opens each meeting and when, and which pupils at home intend to join it, when
    and with a webcam or not.

    Teachers and participants are drawn per group of meetings (the check-in, the lessons of
    each period) from the group's own stream: changing how many classes hold a check-in
    does not reshuffle the draws of any lesson (common random numbers).
    """
    beh = scenario.behaviour
    jit = scenario.jitter
    day = scenario.day
    m_class, m_start = meetings.class_idx, meetings.start
    n_m = m_class.size
    hosts = _Hosts(np.empty(n_m), np.empty(n_m, dtype=bool), np.empty(n_m, dtype=bool))
    pm_parts: list[tuple[np.ndarray, ...]] = []
    for g in np.unique(meetings.group):
        sel = np.flatnonzero(meetings.group == g)
        sel = sel[np.argsort(m_class[sel], kind="stable")]  # draws keyed by class, not time
        rng_t = seeds.rng(f"demand.teachers.g{g}")
        lead = jit.teacher_lead_mean_s * rng_t.standard_exponential(sel.size)
        hosts.teacher_t[sel] = np.maximum(m_start[sel] - lead, day.start)
        hosts.teacher_cam[sel] = rng_t.random(sel.size) < beh.webcam_share_teachers
        hosts.screen[sel] = rng_t.random(sel.size) < beh.screenshare_share
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
    return hosts, _by_meeting(pm_parts, meetings, day.start)


def _by_meeting(pm_parts: list[tuple[np.ndarray, ...]], meetings: _Meetings,
                day_start: float) -> _PupilMeetings:
    """The groups' pupil-meetings in meeting order, each with its planned first attempt."""
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
    m_s, m_e = meetings.start[pm_meeting], meetings.end[pm_meeting]
    # Nobody plans to arrive in the last minute (or after the end) of a meeting.
    pm_first_t = np.clip(m_s + jitter, day_start, m_e - 60.0)
    counts = np.bincount(pm_meeting, minlength=meetings.class_idx.size)
    m_pm_hi = np.cumsum(counts)
    return _PupilMeetings(pm_meeting, pm_pupil, pm_first_t, pm_cam, m_pm_hi - counts, m_pm_hi)


def _morning_logins(scenario: Scenario, pop: Population, seeds: SeedTree, n_home: np.ndarray,
                    first_bell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which pupils at home log in for the day (tasks, messenger: the 08:00 thundering herd)
    and when, in time order."""
    day = scenario.day
    rng_l = seeds.rng("demand.logins")
    cls_of_home = np.repeat(np.arange(pop.n_classes), n_home)
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
    login_t = np.clip(first_bell[login_cls] + lj, day.start, day.end - 1.0)
    # In time order (stable: ties keep their order, so the run handles them as before): the
    # run then reads each login's state sequentially instead of at random over ~1 M entries.
    in_time = np.argsort(login_t, kind="stable")
    return login_pupil[in_time], login_t[in_time]


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
