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
    _decided,
    _executor,
    _fail,
    _note,
    _u,
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
    from sim.report.i18n import Tr
    from sim.report.labels import executor as executor_words

    lang = _check_lang(lang)  # else the base scenario's report.lang (see page_data)
    tr = Tr(lang)
    if from_dir is not None:
        if grid is not None or config is not None:
            raise _fail("--from builds the page from stored runs: give no CONFIG or --grid")
        target = out_dir / "whatif.html" if out_dir is not None else None
        page = write_page(from_dir, target, lang)
        _print_page(page, tr)
        return
    if grid is None or out_dir is None:
        raise _fail("give --grid GRID.yaml and --out DIR (or --from DIR)")
    _check_executor_options(workers, scheduler)
    g = load_grid(grid, base=config)  # refuses a bad or too large grid before anything runs
    sw = g.sweep
    tr = Tr(lang or getattr(getattr(sw.base, "report", None), "lang", None))
    total = len(sw.tasks)
    state = {"reported": -1, "errors": 0}

    def progress(done: int, _total: int, row: dict[str, Any] | None) -> None:
        if row is not None and row.get("error"):
            state["errors"] += 1
        if row is not None and done * 10 // total > state["reported"]:
            state["reported"] = done * 10 // total
            _note(tr("what-if {name}: {done}/{total} runs, {errors} with errors", name=sw.name,
                     done=done, total=total, errors=state["errors"]))

    with _executor(workers, scheduler) as ex:
        _note(tr("what-if {name}: {k} settings × {r} replications = {total} runs, with "
                 "{executor} → {out}", name=sw.name, k=len(sw.points),
                 r=sw.spec.replications, total=total, executor=executor_words(ex.name, tr),
                 out=out_dir))
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
    with _decided():  # the page is written: Ctrl-C no longer undoes it
        out.print(_u(tr(
            "{total} runs: {computed} computed now, {skipped} already stored, {errors} with "
            "errors; {s} on {executor}", total=total, computed=res.computed,
            skipped=res.skipped, errors=res.errors, s=tr.seconds(res.wall_s, 1),
            executor=executor_words(res.executor, tr))))
        _print_page(page, tr)
    if res.lost:
        raise _fail(
            f"{len(res.lost)} runs were lost to cluster failures and not stored (first: "
            f"{res.lost[0]}); run the same command again to compute them",
            code=1,
        )


def _print_page(page: Any, tr: Any) -> None:
    """The page written, and its size."""
    word = tr("page")  # (a message inside an f-string is not extracted)
    size = tr("{mb} MB", mb=tr.num(page.stat().st_size / 1e6, 1))
    out.print(f"{word}: {page} ({size})", markup=False, soft_wrap=True)
