"""What a new planner tripped on at the command line (issue 25, points 3 and 9): help that
cut option names, a sweep without --set, a --set typo blamed on the scenario file, a
percentage target, and `dlsim size` leading with the miniature's counts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.experiments.sweep import load_sweep
from sim.experiments.targets import Target
from tests.conftest import DEFAULT_CONFIG, REPO
from tests.reliability import cli

NODES = "platforms[iserv].clusters[iserv-bbb].nodes"


def piped_help(*command: str) -> str:
    """``dlsim COMMAND --help`` piped, as into ``less`` or a file (80 columns)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TERMINAL_WIDTH")}
    r = subprocess.run([sys.executable, "-m", "sim", *command, "--help"], capture_output=True,
                       text=True, cwd=REPO, env=env, timeout=120, check=True)
    return r.stdout


@pytest.mark.parametrize("command", ["optimise", "size", "sweep", "compare", "explain"])
def test_help_names_every_option_whole(command: str) -> None:
    from typer.main import get_command

    from sim.cli import app

    text = piped_help(command)
    assert "…" not in text
    cmd = get_command(app).commands[command]  # type: ignore[attr-defined]
    for p in cmd.params:
        for opt in p.opts:
            if opt.startswith("--"):
                assert re.search(re.escape(opt) + r"(\s|$)", text), f"{opt} cut in:\n{text}"
    if command == "size":  # config paths keep their [name]s (rich read them as markup)
        assert NODES in text.replace("\n", "").replace(" ", "")


def test_the_command_list_is_whole_at_80_columns() -> None:
    """Each command's summary in ``dlsim --help`` is a short first sentence, never cut with
    "..." (click cuts a summary longer than the room beside the names; second pass, issue 25)."""
    text = piped_help()
    commands = text.split("Commands:", 1)[1].strip().splitlines()
    assert len(commands) >= 10
    for line in commands:
        assert not line.rstrip().endswith("..."), line
        assert line.rstrip().endswith("."), line


def test_a_set_typo_is_the_options_and_says_what_was_meant(tmp_path: Path) -> None:
    code, _, err = cli(["validate", str(DEFAULT_CONFIG), "--set", "populaton.scale=0.02"])
    assert code == 2
    assert err.splitlines() == [
        "error: --set populaton.scale=0.02: populaton: unknown key; did you mean 'population'?"]
    code, _, err = cli(["validate", str(DEFAULT_CONFIG), "--set", f"{NODES[:-1]}z=3"])
    assert code == 2 and err.splitlines() == [
        f"error: --set {NODES[:-1]}z=3: {NODES[:-1]}z: unknown key; did you mean 'nodes'?"]
    assert DEFAULT_CONFIG.name not in err


def test_sweep_takes_set(tmp_path: Path) -> None:
    f = tmp_path / "sweep.yaml"
    f.write_text(yaml.safe_dump({
        "name": "set", "base": os.path.relpath(DEFAULT_CONFIG, tmp_path),
        "overrides": ["population.scale=0.005"], "parameters": {NODES: [100, 200]},
        "replications": 1}), encoding="utf-8")
    sw = load_sweep(f, overrides=["day.end=09:00", "population.scale=0.004"])
    assert sw.base.day.end == 9 * 3600 and sw.base.population.scale == 0.004
    assert load_sweep(f).base.population.scale == 0.005
    code, _, err = cli(["sweep", str(f), "--out", str(tmp_path / "o"), "--set", "day.end=7"])
    assert code == 2 and err.startswith("error: --set day.end=7: day.end: "), err
    assert not (tmp_path / "o").exists()


def test_a_share_target_may_be_a_percentage() -> None:
    assert Target.parse("join_success_rate>=99%") == Target.parse("join_success_rate>=0.99")
    assert Target.parse("blocking_probability <= 1 %").value == pytest.approx(0.01)
    code, _, err = cli(["size", str(DEFAULT_CONFIG), "--param", NODES,
                        "--target", "join_success_rate>=99"])
    assert code == 2 and "a share, a fraction of 1 (write 0.99 or 99%)" in err
    code, _, err = cli(["size", str(DEFAULT_CONFIG), "--param", NODES,
                        "--target", "p95_time_to_join_s<=50%"])
    assert code == 2 and "is not a share" in err


def test_size_prints_whole_state_counts_first() -> None:
    small = ["--set", "population.scale=0.005", "--set", "day.end=09:00"]
    code, out, err = cli(["size", str(DEFAULT_CONFIG), "--param", NODES, "--target",
                          "join_success_rate>=50%", "--replications", "2",
                          "--max-candidates", "4", *small])
    assert code in (0, 1), err
    lines = [ln for ln in out.splitlines() if ln.startswith(f"  {NODES}=")]
    assert lines
    for ln in lines:  # 1 node at scale 0.005 stands for 200 of the state's
        m = re.match(rf"  {re.escape(NODES)}=([\d,]+) for the whole state \((\d+) at scale "
                     r"0\.005\)", ln)
        assert m, ln
        assert int(m[1].replace(",", "")) == 200 * int(m[2])
    if "answer: none" not in out:
        assert re.search(r"answer: ≈ [\d,]+ for the whole state", out), out
