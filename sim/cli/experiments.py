"""``dlsim compare | sweep | size | replications``: many runs, on this machine or on Dask."""

from __future__ import annotations

import contextlib
import math
import os
import re
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
    ConfigArg,
    JsonOut,
    LangOpt,
    ReplicationsOpt,
    SchedulerOpt,
    SetOpt,
    WorkersOpt,
    _check_executor_options,
    _check_lang,
    _executor,
    _fail,
    _load,
    _note,
    _u,
    _write_json,
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


def _fmt_delta(kpi: str, v: float | None, tr: Any = None) -> str:
    """A difference of a KPI, signed, with its unit (shares in percentage points)."""
    from sim.report import KPI_LABELS
    from sim.report.i18n import EN
    from sim.runs.stats import is_share

    tr = tr or EN
    if v is None or not math.isfinite(v):
        return "–"
    if is_share(kpi):
        m = re.search(r"\.(\d)%", KPI_LABELS.get(kpi, ("", "{:.2%}"))[1])
        text = f"{tr.num(abs(v) * 100, int(m[1]) if m else 2)} {tr('pp')}"
    else:
        text = _fmt(kpi, abs(v), tr)
    if v == 0 or set(re.sub(r"[^0-9]", "", text)) <= {"0"}:
        return text
    return ("+" if v > 0 else "−") + text


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
    """Paired comparison B − A per KPI with 95 % CIs (common random numbers)."""
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
    few = replications < MIN_MEANINGFUL_REPLICATIONS
    t = Table(title=_u(tr("B − A over {n} paired replications (seed {seed})", n=replications,
                             seed=seed)))
    t.add_column(_u(tr("KPI")), justify="left", ratio=1)
    for col in ("A", "B", "B − A", tr("95 % interval of B − A") + (" *" if few else ""), "p"):
        t.add_column(_u(col), justify="right")
    for k in res.kpis:
        diff = _u(_fmt_delta(k.kpi, k.diff, tr))
        interval = (
            tr("{lo} to {hi}", lo=_fmt_delta(k.kpi, k.lo, tr), hi=_fmt_delta(k.kpi, k.hi, tr))
            if math.isfinite(k.lo) and math.isfinite(k.hi)
            else "–"
        )
        t.add_row(
            _u(_kpi_name(k.kpi, tr)),
            _u(_fmt(k.kpi, k.a_mean, tr)),
            _u(_fmt(k.kpi, k.b_mean, tr)),
            f"[bold]{diff}[/bold]" if k.significant else diff,
            _u(interval),
            "–" if not math.isfinite(k.p_value) else _p_value(k.p_value, tr),
        )
    out.print(f"A: {_u(res.a)} ({res.a_config_hash})\nB: {_u(res.b)} ({res.b_config_hash})")
    from sim.model.scale import describe

    scale_a, scale_b = describe(a, tr), describe(b, tr)
    out.print(_u(tr("Scale: {s}", s=scale_a)) if scale_a == scale_b  # wrapped at the terminal
              else _u(tr("Scale: A {a}; B {b}", a=scale_a, b=scale_b)))
    out.print(t)
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
    if out_dir is not None:
        try:
            saved = res.save(out_dir)
        except OSError as exc:
            raise _fail(
                f"--out {out_dir}: cannot write the results ({exc.strerror or exc}); "
                "comparison.json is written last, so an older one still matches its runs",
                code=1,
            ) from None
        for name, p in saved.items():
            out.print(f"{name:>10}: {p}", markup=False, soft_wrap=True)
        if not no_report:
            report = _report(out_dir, lang).resolve()
            word = _u(tr("report"))  # (a message inside an f-string is not extracted)
            out.print(f"{word:>10}: [bold]{escape(str(report))}[/bold]", soft_wrap=True)


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
) -> None:
    """Run a parameter sweep; one row per (point, replication) in DIR/results.parquet, a
    summary per point in DIR/summary.parquet and the report in DIR/report.html.

    Rows are stored as runs finish: an interrupted sweep resumes where it stopped.
    """
    from sim.experiments.sweep import SweepStore, load_sweep, run_sweep
    from sim.report.i18n import Tr

    _check_executor_options(workers, scheduler)
    lang = _check_lang(lang)
    sw = load_sweep(sweep_file)
    tr = Tr(lang or sw.base.report.lang)  # the summary and the report alike
    # refuse another sweep's DIR before starting, but write nothing until the executor is up
    SweepStore(out_dir).check(sw, force=force)
    total = len(sw.tasks)
    show = err.is_terminal and not os.environ.get("CI")
    state = {"errors": 0, "reported": -1}
    bar: Progress | None = None
    task_id: Any = None

    def progress(done: int, _total: int, row: dict[str, Any] | None) -> None:
        if row is not None and row.get("error"):
            state["errors"] += 1
        if bar is not None and row is None:  # resumed: the stored runs do not count for the ETA
            bar.reset(task_id, completed=done, errors=0)
        elif bar is not None:
            bar.update(task_id, completed=done, errors=state["errors"])
        elif row is not None and done * 10 // total > state["reported"]:
            state["reported"] = done * 10 // total  # without a terminal: a line per 10 %
            _note(f"sweep {sw.name}: {done}/{total} runs, {state['errors']} errors")

    with _executor(workers, scheduler) as ex:
        _note(
            f"sweep {sw.name}: {len(sw.points)} points × {sw.spec.replications} "
            f"replications = {total} runs on {ex.name} → {out_dir}"
        )
        try:
            if show:
                with Progress(
                    TextColumn("[bold]sweep[/bold] {task.description}"),
                    BarColumn(bar_width=20),
                    MofNCompleteColumn(),
                    TextColumn("{task.fields[errors]} errors"),
                    TimeElapsedColumn(),
                    TimeRemainingColumn(),
                    console=err,
                    transient=True,
                ) as bar:
                    task_id = bar.add_task(_u(sw.name), total=total, errors=0)
                    res = run_sweep(sw, out_dir, ex, force, retry_errors, progress)
            else:
                res = run_sweep(sw, out_dir, ex, force, retry_errors, progress)
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
    if res.damaged:
        _note(
            f"note: {len(res.damaged)} stored runs had damaged part files (moved to "
            f"{out_dir}/parts/damaged/) and were computed again"
        )
    _print_sweep_summary(res, sw.named_parameters, tr=tr)
    from sim.model.scale import describe

    out.print(_u(tr("Scale: {s}", s=describe(sw.base, tr))))  # wrapped at the terminal
    out.print(_u(tr(
        "{total} runs: {computed} computed now, {skipped} already stored, {errors} with "
        "errors; {s} on {executor}", total=total, computed=res.computed, skipped=res.skipped,
        errors=res.errors, s=tr.seconds(res.wall_s, 1), executor=res.executor)))
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
                         tr: Any = None) -> None:
    """Per point: the parameters (by named path) and three KPIs, mean over [95 % interval]."""
    from sim.report.i18n import EN
    from sim.runs.stats import MIN_MEANINGFUL_REPLICATIONS

    tr = tr or EN
    kpis = ("join_success_rate", "p95_time_to_join_s", "lost_pupil_minutes")
    short = {p: named.rsplit(".", 1)[-1] for p, named in params.items()}
    if len(set(short.values())) < len(short) or len(params) == 1:
        short = dict(params)
    t = Table(title=_u(tr("per point: mean and 95 % interval")))
    for p in params:
        t.add_column(escape(short[p]), justify="right")
    for k in kpis:
        t.add_column(_u(_kpi_name(k, tr)), justify="right", overflow="fold")
    t.add_column(_u(tr("runs")), justify="right")
    few = False
    for r in res.summary.head(limit).to_dict("records"):
        few = few or not r.get("meaningful", True)
        cells = []
        for k in kpis:
            lo, hi = r.get(f"{k}:lo"), r.get(f"{k}:hi")
            band = (
                f"\n[dim]{_u(tr('{lo} to {hi}', lo=_fmt(k, lo, tr), hi=_fmt(k, hi, tr)))}[/dim]"
                if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi)
                and hi > lo
                else ""
            )
            cells.append(_u(_fmt(k, r[k], tr)) + band)
        runs = str(r["n"]) + (_u(tr(" ({n} failed)", n=r["errors"])) if r["errors"] else "")
        t.add_row(*[escape(str(r[f"param:{p}"])) for p in params], *cells, runs)
    out.print(t)
    named_cols = [f"{short[p]} = {params[p]}" for p in params if short[p] != params[p]]
    if named_cols:
        out.print("; ".join(named_cols), markup=False, soft_wrap=True)
    if few:
        out.print(_u(tr("Points with fewer than {k} runs: their intervals say little.",
                        k=MIN_MEANINGFUL_REPLICATIONS)))
    if len(res.summary) > limit:
        out.print(_u(tr("… {n} more points in {path}", n=len(res.summary) - limit,
                        path=res.summary_path)))


@app.command()
def size(
    config: ConfigArg,
    param: Annotated[
        str,
        typer.Option(
            "--param",
            help="Integer setting to size, e.g. platforms[iserv].clusters[iserv-bbb].nodes "
            "(list elements by name or position).",
        ),
    ],
    target: Annotated[
        str,
        typer.Option("--target", help="KPI>=value or KPI<=value, e.g. join_success_rate>=0.99."),
    ],
    replications: ReplicationsOpt = 5,
    seed: Annotated[int, typer.Option(help="Root seed.", min=0, max=MAX_SEED)] = 1,
    set_: SetOpt = None,
    max_candidates: Annotated[int, typer.Option(help="Most values to simulate.", min=1)] = 16,
    confirm: Annotated[
        bool,
        typer.Option("--confirm", help="Run the whole-state answer of a search at "
                     "population.scale < 1 at scale 1 (same replications) and say if it meets."),
    ] = False,
    out_file: JsonOut = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
) -> None:
    """Smallest value of --param meeting --target at 95 % confidence, with the Erlang-B bound.

    At population.scale < 1 the search runs on the faithful miniature and a central capacity
    (nodes, workers) is answered for the whole state (miniature answer / scale).

    "answer: none" (exit 0) when more of --param stops helping before the target is met;
    exit 1 if the candidate budget ran out first.
    """
    from sim.config.paths import named_in
    from sim.experiments.sizing import (
        Target,
        confirm_at_full_scale,
        current_value,
        positional_param,
        size_capacity,
    )

    tgt = Target.parse(target)
    sc = _load(config, set_ or [])
    shown = escape(named_in(sc, positional_param(sc, param)))  # a bad name: exit 2 now
    current_value(sc, param)

    def show(e: Any) -> None:
        verdict = "[green]meets[/green]" if e.met else "[red]fails[/red]"
        band = (
            f" (95 % interval {_fmt(tgt.kpi, e.lo)} to {_fmt(tgt.kpi, e.hi)})"
            if math.isfinite(e.lo) and math.isfinite(e.hi)
            else ""
        )
        out.print(f"  {shown}={e.value}: {_kpi_name(tgt.kpi)} {_fmt(tgt.kpi, e.mean)}"
                      f"{band} → {verdict}", soft_wrap=True)

    with _executor(workers, scheduler) as ex, contextlib.ExitStack() as stack:
        tick: Callable[[int, int], None] | None = None
        if _show_progress():
            bar = stack.enter_context(
                Progress(
                    TextColumn("[bold]sizing[/bold] {task.description}"),
                    BarColumn(bar_width=20),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=err,
                    transient=True,
                )
            )
            task_id = bar.add_task(f"candidate 1 of at most {max_candidates}",
                                   total=replications)
            state = {"candidate": 1}

            def tick(done: int, of: int) -> None:
                bar.update(task_id, completed=done, total=of)

            def show_and_advance(e: Any, _show: Callable[[Any], None] = show) -> None:
                _show(e)
                state["candidate"] += 1
                bar.update(task_id, completed=0, description=(
                    f"candidate {state['candidate']} of at most {max_candidates}"))

            on_candidate: Callable[[Any], None] = show_and_advance
        else:
            on_candidate = show
        res = size_capacity(
            sc,
            param,
            tgt,
            replications=replications,
            seed=seed,
            executor=ex,
            max_candidates=max_candidates,
            progress=on_candidate,
            run_progress=tick,
        )
    param = escape(res.param_named)
    a = res.analytic
    if a is not None:
        out.print(
            f"Erlang-B bound: {param}={a.value} ({a.slots} slots for blocking ≤ "
            f"{a.target_blocking:g} at A = {a.offered_erlangs:,.1f} Erlangs: "
            f"{escape(a.load_source)})"
        )
    else:
        out.print(f"Erlang-B bound: none ({escape(res.analytic_note)})")
    _write_json(out_file, res.to_dict())
    if res.answer is None:
        out.print(f"[bold]answer: none[/bold] — {escape(res.note)}")
        raise typer.Exit(1 if res.outcome == "budget" else 0)
    side = "lower" if tgt.op == ">=" else "upper"
    if res.central and res.answer_whole_state is not None:
        whole = res.answer_whole_state
        out.print(
            f"[bold]answer: ≈ {whole:,.0f} for the whole state[/bold] ({param}; searched at "
            f"population scale {res.scale:g}: {res.answer} there, smallest value whose 95 % "
            f"CI {side} bound meets {_u(tgt)}; one step there is {1 / res.scale:,.0f} for the "
            f"state; current value {res.current_whole_state:,} for the whole state, "
            f"{res.current_value} at this scale)"
        )
    else:
        scale_note = f"; population scale {res.scale:g}" if res.scale != 1.0 else ""
        out.print(
            f"[bold]answer: {param}={res.answer}[/bold] (smallest value whose 95 % CI {side} "
            f"bound meets {_u(tgt)}; current value {res.current_value}{scale_note})"
        )
    if confirm:
        if not res.central:
            out.print("--confirm: nothing to confirm (the search ran at scale 1, or the "
                      "setting is not a central capacity)")
        else:
            with _executor(workers, scheduler) as ex:
                c = confirm_at_full_scale(res, sc, ex)
            verdict = "[green]meets[/green]" if c["met"] else "[red]fails[/red]"
            out.print(
                f"confirmed at scale 1 ({c['replications']} replications, the search's seeds): "
                f"{param}={c['value']:,}: {_kpi_name(tgt.kpi)} {_fmt(tgt.kpi, c['mean'])} "
                f"(95 % interval {_fmt(tgt.kpi, c['lo'])} to {_fmt(tgt.kpi, c['hi'])}) → "
                f"{verdict}", soft_wrap=True)
            _write_json(out_file, res.to_dict())


@app.command()
def replications(
    config: ConfigArg,
    kpi: Annotated[
        list[str],
        typer.Option("--kpi", help="KPI that must be precise (repeatable)."),
    ],
    precision: Annotated[
        float,
        typer.Option(help="Target CI half-width: relative to the mean (0.05 = ±5 %)."),
    ] = 0.05,
    absolute: Annotated[
        bool, typer.Option("--absolute", help="--precision in the KPI's own unit.")
    ] = False,
    budget: Annotated[int, typer.Option(help="Most replications to run.", min=3)] = 50,
    look_ahead: Annotated[
        int, typer.Option(help="Replications the precision must survive.", min=0)
    ] = 5,
    seed: Annotated[int, typer.Option(help="Root seed.", min=0, max=MAX_SEED)] = 1,
    set_: SetOpt = None,
    out_file: JsonOut = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
) -> None:
    """How many replications the KPIs need for a target 95 % CI half-width.

    Hoad, Robinson & Davies (2010), the confidence-interval method with look-ahead.
    Exit 1 if the budget ran out first.
    """
    from sim.experiments.comparisons import replications_for_precision
    from sim.model.metrics import KPI_NAMES

    unknown = [k for k in kpi if k not in KPI_NAMES]
    if unknown:
        raise _fail(f"--kpi {', '.join(unknown)}: unknown KPI (known: {', '.join(KPI_NAMES)})")
    if not (math.isfinite(precision) and precision > 0):
        raise _fail(f"--precision {precision}: expected a positive number")
    _check_executor_options(workers, scheduler)
    sc = _load(config, set_ or [])
    with _executor(workers, scheduler) as ex:
        res = replications_for_precision(
            sc, kpi, precision=precision, relative=not absolute, seed=seed,
            look_ahead=look_ahead, budget=budget, executor=ex,
            progress=lambda done, total: _note(f"  {done} replications run (budget {total})"),
        )
    unit = f"±{precision:.1%} of the mean" if not absolute else f"±{precision:g}"
    t = Table(title=f"replications for a 95 % CI half-width {unit} ({res.runs} runs)")
    for col in ("KPI", "needed", f"mean after {res.runs}", "half-width"):
        t.add_column(col, justify="left" if col == "KPI" else "right")
    for k in kpi:
        last = res.trace[res.trace["kpi"] == k].iloc[-1]
        n = res.needed[k]
        t.add_row(_kpi_name(k), "not reached" if n is None else str(n),
                  _fmt(k, float(last["mean"])), _fmt(k, float(last["half_width"])))
    out.print(t)
    _write_json(out_file, {
        "scenario": sc.name, "config_hash": sc.config_hash(), "seed": seed,
        "precision": precision, "relative": not absolute, "budget": budget, "runs": res.runs,
        "needed": res.needed, "replications": res.replications,
    })
    if res.replications is None:
        out.print(f"[bold]answer: none[/bold] — the budget of {budget} replications ran out")
        raise typer.Exit(1)
    out.print(f"[bold]answer: --replications {res.replications}[/bold]")


