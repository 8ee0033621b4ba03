"""Regenerate the report screenshots in this folder (about 3 minutes on one core).

Small scale to save CPU: population.scale=0.05 with 3 replications, a faithful miniature
(``sim.model.scale``: conference nodes, login workers and the emergency reserve are built at 5 %
too, so that 5 % of the pupils meet 5 % of the infrastructure). The sweep is
configs/sweeps/nodes-x-stagger.yaml with 3 spreads (0, 20, 45 min) and 3 replications.

    .venv/bin/python docs/screenshots/make_screenshots.py [WORKDIR] [--no-sweep]

``--no-sweep`` keeps the sweep's screenshots as they are (the sweep is most of the time). The
one-page briefing of the Monday is written as PDF and, to be seen on GitHub, as PNG
(``monday-briefing-*.png``: the page at A4 width).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sim import Scenario, load_scenario, simulate
from sim.model import scale
from sim.report import find_chromium, report_directory

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCALE = 0.05


def scaled(path: Path) -> Scenario:
    return scale.scaled(load_scenario(path), SCALE)


def screenshot(page: Path, png: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--no-first-run",
             f"--user-data-dir={tmp}", "--hide-scrollbars", "--virtual-time-budget=10000",
             f"--screenshot={png}", "--window-size=1280,4000", page.as_uri()],
            capture_output=True, timeout=180, check=True,
        )


def briefing_png(run: Path, lang: str, png: Path) -> None:
    """The one-page briefing as Chromium shows it at A4 width (what ``--pdf`` prints)."""
    from sim.report import load_run_dir
    from sim.report.run_report import render_briefing

    page = run.parent / f"briefing-{lang}.html"
    page.write_text(render_briefing(load_run_dir(run), lang=lang), encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             f"--user-data-dir={tmp}", "--hide-scrollbars", "--virtual-time-budget=10000",
             f"--screenshot={png}", "--window-size=794,1123", page.as_uri()],
            capture_output=True, timeout=180, check=True,
        )


def main(work: Path, sweep: bool = True) -> None:
    work.mkdir(parents=True, exist_ok=True)
    runs = {"default": "lower-saxony-scenario-c.yaml",
            "monday": "2021-01-11-monday-dispatcher-failure.yaml"}
    for name, cfg in runs.items():
        shutil.rmtree(work / name, ignore_errors=True)
        simulate(scaled(REPO / "configs" / cfg), seed=1, replications=3).save(
            work / name, report=False)
    comp = work / "comparison"
    shutil.rmtree(comp, ignore_errors=True)
    shutil.copytree(work / "default", comp / "a-ordinary-day")
    shutil.copytree(work / "monday", comp / "b-monday")
    for lang in ("en", "de"):
        briefing_png(work / "monday", lang, HERE / f"monday-briefing-{lang}.png")
    if sweep:
        _sweep(work)
    kinds = ("default", "monday", "comparison", "sweep") if sweep else (
        "default", "monday", "comparison")
    for kind in kinds:
        for lang in ("en", "de"):
            pdf = HERE / f"{kind}-{lang}.pdf" if kind == "monday" else None
            _, page, _ = report_directory(work / kind, work / f"{kind}-{lang}.html", lang=lang,
                                          pdf=pdf)
            screenshot(page, HERE / f"{kind}-{lang}.png")
            print(HERE / f"{kind}-{lang}.png")


def _sweep(work: Path) -> None:
    spec = (REPO / "configs" / "sweeps" / "nodes-x-stagger.yaml").read_text(encoding="utf-8")
    spec = spec.replace("base: ../lower-saxony-scenario-c.yaml",
                        f"base: {REPO / 'configs' / 'lower-saxony-scenario-c.yaml'}")
    spec = spec.replace("[0, 10, 20, 30, 45]", "[0, 20, 45]").replace(
        "replications: 5", "replications: 3")
    (work / "sweep.yaml").write_text(spec, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "sim", "sweep", str(work / "sweep.yaml"), "--out",
                    str(work / "sweep")], check=True, cwd=REPO,
                   env={"CI": "1", "PATH": "/usr/bin:/bin"})


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--no-sweep"]
    main(Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="shots-")),
         sweep="--no-sweep" not in sys.argv[1:])
