"""``dlsim optimise``: the cheapest combination of levers meeting every target
(sim.decide.optimise)."""

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
    _decided,
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
def optimise(
    config: ConfigArg,
    levers: Annotated[Path, typer.Option("--levers", help="Levers file (YAML).")],
    target: Annotated[
        list[str],
        typer.Option("--target", help="KPI>=value or KPI<=value (repeatable; all must hold)."),
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory (resumable).")],
    budget_runs: Annotated[int | None, typer.Option(
        help="Most simulation runs (screening + confirmation); a space too large for it is "
             "searched with Optuna.", min=1)] = None,
    search: Annotated[str, typer.Option(
        help="auto (exhaustive when it fits --budget-runs, else Optuna), exhaustive or "
             "optuna.")] = "auto",
    batch: Annotated[int, typer.Option(
        help="Combinations the Optuna search runs at a time (in parallel).", min=1,
        max=1000)] = 8,
    replications: Annotated[int, typer.Option(help="Replications per combination when "
                                              "screening.", min=2, max=1000)] = 3,
    confirm_replications: Annotated[int, typer.Option(help="Replications per confirmed "
                                                      "candidate.", min=2, max=1000)] = 8,
    confirm_max_replications: Annotated[int | None, typer.Option(
        help="Sequential looks: an undecided candidate's confirmation replications are "
             "doubled up to this many (Bonferroni over the looks too; default: one look).",
        min=2, max=1000)] = None,
    max_confirm: Annotated[int, typer.Option(help="Most candidates confirmed (Bonferroni K).",
                                             min=1, max=100)] = 5,
    screen_scale: Annotated[float | None, typer.Option(
        help="population.scale while screening (default: as given).", min=1e-4, max=1.0)] = None,
    confirm_scale: Annotated[float, typer.Option(
        help="population.scale of the confirmation (1: full scale).", min=1e-4, max=1.0)] = 1.0,
    seed: Annotated[int, typer.Option(help="Root seed.", min=0, max=MAX_SEED)] = 1,
    set_: SetOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    lang: LangOpt = None,
) -> None:
    """Cheapest mix of levers meeting every target.

    The cheapest combination of --levers meeting every --target at 95 % confidence.

    Screens every combination on common random numbers (or, for a space too large for
    --budget-runs, the combinations a constrained Optuna search picks), then confirms
    candidates in cost order with Bonferroni-corrected one-sided bounds (docs/optimise.md).
    Writes OUT/optimum.json and OUT/report.html. No combination meeting the targets is an
    answer (exit 0), not an error.
    """
    from sim.decide.levers import load_levers
    from sim.decide.optimise import optimise as run
    from sim.decide.search import SEARCHES
    from sim.experiments.targets import Target
    from sim.report.i18n import Tr

    if search not in SEARCHES:
        raise _fail(f"--search {search}: expected one of {', '.join(SEARCHES)}")
    if confirm_max_replications is not None and confirm_max_replications < confirm_replications:
        raise _fail(f"--confirm-max-replications {confirm_max_replications}: below "
                    f"--confirm-replications ({confirm_replications})")
    lang = _check_lang(lang)
    tgs = [Target.parse(t) for t in target]
    sc = _load(config, set_ or [])
    lv = load_levers(levers, sc)
    with _executor(workers, scheduler) as ex:
        res = run(sc, lv, tgs, replications=replications,
                  confirm_replications=confirm_replications,
                  confirm_max_replications=confirm_max_replications, seed=seed,
                  screen_scale=screen_scale, confirm_scale=confirm_scale,
                  max_confirm=max_confirm, budget_runs=budget_runs, executor=ex,
                  out_dir=out_dir, progress=_note, search=search, batch=batch, lang=lang)
    tr = Tr(lang or sc.report.lang)
    with _decided():  # optimum.json is written: Ctrl-C no longer undoes it
        _print_answer(res, tr, out_dir)


def _print_answer(res: Any, tr: Any, out_dir: Path) -> None:
    """The answer's sentence and how it was searched."""
    from sim.decide.optimum_page import sentence

    out.print(f"[bold]{_u(sentence(res, tr))}[/bold]", soft_wrap=True)
    searched = (tr("every combination") if res.search == "exhaustive" else
                tr("{k} of {n} combinations (Optuna)", k=len(res.candidates),
                   n=res.combinations))
    out.print(_u(tr("screened {what}; {runs} runs; confirmed at full scale: {full}",
                    what=searched, runs=tr.count(res.runs),
                    full=tr("yes") if res.confirmed_at_full_scale else tr("no")))
              + f"; {_u(out_dir / 'optimum.json')}, {_u(out_dir / 'report.html')}")
