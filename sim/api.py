"""The analyst's front door: sweeps, comparisons and sizing from Python, as tidy frames.

```python
import sim
sc = sim.load_scenario(sim.config_path("lower-saxony-scenario-c.yaml"), ["population.scale=0.05"])
df = sim.sweep(sc, {"platforms[iserv].clusters[iserv-bbb].nodes": [8, 16, 24]},
               replications=5, workers=2)
df.groupby(["platforms[iserv].clusters[iserv-bbb].nodes", "kpi"])["value"].mean()
cmp = sim.compare(sc, sc_b, replications=5)      # one row per KPI: a, b, diff, lo, hi, p_value
fit = sim.size(sc, "platforms[iserv].clusters[iserv-bbb].nodes", "join_success_rate>=0.99")
```

Every function runs on the same executors as the command line (this process, or a Dask
``LocalCluster`` of ``workers`` processes, or a running cluster at ``scheduler``); the same
seed gives the same numbers on each. Intervals come from :mod:`sim.runs.stats` and stay inside each
KPI's bounds. Config paths are accepted by position or by name and come back by name.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import ConfigError, Scenario, load_scenario, with_overrides
from sim.experiments.replications import Results
from sim.model.metrics import KPI_NAMES

#: Columns of :func:`sweep`'s frame, around the parameter columns (named config paths).
SWEEP_COLUMNS = ("point", "replication", "seed", "kpi", "value", "error")
#: Columns of :func:`compare`'s frame.
COMPARE_COLUMNS = (
    "kpi", "a", "a_lo", "a_hi", "b", "b_lo", "b_hi", "diff", "lo", "hi", "p_value", "n",
    "significant", "meaningful",
)
#: Columns of :func:`size`'s frame.
SIZE_COLUMNS = ("param", "value", "kpi", "mean", "lo", "hi", "bound", "meets", "answer",
                "value_miniature")

def _config_dirs() -> list[Path]:
    """Where the shipped configs may be, in order: the repository this package sits in (a
    checkout or an editable install: its files are the ones being edited), then the data
    directory a wheel installs them into (``<prefix>/share/dlsim/configs``, see
    pyproject.toml), found from the interpreter and from the package's own location."""
    import sysconfig

    pkg = Path(__file__).resolve().parent
    dirs = [pkg.parent / "configs"]
    for prefix in (Path(sysconfig.get_path("data")), *pkg.parents[2:4]):
        d = prefix / "share" / "dlsim" / "configs"
        if d not in dirs:
            dirs.append(d)
    return dirs


def config_dir() -> Path:
    """The directory of the shipped scenario files (``configs/``, beside ``data/``).

    Found through the installed package (a checkout, an editable install or a wheel), not
    the working directory; :class:`FileNotFoundError` says where it looked.
    """
    dirs = _config_dirs()
    for d in dirs:
        if (d / "lower-saxony-scenario-c.yaml").is_file():
            return d
    raise FileNotFoundError(
        "the shipped scenario files are not installed (looked in "
        + ", ".join(str(d) for d in dirs)
        + "); reinstall dlsim, or pass the path of a scenario file"
    )


def config_path(name: str) -> Path:
    """Path of a shipped scenario or sweep file, e.g. ``"lower-saxony-scenario-c.yaml"`` or
    ``"sweeps/nodes-x-stagger.yaml"`` — wherever dlsim is installed, so a notebook copied out
    of the repository still finds them. :class:`FileNotFoundError` lists what is shipped."""
    d = config_dir()
    p = (d / name).resolve()
    if not p.is_file() or d.resolve() not in p.parents:
        shipped = sorted(str(f.relative_to(d)) for f in d.rglob("*.yaml"))
        raise FileNotFoundError(
            f"no shipped config {name!r} in {d} (shipped: {', '.join(shipped)})"
        )
    return p


def _scenario(scenario: Scenario | str | Path, overrides: Sequence[str] = ()) -> Scenario:
    if isinstance(scenario, Scenario):
        return with_overrides(scenario, overrides)
    return load_scenario(scenario, overrides)


def week(
    config: str | Path,
    out: str | Path | None = None,
    *,
    replications: int | None = None,
    scale: float | None = None,
    workers: int | None = None,
    overrides: Sequence[str] = (),
    lang: str | None = None,
    force: bool = False,
) -> pd.DataFrame:
    """Run a week file (days in order, each carrying over what the day before taught) and
    return the tidy frame: one row per day × replication × figure (``day``, ``date``,
    ``replication``, ``seed``, ``kpi``, ``value``; figures are the KPIs and
    ``<platform>.<figure>``). With ``out``, the week's directory as ``dlsim week`` writes it
    (resumable). See :func:`sim.experiments.week.week`."""
    from sim.experiments.week import week as run

    return run(config, out, replications=replications, scale=scale, workers=workers,
               overrides=overrides, lang=lang, force=force)


def calibrate(
    config: str | Path,
    priors: str | Path,
    targets: str | Path,
    out: str | Path,
    *,
    scale: float = 0.01,
    population: int = 40,
    generations: int = 6,
    budget_runs: int = 1200,
    min_epsilon: float = 0.5,
    seed: int = 1,
    predictive: int = 30,
    full_scale: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
) -> dict[str, Any]:
    """``dlsim calibrate`` from Python: ABC-SMC over the priors against the targets' fitted
    figures, in the directory ``out`` (resumed when it holds this calibration). Returns what
    ``out/calibration.json`` holds: per input prior and posterior 90 % intervals and whether
    the figures identify it, per target the posterior-predictive mean and 90 % interval,
    held out, covered. The posterior itself: ``out/posterior.parquet`` (its last
    generation). See docs/calibration.md."""
    from sim.uncertainty.calibrate import Settings
    from sim.uncertainty.calibration_out import calibrate as run

    settings = Settings(scale=scale, population_size=population, generations=generations,
                        budget_runs=budget_runs, min_epsilon=min_epsilon, seed=seed,
                        predictive_draws=predictive)
    return run(Path(config), Path(priors), Path(targets), Path(out), settings, workers,
               scheduler, full_scale)


@contextmanager
def _executor(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    from sim.experiments.executors import make_executor

    with make_executor(workers=workers if workers and workers > 1 else None,
                       scheduler=scheduler) as ex:
        yield ex


def sweep(
    scenario: Scenario | str | Path,
    parameters: Mapping[str, Sequence[Any] | Mapping[str, Any]],
    replications: int = 1,
    workers: int | None = None,
    seed: int = 1,
    *,
    overrides: Sequence[str] = (),
    sampling: str = "grid",
    points: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
    scheduler: str | None = None,
    progress: Callable[[int, int, dict[str, Any] | None], None] | None = None,
) -> pd.DataFrame:
    """Run a parameter sweep and return one row per point × replication × KPI.

    Parameters
    ----------
    scenario
        A :class:`~sim.config.Scenario` or the path of a scenario file.
    parameters
        Config path → values (a grid: every combination, the first path slowest), or with
        ``sampling="lhs"`` path → ``{"low": …, "high": …}`` and ``points``. Paths by
        position or by name (``platforms[iserv].clusters[iserv-bbb].nodes``).
    replications, seed
        Replication ``i`` of every point uses the same seed (common random numbers).
    workers
        Processes of a Dask ``LocalCluster`` (None or 1: this process). ``scheduler``
        instead runs on a cluster at ``tcp://host:port``. Same seed, same numbers on each.
    overrides
        ``--set``-style strings applied to the scenario first.
    out
        A sweep directory to keep the runs in (resumable: calling again with the same sweep
        computes only what is missing; results.parquet and summary.parquet as
        ``dlsim sweep`` writes them; ``sim.report_directory(out)`` writes its report).
        Default: a temporary directory, removed afterwards. ``force``: replace another
        sweep's results in ``out`` instead of refusing.
    progress
        ``progress(done, total, row)`` after each run.

    Returns
    -------
    pandas.DataFrame
        Columns ``point`` (0-based index of the point), one column per parameter named by
        its config path with list elements by name, ``replication``, ``seed``, ``kpi`` (a KPI
        name, :data:`sim.model.metrics.KPI_NAMES`), ``value`` (float; NaN where the KPI is undefined
        or the run failed) and ``error`` (None unless the run failed). Sorted by point,
        replication, KPI order. ``df.attrs`` holds ``name``, ``replications``, ``seeds``
        and ``out`` (the directory, if kept).

    Raises
    ------
    ConfigError
        A bad path, value or combination (one line per problem).
    """
    from sim.experiments.sweep.runner import run_sweep

    sw = _sweep_of(_scenario(scenario, overrides), parameters, sampling, points, replications,
                   seed)
    with tempfile.TemporaryDirectory(prefix="dlsim-sweep-") as tmp:
        where = Path(out) if out is not None else Path(tmp)
        with _executor(workers, scheduler) as ex:
            res = run_sweep(sw, where, ex, force=force, progress=progress)
        if res.lost:
            raise RuntimeError(
                f"{len(res.lost)} runs were lost to cluster failures (first: {res.lost[0]})"
            )
        results = res.results
    tidy = _tidy_sweep(results, sw)
    tidy.attrs.update(
        name=sw.name, replications=replications, seeds=list(sw.seeds),
        out=str(out) if out is not None else None,
    )
    return tidy


def _sweep_of(base: Scenario, parameters: Mapping[str, Sequence[Any] | Mapping[str, Any]],
              sampling: str, points: int | None, replications: int, seed: int) -> Any:
    """The sweep the arguments describe, checked as a sweep file would be."""
    from sim.experiments.sweep.spec import build_sweep, check_spec

    src = "sim.sweep"
    data: dict[str, Any] = {
        "name": base.name,
        "base": base.source_path or "<python>",
        "sampling": sampling,
        "parameters": {k: (dict(v) if isinstance(v, Mapping) else list(v))
                       for k, v in parameters.items()},
        "replications": replications,
        "seed": seed,
    }
    if points is not None:
        data["points"] = points
    spec = check_spec(data, src)
    return build_sweep(spec, base, Path(src), base.name)


def _tidy_sweep(results: pd.DataFrame, sw: Any) -> pd.DataFrame:
    """The sweep's results in long form: one row per point × replication × KPI (KPIs in
    their order), parameters named by path with list elements by name."""
    from sim.experiments.sweep.spec import PARAM

    names = sw.named_parameters
    cols = [PARAM + p for p in sw.parameters]
    keep = ["point", *cols, "replication", "seed", "error"]
    tidy = results[keep + list(KPI_NAMES)].melt(
        id_vars=keep, value_vars=list(KPI_NAMES), var_name="kpi", value_name="value"
    )
    order = {k: i for i, k in enumerate(KPI_NAMES)}
    tidy = (
        tidy.assign(_k=tidy["kpi"].map(order))
        .sort_values(["point", "replication", "_k"], kind="stable")
        .drop(columns="_k")
        .rename(columns={PARAM + p: names[p] for p in sw.parameters})
        .reset_index(drop=True)
    )
    tidy["value"] = tidy["value"].astype(float)
    tidy["error"] = tidy["error"].astype(object).where(tidy["error"].notna(), None)
    return tidy[["point", *names.values(), "replication", "seed", "kpi", "value", "error"]]


def compare(
    a: Scenario | str | Path | Results,
    b: Scenario | str | Path | Results,
    replications: int = 5,
    workers: int | None = None,
    seed: int = 1,
    *,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Paired comparison B − A on common random numbers, one row per KPI.

    ``a`` and ``b`` are scenarios (or their files), simulated here, or two
    :class:`~sim.experiments.replications.Results` already simulated on the same seeds
    (compared as they are: ``replications``, ``seed`` and the executor are not used).

    Columns (:data:`COMPARE_COLUMNS`): ``kpi``; ``a``, ``b`` (means) with ``a_lo``/``a_hi``,
    ``b_lo``/``b_hi`` (95 % intervals inside the KPI's bounds); ``diff`` (mean of B − A per
    replication pair) with ``lo``/``hi`` (paired t interval) and ``p_value`` (paired t-test);
    ``n`` (pairs), ``significant`` (the interval excludes 0), ``meaningful`` (n ≥ 3).
    ``df.attrs`` holds the scenario names, config hashes and seeds.
    """
    from sim.experiments.comparisons import compare as run_compare

    if isinstance(a, Results) and isinstance(b, Results):
        from sim.views import compare_runs

        return compare_runs(a, b)
    if isinstance(a, Results) or isinstance(b, Results):
        raise TypeError("compare two Results, or two scenarios, not one of each")
    sa, sb = _scenario(a), _scenario(b)
    with _executor(workers, scheduler) as ex:
        res = run_compare(sa, sb, seed=seed, replications=replications, executor=ex)
    df = pd.DataFrame(
        [
            {
                "kpi": k.kpi, "a": k.a_mean, "a_lo": k.a_lo, "a_hi": k.a_hi,
                "b": k.b_mean, "b_lo": k.b_lo, "b_hi": k.b_hi, "diff": k.diff,
                "lo": k.lo, "hi": k.hi, "p_value": k.p_value, "n": k.n,
                "significant": k.significant, "meaningful": k.meaningful,
            }
            for k in res.kpis
        ],
        columns=list(COMPARE_COLUMNS),
    )
    df.attrs.update(a=res.a, b=res.b, a_config_hash=res.a_config_hash,
                    b_config_hash=res.b_config_hash, seed=seed, seeds=list(res.seeds))
    return df


def size(
    scenario: Scenario | str | Path,
    param: str,
    target: str,
    replications: int = 5,
    workers: int | None = None,
    seed: int = 1,
    *,
    max_candidates: int = 16,
    scheduler: str | None = None,
    confirm: bool = False,
) -> pd.DataFrame:
    """Smallest integer value of ``param`` meeting ``target`` (e.g. ``"join_success_rate>=0.99"``)
    at 95 % confidence, as one row per candidate value simulated.

    Every count is the whole state's, as :func:`sweep` takes them. At ``population.scale``
    < 1 the search runs on the faithful miniature (``sim.model.scale``), whose counts are
    small integers: for a central capacity (nodes, workers) one miniature node stands for
    ``1 / scale`` of the state's, and the miniature's own count is kept beside it in
    ``value_miniature`` (equal to ``value`` at scale 1 or for a setting that is not scaled).

    Columns (:data:`SIZE_COLUMNS`): ``param`` (named path), ``value`` (whole state),
    ``kpi``, ``mean``, ``lo``/``hi`` (95 % interval inside the KPI's bounds), ``bound`` (the
    end that must meet the target), ``meets``, ``answer`` (True on the row of the answer),
    ``value_miniature``. ``df.attrs``: ``answer`` and ``current_value`` (whole state; the
    answer None if not reached), ``answer_miniature`` and ``current_miniature`` (what was
    simulated), ``outcome``, ``note``, ``target``, ``scale``, ``central``, the Erlang-B
    ``analytic`` bound where there is one (in the miniature's counts) and, with
    ``confirm=True``, ``confirmation``: the whole-state answer run at scale 1.
    """
    from dataclasses import asdict

    from sim.experiments.sizing import confirm_at_full_scale, size_capacity

    sc = _scenario(scenario)
    with _executor(workers, scheduler) as ex:
        res = size_capacity(sc, param, target, replications=replications, seed=seed,
                            executor=ex, max_candidates=max_candidates)
        if confirm and res.central and res.answer is not None:
            confirm_at_full_scale(res, sc, ex)
    t = res.table()
    df = pd.DataFrame(
        {
            "param": res.param_named,
            "value": [_count(res.whole_state(int(v))) for v in t["value"]],
            "kpi": res.target.kpi,
            "mean": t["mean"],
            "lo": t["lo"],
            "hi": t["hi"],
            "bound": t["bound"],
            "meets": t["meets"].astype(bool),
            "answer": t["value"] == res.answer,
            "value_miniature": t["value"],
        },
        columns=list(SIZE_COLUMNS),
    )
    whole = res.answer_whole_state
    df.attrs.update(
        answer=None if whole is None else _count(whole), answer_miniature=res.answer,
        outcome=res.outcome, note=res.note, target=str(res.target), param=res.param_named,
        current_value=res.current_whole_state if res.central else res.current_value,
        current_miniature=res.current_value,
        analytic=asdict(res.analytic) if res.analytic else None,
        scale=res.scale, central=res.central, confirmation=res.confirmation,
        # the names before every count was the whole state's (kept for older notebooks)
        answer_whole_state=whole, current_whole_state=res.current_whole_state,
    )
    return df


def _count(v: float) -> int | float:
    """A whole-state count as an int where it is one (sizing.whole_count)."""
    from sim.experiments.sizing import whole_count

    return whole_count(v)


__all__ = [
    "COMPARE_COLUMNS",
    "SIZE_COLUMNS",
    "SWEEP_COLUMNS",
    "ConfigError",
    "calibrate",
    "compare",
    "config_dir",
    "config_path",
    "size",
    "sweep",
]
