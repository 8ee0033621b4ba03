"""Scenario models: what a scenario file may say, with defaults (sources: data/SOURCES.md)."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from sim.config.base import (
    Name,
    NonNegFloat,
    NonNegInt,
    PositiveFloat,
    PositiveInt,
    Seed,
    Share,
    Strict,
    StrictInt,
    TimeOfDay,
)
from sim.config.interventions import Fault, NodeDegradation, NodeLoss, Policies

# --------------------------------------------------------------------------------------------
# Sections


class DayConfig(Strict):
    """The simulated window of the day (seconds since midnight)."""

    start: TimeOfDay = 7 * 3600
    end: TimeOfDay = 15.5 * 3600
    sample_interval_s: Annotated[StrictInt, Field(ge=1, le=3600)] = 60

    @model_validator(mode="after")
    def _order(self) -> DayConfig:
        if self.end <= self.start:
            raise ValueError("day.end must be after day.start")
        return self


class ExternalLoad(Strict):
    """Schools outside the state that share a platform (IServ served ≈4,500 schools and
    ≈2.3 M pupils nationally in Jan 2021, Lower Saxony ≈2,000 of them)."""

    platform: Name
    scale: Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)]
    """Size of the external block relative to its marginals (``school_types_file``)."""
    school_types_file: str | None = None
    """The block's own school-type table (same columns as the state's; its types must be
    among the state's). None = the state's table (other states like Lower Saxony)."""


class PopulationConfig(Strict):
    """Where the schools come from and how many of them are simulated."""

    school_types_file: str = "../data/lower_saxony_school_types.csv"
    regions_file: str = "../data/lower_saxony_regions.csv"
    scale: Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)] = 1.0
    """Share of the state's schools simulated (0.01 = every hundredth school, for tests)."""
    capacities: Literal["whole_state", "as_given"] = "whole_state"
    """``whole_state``: the central capacities in this file (conference and reserve nodes,
    scale-up steps, login-service workers, the external block) are the whole state's, and a
    run at ``scale`` builds that share of them — a faithful miniature (``sim.model.scale``).
    ``as_given``: every capacity is built as written (a small state on the full fleet, or a
    file that sets its miniature's capacities itself)."""
    seed: Seed = 2021
    """Seed of the school registry; fixed across replications (the state does not change)."""
    school_types: Annotated[list[str], Field(min_length=1)] | None = None
    """Restrict to these school types (ids from the school types file); None = all."""
    size_cv: Annotated[float, Field(ge=0.0, le=2.0)] = 0.35
    at_home_share: Share = 0.94
    external: ExternalLoad | None = None
    """More schools from the same marginals on one platform (other states' load)."""


class RegionOverride(Strict):
    region: Name
    platform: Name
    schools: NonNegInt
    """Number of the region's schools (at scale 1) moved to this platform."""


class UplinkClass(Strict):
    share: Share
    mbit_s: PositiveFloat
    """The connection's *upload* rate: pupils at home fetch pages from the school's own server
    over it (SOURCES A25)."""


# Upload rates by connection type (SOURCES A25): fibre ≈11 % (S97), cable 1 Gbit/s down /
# 50 up (the rest of the 37 % at ≥ 1 Gbit/s), VDSL 100/40, ADSL/VDSL ≤ 50 down / ≈5 up.
_DEFAULT_UPLINKS = (
    UplinkClass(share=0.11, mbit_s=500.0),
    UplinkClass(share=0.26, mbit_s=50.0),
    UplinkClass(share=0.33, mbit_s=40.0),
    UplinkClass(share=0.30, mbit_s=5.0),
)


class AssignmentConfig(Strict):
    """Which platform each school uses and how its platform is hosted."""

    platform_shares: dict[Name, Share] = Field(
        default_factory=lambda: {"iserv": 0.70, "bildungscloud": 0.30}
    )
    region_overrides: list[RegionOverride] = Field(
        default_factory=lambda: [
            RegionOverride(region="hannover_stadt", platform="hannover-city", schools=52),
            # ≈50 % of the city's schools use IServ (S94): the other 47 of its 99
            RegionOverride(region="hannover_stadt", platform="iserv", schools=47),
        ]
    )
    on_prem_share: dict[Name, Share] = Field(default_factory=lambda: {"iserv": 0.55})
    """Share of a platform's schools whose front end is the school's own server."""
    outdated_share: Share = 0.45
    """Share of on-premise servers that are outdated (4–5 years old)."""
    uplink_mix: list[UplinkClass] = Field(default_factory=lambda: list(_DEFAULT_UPLINKS))
    replaced_servers: Annotated[list[Annotated[int, Field(ge=0)]], Field(max_length=100_000)] = (
        Field(default_factory=list)
    )
    """School numbers (``schools.parquet``'s ``school``) whose outdated server was replaced by
    a current one (a lever of ``dlsim optimise``); numbers of hosted schools change nothing."""
    upgraded_uplinks: Annotated[list[Annotated[int, Field(ge=0)]], Field(max_length=100_000)] = (
        Field(default_factory=list)
    )
    """School numbers whose uplink was upgraded to the next faster class of ``uplink_mix`` (a
    lever of ``dlsim optimise``); a school already in the fastest class keeps its uplink."""
    region_moves: dict[Name, Name] = Field(default_factory=dict)
    """Region → platform: *every* school of the region is moved to that platform and hosted
    there (a lever of ``dlsim optimise``). Applied after the platform draw (overrides and
    shares), so every other school keeps the platform, server and uplink it was drawn."""

    @field_validator("platform_shares")
    @classmethod
    def _sum_to_one(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("at least one platform share is required")
        total = sum(v.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"platform shares must sum to 1, they sum to {total:.6g}")
        return v

    @field_validator("uplink_mix")
    @classmethod
    def _mix_sums(cls, v: list[UplinkClass]) -> list[UplinkClass]:
        if not v:
            raise ValueError("at least one uplink class is required")
        total = sum(u.share for u in v)
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"uplink shares must sum to 1, they sum to {total:.6g}")
        return v


class CheckInConfig(Strict):
    """The daily digital check-in for years 1–10 (2021 decree) at the first period."""

    enabled: bool = True
    min_year: Annotated[StrictInt, Field(ge=1, le=13)] = 1
    max_year: Annotated[StrictInt, Field(ge=1, le=13)] = 10
    video_share: Share = 0.03
    """Share of classes whose check-in is a video conference (the rest use chat/messenger)."""
    duration_min: Annotated[float, Field(gt=0, le=240)] = 20.0

    @model_validator(mode="after")
    def _years(self) -> CheckInConfig:
        if self.max_year < self.min_year:
            raise ValueError("max_year must not be below min_year")
        return self


class TimetableConfig(Strict):
    first_period_start: TimeOfDay = 8 * 3600
    period_min: Annotated[float, Field(gt=0, le=240)] = 45.0
    periods: Annotated[StrictInt, Field(ge=1, le=12)] = 8
    breaks_min: dict[Annotated[int, Field(ge=1, le=12)], Annotated[float, Field(
        ge=0.0, le=240.0, allow_inf_nan=False)]] = Field(default_factory=lambda: {2: 20.0, 4: 15.0})
    """Break after period k (minutes)."""
    checkin: CheckInConfig = Field(default_factory=CheckInConfig)
    live_lesson_share: Share = 0.13
    """Share of classes holding a live video lesson in a given period (default for all types)."""
    live_lesson_min: Annotated[float, Field(gt=0, le=240)] | None = 25.0
    """Length of a lesson's live video phase (then pupils work on their tasks); None = the
    whole period."""
    live_lesson_share_by_type: dict[Name, Share] = Field(default_factory=dict)
    start_offset_min_by_type: dict[Name, Annotated[float, Field(ge=-120, le=240)]] = Field(
        default_factory=dict
    )
    """Shift of the whole timetable per school type (staggered start)."""
    school_start_spread_min: Annotated[float, Field(ge=0, le=120)] = 20.0
    """Schools' own bell times differ: each school's timetable is shifted by a fixed uniform
    offset in [−spread, +spread] minutes (drawn from the population seed)."""


class LoginConfig(Strict):
    """Every pupil at home logs in to the school's platform in the morning (tasks, messenger)."""

    share: Share = 0.6
    """Share of pupils at home who log in around the first period (≈1.5 M IServ users by
    midday incl. teachers, S58: see data/SOURCES.md A34)."""
    early_mean_s: PositiveFloat = 600.0
    late_mean_s: PositiveFloat = 600.0
    early_share: Share = 0.5


class JitterConfig(Strict):
    """When people arrive relative to the bell."""

    teacher_lead_mean_s: PositiveFloat = 180.0
    pupil_early_share: Share = 0.35
    pupil_early_mean_s: PositiveFloat = 60.0
    pupil_late_mean_s: PositiveFloat = 90.0


class BehaviourConfig(Strict):
    attendance: Share = 0.9
    """Share of a class's pupils at home who join a given meeting."""
    backoff_initial_s: Annotated[float, Field(ge=0.1, le=3600.0, allow_inf_nan=False)] = 15.0
    """At least 0.1 s: a retry is a new page load, never faster; a back-off of nanoseconds
    only multiplies events (with one node it never ended)."""
    backoff_factor: Annotated[float, Field(ge=1.0, le=10.0)] = 2.0
    backoff_max_s: PositiveFloat = 240.0
    backoff_jitter: Share = 0.5
    """Each back-off is multiplied by a uniform factor in [1 − jitter, 1 + jitter]."""
    patience_s: PositiveFloat = 900.0
    """A pupil gives up after trying this long (the rest of that meeting is lost)."""
    teacher_patience_s: PositiveFloat = 2700.0
    login_patience_s: PositiveFloat = 1800.0
    reconnect_per_h: Annotated[float, Field(ge=0.0, le=60.0, allow_inf_nan=False)] = 0.5
    """Rate at which a participant drops out (home connection, browser) and rejoins. At most
    60 per hour: a drop-out every minute is a connection that does not work, not a rate."""
    webcam_share_pupils: Share = 0.15
    webcam_share_teachers: Share = 0.9
    screenshare_share: Share = 0.5
    """Share of meetings in which the teacher shares the screen."""
    give_up_return_share: Share = 0.0
    """Share of pupils who gave up that try again later in the same meeting (a new chain)."""
    give_up_return_after_s: PositiveFloat = 600.0
    retries: bool = True
    """False = a failed attempt is lost (validation mode: pure loss system)."""

    @model_validator(mode="after")
    def _backoff(self) -> BehaviourConfig:
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must not be below backoff_initial_s")
        return self


class MediaConfig(Strict):
    """Stream bit rates (Mbit/s), BBB figures from domain-facts."""

    audio_mbit_s: PositiveFloat = 0.04
    webcam_mbit_s: PositiveFloat = 0.20
    """BBB HTML5 client's default camera profile ("medium", 200 kbit/s; SOURCES S107)."""
    screenshare_mbit_s: PositiveFloat = 0.50


class FrontendConfig(Strict):
    """A hosted platform's login/front-end service: c workers, FIFO queue, client timeout."""

    workers: PositiveInt = 400
    login_service_s: PositiveFloat = 0.8
    join_service_s: PositiveFloat = 0.3
    service_cv: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0
    """Coefficient of variation of service times (1 = exponential, 0 = deterministic)."""
    timeout_s: PositiveFloat = 30.0
    """A request waiting longer than this in the queue fails (the browser gives up)."""


class ClusterConfig(Strict):
    """A conference cluster (BigBlueButton servers behind a dispatcher)."""

    name: Name
    nodes: PositiveInt
    node_max_participants: Annotated[StrictInt, Field(gt=0, le=10_000_000)] = 250
    """Hard limit of participants per node. With ``node_cpu`` set it is only a ceiling (the
    media mix decides first); without it, it is the node's whole capacity. At most 10 million:
    the verification scenarios' stand-in for a node without a limit (real BBB nodes hold ≈200);
    times any node count it stays far inside int64."""
    node_capacity_mbit_s: PositiveFloat = 1000.0
    node_cpu: PositiveFloat | None = None
    """CPU of one node in BBB reference servers (1 = BBB 2.2's minimum, 8 cores). A node then
    admits a join only while ``cpu_per_participant × participants + cpu_per_mbit_s × egress``
    stays within it, so that capacity depends on the media mix (cameras). None: no CPU limit
    (participants and bandwidth only, the Erlang oracles' loss system)."""
    cpu_per_participant: PositiveFloat = 1.574e-3
    """CPU per participant (audio mixing, signalling), in reference servers: SOURCES A53."""
    cpu_per_mbit_s: PositiveFloat = 6.10e-3
    """CPU per Mbit/s of media forwarded (webcams, screen share, audio), SOURCES A53."""
    heterogeneity_cv: Annotated[float, Field(ge=0.0, le=1.0)] = 0.25
    """Spread of node sizes (real fleets are mixed; identical nodes never block early)."""
    stress_threshold: Share = 0.8


class DispatcherConfig(Strict):
    policy: Literal["least_meetings", "least_participants"] = "least_meetings"


class PlatformConfig(Strict):
    name: Name
    label: str = ""
    frontend: FrontendConfig = Field(default_factory=FrontendConfig)
    dispatcher: DispatcherConfig = Field(default_factory=DispatcherConfig)
    clusters: list[ClusterConfig] = Field(min_length=1)

    @field_validator("clusters")
    @classmethod
    def _unique_clusters(cls, v: list[ClusterConfig]) -> list[ClusterConfig]:
        for j, c in enumerate(v):
            if any(c.name == o.name for o in v[:j]):
                raise ValueError(f"clusters[{j}].name: duplicate cluster name {c.name!r}")
        return v


class ServerTierConfig(Strict):
    """A school's own server (on premises), reached by pupils at home over the school uplink."""

    workers: PositiveInt = 16
    login_service_s: PositiveFloat = 1.5
    """Server time of a pupil's morning login (dashboard, messenger, task list)."""
    join_service_s: PositiveFloat = 0.3
    service_cv: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0
    page_mbit: NonNegFloat = 2.0
    """Data sent per request over the school's upload (≈250 kB: the page and its data; the
    scripts and styles are in the browser's cache after the first day, SOURCES A44)."""
    timeout_s: PositiveFloat = 30.0


class SchoolServersConfig(Strict):
    tiers: dict[Name, ServerTierConfig] = Field(
        default_factory=lambda: {
            "current": ServerTierConfig(),
            # 1/20 of a current server's throughput (plausible 1/4–1/20, SOURCES A44)
            "outdated": ServerTierConfig(workers=4, login_service_s=7.5, join_service_s=1.5),
        }
    )
    uplink_background_share: Share = 0.3
    """Share of the uplink taken by other traffic (task up-/downloads, staff) during the day."""

    @field_validator("tiers")
    @classmethod
    def _needs_tiers(cls, v: dict[str, ServerTierConfig]) -> dict[str, ServerTierConfig]:
        for key in ("current", "outdated"):
            if key not in v:
                raise ValueError(f"tier {key!r} is required")
        return v


class PoissonDemandConfig(Strict):
    """Validation mode: a stationary Poisson stream of single joins, exponential holding times."""

    platform: Name
    arrival_rate_per_s: PositiveFloat
    holding_mean_s: PositiveFloat
    holding: Literal["exponential", "deterministic"] = "exponential"
    warmup_s: NonNegFloat = 0.0
    """Attempts before start + warmup_s are simulated but not counted in the KPIs."""


class DemandConfig(Strict):
    kind: Literal["timetable", "poisson"] = "timetable"
    poisson: PoissonDemandConfig | None = None

    @model_validator(mode="after")
    def _poisson_needs_params(self) -> DemandConfig:
        if self.kind == "poisson" and self.poisson is None:
            raise ValueError("demand.kind 'poisson' needs a 'poisson' section")
        return self


def _default_platforms() -> list[PlatformConfig]:
    return [
        PlatformConfig(
            name="iserv",
            label="IServ (central BBB)",
            frontend=FrontendConfig(workers=400),
            clusters=[ClusterConfig(name="iserv-bbb", nodes=450, node_cpu=2.0,
                                    node_max_participants=1200)],
        ),
        PlatformConfig(
            name="bildungscloud",
            label="Niedersächsische Bildungscloud",
            frontend=FrontendConfig(workers=200),
            clusters=[ClusterConfig(name="nbc-bbb", nodes=500, node_cpu=1.0,
                                    node_max_participants=600)],
        ),
        PlatformConfig(
            name="hannover-city",
            label="schulen-hannover.de (city data centre)",
            frontend=FrontendConfig(workers=40),
            clusters=[ClusterConfig(name="hannover-bbb", nodes=40, node_cpu=1.0,
                                    node_max_participants=600)],
        ),
    ]


class CostsConfig(Strict):
    """What the levers cost (€, 2021 prices; sources and assumptions: data/SOURCES.md A56–A62).

    Zero is a legitimate cost but is stated here, never implied.
    """

    node_per_day_eur: NonNegFloat = 2.0
    """A rented conference node (8 cores / 16 GB) per day it is kept."""
    reserve_node_hour_eur: NonNegFloat = 0.1
    """A reserve node per hour while started by an emergency scale-up."""
    server_replacement_eur: dict[Name, NonNegFloat] = Field(
        default_factory=lambda: {"outdated": 3000.0, "current": 3000.0}
    )
    """One-off: replacing a school's server, by the tier it replaces."""
    uplink_upgrade_eur: NonNegFloat = 1500.0
    """One-off: upgrading a school's uplink to the next class."""
    central_move_eur: NonNegFloat = 2000.0
    """One-off: moving a school to a central platform (migration, training)."""
    central_per_pupil_year_eur: NonNegFloat = 5.0
    """Recurring: licence of a central platform per pupil and year."""
    policy_eur: dict[str, NonNegFloat] = Field(
        default_factory=lambda: {"stagger": 0.0, "camera": 0.0, "join_rate_limit": 0.0}
    )
    """A policy's cost when it is switched on (zero: an instruction to schools)."""


class ReportConfig(Strict):
    """How the scenario's reports are written (presentation only: not part of the hash)."""

    lang: Literal["de", "en"] | None = None
    """Language of reports and the CLI summary (``--lang`` overrides it; default English)."""


class Scenario(Strict):
    """One simulated school day."""

    name: Annotated[str, Field(min_length=1, max_length=200)] = "scenario"
    description: str = ""
    day: DayConfig = Field(default_factory=DayConfig)
    population: PopulationConfig = Field(default_factory=PopulationConfig)
    assignment: AssignmentConfig = Field(default_factory=AssignmentConfig)
    timetable: TimetableConfig = Field(default_factory=TimetableConfig)
    login: LoginConfig = Field(default_factory=LoginConfig)
    jitter: JitterConfig = Field(default_factory=JitterConfig)
    behaviour: BehaviourConfig = Field(default_factory=BehaviourConfig)
    media: MediaConfig = Field(default_factory=MediaConfig)
    platforms: list[PlatformConfig] = Field(default_factory=_default_platforms, min_length=1)
    school_servers: SchoolServersConfig = Field(default_factory=SchoolServersConfig)
    demand: DemandConfig = Field(default_factory=DemandConfig)
    faults: list[Fault] = Field(default_factory=list)
    policies: Policies = Field(default_factory=Policies)
    costs: CostsConfig = Field(default_factory=CostsConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)

    # Where the scenario was loaded from (for resolving data files); not part of the hash.
    source_path: str | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _cross_refs(self) -> Scenario:
        names = [p.name for p in self.platforms]
        seen: dict[str, str] = {}
        for i, p in enumerate(self.platforms):
            if p.name in seen:
                raise ValueError(
                    f"platforms[{i}].name: duplicate platform name {p.name!r} "
                    f"(also {seen[p.name]})"
                )
            seen[p.name] = f"platforms[{i}]"
        cseen: dict[str, str] = {}
        for i, p in enumerate(self.platforms):
            for j, c in enumerate(p.clusters):
                where = f"platforms[{i}].clusters[{j}]"
                if c.name in cseen:
                    raise ValueError(
                        f"{where}.name: duplicate cluster name {c.name!r} (also {cseen[c.name]})"
                    )
                cseen[c.name] = where
        known = set(names)
        for pname in self.assignment.platform_shares:
            if pname not in known:
                raise ValueError(
                    f"assignment.platform_shares.{pname}: unknown platform {pname!r} "
                    f"(known: {', '.join(sorted(known))})"
                )
        for i, o in enumerate(self.assignment.region_overrides):
            if o.platform not in known:
                raise ValueError(
                    f"assignment.region_overrides[{i}].platform: unknown platform {o.platform!r}"
                )
        for region, pname in self.assignment.region_moves.items():
            if pname not in known:
                raise ValueError(
                    f"assignment.region_moves.{region}: unknown platform {pname!r} "
                    f"(known: {', '.join(sorted(known))})"
                )
        for pname in self.assignment.on_prem_share:
            if pname not in known:
                raise ValueError(f"assignment.on_prem_share.{pname}: unknown platform {pname!r}")
        ext = self.population.external
        if ext is not None and ext.platform not in known:
            raise ValueError(f"population.external.platform: unknown platform {ext.platform!r}")
        clusters = {c.name for p in self.platforms for c in p.clusters}
        for i, f in enumerate(self.faults):
            end = f.end if f.end is not None else self.day.end
            if f.start >= self.day.end or end <= self.day.start:
                raise ValueError(
                    f"faults[{i}]: its window {_hhmm(f.start)}–{_hhmm(end)} lies outside the "
                    f"simulated day {_hhmm(self.day.start)}–{_hhmm(self.day.end)}"
                )
            plat = getattr(f, "platform", None)
            if plat is not None and plat not in known:
                raise ValueError(f"faults[{i}].platform: unknown platform {plat!r}")
            if isinstance(f, NodeLoss | NodeDegradation) and f.cluster not in clusters:
                raise ValueError(
                    f"faults[{i}].cluster: unknown cluster {f.cluster!r} "
                    f"(known: {', '.join(sorted(clusters))})"
                )
            if f.kind == "overload_crash" and f.tier not in self.school_servers.tiers:
                raise ValueError(f"faults[{i}].tier: unknown server tier {f.tier!r}")
        seen_scale: set[str] = set()
        for i, s in enumerate(self.policies.scale_up):
            if s.cluster not in clusters:
                raise ValueError(f"policies.scale_up[{i}].cluster: unknown cluster {s.cluster!r}")
            if s.cluster in seen_scale:
                raise ValueError(f"policies.scale_up[{i}].cluster: {s.cluster!r} appears twice")
            seen_scale.add(s.cluster)
        if self.demand.poisson is not None and self.demand.poisson.platform not in known:
            raise ValueError(
                f"demand.poisson.platform: unknown platform {self.demand.poisson.platform!r}"
            )
        if self.demand.kind == "timetable":
            self._timetable_fits_the_day()
        return self

    def _timetable_fits_the_day(self) -> None:
        """A timetable with no lesson inside the simulated day would run and report "100 %"
        success of nothing: every period, break and shift must be one the day can hold."""
        tt, day, st = self.timetable, self.day, self.policies.stagger
        for k in tt.breaks_min:
            if not 1 <= k < tt.periods:
                raise ValueError(
                    f"timetable.breaks_min.{k}: a break after period {k}, but the day has "
                    f"periods 1–{tt.periods} (a break comes after one of periods "
                    f"1–{tt.periods - 1})"
                )
        starts, t = [], tt.first_period_start
        for k in range(1, tt.periods + 1):
            starts.append(t)
            t += (tt.period_min + tt.breaks_min.get(k, 0.0)) * 60.0
        if tt.first_period_start >= day.end:
            raise ValueError(
                f"timetable.first_period_start: {_hhmm(tt.first_period_start)} is after the "
                f"simulated day {_hhmm(day.start)}–{_hhmm(day.end)} ends: nothing would run"
            )
        period_s = tt.period_min * 60.0
        if not any(s >= day.start and s + period_s <= day.end for s in starts):
            raise ValueError(
                f"timetable: no period ({_hhmm(starts[0])}–{_hhmm(starts[-1] + period_s)}, "
                f"{tt.period_min:g} min each) lies within the simulated day "
                f"{_hhmm(day.start)}–{_hhmm(day.end)}: nothing would run"
            )
        shifts = [
            ("policies.stagger.school_number_slots",
             (st.school_number_slots - 1) * st.slot_min, "its last start slot"),
            *((f"timetable.start_offset_min_by_type.{name}", m, "that school type's timetable")
              for name, m in tt.start_offset_min_by_type.items()),
            *((f"policies.stagger.offset_min_by_year.{y}", m, "that year group's timetable")
              for y, m in st.offset_min_by_year.items()),
        ]
        for where, minutes, what in shifts:
            if starts[0] + minutes * 60.0 >= day.end:
                raise ValueError(
                    f"{where}: {what} starts at {_hhmm(starts[0] + minutes * 60.0)}, after "
                    f"the simulated day ends ({_hhmm(day.end)}): its lessons would never run"
                )

    # ----------------------------------------------------------------------------------------
    def platform(self, name: str) -> PlatformConfig:
        for p in self.platforms:
            if p.name == name:
                return p
        raise KeyError(name)

    def config_hash(self) -> str:
        """A stable hash of everything that changes results: the settings and the contents of
        the data files they name (not where the scenario file lives)."""
        # the report section changes how results are shown, the costs how they are priced:
        # neither changes the results
        dump = self.model_dump(mode="json", exclude={"report", "costs"})
        # levers' hooks that are empty change nothing: left out, so a scenario's hash is the
        # same as before they existed (stored sweeps and optimisations still resume)
        for hook in ("upgraded_uplinks", "region_moves"):
            if not dump["assignment"][hook]:
                del dump["assignment"][hook]
        payload = json.dumps(dump, sort_keys=True, separators=(",", ":"))
        h = hashlib.sha256(payload.encode())
        for digest in self.data_digests().values():
            h.update(digest.encode())
        return h.hexdigest()[:16]

    def data_digests(self) -> dict[str, str]:
        """sha256 of each data file the scenario names (``missing`` if it cannot be read)."""
        out = {}
        files = {f: getattr(self.population, f) for f in ("school_types_file", "regions_file")}
        ext = self.population.external
        if ext is not None and ext.school_types_file is not None:
            files["external.school_types_file"] = ext.school_types_file
        for field, rel in files.items():
            path = self.resolve_path(rel)
            try:
                out[field] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            except OSError:
                out[field] = "missing"
        return out

    def resolve_path(self, relative: str) -> Path:
        """Resolve a data-file path relative to the scenario file (or the repo's configs/)."""
        p = Path(relative)
        if p.is_absolute():
            return p
        base = Path(self.source_path).parent if self.source_path else _REPO_CONFIGS
        return (base / p).resolve()


_REPO_CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _hhmm(seconds: float) -> str:
    m = round(seconds / 60)
    return f"{m // 60:02d}:{m % 60:02d}"
