"""One replication: ``simulate_once(scenario, seed) → RunResult`` on one SimPy environment.

Build order: population (fixed per scenario) → demand (pre-sampled from the seed tree) →
platforms, school servers → behaviour → one driver that feeds the pre-determined stream
(first attempts, teacher opens, meeting ends, morning logins) into the environment in time
order → per-minute sampler → run → KPIs, tidy time series, conservation check.

Only what depends on the state of the infrastructure is simulated event by event; see
``sim.demand`` and PERFORMANCE-NOTES.md for why.
"""

from __future__ import annotations

import gc
import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import simpy

from sim import validation_mode
from sim.behaviour import DONE, GAVE_UP, IN_SESSION, LOBBY, M_FAILED, TRYING, Behaviour
from sim.components.conference import NodePool, ParticipantCount
from sim.components.platform import Platform
from sim.components.request_queue import RequestQueue, _Outcome
from sim.components.school_server import SchoolServer
from sim.config import Scenario
from sim.demand import KIND_POISSON, Demand, build_demand
from sim.events import UnitDraws, _Call, call_urgent
from sim.faults import FaultInjector
from sim.metrics import Code, Recorder, as_jsonable, percentile, tidy_timeseries
from sim.policies import ScaleUpController
from sim.population import TIER_NAMES, Population, build_population
from sim.seeds import SeedTree

# order of simultaneous pre-determined events: ends before opens before attempts
_CLOSE, _TEACHER, _PUPIL, _LOGIN = 0, 1, 2, 3


class ConservationError(AssertionError):
    """Internal error: intending ≠ joined + gave up + still trying."""


@dataclass
class RunResult:
    """Everything one replication produced."""

    scenario: Scenario
    seed: int
    kpis: dict[str, float]
    extra: dict[str, Any]
    timeseries: pd.DataFrame
    schools: pd.DataFrame
    runtime_s: float
    events: int
    meta: dict[str, Any] = field(default_factory=dict)


ProgressFn = Callable[[float], None]

_POP_CACHE: dict[str, Population] = {}


def population_for(scenario: Scenario) -> Population:
    """The scenario's school registry (cached: it depends only on population settings)."""
    key = repr(
        (
            scenario.population.model_dump(mode="json"),
            scenario.assignment.model_dump(mode="json"),
            [p.name for p in scenario.platforms],
            scenario.source_path,
        )
    )
    pop = _POP_CACHE.get(key)
    if pop is None:
        pop = build_population(scenario)
        if len(_POP_CACHE) > 8:
            _POP_CACHE.clear()
        _POP_CACHE[key] = pop
    return pop


class _Model:
    def __init__(self, scenario: Scenario, seed: int, progress: ProgressFn | None):
        self.sc = scenario
        self.seed = seed
        self.progress = progress
        # validation runs take their own loop (sim.validation_mode); False: the general one
        self.fast_validation = True
        self.seeds = SeedTree(seed)
        self.pop = population_for(scenario)
        self.demand: Demand = build_demand(scenario, self.pop, self.seeds)
        self.env = simpy.Environment(initial_time=scenario.day.start)
        infra = SeedTree(scenario.population.seed)
        self.participants = ParticipantCount()
        reserve = {s.cluster: s.reserve_nodes for s in scenario.policies.scale_up}
        self.platforms = [
            Platform(self.env, i, p, self.seeds, infra, self.participants, reserve)
            for i, p in enumerate(scenario.platforms)
        ]
        count_from = -np.inf
        if scenario.demand.kind == "poisson" and scenario.demand.poisson is not None:
            count_from = scenario.day.start + scenario.demand.poisson.warmup_s
        self.count_from = count_from
        for plat in self.platforms:
            plat.frontend.count_from = count_from
        self.rec = Recorder(len(self.platforms), count_from)
        self._build_frontends()
        self.beh = Behaviour(
            self.env,
            scenario,
            self.demand,
            self.platforms,
            self.meeting_platform,
            self.meeting_frontend,
            self.school_frontend,
            self.rec,
            UnitDraws(self.seeds.rng("behaviour.backoff"), "uniform"),
            self.seeds.rng("behaviour.reconnect"),
            n_pupils=max(self.pop.n_pupils, int(self.demand.pupil_school.size)),
            draws_returns=UnitDraws(self.seeds.rng("behaviour.returns"), "uniform"),
            rng_counted=self.seeds.rng("behaviour.reconnect_counted"),
        )
        self.faults = FaultInjector(self)
        self.faults.install()
        self.scale_ups = [ScaleUpController(self, s) for s in scenario.policies.scale_up]
        for ctl in self.scale_ups:
            ctl.install()

    # ------------------------------------------------------------------ lookup
    def platform(self, name: str) -> Platform:
        for p in self.platforms:
            if p.name == name:
                return p
        raise KeyError(name)

    def cluster_pool(self, cluster: str) -> tuple[int, NodePool]:
        """(platform index, node pool) of the platform that runs ``cluster``."""
        for p in self.platforms:
            if cluster in p.pool.cluster_names:
                return p.index, p.pool
        raise KeyError(cluster)

    # ------------------------------------------------------------------ build
    def _build_frontends(self) -> None:
        sc, pop, env = self.sc, self.pop, self.env
        self.school_servers: list[SchoolServer] = []
        frontends: list[RequestQueue] = []
        draws = UnitDraws.for_cv(
            self.seeds.rng("school_servers.service"), sc.school_servers.tiers["current"].service_cv
        )
        for s in range(pop.n_schools):
            plat = self.platforms[int(pop.school_platform[s])]
            tier = int(pop.school_tier[s])
            if pop.school_on_prem[s] and tier >= 0:
                tname = TIER_NAMES[tier]
                server = SchoolServer(
                    env,
                    s,
                    tname,
                    sc.school_servers.tiers[tname],
                    float(pop.school_uplink_mbit_s[s]),
                    sc.school_servers.uplink_background_share,
                    draws,
                )
                self.school_servers.append(server)
                frontends.append(server)
            else:
                frontends.append(plat.frontend)
        self.school_frontend = frontends
        d = self.demand
        mp = pop.school_platform[d.m_school].astype(np.int64)
        if sc.demand.kind == "poisson" and sc.demand.poisson is not None:
            mp[:] = [p.name for p in sc.platforms].index(sc.demand.poisson.platform)
        self.meeting_platform = mp
        platform_fe = [p.frontend for p in self.platforms]
        if d.n_meetings and bool(np.all(d.m_kind == KIND_POISSON)) and np.all(mp == mp[0]):
            self.meeting_frontend = [platform_fe[int(mp[0])]] * d.n_meetings
        else:
            self.meeting_frontend = [
                platform_fe[p] if kind == KIND_POISSON else frontends[s]
                for p, kind, s in zip(mp.tolist(), d.m_kind.tolist(), d.m_school.tolist(),
                                      strict=True)
            ]

    # ------------------------------------------------------------------ driver
    def _stream(self) -> tuple[list[float], list[int], list[int]]:
        d = self.demand
        timetable = d.m_kind != KIND_POISSON
        closes = np.flatnonzero(timetable)
        t = np.concatenate([d.m_end[closes], d.m_teacher_t, d.pm_first_t, d.login_t])
        kind = np.concatenate(
            [
                np.full(closes.size, _CLOSE, np.int8),
                np.full(d.n_meetings, _TEACHER, np.int8),
                np.full(d.n_pm, _PUPIL, np.int8),
                np.full(d.login_t.size, _LOGIN, np.int8),
            ]
        )
        idx = np.concatenate(
            [closes, np.arange(d.n_meetings), np.arange(d.n_pm), np.arange(d.login_t.size)]
        )
        order = np.lexsort((idx, kind, t))
        return t[order].tolist(), kind[order].tolist(), idx[order].tolist()

    def _run_merged(self, until: float) -> None:
        """Run the environment, merging in the pre-determined stream in time order.

        Stream entries are not SimPy events: between two SimPy events, every entry that is
        due is handled directly (the clock set to its time). Ties go to SimPy events first, so
        the URGENT per-minute sampler sees the state before that instant. This is
        ``Environment.run`` plus one comparison per step, and uses SimPy internals
        (``_queue``, ``_now``): pinned to simpy 4.1.x and covered by tests/unit/test_events.
        """
        ts, kinds, idxs = self._stream()
        self._stream_len = n = len(ts)
        beh = self.beh
        handlers = (
            beh.close_meeting,
            beh.teacher_first_attempt,
            beh.pupil_first_attempt,
            beh.login_first_attempt,
        )
        env = self.env
        queue: list[Any] = env._queue
        step = env.step
        pop = heapq.heappop
        call = _Call
        outcome = _Outcome
        i = 0
        inf = float("inf")
        while True:
            t_sim = queue[0][0] if queue else inf
            if i < n and ts[i] < t_sim:
                t = ts[i]
                if t > until:
                    i = n
                    continue
                env._now = t
                handlers[kinds[i]](idxs[i])
                i += 1
            elif t_sim > until:
                break
            else:
                # the model's own scheduled callbacks and request outcomes: what
                # Environment.step does for them, without its generic event handling
                cls = type(queue[0][3])
                if cls is call:
                    env._now, _, _, ev = pop(queue)
                    ev._fn(ev._arg)
                elif cls is outcome:
                    env._now, _, _, out = pop(queue)
                    if not out.cancelled:
                        out.fn(out.token, out.ok)
                else:
                    step()
        env._now = until

    def _start_sampler(self) -> None:
        sc = self.sc
        dt = float(sc.day.sample_interval_s)
        env = self.env
        end = sc.day.end
        tiers = sorted({s.tier_name for s in self.school_servers})
        by_tier = [(f"school_servers:{tier}",
                    [s for s in self.school_servers if s.tier_name == tier]) for tier in tiers]
        progress = self.progress
        span = sc.day.end - sc.day.start

        def sample(_: Any = None) -> None:
            t = env.now
            rec = self.rec
            total_p = 0.0
            total_cap = 0.0
            for plat in self.platforms:
                for cname, view in zip(
                    plat.pool.cluster_names, plat.pool.cluster_view(), strict=True
                ):
                    comp = f"cluster:{cname}"
                    for k, v in view.items():
                        rec.sample(t, comp, k, v)
                    total_p += view["participants"]
                    total_cap += view["capacity_participants"]
                fe = plat.frontend
                comp = f"frontend:{plat.name}"
                rec.sample(t, comp, "busy_workers", fe.busy)
                rec.sample(t, comp, "queue_length", fe.waiting)
                rec.sample(t, comp, "workers", fe.workers)
            for comp, servers in by_tier:
                busy = waiting = sat = 0
                for s in servers:
                    b = s.busy
                    busy += b
                    waiting += s.waiting
                    if b >= s.workers:
                        sat += 1
                rec.sample(t, comp, "busy_workers", busy)
                rec.sample(t, comp, "queue_length", waiting)
                rec.sample(t, comp, "saturated_servers", sat)
                rec.sample(t, comp, "servers", len(servers))
            rec.sample(t, "total", "participants", total_p)
            rec.sample(t, "total", "capacity_participants", total_cap)
            rec.sample(t, "total", "pupils_trying", self.beh.trying)
            rec.sample(t, "total", "pupils_in_lobby", self.beh.lobby_n)
            rec.sample(t, "total", "pupils_in_session", self.beh.in_session)
            if progress is not None:
                progress(min(1.0, (t - sc.day.start) / span))
            if t + dt <= end + 1e-9:
                call_urgent(env, dt, sample)

        call_urgent(env, 0.0, sample)

    # ------------------------------------------------------------------ run
    def run(self) -> RunResult:
        t0 = time.perf_counter()
        self._start_sampler()
        # The model's state (lists of a million entries) is long-lived: freeze it out of the
        # collector's sight for the run, and collect rarely. No gc.collect() first: it walks
        # every element of those lists (≈ 0.25 s for a million rooms); garbage frozen with
        # them is collected after unfreeze().
        old = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(100_000, 50, 100)
        try:
            if self.fast_validation and validation_mode.applies(self):
                self._stream_len = validation_mode.run(self, self.sc.day.end + 1e-6)
            else:
                self._run_merged(self.sc.day.end + 1e-6)
            self.beh.count_reconnects()
        finally:
            gc.set_threshold(*old)
            gc.unfreeze()
        runtime = time.perf_counter() - t0
        return self._result(runtime)

    # ------------------------------------------------------------------ results
    def _conservation(self) -> dict[str, int]:
        d, beh = self.demand, self.beh
        now = self.env.now
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
        ns = self.pop.n_schools
        per = [np.bincount(school[mask], minlength=ns) for mask in (started, joined, gave, trying)]
        bad = np.flatnonzero(per[0] != per[1] + per[2] + per[3])
        if bad.size:
            raise ConservationError(f"conservation fails at {bad.size} schools, e.g. {bad[0]}")
        if beh.trying != n_t:
            raise ConservationError(f"live counter of trying pupils {beh.trying} != {n_t}")
        return {"intending": intending, "joined": n_j, "gave_up": n_g, "still_trying": n_t}

    def _result(self, runtime: float) -> RunResult:
        sc, d, beh, rec, pop = self.sc, self.demand, self.beh, self.rec, self.pop
        poisson = sc.demand.kind == "poisson"
        cons = self._conservation() if not poisson else {}
        attempts = rec.count(Code.ATTEMPT)
        succeeded = rec.count(Code.JOIN_OK)
        refused = rec.count(Code.FAIL_CAPACITY)
        reached = refused + succeeded
        if poisson:
            open_t = np.array(beh.m_open_t)
            mask = d.m_start >= self.count_from
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
                                        self.env.now - d.login_t))
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
            "peak_concurrent_participants": self.participants.peak,
            "peak_node_utilisation": max(p.pool.peak_utilisation for p in self.platforms),
            "blocking_probability": refused / reached if reached else 0.0,
            "affected_schools_share": affected_share,
        }
        fe_stats = {}
        for plat in self.platforms:
            fe = plat.frontend
            horizon = max(1e-9, self.env.now - max(sc.day.start, fe.count_from))
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
        timeseries = tidy_timeseries(ts_rows)
        conference_hours = self._conference_hours(timeseries)
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
                for p in self.platforms
            },
            "conference_hours": beh.session_s / 3600.0,
            "conference_hours_sampled": conference_hours,
            "conference_hours_per_platform": {
                p.name: beh.session_s_platform[p.index] / 3600.0 for p in self.platforms
            },
            "joins_per_platform": {p.name: rec.count(Code.JOIN_OK, p.index)
                                   for p in self.platforms},
            # teachers' joins (opening or re-entering their rooms): platforms count them too
            "host_joins_per_platform": {p.name: rec.count(Code.T_OPEN, p.index)
                                        for p in self.platforms},
            "peak_participants_per_platform": {
                p.name: p.pool.peak_participants for p in self.platforms
            },
            "peak_node_utilisation_per_platform": {
                p.name: p.pool.peak_utilisation for p in self.platforms
            },
            "frontends": fe_stats,
            "rate_limited": rec.count(Code.RATE_LIMITED),
            "peak_joins_per_node_per_interval": max(
                p.pool.peak_joins_per_node_interval for p in self.platforms
            ),
            "server_crashes": len(self.faults.crashes),
            "schools_with_crashed_server": len({s for _, s in self.faults.crashes}),
            "nodes_started_by_scale_up": sum(n for c in self.scale_ups for _, n in c.started),
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
        rooms_failed_share = (
            float(np.sum(np.array(beh.m_state) == M_FAILED)) / d.n_meetings if d.n_meetings else 0.0
        )
        extra["rooms_failed_share"] = rooms_failed_share
        return RunResult(
            scenario=sc,
            seed=self.seed,
            kpis=as_jsonable(kpis),
            extra=as_jsonable(extra),
            timeseries=timeseries,
            schools=schools,
            runtime_s=runtime,
            events=self._stream_len,
            meta={"conservation": cons},
        )

    def _conference_hours(self, ts: pd.DataFrame) -> float:
        sel = ts[(ts["component"] == "total") & (ts["metric"] == "participants")]
        return float(sel["value"].sum() * self.sc.day.sample_interval_s / 3600.0)


def simulate_once(
    scenario: Scenario, seed: int = 1, progress: ProgressFn | None = None
) -> RunResult:
    """Run one replication of ``scenario`` with ``seed`` (a pure function of both)."""
    return _Model(scenario, seed, progress).run()
