"""Calibration targets (sim/uncertainty/targets.py): the January 2021 file, the statistics
registry, the distance rule (errors in widths of each report's own error model), coverage,
and every loader rule."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from sim.config import ConfigError, load_scenario
from sim.experiments.replications import Results
from sim.model.simulation import simulate_once
from sim.uncertainty.targets import (
    DEFAULT_TARGETS,
    STATISTICS,
    Target,
    covered,
    distance,
    error,
    load_targets,
    run_statistics,
    statistics,
)

REPO = Path(__file__).resolve().parents[2]
WED = REPO / "configs" / "2021-01-13-wednesday-stable.yaml"


def _t(**over) -> Target:
    base = {"name": "x", "day": "d.yaml", "statistic": "iserv_affected_schools_share",
            "observed": 0.025, "interval": [0.02, 0.03], "source": "S60", "grade": "M",
            "held_out": False}
    base.update(over)
    return Target.model_validate(base)


def test_the_january_file_loads_with_held_out_figures() -> None:
    t = load_targets(DEFAULT_TARGETS)
    assert len(t.targets) >= 7
    assert {x.name for x in t.held_out} == {"thu_joins_per_pupil", "thu_minutes_per_join",
                                            "wed_joins_per_pupil"}
    assert all(x.statistic in STATISTICS for x in t.targets)
    assert {x.error_model for x in t.targets} == {"interval", "relative", "bound"}
    assert len(t.by_day()) == 2 and all(p.is_file() for p in t.by_day())


def test_interval_error_is_distance_outside_in_half_widths() -> None:
    t = _t()
    assert error(0.025, t) == 0 and error(0.02, t) == 0 and error(0.03, t) == 0
    assert error(0.035, t) == pytest.approx(1.0)  # 0.005 beyond, half-width 0.005
    assert error(0.01, t) == pytest.approx(2.0)
    assert covered(0.03, t) and not covered(0.0301, t)
    assert error(math.nan, t) == math.inf


def test_relative_and_bound_errors() -> None:
    rel = _t(interval=None, relative=0.1, observed=0.5)
    assert error(0.54, rel) == 0 and covered(0.55, rel)
    assert error(0.6, rel) == pytest.approx(1.0)  # 0.05 beyond the band, width 0.05
    gt = _t(interval=None, bound={"gt": 2.0}, observed=2.1)
    assert error(2.5, gt) == 0 and covered(2.5, gt)
    assert error(1.8, gt) == pytest.approx(1.0)  # 0.2 short, width 10 % of 2.0
    lt = _t(interval=None, bound={"lt": 1.0, "scale": 0.5}, observed=0.5)
    assert error(1.25, lt) == pytest.approx(0.5) and not covered(1.25, lt)


def test_distance_is_root_sum_of_squares_without_held_out() -> None:
    a = _t(name="a")
    b = _t(name="b", statistic="iserv_peak_cpu_utilisation", interval=None, relative=0.2,
           observed=0.5)
    c = _t(name="c", held_out=True)
    sim = {"a": 0.04, "b": 0.8, "c": 1.0}  # errors 2, 2, (c: 194, held out)
    assert distance(sim, [a, b, c]) == pytest.approx(math.sqrt(8))
    assert distance(sim, [a, b, c], include_held_out=True) == pytest.approx(
        math.sqrt(8 + 194 ** 2))
    # a statistic's name stands in for a target's name; a missing one is infinitely far
    assert distance({"iserv_affected_schools_share": 0.025}, [a]) == 0
    assert distance({}, [a]) == math.inf


def test_statistics_of_a_small_run_are_shares_and_rates() -> None:
    sc = load_scenario(WED, ["population.scale=0.01"])
    r = simulate_once(sc, 1)
    s = run_statistics(r)
    assert set(s) == set(STATISTICS)
    for name, st in STATISTICS.items():
        assert math.isfinite(s[name]), name
        if st.kind == "share":
            assert 0.0 <= s[name] <= 1.0, name
    assert 0.0 < s["iserv_peak_participants_per_pupil"] < 1.0
    assert s["iserv_minutes_per_join"] == pytest.approx(
        60 * s["iserv_conference_hours_per_pupil"] / s["iserv_joins_per_pupil"])
    assert statistics(Results([r, r])) == pytest.approx(s)
    assert statistics(r) == pytest.approx(s)


def _problems(tmp_path: Path, targets: list, **top) -> list[str]:
    day = tmp_path / "day.yaml"
    day.write_text(f"extends: {WED}\n", encoding="utf-8")
    p = tmp_path / "targets.yaml"
    p.write_text(yaml.safe_dump({"targets": targets, **top}), encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_targets(p)
    for line in exc.value.problems:
        assert line.startswith(str(p) + ": "), line
    return exc.value.problems


def _raw(**over) -> dict:
    base = {"name": "wed", "day": "day.yaml", "statistic": "iserv_affected_schools_share",
            "observed": 0.025, "interval": [0.02, 0.03], "source": "S60", "grade": "M",
            "held_out": False}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(("targets", "expect"), [
    ([_raw(statistic="peak_users")], "targets[0].statistic: unknown statistic 'peak_users'"),
    ([_raw(relative=0.1)], "targets[0]: give exactly one error model"),
    ([_raw(interval=None)], "targets[0]: give exactly one error model"),
    ([_raw(interval=[0.03, 0.02])], "targets[0].interval: need low < high"),
    ([_raw(observed=0.05)], "targets[0].observed: 0.05 lies outside its interval"),
    ([_raw(interval=None, bound={"gt": 1.0, "lt": 2.0})], "targets[0].bound"),
    ([_raw(interval=None, relative=2.0)], "targets[0].relative"),
    ([_raw(interval=None, relative=0.1, observed=0.0)], "targets[0].relative: a relative"),
    ([_raw(day="missing.yaml")], "targets[0].day: no such scenario file"),
    ([_raw(), _raw()], "targets[1].name: duplicate target name 'wed'"),
    ([_raw(held_out=True)], "targets: every target is held out"),
    ([_raw(grade="X")], "targets[0].grade"),
    ([_raw(source="S9999")], "targets[0].source: S9999 is not a row of data/SOURCES.md"),
    ([_raw(held_out=None)], "targets[0].held_out: Field required"),
    ([_raw(obsreved=1.0)], "targets[0].obsreved: unknown key"),
])
def test_loader_rules(tmp_path: Path, targets: list, expect: str) -> None:
    problems = _problems(tmp_path, targets)
    assert any(expect in line for line in problems), problems
