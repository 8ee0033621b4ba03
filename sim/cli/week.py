"""``dlsim week``: the days of a week in order, each carrying over what the day before taught."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from sim.cli.common import (
    LangOpt,
    SetOpt,
    WorkersOpt,
    _bad_input,
    _check_lang,
    _decided,
    _executor,
    _fail,
    _u,
    app,
    err,
    out,
)
from sim.config import ConfigError


@app.command()
def week(
    config: Annotated[Path, typer.Argument(help="Week YAML file (days and carry-over rules).",
                                           show_default=False)],
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("out/week"),
    replications: Annotated[
        int | None, typer.Option(help="Replications of the week (default: the file's).",
                                 min=1, max=1000, show_default=False)
    ] = None,
    scale: Annotated[
        float | None, typer.Option(help="Each day's population at this share of its own (a "
                                   "faithful miniature), e.g. 0.1.", min=0.0001, max=1.0,
                                   show_default=False)
    ] = None,
    workers: WorkersOpt = None,
    set_: SetOpt = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip the reports.")] = False,
    lang: LangOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the results of another week in --out."),
    ] = False,
) -> None:
    """Run a week of school days in order.

    Each day is a normal scenario run with what carried over from the day before applied;
    writes DIR/days/<n>-<name>/ (a run directory per day), DIR/week.parquet,
    DIR/report.html and DIR/week.json (last).

    --set days[NAME].path=value changes one day, carry_over.RULE.field=value a rule, any
    other path every day. Re-running the same command resumes: stored day runs (DIR/runs/,
    keyed by scenario hash, seed and model version) are reused.
    """
    from sim.config.week import load_week
    from sim.experiments.week import check_week_dir, identity, run_week, save_week
    from sim.report.i18n import Tr
    from sim.runs.rundir import RunDirError

    lang = _check_lang(lang)
    try:
        wk = load_week(config, list(set_ or []), scale)
        from sim.model.population import load_marginals

        for sc in wk.days:
            load_marginals(sc)
    except ConfigError as exc:
        raise _bad_input(exc) from None
    tr = Tr(lang or wk.days[0].report.lang)
    try:
        check_week_dir(out_dir, identity(wk), force)
    except RunDirError as exc:
        raise _fail(str(exc)) from None

    def progress(name: str, done: int, total: int) -> None:
        if name:
            err.print(tr("day {n} of {t}: {name}", n=done + 1, t=total, name=name), markup=False)

    t0 = time.perf_counter()
    try:
        with _executor(workers if workers and workers > 1 else None, None) as ex:
            res = run_week(wk, out_dir, replications, ex, progress)
    except ConfigError as exc:
        raise _bad_input(exc) from None
    wall = time.perf_counter() - t0
    try:
        paths = save_week(res, out_dir, lang, report=not no_report)
    except OSError as exc:
        raise _fail(f"--out {out_dir}: cannot write the results ({exc.strerror or exc})",
                    code=1) from None
    with _decided():  # week.json is in place: Ctrl-C no longer undoes the week
        _print(res, tr)
        out.print(tr("{n} days in {s} s", n=len(wk.days), s=tr.num(wall, 1)), markup=False)
        if "report" in paths:
            word = _u(tr("Report"))
            out.print(f"\n{word}: [bold]{_u(paths['report'].resolve())}[/bold]",
                      soft_wrap=True)


def _print(res: Any, tr: Any) -> None:
    """The days side by side on the terminal (counts as the whole state's), with a verdict."""
    from sim.report.headline import state_count
    from sim.report.labels import fmt_kpi, kpi_label
    from sim.report.week_report import COUNT_KPIS, day_verdict

    names = res.week.names
    scale = float(res.week.days[0].population.scale)
    s = scale if 0 < scale < 1 else None
    means = res.frame.groupby(["kpi", "day"], sort=False)["value"].mean().unstack("day")
    t = Table(show_edge=False)
    t.add_column(tr("figure"))
    for n in names:
        t.add_column(n, justify="right")
    for k in ("join_success_rate", "lost_pupil_minutes", "affected_schools_share"):
        t.add_row(kpi_label(k, tr), *(state_count(means.loc[k, n], s, tr) if k in COUNT_KPIS
                                      else fmt_kpi(k, means.loc[k, n], tr) for n in names))
    words = {"good": tr("good day"), "trouble": tr("day with trouble"), "bad": tr("bad day")}
    t.add_row(tr("verdict"),
              *(words[day_verdict(means.loc["join_success_rate", n])] for n in names))
    out.print(t)
    if s is not None:
        out.print(tr("Counts are the whole state's, estimated from the miniature (× {f}).",
                     f=tr.sig(1 / s, 4)), markup=False)
