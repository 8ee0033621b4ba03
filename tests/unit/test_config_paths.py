"""Config paths by name or position: --set, sizing and printing use the same rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config import ConfigError, load_scenario, scenario_from_dict
from sim.config.paths import ByName, join, named, named_in, positional, split
from tests.conftest import DEFAULT_CONFIG


def test_split_and_join_round_trip() -> None:
    p = "platforms[iserv].clusters[0].nodes"
    assert split(p) == ["platforms", ByName("iserv"), "clusters", 0, "nodes"]
    assert isinstance(split(p)[1], ByName) and join(split(p)) == p
    with pytest.raises(ValueError, match="malformed"):
        split("platforms[a b].nodes")


def test_set_by_name_equals_set_by_position() -> None:
    by_name = load_scenario(DEFAULT_CONFIG, ["platforms[iserv].clusters[iserv-bbb].nodes=500"])
    by_pos = load_scenario(DEFAULT_CONFIG, ["platforms[0].clusters[0].nodes=500"])
    assert by_name.platforms[0].name == "iserv"
    assert by_name.platforms[0].clusters[0].nodes == 500
    assert by_name.config_hash() == by_pos.config_hash()


def test_a_name_that_matches_nothing_lists_the_names() -> None:
    with pytest.raises(ConfigError) as info:
        load_scenario(DEFAULT_CONFIG, ["platforms[isrv].clusters[0].nodes=5"])
    (line,) = info.value.problems
    assert line.startswith("--set platforms[isrv].clusters[0].nodes=5: no platforms named 'isrv'")
    assert "names: iserv, bildungscloud" in line
    with pytest.raises(ConfigError, match=r"no clusters named 'x' \(names: iserv-bbb\)"):
        load_scenario(DEFAULT_CONFIG, ["platforms[iserv].clusters[x].nodes=5"])
    with pytest.raises(ConfigError, match="day is not a list"):
        load_scenario(DEFAULT_CONFIG, ["day[x].end=10:00"])


def test_errors_after_resolution_quote_the_path_as_written() -> None:
    with pytest.raises(ConfigError) as info:
        load_scenario(DEFAULT_CONFIG, ["platforms[iserv].clusters[3].nodes=5"])
    assert info.value.problems[0].startswith("--set platforms[iserv].clusters[3].nodes=5:")


def test_names_of_default_platforms_resolve_when_the_file_leaves_them_out() -> None:
    sc = scenario_from_dict({"name": "x"}, "<t>", ["platforms[iserv].frontend.workers=7"])
    assert sc.platform("iserv").frontend.workers == 7


def test_positional_to_named_and_back() -> None:
    sc = load_scenario(DEFAULT_CONFIG)
    dump = sc.model_dump(mode="json")
    assert named_in(sc, "platforms[0].clusters[0].nodes") == (
        "platforms[iserv].clusters[iserv-bbb].nodes"
    )
    assert named(dump, "timetable.school_start_spread_min") == "timetable.school_start_spread_min"
    assert named(dump, "platforms[9].nodes") == "platforms[9].nodes"  # printing never fails
    assert named(dump, "not a path") == "not a path"
    assert positional(dump, "platforms[bildungscloud].clusters[nbc-bbb].nodes") == (
        "platforms[1].clusters[0].nodes"
    )


_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.-", min_size=1, max_size=8)


@settings(max_examples=100, deadline=None)
@given(st.lists(_names.filter(lambda n: not n.isdigit()), min_size=1, max_size=4, unique=True),
       st.data())
def test_named_and_positional_are_inverse(names: list[str], data: st.DataObject) -> None:
    cfg = {"platforms": [{"name": n, "clusters": [{"name": f"{n}-c", "nodes": 1}]}
                         for n in names]}
    i = data.draw(st.integers(0, len(names) - 1))
    pos = f"platforms[{i}].clusters[0].nodes"
    by_name = named(cfg, pos)
    assert by_name == f"platforms[{names[i]}].clusters[{names[i]}-c].nodes"
    assert positional(cfg, by_name) == pos
