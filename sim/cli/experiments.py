"""``dlsim compare | sweep | size | replications``: many runs, on this machine or on Dask."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Annotated, Any

import typer
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
    ReplicationsOpt,
    SchedulerOpt,
    SetOpt,
    WorkersOpt,
    _check_executor_options,
    _executor,
    _fail,
    _load,
    _note,
    _num,
    _u,
    _write_json,
    app,
    err,
    out,
)
from sim.config import MAX_SEED


def _prepare_comparison_dir(out_dir: Path, hash_a: str, hash_b: str, force: bool) -> None:
    """Refuse (exit 2) a --out holding another comparison or other files, unless ``force``."""
    from sim.rundir import RunDirError, check_comparison_dir

    try:
        check_comparison_dir(out_dir, hash_a, hash_b, force)
    except RunDirError as exc:
        raise _fail(str(exc)) from None


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
            help="Write DIR/comparison.json and the runs as DIR/a, DIR/b (for dlsim report).",
        ),
    ] = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace another comparison's results in --out.")
    ] = False,
) -> None:
    """Paired comparison B − A per KPI with 95 % CIs (common random numbers)."""
    from sim.experiment import compare as run_compare

    _check_executor_options(workers, scheduler)
    a = _load(config_a, [*(set_ or []), *(set_a or [])])
    b = _load(config_b, [*(set_ or []), *(set_b or [])])
    if out_dir is not None:
        _prepare_comparison_dir(out_dir, a.config_hash(), b.config_hash(), force)
    with _executor(workers, scheduler) as ex:
        res = run_compare(
            a, b, seed=seed, replications=replications, executor=ex, keep_runs=out_dir is not None
        )
    t = Table(title=f"B − A, {replications} paired replications (seed {seed})")
    for col in ("KPI", "A", "B", "B − A (95 % CI)", "p"):
        t.add_column(col, justify="left" if col == "KPI" else "right")
    for k in res.kpis:
        diff = f"{_num(k.kpi, k.diff)} ± {_num(k.kpi, k.diff_ci95)}"
        t.add_row(
            k.kpi,
            _num(k.kpi, k.a_mean),
            _num(k.kpi, k.b_mean),
            f"[bold]{diff}[/bold]" if k.significant else diff,
            "–" if not math.isfinite(k.p_value) else f"{k.p_value:.3g}",
        )
    out.print(f"A: {_u(res.a)} ({res.a_config_hash})\nB: {_u(res.b)} ({res.b_config_hash})")
    out.print(t)
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
            out.print(f"{name:>10}: {_u(p)}")


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
) -> None:
    """Run a parameter sweep; one row per (point, replication) in DIR/results.parquet.

    Rows are stored as runs finish: an interrupted sweep resumes where it stopped.
    """
    from sim.sweep import SweepStore, load_sweep, run_sweep

    _check_executor_options(workers, scheduler)
    sw = load_sweep(sweep_file)
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
    _print_sweep_summary(res, sw.parameters)
    out.print(
        f"{total} runs: {res.computed} computed now, {res.skipped} already stored, "
        f"{res.errors} with errors; {res.wall_s:.1f} s on {res.executor}"
    )
    out.print(f"   results: {_u(res.results_path)}\n   summary: {_u(res.summary_path)}")
    if res.lost:
        raise _fail(
            f"{len(res.lost)} runs were lost to cluster failures and not stored (first: "
            f"{res.lost[0]}); run the same command again to compute them",
            code=1,
        )


def _print_sweep_summary(res: Any, params: list[str], limit: int = 40) -> None:
    kpis = ("join_success_rate", "p95_time_to_join_s", "lost_pupil_minutes")
    t = Table(title="per point: mean ± 95 % CI")
    for p in params:
        t.add_column(_u(p.rsplit(".", 1)[-1] if len(params) > 1 else p), justify="right")
    for k in (*kpis, "n", "errors"):
        t.add_column(k, justify="right")
    for r in res.summary.head(limit).to_dict("records"):
        t.add_row(
            *[_u(r[f"param:{p}"]) for p in params],
            *[f"{_num(k, r[k])} ± {_num(k, r[f'{k}:ci95'])}" for k in kpis],
            str(r["n"]),
            str(r["errors"]),
        )
    out.print(t)
    if len(res.summary) > limit:
        out.print(f"… {len(res.summary) - limit} more points in {_u(res.summary_path)}")


@app.command()
def size(
    config: ConfigArg,
    param: Annotated[
        str,
        typer.Option(
            "--param", help="Integer setting to size, e.g. platforms[0].clusters[0].nodes."
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
    out_file: JsonOut = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
) -> None:
    """Smallest value of --param meeting --target at 95 % confidence, with the Erlang-B bound.

    "answer: none" (exit 0) when more of --param stops helping before the target is met;
    exit 1 if the candidate budget ran out first.
    """
    from sim.sizing import Target, size_capacity

    tgt = Target.parse(target)
    sc = _load(config, set_ or [])

    def show(e: Any) -> None:
        verdict = "[green]meets[/green]" if e.met else "[red]fails[/red]"
        out.print(
            f"  {_u(param)}={e.value}: {tgt.kpi} {_num(tgt.kpi, e.mean)} ± "
            f"{_num(tgt.kpi, e.ci95)} → {verdict}"
        )

    with _executor(workers, scheduler) as ex:
        res = size_capacity(
            sc,
            param,
            tgt,
            replications=replications,
            seed=seed,
            executor=ex,
            max_candidates=max_candidates,
            progress=show,
        )
    a = res.analytic
    if a is not None:
        out.print(
            f"Erlang-B bound: {_u(param)}={a.value} ({a.slots} slots for blocking ≤ "
            f"{a.target_blocking:g} at A = {a.offered_erlangs:,.1f} Erlangs: "
            f"{_u(a.load_source)})"
        )
    else:
        out.print(f"Erlang-B bound: none ({_u(res.analytic_note)})")
    _write_json(out_file, res.to_dict())
    if res.answer is None:
        out.print(f"[bold]answer: none[/bold] — {_u(res.note)}")
        raise typer.Exit(1 if res.outcome == "budget" else 0)
    side = "lower" if tgt.op == ">=" else "upper"
    out.print(
        f"[bold]answer: {_u(param)}={res.answer}[/bold] (smallest value whose 95 % CI {side} "
        f"bound meets {_u(tgt)}; current value {res.current_value})"
    )


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
    from sim.experiment import replications_for_precision
    from sim.metrics import KPI_NAMES

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
        t.add_row(k, "not reached" if n is None else str(n), _num(k, float(last["mean"])),
                  _num(k, float(last["half_width"])))
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


