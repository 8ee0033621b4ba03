"""The bias of a faithful miniature: KPIs at population scale s against scale 1.

``python -m benchmarks.scale_bias OUT.json [--reps R] [--full-reps R1] [--scales 0.05 0.1 0.25]
[--cases default Monday]`` (``--cases``: only the cases whose name contains one of these words;
``--markdown OUT.json [MORE.json ...]`` prints the tables of one or more result files)

Runs the default day and the Monday replay at each scale (capacities scaled with demand by
``sim.model.scale``) and at scale 1, R replications each (seeds
``sim.model.seeds.replication_seeds``),
and writes per KPI the mean and 95 % CI half-width (t-based, ``sim.runs.stats.mean_interval``) and
whether the interval at scale s overlaps the one at scale 1. Counts (attempts, joins, gave up,
lost pupil-minutes, peak participants) are divided by the realised demand factor (pupils
simulated / pupils of the whole state) so that they are in whole-state units. docs/scale.md
is written from its output (``--markdown``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"
CASES = {
    "default day": "lower-saxony-scenario-c.yaml",
    "Monday 11 Jan": "2021-01-11-monday-dispatcher-failure.yaml",
}
COUNTS = ("join_attempts", "joins_succeeded", "gave_up", "lost_pupil_minutes",
          "peak_concurrent_participants")
KPIS = ("join_success_rate", "blocking_probability", "p50_time_to_join_s",
        "p95_time_to_join_s", "p95_time_to_join_retried_s", "lost_pupil_minutes",
        "gave_up", "peak_concurrent_participants", "peak_node_utilisation",
        "affected_schools_share")


def _demand_factor(sc: Any) -> float:
    """Pupils simulated over the whole state's (external block included)."""
    from sim.model.population import load_marginals
    from sim.model.scale import faithful
    from sim.model.simulation import population_for

    types, _ = load_marginals(sc)
    ext = sc.population.external
    full = float(types["pupils"].sum()) * (1.0 + (ext.scale if ext is not None else 0.0))
    return population_for(faithful(sc)).n_pupils / full


def measure(scales: list[float], reps: int, full_reps: int,
            cases: list[str] | None = None) -> dict[str, Any]:
    import numpy as np

    from sim import load_scenario
    from sim.model.scale import scaled
    from sim.model.seeds import replication_seeds
    from sim.model.simulation import simulate_once
    from sim.runs.stats import mean_interval

    out: dict[str, Any] = {"reps": reps, "full_reps": full_reps, "cases": {}}
    for case, config in CASES.items():
        if cases and not any(w.lower() in case.lower() for w in cases):
            continue
        base = load_scenario(CONFIGS / config)
        per_scale: dict[str, Any] = {}
        for s in [*scales, 1.0]:
            sc = base if s == 1.0 else scaled(base, s)
            f = _demand_factor(sc)
            r = full_reps if s == 1.0 else reps
            vals: dict[str, list[float]] = {k: [] for k in KPIS}
            t0 = time.perf_counter()
            for seed in replication_seeds(1, r):
                res = simulate_once(sc, seed)
                for k in KPIS:
                    v = float(res.kpis[k])
                    vals[k].append(v / f if k in COUNTS else v)
            secs = time.perf_counter() - t0
            stats = {}
            for k, v in vals.items():
                a = np.array(v)
                half = mean_interval(a).half_width if a.size > 1 else float("inf")
                stats[k] = {"mean": float(a.mean()), "ci95": half, "values": v}
            per_scale[f"{s:g}"] = {"demand_factor": f, "replications": r, "seconds": secs,
                                   "kpis": stats}
            print(f"{case} scale {s:g}: {r} runs in {secs:.0f} s", file=sys.stderr, flush=True)
        full = per_scale["1"]["kpis"]
        for key, block in per_scale.items():
            if key == "1":
                continue
            for k, st in block["kpis"].items():
                lo, hi = st["mean"] - st["ci95"], st["mean"] + st["ci95"]
                flo, fhi = full[k]["mean"] - full[k]["ci95"], full[k]["mean"] + full[k]["ci95"]
                st["agrees"] = bool(lo <= fhi and flo <= hi)
        out["cases"][case] = per_scale
    return out


def _fmt(k: str, m: float, h: float) -> str:
    if k in ("join_success_rate", "blocking_probability", "peak_node_utilisation",
             "affected_schools_share"):
        return f"{m:.2%} ± {h:.2%}".replace("%", " %")
    if k.endswith("_s"):
        return f"{m:,.1f} ± {h:,.1f} s"
    return f"{m:,.0f} ± {h:,.0f}"


def markdown(data: dict[str, Any]) -> str:
    lines = []
    for case, per_scale in data["cases"].items():
        keys = list(per_scale)
        lines += [f"### {case}", "",
                  "| KPI | " + " | ".join(f"scale {k}" for k in keys) + " |",
                  "|---|" + "---|" * len(keys)]
        for k in KPIS:
            cells = []
            for key in keys:
                st = per_scale[key]["kpis"][k]
                mark = "" if key == "1" else (" ✓" if st["agrees"] else " **✗**")
                cells.append(_fmt(k, st["mean"], st["ci95"]) + mark)
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
        lines.append("| replications (run time) | " + " | ".join(
            f"{per_scale[k]['replications']} ({per_scale[k]['seconds']:.0f} s)"
            for k in keys) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--full-reps", type=int, default=2)
    ap.add_argument("--scales", type=float, nargs="+", default=[0.05, 0.1, 0.25])
    ap.add_argument("--cases", nargs="+", default=None,
                    help="only the cases whose name contains one of these words")
    ap.add_argument("--markdown", nargs="*", type=Path, default=None,
                    help="print the tables from OUT.json (and these further result files)")
    a = ap.parse_args(argv)
    if a.markdown is not None:
        for path in [a.out, *a.markdown]:
            print(markdown(json.loads(path.read_text())))
        return
    data = measure(a.scales, a.reps, a.full_reps, a.cases)
    a.out.write_text(json.dumps(data, indent=1))
    print(markdown(data))


if __name__ == "__main__":
    main()
