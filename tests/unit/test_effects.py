"""Each fault and policy type declares its effects; settling of retries at a down server and
counting reconnects instead of simulating them are decided from the declarations in one place
each (``sim.model.effects.settling``, ``rejoins_can_fail``), and a type that does not declare
cannot switch either shortcut on."""

from __future__ import annotations

import typing

import pytest

from sim.config.interventions import Fault as FaultConfig
from sim.model import policies
from sim.model.effects import Declares, Effect, Settling, rejoins_can_fail, settling
from sim.model.faults import (
    FAULT_TYPES,
    DispatcherFailureFault,
    Fault,
    FrontendFault,
    NodeLossFault,
    OverloadCrashFault,
    UplinkFault,
    fault_type,
)

ALL_TYPES: list[type[Declares]] = [*FAULT_TYPES, policies.JoinLimiter,
                                   policies.ScaleUpController, policies.CameraRule,
                                   policies.FirstPupilOpens, policies.Stagger,
                                   policies.StaggerWithinSchool]


@pytest.mark.parametrize("cls", ALL_TYPES, ids=lambda c: c.__name__)
def test_every_type_declares_its_effects(cls: type[Declares]) -> None:
    effects = cls.__dict__.get("effects")
    assert isinstance(effects, frozenset)
    assert all(isinstance(e, Effect) for e in effects)


def test_every_configured_fault_kind_has_a_type() -> None:
    kinds = typing.get_args(typing.get_args(FaultConfig)[0])
    assert kinds
    for cfg_cls in kinds:
        assert any(t.config is cfg_cls for t in FAULT_TYPES), cfg_cls.__name__


def test_declared_types_keep_settling_on() -> None:
    assert settling([]) == Settling(logins=True, joins=True)
    assert settling([UplinkFault, policies.JoinLimiter, policies.ScaleUpController,
                     policies.FirstPupilOpens]) == Settling(logins=True, joins=True)


def test_a_type_that_touches_rooms_turns_join_settling_off() -> None:
    assert settling([UplinkFault, NodeLossFault]) == Settling(logins=True, joins=False)


def test_a_new_type_without_a_declaration_cannot_enable_settling() -> None:
    class Reroute(Fault):  # forgot ``effects``
        def install(self) -> None:
            pass

    class QuietLimiter(policies.JoinLimiter):  # inherits, but does not declare itself
        pass

    class Bare(Declares):
        pass

    for cls in (Reroute, QuietLimiter, Bare):
        assert settling([UplinkFault, cls]) == Settling(logins=False, joins=False)


def test_fault_type_refuses_an_unknown_config() -> None:
    with pytest.raises(TypeError):
        fault_type(object())


PLATFORMS = ["iserv", "bildungscloud", "hannover-city"]


def test_a_platforms_way_in_fails_only_where_a_fault_declares_it() -> None:
    assert rejoins_can_fail([], PLATFORMS) == [False, False, False]
    # a dispatcher failure and a front-end outage act on their own platform's way in
    assert rejoins_can_fail([(DispatcherFailureFault, "iserv")], PLATFORMS) == [True, False, False]
    assert rejoins_can_fail([(FrontendFault, "hannover-city"), (UplinkFault, None),
                             (OverloadCrashFault, None), (NodeLossFault, None)],
                            PLATFORMS) == [False, False, True]
    # policies act on no platform's way in
    assert rejoins_can_fail([(t, None) for t in ALL_TYPES if not issubclass(t, Fault)],
                            PLATFORMS) == [False, False, False]


def test_the_faults_that_fail_a_way_in_name_their_platform() -> None:
    way_in = {t for t in FAULT_TYPES if Effect.FAILS_WAY_IN in (t.effects or ())}
    assert way_in == {DispatcherFailureFault, FrontendFault}
    assert all("platform" in t.__dict__ for t in way_in)  # each says which platform it hits


def test_an_undeclared_type_or_one_without_a_platform_fails_every_way_in() -> None:
    class Reroute(Fault):  # forgot ``effects``
        def install(self) -> None:
            pass

    class Everywhere(Fault):  # fails the way in, on no single platform
        effects = frozenset({Effect.FAILS_WAY_IN})

        def install(self) -> None:
            pass

    for cls in (Reroute, Everywhere):
        assert rejoins_can_fail([(UplinkFault, None), (cls, None)], PLATFORMS) == [True] * 3


def test_stagger_within_schools_is_built_and_declared() -> None:
    """The scenario's stagger within schools puts its policy type where settling sees it."""
    from sim.model.simulation import build
    from tests.conftest import small_scenario

    on = build(small_scenario(0.01, ["policies.stagger.within_school_slots=3"]))
    off = build(small_scenario(0.01))
    assert policies.StaggerWithinSchool in on.policies.types
    assert policies.StaggerWithinSchool not in off.policies.types
    assert policies.StaggerWithinSchool.effects == frozenset()
