"""The event budget checked inside the run loop (issue 30): a day that slips past the
estimates stops with exit 2 naming the budget's setting and the setting that drives the
events; nothing is written; a budget that is not reached changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config import ConfigError
from sim.model.engine import Engine, EventBudgetExceeded, events_processed, run_merged
from tests.conftest import DEFAULT_CONFIG
from tests.reliability import cli

pytestmark = pytest.mark.reliability

SMALL = ["--set", "population.scale=0.01", "--set", "day.end=10:00", "--no-report"]


def test_budget_stops_the_loop_and_counts_stay_exact() -> None:
    env = Engine()
    env.limit_events(5)

    def tick(_: int) -> None:
        env.timeout(1.0)  # every stream entry schedules one event

    with pytest.raises(EventBudgetExceeded):
        run_merged(env, [float(t) for t in range(10)], [0] * 10, list(range(10)), [tick], 100)
    ok = Engine()
    ok.limit_events(10)
    handled = run_merged(ok, [float(t) for t in range(10)], [0] * 10, list(range(10)),
                         [lambda _: ok.timeout(1.0)], 100)
    assert handled == 10 and events_processed(ok) == 10  # the budget used to its last id


def test_process_that_runs_out_of_events_is_reported_as_the_budget() -> None:
    env = Engine()

    def forever():  # type: ignore[no-untyped-def]
        while True:
            yield env.timeout(1.0)

    env.process(forever())
    env.limit_events(50)
    with pytest.raises(EventBudgetExceeded):
        run_merged(env, [], [], [], [], 1e9)


def test_run_over_its_budget_exits_2_naming_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLSIM_MAX_EVENTS", "10000")  # the run needs ≈13,700
    out = tmp_path / "out"
    code, _, err = cli(["run", str(DEFAULT_CONFIG), "--out", str(out), *SMALL])
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {DEFAULT_CONFIG}: "), err
    assert "more than 10,000 events (DLSIM_MAX_EVENTS)" in err
    assert "change behaviour." in err  # the setting that drives most events
    assert not out.exists()


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5"])
def test_bad_budget_setting_exits_2(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.model.population import event_budget

    monkeypatch.setenv("DLSIM_MAX_EVENTS", value)
    with pytest.raises(ConfigError, match="DLSIM_MAX_EVENTS"):
        event_budget()
