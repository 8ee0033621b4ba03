"""Every text dlsim writes for a reader, rendered in both languages, and a normalised diff of
two such renderings: the check that a change to the translations machinery (not to the words)
leaves the outputs byte for byte as they were.

    python -m tests.i18n_outputs render DIR   # ~2 min on one core: small runs, a comparison,
                                              # two sweeps, the what-if page, CLI summaries
    python -m tests.i18n_outputs diff OLD NEW # exit 1 and the differing lines if any

``render`` runs the CLI (``dlsim run/compare/sweep/whatif/report``) at population scale 0.02
on the shipped scenarios in English and German and keeps their HTML and terminal output; it
also renders the one-page briefing's HTML and every registry label (KPIs, ids, config paths,
causes) in both languages. ``diff`` compares the two directories file by file after removing
what changes from run to run: timestamps, run times, paths, host names, plotly's random div
ids. Render the old commit into one directory, the new one into another, then diff.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
SCALE = "population.scale=0.02"
RUNS = {  # name → (config, extra arguments)
    "c-r1": ("lower-saxony-scenario-c.yaml", []),
    "c-r2": ("lower-saxony-scenario-c.yaml", ["--replications", "2"]),
    "c-r3": ("lower-saxony-scenario-c.yaml", ["--replications", "3"]),
    "monday": ("2021-01-11-monday-dispatcher-failure.yaml", []),
    "tuesday": ("2021-01-12-tuesday-triple-load.yaml", []),
    "wednesday": ("2021-01-13-wednesday-stable.yaml", []),
    "hannover": ("hannover-city-platform.yaml", []),
    "national": ("national-iserv-thursday.yaml", []),
    "staggered": ("staggered-start.yaml", []),
    "c-as-given": ("lower-saxony-scenario-c.yaml", ["--set", "population.capacities=as_given"]),
}
SWEEP = """name: i18n-sweep
description: nodes x stagger, small
base: {base}
overrides:
  - population.scale=0.02
  - day.end=11:00
parameters:
  platforms[0].clusters[0].nodes: [100, 320]
  timetable.school_start_spread_min: [0, 20]
replications: {reps}
seed: 1
"""


def _env() -> dict[str, str]:
    return os.environ | {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "PYTHONHASHSEED": "0"}


def _dlsim(out: Path, name: str, *args: str) -> None:
    """Run ``dlsim args`` and keep its stdout and stderr as ``name.out`` / ``name.err``."""
    proc = subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          env=_env(), cwd=REPO, check=False)
    (out / f"{name}.out").write_text(proc.stdout + f"\n[exit {proc.returncode}]\n",
                                     encoding="utf-8")
    (out / f"{name}.err").write_text(proc.stderr, encoding="utf-8")


def render(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    for name, (config, extra) in RUNS.items():
        for lang in ("en", "de"):
            d = work / f"run-{name}-{lang}"
            _dlsim(out, f"run-{name}-{lang}", "run", str(CONFIGS / config), "--set", SCALE,
                   "--out", str(d), "--force", "--lang", lang, *extra)
            other = "de" if lang == "en" else "en"
            _dlsim(out, f"report-{name}-{lang}-as-{other}", "report", str(d), "--lang", other,
                   "--out", str(out / f"report-{name}-{lang}-as-{other}.html"))
    for reps in (3, 2):
        for lang in ("en", "de"):
            d = work / f"compare-r{reps}-{lang}"
            _dlsim(out, f"compare-r{reps}-{lang}", "compare",
                   str(CONFIGS / "lower-saxony-scenario-c.yaml"),
                   str(CONFIGS / "staggered-start.yaml"), "--set", SCALE, "--replications",
                   str(reps), "--out", str(d), "--force", "--lang", lang)
    for reps in (3, 1):
        spec = work / f"sweep-r{reps}.yaml"
        spec.parent.mkdir(parents=True, exist_ok=True)
        spec.write_text(SWEEP.format(base=CONFIGS / "lower-saxony-scenario-c.yaml", reps=reps),
                        encoding="utf-8")
        for lang in ("en", "de"):
            _dlsim(out, f"sweep-r{reps}-{lang}", "sweep", str(spec), "--out",
                   str(work / f"sweep-r{reps}-{lang}"), "--force", "--lang", lang)
    sys.path.insert(0, str(REPO))
    from tests.whatif_grid import write_grid

    grid = write_grid(work / "whatif-grid.yaml")
    _dlsim(out, "whatif-en", "whatif", "--grid", str(grid), "--out", str(work / "whatif"),
           "--force", "--lang", "en")
    _dlsim(out, "whatif-de", "whatif", "--from", str(work / "whatif"), "--out",
           str(work / "whatif-de"), "--lang", "de")
    for f in work.rglob("*.html"):
        rel = f.relative_to(work)
        (out / ("html-" + "-".join(rel.parts))).write_text(f.read_text(encoding="utf-8"),
                                                             encoding="utf-8")
    _briefings(out, work)
    _labels(out)


def _briefings(out: Path, work: Path) -> None:
    from sim.report import render_briefing
    from sim.report.data import load_run_dir

    for d in sorted(work.glob("run-*-en")):
        data = load_run_dir(d)
        for lang in ("en", "de"):
            (out / f"briefing-{d.name}-as-{lang}.html").write_text(
                render_briefing(data, lang=lang), encoding="utf-8")


def _labels(out: Path) -> None:
    """Every registry label in both languages (the words the reports take from the ids)."""
    from sim.config import load_scenario
    from sim.decide.whatif import labels as W
    from sim.report import figures as F
    from sim.report import labels as L
    from sim.report.i18n import Tr

    scenarios = [None, *(load_scenario(CONFIGS / c) for c, _ in RUNS.values())]
    paths = ["platforms[0].clusters[0].nodes", "platforms[1].clusters[0].nodes",
             "platforms[2].clusters[0].nodes", "platforms[iserv]", "platforms[0].frontend.workers",
             "platforms[0].clusters[0].node_max_participants", "faults[0].start",
             "faults[1].end", "faults[0].share", "faults[0].kind", "policies.scale_up[0].delay_min",
             "policies.scale_up[0].reserve_nodes", "policies.stagger.school_number_slots",
             "school_servers.tiers.outdated.workers", "behaviour.patience_s", "population.scale",
             "timetable.live_lesson_share", "something_unknown_s", "param:faults[0].label",
             "policies.scale_up", "faults", "behaviour.give_up_return_share"]
    values = [("faults[0].start", 28200), ("behaviour.patience_s", 600), ("faults[0].kind",
              "dispatcher_failure"), ("faults[0].platform", "iserv"), ("x.regions",
              ["hannover_stadt", "osnabrueck"]), ("faults[0].label", "a fault"),
              ("faults[0].share", 0.25), ("x.flag", True), ("x.delay_min", 7.5)]
    res: dict[str, object] = {}
    for lang in ("en", "de"):
        tr = Tr(lang)
        res[lang] = {
            "kpis": {k: L.kpi_label(k, tr) for k in [*L.KPIS, "odd_kpi_rate"]},
            "school_types": {k: L.school_type(k, tr) for k in [*L.SCHOOL_TYPES, "x_y"]},
            "regions": {k: L.region(k, tr) for k in L.REGIONS},
            "tiers": {k: L.tier(k, tr) for k in L.TIERS},
            "columns": {k: L.column(k, tr) for k in L.COLUMNS},
            "fault_kinds": {k: L.fault_kind(k, tr) for k in L.FAULT_KINDS},
            "causes": {k: L.cause(k, tr) for k in [*L.CAUSES, "login_service:iserv",
                                                    "login_service:bildungscloud", "odd_cause"]},
            "components": {k: L.component(k, tr) for k in [
                "frontend:iserv", "school_servers:outdated", "school_servers:current",
                "school_servers:hosted", "cluster:iserv-bbb", "total", "odd:comp"]},
            "platforms": {k: L.platform(k, tr) for k in [*L.PLATFORMS, "other_one"]},
            "paths": {f"{i}:{p}": L.config_path(p, tr, sc) for i, sc in enumerate(scenarios)
                      for p in paths},
            "values": {p: L.setting_value(p, v, tr) for p, v in values},
            "value_labels": {f"{c}={v}": L.value_label(c, v, tr) for c, v in [
                ("school_type", "igs"), ("region", "lueneburg"), ("server", "outdated"),
                ("platform", "iserv"), ("school", 12), ("uplink_mbit_s", 16.0),
                ("pupils", 1234)]},
            "ttj": F.ttj_names(tr),
            "whatif_ui": W.ui(tr),
            "whatif_failed": W.failed_series(tr),
        }
    (out / "labels.json").write_text(json.dumps(res, ensure_ascii=False, indent=1),
                                     encoding="utf-8")


# ----------------------------------------------------------------------------------- diff
_NORMALISE = [
    (re.compile(r"/tmp/[^\s\"'<>)]*"), "<path>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?(\+00:00|Z)?"), "<when>"),
    (re.compile(r"\b\d{1,2} \w{3} \d{4}, \d{2}:\d{2}:\d{2}"), "<when>"),  # 11 Jan 2021, 10:00:00
    (re.compile(r"\b\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}:\d{2}"), "<when>"),  # 11.01.2021, 10:00:00
    (re.compile(r"(Simulated in|Simuliert in) [\d.,]+\u202fs"), r"\1 <s>"),
    (re.compile(r"\b[\d.,]+[\u202f ]s (on|auf) (\w+)"), r"<s> \1 \2"),
    (re.compile(r"\(\d+\.\d MB\)"), "(<MB>)"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
]
_RUN_TIME = re.compile(r"((?:run time \(s\)|Rechenzeit \(s\))</t[hd]><td[^>]*>(?:<code>)?)[^<]*")
_JSON_TIMES = re.compile(r'("|&#34;)(wall_s|run_time_s|built|created|updated|when)\1: ?'
                         r'(?:"|&#34;)?[^,"&}]*(?:"|&#34;)?')


def normalise(text: str) -> str:
    for pat, rep in _NORMALISE:
        text = pat.sub(rep, text)
    text = _RUN_TIME.sub(r"\1<s>", text)
    return _JSON_TIMES.sub(r"\1\2\1: <t>", text)


def diff(old: Path, new: Path) -> int:
    import difflib

    names = sorted({p.name for p in old.iterdir() if p.is_file()}
                   | {p.name for p in new.iterdir() if p.is_file()})
    bad = 0
    for name in names:
        a, b = old / name, new / name
        if not a.exists() or not b.exists():
            print(f"only in {'new' if not a.exists() else 'old'}: {name}")
            bad += 1
            continue
        ta = normalise(a.read_text(encoding="utf-8"))
        tb = normalise(b.read_text(encoding="utf-8"))
        if ta != tb:
            bad += 1
            print(f"--- {name}")
            la, lb = ta.splitlines(), tb.splitlines()
            sm = difflib.SequenceMatcher(None, la, lb, autojunk=False)
            shown = 0
            for op, i1, i2, j1, j2 in sm.get_opcodes():
                if op == "equal" or shown >= 5:
                    continue
                shown += 1
                for x, y in zip(la[i1:i2] or [""], lb[j1:j2] or [""], strict=False):
                    k = next((i for i, (c, d) in enumerate(zip(x, y, strict=False)) if c != d),
                             min(len(x), len(y)))  # the first differing character
                    print(f"  line {i1 + 1}: -{x[max(0, k - 80):k + 120]!r}")
                    print(f"  line {j1 + 1}: +{y[max(0, k - 80):k + 120]!r}")
    print(f"{len(names)} files compared, {bad} differ")
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "render":
        render(Path(argv[1]))
        return 0
    if len(argv) == 3 and argv[0] == "diff":
        return diff(Path(argv[1]), Path(argv[2]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
