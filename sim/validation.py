"""Validation against January 2021: the replay scenarios vs the reported figures.

``python -m sim.validation`` (or ``make validation``) runs the national IServ Thursday and the
Lower Saxony Monday, Tuesday and Wednesday replays and writes ``docs/validation.md``: every
figure of ``domain-facts.md`` the model can produce, model beside reported, with the verdict.
``--scale`` runs a faithful miniature of the state (sim.scale) for a quick look; the document is
generated at scale 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim import scale as scale_mod
from sim.config import Scenario, load_scenario
from sim.model import RunResult, simulate_once

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"


def scaled(path: Path, scale: float) -> Scenario:
    """A scenario at ``scale`` of its population: a faithful miniature (``sim.scale``)."""
    base = load_scenario(path)
    return base if scale == 1.0 else scale_mod.scaled(base, scale)


@dataclass
class Row:
    figure: str
    reported: str
    model: str
    verdict: str
    note: str = ""


def _series(r: RunResult, component: str, metric: str) -> pd.Series:
    ts = r.timeseries
    s = ts[(ts.component == component) & (ts.metric == metric)]
    return s.set_index("t")["value"].sort_index()


def _within(model: float, reported: float, tol: float = 0.15) -> str:
    if abs(model - reported) <= tol * reported:
        return f"within ±{tol:.0%}"
    return f"off by {model / reported - 1:+.0%}"


def _hhmm(t: float) -> str:
    return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}"


def run_all(scale: float = 1.0, seed: int = 1) -> tuple[list[Row], dict[str, float]]:
    runs: dict[str, RunResult] = {}
    timing: dict[str, float] = {}
    for key, name in (
        ("thu", "national-iserv-thursday.yaml"),
        ("mon", "2021-01-11-monday-dispatcher-failure.yaml"),
        ("tue", "2021-01-12-tuesday-triple-load.yaml"),
        ("wed", "2021-01-13-wednesday-stable.yaml"),
    ):
        t0 = time.perf_counter()
        runs[key] = simulate_once(scaled(CONFIGS / name, scale), seed)
        timing[key] = time.perf_counter() - t0
    rows: list[Row] = []
    f = 1.0 / scale  # figures of a reduced run are scaled back up to the whole population

    thu = runs["thu"]
    d = thu.extra
    peak = d["peak_participants_per_platform"]["iserv"] * f
    joins = d["joins_per_platform"]["iserv"] * f
    hours = d["conference_hours_per_platform"]["iserv"] * f
    schools = thu.schools
    iserv = schools[schools.platform == "iserv"]
    rows += [
        Row(
            "IServ pupils (national)",
            "> 2.3 M",
            f"{iserv.pupils.sum() * f / 1e6:.2f} M",
            "input",
            "Lower Saxony's IServ schools + external block (scale 1.41)",
        ),
        Row(
            "IServ schools (national)",
            "> 4,500",
            f"{len(iserv) * f:,.0f}",
            _within(len(iserv) * f, 4500),
            "other states' schools generated from Lower Saxony's marginals: more, smaller "
            "schools than IServ's real customer base",
        ),
        Row(
            "Peak concurrent participants (Thu)",
            "up to 170,000",
            f"{peak:,.0f}",
            _within(peak, 170_000),
        ),
        Row("Joins (Thu 14 Jan)", "> 2.5 M", f"{joins / 1e6:.2f} M", _within(joins, 2.5e6)),
        Row("Conference hours (Thu 14 Jan)", "≈ 1 M", f"{hours / 1e6:.2f} M", _within(hours, 1e6)),
        Row(
            "Minutes per join",
            "≈ 24 (derived)",
            f"{60 * hours / joins:.1f}",
            _within(60 * hours / joins, 24),
        ),
    ]

    mon, tue, wed = runs["mon"], runs["tue"], runs["wed"]
    jm = _series(mon, "platform:iserv", "joins_succeeded")
    jw = _series(wed, "platform:iserv", "joins_succeeded")
    window = jm[(jm.index >= 7 * 3600) & (jm.index < 15 * 3600)]
    dead = window[(window == 0) & (jw.reindex(window.index).fillna(0) > 0)]
    first_dead = float(dead.index.min()) if len(dead) else float("nan")
    last_dead = float(dead.index.max()) if len(dead) else float("nan")
    ratio = jm / jw.replace(0, float("nan"))
    back = ratio[(ratio.index >= 12 * 3600) & (ratio >= 0.9)]
    recovered = float(back.index.min()) if len(back) else float("nan")
    rows += [
        Row(
            "Mon: nobody reaches an IServ room",
            "from ≈ 08:00",
            _hhmm(first_dead) if first_dead == first_dead else "–",
            "as configured",
            "fault starts 07:50 (the 08:00 rush)",
        ),
        Row(
            "Mon: IServ conferences work again",
            "at midday / by ≈ 14:00",
            f"last minute without joins {_hhmm(last_dead)}; joins back to ≥ 90 % of an "
            f"ordinary day at {_hhmm(recovered) if recovered == recovered else '–'}",
            "as configured",
            "staged repair 12:00, 13:00, 14:00",
        ),
        Row(
            "Mon: lost pupil-minutes vs an ordinary day",
            "—",
            f"{mon.kpis['lost_pupil_minutes'] * f:,.0f} vs "
            f"{wed.kpis['lost_pupil_minutes'] * f:,.0f}",
            "model only",
        ),
        Row(
            "Mon: IServ pupil-meetings that never got in",
            "—",
            f"{1 - mon.kpis['join_success_rate']:.1%} (all platforms)",
            "model only",
        ),
        Row(
            "Mon: Bildungscloud servers started",
            "750 extra",
            f"{mon.extra['nodes_started_by_scale_up'] * f:,.0f} of a 750 reserve",
            "as configured",
        ),
    ]
    nbc_ref = _series(mon, "platform:bildungscloud", "refused_capacity")
    problem = int((nbc_ref > 0).sum())
    rows.append(
        Row(
            "Mon: Bildungscloud problem phase",
            "one, ≈ 30 min",
            f"{problem} minutes with refused joins",
            _within(problem, 30, 0.5) if problem else "no problem phase",
        )
    )
    j_tue = tue.extra["joins_per_platform"]["iserv"]
    j_mon = mon.extra["joins_per_platform"]["iserv"]
    rows.append(
        Row(
            "Tue: IServ conference load vs Monday",
            "3 ×",
            f"{j_tue / max(j_mon, 1):.1f} × (joins)",
            _within(j_tue / max(j_mon, 1), 3.0, 0.34),
            "Monday's joins all came after the repair",
        )
    )
    peak_util = (
        _series(wed, "cluster:iserv-bbb", "participants")
        / _series(wed, "cluster:iserv-bbb", "capacity_participants")
    ).max()
    rows += [
        Row(
            "Wed: central IServ servers at the peak",
            "only half utilised",
            f"{peak_util:.0%} of participant capacity",
            _within(peak_util, 0.5, 0.2),
        ),
        Row(
            "Wed: schools with problems (outdated local servers)",
            "2–3 %",
            f"{wed.kpis['affected_schools_share']:.1%} affected; "
            f"{wed.extra['schools_with_crashed_server']} servers crashed",
            "within range"
            if 0.015 <= wed.kpis["affected_schools_share"] <= 0.035
            else "outside 1.5–3.5 %",
            "calibrated (SOURCES A24, A44)",
        ),
    ]
    return rows, timing


def write_document(path: Path, scale: float = 1.0, seed: int = 1) -> str:
    rows, timing = run_all(scale, seed)
    lines = [
        "# Validation: the January 2021 replays against the reported figures",
        "",
        f"Generated by `python -m sim.validation` on {dt.date.today().isoformat()} "
        f"(population scale {scale:g}, seed {seed}; run times "
        + ", ".join(f"{k} {v:.0f} s" for k, v in timing.items())
        + "). Do not edit by hand.",
        "",
        "Reported figures: `../shared/docs/domain-facts.md`, listed with sources in "
        "`data/SOURCES.md` (S49–S75). Scenarios: `configs/national-iserv-thursday.yaml` and "
        "`configs/2021-01-1*.yaml`. *As configured* means the model reproduces the figure "
        "because the scenario states it (a fault's timing); *model only* means nothing was "
        "reported to compare with.",
        "",
        "| figure | reported | model | verdict | note |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r.figure} | {r.reported} | {r.model} | {r.verdict} | {r.note} |" for r in rows]
    lines += [
        "",
        "## Where model and reality disagree",
        "",
        "- The demand is calibrated per pupil to the national Thursday (SOURCES A31): the "
        "national figures test the transfer to the platform's size, not the calibration itself.",
        '- Tuesday\'s "3 × Monday" compares with a Monday on which conferences only worked '
        "after the repair; the ratio depends on how many pupils came back in the afternoon "
        "(`behaviour.give_up_return_share`).",
        "- Other states' schools are generated from Lower Saxony's marginals, so the national "
        "view has more, smaller schools than IServ's ≈4,500.",
        "- The Bildungscloud's Monday problem phase lasts about twice the reported 30 minutes: "
        "the scale-up's 30-minute provisioning delay starts only when its servers pass 70 %; "
        "an earlier trigger or a shorter delay (`policies.scale_up`) would match better.",
        "- Conference hours come out ≈10 % low and joins ≈6 % low nationally while the peak "
        "matches: the model's day is a little more peaked than IServ's.",
        "",
    ]
    text = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description="Write docs/validation.md")
    ap.add_argument("--out", default=str(REPO / "docs" / "validation.md"))
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(write_document(Path(args.out), args.scale, args.seed))


if __name__ == "__main__":
    main()
