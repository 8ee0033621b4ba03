"""Levers files are validated like scenarios: each problem names the file and the lever."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config import ConfigError, load_scenario
from sim.costs import scenario_cost
from sim.levers import load_levers

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "configs" / "lower-saxony-scenario-c.yaml"
NODES = "platforms[iserv].clusters[iserv-bbb].nodes"


@pytest.fixture(scope="module")
def sc():  # type: ignore[no-untyped-def]
    return load_scenario(SCENARIO)


def _bad(tmp_path: Path, text: str, sc, *expect: str) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "levers.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_levers(f, sc)
    msg = " | ".join(exc.value.problems)
    assert str(f) in msg
    for e in expect:
        assert e in msg, msg


def test_shipped_levers_load(sc) -> None:  # type: ignore[no-untyped-def]
    lv = load_levers(ROOT / "configs" / "levers" / "lower-saxony.yaml", sc)
    assert lv[0].name == NODES
    assert lv[0].cost(550) == pytest.approx(2 * (550 - lv[0].current))
    assert lv[-1].kind == "replace_outdated_servers"
    assert lv[-1].cost(25) == pytest.approx(25 * sc.costs.server_replacement_eur["outdated"])


@pytest.mark.parametrize(("text", "expect"), [
    ("levers:\n- path: platforms[iserv].clusters[nope].nodes\n  values: [1]\n"
     "  cost_eur: {per_unit: 1}\n", ["lever 1", "no clusters named 'nope'"]),
    ("levers:\n- path: policies.stagger.nonsense\n  values: [1]\n  cost_eur: {per_unit: 1}\n",
     ["lever 1", "no setting 'nonsense'"]),
    ("levers:\n- path: policies.stagger.slot_min\n  values: [1]\n  cost_eur: {per_unit: 1}\n"
     "  colour: red\n", ["lever 1", "colour", "Extra inputs"]),
    ("levers:\n- path: policies.stagger.school_number_slots\n  values: [1, x]\n"
     "  cost_eur: {1: 0, x: 0}\n", ["lever 1 (policies.stagger.school_number_slots)",
                                    "valid integer"]),
    ("levers:\n- path: policies.stagger.slot_min\n  values: {low: 5, high: 1, step: 1}\n"
     "  cost_eur: {per_unit: 0}\n", ["empty range"]),
    ("levers:\n- path: policies.stagger.slot_min\n  values: []\n  cost_eur: {per_unit: 0}\n",
     ["the list is empty"]),
    ("levers:\n- path: policies.stagger.slot_min\n  values: [0, 5]\n  cost_eur: {0: 0}\n",
     ["no cost for the value(s) 5"]),
    ("levers:\n- path: policies.stagger.slot_min\n  values: [0, 5]\n",
     ["cost_eur: missing"]),
    ("levers:\n- lever: replace_outdated_servers\n  values: [-1]\n", ["whole numbers"]),
    ("levers: []\n", ["levers"]),
])
def test_bad_levers(tmp_path: Path, sc, text: str, expect: list[str]) -> None:  # type: ignore[no-untyped-def]
    _bad(tmp_path, text, sc, *expect)


def test_bad_levers_exit_2(tmp_path: Path) -> None:
    from sim.cli import main

    f = tmp_path / "l.yaml"
    f.write_text("levers:\n- path: policies.stagger.slot_min\n  values: [0, 5]\n"
                 "  cost_eur: {0: 0}\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["optimise", str(SCENARIO), "--levers", str(f), "--target",
              "join_success_rate>=0.99", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2


def test_scenario_cost(sc) -> None:  # type: ignore[no-untyped-def]
    c = scenario_cost(sc)
    nodes = sum(cl.nodes for p in sc.platforms for cl in p.clusters)
    assert c["total_eur"] == pytest.approx(nodes * sc.costs.node_per_day_eur)
    from sim.config import scenario_from_dict

    more = scenario_from_dict(sc.model_dump(mode="json"), "<t>",
                              ["assignment.replaced_servers=[1, 2, 3]"])
    assert scenario_cost(more)["total_eur"] == pytest.approx(
        c["total_eur"] + 3 * sc.costs.server_replacement_eur["outdated"])


def test_summary_and_report_price_the_scenario(tmp_path: Path) -> None:
    import sim

    sc = load_scenario(SCENARIO, ["population.scale=0.01"])
    res = sim.simulate(sc)
    cost = res.summary["cost"]
    assert res.summary["details"]["cost_eur"] == pytest.approx(cost["total_eur"])
    assert cost == scenario_cost(sc, res.runs[0])
    res.report(tmp_path / "r.html")
    assert "Cost of the scenario as configured" in (tmp_path / "r.html").read_text()
