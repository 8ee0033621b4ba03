"""``dlsim compare`` and ``dlsim size`` on a terminal (a pseudo-terminal of 80 columns): a
progress bar while the runs go, KPIs by name with units, the report path printed once."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.terminal import run_in_pty

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SMALL = ["--set", "population.scale=0.005", "--set", "day.end=09:30"]


def _frames(raw: str) -> list[str]:
    return [ANSI.sub("", f) for f in re.split(r"\r|\n", raw)]


def test_compare_on_a_terminal(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    cfg = "configs/lower-saxony-scenario-c.yaml"
    raw = run_in_pty(["compare", cfg, "configs/staggered-start.yaml", *SMALL,
                   "--replications", "3", "--out", str(out)])
    frames = _frames(raw)
    bars = [f for f in frames if f.startswith("comparing") and "━" * 20 in f.replace("╸", "━")
            .replace("╺", "━")]
    assert bars and any("/6" in f for f in bars), "no progress bar of the 6 runs"
    text = "\n".join(frames)
    assert "Pupil-meetings" in text and " pp" in text and "join_success_rate" not in text
    assert (out / "report.html").is_file() and text.count("report.html") == 1
    assert not [f for f in frames if len(f.rstrip()) > 80 and str(tmp_path) not in f]


def test_size_on_a_terminal() -> None:
    raw = run_in_pty(["size", "configs/lower-saxony-scenario-c.yaml", *SMALL,
                   "--param", "platforms[0].clusters[0].nodes",
                   "--target", "join_success_rate>=0.5", "--replications", "2",
                   "--max-candidates", "3"])
    frames = _frames(raw)
    assert any(f.startswith("sizing candidate 1 of at most 3") for f in frames), frames[:5]
    text = "\n".join(frames)
    assert "platforms[iserv].clusters[iserv-bbb].nodes=" in text  # printed by name
