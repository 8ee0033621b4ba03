"""Each fault and policy type declares its effects; settling of retries at a down server is
decided from the declarations in one place (``sim.model.effects.settling``), and a type that does
not declare cannot switch it on."""

from __future__ import annotations

import typing

import pytest

from sim.config.interventions import Fault as FaultConfig
from sim.model import policies
from sim.model.effects import Declares, Effect, Settling, settling
from sim.model.faults import FAULT_TYPES, Fault, NodeLossFault, UplinkFault, fault_type

ALL_TYPES: list[type[Declares]] = [*FAULT_TYPES, policies.JoinLimiter,
                                   policies.ScaleUpController, policies.CameraRule,
                                   policies.FirstPupilOpens, policies.Stagger]


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
