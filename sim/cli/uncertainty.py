"""``dlsim sensitivity``: which uncertain inputs move which statistics
(sim.uncertainty.sensitivity)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sim.cli.common import (
    ConfigArg,
    LangOpt,
    SchedulerOpt,
    SetOpt,
    WorkersOpt,
    _check_lang,
    _executor,
    _fail,
    _load,
    _note,
    _u,
    app,
    out,
)
from sim.config import MAX_SEED


@app.command()
def sensitivity(
    config: ConfigArg,
    priors: Annotated[Path, typer.Option("--priors", help="Priors file (YAML).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory (resumable).")],
    method: Annotated[str, typer.Option(help="morris (screening: μ*, σ) or sobol (first and "
                                             "total order).")] = "morris",
    runs: Annotated[int, typer.Option(
        help="Budget of simulation runs: Morris uses runs ÷ (inputs + 1) trajectories, Sobol "
             "the largest power-of-two base sample that fits.", min=4, max=100_000)] = 160,
    scale: Annotated[float | None, typer.Option(
        help="population.scale of the runs (default: as given).", min=1e-4, max=1.0)] = None,
    seed: Annotated[int, typer.Option(help="Seed of the design and of every run.", min=0,
                                      max=MAX_SEED)] = 1,
    targets: Annotated[Path | None, typer.Option(
        "--targets", help="Calibration targets file: analyse the statistics its targets use "
                          "(default: every statistic).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Discard another design's runs in --out instead of refusing.")] = False,
    set_: SetOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    lang: LangOpt = None,
) -> None:
    """Which uncertain inputs move which statistics.

    Which uncertain inputs (--priors) move which statistics of CONFIG, with SALib.

    Writes OUT/results.parquet (a row per run), OUT/indices.parquet (a row per statistic and
    input), OUT/sensitivity.json and OUT/report.html. Runs are stored as they finish: an
    interrupted analysis resumes (docs/calibration.md).
    """
    from sim.experiments.sweep import SweepStore
    from sim.report.i18n import Tr
    from sim.uncertainty.priors import load_priors
    from sim.uncertainty.sensitivity import (
        METHODS,
        SOBOL_MIN_BASE,
        build,
        make_design,
        run_sensitivity,
    )
    from sim.uncertainty.sensitivity_page import skipped_words, write_report
    from sim.uncertainty.targets import load_targets

    if method not in METHODS:
        raise _fail(f"--method {method}: expected one of {', '.join(METHODS)}")
    lang = _check_lang(lang)
    sets = [*(set_ or []), *([f"population.scale={scale}"] if scale is not None else [])]
    sc = _load(config, sets)
    pr = load_priors(priors, sc)
    outputs = None
    if targets is not None:
        tg = load_targets(targets)
        outputs = list(dict.fromkeys(t.statistic for t in tg.targets))
    design = make_design(pr, method, runs, seed)
    if method == "sobol" and design.size < SOBOL_MIN_BASE:
        _note(f"warning: a Sobol base sample of {design.size} (--runs {runs}) gives indices "
              f"with wide intervals; {SOBOL_MIN_BASE * (len(pr.paths) + 2)} runs give a base of "
              f"{SOBOL_MIN_BASE}")
    SweepStore(out_dir).check(build(sc, pr, design, seed), force=force)
    with _executor(workers, scheduler) as ex:
        _note(f"sensitivity ({method}): {len(pr.paths)} inputs, {design.runs} runs at scale "
              f"{sc.population.scale:g} on {ex.name} → {out_dir}")
        try:
            res = run_sensitivity(sc, pr, out_dir, method=method, runs=runs, seed=seed,
                                  outputs=outputs, executor=ex, force=force,
                                  progress=_progress(design.runs))
        except KeyboardInterrupt:
            stored = len(list((out_dir / "parts").glob("*.parquet")))
            _note(f"interrupted: {stored} of {design.runs} runs are stored in {out_dir}/parts; "
                  "run the same command again to resume")
            raise SystemExit(130) from None
    write_report(res, out_dir / "report.html", lang)
    tr = Tr(lang or sc.report.lang)
    for o in res.outputs:
        top = res.ranking(o)[:3]
        if o in res.skipped:
            out.print(_u(tr("{stat}: {why}", stat=tr(_describe(o)),
                            why=skipped_words(res.skipped[o], tr))), soft_wrap=True)
        elif top:
            out.print(_u(tr("{stat}: moved most by {inputs}", stat=tr(_describe(o)),
                            inputs="; ".join(res.priors.input(p).label or p for p, _ in top))),
                      soft_wrap=True)
    out.print(_u(tr("{n} runs ({c} computed, {r} resumed, {e} failed); {dir}",
                    n=res.design.runs, c=res.computed, r=res.resumed, e=res.errors,
                    dir=str(out_dir / "report.html"))), soft_wrap=True)


def _progress(total: int) -> Any:
    """A line on stderr per 10 % of the runs."""
    state = {"reported": -1}

    def note(done: int, _total: int, row: dict[str, Any] | None) -> None:
        if done * 10 // max(1, total) > state["reported"]:
            state["reported"] = done * 10 // max(1, total)
            _note(f"sensitivity: {done}/{total} runs")

    return note


def _describe(name: str) -> str:
    from sim.uncertainty.targets import STATISTICS

    return STATISTICS[name].description
