"""Counterfactual attribution (sim.experiments.attribution, ``dlsim explain``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.experiments.attribution import REMOVALS, _overload_unbounded, removal_for
from tests.conftest import DEFAULT_CONFIG, REPO

MONDAY = REPO / "configs" / "2021-01-11-monday-dispatcher-failure.yaml"


def test_removing_an_absent_cause_recovers_nothing_and_the_dispatcher_recovers_most() -> None:
    sc = sim.load_scenario(MONDAY, ["population.scale=0.02", "assignment.outdated_share=0"])
    res = sim.explain(sc, replications=2, causes=["node_loss", "rate_limited"])
    causes = res["causes"]
    for absent in ("node_loss", "rate_limited"):
        c = causes[absent]
        assert c["direct"] == 0.0
        assert c["recovered_lo"] <= 0.0 <= c["recovered_hi"]
        assert abs(c["recovered_mean"]) <= max(1.0, c["recovered_ci95"])
    disp = causes["dispatcher"]
    total = res["lost_pupil_minutes"]
    assert disp["direct_share"] >= 0.95
    assert disp["recovered_mean"] >= 0.9 * total
    assert sum(c["direct"] for c in causes.values()) == pytest.approx(total, rel=1e-9)
    assert res["interaction"] == pytest.approx(res["recovered_sum"] - total)
    # bounded intervals: nothing recovered below 0 or above what was lost
    for c in causes.values():
        if c["recovered_mean"] is not None:
            assert 0.0 <= c["recovered_lo"] <= c["recovered_hi"] <= total
    assert res["additivity"]["verdict"] in ("independent", "offsetting", "overlap",
                                            "shortfall")
    # degraded minutes are their own cause, beside the lost ones: ten times each node's CPU
    # and bandwidth leaves no node degraded, so all of them are recovered
    deg = res["degraded"]
    assert deg["cause"] == "conference:degraded" and "conference:degraded" not in causes
    assert deg["direct"] > 0
    assert deg["recovered_mean"] == pytest.approx(deg["direct"])


def test_every_registered_removal_gives_a_valid_scenario() -> None:
    sc = sim.load_scenario(MONDAY)
    for cause in [*REMOVALS, "login_service:iserv"]:
        remove = removal_for(cause)
        assert remove is not None and remove.__doc__
        out = sim.scenario_from_dict(remove(sc).model_dump(mode="json"))
        assert out.config_hash() != sc.config_hash() or cause in ("rate_limited",
                                                                  "uplink_outage",
                                                                  "frontend_outage",
                                                                  "node_loss")
    assert removal_for("moderator_late") is None
    out = _overload_unbounded(sc)
    assert out.config_hash() != sc.config_hash() and _overload_unbounded.__doc__


def _dlsim(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "1"}
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=600, check=False)


def test_cli_writes_attribution_json(tmp_path: Path) -> None:
    p = _dlsim("explain", str(DEFAULT_CONFIG), "--replications", "2", "--set",
               "population.scale=0.01", "--out", str(tmp_path))
    assert p.returncode == 0, p.stderr
    data = json.loads((tmp_path / "attribution.json").read_text())
    assert data["lost_pupil_minutes"] > 0
    for c in data["causes"].values():
        assert {"direct", "recovered_mean", "recovered_ci95"} <= set(c)
    # piped, the table is not cut at 80 columns: every header and row on one line
    lines = p.stdout.splitlines()
    assert any("recovered if removed" in x and "95 % interval" in x for x in lines)
    assert any(x.startswith("Recovered, summed") and x.rstrip().endswith(".") for x in lines)
    assert (tmp_path / "explain.html").is_file()
    # `dlsim report DIR --lang de` renders the page again in German, from attribution.json
    # (second new-user pass, issue 25): the scenario's name in German too
    r = _dlsim("report", str(tmp_path), "--lang", "de")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "explain.html").read_text(encoding="utf-8")
    assert '<html lang="de">' in page and "Woran die Schülerminuten verloren gingen" in page
    assert "Who lost" not in page and data["scenario"] not in page


@pytest.mark.parametrize("args", [("--replications", "1"), ("--set", "population.scale=-1"),
                                  ("--set", "nonsense.key=3")])
def test_cli_bad_input_exits_2(args: tuple[str, ...]) -> None:
    p = _dlsim("explain", str(DEFAULT_CONFIG), *args)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr
