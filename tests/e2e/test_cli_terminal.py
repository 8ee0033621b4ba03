"""``dlsim run`` in a terminal of 80 columns (a pseudo-terminal, as a planner's shell): the
title does not wrap, the progress bar keeps its full width with elapsed and remaining time,
the report path is printed once, and the summary is in the chosen language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.terminal import run_in_pty

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BAR_CHARS = "━╸╺"


@pytest.mark.parametrize("lang", ["en", "de"])
def test_run_at_80_columns(tmp_path: Path, lang: str) -> None:
    out = tmp_path / "run"
    raw = run_in_pty([
        "run", "configs/lower-saxony-scenario-c.yaml", "--set", "population.scale=0.02",
        "--set", "day.end=09:30", "--replications", "3", "--out", str(out), "--lang", lang,
    ])
    frames = [ANSI.sub("", f) for f in re.split(r"\r|\n", raw)]
    lines = [f.rstrip() for f in frames if f.strip()]
    # paths are printed whole (a broken path cannot be copied); everything else fits
    long = [f for f in lines if len(f) > 80 and str(tmp_path) not in f]
    assert not long, long

    # the progress bar: at least one frame with the whole 30-cell bar, %, elapsed, remaining
    bars = [f for f in frames if sum(f.count(c) for c in BAR_CHARS) >= 30 and "%" in f]
    assert bars, "no progress bar drawn"
    full = [f for f in bars if len(re.findall(r"\d:\d\d:\d\d|-:--:--", f)) == 2]
    assert full, f"the bar lost its times: {bars[:2]}"
    assert not any("…" in f for f in bars), bars[:2]

    # the title: the scenario's name, in the chosen language (the shipped scenarios' names
    # are messages), on one line, not wrapped onto the next
    from sim.report.i18n import Tr

    name = Tr(lang).text("Lower Saxony, Szenario C, ordinary day (like Wed 13 Jan 2021)")
    title = [f for f in lines if f.startswith(name[:30])]
    assert title and all(t in (name, name + " …") or t.endswith("…") or t == name
                         for t in title), title
    after = lines[lines.index(title[-1]) + 1]
    assert not name.endswith(after.strip()), "the title wrapped"

    # the report path once; the summary in the chosen language
    assert sum(f.count("report.html") for f in lines) == 1, [f for f in lines
                                                             if "report.html" in f]
    words = ("Kennzahl", "Bericht:", "simuliert in") if lang == "de" else (
        "key figure", "Report:", "Simulated in")
    text = "\n".join(lines)
    for w in words:
        assert w.lower() in text.lower(), w
    assert (out / "report.html").is_file()
    assert f'<html lang="{lang}">' in (out / "report.html").read_text(encoding="utf-8")
