"""Scenario models for faults and policies (what a scenario may inject or change).

Faults are time-windowed and targeted; policies are what planners can decide. Both are
applied by ``sim.model.faults`` and ``sim.model.policies``; names they refer to (platforms,
clusters,
regions, school types, tiers) are checked when the scenario loads.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.config.base import (
    MAX_COUNT,
    Name,
    NonNegFloat,
    PositiveFloat,
    PositiveInt,
    Share,
    Strict,
    StrictInt,
    TimeOfDay,
)


class _Windowed(Strict):
    """A fault active from ``start`` until ``end`` (None: the rest of the day), repaired in
    ``repair_stages`` equal steps ``repair_interval_min`` apart starting at ``end``."""

    label: str = Field(default="", description="Name of the fault shown in reports.")
    start: TimeOfDay = Field(description="When the fault begins (time of day).")
    end: TimeOfDay | None = Field(
        default=None,
        description="When the repair begins (time of day, after `start`); empty: the fault "
        "lasts the rest of the day.",
    )
    repair_stages: Annotated[StrictInt, Field(ge=1, le=100)] = Field(
        default=1,
        description="The repair comes in this many equal steps (1: all at `end`; more "
        "needs an `end`).",
    )
    repair_interval_min: NonNegFloat = Field(
        default=0.0, description="Minutes between two repair steps."
    )

    @model_validator(mode="after")
    def _window(self) -> _Windowed:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        if self.repair_stages > 1 and self.end is None:
            raise ValueError("a staged repair needs an end time")
        return self


class DispatcherFailure(_Windowed):
    """The dispatcher fails a share of room creations and/or joins (IServ, Mon 11 Jan 2021)."""

    kind: Literal["dispatcher_failure"] = Field(description="`dispatcher_failure`.")
    platform: Name = Field(description="The platform whose dispatcher fails.")
    share: Share = Field(default=1.0, description="Share of the requests that fail while it lasts.")
    creates: bool = Field(default=True, description="Whether creating a room fails.")
    joins: bool = Field(default=True, description="Whether joining a room fails.")


class NodeLoss(_Windowed):
    """A share of a cluster's nodes goes down (rented servers failing, Tue 12 Jan 2021).

    Meetings on a lost node end abruptly: their participants rejoin and the room is re-created
    elsewhere. Nodes come back at ``end`` (staged)."""

    kind: Literal["node_loss"] = Field(description="`node_loss`.")
    cluster: Name = Field(description="The cluster (a `platforms[].clusters[].name`).")
    share: Share = Field(description="Share of the cluster's nodes lost.")
    pick: Literal["random", "smallest", "largest"] = Field(
        default="random",
        description="Which nodes are lost: drawn at random, or the smallest or largest "
        "first (by participant capacity).",
    )


class NodeDegradation(_Windowed):
    """A share of a cluster's nodes runs at reduced capacity (participants and bandwidth)."""

    kind: Literal["node_degradation"] = Field(description="`node_degradation`.")
    cluster: Name = Field(description="The cluster (a `platforms[].clusters[].name`).")
    share: Share = Field(description="Share of the cluster's nodes degraded.")
    capacity_factor: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        description="The degraded nodes' capacity as a share of their normal capacity."
    )


class FrontendOutage(_Windowed):
    """A platform's login/front-end service is down: requests fail at once."""

    kind: Literal["frontend_outage"] = Field(description="`frontend_outage`.")
    platform: Name = Field(description="The platform whose front end is down.")


class UplinkOutage(_Windowed):
    """Schools' uplinks fail: their own servers cannot be reached from home."""

    kind: Literal["uplink_outage"] = Field(description="`uplink_outage`.")
    region: Name | None = Field(
        default=None, description="Only schools of this region (from `regions_file`); empty: all."
    )
    school_type: Name | None = Field(
        default=None,
        description="Only schools of this type (from `school_types_file`); empty: all."
    )
    share: Share = Field(
        default=1.0,
        description="Share of the matching schools with their own server that are affected "
        "(drawn from the population seed).",
    )


class OverloadCrash(Strict):
    """Any school server falls over when overloaded relative to its own capacity, then restarts.

    One rule for every tier (an outdated server fails sooner because it is smaller). Checked
    every minute for each school server that is up:

    - **memory**: the requests it holds at once (in service and queued, including those whose
      clients are about to give up) × `request_mb` exceed the tier's `memory_mb` → it crashes
      at once;
    - **sustained overload**: the work offered to it over the last minute (every request,
      retries included, at its mean service time) is at least `load_threshold` × what its
      workers can do in a minute, *and* a request arriving now would wait at least
      `response_share` × the client's time-out (clients are timing out and retrying) — at
      `sustain_s` / 60 consecutive checks → it crashes.

    A crash fails every request queued or in service; the server is down for `repair_min`, then
    comes back empty (Wed 13 Jan 2021: problems at 2–3 % of schools). The parameters are
    assumptions with ranges (SOURCES A80–A84)."""

    kind: Literal["overload_crash"] = Field(description="`overload_crash`.")
    label: str = Field(default="", description="Name shown in reports.")
    tier: Name | None = Field(
        default=None,
        description="Only the servers of this `school_servers` tier; empty: every school server.",
    )
    load_threshold: Annotated[float, Field(gt=0.0, le=1000.0, allow_inf_nan=False)] = Field(
        default=1.0,
        description="Work offered in a minute, relative to what the server's workers can do in "
        "a minute, that counts as overloaded (1 = exactly its capacity; SOURCES A80).",
    )
    response_share: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] = Field(
        default=0.5,
        description="Wait for a worker, as a share of the client's time-out, that a request "
        "arriving now must face for the server to count as overloaded (1: clients are timing "
        "out and retrying; SOURCES A80).",
    )
    request_mb: Annotated[float, Field(ge=0.0, le=1e6, allow_inf_nan=False)] = Field(
        default=16.0,
        description="Memory one request held by the server takes, MB (0: memory never "
        "limits; SOURCES A81).",
    )
    sustain_s: Annotated[float, Field(ge=60.0, le=7200.0)] = Field(
        default=120.0,
        description="Seconds a server must stay overloaded, at per-minute checks, before it "
        "crashes (SOURCES A83).",
    )
    repair_min: PositiveFloat = Field(
        default=30.0,
        description="Minutes a crashed server is down before it restarts empty (SOURCES A84).",
    )
    start: TimeOfDay = Field(default=0.0, description="From when crashes can happen (time of day).")
    end: TimeOfDay | None = Field(
        default=None, description="Until when crashes can happen; empty: the rest of the day."
    )


Fault = Annotated[
    DispatcherFailure
    | NodeLoss
    | NodeDegradation
    | FrontendOutage
    | UplinkOutage
    | OverloadCrash,
    Field(discriminator="kind"),
]


class StaggerPolicy(Strict):
    """Staggered start on top of each school's own bell time."""

    school_number_slots: Annotated[StrictInt, Field(ge=1, le=24)] = Field(
        default=1,
        description="Schools are spread over this many start slots by school number (Mebis: "
        "08:15, 08:30, …); 1: no stagger.",
    )
    slot_min: Annotated[float, Field(ge=0.0, le=120.0)] = Field(
        default=15.0, description="Minutes between two start slots."
    )
    offset_min_by_year: dict[Annotated[int, Field(ge=1, le=13)],
                             Annotated[float, Field(ge=-120.0, le=240.0)]] = Field(
        default_factory=dict,
        description="School year → minutes by which that year's timetable is shifted.",
    )
    within_school_slots: Annotated[StrictInt, Field(ge=1, le=13)] = Field(
        default=1,
        description="Every school spreads its own classes over this many start slots, "
        "`within_school_slot_min` apart — IServ's advice of 8 Jan 2021: stagger by year or "
        "class (unlike `school_number_slots`, this relieves a school's own server and "
        "uplink); 1: no stagger within schools.",
    )
    within_school_by: Literal["year", "class"] = Field(
        default="year",
        description="How a school's classes go to its start slots: `year` — year y to slot "
        "(y − 1) mod slots (years 5, 8, 11 start together with 3 slots); `class` — the "
        "school's classes in turn (the parallel classes of a year start apart).",
    )
    within_school_slot_min: Annotated[float, Field(ge=0.0, le=120.0)] = Field(
        default=10.0,
        description="Minutes between two start slots within a school.",
    )
    within_school_only: list[Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]] | None = Field(
        default=None,
        max_length=MAX_COUNT,
        description="Only these schools stagger within (their numbers: the `school` column "
        "of schools.parquet, for this population and scale); empty: every school. "
        "`dlsim week` sets it to the schools that had trouble the day before.",
    )

    def staggers_within_schools(self) -> bool:
        """Whether the school's own classes start apart (by year or class)."""
        return self.within_school_slots > 1

    def is_on(self) -> bool:
        """Whether any staggering is asked for (by school number, year offsets or within
        schools)."""
        return (self.school_number_slots > 1 or bool(self.offset_min_by_year)
                or self.staggers_within_schools())


class JoinRateLimit(Strict):
    """Admission control: joins per node and per meeting are paced (jicofo added one after
    join bursts overloaded single bridges). Excess joins are refused and retried."""

    per_node_per_s: PositiveFloat | None = Field(
        default=None, description="Joins per second a node accepts; empty: no limit per node."
    )
    node_burst: PositiveInt = Field(
        default=20, description="Joins a node accepts at once before the rate applies."
    )
    per_meeting_per_min: PositiveFloat | None = Field(
        default=None, description="Joins per minute a meeting accepts; empty: no limit per meeting."
    )
    meeting_burst: PositiveInt = Field(
        default=10, description="Joins a meeting accepts at once before the rate applies."
    )


class CameraPolicy(Strict):
    """A camera rule for large meetings."""

    cameras_off_above: PositiveInt | None = Field(
        default=None,
        description="Pupils joining a meeting that already has this many participants join "
        "without camera; empty: no rule.",
    )


class ScaleUp(Strict):
    """Emergency scale-up: reserve nodes started when utilisation stays above a threshold
    (NBC started 750 extra servers on Mon 11 Jan 2021)."""

    cluster: Name = Field(description="The cluster that is scaled up.")
    reserve_nodes: PositiveInt = Field(
        description="Reserve nodes that can be started (whole state: a miniature builds its "
        "share)."
    )
    step_nodes: PositiveInt = Field(
        default=10, description="Reserve nodes started per step (whole state); at most "
        "`reserve_nodes`."
    )
    threshold: Share = Field(
        default=0.8, description="Mean utilisation of the nodes up that triggers a step."
    )
    delay_min: NonNegFloat = Field(
        default=20.0, description="Minutes from the decision until the nodes are up."
    )
    check_interval_s: Annotated[float, Field(ge=10.0, le=3600.0)] = Field(
        default=60.0, description="Seconds between two looks at the utilisation."
    )

    @model_validator(mode="after")
    def _step_within_reserve(self) -> ScaleUp:
        # a step of more nodes than the reserve has would start fewer than it says
        if self.step_nodes > self.reserve_nodes:
            raise ValueError(f"step_nodes {self.step_nodes:,} asks for more nodes a step than "
                             f"the reserve has (reserve_nodes {self.reserve_nodes:,})")
        return self


class Policies(Strict):
    """What planners can decide for the day."""

    stagger: StaggerPolicy = Field(
        default_factory=StaggerPolicy, description="Staggered start times."
    )
    join_rate_limit: JoinRateLimit = Field(
        default_factory=JoinRateLimit, description="Admission control: a pace for joins."
    )
    camera: CameraPolicy = Field(
        default_factory=CameraPolicy, description="Cameras off in large meetings."
    )
    scale_up: list[ScaleUp] = Field(
        default_factory=list,
        description="Emergency scale-up with reserve nodes, at most one per cluster.",
    )
    first_pupil_opens_room: bool = Field(
        default=False,
        description="The first participant (pupil or teacher) creates the room; nobody waits "
        "for the teacher.",
    )
