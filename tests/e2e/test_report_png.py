"""PNG export end to end: kaleido ≥ 1.5 with the system's Chromium, via the CLI.

Without Chromium these tests skip on a developer machine and fail in CI, except the test of
the error message, which needs no browser.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.e2e.browser import require_chromium

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def dlsim(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "CI": os.environ.get("CI", "1"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=REPO, env=full_env, timeout=300, check=False)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_MAGIC, f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_report_png_export(report_dirs: dict[str, Path], tmp_path: Path) -> None:
    require_chromium()
    out = tmp_path / "png"
    r = dlsim("report", str(report_dirs["run"]), "--out", str(tmp_path / "r.html"),
              "--png", str(out))
    assert r.returncode == 0, r.stderr
    names = {p.stem for p in out.glob("*.png")}
    assert names == {"capacity", "retry_wave", "time_to_join", "front_ends", "breakdown",
                     "affected_schools"}
    for p in out.glob("*.png"):
        w, h = png_size(p)
        assert w == 1100 and h >= 300, (p.name, w, h)
        assert p.stat().st_size > 10_000, f"{p.name} looks empty"
    assert not list(out.glob(".png-*")), "temporary directory left behind"
    assert (tmp_path / "r.html").is_file()


def test_sweep_png_export(report_dirs: dict[str, Path], tmp_path: Path) -> None:
    require_chromium()
    r = dlsim("report", str(report_dirs["sweep"]), "--out", str(tmp_path / "s.html"),
              "--png", str(tmp_path / "png"))
    assert r.returncode == 0, r.stderr
    assert png_size(tmp_path / "png" / "kpi_vs_param.png")[0] == 1100


def test_png_without_chromium_is_bad_input(report_dirs: dict[str, Path], tmp_path: Path) -> None:
    """A clear one-line error and exit 2, before anything is written (no browser needed)."""
    r = dlsim("report", str(report_dirs["run"]), "--out", str(tmp_path / "r.html"),
              "--png", str(tmp_path / "png"), env={"DLSIM_CHROMIUM": str(tmp_path / "nope")})
    assert r.returncode == 2
    assert "--png" in r.stderr and "chromium" in r.stderr.lower()
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "png").exists()


def test_run_png_without_chromium_fails_before_simulating(tmp_path: Path) -> None:
    from tests.conftest import DEFAULT_CONFIG

    r = dlsim("run", str(DEFAULT_CONFIG), "--out", str(tmp_path / "o"), "--png",
              str(tmp_path / "png"), env={"DLSIM_CHROMIUM": str(tmp_path / "nope")})
    assert r.returncode == 2 and "--png" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()
