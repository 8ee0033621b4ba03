"""A/B pairs of whole processes: this checkout against a baseline checkout, in turn.

``python -m benchmarks.ab --base DIR [--pairs N] [--only NAME ...]``

``DIR`` is another checkout of the project with its own virtual environment (``DIR/.venv``,
made by ``make .venv/.installed-run`` there), e.g. the commit the issue measures against::

    git worktree add ../dlsim-base 5441f21 && make -C ../dlsim-base .venv/.installed-run
    make bench BENCH_BASE=../dlsim-base

Each workload is ``dlsim run CONFIG --no-report --out <fresh dir>`` — a whole process: imports,
set-up, the run, writing the outputs — run by the baseline's and by this checkout's
``dlsim``, B then A, ``N`` times. Each child's own CPU time and peak RSS come from the
operating system (``os.wait4``), its wall time from the parent. Reported: the median of the
pair-by-pair ratios base : this (CPU and wall; > 1 = this checkout is faster), with min–max,
and Monday : default day on each side. Wall ratios on a loaded machine are noisy; CPU ratios
are the stable part (PERFORMANCE-NOTES.md). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT = "configs/lower-saxony-scenario-c.yaml"
MONDAY = "configs/2021-01-11-monday-dispatcher-failure.yaml"
WORKLOADS: dict[str, tuple[str, list[str]]] = {
    "default_day": (DEFAULT, []),
    "default_day_0.1": (DEFAULT, ["population.scale=0.1"]),
    "monday": (MONDAY, []),
    "monday_0.1": (MONDAY, ["population.scale=0.1"]),
}
# Monday : default day, per side, from these workloads
RATIOS = {"monday/default": ("monday", "default_day"),
          "monday/default at 0.1": ("monday_0.1", "default_day_0.1")}


def run_once(checkout: Path, config: str, sets: list[str]) -> dict[str, float]:
    """One whole ``dlsim run`` of ``checkout``: CPU s (user + sys), wall s, peak RSS MiB."""
    with tempfile.TemporaryDirectory(prefix="dlsim-ab-") as tmp:
        cmd = [str(checkout / ".venv" / "bin" / "dlsim"), "run", str(checkout / config),
               "--no-report", "--out", str(Path(tmp) / "out")]
        for s in sets:
            cmd += ["--set", s]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=checkout, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {err[-500:]}")
    return {"cpu_s": ru.ru_utime + ru.ru_stime, "wall_s": wall, "peak_rss_mib": ru.ru_maxrss / 1024}


def _spread(xs: list[float]) -> dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def compare(base: Path, pairs: int, only: list[str] | None = None) -> dict[str, Any]:
    """Alternating pairs (base, this) of each workload; the ratios base : this."""
    if not (base / ".venv" / "bin" / "dlsim").exists():
        raise SystemExit(f"{base}: no .venv/bin/dlsim — run `make .venv/.installed-run` there")
    out: dict[str, Any] = {"base": str(base), "pairs": pairs, "load_before": os.getloadavg(),
                           "workloads": {}}
    for name, (config, sets) in WORKLOADS.items():
        if only and name not in only:
            continue
        runs: dict[str, list[dict[str, float]]] = {"base": [], "this": []}
        for _ in range(pairs):
            runs["base"].append(run_once(base, config, sets))
            runs["this"].append(run_once(REPO, config, sets))
        w: dict[str, Any] = {"runs": runs}
        for fig in ("cpu_s", "wall_s", "peak_rss_mib"):
            w[fig] = {side: _spread([r[fig] for r in runs[side]]) for side in runs}
            w[f"{fig}_ratio_base_this"] = _spread(
                [b[fig] / a[fig] for b, a in zip(runs["base"], runs["this"], strict=True)])
        out["workloads"][name] = w
        c, wl = w["cpu_s_ratio_base_this"], w["wall_s_ratio_base_this"]
        print(f"{name:>18}: base : this  CPU {c['median']:.2f}× ({c['min']:.2f}–{c['max']:.2f}),"
              f" wall {wl['median']:.2f}× ({wl['min']:.2f}–{wl['max']:.2f}); CPU s base "
              f"{w['cpu_s']['base']['median']:.1f}, this {w['cpu_s']['this']['median']:.1f}; "
              f"peak RSS {w['peak_rss_mib']['this']['median']:.0f} MiB", flush=True)
    ws = out["workloads"]
    for label, (a, b) in RATIOS.items():
        if a in ws and b in ws:
            r = {side: ws[a]["cpu_s"][side]["median"] / ws[b]["cpu_s"][side]["median"]
                 for side in ("base", "this")}
            out[label] = r
            print(f"{label:>18}: CPU base {r['base']:.2f}, this {r['this']:.2f}")
    out["load_after"] = os.getloadavg()
    print(f"{'load average':>18}: {out['load_before'][0]:.1f} before, "
          f"{out['load_after'][0]:.1f} after")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base", required=True, type=Path)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    compare(args.base.resolve(), args.pairs, args.only)


if __name__ == "__main__":
    main()
