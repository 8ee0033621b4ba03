"""``dlsim explain``: which causes lost the pupil-minutes, and what removing each recovers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sim.cli.common import (
    ConfigArg,
    ReplicationsOpt,
    SchedulerOpt,
    SetOpt,
    WorkersOpt,
    _check_executor_options,
    _executor,
    _load,
    _u,
    app,
    err,
    out,
)
from sim.config import MAX_SEED


@app.command()
def explain(
    config: ConfigArg,
    seed: Annotated[int, typer.Option(help="Root seed.", min=0, max=MAX_SEED)] = 1,
    replications: ReplicationsOpt = 3,
    set_: SetOpt = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write DIR/attribution.json.")
    ] = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
) -> None:
    """Lost pupil-minutes by cause (direct accounting) and the minutes recovered by removing
    each cause, ± 95 % CI (paired replications on common random numbers)."""
    from sim.experiments.attribution import explain as run_explain
    from sim.experiments.attribution import write_attribution

    _check_executor_options(workers, scheduler)
    sc = _load(config, list(set_ or []))

    def progress(what: str, done: int, total: int) -> None:
        if done == total:
            err.print(f"  {what}: {total} replications done", markup=False)

    with _executor(workers, scheduler) as ex:
        res = run_explain(sc, replications=replications, seed=seed, executor=ex,
                          progress=progress)
    total = res["lost_pupil_minutes"]
    t = Table(title=f"{_u(sc.name)}: {total:,.0f} lost pupil-minutes "
                    f"(mean of {replications} replications, seed {seed})")
    for col in ("cause", "direct", "share", "recovered if removed", "95 % interval"):
        t.add_column(col, justify="left" if col == "cause" else "right",
                     overflow="fold", min_width=22 if col == "cause" else None)
    for name, c in res["causes"].items():
        rec = c["recovered_mean"]
        t.add_row(
            _u(name), f"{c['direct']:,.0f}", f"{c['direct_share']:.1%}",
            "– (no removal)" if rec is None else f"{rec:,.0f}",
            "–" if rec is None else f"{c['recovered_lo']:,.0f} to {c['recovered_hi']:,.0f}",
        )
    out.print(t)
    rsum = res["recovered_sum"]
    if rsum > 1.05 * total:
        how = ("more than was lost: the causes overlap (removing one also removes much of "
               "another's minutes), so their recoveries do not add up")
    elif rsum < 0.95 * total:
        how = ("less than was lost: part of the loss needs more than one cause removed, or "
               "comes from causes without a removal")
    else:
        how = "close to what was lost: the causes act nearly independently"
    out.print(f"Recovered, summed over the causes removed one at a time: {rsum:,.0f} against "
              f"{total:,.0f} lost — {how}.")
    deg = res["degraded"]
    if deg["direct"] > 0:
        rec = deg["recovered_mean"]
        out.print(f"Degraded, not lost ({deg['cause']}): {deg['direct']:,.0f} pupil-minutes on "
                  "overloaded nodes"
                  + ("" if rec is None else f"; {rec:,.0f} recovered with ten times each "
                     f"node's CPU and bandwidth ({deg['recovered_lo']:,.0f} to "
                     f"{deg['recovered_hi']:,.0f})") + ".")
    if out_dir is not None:
        path = write_attribution(out_dir, res)
        out.print(f"written: {_u(path)}")
