"""Priors files (sim/uncertainty/priors.py): the default day's priors, sampling, the unit
cube, applying values, and every loader rule (one line naming the file and the field)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.config import ConfigError, load_scenario
from sim.uncertainty.priors import load_priors

REPO = Path(__file__).resolve().parents[2]
DEFAULT = REPO / "configs" / "priors" / "default-day.yaml"
DAY = REPO / "configs" / "lower-saxony-scenario-c.yaml"


@pytest.fixture(scope="module")
def priors():
    return load_priors(DEFAULT)


def _write(tmp_path: Path, inputs: list, **top) -> Path:
    p = tmp_path / "priors.yaml"
    p.write_text(yaml.safe_dump({"inputs": inputs, **top}), encoding="utf-8")
    return p


def _one(**over) -> dict:
    base = {"path": "assignment.outdated_share", "dist": "uniform",
            "params": {"loc": 0.2, "scale": 0.3}, "source": "A24"}
    base.update(over)
    return base


def _problems(tmp_path: Path, inputs: list, **top) -> list[str]:
    p = _write(tmp_path, inputs, **top)
    with pytest.raises(ConfigError) as exc:
        load_priors(p)
    for line in exc.value.problems:
        assert line.startswith(str(p) + ": "), line  # every line names the file
    return exc.value.problems


def test_default_priors_cover_the_issue_inputs(priors) -> None:
    paths = priors.paths
    assert "population.seed" in paths  # the generated population is an input
    for needle in ("outdated_share", "on_prem_share", "load_threshold", "webcam_share_pupils",
                   "live_lesson_share", "cpu_per_participant", "cpu_per_mbit_s",
                   "uplink_background_share", "login_service_s"):
        assert any(needle in p for p in paths), needle
    b = priors.bounds()
    assert b["assignment.outdated_share"] == pytest.approx((0.2, 0.5))
    assert b["population.seed"] == (2021.0, 2028.0)
    assert all(lo < hi for lo, hi in b.values())


def test_sample_is_seeded_inside_bounds_and_typed(priors) -> None:
    a, b, c = priors.sample(200, 7), priors.sample(200, 7), priors.sample(200, 8)
    assert a.equals(b) and not a.equals(c)
    assert list(a.columns) == priors.paths
    for path, (lo, hi) in priors.bounds().items():
        assert a[path].min() >= lo and a[path].max() <= hi, path
    assert a["population.seed"].dtype == np.int64
    assert set(a["population.seed"]) <= set(range(2021, 2029))
    # roughly uniform on 0.2–0.5: the mean of 200 draws within 4 standard errors
    assert abs(a["assignment.outdated_share"].mean() - 0.35) < 4 * 0.3 / np.sqrt(12 * 200)


def test_adding_an_input_leaves_the_other_draws_alone(tmp_path: Path) -> None:
    one = load_priors(_write(tmp_path, [_one()], scenario=str(DAY)))
    two = load_priors(_write(tmp_path, [
        _one(path="behaviour.webcam_share_pupils", params={"loc": 0.05, "scale": 0.35},
             source="A38"), _one()], scenario=str(DAY)))
    x1 = one.sample(50, 3)["assignment.outdated_share"]
    x2 = two.sample(50, 3)["assignment.outdated_share"]
    assert np.array_equal(x1.to_numpy(), x2.to_numpy())


def test_unit_cube_maps_through_the_quantile_function(priors) -> None:
    u = np.array([[0.0] * len(priors.paths), [0.5] * len(priors.paths),
                  [1.0] * len(priors.paths)])
    x = priors.from_unit(u)
    b = priors.bounds()
    for path in priors.paths:
        assert x[path].iloc[0] == pytest.approx(b[path][0], rel=1e-6), path
        assert x[path].iloc[2] == pytest.approx(b[path][1], rel=1e-6), path
    assert x["assignment.outdated_share"].iloc[1] == pytest.approx(0.35)
    # log-uniform: the median is the geometric mean of the ends
    assert x["faults[0].sustain_s"].iloc[1] == pytest.approx(np.sqrt(60 * 600))


def test_apply_sets_values_and_what_they_tie(priors) -> None:
    sc = load_scenario(DAY)
    out = priors.apply(sc, {"school_servers.tiers.outdated.login_service_s": 3.0,
                            "population.seed": 2024.0,
                            "platforms[iserv].clusters[iserv-bbb].cpu_per_mbit_s": 4e-3})
    assert out.school_servers.tiers["outdated"].login_service_s == 3.0
    assert out.school_servers.tiers["outdated"].join_service_s == pytest.approx(0.6)
    assert out.population.seed == 2024 and isinstance(out.population.seed, int)
    assert all(c.cpu_per_mbit_s == pytest.approx(4e-3) for p in out.platforms for c in p.clusters)
    assert out.source_path == sc.source_path
    assert sc.population.seed == 2021  # the scenario given is left alone
    with pytest.raises(KeyError):
        priors.apply(sc, {"behaviour.attendance": 0.5})
    with pytest.raises(ConfigError, match="outdated_share"):
        priors.apply(sc, {"assignment.outdated_share": 1.5})


@pytest.mark.parametrize(("inputs", "expect"), [
    ([_one(path="assignment.outdated_shar")], "inputs[0] (assignment.outdated_shar=0.2): "
                                              "assignment.outdated_shar: unknown key"),
    ([_one(params={"loc": 0.5, "scale": 0.7})], "assignment.outdated_share"),
    ([_one(dist="gauss")], "inputs[0].dist: 'gauss' is not a distribution scipy.stats knows"),
    ([_one(params={"low": 0.2, "scale": 0.3})], "inputs[0].params.low: not a parameter of uniform"),
    ([_one(dist="beta", params={"a": 2.0})], "inputs[0].params: beta needs b"),
    ([_one(dist="beta", params={"a": -1.0, "b": 2.0})], "inputs[0].params: empty support"),
    ([_one(dist="loguniform", params={"a": 0.5, "b": 0.2})], "inputs[0].params: empty support"),
    ([_one(dist="norm", params={"loc": 0.3, "scale": 0.1})], "is unbounded"),
    ([_one(path="population.seed", dist="discrete", params={"values": []})],
     "inputs[0].params.values: empty support"),
    ([_one(path="population.seed", dist="discrete", params={"values": [1, 2], "weights": [1]})],
     "inputs[0].params.weights: need one weight per value"),
    ([_one(path="population.seed", dist="discrete",
           params={"values": [1, 2], "weights": [0, 0]})], "inputs[0].params.weights"),
    ([_one(path="population.seed", dist="discrete", params={"values": [1, 1]})],
     "inputs[0].params.values: duplicate values"),
    ([_one(source="assumption 24")], "inputs[0].source: 'assumption 24' is not a source"),
    ([_one(source="A9999")], "inputs[0].source: A9999 is not a row of data/SOURCES.md"),
    ([_one(), _one()], "inputs[1]: assignment.outdated_share is already set by inputs[0]"),
    ([_one(tied={"behaviour..x": 1.0})], "inputs[0]: malformed config path 'behaviour..x'"),
    ([_one(tied={"behaviour.attendance": -1.0})], "inputs[0].tied.behaviour.attendance"),
    ([_one(parms={"loc": 0.2})], "inputs[0].parms: unknown key"),
    ([], "inputs: List should have at least 1 item"),
])
def test_loader_rules(tmp_path: Path, inputs: list, expect: str) -> None:
    problems = _problems(tmp_path, inputs)
    assert any(expect in line for line in problems), problems


def test_paths_are_checked_against_the_named_scenario(tmp_path: Path) -> None:
    # faults[0] exists in the default day, not in the built-in default scenario
    inp = _one(path="faults[0].repair_min", params={"loc": 10, "scale": 50}, source="A84")
    assert load_priors(_write(tmp_path, [inp], scenario=str(DAY))).paths == [inp["path"]]
    problems = _problems(tmp_path, [inp])
    assert any("faults[0]" in line for line in problems), problems
    missing = _problems(tmp_path, [_one()], scenario="nowhere.yaml")
    assert any(": scenario: no such scenario file" in line for line in missing), missing
