"""``dlsim whatif``: a grid of settings simulated as a sweep, shown on one offline page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sim.cli.common import (
    LangOpt,
    SchedulerOpt,
    WorkersOpt,
    _check_executor_options,
    _check_lang,
    _executor,
    _fail,
    _note,
    app,
    out,
)


@app.command()
def whatif(
    config: Annotated[
        Path | None,
        typer.Argument(
            help="Scenario the grid varies (default: the grid file's base).", show_default=False
        ),
    ] = None,
    grid: Annotated[
        Path | None, typer.Option("--grid", help="What-if grid YAML (a sweep file + labels).")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="What-if directory (resumable).")
    ] = None,
    from_dir: Annotated[
        Path | None,
        typer.Option("--from", help="Build the page from an existing what-if/sweep directory."),
    ] = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Discard another sweep's results in --out.")
    ] = False,
    retry_errors: Annotated[
        bool, typer.Option("--retry-errors", help="Run failed runs again.")
    ] = False,
    lang: LangOpt = None,
) -> None:
    """Write the offline what-if page of a grid.

    Simulate every combination of a grid and write DIR/whatif.html: one offline page with a
    control per lever, the day's charts, key figures with 95 % CIs and the service verdict.

    Runs are stored as they finish: an interrupted run resumes where it stopped.
    """
    from sim.decide.whatif import load_grid, run_whatif, write_page

    lang = _check_lang(lang)  # else the base scenario's report.lang (see page_data)
    if from_dir is not None:
        if grid is not None or config is not None:
            raise _fail("--from builds the page from stored runs: give no CONFIG or --grid")
        target = out_dir / "whatif.html" if out_dir is not None else None
        page = write_page(from_dir, target, lang)
        out.print(f"page: {page} ({page.stat().st_size / 1e6:.1f} MB)")
        return
    if grid is None or out_dir is None:
        raise _fail("give --grid GRID.yaml and --out DIR (or --from DIR)")
    _check_executor_options(workers, scheduler)
    g = load_grid(grid, base=config)  # refuses a bad or too large grid before anything runs
    sw = g.sweep
    total = len(sw.tasks)
    state = {"reported": -1, "errors": 0}

    def progress(done: int, _total: int, row: dict[str, Any] | None) -> None:
        if row is not None and row.get("error"):
            state["errors"] += 1
        if row is not None and done * 10 // total > state["reported"]:
            state["reported"] = done * 10 // total
            _note(f"whatif {sw.name}: {done}/{total} runs, {state['errors']} errors")

    with _executor(workers, scheduler) as ex:
        _note(
            f"whatif {sw.name}: {len(sw.points)} settings × {sw.spec.replications} "
            f"replications = {total} runs on {ex.name} → {out_dir}"
        )
        try:
            res, page = run_whatif(g, out_dir, ex, force, retry_errors, progress, lang)
        except KeyboardInterrupt:
            _note(f"interrupted: the runs stored in {out_dir} are kept; run the same command "
                  "again to resume")
            raise SystemExit(130) from None
        except OSError as exc:
            raise _fail(
                f"--out {out_dir}: cannot store results ({exc.strerror or exc}); the runs "
                "stored so far are intact; fix that and run the same command again to resume",
                code=1,
            ) from None
    out.print(
        f"{total} runs: {res.computed} computed now, {res.skipped} already stored, "
        f"{res.errors} with errors; {res.wall_s:.1f} s on {res.executor}"
    )
    out.print(f"page: {page} ({page.stat().st_size / 1e6:.1f} MB)")
    if res.lost:
        raise _fail(
            f"{len(res.lost)} runs were lost to cluster failures and not stored (first: "
            f"{res.lost[0]}); run the same command again to compute them",
            code=1,
        )
