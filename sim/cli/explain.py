"""``dlsim explain``: which causes lost the pupil-minutes, and what removing each recovers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.measure import Measurement
from rich.table import Table

from sim.cli.common import (
    ConfigArg,
    LangOpt,
    ReplicationsOpt,
    SchedulerOpt,
    SetOpt,
    WorkersOpt,
    _check_executor_options,
    _check_lang,
    _decided,
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
        Path | None, typer.Option("--out", help="Write DIR/attribution.json and DIR/explain.html.")
    ] = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    lang: LangOpt = None,
) -> None:
    """Who lost the pupil-minutes: the causes.

    Lost pupil-minutes by cause (direct accounting) and the minutes recovered by removing
    each cause, ± 95 % CI (paired replications on common random numbers)."""
    from sim.experiments.attribution import explain as run_explain
    from sim.experiments.attribution import write_attribution
    from sim.report.attribution_report import additivity_words, render_attribution
    from sim.report.i18n import Tr
    from sim.report.labels import cause
    from sim.report.state import count_text, miniature_factor, unit_note

    _check_executor_options(workers, scheduler)
    lang = _check_lang(lang)
    sc = _load(config, list(set_ or []))
    tr = Tr(lang or sc.report.lang)

    def progress(what: str, done: int, total: int) -> None:
        if done == total:
            words = cause(what, tr, sc)  # not inside the call: Babel would miss its plural
            line = tr.ngettext("{what}: one replication done", "{what}: {n} replications done",
                               total, what=words, n=tr.count(total))
            err.print(f"  {line}", markup=False)

    with _executor(workers, scheduler) as ex:
        res = run_explain(sc, replications=replications, seed=seed, executor=ex,
                          progress=progress)
    total = res["lost_pupil_minutes"]
    s = miniature_factor(sc)  # a miniature's minutes as the whole state's (sim.report.state)
    title = (tr("{name}: {n} lost pupil-minutes (mean of {r} replications, seed {seed})",
                name=tr.text(sc.name), n=tr.count(total), r=replications, seed=seed)
             if s is None else
             tr("{name}: {n} lost pupil-minutes in the whole state (mean of {r} replications, "
                "seed {seed})", name=tr.text(sc.name), n=count_text(total, s, tr),
                r=replications, seed=seed))
    t = Table(title=_u(title))
    for col in (tr("cause"), tr("direct"), tr("share"), tr("recovered if removed"),
                tr("95 % interval")):
        t.add_column(_u(col), justify="left" if col == tr("cause") else "right",
                     overflow="fold", min_width=22 if col == tr("cause") else None)
    for name, c in res["causes"].items():
        rec = c["recovered_mean"]
        t.add_row(
            _u(cause(name, tr, sc)), count_text(c["direct"], s, tr), tr.pct(c["direct_share"]),
            tr("– (no removal)") if rec is None else count_text(rec, s, tr),
            "–" if rec is None else tr("{lo} to {hi}", lo=count_text(c["recovered_lo"], s, tr),
                                       hi=count_text(c["recovered_hi"], s, tr)),
        )
    _print_unclipped(t)
    if s is not None:
        out.print(_u(unit_note(s, tr)), style="dim", soft_wrap=not out.is_terminal)
    out.print(_u(additivity_words(res, tr, sc)), soft_wrap=not out.is_terminal)
    deg = res["degraded"]
    if deg["direct"] > 0:
        rec = deg["recovered_mean"]
        line = tr("Degraded, not lost ({cause}): {minutes} pupil-minutes on overloaded nodes",
                  cause=cause(deg["cause"], tr, sc), minutes=count_text(deg["direct"], s, tr))
        if rec is not None:
            line += tr("; {minutes} recovered with ten times each node's CPU and bandwidth "
                       "({lo} to {hi})", minutes=count_text(rec, s, tr),
                       lo=count_text(deg["recovered_lo"], s, tr),
                       hi=count_text(deg["recovered_hi"], s, tr))
        out.print(_u(line + "."), soft_wrap=not out.is_terminal)
    if out_dir is not None:  # the page and attribution.json: both or neither
        path = write_attribution(out_dir, res, ("explain.html", render_attribution(res, sc, lang)))
        word = tr("written")  # (a message inside an f-string is not extracted)
        with _decided():  # written: Ctrl-C no longer undoes them
            out.print(f"{_u(word)}: {_u(path)}, {_u(Path(out_dir) / 'explain.html')}",
                      soft_wrap=True)


def _print_unclipped(t: Table) -> None:
    """Print ``t``; piped or redirected (rich then assumes 80 columns) at the width it needs,
    so no cell is folded or cut."""
    if out.is_terminal:
        out.print(t)
        return
    old = out.width
    out.width = max(old, len(str(t.title or "")),
                    Measurement.get(out, out.options.update_width(10_000), t).maximum)
    try:
        out.print(t)
    finally:
        out.width = old
