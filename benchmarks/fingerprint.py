"""Fingerprints of fixed-seed runs: a digest of every output, to show that a restructuring
changed nothing (``python -m benchmarks.fingerprint OUT.txt [--quick]``).

Each case runs through the public API (``sim.simulate_once``); its KPIs, ``extra``, time
series and schools table are hashed from their exact values (floats by their bit pattern,
frames sorted by their key columns). Two checkouts that write the same file give
bit-identical results on every case. ``RunResult.events`` is reported beside the digest,
not in it: what it counts is allowed to change.

The stored baseline is ``benchmarks/fingerprint-baseline.txt`` (the commit it was taken from
is in ``benchmarks/README.md``); ``--check FILE`` compares this checkout's digests with it,
case by case (cases missing from either side are listed, not failed), and exits 1 on any
difference. Re-take it (``python -m benchmarks.fingerprint benchmarks/fingerprint-baseline.txt``)
whenever the model's results change on purpose.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"


def _scaled(config: str, scale: float, extra: list[str] | None = None) -> Any:
    """``config`` as a faithful miniature at ``scale`` (``sim.model.scale``: its central capacities
    are built at ``scale`` when it runs, so a small run stresses the infrastructure as the
    full one does). Since the faithful-scale change (issue 17) the digests of these cases
    differ from earlier checkouts: workers round half up instead of up, and reserve nodes,
    scale-up steps and the external block now scale too."""
    from sim import load_scenario
    from sim.model.scale import scaled

    base = load_scenario(CONFIGS / config, extra or [])
    return base if scale == 1.0 else scaled(base, scale)


_POLICY_CASES = {
    "camera": ["policies.camera.cameras_off_above=8"],
    "first_pupil": ["policies.first_pupil_opens_room=true"],
    "join_limit": ["policies.join_rate_limit.per_node_per_s=2",
                   "policies.join_rate_limit.per_meeting_per_min=30"],
    "returns": ["behaviour.give_up_return_share=0.5"],
    "node_loss": ['faults=[{kind: node_loss, cluster: iserv-bbb, share: 0.3, start: "08:10", '
                  'end: "09:00", repair_stages: 3, repair_interval_min: 10}]'],
    "degrade_fe": ['faults=[{kind: node_degradation, cluster: iserv-bbb, share: 0.5, '
                   'capacity_factor: 0.5, start: "08:00", end: "09:00"}, '
                   '{kind: frontend_outage, platform: iserv, start: "08:05", end: "08:20"}]'],
}


def _cases(quick: bool) -> list[tuple[str, Callable[[], Any], int]]:
    from sim.experiments.verification import loss_scenario, queue_scenario

    cases: list[tuple[str, Callable[[], Any], int]] = []
    if not quick:
        cases.append(("default_full", lambda: _scaled("lower-saxony-scenario-c.yaml", 1.0), 1))
    cases += [
        ("default_0.1", lambda: _scaled("lower-saxony-scenario-c.yaml", 0.1), 2),
        ("monday_0.1", lambda: _scaled("2021-01-11-monday-dispatcher-failure.yaml", 0.1), 1),
        ("tuesday_0.1", lambda: _scaled("2021-01-12-tuesday-triple-load.yaml", 0.1), 1),
        ("wednesday_0.1", lambda: _scaled("2021-01-13-wednesday-stable.yaml", 0.1), 1),
        ("national_0.05", lambda: _scaled("national-iserv-thursday.yaml", 0.05), 1),
        ("staggered_0.1", lambda: _scaled("staggered-start.yaml", 0.1), 1),
        ("hannover_0.1", lambda: _scaled("hannover-city-platform.yaml", 0.1), 1),
        # the default day at small scale without capacity scaling (the as-configured sizes)
        ("default_0.05_unscaled", lambda: _load_plain(0.05), 3),
    ]
    # every policy and fault path the replays may not reach, at scale 0.05
    default = "lower-saxony-scenario-c.yaml"
    for name, ov in _POLICY_CASES.items():
        cases.append((f"{name}_0.05", lambda ov=ov: _scaled(default, 0.05, ov), 7))
    for seed in (1, 2, 3):
        cases += [
            (f"loss_A5_c10_s{seed}", lambda: loss_scenario(5.0, 10, arrivals=5_000), seed),
            (f"loss_A55_c50_s{seed}", lambda: loss_scenario(55.0, 50, arrivals=5_000), seed),
            (f"loss_bench_s{seed}", lambda: loss_scenario(100.0, 110, holding_s=1.0,
                                                        arrivals=5_000, warmup_holdings=0.0),
             seed),
            (f"erlangc_A8_c10_s{seed}",
             lambda: queue_scenario(8.0, 10, arrivals=5_000, warmup_s=60.0), seed),
            (f"erlangc_A5_c10_s{seed}",
             lambda: queue_scenario(5.0, 10, arrivals=5_000, warmup_s=60.0), seed),
        ]
    return cases


def _load_plain(scale: float) -> Any:
    """The default day at ``scale`` on the whole state's fleet (``capacities: as_given``):
    the same run this case always was."""
    from sim import load_scenario

    return load_scenario(CONFIGS / "lower-saxony-scenario-c.yaml",
                         [f"population.scale={scale}", "population.capacities=as_given"])


def _canon(x: Any) -> Any:
    """JSON-able with floats as their exact hex (NaN and inf included)."""
    if isinstance(x, dict):
        return {str(k): _canon(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
    if isinstance(x, list | tuple):
        return [_canon(v) for v in x]
    if isinstance(x, float):
        return float.hex(x)
    if hasattr(x, "item"):  # numpy scalar
        return _canon(x.item())
    return x


def _frame_digest(df: pd.DataFrame) -> str:
    keys = [c for c in df.columns if df[c].dtype == object or str(df[c].dtype) == "category"]
    d = df.sort_values(keys + [c for c in df.columns if c not in keys], kind="stable")
    d = d.reset_index(drop=True)
    h = hashlib.sha256()
    h.update(repr(list(d.columns)).encode())
    h.update(repr([str(t) for t in d.dtypes]).encode())
    h.update(pd.util.hash_pandas_object(d, index=False).values.tobytes())
    return h.hexdigest()[:16]


def fingerprint(res: Any) -> dict[str, str]:
    def js(x: Any) -> str:
        return hashlib.sha256(json.dumps(_canon(x), sort_keys=True).encode()).hexdigest()[:16]

    return {
        "kpis": js(res.kpis),
        "extra": js(res.extra),
        "conservation": js(res.meta.get("conservation", {})),
        "timeseries": _frame_digest(res.timeseries),
        "schools": _frame_digest(res.schools),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--quick", action="store_true", help="skip the full-scale default day")
    ap.add_argument("--only", default="", help="run only cases whose name contains this")
    ap.add_argument("--check", type=Path, default=None,
                    help="compare with this stored baseline; exit 1 on any difference")
    args = ap.parse_args(argv)
    from sim import simulate_once

    lines = []
    for name, make, seed in _cases(args.quick):
        if args.only and args.only not in name:
            continue
        t0 = time.perf_counter()
        res = simulate_once(make(), seed)
        fp = fingerprint(res)
        dt = time.perf_counter() - t0
        line = f"{name} seed={seed} " + " ".join(f"{k}={v}" for k, v in fp.items())
        lines.append(line)
        print(f"{line}  (events={res.events}, {dt:.1f} s)", file=sys.stderr, flush=True)
    args.out.write_text("\n".join(lines) + "\n")
    if args.check is not None:
        sys.exit(check(lines, args.check.read_text().splitlines()))


def check(lines: list[str], baseline: list[str]) -> int:
    """Print the cases whose digests differ from ``baseline``'s; 1 if any differ, else 0."""
    def by_case(ls: list[str]) -> dict[str, str]:
        return {ln.split(" ", 1)[0]: ln for ln in ls if ln.strip()}

    now, then = by_case(lines), by_case(baseline)
    differ = [c for c in now if c in then and now[c] != then[c]]
    for c in differ:
        print(f"DIFFERS {c}\n  baseline {then[c]}\n  now      {now[c]}", file=sys.stderr)
    only = sorted(set(now) ^ set(then))
    if only:
        print(f"not compared (in one side only): {len(only)} cases", file=sys.stderr)
    same = sum(1 for c in now if c in then) - len(differ)
    print(f"fingerprint check: {same} identical, {len(differ)} differ", file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    main()
