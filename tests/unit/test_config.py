"""Unit tests for :mod:`sim.config`: loading, ``--set`` overrides, times of day, the config
hash, and a corpus of bad scenario files that must each fail with one clear line naming the
file, the field path and what is wrong."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.config import (
    ConfigError,
    DayConfig,
    Scenario,
    TimetableConfig,
    apply_overrides,
    load_scenario,
    parse_override,
    scenario_from_dict,
)
from sim.model.population import build_population
from tests.conftest import DEFAULT_CONFIG, REPO

TYPES_CSV = REPO / "data" / "lower_saxony_school_types.csv"
REGIONS_CSV = REPO / "data" / "lower_saxony_regions.csv"


# ------------------------------------------------------------------------------ the default


def test_default_config_loads() -> None:
    sc = load_scenario(DEFAULT_CONFIG)
    assert isinstance(sc, Scenario)
    assert [p.name for p in sc.platforms] == ["iserv", "bildungscloud", "hannover-city"]
    assert sc.platforms[0].clusters[0].nodes == 450
    assert sc.day.start == 7 * 3600
    assert sc.day.end == 15.5 * 3600
    assert sc.timetable.first_period_start == 8 * 3600
    assert sc.assignment.platform_shares == {"iserv": 0.70, "bildungscloud": 0.30}
    assert sc.source_path == str(DEFAULT_CONFIG.resolve())
    # data files resolve relative to the scenario file
    assert sc.resolve_path(sc.population.school_types_file) == TYPES_CSV.resolve()
    assert sc.resolve_path(sc.population.regions_file) == REGIONS_CSV.resolve()


def test_scenario_without_source_path_finds_default_data_files() -> None:
    sc = scenario_from_dict({"population": {"scale": 0.01}})
    assert sc.source_path is None
    assert sc.resolve_path(sc.population.school_types_file) == TYPES_CSV.resolve()
    assert build_population(sc).n_schools > 0


# ------------------------------------------------------------------------------ overrides


def test_override_into_list_index() -> None:
    sc = load_scenario(DEFAULT_CONFIG, ["platforms[0].clusters[0].nodes=5"])
    assert sc.platforms[0].clusters[0].nodes == 5
    # only that element changed
    assert sc.platforms[1].clusters[0].nodes == 500
    assert sc.platforms[0].clusters[0].node_max_participants == load_scenario(
        DEFAULT_CONFIG).platforms[0].clusters[0].node_max_participants


def test_override_into_list_of_a_file_without_that_section(tmp_path: Path) -> None:
    """``platforms[...]`` on a file without ``platforms`` overrides the defaults' list."""
    f = tmp_path / "minimal.yaml"
    f.write_text(
        f"population: {{school_types_file: {TYPES_CSV}, regions_file: {REGIONS_CSV}}}\n"
    )
    sc = load_scenario(f, ["platforms[1].clusters[0].nodes=7"])
    assert sc.platforms[1].name == "bildungscloud"
    assert sc.platforms[1].clusters[0].nodes == 7
    assert sc.platforms[0].clusters[0].nodes == Scenario().platforms[0].clusters[0].nodes


@pytest.mark.parametrize(
    ("override", "get", "expected"),
    [
        ("behaviour.attendance=1", lambda s: s.behaviour.attendance, 1.0),
        ("population.seed=7", lambda s: s.population.seed, 7),
        ("timetable.checkin.enabled=false", lambda s: s.timetable.checkin.enabled, False),
        ("timetable.checkin.enabled=no", lambda s: s.timetable.checkin.enabled, False),
        (
            "assignment.platform_shares={iserv: 0.5, bildungscloud: 0.5}",
            lambda s: s.assignment.platform_shares,
            {"iserv": 0.5, "bildungscloud": 0.5},
        ),
        ("population.school_types=[grundschule, igs]", lambda s: s.population.school_types,
         ["grundschule", "igs"]),
        ("timetable.breaks_min={2: 10}", lambda s: s.timetable.breaks_min, {2: 10.0}),
        ("day.end=17:00", lambda s: s.day.end, 17 * 3600.0),
        ("day.end='16:45'", lambda s: s.day.end, 16 * 3600.0 + 45 * 60),
        ("description=", lambda s: s.description, ""),
        ("name=a=b", lambda s: s.name, "a=b"),
    ],
)
def test_override_values_are_yaml_typed(override: str, get: Callable[[Scenario], Any],
                                        expected: Any) -> None:
    sc = load_scenario(DEFAULT_CONFIG, [override])
    value = get(sc)
    assert value == expected
    assert type(value) is type(expected)


def test_later_override_wins() -> None:
    sc = load_scenario(DEFAULT_CONFIG, ["population.seed=1", "population.seed=2"])
    assert sc.population.seed == 2


def test_apply_overrides_on_raw_mapping() -> None:
    data: dict[str, Any] = {"platforms": [{"name": "a"}]}
    out = apply_overrides(data, ["platforms[0].nodes=3", "x.y.z=[1, 2]"])
    assert out == {"platforms": [{"name": "a", "nodes": 3}], "x": {"y": {"z": [1, 2]}}}


def test_parse_override_splits_path() -> None:
    assert parse_override("platforms[0].clusters[1].nodes=5") == (
        ["platforms", "[0]", "clusters", "[1]", "nodes"],
        5,
    )


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("nodes", "expected key.path=value"),
        ("=5", "malformed key path"),
        ("a..b=1", "malformed key path"),
        ("platforms[x].name=1", "no platforms named 'x' (names: "),
        ("platforms[a b].name=1", "malformed key path"),
        ("[0].name=1", "malformed key path"),
        ("a b=1", "malformed key path"),
        ("platforms[99].name=x", "no list element [99]"),
        ("name[0]=x", "no list element [0]"),
        ("day.start.x=1", "is not inside a mapping"),
        ("platforms.0.name=x", "is not inside a mapping"),
        ("day.end=[1", "not valid YAML"),
    ],
)
def test_malformed_override_is_a_config_error(override: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_scenario(DEFAULT_CONFIG, [override])
    msg = str(info.value)
    assert f"--set {override}" in msg
    assert fragment in msg


def test_override_of_unknown_key_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        load_scenario(DEFAULT_CONFIG, ["behaviour.attendence=1"])
    # the override's problem, not the file's: named by what was typed, with the nearest key
    assert info.value.problems == [
        "--set behaviour.attendence=1: behaviour.attendence: unknown key; "
        "did you mean 'attendance'?"]
    assert DEFAULT_CONFIG.name not in str(info.value)


def test_an_override_problem_is_named_as_the_user_wrote_it() -> None:
    given = "platforms[iserv].clusters[iserv-bbb].nodez=3"
    with pytest.raises(ConfigError) as info:
        load_scenario(DEFAULT_CONFIG, [given])
    assert info.value.problems == [
        f"--set {given}: platforms[iserv].clusters[iserv-bbb].nodez: unknown key; "
        "did you mean 'nodes'?"]
    with pytest.raises(ConfigError) as info:
        load_scenario(DEFAULT_CONFIG, ["populaton.scale=0.02"])
    assert info.value.problems == [
        "--set populaton.scale=0.02: populaton: unknown key; did you mean 'population'?"]
    with pytest.raises(ConfigError) as info:
        load_scenario(DEFAULT_CONFIG, ["platforms[iserv].clusters[0].nodes=abc"])
    (line,) = info.value.problems
    assert line.startswith("--set platforms[iserv].clusters[0].nodes=abc: "
                           "platforms[iserv].clusters[0].nodes: Input should be a valid integer")


# ------------------------------------------------------------------------------ time of day


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("08:00", 8 * 3600),
        ("8:00", 8 * 3600),
        ("08:00:30", 8 * 3600 + 30),
        (" 17:45 ", 17 * 3600 + 45 * 60),
        ("24:00", 86400),
        (28800, 28800),
        (30600.5, 30600.5),
        (0, 0),
    ],
)
def test_time_of_day_parsing(value: Any, seconds: float) -> None:
    assert TimetableConfig(first_period_start=value).first_period_start == seconds
    if seconds < 86400:
        assert DayConfig(start=value, end=86400).start == seconds


@pytest.mark.parametrize("value", ["25:00", "08:60", "08:00:60", "7:5", "eight", "08h00", True,
                                   -1, 86401, "24:30"])
def test_bad_time_of_day_refused(value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        scenario_from_dict({"timetable": {"first_period_start": value}}, "t.yaml")
    assert "t.yaml: timetable.first_period_start:" in str(info.value)


def test_unquoted_yaml_time_is_not_base_60(tmp_path: Path) -> None:
    """YAML 1.1 reads ``17:00`` as 1020 (17·60): the loader must keep it a time of day."""
    f = tmp_path / "times.yaml"
    f.write_text(
        f"population: {{school_types_file: {TYPES_CSV}, regions_file: {REGIONS_CSV}}}\n"
        "day:\n  start: 06:30\n  end: 17:00\n"
        "timetable:\n  first_period_start: 07:45:30\n"
    )
    sc = load_scenario(f)
    assert sc.day.start == 6 * 3600 + 30 * 60
    assert sc.day.end == 17 * 3600
    assert sc.day.end != 1020
    assert sc.timetable.first_period_start == 7 * 3600 + 45 * 60 + 30
    # ordinary numbers still are numbers
    f.write_text(
        f"population: {{school_types_file: {TYPES_CSV}, regions_file: {REGIONS_CSV}, "
        "scale: 0.5, seed: 12}\nbehaviour: {patience_s: 1_200}\n"
    )
    sc = load_scenario(f)
    assert sc.population.scale == 0.5
    assert sc.population.seed == 12
    assert sc.behaviour.patience_s == 1200.0


# ------------------------------------------------------------------------------ config hash


def test_config_hash_is_stable() -> None:
    a = load_scenario(DEFAULT_CONFIG)
    b = load_scenario(DEFAULT_CONFIG)
    assert a.config_hash() == b.config_hash()
    assert len(a.config_hash()) == 16
    int(a.config_hash(), 16)
    # setting a value to what it already is does not change the hash
    c = load_scenario(DEFAULT_CONFIG, ["behaviour.attendance=0.9"])
    assert c.config_hash() == a.config_hash()


@pytest.mark.parametrize(
    "override",
    [
        "behaviour.attendance=0.8",
        "platforms[0].clusters[0].nodes=601",
        "population.seed=2022",
        "day.end=16:00",
        "timetable.checkin.enabled=true",
        "policies.stagger.within_school_slots=3",
    ],
)
def test_config_hash_changes_with_a_setting(override: str) -> None:
    base = load_scenario(DEFAULT_CONFIG).config_hash()
    assert load_scenario(DEFAULT_CONFIG, [override]).config_hash() != base


def test_config_hash_ignores_source_path(tmp_path: Path) -> None:
    a = load_scenario(DEFAULT_CONFIG)
    moved = tmp_path / "elsewhere" / "configs" / "copy.yaml"
    moved.parent.mkdir(parents=True)
    shutil.copy(DEFAULT_CONFIG, moved)
    shutil.copytree(DEFAULT_CONFIG.parent.parent / "data", tmp_path / "elsewhere" / "data")
    b = load_scenario(moved)
    assert b.source_path != a.source_path
    assert b.config_hash() == a.config_hash()


def test_config_hash_covers_data_file_contents(tmp_path: Path) -> None:
    a = load_scenario(DEFAULT_CONFIG)
    moved = tmp_path / "configs" / "copy.yaml"
    moved.parent.mkdir(parents=True)
    shutil.copy(DEFAULT_CONFIG, moved)
    shutil.copytree(DEFAULT_CONFIG.parent.parent / "data", tmp_path / "data")
    csv = tmp_path / "data" / "lower_saxony_school_types.csv"
    csv.write_text(csv.read_text().replace("279053", "279054"))
    b = load_scenario(moved)
    assert b.config_hash() != a.config_hash()


# ------------------------------------------------------------------------------ bad configs


def _base() -> dict[str, Any]:
    """The default scenario as raw YAML data, with absolute data-file paths."""
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["population"]["school_types_file"] = str(TYPES_CSV)
    data["population"]["regions_file"] = str(REGIONS_CSV)
    return data


def _mutated(fn: Callable[[dict[str, Any]], None]) -> Callable[[Path], str]:
    def make(_dir: Path) -> str:
        data = copy.deepcopy(_base())
        fn(data)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

    return make


def _raw(text: str | bytes) -> Callable[[Path], str | bytes]:
    return lambda _dir: text


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set a dotted path with list indices as plain ints: ``platforms.0.clusters.0.nodes``."""

    def fn(data: dict[str, Any]) -> None:
        keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
        node: Any = data
        for k in keys[:-1]:
            node = node.setdefault(k, {}) if isinstance(node, dict) else node[k]
        node[keys[-1]] = value

    return fn


def _dup_platform(data: dict[str, Any]) -> None:
    data["platforms"].append({"name": "iserv", "clusters": [{"name": "extra-bbb", "nodes": 1}]})


def _dup_cluster_in_platform(data: dict[str, Any]) -> None:
    data["platforms"][0]["clusters"].append({"name": "iserv-bbb", "nodes": 2})


def _dup_cluster_across_platforms(data: dict[str, Any]) -> None:
    data["platforms"][1]["clusters"][0]["name"] = "iserv-bbb"


def _data_dir(d: Path) -> str:
    sub = d / "a_directory.csv"
    sub.mkdir()
    data = _base()
    data["population"]["regions_file"] = str(sub)
    return yaml.safe_dump(data, sort_keys=False)


_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


# (id, file content, field-path fragment, what-is-wrong fragment, xfail reason)
BAD_CONFIGS: list[tuple[str, Callable[[Path], str | bytes], str, str, str | None]] = [
    ("unknown-top-level-key", _mutated(_set("nmae", "x")), "nmae", "unknown key", None),
    ("unknown-nested-key-typo",
     _mutated(_set("platforms.0.clusters.0.node_max_participant", 100)),
     "platforms[0].clusters[0].node_max_participant", "unknown key", None),
    ("unknown-key-in-section", _mutated(_set("behaviour.attendence", 0.8)),
     "behaviour.attendence", "unknown key", None),
    ("source-path-is-not-a-setting", _mutated(_set("source_path", "/x.yaml")),
     "source_path", "unknown key", None),
    ("wrong-type-string-for-int", _mutated(_set("platforms.0.clusters.0.nodes", "many")),
     "platforms[0].clusters[0].nodes", "valid integer", None),
    ("wrong-type-fraction-for-int", _mutated(_set("platforms.0.clusters.0.nodes", 2.5)),
     "platforms[0].clusters[0].nodes", "fractional part", None),
    ("wrong-type-section", _mutated(_set("day", "monday")), "day", "valid dictionary", None),
    ("wrong-type-bool", _mutated(_set("timetable.checkin.enabled", "maybe")),
     "timetable.checkin.enabled", "valid boolean", None),
    ("zero-capacity", _mutated(_set("platforms.0.clusters.0.nodes", 0)),
     "platforms[0].clusters[0].nodes", "greater than 0", None),
    ("negative-capacity", _mutated(_set("platforms.1.clusters.0.node_capacity_mbit_s", -1000)),
     "platforms[1].clusters[0].node_capacity_mbit_s", "greater than 0", None),
    ("negative-workers", _mutated(_set("platforms.2.frontend.workers", -1)),
     "platforms[2].frontend.workers", "greater than 0", None),
    ("nan", _mutated(_set("behaviour.attendance", float("nan"))),
     "behaviour.attendance", "finite number", None),
    ("inf", _mutated(_set("media.webcam_mbit_s", float("inf"))),
     "media.webcam_mbit_s", "finite number", None),
    ("end-before-start", _mutated(_set("day.end", "06:00")), "day", "day.end must be after",
     None),
    ("bad-time-of-day", _mutated(_set("day.start", "25:00")), "day.start",
     "not a valid time of day", None),
    ("share-above-one", _mutated(_set("behaviour.attendance", 1.5)),
     "behaviour.attendance", "less than or equal to 1", None),
    ("platform-shares-do-not-sum-to-one",
     _mutated(_set("assignment.platform_shares", {"iserv": 0.5, "bildungscloud": 0.3})),
     "assignment.platform_shares", "must sum to 1", None),
    ("uplink-shares-do-not-sum-to-one",
     _mutated(_set("assignment.uplink_mix", [{"share": 0.5, "mbit_s": 10}])),
     "assignment.uplink_mix", "must sum to 1", None),
    ("unknown-platform-in-shares",
     _mutated(_set("assignment.platform_shares", {"iserv": 0.5, "moodle": 0.5})),
     "assignment.platform_shares", "unknown platform 'moodle'", None),
    ("unknown-platform-in-region-override",
     _mutated(_set("assignment.region_overrides.0.platform", "moodle")),
     "assignment.region_overrides[0].platform", "unknown platform 'moodle'", None),
    ("unknown-platform-in-on-prem-share",
     _mutated(_set("assignment.on_prem_share", {"moodle": 0.5})),
     "assignment.on_prem_share", "unknown platform 'moodle'", None),
    ("duplicate-platform-name", _mutated(_dup_platform), "platforms", "duplicate platform name",
     None),
    ("duplicate-cluster-name", _mutated(_dup_cluster_in_platform), "platforms[0].clusters",
     "duplicate cluster name", None),
    ("duplicate-cluster-across-platforms", _mutated(_dup_cluster_across_platforms),
     "platforms[1].clusters", "duplicate cluster name", None),
    ("unknown-dispatcher-policy", _mutated(_set("platforms.0.dispatcher.policy", "random")),
     "platforms[0].dispatcher.policy", "least_meetings", None),
    ("missing-data-file", _mutated(_set("population.school_types_file", "nowhere/types.csv")),
     "population.school_types_file", "data file not found", None),
    ("data-file-is-a-directory", _data_dir, "population.regions_file", "not a regular file",
     None),
    ("not-yaml", _raw("day: [07:00, 08:00\nname: {x\n"), "(top level)", "not valid YAML", None),
    ("empty-file", _raw(""), "(top level)", "empty", None),
    ("only-comments", _raw("# nothing here\n"), "(top level)", "empty", None),
    ("binary-nul-bytes", _raw(b"name: a\x00\x01\x02b\n"), "(top level)", "binary", None),
    ("not-utf8", _raw(b"name: \xe9\xff\xfe\n"), "(file)", "UTF-8", None),
    ("top-level-list", _raw("- name: a\n- name: b\n"), "(top level)", "expected a mapping",
     None),
    ("top-level-scalar", _raw("just a string\n"), "(top level)", "expected a mapping", None),
    ("yaml-alias-billion-laughs", _raw(_LAUGHS), "(top level)", "aliases", None),
    ("yaml-alias-simple", _raw("x: &x {attendance: 0.5}\nbehaviour: *x\n"), "(top level)",
     "aliases", None),
    ("poisson-without-section", _mutated(_set("demand", {"kind": "poisson"})), "demand",
     "needs a 'poisson' section", None),
    ("poisson-unknown-platform",
     _mutated(_set("demand", {"kind": "poisson", "poisson": {
         "platform": "moodle", "arrival_rate_per_s": 1, "holding_mean_s": 60}})),
     "demand.poisson.platform", "unknown platform 'moodle'", None),
    ("backoff-max-below-initial",
     _mutated(_set("behaviour", {"backoff_initial_s": 30, "backoff_max_s": 10})),
     "behaviour", "backoff_max_s must not be below backoff_initial_s", None),
    ("checkin-max-year-below-min-year",
     _mutated(_set("timetable.checkin", {"min_year": 5, "max_year": 3})),
     "timetable.checkin", "max_year must not be below min_year", None),
    ("within-school-slots-beyond-day",
     _mutated(_set("policies", {"stagger": {"within_school_slots": 13,
                                            "within_school_slot_min": 120}})),
     "policies.stagger.within_school_slots", "a school's last start slot starts at", None),
    ("within-school-by-unknown",
     _mutated(_set("policies", {"stagger": {"within_school_by": "form"}})),
     "policies.stagger.within_school_by", "'year' or 'class'", None),
    ("negative-seed", _mutated(_set("population.seed", -1)), "population.seed",
     "greater than or equal to 0", None),
    ("school-server-tier-missing",
     _mutated(_set("school_servers", {"tiers": {"current": {"workers": 4}}})),
     "school_servers.tiers", "'outdated' is required", None),
]


@pytest.mark.parametrize(
    ("make", "path_fragment", "what_fragment"),
    [
        pytest.param(
            make, path, what, id=case_id,
            marks=[pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)]
            if reason else [],
        )
        for case_id, make, path, what, reason in BAD_CONFIGS
    ],
)
def test_bad_config_corpus(tmp_path: Path, make: Callable[[Path], str | bytes],
                           path_fragment: str, what_fragment: str) -> None:
    f = tmp_path / "scenario.yaml"
    content = make(tmp_path)
    if isinstance(content, bytes):
        f.write_bytes(content)
    else:
        f.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_scenario(f)
    problems = info.value.problems
    assert problems, "a ConfigError must carry at least one problem"
    # one line per problem, each naming the file ...
    for line in problems:
        assert "\n" not in line
        assert line.startswith(f"{f}: "), line
    # ... and one of them the field path and what is wrong (after the file name, so that the
    # test's own tmp directory name cannot match)
    rests = [line[len(f"{f}: "):] for line in problems]
    assert any(path_fragment in r and what_fragment in r for r in rests), problems


def test_base_of_corpus_is_valid(tmp_path: Path) -> None:
    """Control: the unmodified base of the corpus loads, so each case fails for its change."""
    f = tmp_path / "scenario.yaml"
    f.write_text(_mutated(lambda d: None)(tmp_path))
    sc = load_scenario(f)
    assert sc.config_hash() == load_scenario(DEFAULT_CONFIG, [
        f"population.school_types_file={TYPES_CSV}", f"population.regions_file={REGIONS_CSV}",
    ]).config_hash()


def test_corpus_is_large_enough() -> None:
    assert len(BAD_CONFIGS) >= 20
    assert len({c[0] for c in BAD_CONFIGS}) == len(BAD_CONFIGS)


def test_missing_scenario_file(tmp_path: Path) -> None:
    f = tmp_path / "no-such.yaml"
    with pytest.raises(ConfigError, match=r"no-such\.yaml: \(file\): no such file"):
        load_scenario(f)


def test_scenario_path_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\(file\): is a directory"):
        load_scenario(tmp_path)


def test_several_problems_reported_together(tmp_path: Path) -> None:
    data = _base()
    data["behaviour"]["attendance"] = 2
    data["media"] = {"webcam_mbit_s": -1}
    f = tmp_path / "two.yaml"
    f.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_scenario(f)
    probs = info.value.problems
    assert len(probs) == 2
    assert any("behaviour.attendance" in p for p in probs)
    assert any("media.webcam_mbit_s" in p for p in probs)
