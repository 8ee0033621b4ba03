"""Command line: ``dlsim run | validate | report | compare | sweep | size | replications``.

Exit codes: 0 success; 2 bad input (config, data, arguments) with one line per problem;
1 internal error (a one-line message; ``DLSIM_DEBUG=1`` shows the traceback); 130 interrupted.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sim.config import ConfigError, load_scenario

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="dlsim: simulate distance-learning infrastructure load (Szenario C school days).",
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

ConfigArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a setting: key.path=value (repeatable)."),
]
PngOpt = Annotated[
    Path | None,
    typer.Option("--png", help="Also export each figure as PNG into this directory (Chromium)."),
]


def _bad_input(exc: ConfigError) -> typer.Exit:
    for line in exc.problems:
        err.print("error: " + line, markup=False, soft_wrap=True)
    return typer.Exit(2)


@app.command()
def validate(config: ConfigArg, set_: SetOpt = None) -> None:
    """Check a scenario file (and its data files); exit 2 with one line per problem."""
    try:
        sc = load_scenario(config, set_ or [])
        from sim.population import load_marginals

        load_marginals(sc)
    except ConfigError as exc:
        raise _bad_input(exc) from None
    out.print(f"{config}: ok ({sc.name}, config hash {sc.config_hash()})")


@app.command()
def run(
    config: ConfigArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("out/run"),
    seed: Annotated[int, typer.Option(help="Root seed of the run.", min=0)] = 1,
    replications: Annotated[
        int, typer.Option(help="Independent replications.", min=1, max=10_000)
    ] = 1,
    set_: SetOpt = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip report.html.")] = False,
    png: PngOpt = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace the results of another scenario in --out."),
    ] = False,
) -> None:
    """Simulate a scenario; write summary.json, timeseries.parquet and report.html.

    --out must be new, empty, or hold results of the same scenario (same config hash):
    results of another scenario are never silently replaced (--force replaces them).
    """
    from sim import simulate

    try:
        sc = load_scenario(config, set_ or [])
        from sim.population import load_marginals

        load_marginals(sc)
    except ConfigError as exc:
        raise _bad_input(exc) from None
    if png is not None:
        _need_chromium()  # before simulating, not after
    created = _prepare_run_dir(out_dir, sc.config_hash(), force)
    t0 = time.perf_counter()
    show = err.is_terminal and not os.environ.get("CI")
    try:
        if show:
            with Progress(
                TextColumn("[bold]simulating[/bold] {task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>5.1f}%"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            ) as bar:
                task = bar.add_task(sc.name, total=1.0)
                res = simulate(
                    sc,
                    seed=seed,
                    replications=replications,
                    progress=lambda f: bar.update(task, completed=f),
                )
        else:
            res = simulate(sc, seed=seed, replications=replications)
    except ConfigError as exc:
        _remove_if_empty(out_dir, created)
        raise _bad_input(exc) from None
    except BaseException:
        _remove_if_empty(out_dir, created)
        raise
    sim_s = time.perf_counter() - t0
    try:
        paths = res.save(out_dir, report=not no_report)
    except OSError as exc:
        _remove_if_empty(out_dir, created)
        raise _fail(
            f"--out {out_dir}: cannot write the results ({exc.strerror or exc}); nothing was "
            "changed there (files are written to temporaries and moved into place together)",
            code=1,
        ) from None
    _print_summary(res.summary, sim_s)
    for name, p in paths.items():
        out.print(f"{name:>10}: {p}")
    if png is not None:
        from sim.report import export_png, run_figures

        for p in export_png(run_figures(res), png):
            out.print(f"{'png':>10}: {p}")
    if "report" in paths:
        out.print(f"\nReport: [bold]{paths['report'].resolve()}[/bold]")


@app.command()
def report(
    directory: Annotated[
        Path,
        typer.Argument(help="A run, sweep or comparison directory.", show_default=False),
    ],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="HTML file (default: DIR/report.html).")
    ] = None,
    png: PngOpt = None,
) -> None:
    """Write the HTML report of a run, sweep or comparison directory (no re-simulation)."""
    from sim.report import ReportInputError, report_directory

    if png is not None:
        _need_chromium()
    try:
        kind, html_path, pngs = report_directory(directory, out_file, png)
    except ReportInputError as exc:
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    for p in pngs:
        out.print(f"{'png':>10}: {p}")
    out.print(f"{kind} report: [bold]{html_path.resolve()}[/bold]")


def _prepare_run_dir(out_dir: Path, config_hash: str, force: bool) -> bool:
    """Check --out before simulating; create it. True if this call created it.

    Refused (exit 2): a file; a directory that is not writable; a directory holding results
    of another scenario (summary.json with another config hash) or other files, unless
    ``force``.
    """
    import json
    import tempfile

    if out_dir.exists() and not out_dir.is_dir():
        raise _fail(f"--out {out_dir}: exists and is not a directory")
    summary = out_dir / "summary.json"
    if out_dir.is_dir() and not force:
        if summary.is_file():
            try:
                old = json.loads(summary.read_text(encoding="utf-8"))["provenance"]["config_hash"]
            except (OSError, ValueError, KeyError, TypeError):
                old = "unreadable"
            if old != config_hash:
                raise _fail(
                    f"--out {out_dir}: holds the results of another scenario (config hash "
                    f"{old}, this run {config_hash}); use --force to replace them, or another --out"
                )
        elif any(out_dir.iterdir()):
            raise _fail(
                f"--out {out_dir}: exists, is not empty and holds no run results (no "
                "summary.json); use --force to write into it anyway, or another --out"
            )
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as exc:
        raise _fail(f"--out {out_dir}: cannot write there ({exc.strerror or exc})") from None
    return created


def _prepare_comparison_dir(out_dir: Path, hash_a: str, hash_b: str, force: bool) -> None:
    """Refuse (exit 2) a --out holding another comparison or other files, unless ``force``."""
    import json

    if out_dir.exists() and not out_dir.is_dir():
        raise _fail(f"--out {out_dir}: exists and is not a directory")
    if not out_dir.is_dir() or force or not any(out_dir.iterdir()):
        return
    try:
        old = json.loads((out_dir / "comparison.json").read_text(encoding="utf-8"))
        pair = (old["a"]["config_hash"], old["b"]["config_hash"])
    except (OSError, ValueError, KeyError, TypeError):
        raise _fail(
            f"--out {out_dir}: exists, is not empty and holds no comparison; use --force to "
            "write into it anyway, or another --out"
        ) from None
    if pair != (hash_a, hash_b):
        raise _fail(
            f"--out {out_dir}: holds another comparison (config hashes {pair[0]} vs "
            f"{pair[1]}, this one {hash_a} vs {hash_b}); use --force to replace it, or "
            "another --out"
        )


def _remove_if_empty(out_dir: Path, created: bool) -> None:
    """Remove the --out directory this run created if nothing was written into it."""
    if created:
        with contextlib.suppress(OSError):
            out_dir.rmdir()


def _need_chromium() -> None:
    """Exit 2 with one line if --png cannot work here (no kaleido, or no Chromium for it)."""
    from sim.report import PngExportUnavailable, check_png_export

    try:
        check_png_export()
    except PngExportUnavailable as exc:
        err.print(f"error: --png: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _print_summary(summary: dict, sim_s: float) -> None:
    from sim.report import KPI_LABELS, _fmt

    t = Table(title=f"{summary['scenario']} — simulated in {sim_s:.1f} s", show_lines=False)
    t.add_column("KPI")
    t.add_column("value", justify="right")
    ci = summary.get("kpis_ci95", {})
    for k, v in summary["kpis"].items():
        val = _fmt(k, v)
        if k in ci:
            val += f" ± {_fmt(k, ci[k])}"
        t.add_row(f"{KPI_LABELS[k][0]} ({k})", val)
    out.print(t)


# ------------------------------------------------------------------------------ experiments
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, max=1024, help="Run on a Dask LocalCluster of N processes."),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="Run on a running Dask cluster, e.g. tcp://HOST:8786."),
]
ReplicationsOpt = Annotated[
    int,
    typer.Option(help="Paired replications (same seeds for every variant).", min=2, max=10_000),
]
JsonOut = Annotated[Path | None, typer.Option("--out", help="Also write the result as JSON.")]


def _note(message: str) -> None:
    """One unwrapped line on stderr."""
    err.print(message, markup=False, soft_wrap=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    """Print one ``error:`` line; the exit to raise (2: bad input)."""
    _note(f"error: {message}")
    return typer.Exit(code)


def _check_executor_options(workers: int | None, scheduler: str | None) -> None:
    """Exit 2 if --workers/--scheduler conflict or the address is not tcp://HOST:PORT."""
    if workers is not None and scheduler is not None:
        raise _fail("give --workers or --scheduler, not both")
    if scheduler is not None and not re.fullmatch(
        r"(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):\d{1,5}", scheduler
    ):
        raise _fail(f"--scheduler {scheduler}: expected tcp://HOST:PORT")
    if scheduler is not None and not 0 < int(scheduler.rsplit(":", 1)[1]) < 65536:
        raise _fail(f"--scheduler {scheduler}: port out of range")


def _executor(workers: int | None, scheduler: str | None) -> Any:
    """The executor the options ask for (exit 2 if they conflict or the cluster is away)."""
    from sim.executors import make_executor

    _check_executor_options(workers, scheduler)
    try:
        return make_executor(workers=workers, scheduler=scheduler)
    except (OSError, TimeoutError) as exc:
        raise _fail(f"--scheduler {scheduler}: cannot connect ({exc})") from None


def _load(config: Path, sets: list[str]) -> Any:
    from sim.population import load_marginals

    sc = load_scenario(config, sets)
    load_marginals(sc)
    return sc


def _num(kpi: str, v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "–"
    if kpi.endswith(("_rate", "_share", "_probability", "_utilisation")):
        return f"{v:.2%}"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def _write_json(path: Path | None, data: dict[str, Any]) -> None:
    if path is not None:
        from sim.io import write_json

        write_json(path, data)
        out.print(f"written: {path}")


@app.command()
def compare(
    config_a: Annotated[Path, typer.Argument(help="Scenario A.", show_default=False)],
    config_b: Annotated[Path, typer.Argument(help="Scenario B.", show_default=False)],
    seed: Annotated[int, typer.Option(help="Root seed.", min=0)] = 1,
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
    out.print(f"A: {res.a} ({res.a_config_hash})\nB: {res.b} ({res.b_config_hash})")
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
            out.print(f"{name:>10}: {p}")


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
    SweepStore(out_dir).prepare(sw, force=force)  # refuse another sweep's DIR before starting
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
                    task_id = bar.add_task(sw.name, total=total, errors=0)
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
    _print_sweep_summary(res, sw.parameters)
    out.print(
        f"{total} runs: {res.computed} computed now, {res.skipped} already stored, "
        f"{res.errors} with errors; {res.wall_s:.1f} s on {res.executor}"
    )
    out.print(f"   results: {res.results_path}\n   summary: {res.summary_path}")
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
        t.add_column(p.rsplit(".", 1)[-1] if len(params) > 1 else p, justify="right")
    for k in (*kpis, "n", "errors"):
        t.add_column(k, justify="right")
    for r in res.summary.head(limit).to_dict("records"):
        t.add_row(
            *[str(r[f"param:{p}"]) for p in params],
            *[f"{_num(k, r[k])} ± {_num(k, r[f'{k}:ci95'])}" for k in kpis],
            str(r["n"]),
            str(r["errors"]),
        )
    out.print(t)
    if len(res.summary) > limit:
        out.print(f"… {len(res.summary) - limit} more points in {res.summary_path}")


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
    seed: Annotated[int, typer.Option(help="Root seed.", min=0)] = 1,
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
            f"  {param}={e.value}: {tgt.kpi} {_num(tgt.kpi, e.mean)} ± "
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
            f"Erlang-B bound: {param}={a.value} ({a.slots} slots for blocking ≤ "
            f"{a.target_blocking:g} at A = {a.offered_erlangs:,.1f} Erlangs: "
            f"{a.load_source})"
        )
    else:
        out.print(f"Erlang-B bound: none ({res.analytic_note})")
    _write_json(out_file, res.to_dict())
    if res.answer is None:
        out.print(f"[bold]answer: none[/bold] — {res.note}")
        raise typer.Exit(1 if res.outcome == "budget" else 0)
    side = "lower" if tgt.op == ">=" else "upper"
    out.print(
        f"[bold]answer: {param}={res.answer}[/bold] (smallest value whose 95 % CI {side} "
        f"bound meets {tgt}; current value {res.current_value})"
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
    seed: Annotated[int, typer.Option(help="Root seed.", min=0)] = 1,
    set_: SetOpt = None,
    out_file: JsonOut = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
) -> None:
    """How many replications a KPI needs for a target 95 % CI half-width (Hoad, Robinson &
    Davies 2010, confidence-interval method with look-ahead). Exit 1 if the budget ran out."""
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


def main(argv: list[str] | None = None) -> None:
    """Entry point with the exit-code contract (never a traceback for bad input)."""
    try:
        rc = app(args=argv, standalone_mode=False)
    except KeyboardInterrupt:
        err.print("interrupted: no partial results were written")
        sys.exit(130)
    except ConfigError as exc:
        for line in exc.problems:
            err.print(f"error: {line}", soft_wrap=True, markup=False)
        sys.exit(2)
    except typer.Abort:
        err.print("interrupted: no partial results were written")
        sys.exit(130)
    except Exception as exc:  # usage errors (exit 2) and internal errors (exit 1)
        show = getattr(exc, "show", None)
        code = getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):  # click/typer usage errors
            show()
            sys.exit(code)
        if os.environ.get("DLSIM_DEBUG"):
            raise
        err.print(
            f"internal error: {exc.__class__.__name__}: {exc} (set DLSIM_DEBUG=1 for a traceback)",
            markup=False,
        )
        sys.exit(1)
    if rc == 130:  # typer turns Ctrl-C inside a command into a return value of 130
        err.print("interrupted: no partial results were written")
    sys.exit(rc if isinstance(rc, int) else 0)
