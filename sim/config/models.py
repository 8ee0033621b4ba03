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

    start: TimeOfDay = Field(
        default=7 * 3600,
        description="When the simulated day begins: a time of day (`'07:00'`) or seconds "
        "since midnight.",
    )
    end: TimeOfDay = Field(
        default=15.5 * 3600,
        description="When the simulated day ends (after `start`); pupils still trying then "
        "are counted as still trying.",
    )
    sample_interval_s: Annotated[StrictInt, Field(ge=1, le=3600)] = Field(
        default=60,
        description="Seconds between two samples of the time series (60: one row per minute "
        "in `timeseries.parquet` and the report's charts).",
    )

    @model_validator(mode="after")
    def _order(self) -> DayConfig:
        if self.end <= self.start:
            raise ValueError("day.end must be after day.start")
        return self


class ExternalLoad(Strict):
    """Schools outside the state that share a platform (IServ served ≈4,500 schools and
    ≈2.3 M pupils nationally in Jan 2021, Lower Saxony ≈2,000 of them)."""

    platform: Name = Field(
        description="The platform (a `platforms[].name`) that the schools outside the state use."
    )
    scale: Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)] = Field(
        description="Size of the external block relative to its school-type table "
        "(`school_types_file`): 1 = as many schools and pupils as the table lists. Central "
        "capacities follow `population.scale`, so this is a whole-state figure too.",
    )
    school_types_file: str | None = Field(
        default=None,
        description="The block's own school-type table (a CSV with the state table's columns; "
        "its types must be among the state's), relative to the scenario file. Empty: the "
        "state's table (other states like Lower Saxony).",
    )


class PopulationConfig(Strict):
    """Where the schools come from and how many of them are simulated."""

    school_types_file: str = Field(
        default="../data/lower_saxony_school_types.csv",
        description="CSV of school types (schools, pupils, class size, first and last year per "
        "type), relative to the scenario file. Sources: `data/SOURCES.md`.",
    )
    regions_file: str = Field(
        default="../data/lower_saxony_regions.csv",
        description="CSV of regions with their shares of schools and pupils, relative to the "
        "scenario file.",
    )
    scale: Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)] = Field(
        default=1.0,
        description="Share of the state's schools simulated: 1 = the whole state, 0.05 = "
        "one school in twenty. Below 1 a run is a faithful miniature (see `capacities`); "
        "`docs/scale.md` measures what it costs in accuracy.",
    )
    capacities: Literal["whole_state", "as_given"] = Field(
        default="whole_state",
        description="`whole_state`: the central capacities in this file (conference and "
        "reserve nodes, scale-up steps, login-service workers, the external block) are the "
        "whole state's, and a run at `scale` builds that share of them — a faithful "
        "miniature. `as_given`: every capacity is built as written (a small state on the "
        "full fleet, or a file that sets its miniature's capacities itself).",
    )
    seed: Seed = Field(
        default=2021,
        description="Seed of the generated schools (types, sizes, platforms, servers, "
        "uplinks). The same in every replication: the state does not change between runs.",
    )
    school_types: Annotated[list[str], Field(min_length=1)] | None = Field(
        default=None,
        description="Simulate only these school types (ids from `school_types_file`, e.g. "
        "`grundschule`); empty: all.",
    )
    size_cv: Annotated[float, Field(ge=0.0, le=2.0)] = Field(
        default=0.35,
        description="How much school sizes vary around their type's mean (coefficient of "
        "variation of a log-normal; 0 = every school of a type equally large).",
    )
    at_home_share: Share = Field(
        default=0.94,
        description="Share of pupils learning from home (Szenario C, January 2021: 94 %).",
    )
    external: ExternalLoad | None = Field(
        default=None,
        description="More schools on one platform from outside the state (other states' "
        "load on IServ); empty: none.",
    )


class RegionOverride(Strict):
    """A number of a region's schools placed on a given platform before the shares apply."""

    region: Name = Field(description="Region id (from `regions_file`, e.g. `hannover_stadt`).")
    platform: Name = Field(description="The platform (a `platforms[].name`) they use.")
    schools: NonNegInt = Field(
        description="Number of the region's schools (whole state, at scale 1) placed on this "
        "platform."
    )


class UplinkClass(Strict):
    """One class of school internet connections."""

    share: Share = Field(description="Share of schools with a connection of this class.")
    mbit_s: PositiveFloat = Field(
        description="The connection's *upload* rate in Mbit/s: pupils at home fetch pages "
        "from the school's own server over it (SOURCES A25).",
    )


# Upload rates by connection type (SOURCES A25): fibre ≈11 % (S97), cable 1 Gbit/s down /
# 50 up (the rest of the 37 % at ≥ 1 Gbit/s), VDSL 100/40, ADSL/VDSL ≤ 50 down / ≈5 up.
_DEFAULT_UPLINKS = (
    UplinkClass(share=0.11, mbit_s=500.0),
    UplinkClass(share=0.26, mbit_s=50.0),
    UplinkClass(share=0.33, mbit_s=40.0),
    UplinkClass(share=0.30, mbit_s=5.0),
)

_SCHOOL_NUMBERS = Annotated[list[Annotated[int, Field(ge=0)]], Field(max_length=100_000)]


class AssignmentConfig(Strict):
    """Which platform each school uses and how its platform is hosted."""

    platform_shares: dict[Name, Share] = Field(
        default_factory=lambda: {"iserv": 0.70, "bildungscloud": 0.30},
        description="Platform → share of the schools (not placed by `region_overrides`) that "
        "use it; the shares sum to 1.",
    )
    region_overrides: list[RegionOverride] = Field(
        default_factory=lambda: [
            RegionOverride(region="hannover_stadt", platform="hannover-city", schools=52),
            # ≈50 % of the city's schools use IServ (S94): the other 47 of its 99
            RegionOverride(region="hannover_stadt", platform="iserv", schools=47),
        ],
        description="Schools of a region placed on a given platform before the shares are "
        "drawn (Hannover's city platform).",
    )
    on_prem_share: dict[Name, Share] = Field(
        default_factory=lambda: {"iserv": 0.55},
        description="Platform → share of its schools whose front end is the school's own "
        "server (reached over the school's uplink); the others are hosted.",
    )
    outdated_share: Share = Field(
        default=0.45,
        description="Share of the schools' own servers that are outdated (4–5 years old; "
        "`school_servers.tiers.outdated`).",
    )
    uplink_mix: list[UplinkClass] = Field(
        default_factory=lambda: list(_DEFAULT_UPLINKS),
        description="Classes of school connections, slowest upload last; the shares sum to 1.",
    )
    replaced_servers: _SCHOOL_NUMBERS = Field(
        default_factory=list,
        description="School numbers (`schools.parquet`'s `school`) whose outdated server was "
        "replaced by a current one (a lever of `dlsim optimise`); numbers of hosted schools "
        "change nothing.",
    )
    upgraded_uplinks: _SCHOOL_NUMBERS = Field(
        default_factory=list,
        description="School numbers whose uplink was upgraded to the next faster class of "
        "`uplink_mix` (a lever of `dlsim optimise`); a school already in the fastest class "
        "keeps its uplink.",
    )
    region_moves: dict[Name, Name] = Field(
        default_factory=dict,
        description="Region → platform: *every* school of the region moves to that platform "
        "and is hosted there (a lever of `dlsim optimise`). Applied after the platform draw, "
        "so every other school keeps the platform, server and uplink it was drawn.",
    )

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
    """The daily digital check-in for years 1–10 at the first period: a decree of about
    mid-February 2021, *not* in force in January 2021 (off by default; on for February)."""

    enabled: bool = Field(
        default=False,
        description="Whether classes hold the daily check-in. Off by default: the decree "
        "that years 1–10 start each day with a digital meeting came about mid-February 2021, "
        "after the January week the replays and the default day describe "
        "(`configs/2021-02-february-checkin.yaml` switches it on).",
    )
    min_year: Annotated[StrictInt, Field(ge=1, le=13)] = Field(
        default=1, description="Youngest school year with a check-in."
    )
    max_year: Annotated[StrictInt, Field(ge=1, le=13)] = Field(
        default=10, description="Oldest school year with a check-in (not below `min_year`)."
    )
    video_share: Share = Field(
        default=0.03,
        description="Share of classes whose check-in is a video conference (the rest use "
        "chat or the messenger).",
    )
    duration_min: Annotated[float, Field(gt=0, le=240)] = Field(
        default=20.0, description="Length of a video check-in in minutes."
    )

    @model_validator(mode="after")
    def _years(self) -> CheckInConfig:
        if self.max_year < self.min_year:
            raise ValueError("max_year must not be below min_year")
        return self


class TimetableConfig(Strict):
    """The school day's periods and which of them hold live video lessons."""

    first_period_start: TimeOfDay = Field(
        default=8 * 3600, description="Bell of the first period (before each school's own shift)."
    )
    period_min: Annotated[float, Field(gt=0, le=240)] = Field(
        default=45.0, description="Length of a period in minutes."
    )
    periods: Annotated[StrictInt, Field(ge=1, le=12)] = Field(
        default=8, description="Periods in the day."
    )
    breaks_min: dict[Annotated[int, Field(ge=1, le=12)], Annotated[float, Field(
        ge=0.0, le=240.0, allow_inf_nan=False)]] = Field(
        default_factory=lambda: {2: 20.0, 4: 15.0},
        description="Period k → minutes of break after it.",
    )
    checkin: CheckInConfig = Field(
        default_factory=CheckInConfig, description="The daily check-in at the first period."
    )
    live_lesson_share: Share = Field(
        default=0.13,
        description="Share of classes holding a live video lesson in a given period (for "
        "every school type without its own share).",
    )
    live_lesson_min: Annotated[float, Field(gt=0, le=240)] | None = Field(
        default=25.0,
        description="Minutes of a lesson's live video phase, from the bell (then pupils work "
        "on their tasks); empty: the whole period.",
    )
    live_lesson_share_by_type: dict[Name, Share] = Field(
        default_factory=dict,
        description="School type → its own live-lesson share (replaces `live_lesson_share` "
        "for that type).",
    )
    start_offset_min_by_type: dict[Name, Annotated[float, Field(ge=-120, le=240)]] = Field(
        default_factory=dict,
        description="School type → minutes its whole timetable is shifted (a staggered "
        "start by school type).",
    )
    school_start_spread_min: Annotated[float, Field(ge=0, le=120)] = Field(
        default=20.0,
        description="Schools' own bell times differ: each school's timetable is shifted by a "
        "fixed offset drawn uniformly in ±this many minutes (from the population seed).",
    )


class LoginConfig(Strict):
    """Every pupil at home logs in to the school's platform in the morning (tasks, messenger)."""

    share: Share = Field(
        default=0.6,
        description="Share of pupils at home who log in to their platform around the first "
        "period (≈1.5 M IServ users by midday incl. teachers, S58: `data/SOURCES.md` A34).",
    )
    early_mean_s: PositiveFloat = Field(
        default=600.0,
        description="Mean seconds by which an early login comes before the first bell "
        "(exponentially distributed).",
    )
    late_mean_s: PositiveFloat = Field(
        default=600.0,
        description="Mean seconds by which a late login comes after the first bell "
        "(exponentially distributed).",
    )
    early_share: Share = Field(
        default=0.5,
        description="Share of logins that come before the bell.",
    )


class JitterConfig(Strict):
    """When people arrive relative to the bell."""

    teacher_lead_mean_s: PositiveFloat = Field(
        default=180.0,
        description="Mean seconds by which a teacher opens the room before the meeting "
        "starts (exponentially distributed).",
    )
    pupil_early_share: Share = Field(
        default=0.35, description="Share of pupils who try to join before the meeting starts."
    )
    pupil_early_mean_s: PositiveFloat = Field(
        default=60.0,
        description="Mean seconds an early pupil comes before the start (exponential)."
    )
    pupil_late_mean_s: PositiveFloat = Field(
        default=90.0, description="Mean seconds a late pupil comes after the start (exponential)."
    )


class BehaviourConfig(Strict):
    """How pupils and teachers act: attendance, retries after a failure, patience."""

    attendance: Share = Field(
        default=0.9, description="Share of a class's pupils at home who join a given meeting."
    )
    # at least 0.1 s: a retry is a new page load, never faster; a back-off of nanoseconds only
    # multiplies events (with one node it never ended)
    backoff_initial_s: Annotated[float, Field(ge=0.1, le=3600.0, allow_inf_nan=False)] = Field(
        default=15.0,
        description="Seconds before the first retry after a failed or timed-out attempt."
    )
    backoff_factor: Annotated[float, Field(ge=1.0, le=10.0)] = Field(
        default=2.0, description="Each further back-off is this many times the previous one."
    )
    backoff_max_s: PositiveFloat = Field(
        default=240.0, description="Longest back-off in seconds (not below `backoff_initial_s`)."
    )
    backoff_jitter: Share = Field(
        default=0.5,
        description="Each back-off is multiplied by a uniform factor in [1 − jitter, "
        "1 + jitter], so that retries spread out.",
    )
    patience_s: PositiveFloat = Field(
        default=900.0,
        description="A pupil gives up after trying this many seconds (the rest of that "
        "meeting is lost).",
    )
    teacher_patience_s: PositiveFloat = Field(
        default=2700.0, description="A teacher gives up opening the room after this many seconds."
    )
    login_patience_s: PositiveFloat = Field(
        default=1800.0, description="A pupil gives up the morning login after this many seconds."
    )
    # at most 60 per hour: a drop-out every minute is a connection that does not work, not a rate
    reconnect_per_h: Annotated[float, Field(ge=0.0, le=60.0, allow_inf_nan=False)] = Field(
        default=0.5,
        description="How often per hour a participant drops out (home connection, browser) "
        "and rejoins.",
    )
    webcam_share_pupils: Share = Field(
        default=0.15,
        description="Share of pupils with their camera on.",
    )
    webcam_share_teachers: Share = Field(
        default=0.9, description="Share of teachers with their camera on."
    )
    screenshare_share: Share = Field(
        default=0.5, description="Share of meetings in which the teacher shares the screen."
    )
    give_up_return_share: Share = Field(
        default=0.0,
        description="Share of pupils who gave up that try again later in the same meeting "
        "(a new chain of attempts).",
    )
    give_up_return_after_s: PositiveFloat = Field(
        default=600.0, description="Seconds after giving up at which such a pupil tries again."
    )
    retries: bool = Field(
        default=True,
        description="Whether a failed attempt is retried; false: it is lost (validation mode, "
        "a pure loss system).",
    )

    @model_validator(mode="after")
    def _backoff(self) -> BehaviourConfig:
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must not be below backoff_initial_s")
        return self


class MediaConfig(Strict):
    """Stream bit rates (Mbit/s), BBB figures from domain-facts."""

    audio_mbit_s: PositiveFloat = Field(default=0.04, description="One audio stream, Mbit/s.")
    webcam_mbit_s: PositiveFloat = Field(
        default=0.20,
        description="One camera stream, Mbit/s (BBB HTML5 client's default profile "
        "\"medium\", 200 kbit/s; SOURCES S107).",
    )
    screenshare_mbit_s: PositiveFloat = Field(default=0.50, description="One screen share, Mbit/s.")


class FrontendConfig(Strict):
    """A hosted platform's login/front-end service: c workers, FIFO queue, client timeout."""

    workers: PositiveInt = Field(
        default=400,
        description="Requests served at once (whole state: a miniature builds its share).",
    )
    login_service_s: PositiveFloat = Field(
        default=0.8, description="Mean server time of a pupil's morning login, seconds."
    )
    join_service_s: PositiveFloat = Field(
        default=0.3, description="Mean server time of a conference join request, seconds."
    )
    service_cv: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        default=1.0,
        description="Variation of service times (coefficient of variation: 1 = exponential, "
        "0 = always the mean).",
    )
    timeout_s: PositiveFloat = Field(
        default=30.0,
        description="A request waiting longer than this many seconds in the queue fails "
        "(the browser gives up).",
    )


class ClusterConfig(Strict):
    """A conference cluster (BigBlueButton servers behind a dispatcher)."""

    name: Name = Field(
        description="Cluster id, unique in the scenario (used by faults, scale-up and paths)."
    )
    nodes: PositiveInt = Field(
        description="Conference servers in the cluster (whole state: a miniature builds its "
        "share)."
    )
    # at most 10 million: the verification scenarios' stand-in for a node without a limit
    # (real BBB nodes hold ≈200); times any node count it stays far inside int64
    node_max_participants: Annotated[StrictInt, Field(gt=0, le=10_000_000)] = Field(
        default=250,
        description="Hard limit of participants per node: the one load at which a node "
        "refuses a join (a server's `maxParticipants`; SOURCES A66). CPU and bandwidth load "
        "never refuse (the node runs degraded) unless `refuse_overload` is set.",
    )
    node_capacity_mbit_s: PositiveFloat = Field(
        default=1000.0, description="Outgoing bandwidth of one node, Mbit/s."
    )
    node_cpu: PositiveFloat | None = Field(
        default=None,
        description="CPU of one node in BBB reference servers (1 = BBB 2.2's minimum, "
        "8 cores). A node whose `cpu_per_participant × participants + cpu_per_mbit_s × "
        "egress` exceeds `stress_threshold` of it runs degraded (it still admits joins), so "
        "what a node holds well depends on the media mix (cameras). Empty: no CPU limit.",
    )
    cpu_per_participant: PositiveFloat = Field(
        default=1.771e-3,
        description="CPU per participant (audio mixing, signalling), in reference servers "
        "(SOURCES A53: a least-squares fit to three load figures).",
    )
    cpu_per_mbit_s: PositiveFloat = Field(
        default=3.287e-3,
        description="CPU per Mbit/s of media forwarded (cameras, screen share, audio), in "
        "reference servers (SOURCES A53: a least-squares fit to three load figures).",
    )
    heterogeneity_cv: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.25,
        description="How much node sizes vary (coefficient of variation; real fleets are "
        "mixed, and identical nodes never block early).",
    )
    stress_threshold: Share = Field(
        default=0.8,
        description="Utilisation above which a node counts as stressed, and CPU share above "
        "which it runs degraded (BBB audio degrades above ≈ 80 % CPU): counted in the series "
        "and in `degraded_pupil_minutes`, never refused.",
    )
    refuse_overload: bool = Field(
        default=False,
        description="Refuse a join that would take a node past its CPU or bandwidth (the "
        "model's rule before issue 24). Real BBB and Scalelite never refuse for load; off, "
        "an overloaded node admits and runs degraded.",
    )


class DispatcherConfig(Strict):
    """How the platform's dispatcher places new rooms on nodes."""

    policy: Literal["least_meetings", "least_participants"] = Field(
        default="least_meetings",
        description="`least_meetings`: the node with the fewest running meetings (Scalelite "
        "as deployed in January 2021); `least_participants`: the least-utilised node (the "
        "later Scalelite rule).",
    )
    mode: Literal["scalelite_poll", "live"] = Field(
        default="scalelite_poll",
        description="What the `least_meetings` rule sees. `scalelite_poll`: Scalelite as it "
        "ran in January 2021 — each server's meetings as of its last poll, plus one at once "
        "for each meeting it placed itself since (meetings that ended are seen at the next "
        "poll); a server is taken offline after `failed_polls_offline` failed polls, so a "
        "lost node keeps getting new rooms until then (SOURCES S86, S87, A72–A74). `live`: "
        "every node's running meetings at every instant and a lost node at once (an ideal "
        "dispatcher). `least_participants` always sees live counts.",
    )
    poll_interval_s: PositiveFloat = Field(
        default=60.0,
        description="Seconds between two polls of every server (Scalelite's `POLL_INTERVAL`, "
        "default 60; SOURCES A72). Polls start at the day's start.",
    )
    failed_polls_offline: PositiveInt = Field(
        default=2,
        description="Failed polls in a row after which a server is taken offline and gets "
        "no new rooms (Scalelite's `SERVER_UNHEALTHY_THRESHOLD`, default 2; SOURCES A73). "
        "One successful poll brings it back.",
    )
    load_multiplier: Literal["by_size", "none"] = Field(
        default="by_size",
        description="A server's load is its meetings × its load multiplier. `by_size`: the "
        "multiplier is 1 / the node's size factor (the operator set it so, SOURCES A74; node "
        "sizes vary by the cluster's `heterogeneity_cv`); `none`: 1 for every node, so small "
        "nodes get as many meetings as large ones.",
    )


class PlatformConfig(Strict):
    """A learning platform: its front end, its dispatcher and its conference clusters."""

    name: Name = Field(
        description="Platform id, unique in the scenario (used by assignment, faults, paths)."
    )
    label: str = Field(default="", description="Name shown in reports.")
    frontend: FrontendConfig = Field(
        default_factory=FrontendConfig,
        description="The hosted login/front-end service (schools with their own server use "
        "it instead).",
    )
    dispatcher: DispatcherConfig = Field(
        default_factory=DispatcherConfig, description="Placement of rooms on nodes."
    )
    clusters: list[ClusterConfig] = Field(
        min_length=1, description="The platform's conference clusters (at least one)."
    )

    @field_validator("clusters")
    @classmethod
    def _unique_clusters(cls, v: list[ClusterConfig]) -> list[ClusterConfig]:
        for j, c in enumerate(v):
            if any(c.name == o.name for o in v[:j]):
                raise ValueError(f"clusters[{j}].name: duplicate cluster name {c.name!r}")
        return v


class ServerTierConfig(Strict):
    """A school's own server (on premises), reached by pupils at home over the school uplink."""

    workers: PositiveInt = Field(default=16, description="Requests the server handles at once.")
    login_service_s: PositiveFloat = Field(
        default=1.5,
        description="Mean server time of a pupil's morning login (dashboard, messenger, task "
        "list), seconds.",
    )
    join_service_s: PositiveFloat = Field(
        default=0.3, description="Mean server time of a conference join request, seconds."
    )
    service_cv: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        default=1.0,
        description="Variation of service times (coefficient of variation: 1 = exponential, "
        "0 = always the mean).",
    )
    page_mbit: NonNegFloat = Field(
        default=2.0,
        description="Megabits sent per request over the school's upload (≈250 kB: the page "
        "and its data; scripts and styles are cached after the first day, SOURCES A44).",
    )
    timeout_s: PositiveFloat = Field(
        default=30.0,
        description="A request waiting longer than this many seconds fails (the browser "
        "gives up).",
    )
    memory_mb: PositiveFloat = Field(
        default=16384.0,
        description="Working memory of the server, MB: with `overload_crash`, a server whose "
        "requests held at once (in service and queued) need more than this falls over "
        "(assumption, SOURCES A81).",
    )


class ShareRange(Strict):
    """A share drawn uniformly between ``min`` and ``max`` (a plain number: always that)."""

    min: Share = Field(description="Lowest share drawn.")
    max: Share = Field(description="Highest share drawn.")

    @model_validator(mode="before")
    @classmethod
    def _number_is_fixed(cls, v: object) -> object:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return {"min": v, "max": v}
        return v

    @model_validator(mode="after")
    def _ordered(self) -> ShareRange:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class SchoolServersConfig(Strict):
    """Schools' own servers, by tier (`current` and `outdated` are required)."""

    tiers: dict[Name, ServerTierConfig] = Field(
        default_factory=lambda: {
            "current": ServerTierConfig(),
            # 1/20 of a current server's throughput (plausible 1/4–1/20, SOURCES A44)
            "outdated": ServerTierConfig(workers=4, login_service_s=7.5, join_service_s=1.5,
                                         memory_mb=4096.0),
        },
        description="Tier → server. The default outdated server has 1/20 of a current one's "
        "throughput (plausible 1/4–1/20, SOURCES A44) and a quarter of its memory (A81).",
    )
    uplink_background_share: ShareRange = Field(
        default_factory=lambda: ShareRange(min=0.15, max=0.45),
        description="Share of a school's upload bandwidth taken by other traffic (task up- and "
        "downloads, staff) during the day: drawn per school and replication between `min` and "
        "`max` (a plain number: the same for every school; SOURCES A82).",
    )

    @field_validator("tiers")
    @classmethod
    def _needs_tiers(cls, v: dict[str, ServerTierConfig]) -> dict[str, ServerTierConfig]:
        for key in ("current", "outdated"):
            if key not in v:
                raise ValueError(f"tier {key!r} is required")
        return v


class PoissonDemandConfig(Strict):
    """Validation mode: a stationary Poisson stream of single joins, exponential holding times."""

    platform: Name = Field(description="The platform whose cluster receives the stream.")
    arrival_rate_per_s: PositiveFloat = Field(description="Joins per second.")
    holding_mean_s: PositiveFloat = Field(
        description="Mean seconds a participant stays in the room."
    )
    holding: Literal["exponential", "deterministic"] = Field(
        default="exponential", description="Distribution of the time in the room."
    )
    warmup_s: NonNegFloat = Field(
        default=0.0,
        description="Attempts before `day.start` + this many seconds are simulated but not "
        "counted in the KPIs.",
    )


class DemandConfig(Strict):
    """Where the join attempts come from."""

    kind: Literal["timetable", "poisson"] = Field(
        default="timetable",
        description="`timetable`: the school day (lessons, check-in, logins); `poisson`: the "
        "validation mode, a Poisson stream of single joins (needs `poisson`).",
    )
    poisson: PoissonDemandConfig | None = Field(
        default=None, description="The Poisson stream, for `kind: poisson`."
    )

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

    node_per_day_eur: NonNegFloat = Field(
        default=2.0,
        description="€ per rented conference node (8 cores / 16 GB) and day it is kept."
    )
    reserve_node_hour_eur: NonNegFloat = Field(
        default=0.1,
        description="€ per reserve node and hour while started by an emergency scale-up."
    )
    server_replacement_eur: dict[Name, NonNegFloat] = Field(
        default_factory=lambda: {"outdated": 3000.0, "current": 3000.0},
        description="One-off € for replacing a school's server, by the tier it replaces.",
    )
    uplink_upgrade_eur: NonNegFloat = Field(
        default=1500.0, description="One-off € for upgrading a school's uplink to the next class."
    )
    central_move_eur: NonNegFloat = Field(
        default=2000.0,
        description="One-off € for moving a school to a central platform (migration, "
        "training).",
    )
    central_per_pupil_year_eur: NonNegFloat = Field(
        default=5.0, description="Recurring € licence of a central platform per pupil and year."
    )
    policy_eur: dict[str, NonNegFloat] = Field(
        default_factory=lambda: {"stagger": 0.0, "camera": 0.0, "join_rate_limit": 0.0},
        description="Policy → € when it is switched on (zero: an instruction to schools).",
    )


class ReportConfig(Strict):
    """How the scenario's reports are written (presentation only: not part of the hash)."""

    lang: Literal["de", "en"] | None = Field(
        default=None,
        description="Language of reports and the command line's summary (`--lang` overrides "
        "it); empty: English.",
    )


class Scenario(Strict):
    """One simulated school day."""

    name: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        default="scenario", description="Short name shown in reports and summaries."
    )
    description: str = Field(default="", description="What the scenario is, in a sentence or two.")
    day: DayConfig = Field(default_factory=DayConfig, description="The simulated window.")
    population: PopulationConfig = Field(
        default_factory=PopulationConfig,
        description="Where the schools come from and how many are simulated.",
    )
    assignment: AssignmentConfig = Field(
        default_factory=AssignmentConfig,
        description="Which platform each school uses, its own server and its uplink.",
    )
    timetable: TimetableConfig = Field(
        default_factory=TimetableConfig,
        description="Periods, breaks and live lessons: the demand of an ordinary day.",
    )
    login: LoginConfig = Field(
        default_factory=LoginConfig, description="The morning logins to the platforms."
    )
    jitter: JitterConfig = Field(
        default_factory=JitterConfig, description="When people arrive relative to the bell."
    )
    behaviour: BehaviourConfig = Field(
        default_factory=BehaviourConfig,
        description="Attendance, retries, patience, cameras.",
    )
    media: MediaConfig = Field(
        default_factory=MediaConfig, description="Bit rates of the streams."
    )
    platforms: list[PlatformConfig] = Field(
        default_factory=_default_platforms,
        min_length=1,
        description="The learning platforms and their conference clusters (at least one).",
    )
    school_servers: SchoolServersConfig = Field(
        default_factory=SchoolServersConfig, description="Schools' own servers, by tier."
    )
    demand: DemandConfig = Field(
        default_factory=DemandConfig,
        description="The timetable, or a Poisson stream (validation mode).",
    )
    faults: list[Fault] = Field(
        default_factory=list,
        description="Time-windowed faults, each chosen by its `kind`.",
    )
    policies: Policies = Field(
        default_factory=Policies, description="What planners can decide for the day."
    )
    costs: CostsConfig = Field(
        default_factory=CostsConfig,
        description="Prices of levers (not part of the configuration hash).",
    )
    report: ReportConfig = Field(
        default_factory=ReportConfig,
        description="How reports are written (not part of the configuration hash).",
    )

    # Where the scenario was loaded from (for resolving data files); not part of the hash.
    source_path: str | None = Field(
        default=None,
        exclude=True,
        description="Set when a file is loaded: the scenario file, against which data paths "
        "are resolved. Not a setting (a file may not contain it).",
    )

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
            if (f.kind == "overload_crash" and f.tier is not None
                    and f.tier not in self.school_servers.tiers):
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
            ("policies.stagger.within_school_slots",
             (st.within_school_slots - 1) * st.within_school_slot_min,
             "a school's last start slot"),
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
        # so is staggering within schools while it is off (its settings then change nothing)
        if not self.policies.stagger.staggers_within_schools():
            for key in ("within_school_slots", "within_school_by", "within_school_slot_min",
                        "within_school_only"):
                del dump["policies"]["stagger"][key]
        elif self.policies.stagger.within_school_only is None:  # every school: as before
            del dump["policies"]["stagger"]["within_school_only"]
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
