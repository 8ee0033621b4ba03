"""Metrics: the KPIs with stable names (see DESIGN.md), the run's other figures, the tidy time
series, and the conservation check — computed once, after the run, by :func:`summarise` from
a narrow view of the finished run (:class:`RunEnd`: the recorder with its per-interval samples,
and snapshots of the world and the people), in named steps: who got in, affected schools, the
series and causes, the KPIs, the other figures, the schools table.

KPI definitions (pupils only; teachers are reported under ``teacher_*``):

- ``join_attempts`` — conference join attempts of pupils (first tries, retries, rejoins).
- ``joins_succeeded`` — attempts that got into the room (incl. rejoins after a drop).
- ``join_success_rate`` — share of intending pupil-meetings that got in at least once.
- ``p50/p95/p99_time_to_join_s`` — from the later of the pupil's first attempt and the
  meeting's start to the first successful join, over pupil-meetings that got in.
- ``p95_time_to_join_retried_s`` — the same among those that needed more than one attempt.
- ``gave_up`` — pupil-meetings whose last chain of attempts ended without getting in.
- ``lost_pupil_minutes`` — meeting minutes pupils missed because they could not get in.
- ``peak_concurrent_participants`` — most people (pupils and teachers) in conferences at once.
- ``peak_node_utilisation`` — highest utilisation (max of participant, bandwidth and CPU
  share) any node reached at a join (above 1: load took it past its CPU or bandwidth).
- ``peak_cluster_utilisation`` — the whole cluster at its peak: the highest ratio, over the
  sampled minutes and the clusters, of what a cluster carries to what its nodes that are up
  can carry — the largest of its participant, bandwidth and CPU shares, as a node's
  utilisation is (a cluster can be "half used" while one node is full; with CPU-bound nodes
  the participant ceiling alone would understate it several-fold).
- ``blocking_probability`` — share of attempts that reached a node and were refused at a
  hard limit (the node's participant limit; load never refuses unless ``refuse_overload``).
- ``degraded_pupil_minutes`` — pupil-minutes in meetings on a degraded node (CPU above
  ``stress_threshold``, or egress past its bandwidth; ``sim.model.components.degradation``);
  ``degraded_share`` — their share of all pupil-minutes in meetings.
- ``affected_schools_share`` — schools where more than 10 % of the pupils who intended to
  join lost more than 15 minutes in the day.

Direct accounting (taxonomy and charging rule in ``sim.model.causes``): every charge of lost
pupil-seconds is recorded with its cause, so ``extra["lost_pupil_minutes_by_cause"]`` sums to
``lost_pupil_minutes`` (to floating-point rounding, ~1e-12 relative: the same seconds added in
another order), and so do, at every school, the ``schools`` columns
``lost_pupil_minutes:<cause>`` to ``lost_pupil_minutes``. Also per platform and region
(``extra``), per interval (series component ``cause:<name>``, metric ``lost_pupil_minutes``,
by when the loss began), and pupils' failed attempts by cause
(``extra["failed_attempts_by_cause"]``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.model.capacity import peak_cluster_utilisation
from sim.model.causes import attribution, cause_names
from sim.model.components.degradation import degraded_share
from sim.model.population import TIER_NAMES
from sim.model.recorder import Code, Recorder
from sim.model.states import DONE, GAVE_UP, IN_SESSION, LOBBY, M_FAILED, TRYING

if TYPE_CHECKING:
    from sim.config import Scenario
    from sim.model.behaviour import PeopleOutcome
    from sim.model.demand import Demand
    from sim.model.population import Population
    from sim.model.world import WorldOutcome


# The KPI contract (DESIGN.md): these names are stable.
KPI_NAMES = (
    "join_attempts",
    "joins_succeeded",
    "join_success_rate",
    "p50_time_to_join_s",
    "p95_time_to_join_s",
    "p99_time_to_join_s",
    "p95_time_to_join_retried_s",
    "gave_up",
    "lost_pupil_minutes",
    "peak_concurrent_participants",
    "peak_node_utilisation",
    "peak_cluster_utilisation",
    "blocking_probability",
    "affected_schools_share",
    "degraded_pupil_minutes",
    "degraded_share",
)


def tidy_timeseries(rows: list[tuple[float, str, str, float]]) -> pd.DataFrame:
    """The per-minute series in long format: t (s since midnight), component, metric, value."""
    df = pd.DataFrame(rows, columns=["t", "component", "metric", "value"])
    df["t"] = df["t"].astype("float64")
    df["value"] = df["value"].astype("float64")
    df = df.sort_values(["component", "metric", "t"], kind="stable").reset_index(drop=True)
    df["component"] = df["component"].astype("string")
    df["metric"] = df["metric"].astype("string")
    return df


def percentile(x: np.ndarray, q: float) -> float:
    """Percentile (linear interpolation); 0.0 for an empty sample."""
    if x.size == 0:
        return 0.0
    return float(np.percentile(x, q))


def as_jsonable(d: dict[str, Any]) -> dict[str, Any]:
    """Floats and ints only (numpy scalars converted, NaN → None)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[k] = as_jsonable(v)
        elif isinstance(v, np.integer | int) and not isinstance(v, bool):
            out[k] = int(v)
        elif isinstance(v, np.floating | float):
            fv = float(v)
            out[k] = None if not np.isfinite(fv) else fv
        else:
            out[k] = v
    return out


class ConservationError(AssertionError):
    """Internal error: intending ≠ joined + gave up + still trying."""


def conservation(demand: Demand, people: PeopleOutcome, n_schools: int,
                 now: float) -> dict[str, int]:
    """Every pupil-meeting that started is joined, gave up or still trying — in total and
    at every school — and the live counter of trying pupils agrees."""
    d = demand
    st = people.pm_status
    started = d.pm_first_t <= now
    joined = (st == IN_SESSION) | (st == DONE)
    gave = st == GAVE_UP
    trying = (st == TRYING) | (st == LOBBY)
    intending = int(started.sum())
    n_j, n_g, n_t = int(joined.sum()), int(gave.sum()), int(trying.sum())
    if intending != n_j + n_g + n_t:
        raise ConservationError(
            f"intending {intending} != joined {n_j} + gave up {n_g} + trying {n_t}"
        )
    # per school as well
    school = d.m_school[d.pm_meeting]
    per = [np.bincount(school[mask], minlength=n_schools)
           for mask in (started, joined, gave, trying)]
    bad = np.flatnonzero(per[0] != per[1] + per[2] + per[3])
    if bad.size:
        raise ConservationError(f"conservation fails at {bad.size} schools, e.g. {bad[0]}")
    if people.trying != n_t:
        raise ConservationError(f"live counter of trying pupils {people.trying} != {n_t}")
    return {"intending": intending, "joined": n_j, "gave_up": n_g, "still_trying": n_t}


@dataclass
class Summary:
    """What one run's figures come to (``RunResult`` without its run metadata)."""

    kpis: dict[str, float]
    extra: dict[str, Any]
    timeseries: pd.DataFrame
    schools: pd.DataFrame
    conservation: dict[str, int]


@dataclass(frozen=True)
class RunEnd:
    """What :func:`summarise` reads of a finished run: its inputs (scenario, population,
    demand), the recorder, and snapshots of the world and the people — counters, peaks and
    final states (``World.outcome``, ``Behaviour.outcome``), none of their machinery."""

    scenario: Scenario
    population: Population
    demand: Demand
    recorder: Recorder
    world: WorldOutcome
    people: PeopleOutcome
    now: float  # the clock at the end
    crashes: list[tuple[float, int]] = field(default_factory=list)  # (time, school) of each
    scale_up_nodes: int = 0  # reserve nodes started by scale-up policies

    @property
    def poisson(self) -> bool:
        """A validation run (``demand.kind: poisson``): single-person rooms, no timetable."""
        return self.scenario.demand.kind == "poisson"


def summarise(run: RunEnd) -> Summary:
    """KPIs, extra figures, time series and schools table of a finished run."""
    cons = ({} if run.poisson
            else conservation(run.demand, run.people, run.population.n_schools, run.now))
    joins = _joins(run, cons)
    affected = _affected_schools(run)
    timeseries, by_cause, school_by_cause = _series(run)
    kpis = _kpis(run, joins, affected, timeseries)
    extra = _extra(run, joins, affected, cons, by_cause, timeseries)
    schools = _schools(run, affected, school_by_cause)
    return Summary(as_jsonable(kpis), as_jsonable(extra), timeseries, schools, cons)


@dataclass(frozen=True)
class _Joins:
    """Who got in, and how long it took."""

    intending: int
    joined_once: int
    ttj: np.ndarray  # time to join of those who got in
    ttj_retried: np.ndarray  # … of those who needed more than one attempt
    gave_up: int


def _joins(run: RunEnd, cons: dict[str, int]) -> _Joins:
    d, people = run.demand, run.people
    if run.poisson:
        open_t = np.array(people.m_open_t)
        mask = d.m_start >= run.world.count_from
        intending = int(mask.sum())
        joined_once = int(np.isfinite(open_t[mask]).sum())
        ttj = (open_t - d.m_start)[mask & np.isfinite(open_t)]
        return _Joins(intending, joined_once, ttj, np.zeros(0), intending - joined_once)
    ttj_all = people.pm_join_t - np.maximum(d.pm_first_t, d.m_start[d.pm_meeting])
    ok = np.isfinite(ttj_all)
    return _Joins(cons["intending"], int(np.isfinite(people.pm_join_t).sum()),
                  np.maximum(ttj_all[ok], 0.0),
                  np.maximum(ttj_all[ok & (people.pm_attempts > 1)], 0.0), cons["gave_up"])


@dataclass(frozen=True)
class _Affected:
    """Per school: the pupils who meant to use the platform that day, those who lost over
    15 minutes, whether the school is affected; and the KPI's share."""

    intending: np.ndarray
    lost: np.ndarray
    mask: np.ndarray
    share: float


def _affected_schools(run: RunEnd) -> _Affected:
    # affected schools: > 10 % of the pupils who meant to use the platform that day lost
    # > 15 min (meeting minutes missed, plus the wait for the morning login)
    d, people, n_schools = run.demand, run.people, run.population.n_schools
    if not (d.n_pm or d.login_pupil.size):
        none = np.zeros(n_schools, dtype=np.int64)
        return _Affected(none, none.copy(), np.zeros(n_schools, dtype=bool), 0.0)
    login_wait = np.zeros(people.pupil_lost_s.size)
    lg_wait = np.where(people.login_status == DONE, people.login_t - d.login_t,
                       np.where(people.login_status == GAVE_UP, np.inf, run.now - d.login_t))
    login_wait[d.login_pupil] = np.maximum(lg_wait, 0.0)
    disrupted = people.pupil_lost_s + login_wait
    # the sorted distinct pupils of both (np.unique sorts: a mask is O(n))
    seen = np.zeros(people.pupil_lost_s.size, dtype=bool)
    seen[d.pm_pupil] = True
    seen[d.login_pupil] = True
    intending_pupils = np.flatnonzero(seen)
    lost = disrupted[intending_pupils] > 900.0
    sch = d.pupil_school[intending_pupils]
    n_int = np.bincount(sch, minlength=n_schools)
    n_lost = np.bincount(sch[lost], minlength=n_schools)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_int > 0, n_lost / np.maximum(n_int, 1), 0.0)
    affected = (share > 0.10) & (n_int > 0)
    return _Affected(n_int, n_lost, affected,
                     float(affected.sum() / max(1, int((n_int > 0).sum()))))


def _series(run: RunEnd) -> tuple[pd.DataFrame, dict[str, Any], dict[str, np.ndarray]]:
    """The tidy time series (samples, event counts, lost minutes by cause) and the ledger's
    figures by cause (``extra`` and per school)."""
    sc, pop, d, rec = run.scenario, run.population, run.demand, run.recorder
    interval = float(sc.day.sample_interval_s)
    rows = list(rec.samples)
    rows += rec.event_series(pop.platform_names, sc.day.start, sc.day.end, interval)
    by_cause, school_by_cause, cause_rows = attribution(
        run.people.ledger, cause_names(pop.platform_names), d.m_school[d.pm_meeting],
        pop.n_schools, pop.school_platform, pop.platform_names, pop.school_region,
        pop.region_names, sc.day.start, sc.day.end, interval)
    rows += cause_rows
    return tidy_timeseries(rows), by_cause, school_by_cause


def _kpis(run: RunEnd, joins: _Joins, affected: _Affected,
          timeseries: pd.DataFrame) -> dict[str, float]:
    """The KPIs, in the contract's order."""
    rec, platforms = run.recorder, run.world.platforms
    refused = rec.count(Code.FAIL_CAPACITY)
    reached = refused + rec.count(Code.JOIN_OK)
    kpis: dict[str, float] = {
        "join_attempts": rec.count(Code.ATTEMPT),
        "joins_succeeded": rec.count(Code.JOIN_OK),
        "join_success_rate": joins.joined_once / joins.intending if joins.intending else 1.0,
        "p50_time_to_join_s": percentile(joins.ttj, 50),
        "p95_time_to_join_s": percentile(joins.ttj, 95),
        "p99_time_to_join_s": percentile(joins.ttj, 99),
        "p95_time_to_join_retried_s": percentile(joins.ttj_retried, 95),
        "gave_up": joins.gave_up,
        "lost_pupil_minutes": run.people.lost_s / 60.0,
        "peak_concurrent_participants": run.world.peak_participants,
        "peak_node_utilisation": max(p.peak_utilisation for p in platforms),
        "peak_cluster_utilisation": peak_cluster_utilisation(timeseries),
        "blocking_probability": refused / reached if reached else 0.0,
        "affected_schools_share": affected.share,
        "degraded_pupil_minutes": sum(p.degraded_pupil_s for p in platforms) / 60.0,
        "degraded_share": degraded_share(platforms),
    }
    return {k: kpis[k] for k in KPI_NAMES}


def _frontends(run: RunEnd) -> dict[str, dict[str, float]]:
    """Each platform's front end: load, waits and time-outs."""
    out = {}
    for plat in run.world.platforms:
        fe = plat.frontend
        horizon = max(1e-9, run.now - max(run.scenario.day.start, fe.count_from))
        out[plat.name] = {
            "arrivals": fe.arrivals,
            "served": fe.served,
            "timed_out": fe.timed_out,
            "waited_share": fe.waited / fe.arrivals if fe.arrivals else 0.0,
            "mean_wait_s": fe.wait_sum_s / max(1, fe.served + fe.timed_out),
            "mean_queue_length": fe.wait_sum_s / horizon,
            "mean_busy_workers": fe.busy_sum_s / horizon,
        }
    return out


def _extra(run: RunEnd, joins: _Joins, affected: _Affected, cons: dict[str, int],
           by_cause: dict[str, Any], timeseries: pd.DataFrame) -> dict[str, Any]:
    """The run's other figures (``RunResult.extra``)."""
    pop, d, rec, people = run.population, run.demand, run.recorder, run.people
    platforms = run.world.platforms

    def per_platform(value: Callable[[Any], float]) -> dict[str, float]:
        return {p.name: value(p) for p in platforms}

    def share_affected(p: Any) -> float:
        mine = pop.school_platform == p.index
        return float(affected.mask[mine].sum()
                     / max(1, int((affected.intending[mine] > 0).sum())))

    m_state = np.array(people.m_state)
    return {
        "intending_participants": joins.intending,
        "joined_at_least_once": joins.joined_once,
        "still_trying": cons.get("still_trying", 0),
        "meetings": d.n_meetings,
        "rooms_opened": rec.count(Code.T_OPEN) if not run.poisson else joins.joined_once,
        "rooms_failed": rec.count(Code.T_GAVE_UP),
        "teacher_attempts": rec.count(Code.T_ATTEMPT),
        "failed_frontend": rec.count(Code.FAIL_FRONTEND),
        "failed_dispatcher": rec.count(Code.FAIL_DISPATCH),
        "refused_capacity": rec.count(Code.FAIL_CAPACITY),
        "dropped_and_rejoined": rec.count(Code.DROP),
        "login_attempts": rec.count(Code.LOGIN_ATTEMPT),
        "logins_succeeded": rec.count(Code.LOGIN_OK),
        "logins_gave_up": rec.count(Code.LOGIN_GAVE_UP),
        "pupils": pop.n_pupils,
        "pupils_at_home": d.n_at_home,
        "schools": pop.n_schools,
        "affected_schools": int(affected.mask.sum()),
        # the KPI's share among one platform's schools ("2–3 % of schools" is IServ's)
        "affected_schools_share_per_platform": per_platform(share_affected),
        "conference_hours": people.session_s / 3600.0,
        "conference_hours_sampled": _conference_hours(timeseries,
                                                      run.scenario.day.sample_interval_s),
        "conference_hours_per_platform": per_platform(
            lambda p: people.session_s_platform[p.index] / 3600.0),
        "joins_per_platform": per_platform(lambda p: rec.count(Code.JOIN_OK, p.index)),
        # teachers' joins (opening or re-entering their rooms): platforms count them too
        "host_joins_per_platform": per_platform(lambda p: rec.count(Code.T_OPEN, p.index)),
        "peak_participants_per_platform": per_platform(lambda p: p.peak_participants),
        "peak_node_utilisation_per_platform": per_platform(lambda p: p.peak_utilisation),
        "frontends": _frontends(run),
        "rate_limited": rec.count(Code.RATE_LIMITED),
        "peak_joins_per_node_per_interval": max(
            p.peak_joins_per_node_interval for p in platforms),
        "server_crashes": len(run.crashes),
        "server_crashes_by_tier": _crashes_by_tier(run),
        "schools_with_crashed_server": len({s for _, s in run.crashes}),
        **run.world.uplinks,
        "nodes_started_by_scale_up": run.scale_up_nodes,
        **by_cause,
        "rooms_failed_share": (float(np.sum(m_state == M_FAILED)) / d.n_meetings
                               if d.n_meetings else 0.0),
    }


def _crashes_by_tier(run: RunEnd) -> dict[str, int]:
    """Overload crashes by the crashed server's tier (``current``, ``outdated``)."""
    out = dict.fromkeys(TIER_NAMES.values(), 0)
    for _, s in run.crashes:
        out[TIER_NAMES[int(run.population.school_tier[s])]] += 1
    return out


def _schools(run: RunEnd, affected: _Affected,
             school_by_cause: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per school: who meant to join, who lost out, and lost minutes by cause."""
    pop, d, people = run.population, run.demand, run.people
    schools = pop.schools_frame()
    schools["intending_pupils"] = affected.intending
    schools["pupils_lost_over_15min"] = affected.lost
    schools["affected"] = affected.mask
    if d.n_pm:
        pm_school = d.m_school[d.pm_meeting]
        schools["join_attempts"] = np.bincount(
            pm_school, weights=people.pm_attempts, minlength=pop.n_schools)
        schools["pupil_meetings"] = np.bincount(pm_school, minlength=pop.n_schools)
        schools["gave_up"] = np.bincount(
            pm_school[people.pm_status == GAVE_UP], minlength=pop.n_schools)
        schools["lost_pupil_minutes"] = np.bincount(
            d.pupil_school, weights=people.pupil_lost_s,
            minlength=pop.n_schools)[: pop.n_schools] / 60
    for name, col in school_by_cause.items():
        schools[f"lost_pupil_minutes:{name}"] = col
    return schools


def _conference_hours(ts: pd.DataFrame, interval_s: float) -> float:
    sel = ts[(ts["component"] == "total") & (ts["metric"] == "participants")]
    return float(sel["value"].sum() * interval_s / 3600.0)
