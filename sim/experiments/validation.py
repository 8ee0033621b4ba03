"""Validation against January 2021: the replay scenarios vs the reported figures.

``python -m sim.experiments.validation`` (or ``make validation``) runs the national IServ Thursday
and the
Lower Saxony Monday, Tuesday and Wednesday replays and writes ``docs/validation.md``: every
figure of ``domain-facts.md`` the model can produce, model beside reported, with the verdict,
and a one-at-a-time sensitivity table of the assumptions behind the headline KPIs.

Each row says what kind of comparison it is:

- *calibrated*: an assumption was tuned so that this figure matches — agreement is no test;
- *as configured*: the scenario states it (a fault's timing, a fleet sized from the figure);
- *input*: the generated population reproduces a sourced total;
- *held out*: nothing was tuned to it — only these rows are validation;
- *model only*: nothing was reported to compare with.

Figures are given with the spread of several replications (and, for the ordinary day, of
several generated populations) and rounded to what that spread supports. ``--scale`` runs a
faithful miniature of the state (``sim.model.scale``) for a quick look; the document is generated at
scale 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import Scenario, load_scenario
from sim.model.components.conference import participants_per_node
from sim.model.simulation import RunResult, simulate_once

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
DEFAULT_DAY = CONFIGS / "lower-saxony-scenario-c.yaml"


def scale_sets(base: Scenario, scale: float) -> list[str]:
    """The override that runs ``base`` at ``scale`` of its population. Central capacities
    follow when the run is built (``sim.model.scale.faithful``), so none are set here."""
    return [f"population.scale={base.population.scale * scale}"]


def scaled(path: Path, scale: float, extra: Sequence[str] = ()) -> Scenario:
    """A scenario at ``scale`` of its population: a faithful miniature (``sim.model.scale``)."""
    base = load_scenario(path)
    if scale == 1.0 and not extra:
        return base
    sets = scale_sets(base, scale) if scale != 1.0 else []
    return load_scenario(path, [*sets, *extra])


class Runner:
    """Runs replications, serially or (``jobs`` > 1) on a pool of processes: every run the
    document needs is submitted first (:meth:`submit`), then read in the document's order
    (:meth:`get`); a run not submitted runs here."""

    def __init__(self, jobs: int = 1):
        self.pool = ProcessPoolExecutor(jobs) if jobs > 1 else None
        self.futures: dict[tuple[str, int], Future[RunResult]] = {}

    def submit(self, sc: Scenario, seed: int) -> None:
        key = (sc.config_hash(), seed)
        if self.pool is not None and key not in self.futures:
            self.futures[key] = self.pool.submit(simulate_once, sc, seed)

    def get(self, sc: Scenario, seed: int) -> RunResult:
        fut = self.futures.pop((sc.config_hash(), seed), None)
        return fut.result() if fut is not None else simulate_once(sc, seed)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


# --------------------------------------------------------------------------- figures


@dataclass
class Row:
    figure: str
    reported: str
    model: str
    kind: str
    verdict: str
    note: str = ""


def round_to_spread(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """The mean of ``values`` rounded to the unit their spread supports, and that unit.

    The unit is the power of ten just below half the range (one significant figure of the
    spread), but never finer than three significant figures of the mean: a spread over a few
    replications of one population understates what the inputs leave open."""
    v = np.asarray(values, dtype=float)
    mean = float(v.mean())
    half = float(v.max() - v.min()) / 2.0 if v.size > 1 else 0.0
    coarsest = 10.0 ** (math.floor(math.log10(abs(mean))) - 2) if mean != 0 else 1.0
    unit = max(10.0 ** math.floor(math.log10(half)), coarsest) if half > 0 else coarsest
    return round(mean / unit) * unit, unit


def fmt(values: Sequence[float], scale: float = 1.0, unit: str = "", pct: bool = False) -> str:
    """``mean (min–max, n runs)`` at the precision the spread supports."""
    v = np.asarray(values, dtype=float) * scale
    if pct:
        v = v * 100.0
    mean, step = round_to_spread(v)
    digits = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    suffix = "%" if pct else unit

    def one(x: float) -> str:
        return f"{x:,.{digits}f}{suffix}"

    if v.size == 1:
        return one(mean)
    lo, hi = round(float(v.min()) / step) * step, round(float(v.max()) / step) * step
    return f"{one(mean)} ({one(lo)}–{one(hi)}, {v.size} runs)"


def _within(values: Sequence[float], reported: float, tol: float) -> str:
    m = float(np.mean(values))
    if abs(m - reported) <= tol * reported:
        return f"within ±{tol:.0%}"
    return f"off by {m / reported - 1:+.0%}"


def floor_verdict(values: Sequence[float], floor: float) -> str:
    """A reported "> X" is a floor: below it fails, however close."""
    lo, m = float(np.min(values)), float(np.mean(values))
    if lo >= floor:
        return "meets the floor"
    if m >= floor:
        return "meets the floor on average (not in every run)"
    return f"below the floor ({m / floor - 1:+.0%})"


def _series(r: RunResult, component: str, metric: str) -> pd.Series:
    ts = r.timeseries
    s = ts[(ts.component == component) & (ts.metric == metric)]
    return s.set_index("t")["value"].sort_index()


def _hhmm(t: float) -> str:
    return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}"


def _iserv_affected(r: RunResult) -> float:
    return float(r.extra["affected_schools_share_per_platform"]["iserv"])


def _iserv_share(r: RunResult, mask: pd.Series) -> float:
    """Share of the IServ schools (with pupils meaning to join) for which ``mask`` holds."""
    s = r.schools
    mine = (s.platform == "iserv") & (s.intending_pupils > 0)
    return float((mask & mine).sum() / max(1, int(mine.sum())))


def _crashed_schools(r: RunResult) -> set[int]:
    """School numbers whose pupils lost minutes to their own server's crash."""
    return set(r.schools.school[r.schools["lost_pupil_minutes:school_server_crash"] > 0]) \
        if "lost_pupil_minutes:school_server_crash" in r.schools else set()


def _lost_share_outdated(r: RunResult) -> float:
    """Share of the day's lost pupil-minutes at schools with an outdated own server."""
    s = r.schools
    total = float(s.lost_pupil_minutes.sum())
    return float(s.lost_pupil_minutes[s.server == "outdated"].sum()) / total if total else 0.0


def run_all(
    scale: float = 1.0, seeds: Sequence[int] = (1, 2), population_seeds: Sequence[int] = (1, 2, 3),
    log: Callable[[str], None] | None = None, runner: Runner | None = None,
) -> tuple[list[Row], dict[str, float]]:
    """The replays (the Thursday and the Wednesday with ``seeds``; the Wednesday also on
    further generated populations) and the rows of the table."""
    runs, timing = _replays(scale, seeds, population_seeds, log or (lambda _m: None),
                            runner or Runner())
    f = 1.0 / scale  # figures of a reduced run are scaled back up to the whole population
    mon, tue, wed = runs["mon"][0], runs["tue"][0], runs["wed"][0]
    # the ordinary day: its replications and its generated populations together
    wed_all = runs["wed"] + [runs[f"wed-pop{ps}"][0] for ps in population_seeds]
    rows = [
        *_thursday_rows(runs["thu"], f),
        _bbb_reference_row(),
        *_monday_rows(mon, wed, wed_all, f),
        _tuesday_row(tue, mon),
        *_wednesday_rows(runs["wed"], wed_all, f, len(population_seeds)),
    ]
    return rows, timing


def _replays(scale: float, seeds: Sequence[int], population_seeds: Sequence[int],
             say: Callable[[str], None], runner: Runner,
             ) -> tuple[dict[str, list[RunResult]], dict[str, float]]:
    """Which replays run — each day, on which seeds and populations — and how long each
    took (seconds of simulation, summed over its runs)."""
    timing: dict[str, float] = {}
    runs: dict[str, list[RunResult]] = {}
    plan: list[tuple[str, str, list[int], list[str]]] = [
        ("thu", "national-iserv-thursday.yaml", list(seeds), []),
        ("mon", "2021-01-11-monday-dispatcher-failure.yaml", list(seeds[:1]), []),
        ("tue", "2021-01-12-tuesday-triple-load.yaml", list(seeds[:1]), []),
        ("wed", "2021-01-13-wednesday-stable.yaml", list(seeds), []),
    ]
    for ps in population_seeds:
        plan.append((f"wed-pop{ps}", "2021-01-13-wednesday-stable.yaml", list(seeds[:1]),
                     [f"population.seed={ps}"]))
    scenarios = {key: scaled(CONFIGS / name, scale, extra) for key, name, _, extra in plan}
    for key, _, run_seeds, _ in plan:
        for s in run_seeds:
            runner.submit(scenarios[key], s)
    for key, _, run_seeds, _ in plan:
        runs[key] = [runner.get(scenarios[key], s) for s in run_seeds]
        timing[key] = sum(r.runtime_s for r in runs[key])
        say(f"{key}: {len(run_seeds)} run(s) in {timing[key]:.0f} s")
    return runs, timing


def _thursday_rows(thu: list[RunResult], f: float) -> list[Row]:
    """Thursday 14 Jan, national IServ: the population's inputs and the calibrated load
    (peak, joins, hours, minutes per join)."""
    i_pupils = [float(r.schools[r.schools.platform == "iserv"].pupils.sum()) for r in thu[:1]]
    i_schools = [float((r.schools.platform == "iserv").sum()) for r in thu[:1]]
    peak = [r.extra["peak_participants_per_platform"]["iserv"] for r in thu]
    pupil_joins = [r.extra["joins_per_platform"]["iserv"] for r in thu]
    host_joins = [r.extra["host_joins_per_platform"]["iserv"] for r in thu]
    joins = [a + b for a, b in zip(pupil_joins, host_joins, strict=True)]
    hours = [r.extra["conference_hours_per_platform"]["iserv"] for r in thu]
    per_join = [60 * h / j for h, j in zip(hours, joins, strict=True)]
    rejoin = [r.extra["dropped_and_rejoined"] / max(1, sum(r.extra["joins_per_platform"].values()))
              for r in thu]
    return [
        Row("IServ pupils (national)", "> 2.3 M", fmt(i_pupils, f / 1e6, " M"), "input",
            _within([x * f for x in i_pupils], 2.3e6, 0.03),
            "Lower Saxony's IServ schools + other states' block (own school-type mix, A50)"),
        Row("IServ schools (national)", "> 4,500", fmt(i_schools, f), "input",
            _within([x * f for x in i_schools], 4500, 0.03),
            "the reported figures are rounded floors; the generated totals are tested "
            "within ±3 % over five population seeds"),
        Row("Peak concurrent IServ participants (Thu)", "up to 170,000", fmt(peak, f),
            "calibrated", _within([x * f for x in peak], 170_000, 0.15), "SOURCES A31"),
        Row("IServ joins (Thu 14 Jan), pupils + teachers", "> 2.5 M", fmt(joins, f / 1e6, " M"),
            "calibrated", floor_verdict([x * f for x in joins], 2.5e6),
            f"of which teachers {fmt(host_joins, f / 1e6, ' M')}; rejoins after a drop "
            f"{fmt(rejoin, pct=True)} of pupils' joins"),
        Row("IServ conference hours (Thu 14 Jan)", "≈ 1 M", fmt(hours, f / 1e6, " M"),
            "calibrated", _within([x * f for x in hours], 1e6, 0.15),
            "teachers' time included"),
        Row("Minutes per join", "≈ 24 (derived)", fmt(per_join), "calibrated",
            _within(per_join, 24, 0.15)),
    ]


def _bbb_reference_row() -> Row:
    """A component check nothing was tuned to: BBB's "≈150 per server in a typical mix"."""
    sc_def = load_scenario(DEFAULT_DAY)
    nbc = sc_def.platform("bildungscloud").clusters[0]
    b = sc_def.behaviour
    typical = participants_per_node(nbc, sc_def.media, 25,
                                    b.webcam_share_teachers + 24 * b.webcam_share_pupils,
                                    b.screenshare_share)
    return Row("Participants per BBB reference server, 6 rooms of 25, the day's camera mix",
               "≈ 150 (S78)", f"{typical:.0f}", "calibrated", _within([typical], 150, 0.15),
               "since issue 24 the CPU law (A53) is a least-squares fit to three anchors, this "
               "one included; held out of the fit (the other two fitted exactly) it predicts "
               "203, +35 % (SOURCES A53, `tests/unit/test_components.py`)")


def _monday_rows(mon: RunResult, wed: RunResult, wed_all: list[RunResult],
                 f: float) -> list[Row]:
    """Monday 11 Jan, the dispatcher failure: when nobody got in and when joins came back
    (against Wednesday's), what it cost, and Bildungscloud's scale-up and problem phase."""
    jm = _series(mon, "platform:iserv", "joins_succeeded")
    jw = _series(wed, "platform:iserv", "joins_succeeded")
    window = jm[(jm.index >= 7 * 3600) & (jm.index < 15 * 3600)]
    dead = window[(window == 0) & (jw.reindex(window.index).fillna(0) > 0)]
    first_dead = float(dead.index.min()) if len(dead) else float("nan")
    last_dead = float(dead.index.max()) if len(dead) else float("nan")
    ratio = jm / jw.replace(0, float("nan"))
    back = ratio[(ratio.index >= 12 * 3600) & (ratio >= 0.9)]
    recovered = float(back.index.min()) if len(back) else float("nan")
    rows = [
        Row("Mon: nobody reaches an IServ room", "from ≈ 08:00",
            _hhmm(first_dead) if first_dead == first_dead else "–", "as configured", "–",
            "fault starts 07:50 (the 08:00 rush)"),
        Row("Mon: IServ conferences work again", "at midday / by ≈ 14:00",
            f"last minute without joins {_hhmm(last_dead)}; joins back to ≥ 90 % of an "
            f"ordinary day at {_hhmm(recovered) if recovered == recovered else '–'}",
            "as configured", "–", "staged repair 12:00, 13:00, 14:00"),
        Row("Mon: lost pupil-minutes vs an ordinary day", "—",
            f"{fmt([mon.kpis['lost_pupil_minutes']], f)} vs "
            f"{fmt([r.kpis['lost_pupil_minutes'] for r in wed_all], f)}", "model only", "–",
            "ordinary day: replications and generated populations together"),
        Row("Mon: pupil-meetings that never got in", "—",
            f"{1 - mon.kpis['join_success_rate']:.0%} (all platforms)", "model only", "–"),
        Row("Mon: Bildungscloud servers started", "750 extra",
            f"{mon.extra['nodes_started_by_scale_up'] * f:,.0f} of a 750 reserve",
            "as configured", "–"),
    ]
    problem = _problem_minutes(mon, "bildungscloud")
    rows.append(Row("Mon: Bildungscloud problem phase", "one, ≈ 30 min",
                    f"{problem} minutes with refused joins or pupils on a degraded node",
                    "held out",
                    _within([problem], 30, 0.5) if problem else "no problem phase",
                    "scale-up trigger and delay are assumptions (A41), not tuned to it"))
    return rows


def _problem_minutes(r: RunResult, platform: str) -> int:
    """Minutes in which the platform refused a join or had pupils on a degraded node (since
    issue 24 load degrades instead of refusing: refusals are hard limits only)."""
    bad = _series(r, f"platform:{platform}", "refused_capacity") > 0
    for c in r.scenario.platform(platform).clusters:
        deg = _series(r, f"cluster:{c.name}", "degraded_pupils") > 0
        bad = bad.reindex(bad.index.union(deg.index), fill_value=False) | deg.reindex(
            bad.index.union(deg.index), fill_value=False)
    return int(bad.sum())


def _tuesday_row(tue: RunResult, mon: RunResult) -> Row:
    """Tuesday 12 Jan: IServ's conference load against Monday's (reported: three times)."""
    j_tue = tue.extra["joins_per_platform"]["iserv"]
    j_mon = mon.extra["joins_per_platform"]["iserv"]
    return Row("Tue: IServ conference load vs Monday", "3 ×",
               f"{j_tue / max(j_mon, 1):.1f} × (joins)", "held out",
               _within([j_tue / max(j_mon, 1)], 3.0, 0.34),
               "Monday's joins all came after the repair")


def _wednesday_rows(wed_runs: list[RunResult], wed_all: list[RunResult], f: float,
                    n_populations: int) -> list[Row]:
    """Wednesday 13 Jan, the stable day: the central servers' utilisation at the peak, the
    schools with problems (outdated local servers) and where the lost minutes fall."""
    util = []
    for r in wed_runs:
        cpu = _series(r, "cluster:iserv-bbb", "cpu")
        cap = _series(r, "cluster:iserv-bbb", "capacity_cpu")
        util.append(float((cpu / cap).max()))
    affected = [_iserv_affected(r) for r in wed_all]
    crashed = [r.extra["schools_with_crashed_server"] * f for r in wed_all]
    outdated = [float((r.schools.server == "outdated").sum()) * f for r in wed_all]
    crashed_share = [_iserv_share(r, r.schools.school.isin(_crashed_schools(r))) for r in wed_all]
    any_pupil = [_iserv_share(r, r.schools.pupils_lost_over_15min > 0) for r in wed_all]
    return [
        Row("Wed: central IServ servers at the peak", "only half utilised",
            f"{fmt(util, pct=True)} of CPU", "as configured", _within(util, 0.5, 0.2),
            "the fleet was sized from this figure (A40) under the former CPU law; with the law "
            "refitted in issue 24 (A53) the same fleet peaks lower — not re-sized (issue 26)"),
        Row("Wed: IServ schools with problems (outdated local servers)", "2–3 % (IServ's)",
            f"{fmt(affected, pct=True)} of IServ schools affected "
            f"({fmt([r.kpis['affected_schools_share'] for r in wed_all], pct=True)} of all "
            f"schools); {fmt(crashed)} servers crashed of {fmt(outdated)} outdated",
            "calibrated",
            "within range" if 0.02 <= float(np.mean(affected)) <= 0.03 else "outside 2–3 %",
            f"SOURCES A24, A44 (calibrated before issue 24's crash rule, A80–A84; not "
            f"re-tuned: issue 26); {len(wed_all)} runs: {len(wed_runs)} replications + "
            f"{n_populations} other generated populations. Other readings of \"with "
            f"problems\": minutes lost to the own server's crash at "
            f"{fmt(crashed_share, pct=True)} of IServ schools; at least one pupil who lost "
            f"> 15 min at {fmt(any_pupil, pct=True)}"),
        Row("Wed: share of lost minutes at schools with an outdated server", "—",
            fmt([_lost_share_outdated(r) for r in wed_all], pct=True), "model only", "–",
            "the attribution's headline: read with the sensitivity table below"),
    ]


# --------------------------------------------------------------------------- sensitivity

# (assumption, low label, low overrides, high label, high overrides); base = the default day
_OUTDATED_1_4 = ["school_servers.tiers.outdated.login_service_s=1.5",
                 "school_servers.tiers.outdated.join_service_s=0.3"]
_OUTDATED_1_10 = ["school_servers.tiers.outdated.login_service_s=3.75",
                  "school_servers.tiers.outdated.join_service_s=0.75"]
SENSITIVITY: list[tuple[str, str, list[str], str, list[str]]] = [
    ("outdated share of on-prem servers (0.45)", "0.2", ["assignment.outdated_share=0.2"],
     "0.5", ["assignment.outdated_share=0.5"]),
    ("outdated server throughput (1/20 of current)", "1/4", _OUTDATED_1_4, "1/10",
     _OUTDATED_1_10),
    ("on-premises share of IServ schools (0.55)", "0.35", ["assignment.on_prem_share.iserv=0.35"],
     "0.75", ["assignment.on_prem_share.iserv=0.75"]),
    ("crash rule (any server, A80–A84)", "no crashes", ["faults=[]"], "–", []),
    ("overload: work offered ≥ 1.0 × capacity (A80)", "0.8", ["faults[0].load_threshold=0.8"],
     "3.0", ["faults[0].load_threshold=3.0"]),
    ("overload: a new request waits ≥ 0.5 × the time-out (A80)", "0.25",
     ["faults[0].response_share=0.25"], "1.0", ["faults[0].response_share=1.0"]),
    ("memory held per request (16 MB, A81)", "5 MB", ["faults[0].request_mb=5"], "50 MB",
     ["faults[0].request_mb=50"]),
    ("overload sustained (120 s, A83)", "60 s", ["faults[0].sustain_s=60"], "600 s",
     ["faults[0].sustain_s=600"]),
    ("down after a crash (30 min, A84)", "10 min", ["faults[0].repair_min=10"], "60 min",
     ["faults[0].repair_min=60"]),
    ("upload background traffic (15–45 % per school, A82)", "15 % at every school",
     ["school_servers.uplink_background_share=0.15"], "45 % at every school",
     ["school_servers.uplink_background_share=0.45"]),
    ("IServ node CPU (2 reference servers)", "1.5", ["platforms[0].clusters[0].node_cpu=1.5"],
     "3", ["platforms[0].clusters[0].node_cpu=3.0"]),
    ("pupils' cameras on (15 %)", "5 %", ["behaviour.webcam_share_pupils=0.05"], "40 %",
     ["behaviour.webcam_share_pupils=0.4"]),
    ("webcam bit rate (0.20 Mbit/s)", "0.10", ["media.webcam_mbit_s=0.1"], "0.40 (480p)",
     ["media.webcam_mbit_s=0.4"]),
    ("live lesson share per period (13 %)", "10 %", ["timetable.live_lesson_share=0.10"],
     "16 %", ["timetable.live_lesson_share=0.16"]),
    ("morning login share (0.6)", "0.45", ["login.share=0.45"], "0.9", ["login.share=0.9"]),
    ("reconnect rate (0.5 per hour)", "0.2", ["behaviour.reconnect_per_h=0.2"], "1.0",
     ["behaviour.reconnect_per_h=1.0"]),
    ("data per request over the school upload (2 Mbit)", "0.8",
     [f"school_servers.tiers.{t}.page_mbit=0.8" for t in ("current", "outdated")],
     "8", [f"school_servers.tiers.{t}.page_mbit=8" for t in ("current", "outdated")]),
]

_KPIS: list[tuple[str, Callable[[RunResult, float], float], Callable[[float], str]]] = [
    ("lost pupil-minutes", lambda r, f: r.kpis["lost_pupil_minutes"] * f,
     lambda x: f"{x / 1e3:,.0f} k"),
    ("IServ schools affected", lambda r, f: _iserv_affected(r), lambda x: f"{x:.1%}"),
    ("lost minutes at outdated servers", lambda r, f: _lost_share_outdated(r),
     lambda x: f"{x:.0%}"),
    ("degraded share (capacity)", lambda r, f: r.kpis["degraded_share"],
     lambda x: f"{x:.2%}"),
]


def sensitivity_submit(runner: Runner, scale: float = 0.25,
                       seeds: Sequence[int] = (1, 2)) -> None:
    """Submit every run of :func:`sensitivity` to ``runner`` (to run beside the replays)."""
    for extra in [[], *(x for row in SENSITIVITY for x in (row[2], row[4]) if x)]:
        for s in seeds:
            runner.submit(scaled(DEFAULT_DAY, scale, extra), s)


def sensitivity(scale: float = 0.25, seeds: Sequence[int] = (1, 2),
                log: Callable[[str], None] | None = None,
                runner: Runner | None = None) -> tuple[list[str], float]:
    """One-at-a-time sensitivity of the default day's headline KPIs (markdown lines) and the
    seconds of simulation it took."""
    say = log or (lambda _m: None)
    runner = runner or Runner()
    took = 0.0
    f = 1.0 / scale

    def run(extra: list[str]) -> list[float]:
        nonlocal took
        sc = scaled(DEFAULT_DAY, scale, extra)
        rs = [runner.get(sc, s) for s in seeds]
        took += sum(r.runtime_s for r in rs)
        return [float(np.mean([k(r, f) for r in rs])) for _, k, _ in _KPIS]

    base = run([])
    say(f"sensitivity base: {base}")
    head = "| assumption (default) | low | high | " + " | ".join(
        f"{name}: low / high" for name, _, _ in _KPIS) + " |"
    lines = [head, "|" + "---|" * (3 + len(_KPIS))]
    lines.append("| **default day** | | | " + " | ".join(
        f"**{show(b)}**" for (_, _, show), b in zip(_KPIS, base, strict=True)) + " |")
    for name, lo_label, lo_sets, hi_label, hi_sets in SENSITIVITY:
        lo = run(lo_sets)
        hi = run(hi_sets) if hi_sets else [math.nan] * len(_KPIS)
        say(f"sensitivity {name}: {lo} / {hi}")
        cells = [f"{show(a)} / {show(b) if b == b else '–'}"
                 for (_, _, show), a, b in zip(_KPIS, lo, hi, strict=True)]
        lines.append(f"| {name} | {lo_label} | {hi_label} | " + " | ".join(cells) + " |")
    return lines, took


#: The document's "where model and reality disagree" (static: the figures are in the table)
DISAGREEMENTS = [
    "- Peak, joins and hours are calibrated together on the national Thursday (SOURCES "
    "A31); with a modest reconnect rate the hours stay ≈10 % below 1 M while the peak "
    "matches: the reported hours probably include afternoon and staff meetings the "
    "timetable does not have.",
    "- The outdated servers (2–3 % of IServ schools with problems) were calibrated with the "
    "slow end of both plausible ranges (45 % of on-prem servers outdated, 1/20 of a current "
    "server's throughput) under the *former* crash rule (only outdated servers, ≥ 5 requests "
    "waiting at two minute checks). Issue 24 changed what produces the figure — one overload "
    "rule for every server (A80–A84), the answer's trip over the school's upload as its own "
    "resource, no February check-in in January — and nothing was re-tuned (calibration is "
    "issue 26), so the Wednesday row now falls below 2–3 %. Why, measured: "
    "[docs/model-form.md](model-form.md#the-wednesday-schools-with-problems). Either old "
    "servers were slower still, or part of the reported problems had other causes (slow "
    "school uploads, A25; servers that answered too slowly without crashing). The "
    "sensitivity table shows how much the attribution to outdated servers rests on these "
    "numbers.",
    "- \"Only half utilised\" (A40) sized the IServ fleet under the former CPU law (a "
    "reference server held ≈ 117 in the class mix); the law refitted to all three anchors "
    "(A53) holds ≈ 181, so the same fleet's peak is lower than half. The fleet was not "
    "re-sized: if \"half utilised\" is the fact, it is about two thirds of 450 nodes.",
    '- Tuesday\'s "3 × Monday" compares with a Monday on which conferences only worked '
    "after the repair; the ratio depends on how many pupils came back in the afternoon "
    "(`behaviour.give_up_return_share`).",
    "- The Bildungscloud's Monday problem phase depends on the scale-up's trigger and "
    "30-minute provisioning delay (`policies.scale_up`), assumptions not tuned to the "
    "reported 30 minutes. Since issue 24 its nodes degrade instead of refusing, so the "
    "phase counts minutes with pupils on a degraded node too.",
]


# --------------------------------------------------------------------------- document


def write_document(path: Path, scale: float = 1.0, seeds: Sequence[int] = (1, 2),
                   sens_scale: float = 0.25, with_sensitivity: bool = True,
                   log: Callable[[str], None] | None = None, jobs: int = 1) -> str:
    runner = Runner(jobs)
    try:
        if with_sensitivity:  # submitted first: the pool runs them beside the replays
            sensitivity_submit(runner, sens_scale, seeds)
        return _write_document(path, scale, seeds, sens_scale, with_sensitivity, log, runner)
    finally:
        runner.close()


def _write_document(path: Path, scale: float, seeds: Sequence[int], sens_scale: float,
                    with_sensitivity: bool, log: Callable[[str], None] | None,
                    runner: Runner) -> str:
    rows, timing = run_all(scale, seeds, log=log, runner=runner)
    lines = [
        "# Validation: the January 2021 replays against the reported figures",
        "",
        f"Generated by `python -m sim.experiments.validation` on {dt.date.today().isoformat()} "
        f"(population scale {scale:g}, seeds {', '.join(map(str, seeds))}; seconds of "
        f"simulation per replay, summed over its runs: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in timing.items())
        + "). Do not edit by hand.",
        "",
        "Reported figures: `../shared/docs/domain-facts.md`, listed with sources in "
        "`data/SOURCES.md` (S49–S75). Scenarios: `configs/national-iserv-thursday.yaml` and "
        "`configs/2021-01-1*.yaml`. The five days as one week, each carrying over what the day "
        "before taught, with a per-day table of the same kinds: [the week](week.md).",
        "",
        "**Kinds of row.** *calibrated*: an assumption was tuned so that the figure matches — "
        "agreement is no test. *as configured*: the scenario states it (a fault's timing, a "
        "fleet sized from the figure). *input*: the generated population reproduces a sourced "
        "total. *held out*: nothing was tuned to it — **only these rows are validation**. "
        "*model only*: nothing was reported to compare with. Rows about IServ count IServ "
        "only. A reported \"> X\" is a floor: a model value below it fails whatever the "
        "tolerance.",
        "",
        "**Precision.** Figures are the mean of the runs named, rounded to one significant "
        "figure of their half-range, with the range in brackets. The Wednesday rows combine "
        "replications with other generated populations (the number of outdated servers "
        "differs from one population seed to the next).",
        "",
        "| figure | reported | model | kind | verdict | note |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {r.figure} | {r.reported} | {r.model} | {r.kind} | {r.verdict} | {r.note} |"
              for r in rows]
    lines += [
        "",
        "## Where model and reality disagree",
        "",
        *DISAGREEMENTS,
        "",
    ]
    if with_sensitivity:
        sens, took = sensitivity(sens_scale, seeds, log=log, runner=runner)
        lines += [
            "## Sensitivity of the default day (one assumption at a time)",
            "",
            f"The ordinary day (`configs/lower-saxony-scenario-c.yaml`) at population scale "
            f"{sens_scale:g} with the conference fleets and front ends scaled alike (every "
            f"school keeps its own server and uplink, so the local-server part is faithful; "
            f"fewer outdated servers make it noisier), mean of seeds "
            f"{', '.join(map(str, seeds))}; lost minutes scaled back to the whole state. Each "
            f"row changes one assumption to the low and the high end of its plausible range "
            f"(SOURCES A24–A84) and leaves the rest at the default; a dash: no second "
            f"setting. {took / 60:.0f} min of simulation.",
            "",
            *sens,
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
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--sensitivity-scale", type=float, default=0.25)
    ap.add_argument("--no-sensitivity", action="store_true")
    ap.add_argument("--jobs", type=int, default=1, help="runs at a time (processes)")
    args = ap.parse_args()
    text = write_document(Path(args.out), args.scale, args.seeds, args.sensitivity_scale,
                          not args.no_sensitivity, log=lambda m: print(m, flush=True),
                          jobs=args.jobs)
    print(text)


if __name__ == "__main__":
    main()
