"""Levers files are validated like scenarios: each problem names the file and the lever."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config import ConfigError, load_scenario
from sim.decide.levers import load_levers
from sim.model.costs import scenario_cost

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
    from sim.model.population import build_population

    schools = build_population(sc).schools_frame()
    outdated = schools.index[schools["server"] == "outdated"][:3].tolist()
    hosted = schools.index[schools["server"] == "hosted"][:2].tolist()
    more = scenario_from_dict(sc.model_dump(mode="json"), "<t>",
                              [f"assignment.replaced_servers={outdated + hosted}"])
    # a hosted school's number changes nothing and costs nothing
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


# ---------------------------------------------------------------- code levers: moves, uplinks
MONDAY = ROOT / "configs" / "2021-01-11-monday-dispatcher-failure.yaml"
MOVE = "move_region_to_platform[hannover-city]"


def _with(sc, overrides: list[str]):  # type: ignore[no-untyped-def]
    from sim.config import scenario_from_dict

    out = scenario_from_dict(sc.model_dump(mode="json"), "<t>", overrides)
    out.source_path = sc.source_path
    return out


def _levers_file(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "levers.yaml"
    f.write_text(text, encoding="utf-8")
    return f


@pytest.mark.parametrize("region", ["hannover_stadt", "hannover"])
def test_move_takes_exactly_the_regions_schools(sc, region: str) -> None:  # type: ignore[no-untyped-def]
    from sim.model.population import build_population

    base = build_population(sc).schools_frame()
    moved = build_population(
        _with(sc, [f"assignment.region_moves.{region}=hannover-city"])).schools_frame()
    changed = base["platform"] != moved["platform"]
    expect = (base["region"] == region) & (base["platform"] != "hannover-city")
    assert expect.sum() > 0
    assert changed.equals(expect)  # every one of them, and nobody else
    assert (moved.loc[base["region"] == region, "platform"] == "hannover-city").all()
    assert (moved.loc[changed, "server"] == "hosted").all()  # hosted there, no own server
    rest = ~changed
    for col in ("platform", "server", "uplink_mbit_s", "pupils", "school_type", "region"):
        assert base.loc[rest, col].equals(moved.loc[rest, col]), col


def test_move_includes_schools_other_overrides_gave_elsewhere(sc) -> None:  # type: ignore[no-untyped-def]
    from sim.model.population import build_population

    # the defaults give 47 of the city's 99 schools to IServ by a region override
    base = build_population(sc).schools_frame()
    city = base["region"] == "hannover_stadt"
    assert (base.loc[city, "platform"] == "iserv").sum() == 47
    moved = build_population(
        _with(sc, ["assignment.region_moves.hannover_stadt=hannover-city"])).schools_frame()
    assert (moved.loc[city, "platform"] == "hannover-city").sum() == city.sum() == 99


def test_move_cost_from_the_built_population(tmp_path: Path, sc) -> None:  # type: ignore[no-untyped-def]
    from sim.model.population import build_population

    lv = load_levers(_levers_file(tmp_path, (
        "levers:\n- lever: move_region_to_platform\n  platform: hannover-city\n"
        "  values: [none, hannover_stadt, [hannover_stadt, lueneburg]]\n")), sc)[0]
    assert lv.name == MOVE
    base = build_population(sc).schools_frame()
    c = sc.costs

    def expected(regions: list[str]) -> float:
        m = base["region"].isin(regions) & (base["platform"] != "hannover-city")
        return float(m.sum() * c.central_move_eur + base.loc[m, "pupils"].sum()
                     * c.central_per_pupil_year_eur)

    assert lv.cost("none") == 0.0
    assert lv.cost("hannover_stadt") == pytest.approx(expected(["hannover_stadt"]))
    both = ["hannover_stadt", "lueneburg"]
    assert lv.cost(both) == pytest.approx(expected(both))
    # the report's cost of the scenario with the move: the same rule, item by item
    moved = _with(sc, lv.overrides(both, []))
    items = {i["item"]: i for i in scenario_cost(moved)["items"]}
    m = base["region"].isin(both) & (base["platform"] != "hannover-city")
    assert items["schools moved to a central platform (one-off)"]["quantity"] == m.sum()
    assert items["pupils moved: central platform licence (one school year)"]["quantity"] == (
        base.loc[m, "pupils"].sum())
    assert scenario_cost(moved)["total_eur"] == pytest.approx(
        scenario_cost(sc)["total_eur"] + lv.cost(both))
    # at a smaller scale the price is still the state's (counted at scale 1)
    small = _with(sc, [*lv.overrides(both, []), "population.scale=0.05"])
    assert scenario_cost(small)["total_eur"] == pytest.approx(scenario_cost(moved)["total_eur"])


def test_move_of_a_region_the_scenario_already_moves_costs_nothing_more(tmp_path: Path, sc) -> None:  # type: ignore[no-untyped-def]
    already = _with(sc, ["assignment.region_moves.hannover_stadt=hannover-city"])
    lv = load_levers(_levers_file(tmp_path, (
        "levers:\n- lever: move_region_to_platform\n  platform: hannover-city\n"
        "  values: [none, hannover_stadt]\n")), already)[0]
    assert lv.cost("hannover_stadt") == 0.0


MOVE_HEAD = "levers:\n- lever: move_region_to_platform\n"


@pytest.mark.parametrize(("text", "expect"), [
    (MOVE_HEAD + "  platform: hannover-city\n  values: [none, atlantis]\n",
     [f"lever 1 ({'move_region_to_platform'})", "unknown region 'atlantis'", "hannover_stadt"]),
    (MOVE_HEAD + "  platform: moodle\n  values: [hannover_stadt]\n",
     ["lever 1", "unknown platform 'moodle'", "hannover-city"]),
    (MOVE_HEAD + "  values: [hannover_stadt]\n", ["lever 1", "platform: missing"]),
    (MOVE_HEAD + "  platform: hannover-city\n  values: [hannover_stadt]\n"
     "  cost_eur: {per_unit: 1}\n", ["lever 1", "central_move_eur"]),
    (MOVE_HEAD + "  platform: hannover-city\n  values: [3]\n", ["not none, a region"]),
    (MOVE_HEAD + "  platform: hannover-city\n  values: [hannover_stadt]\n"
     "- lever: move_region_to_platform\n  platform: bildungscloud\n  values: [hannover_stadt]\n",
     ["region 'hannover_stadt' is also moved"]),
    ("levers:\n- lever: upgrade_uplinks\n  platform: iserv\n  values: [1]\n",
     ["lever 1", "only move_region_to_platform takes a platform"]),
    ("levers:\n- lever: upgrade_uplinks\n  values: [1.5]\n", ["whole numbers"]),
])
def test_bad_code_levers(tmp_path: Path, sc, text: str, expect: list[str]) -> None:  # type: ignore[no-untyped-def]
    _bad(tmp_path, text, sc, *expect)


def test_bad_move_lever_exits_2_naming_file_and_lever(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from sim.cli import main

    f = _levers_file(tmp_path, MOVE_HEAD + "  platform: hannover-city\n  values: [atlantis]\n")
    with pytest.raises(SystemExit) as exc:
        main(["optimise", str(SCENARIO), "--levers", str(f), "--target",
              "join_success_rate>=0.99", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert str(f) in err.replace("\n", "") or f.name in err
    assert "move_region_to_platform" in err and "atlantis" in err


def test_unknown_region_move_in_a_scenario_is_refused(sc) -> None:  # type: ignore[no-untyped-def]
    from sim.model.population import build_population

    with pytest.raises(ConfigError, match=r"assignment\.region_moves\.atlantis: unknown region"):
        build_population(_with(sc, ["assignment.region_moves.atlantis=iserv"]))
    with pytest.raises(ConfigError, match=r"region_moves\.hannover: unknown platform"):
        _with(sc, ["assignment.region_moves.hannover=moodle"])


def test_upgraded_uplinks_go_to_the_next_class(sc) -> None:  # type: ignore[no-untyped-def]
    from sim.model.population import build_population

    base = build_population(sc).schools_frame()
    rates = sorted({u.mbit_s for u in sc.assignment.uplink_mix})
    pick = [int(base.index[base["uplink_mbit_s"] == r][0]) for r in rates]  # one per class
    up = build_population(_with(sc, [f"assignment.upgraded_uplinks={pick}"])).schools_frame()
    for school, r in zip(pick, rates, strict=True):
        nxt = rates[min(rates.index(r) + 1, len(rates) - 1)]  # the fastest stays fastest
        assert up.at[school, "uplink_mbit_s"] == nxt
    rest = ~base["school"].isin(pick)
    assert base.loc[rest].equals(up.loc[rest])
    assert base.drop(columns="uplink_mbit_s").equals(up.drop(columns="uplink_mbit_s"))


def test_empty_hooks_keep_the_scenario_hash(sc) -> None:  # type: ignore[no-untyped-def]
    same = _with(sc, ["assignment.upgraded_uplinks=[]", "assignment.region_moves={}"])
    assert same.config_hash() == sc.config_hash()
    assert _with(sc, ["assignment.upgraded_uplinks=[3]"]).config_hash() != sc.config_hash()


def test_lever_lists_are_priced_as_the_state(sc) -> None:  # type: ignore[no-untyped-def]
    from sim.model.population import build_population

    small = _with(sc, ["population.scale=0.1"])
    s = build_population(small).schools_frame()
    top = max(u.mbit_s for u in sc.assignment.uplink_mix)
    slow = s.index[s["uplink_mbit_s"] < top][:3].tolist()
    fast = s.index[s["uplink_mbit_s"] == top][:1].tolist()  # nothing to upgrade: free
    outdated = s.index[s["server"] == "outdated"][:2].tolist()
    listed = _with(small, [f"assignment.upgraded_uplinks={slow + fast}",
                           f"assignment.replaced_servers={outdated}"])
    items = {i["item"]: i["quantity"] for i in scenario_cost(listed)["items"]}
    assert items["school uplinks upgraded (one-off)"] == 30  # 3 schools stand for 30
    assert items["school servers replaced (one-off)"] == 20


def test_rankings_use_the_minutes_charged_to_server_and_queue() -> None:
    import pandas as pd

    from sim.decide.levers import rankings

    s = pd.DataFrame({
        "school": [0, 1, 2, 3, 4],
        "server": ["outdated", "outdated", "current", "hosted", "outdated"],
        "uplink_mbit_s": [5.0, 40.0, 5.0, 5.0, 500.0],
        # school 0 lost most in total, but not at its server
        "lost_pupil_minutes": [900.0, 100.0, 50.0, 999.0, 80.0],
        "lost_pupil_minutes:dispatcher": [890.0, 0.0, 0.0, 999.0, 0.0],
        "lost_pupil_minutes:school_server_crash": [0.0, 60.0, 0.0, 0.0, 0.0],
        "lost_pupil_minutes:school_server:outdated": [10.0, 40.0, 0.0, 0.0, 80.0],
        "lost_pupil_minutes:school_server:current": [0.0, 0.0, 50.0, 0.0, 0.0],
        # the uplink's own minutes (school 1 lost more at its server, school 2 at its uplink)
        "lost_pupil_minutes:uplink_congestion": [5.0, 1.0, 30.0, 0.0, 70.0],
    })
    r = rankings(s, [500.0, 50.0, 40.0, 5.0])
    assert r["replace_outdated_servers"] == [1, 4, 0]
    # uplinks: on-premise, not in the fastest class (school 4 is), by the uplink's own minutes
    # (not the server queue's: a faster line does not shorten a wait for a worker)
    assert r["upgrade_uplinks"] == [2, 0, 1]
    lv = load_levers(ROOT / "configs" / "levers" / "lower-saxony.yaml",
                     load_scenario(SCENARIO))[-1]
    assert lv.overrides(2, r) == ["assignment.replaced_servers=[1, 4]"]


def test_moved_schools_are_hosted_even_on_a_platform_with_own_servers(sc) -> None:  # type: ignore[no-untyped-def]
    from sim.model.population import build_population

    base = build_population(sc).schools_frame()
    moved = build_population(_with(sc, ["assignment.region_moves.lueneburg=iserv"])).schools_frame()
    region = base["region"] == "lueneburg"
    went = region & (base["platform"] != "iserv")
    assert went.sum() > 0 and (moved.loc[region, "platform"] == "iserv").all()
    assert (moved.loc[went, "server"] == "hosted").all()
    stayed = region & ~went  # already on IServ: untouched, own servers and all
    assert (moved.loc[stayed, "server"] != "hosted").any()
    assert base.loc[stayed].equals(moved.loc[stayed])


def test_shipped_monday_levers_load() -> None:
    sc = load_scenario(MONDAY)
    lv = load_levers(ROOT / "configs" / "levers" / "monday.yaml", sc)
    assert [x.name for x in lv] == [MOVE, "platforms[hannover-city].clusters[hannover-bbb].nodes",
                                    "faults[0].end", "policies.stagger.school_number_slots"]
    combos = 1
    for x in lv:
        combos *= len(x.values)
    assert combos <= 24
    import itertools  # the optimiser keys its tables by combinations of values

    assert len({c: 1 for c in itertools.product(*(x.values for x in lv))}) == combos
    move = lv[0]
    assert move.cost("none") == 0 < move.cost("hannover_stadt") < move.cost(
        ["hannover_stadt", "hannover"])
    assert move.overrides(["hannover_stadt", "hannover"], []) == [
        "assignment.region_moves.hannover_stadt=hannover-city",
        "assignment.region_moves.hannover=hannover-city"]
    assert lv[2].cost("09:00") > 0 == lv[2].cost("12:00")


@pytest.mark.parametrize(("lever", "what"), [
    ("upgrade_uplinks", "on-premise school uplinks below the fastest class"),
    ("replace_outdated_servers", "outdated on-premise school servers")])
def test_ranked_lever_asking_for_more_than_the_state_has_names_both(  # type: ignore[no-untyped-def]
        tmp_path: Path, sc, lever: str, what: str) -> None:
    """A school count above what the state has for the lever is refused naming both numbers
    (it was priced at N while changing fewer schools); exactly what it has is accepted."""
    from sim.model.costs import lever_room

    servers, uplinks = lever_room(sc)
    has = servers if lever == "replace_outdated_servers" else uplinks
    assert 0 < has < 2893  # some, not every school of the state
    _bad(tmp_path, f"levers:\n- lever: {lever}\n  values: [0, {has + 1}]\n", sc,
         "lever 1", f"{has + 1:,} asked for", f"the state has {has:,} {what}")
    f = tmp_path / "ok.yaml"
    f.write_text(f"levers:\n- lever: {lever}\n  values: [0, {has}]\n", encoding="utf-8")
    assert load_levers(f, sc)[0].values == (0, has)


@pytest.mark.parametrize("hook", ["upgraded_uplinks", "replaced_servers"])
def test_school_numbers_beyond_the_population_are_refused(sc, hook: str) -> None:  # type: ignore[no-untyped-def]
    """A listed school number the run's population does not have is an error naming the
    number and the population's size, not skipped silently; the last school is accepted."""
    from sim.model.population import build_population, load_marginals

    small = _with(sc, ["population.scale=0.02"])
    n = build_population(small).n_schools
    load_marginals(_with(small, [f"assignment.{hook}=[0, {n - 1}]"]))
    with pytest.raises(ConfigError) as exc:
        load_marginals(_with(small, [f"assignment.{hook}=[1, {n}, 99999]"]))
    (line,) = exc.value.problems
    assert f"assignment.{hook}: school number(s) {n:,}, 99,999 not in the population" in line
    assert f"which has {n:,} schools (numbers 0–{n - 1:,} at population.scale 0.02)" in line


def test_scale_up_step_larger_than_the_reserve_is_refused(sc) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as exc:
        _with(sc, ["policies.scale_up=[{cluster: nbc-bbb, reserve_nodes: 50, step_nodes: 60}]"])
    assert "step_nodes 60 asks for more nodes a step than the reserve has (reserve_nodes 50)" \
        in exc.value.problems[0]
    _with(sc, ["policies.scale_up=[{cluster: nbc-bbb, reserve_nodes: 50, step_nodes: 50}]"])
