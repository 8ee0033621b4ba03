"""Regenerate the screenshots of the ``dlsim optimise`` and ``dlsim explain`` pages in this
folder (English and German; a few minutes on one core).

Small scale to save CPU: the Monday replay with the levers of notebook 04
(configs/levers/monday-what-would-have-helped.yaml, 8 combinations) screened and confirmed at
population scale 0.01 (2 screening, 3 confirmation replications; the figures are a
miniature's), and ``dlsim explain`` of the Monday at scale 0.02 with 2 replications.

    .venv/bin/python docs/screenshots/make_decide_screenshots.py [WORKDIR]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MONDAY = REPO / "configs" / "2021-01-11-monday-dispatcher-failure.yaml"
LEVERS = REPO / "configs" / "levers" / "monday-what-would-have-helped.yaml"
sys.path.insert(0, str(HERE))

from make_screenshots import screenshot  # noqa: E402


def dlsim(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "sim", *args], check=True, cwd=REPO,
                   env={"CI": "1", "PATH": "/usr/bin:/bin"}, stdout=subprocess.DEVNULL)


def main(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "de"):  # the second language re-uses the stored runs (runs.jsonl)
        dlsim("optimise", str(MONDAY), "--levers", str(LEVERS), "--target",
              "join_success_rate>=0.8", "--out", str(work / "optimise"), "--screen-scale",
              "0.01", "--confirm-scale", "0.01", "--replications", "2",
              "--confirm-replications", "3", "--lang", lang)
        screenshot(work / "optimise" / "report.html", HERE / f"optimise-{lang}.png")
        print(HERE / f"optimise-{lang}.png")
    for lang in ("en", "de"):
        dlsim("explain", str(MONDAY), "--set", "population.scale=0.02", "--replications", "2",
              "--out", str(work / f"explain-{lang}"), "--lang", lang)
        screenshot(work / f"explain-{lang}" / "explain.html", HERE / f"explain-{lang}.png")
        print(HERE / f"explain-{lang}.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="shots-")))
