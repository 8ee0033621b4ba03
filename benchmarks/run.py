"""Benchmark runner (``make bench``): wall time, peak RSS and events/s per workload.

Each workload runs in a fresh child process so that peak RSS is its own. Results are printed
and written to ``benchmarks/results/<date>.json``. No timing assertions anywhere: the machine
is shared and noisy, compare ratios measured in one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import platform
import resource
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO / "configs" / "lower-saxony-scenario-c.yaml"


def _scenario_workload(config: str, overrides: list[str], q: Any) -> None:
    from sim import load_scenario
    from sim.model.simulation import build

    sc = load_scenario(config, overrides)
    t0 = time.perf_counter()
    model = build(sc, 1)
    t1 = time.perf_counter()
    res = model.run()
    t2 = time.perf_counter()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pupils = res.extra["pupils"]
    attempts = res.kpis["join_attempts"] + res.extra["login_attempts"]
    q.put({
        "attempts_per_s": attempts / (t2 - t1),
        "build_s": t1 - t0,
        "simulate_s": t2 - t1,
        "wall_s": t2 - t0,
        "peak_rss_mib": rss_mib,
        "pupils": pupils,
        "events": res.events,
        "join_attempts": res.kpis["join_attempts"],
        "login_attempts": res.extra["login_attempts"],
    })


def run_child(target: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    out = q.get()
    p.join()
    return out


NATIONAL = REPO / "configs" / "national-iserv-thursday.yaml"
WORKLOADS = {
    "default_day_0.01": (str(DEFAULT), ["population.scale=0.01"]),
    "default_day_0.1": (str(DEFAULT), ["population.scale=0.1"]),
    "default_day": (str(DEFAULT), []),
    "national_iserv_day": (str(NATIONAL), []),
}


def _loss_workload(n: int, q: Any) -> None:
    from benchmarks.loss_system import heapq_loop, model, simpy_resource

    out = {}
    for fn in (heapq_loop, simpy_resource, model):
        b, s = fn(n)
        out[fn.__name__] = {"blocking": b, "wall_s": s, "arrivals_per_s": n / s}
    q.put(out)


SWEEP = REPO / "configs" / "sweeps" / "nodes-x-stagger.yaml"


def _warm() -> None:
    import sim.model.simulation  # noqa: F401  (imports are the worker's start-up, not the sweep's work)


def _sweep_workload(runs: int, q: Any) -> None:
    """The first ``runs`` runs of the example sweep (Szenario C at 5 %, one replication per
    point: CPU-bound, ≈ 2–3 s each) on a LocalCluster of 1 and of 2 workers.

    Timed: ``executor.run`` over the tasks, from a cluster whose workers have imported the
    model (cluster start-up is reported apart: it is paid once per sweep, not per run). Each
    worker builds the population itself (cached per process), as in a real sweep."""
    from sim.experiments.executors import DaskExecutor
    from sim.experiments.sweep import load_sweep

    tasks = load_sweep(SWEEP, replications=1).tasks[:runs]
    out: dict[str, Any] = {"runs": len(tasks), "config": str(SWEEP.relative_to(REPO))}
    for workers in (1, 2):
        t0 = time.perf_counter()
        with DaskExecutor(workers=workers) as ex:
            ex.client.run(_warm)
            t1 = time.perf_counter()
            rows = list(ex.run(tasks))
            t2 = time.perf_counter()
        errors = [r["error"] for r in rows if r.get("error")]
        if errors or len(rows) != len(tasks):
            raise RuntimeError(f"sweep benchmark: {len(errors)} failed runs: {errors[:1]}")
        out[f"workers_{workers}"] = {"start_s": t1 - t0, "wall_s": t2 - t1,
                                     "runs_per_s": len(rows) / (t2 - t1)}
    out["speedup_2_vs_1"] = out["workers_1"]["wall_s"] / out["workers_2"]["wall_s"]
    q.put(out)


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _worker_workload(runs: int, scale: float, q: Any) -> None:
    """``runs`` replications (seeds 1…runs) of the default day at ``scale`` one after the other
    in one process, as a sweep's or a calibration's worker runs them (``run_task``: the
    scenario shipped as plain data and validated in the worker, population cached per
    process): CPU per run, runs per hour of one core, and the resident memory after each run
    (flat over the runs = no run leaves anything behind)."""
    from sim import load_scenario
    from sim.experiments.executors import run_task, task_for

    sc = load_scenario(str(DEFAULT), [f"population.scale={scale}"])
    rss: list[float] = []
    cpu: list[float] = []
    for seed in range(1, runs + 1):
        c0 = time.process_time()
        row = run_task(task_for(sc, seed))
        cpu.append(time.process_time() - c0)
        if row["error"]:
            raise RuntimeError(f"worker benchmark: run {seed} failed: {row['error']}")
        rss.append(_rss_mib())
    steady = sorted(cpu[1:])[len(cpu[1:]) // 2] if runs > 1 else cpu[0]
    q.put({"runs": runs, "scale": scale, "first_run_cpu_s": cpu[0],
           "median_run_cpu_s": steady, "runs_per_cpu_hour": 3600 / steady,
           "rss_mib_after_run": rss, "rss_mib_run_10": rss[min(9, runs - 1)],
           "rss_mib_last": rss[-1]})


def _fit_exponent(xs: list[float], ys: list[float]) -> float:
    import numpy as np

    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", nargs="*", help="workload names")
    ap.add_argument("--loss-arrivals", type=int, default=1_000_000)
    ap.add_argument("--sweep-runs", type=int, default=16)
    ap.add_argument("--worker-runs", type=int, default=100)
    ap.add_argument("--worker-scale", type=float, default=0.02)
    ap.add_argument("--base", help="a baseline checkout with its own .venv: whole-process "
                    "A/B pairs against it (benchmarks.ab)")
    ap.add_argument("--pairs", type=int, default=3, help="A/B pairs per workload (--base)")
    args = ap.parse_args()
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": mp.cpu_count()},
        "workloads": {},
    }
    for name, (cfg, over) in WORKLOADS.items():
        if args.only and name not in args.only:
            continue
        r = run_child(_scenario_workload, cfg, over)
        results["workloads"][name] = r
        print(f"{name:>18}: simulate {r['simulate_s']:6.1f} s, build {r['build_s']:4.1f} s, "
              f"peak RSS {r['peak_rss_mib']:6.0f} MiB, pupils {r['pupils']:,}, "
              f"join attempts {r['join_attempts']:,}, logins {r['login_attempts']:,}, "
              f"{r['attempts_per_s'] / 1e3:.0f} k attempts/s")
    w = results["workloads"]
    sizes = [k for k in ("default_day_0.01", "default_day_0.1", "default_day") if k in w]
    if len(sizes) >= 2:
        px = [w[k]["pupils"] for k in sizes]
        results["scaling"] = {
            "time_exponent": _fit_exponent(px, [w[k]["simulate_s"] for k in sizes]),
            "rss_exponent": _fit_exponent(px, [w[k]["peak_rss_mib"] for k in sizes]),
        }
        print(f"{'scaling':>18}: time ∝ pupils^{results['scaling']['time_exponent']:.2f}, "
              f"peak RSS ∝ pupils^{results['scaling']['rss_exponent']:.2f}")
    if not args.only or "loss_system" in args.only:
        loss = run_child(_loss_workload, args.loss_arrivals)
        results["loss_system"] = loss
        m = loss["model"]["arrivals_per_s"]
        print(f"{'loss_system':>18}: {args.loss_arrivals:,} arrivals; heapq "
              f"{loss['heapq_loop']['arrivals_per_s'] / 1e3:.0f} k/s, SimPy idiom "
              f"{loss['simpy_resource']['arrivals_per_s'] / 1e3:.0f} k/s")
        print(f"{'':>18}  model {m / 1e3:.0f} k arrivals/s = "
              f"{m / loss['simpy_resource']['arrivals_per_s']:.2f} × SimPy Resource idiom, "
              f"{m / loss['heapq_loop']['arrivals_per_s']:.2f} × bare heapq loop")
    if not args.only or "sweep" in args.only:
        sw = run_child(_sweep_workload, args.sweep_runs)
        results["sweep"] = sw
        w1, w2 = sw["workers_1"], sw["workers_2"]
        print(f"{'sweep':>18}: {sw['runs']} runs of {sw['config']}; 1 worker "
              f"{w1['wall_s']:.1f} s, 2 workers {w2['wall_s']:.1f} s = "
              f"{sw['speedup_2_vs_1']:.2f} × (cluster start {w1['start_s']:.1f} s / "
              f"{w2['start_s']:.1f} s, not included)")
    if not args.only or "worker" in args.only:
        wk = run_child(_worker_workload, args.worker_runs, args.worker_scale)
        results["worker"] = wk
        print(f"{'worker':>18}: {wk['runs']} runs at scale {wk['scale']} in one process: "
              f"first {wk['first_run_cpu_s']:.2f} s CPU, then {wk['median_run_cpu_s']:.2f} s "
              f"(≈ {wk['runs_per_cpu_hour']:.0f} runs per CPU hour); RSS after run 10 "
              f"{wk['rss_mib_run_10']:.0f} MiB, after run {wk['runs']} "
              f"{wk['rss_mib_last']:.0f} MiB")
    if args.base and (not args.only or "ab" in args.only):
        from benchmarks.ab import compare

        results["ab"] = compare(Path(args.base).resolve(), args.pairs)
    # a subset never overwrites the day's full run
    name = dt.date.today().isoformat() + ("-" + "-".join(args.only) if args.only else "")
    out = REPO / "benchmarks" / "results" / f"{name}.json"
    from sim.runs.io import write_text

    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, json.dumps(results, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
