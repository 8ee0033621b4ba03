"""Every shipped scenario validates and runs (at a small population, capacities scaled)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.config import load_scenario
from sim.experiments.validation import scaled
from sim.model.simulation import simulate_once
from tests.conftest import REPO

# scenario files (a week file, `days:` and `carry_over:`, is run by tests/functional/test_week.py)
CONFIGS = sorted(p for p in (REPO / "configs").glob("*.yaml")
                 if "days" not in (yaml.safe_load(p.read_text(encoding="utf-8")) or {}))


def test_the_replays_exist() -> None:
    names = {p.name for p in CONFIGS}
    for required in ("lower-saxony-scenario-c.yaml", "2021-01-11-monday-dispatcher-failure.yaml",
                     "2021-01-12-tuesday-triple-load.yaml", "2021-01-13-wednesday-stable.yaml",
                     "hannover-city-platform.yaml", "staggered-start.yaml",
                     "national-iserv-thursday.yaml"):
        assert required in names


def test_january_configs_have_no_daily_checkin() -> None:
    """The check-in of years 1–10 came with a decree of about mid-February 2021 (S103): every
    shipped day of January (the default, the replays, the national Thursday, the variants of
    the default) runs without it; only a February file has it."""
    january = [p for p in CONFIGS if not p.name.startswith("2021-02-")]
    assert len(january) >= 7
    for path in january:
        assert not load_scenario(path).timetable.checkin.enabled, path.name
    february = [p for p in CONFIGS if p.name.startswith("2021-02-")]
    assert february
    assert all(load_scenario(p).timetable.checkin.enabled for p in february)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_runs(path: Path) -> None:
    load_scenario(path)  # the full-size file validates as shipped
    res = simulate_once(scaled(path, 0.01), seed=1)
    assert res.meta["conservation"]["intending"] > 0
    assert res.kpis["join_attempts"] > 0


def test_monday_loses_more_than_wednesday() -> None:
    mon = simulate_once(scaled(REPO / "configs" / "2021-01-11-monday-dispatcher-failure.yaml",
                               0.01), seed=2)
    wed = simulate_once(scaled(REPO / "configs" / "2021-01-13-wednesday-stable.yaml", 0.01),
                        seed=2)
    assert mon.kpis["lost_pupil_minutes"] > 5 * wed.kpis["lost_pupil_minutes"]
    assert mon.kpis["join_success_rate"] < wed.kpis["join_success_rate"]


def test_extends_merges_and_refuses_cycles(tmp_path: Path) -> None:
    from sim.config import ConfigError

    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    with pytest.raises(ConfigError, match="circular"):
        load_scenario(tmp_path / "a.yaml")
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {REPO / 'configs' / 'lower-saxony-scenario-c.yaml'}\n"
                     "behaviour: {patience_s: 60}\n")
    sc = load_scenario(child)
    assert sc.behaviour.patience_s == 60
    assert sc.behaviour.attendance == 0.9  # the rest of the section comes from the base
    assert sc.timetable.periods == 8
    assert sc.population.school_types_file.endswith("lower_saxony_school_types.csv")
