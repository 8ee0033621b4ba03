"""``dlsim compare | sweep``: many runs, on this machine or on Dask."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sim.cli.common import (
    LangOpt,
    ReplicationsOpt,
    SchedulerOpt,
    SetOpt,
    WorkersOpt,
    _check_executor_options,
    _check_lang,
    _decided,
    _executor,
    _fail,
    _load,
    _note,
    _u,
    app,
    err,
    out,
)
from sim.config import MAX_SEED


def _prepare_comparison_dir(out_dir: Path, hash_a: str, hash_b: str, force: bool) -> None:
    """Refuse (exit 2) a --out holding another comparison or other files, unless ``force``."""
    from sim.runs.rundir import RunDirError, check_comparison_dir

    try:
        check_comparison_dir(out_dir, hash_a, hash_b, force)
    except RunDirError as exc:
        raise _fail(str(exc)) from None


def _show_progress() -> bool:
    return err.is_terminal and not os.environ.get("CI")


@contextlib.contextmanager
def _runs_bar(verb: str, label: str, total: int) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar of finished runs on a terminal (like ``run`` and ``sweep``); yields the
    ``progress(done, total)`` callback, or None without a terminal."""
    if not _show_progress():
        yield None
        return
    with Progress(
        TextColumn(f"[bold]{verb}[/bold] {{task.description}}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task_id = bar.add_task(label, total=total)

        def update(done: int, of: int) -> None:
            bar.update(task_id, completed=done, total=of)

        yield update


def _kpi_name(kpi: str, tr: Any = None) -> str:
    """A KPI's name in words (the report's label, in ``tr``'s language)."""
    from sim.report import KPI_LABELS
    from sim.report.layout import kpi_label

    if tr is not None:
        return kpi_label(kpi, tr)
    return KPI_LABELS[kpi][0] if kpi in KPI_LABELS else kpi.replace("_", " ")


def _fmt(kpi: str, v: float | None, tr: Any = None) -> str:
    """A KPI value with its unit, as the reports write it."""
    from sim.report import fmt_kpi
    from sim.report.i18n import EN

    if v is None or not math.isfinite(v):
        return "–"
    return fmt_kpi(kpi, v, tr or EN)


def _fmt_delta(kpi: str, v: float | None, tr: Any = None, s: float | None = None,
               half_width: float | None = None) -> str:
    """A difference of a KPI, signed, with its unit (shares in percentage points; a
    faithful miniature's counts, ``s``, as the whole state's), as precise as its interval's
    ``half_width`` supports."""
    from sim.report.comparison_verdict import delta_text
    from sim.report.i18n import EN

    return delta_text(kpi, v, tr or EN, half_width, s=s)


def _report(directory: Path, lang: str | None) -> Path:
    """Write DIR/report.html with the report entry point of ``dlsim report`` (exit 1 if the
    report cannot be written: the results themselves are stored)."""
    from sim.report import report_directory
    from sim.runs.rundir import RunDirError

    try:
        return report_directory(directory, lang=lang)[1]
    except (RunDirError, OSError) as exc:  # RunDirError includes the report's ReportInputError
        raise _fail(
            f"{directory}: the results are stored but the report could not be written ({exc}); "
            f"`dlsim report {directory}` tries again",
            code=1,
        ) from None


@app.command()
def compare(
    config_a: Annotated[Path, typer.Argument(help="Scenario A.", show_default=False)],
    config_b: Annotated[Path, typer.Argument(help="Scenario B.", show_default=False)],
    seed: Annotated[int, typer.Option(help="Root seed.", min=0, max=MAX_SEED)] = 1,
    replications: ReplicationsOpt = 5,
    set_: SetOpt = None,
    set_a: Annotated[list[str] | None, typer.Option("--set-a", help="Override for A only.")] = None,
    set_b: Annotated[list[str] | None, typer.Option("--set-b", help="Override for B only.")] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write DIR/comparison.json, the runs as DIR/a, DIR/b and DIR/report.html.",
        ),
    ] = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace another comparison's results in --out.")
    ] = False,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="With --out: skip report.html.")
    ] = False,
    lang: LangOpt = None,
) -> None:
    """Compare two scenarios: paired differences B − A.

    Per KPI with 95 % CIs (common random numbers)."""
    from sim.experiments.comparisons import compare as run_compare
    from sim.report.i18n import Tr
    from sim.runs.stats import MIN_MEANINGFUL_REPLICATIONS

    _check_executor_options(workers, scheduler)
    lang = _check_lang(lang)
    a = _load(config_a, [*(set_ or []), *(set_a or [])])
    b = _load(config_b, [*(set_ or []), *(set_b or [])])
    tr = Tr(lang or b.report.lang or a.report.lang)  # as the comparison report chooses
    if out_dir is not None:
        _prepare_comparison_dir(out_dir, a.config_hash(), b.config_hash(), force)
    with (
        _executor(workers, scheduler) as ex,
        _runs_bar("comparing", f"{replications} pairs", 2 * replications) as tick,
    ):
        res = run_compare(
            a, b, seed=seed, replications=replications, executor=ex,
            keep_runs=out_dir is not None, progress=tick,
        )
    from sim.model.scale import describe
    from sim.report.comparison_verdict import overall_verdict
    from sim.report.state import miniature_factor, unit_note

    few = replications < MIN_MEANINGFUL_REPLICATIONS
    s = miniature_factor(a) if miniature_factor(a) == miniature_factor(b) else None
    t = _comparison_table(res, replications, seed, tr, s)
    out.print(f"A: {_u(res.a)} ({res.a_config_hash})\nB: {_u(res.b)} ({res.b_config_hash})")
    line = overall_verdict(res.a_values, res.b_values, tr)
    if line:  # the comparison in one line, before the figures
        out.print(f"[bold]{_u(line)}[/bold]", soft_wrap=not out.is_terminal)
    scale_a, scale_b = describe(a, tr), describe(b, tr)
    out.print(_u(tr("Scale: {s}", s=scale_a)) if scale_a == scale_b  # wrapped at the terminal
              else _u(tr("Scale: A {a}; B {b}", a=scale_a, b=scale_b)))
    out.print(t)
    if s is not None:
        out.print(_u(unit_note(s, tr)), style="dim")
    out.print(_u(
        tr("Bold: the interval excludes 0 (paired t-test, common random numbers); pp = "
           "percentage points.")
        + (
            tr(" * With {n} replications the interval says little: use at least {k}.",
               n=replications, k=MIN_MEANINGFUL_REPLICATIONS)
            if few
            else ""
        )
    ))
    _print_verdict_causes_costs(res, tr, b, s)
    if out_dir is not None:
        _save_comparison(res, out_dir, no_report, lang, tr)


def _print_verdict_causes_costs(res: Any, tr: Any, scenario: Any, s: float | None) -> None:
    """The verdict on the headline figures, then causes and costs of A and B side by side."""
    from sim.report.comparison_verdict import (
        VERDICT_KPIS,
        causes_rows,
        costs_rows,
        verdict_line,
    )

    for k in VERDICT_KPIS:
        out.print(_u(verdict_line(k, res.a_values[k], res.b_values[k], tr, s)),
                  soft_wrap=not out.is_terminal)  # wrapped at a terminal, whole in a pipe
    for title, rows in ((tr("Lost pupil-minutes by cause") if s is None else
                         tr("Lost pupil-minutes by cause, whole state"),
                         causes_rows(res.causes["a"], res.causes["b"], tr, scenario, s)),
                        (tr("Cost of the scenario as configured"),
                         costs_rows(res.costs["a"], res.costs["b"], tr))):
        if not rows:
            continue
        t = Table(title=_u(title))
        t.add_column("", justify="left", ratio=1)
        for col in ("A", "B", "B − A"):
            t.add_column(col, justify="right")
        for r in rows:
            t.add_row(*(_u(x) for x in r))
        out.print(t)


def _comparison_table(res: Any, replications: int, seed: int, tr: Any,
                      s: float | None = None) -> Table:
    """Per KPI: A, B, the difference B − A (bold when its interval excludes 0), its 95 %
    interval and the p-value; a faithful miniature's counts (``s``) as the whole state's."""
    from sim.report.state import kpi_name, kpi_whole
    from sim.runs.stats import MIN_MEANINGFUL_REPLICATIONS

    few = replications < MIN_MEANINGFUL_REPLICATIONS
    t = Table(title=_u(tr("B − A over {n} paired replications (seed {seed})", n=replications,
                             seed=seed)))
    t.add_column(_u(tr("KPI")), justify="left", ratio=1)
    for col in ("A", "B", "B − A", tr("95 % interval of B − A") + (" *" if few else ""), "p"):
        t.add_column(_u(col), justify="right")
    for k in res.kpis:
        hw = (k.hi - k.lo) / 2 if math.isfinite(k.lo) and math.isfinite(k.hi) else None
        diff = _u(_fmt_delta(k.kpi, k.diff, tr, s, hw))
        interval = (
            tr("{lo} to {hi}", lo=_fmt_delta(k.kpi, k.lo, tr, s, hw),
               hi=_fmt_delta(k.kpi, k.hi, tr, s, hw))
            if math.isfinite(k.lo) and math.isfinite(k.hi)
            else "–"
        )
        t.add_row(
            _u(kpi_name(k.kpi, s, tr)),
            _u(_fmt(k.kpi, kpi_whole(k.kpi, k.a_mean, s), tr)),
            _u(_fmt(k.kpi, kpi_whole(k.kpi, k.b_mean, s), tr)),
            f"[bold]{diff}[/bold]" if k.significant else diff,
            _u(interval),
            "–" if not math.isfinite(k.p_value) else _p_value(k.p_value, tr),
        )
    return t


def _save_comparison(res: Any, out_dir: Path, no_report: bool, lang: str | None,
                     tr: Any) -> None:
    """--out: the comparison's files (A's and B's runs, comparison.json) and its report."""
    try:
        saved = res.save(out_dir)
    except OSError as exc:
        raise _fail(
            f"--out {out_dir}: cannot write the results ({exc.strerror or exc}); "
            "comparison.json is written last, so an older one still matches its runs",
            code=1,
        ) from None
    files = {"comparison": tr("comparison"), "a": tr("runs of A"), "b": tr("runs of B")}
    for name, p in saved.items():
        out.print(f"{files.get(name, name):>14}: {p}", markup=False, soft_wrap=True)
    if not no_report:
        report = _report(out_dir, lang).resolve()
        word = _u(tr("report"))  # (a message inside an f-string is not extracted)
        out.print(f"{word:>14}: [bold]{escape(str(report))}[/bold]", soft_wrap=True)


def _p_value(p: float, tr: Any) -> str:
    """A p-value to two significant digits ("0.031", German "0,031")."""
    text = f"{p:.2g}"
    return text.replace(".", ",") if tr.lang == "de" else text


@app.command()
def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep YAML file.", show_default=False)],
    out_dir: Annotated[Path, typer.Option("--out", help="Sweep directory (resumable).")],
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Discard another sweep's results in --out instead of refusing."
        ),
    ] = False,
    retry_errors: Annotated[
        bool, typer.Option("--retry-errors", help="Run failed runs again.")
    ] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip report.html.")] = False,
    lang: LangOpt = None,
    set_: SetOpt = None,
) -> None:
    """Run a parameter sweep.

    One row per (point, replication) in DIR/results.parquet, a summary per point in
    DIR/summary.parquet and the report in DIR/report.html.

    Rows are stored as runs finish: an interrupted sweep resumes where it stopped. --set
    applies to the base scenario after the sweep file's own overrides.
    """
    from sim.experiments.sweep import SweepStore, load_sweep
    from sim.report.i18n import Tr
    from sim.report.labels import executor as executor_words

    _check_executor_options(workers, scheduler)
    lang = _check_lang(lang)
    sw = load_sweep(sweep_file, overrides=set_ or [])
    tr = Tr(lang or sw.base.report.lang)  # the summary and the report alike
    # refuse another sweep's DIR before starting, but write nothing until the executor is up
    SweepStore(out_dir).check(sw, force=force)
    with _executor(workers, scheduler) as ex:
        _note(tr("sweep {name}: {k} points × {r} replications = {total} runs, with {executor} "
                 "→ {out}", name=sw.name, k=len(sw.points), r=sw.spec.replications,
                 total=len(sw.tasks), executor=executor_words(ex.name, tr), out=out_dir))
        res = _run_sweep(sw, out_dir, ex, force, retry_errors, tr)
    with _decided():  # results.parquet is written: Ctrl-C no longer undoes the sweep
        _print_sweep_result(res, sw, out_dir, tr, no_report)


def _run_sweep(sw: Any, out_dir: Path, ex: Any, force: bool, retry_errors: bool,
               tr: Any) -> Any:
    """Run the sweep into ``out_dir`` showing its progress; an interruption or a failing
    disk ends the command saying how many runs are stored and how to resume."""
    from sim.experiments.sweep import run_sweep

    total = len(sw.tasks)
    try:
        with _sweep_progress(sw.name, total, tr) as progress:
            return run_sweep(sw, out_dir, ex, force, retry_errors, progress)
    except KeyboardInterrupt:
        stored = len(list((out_dir / "parts").glob("*.parquet")))
        _note(
            f"interrupted: {stored} of {total} runs are stored in {out_dir}/parts; "
            "run the same command again to resume"
        )
        raise SystemExit(130) from None  # past typer: its 130 would add a second message
    except OSError as exc:  # disk full, directory gone or read-only
        stored = len(list((out_dir / "parts").glob("*.parquet")))
        raise _fail(
            f"--out {out_dir}: cannot store results ({exc.strerror or exc}); the {stored} "
            f"runs stored so far are intact; fix that and run the same command again to "
            "resume",
            code=1,
        ) from None


@contextlib.contextmanager
def _sweep_progress(
    name: str, total: int, tr: Any
) -> Iterator[Callable[[int, int, dict[str, Any] | None], None]]:
    """How a sweep shows its progress: on a terminal a bar of runs with the errors so far
    (a resumed sweep's stored runs do not count for the ETA), else a line per 10 %."""
    state = {"errors": 0, "reported": -1}
    if not _show_progress():
        def note(done: int, _total: int, row: dict[str, Any] | None) -> None:
            if row is not None and row.get("error"):
                state["errors"] += 1
            if row is not None and done * 10 // total > state["reported"]:
                state["reported"] = done * 10 // total  # without a terminal: a line per 10 %
                _note(tr("sweep {name}: {done}/{total} runs, {errors} with errors", name=name,
                         done=done, total=total, errors=state["errors"]))

        yield note
        return
    with Progress(
        TextColumn("[bold]sweep[/bold] {task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TextColumn("{task.fields[errors]} " + _u(tr("with errors"))),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task_id = bar.add_task(_u(name), total=total, errors=0)

        def update(done: int, _total: int, row: dict[str, Any] | None) -> None:
            if row is not None and row.get("error"):
                state["errors"] += 1
            if row is None:  # resumed: the stored runs do not count for the ETA
                bar.reset(task_id, completed=done, errors=0)
            else:
                bar.update(task_id, completed=done, errors=state["errors"])

        yield update


def _print_sweep_result(res: Any, sw: Any, out_dir: Path, tr: Any, no_report: bool) -> None:
    """What the sweep found and where it is: the summary per point, the runs computed and
    stored, the files and the report; exit 1 if runs were lost to cluster failures."""
    if res.damaged:
        _note(
            f"note: {len(res.damaged)} stored runs had damaged part files (moved to "
            f"{out_dir}/parts/damaged/) and were computed again"
        )
    from sim.model.scale import describe
    from sim.report.labels import executor as executor_words
    from sim.report.state import miniature_factor, unit_note

    swept_scale = any(p.endswith("population.scale") for p in sw.named_parameters.values())
    state = None if swept_scale else miniature_factor(sw.base)
    _print_sweep_summary(res, sw.named_parameters, tr=tr, s=state)
    out.print(_u(tr("Scale: {s}", s=describe(sw.base, tr))))  # wrapped at the terminal
    if state is not None:
        out.print(_u(unit_note(state, tr)), style="dim")
    out.print(_u(tr(
        "{total} runs: {computed} computed now, {skipped} already stored, {errors} with "
        "errors; {s} on {executor}", total=len(sw.tasks), computed=res.computed,
        skipped=res.skipped, errors=res.errors, s=tr.seconds(res.wall_s, 1),
        executor=executor_words(res.executor, tr))))
    results, summary = tr("results"), tr("summary")
    out.print(f"{results:>10}: {res.results_path}\n{summary:>10}: {res.summary_path}",
              markup=False, soft_wrap=True)
    if not no_report and len(res.results):
        report = _report(out_dir, tr.lang).resolve()
        word = _u(tr("report"))
        out.print(f"{word:>10}: [bold]{escape(str(report))}[/bold]", soft_wrap=True)
    if res.lost:
        raise _fail(
            f"{len(res.lost)} runs were lost to cluster failures and not stored (first: "
            f"{res.lost[0]}); run the same command again to compute them",
            code=1,
        )


def _print_sweep_summary(res: Any, params: dict[str, str], limit: int = 40,
                         tr: Any = None, s: float | None = None) -> None:
    """Per point: the parameters (by named path) and three KPIs, mean over [95 % interval];
    a faithful miniature's counts (``s``) as the whole state's."""
    from sim.report.i18n import EN
    from sim.report.labels import config_path, setting_value
    from sim.report.layout import fmt_mean, interval_range
    from sim.report.state import kpi_name, kpi_whole
    from sim.runs.stats import MIN_MEANINGFUL_REPLICATIONS, Interval

    tr = tr or EN
    kpis = ("join_success_rate", "p95_time_to_join_s", "lost_pupil_minutes")
    short = {p: config_path(named, tr) for p, named in params.items()}  # the settings in words
    if len(set(short.values())) < len(short):
        short = dict(params)
    t = Table(title=_u(tr("per point: mean and 95 % interval")))
    for p in params:
        t.add_column(_u(short[p]), justify="right", overflow="fold")
    for k in kpis:
        t.add_column(_u(kpi_name(k, s, tr)), justify="right", overflow="fold")
    t.add_column(_u(tr("runs")), justify="right")
    few = False
    for r in res.summary.head(limit).to_dict("records"):
        few = few or not r.get("meaningful", True)
        cells = []
        for k in kpis:
            lo, hi = (kpi_whole(k, r.get(f"{k}:{e}"), s) for e in ("lo", "hi"))
            mean = kpi_whole(k, r[k], s)  # a miniature's count as the whole state's
            ok = (lo is not None and hi is not None and math.isfinite(lo)
                  and math.isfinite(hi) and hi > lo)
            # the mean and its band as precisely as the band supports (one rule, layout)
            iv = Interval(float(mean), float(lo), float(hi), int(r["n"])) if ok else None
            band = f"\n[dim]{_u(interval_range(k, iv, tr))}[/dim]" if iv is not None else ""
            cells.append(_u(fmt_mean(k, mean, iv, tr) if iv is not None else _fmt(k, mean, tr))
                         + band)
        runs = str(r["n"]) + (_u(tr(" ({n} failed)", n=r["errors"])) if r["errors"] else "")
        t.add_row(*[_u(setting_value(params[p], r[f"param:{p}"], tr)) for p in params],
                  *cells, runs)
    out.print(t)
    named_cols = [f"{short[p]}: {params[p]}" for p in params if short[p] != params[p]]
    if named_cols:
        out.print("; ".join(named_cols), markup=False, soft_wrap=True)
    if few:
        out.print(_u(tr("Points with fewer than {k} runs: their intervals say little.",
                        k=MIN_MEANINGFUL_REPLICATIONS)))
    if len(res.summary) > limit:
        out.print(_u(tr("… {n} more points in {path}", n=len(res.summary) - limit,
                        path=res.summary_path)))
