"""Unit tests for :mod:`sim.model.demand`: meetings, participants and logins drawn before the
run."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from sim.config import ConfigError, Scenario
from sim.model.demand import KIND_CHECKIN, KIND_LESSON, KIND_POISSON, Demand, build_demand
from sim.model.population import Population, build_population
from sim.model.seeds import SeedTree
from tests.conftest import small_scenario

SCALE = 0.02


@cache
def _build(overrides: tuple[str, ...] = (), seed: int = 1) -> tuple[Scenario, Population, Demand]:
    sc = small_scenario(SCALE, list(overrides))
    pop = build_population(sc)
    return sc, pop, build_demand(sc, pop, SeedTree(seed))


# ------------------------------------------------------------------------------ meetings


@pytest.mark.parametrize("overrides", [(), ("day.start=08:10", "day.end=12:00")])
def test_meetings_inside_the_day(overrides: tuple[str, ...]) -> None:
    sc, _, d = _build(overrides)
    assert d.n_meetings > 50
    assert (d.m_start >= sc.day.start).all()
    assert (d.m_end <= sc.day.end).all()
    assert (d.m_end > d.m_start).all()
    assert np.isin(d.m_kind, [KIND_CHECKIN, KIND_LESSON]).all()
    assert (d.m_teacher_t >= sc.day.start).all()
    assert (d.m_teacher_t <= d.m_start).all()


def test_short_day_drops_meetings() -> None:
    _, _, full = _build()
    _, _, short = _build(("day.start=08:10", "day.end=12:00"))
    assert 0 < short.n_meetings < full.n_meetings


def test_meetings_sorted_and_consistent() -> None:
    _, pop, d = _build()
    assert (np.diff(d.m_start) >= 0).all()
    np.testing.assert_array_equal(d.m_school, pop.class_school[d.m_class])


def test_no_class_holds_two_meetings_at_once() -> None:
    _, _, d = _build(("timetable.checkin.enabled=true", "timetable.checkin.video_share=1",
                      "timetable.live_lesson_share=0.5"))
    order = np.lexsort((d.m_start, d.m_class))
    cls, start, end = d.m_class[order], d.m_start[order], d.m_end[order]
    same = cls[1:] == cls[:-1]
    assert same.any()
    assert (start[1:][same] >= end[:-1][same]).all()


def test_first_attempts_within_meeting_window() -> None:
    for overrides in [(), ("day.start=08:10", "day.end=12:00")]:
        sc, _, d = _build(overrides)
        assert d.n_pm > 1000
        t = d.pm_first_t
        assert (t >= sc.day.start).all()
        assert (t <= d.m_end[d.pm_meeting] - 60.0).all()
        # the jitter spreads arrivals to both sides of the bell
        assert (t < d.m_start[d.pm_meeting]).any()
        assert (t > d.m_start[d.pm_meeting]).any()


def test_checkins_only_for_configured_years() -> None:
    sc, pop, d = _build(("timetable.checkin.enabled=true", "timetable.checkin.min_year=5",
                         "timetable.checkin.max_year=7", "timetable.checkin.video_share=1"))
    ci = d.m_kind == KIND_CHECKIN
    years = pop.class_year[d.m_class[ci]]
    assert set(np.unique(years)) == {5, 6, 7}
    # with video_share 1 every eligible class has exactly one check-in
    eligible = np.flatnonzero((pop.class_year >= 5) & (pop.class_year <= 7))
    np.testing.assert_array_equal(np.sort(d.m_class[ci]), eligible)
    np.testing.assert_allclose(d.m_end[ci] - d.m_start[ci], sc.timetable.checkin.duration_min * 60)


def test_default_day_has_no_checkin() -> None:
    """January 2021: the daily check-in came with a decree of about mid-February."""
    sc, _, d = _build()
    assert not sc.timetable.checkin.enabled
    assert not (d.m_kind == KIND_CHECKIN).any()
    assert (d.m_kind == KIND_LESSON).sum() > 50


def test_february_config_checkins_years_1_to_10() -> None:
    from sim import load_scenario
    from tests.conftest import REPO

    sc = load_scenario(REPO / "configs" / "2021-02-february-checkin.yaml",
                       [f"population.scale={SCALE}"])
    assert sc.timetable.checkin.enabled
    pop = build_population(sc)
    d = build_demand(sc, pop, SeedTree(1))
    ci = d.m_kind == KIND_CHECKIN
    assert ci.any()
    years = pop.class_year[d.m_class[ci]]
    assert years.min() >= 1 and years.max() <= 10


def test_checkin_disabled_gives_no_checkins() -> None:
    _, _, d = _build(("timetable.checkin.enabled=false", "timetable.checkin.video_share=1"))
    assert not (d.m_kind == KIND_CHECKIN).any()
    assert (d.m_kind == KIND_LESSON).sum() > 50


def test_no_lessons_no_checkins_no_meetings() -> None:
    _, _, d = _build(("timetable.live_lesson_share=0", "timetable.checkin.enabled=false"))
    assert d.n_meetings == 0
    assert d.n_pm == 0
    assert d.m_pm_lo.size == d.m_pm_hi.size == 0
    # pupils at home still log in
    assert d.login_pupil.size > 0


def test_lesson_share_by_type() -> None:
    _, pop, d = _build(("timetable.live_lesson_share_by_type={grundschule: 0}",))
    gs = pop.type_names.index("grundschule")
    lesson_type = pop.school_type[d.m_school[d.m_kind == KIND_LESSON]]
    assert not (lesson_type == gs).any()
    assert lesson_type.size > 0


@pytest.mark.parametrize(
    "override",
    [
        "timetable.start_offset_min_by_type={gymnasim: 30}",
        "timetable.live_lesson_share_by_type={gymnasim: 0.5}",
    ],
)
def test_unknown_school_type_in_by_type_settings_is_refused(override: str) -> None:
    raised = False
    try:
        sc = small_scenario(SCALE, [override])
        pop = build_population(sc)
        build_demand(sc, pop, SeedTree(1))
    except ConfigError as exc:
        raised = "gymnasim" in str(exc)
    assert raised, f"{override} was accepted silently"


# ------------------------------------------------------------------------------ participants


def test_full_attendance_every_pupil_of_the_class_joins() -> None:
    _, pop, d = _build(("behaviour.attendance=1", "population.at_home_share=1"))
    assert d.n_at_home == pop.n_pupils
    assert d.n_meetings > 50
    for m in range(d.n_meetings):
        c = d.m_class[m]
        expected = pop.class_first_pupil[c] + np.arange(pop.class_size[c])
        np.testing.assert_array_equal(d.pm_pupil[d.m_pm_lo[m]:d.m_pm_hi[m]], expected)
    assert d.n_pm == int(pop.class_size[d.m_class].sum())


def test_pm_lo_hi_partition_pupil_meetings() -> None:
    _, pop, d = _build()
    lo, hi = d.m_pm_lo, d.m_pm_hi
    assert lo[0] == 0
    assert hi[-1] == d.n_pm
    np.testing.assert_array_equal(lo[1:], hi[:-1])
    assert (hi >= lo).all()
    np.testing.assert_array_equal(np.repeat(np.arange(d.n_meetings), hi - lo), d.pm_meeting)
    # every participant is a pupil of the meeting's class, at most once per meeting
    c = d.m_class[d.pm_meeting]
    first = pop.class_first_pupil[c]
    assert ((d.pm_pupil >= first) & (d.pm_pupil < first + pop.class_size[c])).all()
    key = d.pm_meeting * (pop.n_pupils + 1) + d.pm_pupil
    assert np.unique(key).size == key.size


def test_attendance_share_roughly_respected() -> None:
    sc, pop, d = _build()
    at_home_in_meetings = pop.class_size[d.m_class].sum() * sc.population.at_home_share
    share = d.n_pm / at_home_in_meetings
    assert abs(share - sc.behaviour.attendance) < 0.03


def test_logins_within_day_one_per_pupil() -> None:
    sc, pop, d = _build()
    assert (d.login_t >= sc.day.start).all()
    assert (d.login_t <= sc.day.end - 1.0).all()
    assert np.unique(d.login_pupil).size == d.login_pupil.size
    assert ((d.login_pupil >= 0) & (d.login_pupil < pop.n_pupils)).all()
    assert d.pupil_school.size == pop.n_pupils


# ------------------------------------------------------------------------------ timing


def test_start_offset_by_type_shifts_exactly_that_type() -> None:
    base = ("timetable.school_start_spread_min=0",)
    _, pop, a = _build(base)
    _, _, b = _build((*base, "timetable.start_offset_min_by_type={gymnasium: 30}"))
    gym = pop.type_names.index("gymnasium")

    def meetings(d: Demand, of_type: bool) -> tuple[np.ndarray, ...]:
        sel = (pop.school_type[d.m_school] == gym) == of_type
        o = np.lexsort((d.m_start[sel], d.m_kind[sel], d.m_class[sel]))
        return d.m_class[sel][o], d.m_kind[sel][o], d.m_start[sel][o], d.m_end[sel][o]

    ca, ka, sa, ea = meetings(a, True)
    cb, kb, sb, eb = meetings(b, True)
    assert ca.size > 10
    np.testing.assert_array_equal(ca, cb)
    np.testing.assert_array_equal(ka, kb)
    np.testing.assert_array_equal(sb - sa, np.full(sa.size, 1800.0))
    np.testing.assert_array_equal(eb - ea, np.full(ea.size, 1800.0))
    # other types are untouched
    for x, y in zip(meetings(a, False), meetings(b, False), strict=True):
        np.testing.assert_array_equal(x, y)


def test_without_spread_all_bells_ring_together() -> None:
    sc, _, d = _build(("timetable.school_start_spread_min=0", "timetable.checkin.enabled=true"))
    ci = d.m_kind == KIND_CHECKIN
    assert ci.any()
    assert (d.m_start[ci] == sc.timetable.first_period_start).all()


def test_bell_spread_whole_minutes_within_bound() -> None:
    sc, _, d = _build(("timetable.checkin.enabled=true", "timetable.checkin.video_share=1"))
    ci = d.m_kind == KIND_CHECKIN
    off = d.m_start[ci] - sc.timetable.first_period_start
    spread = sc.timetable.school_start_spread_min * 60
    assert (np.abs(off) <= spread).all()
    assert (off % 60 == 0).all()
    assert np.unique(off).size > 3


# ---------------------------------------------------------------------- stagger within schools

_BY_YEAR = ("policies.stagger.within_school_slots=3", "policies.stagger.within_school_slot_min=10")


def _shifted_by(a: Demand, b: Demand, shift: np.ndarray) -> None:
    """``b``'s meetings and logins are ``a``'s, each class's moved by ``shift`` (seconds)."""
    key_a = np.lexsort((a.m_start, a.m_class))
    key_b = np.lexsort((b.m_start, b.m_class))
    np.testing.assert_array_equal(a.m_class[key_a], b.m_class[key_b])
    np.testing.assert_array_equal(a.m_start[key_a] + shift[a.m_class[key_a]], b.m_start[key_b])
    np.testing.assert_array_equal(np.sort(a.login_pupil), np.sort(b.login_pupil))


def test_stagger_by_year_moves_each_year_to_its_slot() -> None:
    from sim.model.demand import within_school_offsets_s

    sc, pop, flat = _build()
    sc_y, _, by_year = _build(_BY_YEAR)
    shift = within_school_offsets_s(sc_y, pop)
    np.testing.assert_array_equal(shift, ((pop.class_year - 1) % 3) * 600.0)
    _shifted_by(flat, by_year, shift)
    # the morning logins follow the class's first bell: the same pupils, later by the shift
    pupil_class = np.repeat(np.arange(pop.n_classes), pop.class_size)
    a, b = np.argsort(flat.login_pupil), np.argsort(by_year.login_pupil)
    t_flat, t_year = flat.login_t[a], by_year.login_t[b]
    inside = t_flat > sc.day.start  # not clipped at the start of the simulated day
    assert inside.mean() > 0.9
    np.testing.assert_allclose((t_year - t_flat)[inside],
                               shift[pupil_class[flat.login_pupil[a]]][inside])
    assert np.unique(shift).size == 3


def test_stagger_only_named_schools_moves_only_their_classes() -> None:
    """``within_school_only`` (the week's carry-over): the named schools' classes move as with
    every school staggering, all other classes stay; a school that does not exist is an
    error naming the field."""
    from sim.model.demand import within_school_offsets_s

    _, pop, flat = _build()
    every = within_school_offsets_s(_build(_BY_YEAR)[0], pop)
    named = [0, 2]
    sc, _, some = _build((*_BY_YEAR, f"policies.stagger.within_school_only={named}"))
    shift = within_school_offsets_s(sc, pop)
    chosen = np.isin(pop.class_school, named)
    np.testing.assert_array_equal(shift[chosen], every[chosen])
    assert (shift[~chosen] == 0).all() and shift[chosen].any()
    _shifted_by(flat, some, shift)
    bad, _, _ = _build(_BY_YEAR)
    bad = bad.model_copy(update={"policies": bad.policies.model_copy(update={
        "stagger": bad.policies.stagger.model_copy(update={
            "within_school_only": [pop.n_schools]})})})
    with pytest.raises(ConfigError, match="within_school_only: school"):
        within_school_offsets_s(bad, pop)


def test_stagger_by_class_spreads_parallel_classes() -> None:
    from sim.model.demand import class_rank_in_school, within_school_offsets_s

    sc, pop, _ = _build((*_BY_YEAR, "policies.stagger.within_school_by=class"))
    shift = within_school_offsets_s(sc, pop)
    rank = class_rank_in_school(pop.class_school)
    np.testing.assert_array_equal(shift, (rank % 3) * 600.0)
    # a year group with parallel classes starts in more than one slot
    same = (pop.class_school[1:] == pop.class_school[:-1]) & (
        pop.class_year[1:] == pop.class_year[:-1])
    assert same.any()
    assert (shift[1:][same] != shift[:-1][same]).all()


def test_class_rank_in_school() -> None:
    from sim.model.demand import class_rank_in_school

    np.testing.assert_array_equal(class_rank_in_school(np.array([0, 0, 1, 0, 2, 1])),
                                  [0, 1, 0, 2, 0, 1])


def test_stagger_within_schools_off_changes_nothing() -> None:
    """One slot (the default) or settings without slots leave the demand and the hash as
    they were."""
    sc, _, flat = _build()
    sc1, _, same = _build(("policies.stagger.within_school_slots=1",
                           "policies.stagger.within_school_slot_min=30",
                           "policies.stagger.within_school_by=class"))
    _shifted_by(flat, same, np.zeros(flat.m_class.max() + 1))
    assert sc.config_hash() == sc1.config_hash()
    assert _build(_BY_YEAR)[0].config_hash() != sc.config_hash()


# ------------------------------------------------------------------------------ seed tree


def test_same_seed_same_demand_other_seed_differs() -> None:
    _, _, a = _build(seed=5)
    _, _, b = _build.__wrapped__((), seed=5)
    _, _, c = _build(seed=6)
    np.testing.assert_array_equal(a.pm_first_t, b.pm_first_t)
    np.testing.assert_array_equal(a.m_start, b.m_start)
    assert not (a.n_pm == c.n_pm and np.array_equal(a.pm_first_t, c.pm_first_t))


def test_webcam_share_does_not_reshuffle_arrivals() -> None:
    """Common random numbers: a camera policy must not change who arrives when."""
    _, _, a = _build()
    _, _, b = _build(("behaviour.webcam_share_pupils=0.9",))
    np.testing.assert_array_equal(a.pm_meeting, b.pm_meeting)
    np.testing.assert_array_equal(a.pm_pupil, b.pm_pupil)
    np.testing.assert_array_equal(a.pm_first_t, b.pm_first_t)
    np.testing.assert_array_equal(a.login_t, b.login_t)
    # ... while the setting itself took effect
    assert b.pm_cam.mean() > a.pm_cam.mean() + 0.5


# ------------------------------------------------------------------------------ poisson


@pytest.mark.parametrize("holding", ["exponential", "deterministic"])
def test_poisson_demand(holding: str) -> None:
    rate = 0.5
    sc, pop, d = _build((
        "demand.kind=poisson",
        f"demand.poisson={{platform: iserv, arrival_rate_per_s: {rate}, "
        f"holding_mean_s: 60, holding: {holding}}}",
    ))
    horizon = sc.day.end - sc.day.start
    expected = rate * horizon
    assert abs(d.n_meetings - expected) <= 4 * np.sqrt(expected)
    assert (np.diff(d.m_start) >= 0).all()
    assert d.m_start.min() >= sc.day.start and d.m_start.max() < sc.day.end
    assert (d.m_kind == KIND_POISSON).all()
    assert np.isinf(d.m_end).all()
    assert d.n_pm == 0
    iserv = pop.platform_names.index("iserv")
    assert (pop.school_platform[d.m_school] == iserv).all()
    if holding == "deterministic":
        assert (d.m_hold == 60.0).all()
    else:
        assert abs(d.m_hold.mean() / 60.0 - 1.0) < 0.05
    # exponential inter-arrival times: mean 1/rate, cv ≈ 1
    gaps = np.diff(d.m_start)
    assert abs(gaps.mean() * rate - 1.0) < 0.05
    assert abs(gaps.std() / gaps.mean() - 1.0) < 0.05


def test_checkin_share_does_not_reshuffle_lessons() -> None:
    """Common random numbers: lessons are drawn from their own streams, so changing the
    check-in share leaves every lesson participant's arrival time as it was."""
    from sim.model.demand import KIND_LESSON, build_demand
    from sim.model.seeds import SeedTree
    from sim.model.simulation import population_for
    from tests.conftest import small_scenario

    def lesson_arrivals(share: float) -> np.ndarray:
        sc = small_scenario(0.01, ["timetable.checkin.enabled=true",
                                   f"timetable.checkin.video_share={share}"])
        d = build_demand(sc, population_for(sc), SeedTree(5))
        # from period 3 on (period-1 lessons of check-in classes legitimately start later)
        lesson = (d.m_kind[d.pm_meeting] == KIND_LESSON) & (d.m_start[d.pm_meeting] >= 9 * 3600)
        key = np.lexsort((d.pm_first_t[lesson], d.pm_pupil[lesson]))
        return np.column_stack([d.pm_pupil[lesson][key], d.pm_first_t[lesson][key]])

    a, b = lesson_arrivals(0.05), lesson_arrivals(0.5)
    assert len(a) > 100
    np.testing.assert_array_equal(a, b)


def test_live_phase_lasts_its_minutes_within_its_period() -> None:
    """A lesson's live phase is ``live_lesson_min`` long, starts on a whole minute and stays
    inside its (school-shifted) period; without it a lesson fills the period."""
    from sim.model.demand import class_start_offsets_s, period_starts_s

    sc, pop, d = _build()
    assert sc.timetable.live_lesson_min == 25
    les = d.m_kind == KIND_LESSON
    # 25 minutes fit after a 20-minute check-in in a 45-minute period too
    assert np.allclose(d.m_end[les] - d.m_start[les], 25 * 60)
    off = class_start_offsets_s(sc, pop)[d.m_class[les]]
    rel = d.m_start[les] - off - sc.timetable.first_period_start
    assert np.allclose(rel % 60, 0)
    starts = period_starts_s(sc) - sc.timetable.first_period_start
    k = np.searchsorted(starts, rel, side="right") - 1
    assert (d.m_end[les] - off - sc.timetable.first_period_start
            <= starts[k] + sc.timetable.period_min * 60 + 1e-9).all()
    assert len(np.unique(rel % (sc.timetable.period_min * 60))) > 5  # phases are spread
    _, _, whole = _build(("timetable.live_lesson_min=null",))
    wl = whole.m_kind == KIND_LESSON
    assert np.allclose((whole.m_end - whole.m_start)[wl].max(), sc.timetable.period_min * 60)
