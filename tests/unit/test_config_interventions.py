"""Fault and policy settings with bad values: a ConfigError naming the field path."""

from __future__ import annotations

import pytest

from sim.config import ConfigError, load_scenario
from tests.conftest import DEFAULT_CONFIG

DISP = '{kind: dispatcher_failure, platform: iserv, start: "08:00", end: "12:00"}'

BAD = [
    ('faults=[{kind: meteor_strike, start: "08:00"}]', "faults[0]", "meteor_strike"),
    ('faults=[{kind: dispatcher_failure, platform: moodle, start: "08:00"}]',
     "faults[0].platform", "unknown platform 'moodle'"),
    ('faults=[{kind: dispatcher_failure, platform: iserv, start: "12:00", end: "08:00"}]',
     "faults[0]", "end must be after start"),
    ('faults=[{kind: dispatcher_failure, platform: iserv, start: "08:00", share: 1.5}]',
     "faults[0].dispatcher_failure.share", "less than or equal to 1"),
    ('faults=[{kind: node_loss, cluster: nowhere, share: 0.3, start: "08:00"}]',
     "faults[0].cluster", "unknown cluster 'nowhere'"),
    ('faults=[{kind: node_loss, cluster: iserv-bbb, start: "08:00"}]',
     "faults[0].node_loss.share", "Field required"),
    ('faults=[{kind: dispatcher_failure, platform: iserv, start: "08:00", repair_stages: 3}]',
     "faults[0]", "staged repair needs an end time"),
    ('faults=[{kind: overload_crash, tier: ancient}]', "faults[0].tier", "unknown server tier"),
    ('faults=[{kind: overload_crash, load_threshold: 0}]',
     "faults[0].overload_crash.load_threshold", "greater than 0"),
    ('faults=[{kind: overload_crash, queue_threshold: 5}]',
     "faults[0].overload_crash.queue_threshold", "unknown key"),
    ("school_servers.uplink_background_share={min: 0.5, max: 0.2}",
     "school_servers.uplink_background_share", "above max"),
    ('faults=[{kind: node_degradation, cluster: iserv-bbb, share: 0.5, start: "08:00", '
     'capacity_factor: 0}]', "faults[0].node_degradation.capacity_factor", "greater than 0"),
    (f'faults=[{DISP[:-1]}, sharee: 0.5}}]', "faults[0].dispatcher_failure.sharee",
     "unknown key"),
    ("policies.scale_up=[{cluster: nowhere, reserve_nodes: 10}]",
     "policies.scale_up[0].cluster", "unknown cluster"),
    ("policies.scale_up=[{cluster: iserv-bbb, reserve_nodes: 0}]",
     "policies.scale_up[0].reserve_nodes", "greater than 0"),
    ("policies.stagger.slot_min=-5", "policies.stagger.slot_min", "greater than or equal to 0"),
    ("policies.stagger.school_number_slots=0", "policies.stagger.school_number_slots",
     "greater than or equal to 1"),
    ("policies.join_rate_limit.per_node_per_s=-1", "policies.join_rate_limit.per_node_per_s",
     "greater than 0"),
    ("policies.camera.cameras_off_abov=5", "policies.camera.cameras_off_abov", "unknown key"),
    ("behaviour.give_up_return_share=2", "behaviour.give_up_return_share",
     "less than or equal to 1"),
]


@pytest.mark.parametrize(("override", "path", "what"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_intervention(override: str, path: str, what: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_scenario(DEFAULT_CONFIG, [override])
    text = "\n".join(exc.value.problems)
    assert str(DEFAULT_CONFIG) in text
    assert path in text, text
    assert what in text, text


def test_good_interventions_load() -> None:
    sc = load_scenario(DEFAULT_CONFIG, [
        f"faults=[{DISP}]",
        "policies.scale_up=[{cluster: iserv-bbb, reserve_nodes: 10}]",
        "policies.stagger.school_number_slots=4",
    ])
    assert sc.faults[0].kind == "dispatcher_failure"
    assert sc.policies.scale_up[0].reserve_nodes == 10
