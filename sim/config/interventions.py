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

    label: str = ""
    start: TimeOfDay
    end: TimeOfDay | None = None
    repair_stages: Annotated[StrictInt, Field(ge=1, le=100)] = 1
    repair_interval_min: NonNegFloat = 0.0

    @model_validator(mode="after")
    def _window(self) -> _Windowed:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        if self.repair_stages > 1 and self.end is None:
            raise ValueError("a staged repair needs an end time")
        return self


class DispatcherFailure(_Windowed):
    """The dispatcher fails a share of room creations and/or joins (IServ, Mon 11 Jan 2021)."""

    kind: Literal["dispatcher_failure"]
    platform: Name
    share: Share = 1.0
    creates: bool = True
    joins: bool = True


class NodeLoss(_Windowed):
    """A share of a cluster's nodes goes down (rented servers failing, Tue 12 Jan 2021).

    Meetings on a lost node end abruptly: their participants rejoin and the room is re-created
    elsewhere. Nodes come back at ``end`` (staged)."""

    kind: Literal["node_loss"]
    cluster: Name
    share: Share
    pick: Literal["random", "smallest", "largest"] = "random"


class NodeDegradation(_Windowed):
    """A share of a cluster's nodes runs at reduced capacity (participants and bandwidth)."""

    kind: Literal["node_degradation"]
    cluster: Name
    share: Share
    capacity_factor: Annotated[float, Field(gt=0.0, le=1.0)]


class FrontendOutage(_Windowed):
    """A platform's login/front-end service is down: requests fail at once."""

    kind: Literal["frontend_outage"]
    platform: Name


class UplinkOutage(_Windowed):
    """Schools' uplinks fail: their own servers cannot be reached from home."""

    kind: Literal["uplink_outage"]
    region: Name | None = None
    school_type: Name | None = None
    share: Share = 1.0
    """Share of the matching on-premise schools affected (drawn from the population seed)."""


class OverloadCrash(Strict):
    """Outdated local servers crash when overloaded for a while, then restart after repair.

    A server of ``tier`` whose workers are all busy with at least ``queue_threshold`` requests
    waiting at ``sustain_s`` consecutive per-minute checks crashes: in-flight requests fail, it
    is down for ``repair_min``, then comes back empty (Wed 13 Jan 2021: 2–3 % of schools)."""

    kind: Literal["overload_crash"]
    label: str = ""
    tier: Name = "outdated"
    queue_threshold: Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)] = 5
    sustain_s: Annotated[float, Field(ge=60.0, le=7200.0)] = 120.0
    repair_min: PositiveFloat = 30.0
    start: TimeOfDay = 0.0
    end: TimeOfDay | None = None


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

    school_number_slots: Annotated[StrictInt, Field(ge=1, le=24)] = 1
    """Schools are spread over this many start slots by school number (Mebis: 08:15, 08:30…)."""
    slot_min: Annotated[float, Field(ge=0.0, le=120.0)] = 15.0
    offset_min_by_year: dict[Annotated[int, Field(ge=1, le=13)],
                             Annotated[float, Field(ge=-120.0, le=240.0)]] = Field(
        default_factory=dict
    )
    """Shift of the timetable for classes of a year group (minutes)."""


class JoinRateLimit(Strict):
    """Admission control: joins per node and per meeting are paced (jicofo added one after
    join bursts overloaded single bridges). Excess joins are refused and retried."""

    per_node_per_s: PositiveFloat | None = None
    node_burst: PositiveInt = 20
    per_meeting_per_min: PositiveFloat | None = None
    meeting_burst: PositiveInt = 10


class CameraPolicy(Strict):
    cameras_off_above: PositiveInt | None = None
    """Pupils joining a meeting that already has this many participants join without camera."""


class ScaleUp(Strict):
    """Emergency scale-up: reserve nodes started when utilisation stays above a threshold
    (NBC started 750 extra servers on Mon 11 Jan 2021)."""

    cluster: Name
    reserve_nodes: PositiveInt
    step_nodes: PositiveInt = 10
    threshold: Share = 0.8
    """Mean utilisation of the nodes up that triggers a step."""
    delay_min: NonNegFloat = 20.0
    """Provisioning delay from decision to nodes up."""
    check_interval_s: Annotated[float, Field(ge=10.0, le=3600.0)] = 60.0


class Policies(Strict):
    stagger: StaggerPolicy = Field(default_factory=StaggerPolicy)
    join_rate_limit: JoinRateLimit = Field(default_factory=JoinRateLimit)
    camera: CameraPolicy = Field(default_factory=CameraPolicy)
    scale_up: list[ScaleUp] = Field(default_factory=list)
    first_pupil_opens_room: bool = False
    """The first participant (pupil or teacher) creates the room; nobody waits for the teacher."""
