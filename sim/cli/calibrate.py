"""``dlsim calibrate``: what the reported figures allow (ABC-SMC over the priors, pyABC)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import (
    ConfigArg,
    SchedulerOpt,
    _check_executor_options,
    _fail,
    _u,
    app,
    err,
    out,
)
from sim.config import MAX_SEED


@app.command()
def calibrate(
    config: ConfigArg,
    priors: Annotated[Path, typer.Option("--priors", help="Priors file (configs/priors/).",
                                         show_default=False)],
    targets: Annotated[Path, typer.Option("--targets", help="Targets file (data/targets/).",
                                          show_default=False)],
    out_dir: Annotated[Path, typer.Option("--out", help="Calibration directory: abc.db, "
                                          "posterior.parquet, calibration.json, "
                                          "calibration.html (resumed when it holds this "
                                          "calibration).", show_default=False)],
    budget_runs: Annotated[int, typer.Option(help="At most this many runs (a particle runs "
                                             "each day with a fitted target).",
                                             min=1, max=10_000_000)] = 1200,
    population: Annotated[int, typer.Option(help="Particles per generation.",
                                            min=2, max=100_000)] = 40,
    generations: Annotated[int, typer.Option(help="At most this many generations.",
                                             min=1, max=1000)] = 6,
    min_epsilon: Annotated[float, typer.Option(help="Stop when the acceptance threshold "
                                               "falls to this (in error-model widths).",
                                               min=0.0, max=1e6)] = 0.5,
    scale: Annotated[float, typer.Option(help="Population scale of every run.",
                                         min=0.001, max=1.0)] = 0.01,
    seed: Annotated[int, typer.Option(help="Root seed.", min=0, max=MAX_SEED)] = 1,
    predictive: Annotated[int, typer.Option(help="Fresh runs at posterior draws for the "
                                            "predictive checks.", min=2, max=100_000)] = 30,
    full_scale: Annotated[int, typer.Option(help="Also run this many posterior draws at "
                                            "scale 1 (0: none).", min=0, max=1000)] = 0,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, max=1024,
        help="Run on N local processes (started once for the whole calibration).")] = None,
    scheduler: SchedulerOpt = None,
) -> None:
    """Calibrate the priors' inputs to the targets.

    Fit the priors' inputs to the targets' fitted figures by ABC-SMC (pyABC) and check the
    held-out ones: DIR/posterior.parquet, DIR/calibration.json, DIR/calibration.html (and
    calibration.de.html). Killed and re-run with the same options, it continues from
    DIR/abc.db to the same posterior."""
    from sim.uncertainty.calibrate import Settings
    from sim.uncertainty.calibration_out import calibrate as run

    _check_executor_options(workers, scheduler)
    if out_dir.exists() and not out_dir.is_dir():
        raise _fail(f"--out {out_dir}: exists and is not a directory")
    settings = Settings(scale=scale, population_size=population, generations=generations,
                        budget_runs=budget_runs, min_epsilon=min_epsilon, seed=seed,
                        predictive_draws=predictive)
    from sim.report.i18n import Tr

    result = run(config, priors, targets, out_dir, settings, workers, scheduler, full_scale)
    tr = Tr(None)
    for r in result["inputs"]:
        if r["identified"]:
            p, q = r["posterior"], r["prior"]
            err.print("  " + tr("{path}: {lo} to {hi} (prior {plo} to {phi})", path=r["path"],
                                lo=tr.sig(p["lo"], 4), hi=tr.sig(p["hi"], 4),
                                plo=tr.sig(q["lo"], 4), phi=tr.sig(q["hi"], 4)),
                      markup=False)
    held = [t for t in result["targets"] if t["held_out"]]
    out.print(_u(tr("{g} generations, {r} runs; {i} of {n} inputs identified; {c} of {h} "
                    "held-out figures covered. Written: {path}", g=result["generations"],
                    r=tr.count(result["day_runs"]),
                    i=sum(r["identified"] for r in result["inputs"]), n=len(result["inputs"]),
                    c=sum(t["covered"] for t in held), h=len(held),
                    path=out_dir / "calibration.html")), soft_wrap=True)
