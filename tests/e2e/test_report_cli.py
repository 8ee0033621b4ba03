"""``dlsim report DIR``: reads a run, sweep or comparison directory back (no simulation), in
the language asked for."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_report_png import dlsim


def test_report_of_a_run_dir(report_dirs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "again.html"
    r = dlsim("report", str(report_dirs["run"]), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "run report" in r.stdout
    html = out.read_text(encoding="utf-8")
    original = (report_dirs["run"] / "report.html").read_text(encoding="utf-8")
    for fragment in ("Participants vs capacity", "dispatcher fault (test)", "Sources",
                     'id="src-A31"', "configuration hash", "95 % CI"):
        assert fragment in html and fragment in original, fragment
    # in German, the terminal's line too (second new-user pass, issue 25)
    r = dlsim("report", str(report_dirs["run"]), "--out", str(out), "--lang", "de")
    assert r.returncode == 0 and r.stdout.startswith("Bericht des Laufs: "), r.stdout


def test_report_of_sweep_and_comparison(report_dirs: dict[str, Path], tmp_path: Path) -> None:
    r = dlsim("report", str(report_dirs["sweep"]), "--out", str(tmp_path / "s.html"))
    assert r.returncode == 0 and "sweep report" in r.stdout, r.stderr
    r = dlsim("report", str(report_dirs["comparison"]), "--out", str(tmp_path / "c.html"))
    assert r.returncode == 0 and "comparison report" in r.stdout, r.stderr
    assert "B − A" in (tmp_path / "c.html").read_text(encoding="utf-8")


def test_report_bad_dir_exit_2(tmp_path: Path) -> None:
    """One line naming the directory, exit 2 (the cases are unit-tested in-process)."""
    r = dlsim("report", str(tmp_path))
    assert r.returncode == 2, r.stdout
    assert str(tmp_path) in r.stderr and "Traceback" not in r.stderr
