"""``docs/week.md``'s generated part: the January week's days against the reported figures,
and the pre-registered what-ifs over the week, each with its week report as a table.

Reads week directories written by ``dlsim week`` (week.json, week.parquet, days/*/), so the
figures in the page are the runs' own; the commands that made them are printed with them::

    python -m sim.experiments.week_doc --validation DIR --whatifs DIR --out docs/week.md

``--whatifs DIR`` holds one week directory per entry of :data:`WHATIFS` (``DIR/<name>``), the
baseline included, all at the same scale, replications and seed (pre-registered before they
ran: scale 0.1, 2 replications, seed 1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.validation import _within, floor_verdict, fmt
from sim.report.week_report import day_verdict

#: The what-ifs over the week, each one line of overrides (pre-registered, 7 Dec 2026).
WHATIFS: dict[str, tuple[str, list[str]]] = {
    "baseline": ("the week as it happened (the shipped file)", []),
    "rollback": ("the dispatcher rolled back by 09:00 on Monday",
                 ["days[mon].faults[0].end=09:00", "days[mon].faults[0].repair_stages=1"]),
    "stagger-monday": ("schools start a few minutes apart from Monday (Tuesday's stagger)",
                       ["days[mon].policies.stagger.school_number_slots=3",
                        "days[mon].policies.stagger.slot_min=5"]),
    "rented-hold": ("the rented servers do not fail on Tuesday",
                    ["days[tue].faults[0].share=0"]),
    "not-repaired": ("Monday's fault not repaired for good: each day's incidents recur",
                     ["carry_over.faults_repaired.enabled=false"]),
}
IServ_PUPILS_NATIONAL = 2.3e6
"""S73: the national IServ totals are compared per IServ pupil (A177)."""


def _load(d: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    meta = json.loads((d / "week.json").read_text(encoding="utf-8"))
    return meta, pd.read_parquet(d / "week.parquet")


def _vals(frame: pd.DataFrame, kpi: str, day: str) -> list[float]:
    sel = frame[(frame.kpi == kpi) & (frame.day == day)].sort_values("replication")
    return [float(v) for v in sel["value"]]


def _iserv_pupils(d: Path, day: str, meta: dict[str, Any]) -> float:
    n = next(i for i, x in enumerate(meta["days"]) if x["name"] == day) + 1
    sch = pd.read_parquet(d / "days" / f"{n}-{day}" / "schools.parquet")
    return float(sch.loc[sch.platform == "iserv", "pupils"].sum())


def _cpu_peak(d: Path, day: str, meta: dict[str, Any]) -> float:
    n = next(i for i, x in enumerate(meta["days"]) if x["name"] == day) + 1
    ts = pd.read_parquet(d / "days" / f"{n}-{day}" / "timeseries.parquet")
    c = ts[ts.component == "cluster:iserv-bbb"].pivot_table(index="t", columns="metric",
                                                            values="value")
    return float((c["cpu"] / c["capacity_cpu"]).max())


def validation_rows(d: Path) -> list[str]:
    """The per-day table (Markdown rows) from the week directory ``d``."""
    meta, f = _load(d)
    scale = float(meta["provenance"].get("scale", 1.0))
    j = {day: _vals(f, "iserv.joins", day) for day in ("mon", "tue", "wed", "thu", "fri")}
    ratio = [t / m for t, m in zip(j["tue"], j["mon"], strict=True)]
    per_pupil = 1.0 / _iserv_pupils(d, "thu", meta)
    thu_joins = [x * per_pupil for x in j["thu"]]
    thu_hours = [x * per_pupil for x in _vals(f, "iserv.conference_hours", "thu")]
    wed_joins = [x / _iserv_pupils(d, "wed", meta) for x in j["wed"]]
    aff = _vals(f, "iserv.affected_schools_share", "wed")
    nbc = [fr / tu for fr, tu in zip(_vals(f, "bildungscloud.peak_participants", "fri"),
                                     _vals(f, "bildungscloud.peak_participants", "tue"),
                                     strict=True)]
    growth = [(fr / w) ** 0.5 - 1 for fr, w in zip(j["fri"], j["wed"], strict=True)]
    mon_js = _vals(f, "join_success_rate", "mon")
    rows = [
        ("Mon", "IServ conferences fail from ≈ 08:00, fixed at midday / by ≈ 14:00",
         f"{fmt(mon_js, pct=True)} of pupil-meetings got in (all platforms)", "as configured",
         day_verdict(sum(mon_js) / len(mon_js)) + " day", "the fault's window is the scenario's"),
        ("Tue", "IServ conference load ≈ 3 × Monday's", f"{fmt(ratio)} × (IServ joins)",
         "held out", _within(ratio, 3.0, 0.34), "carry-over: rented servers, stagger, patience"),
        ("Wed", "2–3 % of (IServ) schools with problems", fmt(aff, pct=True) + " of IServ schools",
         "calibrated", "within range" if 0.02 <= sum(aff) / len(aff) <= 0.03 else
         f"outside 2–3 % ({sum(aff) / len(aff):.1%})",
         "A24/A44 were tuned on the single Wednesday; the week adds Tuesday's staggering"),
        ("Wed", "central IServ servers only half utilised",
         f"{fmt([_cpu_peak(d, 'wed', meta)], pct=True)} of CPU at the peak", "as configured",
         _within([_cpu_peak(d, "wed", meta)], 0.5, 0.2), "the fleet was sized from it (A40); "
         "the week adds the rented servers (A170)"),
        ("Wed", "> 2 M IServ joins (national) = > 0.87 per IServ pupil",
         fmt(wed_joins) + " per Lower Saxony IServ pupil", "held out",
         floor_verdict(wed_joins, 2.0e6 / IServ_PUPILS_NATIONAL), "per pupil (A177)"),
        ("Thu", "> 2.5 M joins = > 1.09 per IServ pupil", fmt(thu_joins) + " per IServ pupil",
         "calibrated", floor_verdict(thu_joins, 2.5e6 / IServ_PUPILS_NATIONAL),
         "live share calibrated on the national Thursday (A28–A31); video factor 1 on "
         "Thursday by construction (A174)"),
        ("Thu", "≈ 1 M conference hours = ≈ 0.43 h per IServ pupil",
         fmt(thu_hours) + " h per IServ pupil", "calibrated",
         _within(thu_hours, 1.0e6 / IServ_PUPILS_NATIONAL, 0.15), "as above"),
        ("Wed→Fri", "usage growth ≈ + 5 % a day (week 2, M)", fmt(growth, pct=True) + " a day "
         "(IServ joins, Wed to Fri)", "as configured", _within(growth, 0.05, 0.5),
         "the video-share rule grows by 5 % after a good day (A173, A174)"),
        ("Fri / Tue", "HPI Schul-Cloud peak 35,000 (Fri) / 25,000 (Tue) = 1.4 ×",
         fmt(nbc) + " × (Bildungscloud peak participants)", "held out",
         _within(nbc, 1.4, 0.2), "the NBC is part of the HPI Schul-Cloud; the ratio, not the "
         "counts (the Schul-Cloud is larger than Lower Saxony's NBC)"),
    ]
    head = [f"Week directory: `{d}` — population scale {scale:g}, "
            f"{meta['replications']} replication(s), seed {meta['provenance'].get('seed')}, "
            f"model {meta['provenance'].get('model_version')}.", "",
            "| day | reported | model | kind | verdict | note |", "|---|---|---|---|---|---|"]
    return head + [f"| {' | '.join(r)} |" for r in rows]


def _side_by_side(frame: pd.DataFrame, days: list[str], scale: float) -> list[str]:
    """The days side by side; counts as the whole state's (the miniature's ÷ its scale)."""
    m = frame.groupby(["kpi", "day"], sort=False)["value"].mean().unstack("day")
    rows = [("pupil-meetings that got in", "join_success_rate", lambda v: f"{v:.1%}"),
            ("lost pupil-minutes (whole state)", "lost_pupil_minutes",
             lambda v: f"{v / scale:,.0f}"),
            ("schools affected", "affected_schools_share", lambda v: f"{v:.1%}"),
            ("IServ joins (whole state)", "iserv.joins", lambda v: f"{v / scale:,.0f}")]
    out = ["| figure | " + " | ".join(days) + " |", "|---|" + "---|" * len(days)]
    for label, k, f in rows:
        out.append(f"| {label} | " + " | ".join(f(m.loc[k, d]) for d in days) + " |")
    js = {d: _mean(_vals(frame, "join_success_rate", d)) for d in days}
    out.append("| verdict | " + " | ".join(day_verdict(js[d]) for d in days) + " |")
    return out


def whatif_sections(root: Path) -> list[str]:
    """One section per what-if: its override line, the days side by side, what carried."""
    out: list[str] = []
    if not (root / "baseline" / "week.json").is_file():
        return [f"(not run: `{root / 'baseline'}` has no week.json)", ""]
    base = _load(root / "baseline")[1]
    for name, (what, sets) in WHATIFS.items():
        d = root / name
        if not (d / "week.json").is_file():
            out += [f"### {what}", "", f"(not run: `{d}` has no week.json)", ""]
            continue
        meta, frame = _load(d)
        scale = float(meta["provenance"].get("scale", 1.0))
        days = [x["name"] for x in meta["days"]]
        line = " ".join(f'--set "{s}"' for s in sets)
        lost = frame[frame.kpi == "lost_pupil_minutes"].groupby("replication")["value"].sum()
        lost0 = base[base.kpi == "lost_pupil_minutes"].groupby("replication")["value"].sum()
        diff = (lost - lost0) / scale
        carried = "; ".join(f"{x['name']}: " + ", ".join(
            f"{n['rule']} {_short(n['value'])}" for n in (x["carried"] or [[]])[0])
            for x in meta["days"] if x["carried"] and x["carried"][0])
        out += [f"### {what}", "", "```bash",
                f"dlsim week configs/2021-01-week.yaml --out out/week-{name} --scale 0.1 "
                f"--replications 2 {line}".rstrip(), "```", "",
                *_side_by_side(frame, days, scale), "",
                f"Lost pupil-minutes over the week against the baseline, whole state: "
                f"{diff.mean():+,.0f} (replications: "
                + ", ".join(f"{v:+,.0f}" for v in diff) + "). Carried over (replication 1): "
                + (carried or "nothing") + ".", ""]
    return out


def _mean(v: list[float]) -> float:
    return sum(v) / len(v)


def _short(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) and not math.isnan(v) else str(v)


START, END = "<!-- generated:start -->", "<!-- generated:end -->"


def main(argv: Sequence[str] | None = None) -> None:
    """Replace the part of ``--out`` between the generated-part markers (the rest of the page
    is written by hand)."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--validation", type=Path, required=True)
    ap.add_argument("--whatifs", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("docs/week.md"))
    a = ap.parse_args(argv)
    lines = [START, f"<!-- generated by python -m sim.experiments.week_doc on "
             f"{dt.date.today().isoformat()}; do not edit by hand -->", "",
             "## The days against the reported figures", "", *validation_rows(a.validation), "",
             "## What-ifs over the week", "", *whatif_sections(a.whatifs), END]
    page = a.out.read_text(encoding="utf-8") if a.out.is_file() else f"{START}\n{END}\n"
    head, _, rest = page.partition(START)
    _, _, tail = rest.partition(END)
    a.out.write_text(head + "\n".join(lines) + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
