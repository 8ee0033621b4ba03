"""The levers file of notebook 04 (configs/levers/monday-what-would-have-helped.yaml) against
the Monday replay it was written for."""

from __future__ import annotations

from sim import config_path, load_scenario
from sim.decide.levers import load_levers

LEVERS = config_path("levers/monday-what-would-have-helped.yaml")


def test_the_monday_levers_load_and_are_priced() -> None:
    sc = load_scenario(config_path("2021-01-11-monday-dispatcher-failure.yaml"))
    levers = {lv.name: lv for lv in load_levers(LEVERS, sc)}
    assert set(levers) == {"faults[0].end", "move_region_to_platform[hannover-city]",
                           "replace_outdated_servers"}
    # the day as it was costs nothing; each lever's dearer values cost more (SOURCES A58, A65)
    for lv in levers.values():
        costs = [lv.cost(v) for v in lv.values]
        assert min(costs) == 0.0 and max(costs) > 0.0, lv.name
    end = levers["faults[0].end"]
    assert [end.cost(v) for v in end.values] == [0.0, 30000.0]
    assert levers["replace_outdated_servers"].cost(250) == 250 * 3000.0


def test_the_repair_lever_moves_the_dispatcher_fault() -> None:
    # the lever is positional (faults[0]): reordering the replay's faults would silently make
    # it move the end of another fault
    sc = load_scenario(config_path("2021-01-11-monday-dispatcher-failure.yaml"))
    assert sc.faults[0].kind == "dispatcher_failure"
    assert sc.faults[0].end == 12 * 3600
    faster = load_scenario(config_path("2021-01-11-monday-dispatcher-failure.yaml"),
                           ["faults[0].end=08:10"])
    assert faster.faults[0].end == 8 * 3600 + 10 * 60
