"""Metrics: the KPIs with stable names (see DESIGN.md), the run's other figures, the tidy time
series, and the conservation check — computed once, after the run, from the recorder
(``sim.model.recorder``), the per-interval samples (``sim.model.sampler``) and the final state.

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
- ``peak_node_utilisation`` — highest utilisation (max of participant and bandwidth share)
  any node reached: the busiest single node.
- ``peak_cluster_utilisation`` — the whole cluster at its peak: the highest ratio, over the
  sampled minutes and the clusters, of what a cluster carries to what its nodes that are up
  can carry — the largest of its participant, bandwidth and CPU shares, as a node's
  utilisation is (a cluster can be "half used" while one node is full; with CPU-bound nodes
  the participant ceiling alone would understate it several-fold).
- ``blocking_probability`` — share of attempts that reached a node and were refused for
  capacity.
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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.model.causes import attribution, cause_names
from sim.model.recorder import Code, Recorder
from sim.model.states import DONE, GAVE_UP, IN_SESSION, LOBBY, M_FAILED, TRYING

if TYPE_CHECKING:
    from sim.config import Scenario
    from sim.model.behaviour import Behaviour
    from sim.model.demand import Demand
    from sim.model.population import Population
    from sim.model.world import World


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


def conservation(demand: Demand, beh: Behaviour, n_schools: int, now: float) -> dict[str, int]:
    """Every pupil-meeting that started is joined, gave up or still trying — in total and
    at every school — and the live counter of trying pupils agrees."""
    d = demand
    st = beh.pm_status
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
    if beh.trying != n_t:
        raise ConservationError(f"live counter of trying pupils {beh.trying} != {n_t}")
    return {"intending": intending, "joined": n_j, "gave_up": n_g, "still_trying": n_t}


@dataclass
class Summary:
    """What one run's figures come to (``RunResult`` without its run metadata)."""

    kpis: dict[str, float]
    extra: dict[str, Any]
    timeseries: pd.DataFrame
    schools: pd.DataFrame
    conservation: dict[str, int]


def summarise(sc: Scenario, pop: Population, d: Demand, world: World, beh: Behaviour,
              rec: Recorder, now: float, crashes: list[tuple[float, int]],
              scale_up_nodes: int) -> Summary:
    """KPIs, extra figures, time series and schools table of a finished run."""
    count_from = world.count_from
    platforms = world.platforms
    poisson = sc.demand.kind == "poisson"
    cons = conservation(d, beh, pop.n_schools, now) if not poisson else {}
    attempts = rec.count(Code.ATTEMPT)
    succeeded = rec.count(Code.JOIN_OK)
    refused = rec.count(Code.FAIL_CAPACITY)
    reached = refused + succeeded
    if poisson:
        open_t = np.array(beh.m_open_t)
        mask = d.m_start >= count_from
        intending = int(mask.sum())
        joined_once = int(np.isfinite(open_t[mask]).sum())
        ttj = (open_t - d.m_start)[mask & np.isfinite(open_t)]
        ttj_retried = np.zeros(0)
        gave_up = intending - joined_once
    else:
        intending = cons["intending"]
        joined_once = int(np.isfinite(beh.pm_join_t).sum())
        ttj_all = beh.pm_join_t - np.maximum(d.pm_first_t, d.m_start[d.pm_meeting])
        ok = np.isfinite(ttj_all)
        ttj = np.maximum(ttj_all[ok], 0.0)
        ttj_retried = np.maximum(ttj_all[ok & (beh.pm_attempts > 1)], 0.0)
        gave_up = cons["gave_up"]
    # affected schools: > 10 % of the pupils who meant to use the platform that day lost
    # > 15 min (meeting minutes missed, plus the wait for the morning login)
    if d.n_pm or d.login_pupil.size:
        login_wait = np.zeros(beh.pupil_lost_s.size)
        lg_wait = np.where(beh.lg_status == DONE, beh.lg_t - d.login_t,
                           np.where(beh.lg_status == GAVE_UP, np.inf,
                                    now - d.login_t))
        login_wait[d.login_pupil] = np.maximum(lg_wait, 0.0)
        disrupted = beh.pupil_lost_s + login_wait
        # the sorted distinct pupils of both (np.unique sorts: a mask is O(n))
        seen = np.zeros(beh.pupil_lost_s.size, dtype=bool)
        seen[d.pm_pupil] = True
        seen[d.login_pupil] = True
        intending_pupils = np.flatnonzero(seen)
        lost = disrupted[intending_pupils] > 900.0
        sch = d.pupil_school[intending_pupils]
        n_int = np.bincount(sch, minlength=pop.n_schools)
        n_lost = np.bincount(sch[lost], minlength=pop.n_schools)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(n_int > 0, n_lost / np.maximum(n_int, 1), 0.0)
        affected = (share > 0.10) & (n_int > 0)
        affected_share = float(affected.sum() / max(1, int((n_int > 0).sum())))
    else:
        n_int = np.zeros(pop.n_schools, dtype=np.int64)
        n_lost = np.zeros(pop.n_schools, dtype=np.int64)
        affected = np.zeros(pop.n_schools, dtype=bool)
        affected_share = 0.0
    kpis: dict[str, float] = {
        "join_attempts": attempts,
        "joins_succeeded": succeeded,
        "join_success_rate": joined_once / intending if intending else 1.0,
        "p50_time_to_join_s": percentile(ttj, 50),
        "p95_time_to_join_s": percentile(ttj, 95),
        "p99_time_to_join_s": percentile(ttj, 99),
        "p95_time_to_join_retried_s": percentile(ttj_retried, 95),
        "gave_up": gave_up,
        "lost_pupil_minutes": beh.lost_s / 60.0,
        "peak_concurrent_participants": world.participants.peak,
        "peak_node_utilisation": max(p.pool.peak_utilisation for p in platforms),
        "blocking_probability": refused / reached if reached else 0.0,
        "affected_schools_share": affected_share,
    }
    fe_stats = {}
    for plat in platforms:
        fe = plat.frontend
        horizon = max(1e-9, now - max(sc.day.start, fe.count_from))
        fe_stats[plat.name] = {
            "arrivals": fe.arrivals,
            "served": fe.served,
            "timed_out": fe.timed_out,
            "waited_share": fe.waited / fe.arrivals if fe.arrivals else 0.0,
            "mean_wait_s": fe.wait_sum_s / max(1, fe.served + fe.timed_out),
            "mean_queue_length": fe.wait_sum_s / horizon,
            "mean_busy_workers": fe.busy_sum_s / horizon,
        }
    ts_rows = list(rec.samples)
    ts_rows += rec.event_series(
        pop.platform_names, sc.day.start, sc.day.end, float(sc.day.sample_interval_s)
    )
    names = cause_names(pop.platform_names)
    by_cause, school_by_cause, cause_rows = attribution(
        beh.pupils.ledger, names, d.m_school[d.pm_meeting], pop.n_schools,
        pop.school_platform, pop.platform_names, pop.school_region, pop.region_names,
        sc.day.start, sc.day.end, float(sc.day.sample_interval_s))
    ts_rows += cause_rows
    timeseries = tidy_timeseries(ts_rows)
    kpis["peak_cluster_utilisation"] = peak_cluster_utilisation(timeseries)
    conference_hours = _conference_hours(timeseries, sc.day.sample_interval_s)
    extra: dict[str, Any] = {
        "intending_participants": intending,
        "joined_at_least_once": joined_once,
        "still_trying": cons.get("still_trying", 0),
        "meetings": d.n_meetings,
        "rooms_opened": rec.count(Code.T_OPEN) if not poisson else joined_once,
        "rooms_failed": rec.count(Code.T_GAVE_UP),
        "teacher_attempts": rec.count(Code.T_ATTEMPT),
        "failed_frontend": rec.count(Code.FAIL_FRONTEND),
        "failed_dispatcher": rec.count(Code.FAIL_DISPATCH),
        "refused_capacity": refused,
        "dropped_and_rejoined": rec.count(Code.DROP),
        "login_attempts": rec.count(Code.LOGIN_ATTEMPT),
        "logins_succeeded": rec.count(Code.LOGIN_OK),
        "logins_gave_up": rec.count(Code.LOGIN_GAVE_UP),
        "pupils": pop.n_pupils,
        "pupils_at_home": d.n_at_home,
        "schools": pop.n_schools,
        "affected_schools": int(affected.sum()),
        # the KPI's share among one platform's schools ("2–3 % of schools" is IServ's)
        "affected_schools_share_per_platform": {
            p.name: float(affected[pop.school_platform == p.index].sum()
                          / max(1, int((n_int[pop.school_platform == p.index] > 0).sum())))
            for p in platforms
        },
        "conference_hours": beh.session_s / 3600.0,
        "conference_hours_sampled": conference_hours,
        "conference_hours_per_platform": {
            p.name: beh.session_s_platform[p.index] / 3600.0 for p in platforms
        },
        "joins_per_platform": {p.name: rec.count(Code.JOIN_OK, p.index)
                               for p in platforms},
        # teachers' joins (opening or re-entering their rooms): platforms count them too
        "host_joins_per_platform": {p.name: rec.count(Code.T_OPEN, p.index)
                                    for p in platforms},
        "peak_participants_per_platform": {
            p.name: p.pool.peak_participants for p in platforms
        },
        "peak_node_utilisation_per_platform": {
            p.name: p.pool.peak_utilisation for p in platforms
        },
        "frontends": fe_stats,
        "rate_limited": rec.count(Code.RATE_LIMITED),
        "peak_joins_per_node_per_interval": max(
            p.pool.peak_joins_per_node_interval for p in platforms
        ),
        "server_crashes": len(crashes),
        "schools_with_crashed_server": len({s for _, s in crashes}),
        "nodes_started_by_scale_up": scale_up_nodes,
        **by_cause,
    }
    schools = pop.schools_frame()
    schools["intending_pupils"] = n_int
    schools["pupils_lost_over_15min"] = n_lost
    schools["affected"] = affected
    if d.n_pm:
        pm_school = d.m_school[d.pm_meeting]
        schools["join_attempts"] = np.bincount(
            pm_school, weights=beh.pm_attempts, minlength=pop.n_schools
        )
        schools["pupil_meetings"] = np.bincount(pm_school, minlength=pop.n_schools)
        schools["gave_up"] = np.bincount(
            pm_school[beh.pm_status == GAVE_UP], minlength=pop.n_schools
        )
        schools["lost_pupil_minutes"] = (
            np.bincount(d.pupil_school, weights=beh.pupil_lost_s, minlength=pop.n_schools)[
                : pop.n_schools
            ]
            / 60
        )
    for name, col in school_by_cause.items():
        schools[f"lost_pupil_minutes:{name}"] = col
    rooms_failed_share = (
        float(np.sum(np.array(beh.m_state) == M_FAILED)) / d.n_meetings if d.n_meetings else 0.0
    )
    extra["rooms_failed_share"] = rooms_failed_share
    kpis = {k: kpis[k] for k in KPI_NAMES}  # in the contract's order
    return Summary(as_jsonable(kpis), as_jsonable(extra), timeseries, schools, cons)


def peak_cluster_utilisation(ts: pd.DataFrame) -> float:
    """Highest cluster share (participants, bandwidth or CPU) of the nodes up, over clusters
    and minutes."""
    pairs = (("participants", "capacity_participants"), ("load_mbit_s", "capacity_mbit_s"),
             ("cpu", "capacity_cpu"))
    names = [m for pair in pairs for m in pair]
    sel = ts[ts["component"].str.startswith("cluster:") & ts["metric"].isin(names)]
    if sel.empty:
        return 0.0
    wide = sel.pivot_table(index=["component", "t"], columns="metric", values="value",
                           aggfunc="first")
    share = np.zeros(len(wide))
    for used, cap in pairs:
        if used in wide and cap in wide:
            u = wide[used].to_numpy(float)
            c = wide[cap].to_numpy(float)
            ok = np.isfinite(u) & np.isfinite(c) & (c > 0)
            share = np.maximum(share, np.where(ok, u / np.where(ok, c, 1.0), 0.0))
    return float(share.max()) if share.size else 0.0


def _conference_hours(ts: pd.DataFrame, interval_s: float) -> float:
    sel = ts[(ts["component"] == "total") & (ts["metric"] == "participants")]
    return float(sel["value"].sum() * interval_s / 3600.0)


#: What binds a conference node besides its participant ceiling: (used, capacity) metrics of
#: the sampled cluster views. A cluster without a CPU limit samples no ``cpu``.
_BINDING = (("load_mbit_s", "capacity_mbit_s"), ("cpu", "capacity_cpu"))


def capacity_at_mix(ts: pd.DataFrame, component: str) -> pd.DataFrame:
    """Participants a cluster's nodes that are up can hold at each minute's media mix.

    The participant ceiling (``capacity_participants``), lowered where bandwidth or CPU binds
    first: that resource's capacity over what one participant uses of it at that minute
    (``used / participants``; minutes without participants take the nearest minute's mix).
    ``component`` is ``cluster:<name>`` or ``total`` (the sum over the clusters). Returns
    columns ``t`` and ``value``, sorted by ``t``; the one rule the reports and the what-if
    page draw as "capacity".
    """
    if component == "total":
        comps = sorted(str(c) for c in ts["component"].unique()
                       if str(c).startswith("cluster:"))
        parts = [capacity_at_mix(ts, c).set_index("t")["value"] for c in comps]
        if not parts:
            return pd.DataFrame({"t": [], "value": []})
        total = pd.concat(parts, axis=1).ffill().fillna(0.0).sum(axis=1)
        return pd.DataFrame({"t": total.index.to_numpy(), "value": total.to_numpy()})
    sel = ts[ts["component"] == component]

    def metric(m: str) -> pd.Series:
        return sel[sel["metric"] == m].groupby("t")["value"].first()

    ceiling = metric("capacity_participants")
    if ceiling.empty:
        return pd.DataFrame({"t": [], "value": []})
    part = metric("participants").reindex(ceiling.index)
    held = ceiling.astype(float)
    for used_m, cap_m in _BINDING:
        used, cap = metric(used_m), metric(cap_m)
        if used.empty or cap.empty:
            continue
        per = (used.reindex(ceiling.index) / part.where(part > 0)).ffill().bfill()
        limit = cap.reindex(ceiling.index).ffill().fillna(0.0) / per.where(per > 0)
        held = held.where(~np.isfinite(limit) | (held <= limit), limit)
    return pd.DataFrame({"t": held.index.to_numpy(), "value": held.to_numpy(float)})
