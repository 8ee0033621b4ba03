"""Where one run's time goes: cProfile of one replication plus its event counts.

``python -m benchmarks.profile [--config FILE] [--scale S] [--seed N] [--top K] [--out F]``

Prints CPU seconds of imports, build and run (process time, so that the other sessions' load
counts less than in wall time), the events of the run (stream entries handled + SimPy
events), join and login attempts, and the ``K`` functions with the most own time (cProfile
adds ≈ 1.5–2× overhead spread over Python calls: read the shares, not the seconds). ``--out``
keeps the ``pstats`` file. A measurement tool, not a test; it asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO / "configs" / "lower-saxony-scenario-c.yaml"


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", default=str(DEFAULT))
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--out", help="write the pstats file here")
    args = ap.parse_args()
    c0 = _cpu()
    from sim import load_scenario
    from sim.model.simulation import build

    c1 = _cpu()
    sc = load_scenario(args.config, [f"population.scale={args.scale}"])
    prof = cProfile.Profile()
    prof.enable()
    model = build(sc, args.seed)
    c2 = _cpu()
    res = model.run()
    c3 = _cpu()
    prof.disable()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    joins = int(res.kpis["join_attempts"])
    logins = int(res.extra["login_attempts"])
    print(f"{Path(args.config).name} scale {args.scale} seed {args.seed}: CPU s (profiled) "
          f"imports {c1 - c0:.2f}, build {c2 - c1:.2f}, run {c3 - c2:.2f}; peak RSS {rss:.0f} MiB")
    print(f"events {res.events:,} (stream entries + SimPy events), join attempts {joins:,}, "
          f"login attempts {logins:,}, "
          f"events per attempt {res.events / max(1, joins + logins):.2f}")
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    total = sum(v[2] for v in st.stats.values())  # type: ignore[attr-defined]
    rows = sorted(st.stats.items(), key=lambda kv: -kv[1][2])  # type: ignore[attr-defined]
    print(f"{'own %':>6} {'calls':>10}  function")
    for (fname, line, func), (_, ncalls, tt, _, _) in rows[: args.top]:
        where = Path(fname).name if fname != "~" else ""
        print(f"{100 * tt / total:6.1f} {ncalls:10,}  {where}:{line}({func})")
    if args.out:
        prof.dump_stats(args.out)


if __name__ == "__main__":
    main()
