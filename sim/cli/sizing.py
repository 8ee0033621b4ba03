"""``dlsim size | replications``: how much capacity a target needs, and how many replications
a precise KPI needs."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
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
    _u,
    _write_json,
    app,
    err,
    out,
)
from sim.cli.experiments import _fmt, _kpi_name, _show_progress
from sim.config import MAX_SEED


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
    """Size a lever: the smallest value meeting a target.

    The smallest value of --param meeting --target at 95 % confidence, with the Erlang-B
    bound.

    At population.scale < 1 the search runs on the faithful miniature and a central capacity
    (nodes, workers) is answered for the whole state (miniature answer / scale).

    "answer: none" (exit 0) when more of --param stops helping before the target is met;
    exit 1 if the candidate budget ran out first.
    """
    from sim.config.paths import named_in
    from sim.experiments.sizing import (
        current_value,
        positional_param,
        size_capacity,
        whole_state_step,
    )
    from sim.experiments.targets import Target

    tgt = Target.parse(target)
    sc = _load(config, set_ or [])
    shown = escape(named_in(sc, positional_param(sc, param)))  # a bad name: exit 2 now
    current_value(sc, param)
    step = whole_state_step(sc, param)  # every count printed is the whole state's first
    with (
        _executor(workers, scheduler) as ex,
        _sizing_progress(lambda e: _print_candidate(shown, tgt, e, step, sc), max_candidates,
                         replications) as (on_candidate, tick),
    ):
        res = size_capacity(sc, param, tgt, replications=replications, seed=seed, executor=ex,
                            max_candidates=max_candidates, progress=on_candidate,
                            run_progress=tick)
    _print_bound(res, step)
    _write_json(out_file, res.to_dict())
    if res.answer is None:
        out.print(f"[bold]answer: none[/bold] — {escape(res.note)}")
        raise typer.Exit(1 if res.outcome == "budget" else 0)
    _print_answer(res)
    if confirm:
        _confirm_whole_state(res, sc, workers, scheduler, out_file)


@contextlib.contextmanager
def _sizing_progress(
    show: Callable[[Any], None], max_candidates: int, replications: int
) -> Iterator[tuple[Callable[[Any], None], Callable[[int, int], None] | None]]:
    """How a search shows its progress: ``show`` each candidate's evidence and, on a
    terminal, a bar of the current candidate's replications. Yields (on each candidate, on
    each replication or None)."""
    if not _show_progress():
        yield show, None
        return
    with Progress(
        TextColumn("[bold]sizing[/bold] {task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task_id = bar.add_task(f"candidate 1 of at most {max_candidates}", total=replications)
        state = {"candidate": 1}

        def tick(done: int, of: int) -> None:
            bar.update(task_id, completed=done, total=of)

        def show_and_advance(e: Any) -> None:
            show(e)
            state["candidate"] += 1
            bar.update(task_id, completed=0, description=(
                f"candidate {state['candidate']} of at most {max_candidates}"))

        yield show_and_advance, tick


def _whole(value: int, step: float, scale: float) -> str:
    """A searched count for the whole state, the miniature's own beside it in brackets."""
    if step == 1.0:
        return f"{value}"
    return f"{value * step:,.0f} for the whole state ({value} at scale {scale:g})"


def _print_candidate(shown: str, tgt: Any, e: Any, step: float = 1.0, sc: Any = None) -> None:
    """One candidate's line: its value (the whole state's), the KPI's mean and interval,
    and whether it meets."""
    verdict = "[green]meets[/green]" if e.met else "[red]fails[/red]"
    band = (
        f" (95 % interval {_fmt(tgt.kpi, e.lo)} to {_fmt(tgt.kpi, e.hi)})"
        if math.isfinite(e.lo) and math.isfinite(e.hi)
        else ""
    )
    scale = sc.population.scale if sc is not None else 1.0
    out.print(f"  {shown}={_whole(e.value, step, scale)}: {_kpi_name(tgt.kpi)} "
              f"{_fmt(tgt.kpi, e.mean)}{band} → {verdict}", soft_wrap=True)


def _print_bound(res: Any, step: float = 1.0) -> None:
    """The Erlang-B bound beside the answer (the whole state's count), or why there is none."""
    a = res.analytic
    if a is not None:
        out.print(
            f"Erlang-B bound: {escape(res.param_named)}={_whole(a.value, step, res.scale)} "
            f"({'' if step == 1.0 else f'miniature at scale {res.scale:g}: '}{a.slots} slots for "
            f"blocking ≤ {a.target_blocking:g} at A = {a.offered_erlangs:,.1f} Erlangs: "
            f"{escape(a.load_source)})"
        )
    else:
        out.print(f"Erlang-B bound: none ({escape(res.analytic_note)})")


def _print_answer(res: Any) -> None:
    """The answer: for the whole state when a central capacity was searched in miniature,
    else the value itself; with the bound that proves it and the current value."""
    param, tgt = escape(res.param_named), res.target
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


def _confirm_whole_state(res: Any, sc: Any, workers: int | None, scheduler: str | None,
                         out_file: Path | None) -> None:
    """--confirm: run a miniature search's whole-state answer at scale 1 and say whether it
    meets the target there (nothing to confirm for a search at scale 1)."""
    from sim.experiments.sizing import confirm_at_full_scale

    if not res.central:
        out.print("--confirm: nothing to confirm (the search ran at scale 1, or the "
                  "setting is not a central capacity)")
        return
    with _executor(workers, scheduler) as ex:
        c = confirm_at_full_scale(res, sc, ex)
    tgt = res.target
    verdict = "[green]meets[/green]" if c["met"] else "[red]fails[/red]"
    out.print(
        f"confirmed at scale 1 ({c['replications']} replications, the search's seeds): "
        f"{escape(res.param_named)}={c['value']:,}: {_kpi_name(tgt.kpi)} "
        f"{_fmt(tgt.kpi, c['mean'])} (95 % interval {_fmt(tgt.kpi, c['lo'])} to "
        f"{_fmt(tgt.kpi, c['hi'])}) → {verdict}", soft_wrap=True)
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
    """Replications needed for a target CI width.

    How many replications the KPIs need for a target 95 % CI half-width.

    Hoad, Robinson & Davies (2010), the confidence-interval method with look-ahead.
    Exit 1 if the budget ran out first.
    """
    from sim.experiments.comparisons import replications_for_precision
    from sim.experiments.targets import unknown_kpi
    from sim.model.metrics import KPI_NAMES

    unknown = [k for k in kpi if k not in KPI_NAMES]
    if unknown:
        raise _fail(f"--kpi {unknown[0]}: {unknown_kpi(unknown[0])}")
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


