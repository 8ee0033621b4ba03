"""Executors: where replications run — in this process, on a Dask ``LocalCluster`` or on a
remote Dask cluster.

Executors only ever see one pure function, :func:`run_task`, and small picklable
:class:`Task` records (the scenario as plain data, ``--set``-style overrides and a seed). Each
task returns a small dict (KPIs, scalar details, the task's labels, seed, runtime, error,
host); the heavy ``RunResult`` only when a task asks for it (a comparison's run directories).
A run that raises becomes a row with its ``error``: one bad run never kills a sweep. The same
task gives the same KPIs on every executor.
"""

from __future__ import annotations

import logging
import math
import socket
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sim.config import Scenario, scenario_from_dict
from sim.model.causes import COLUMN as CAUSE
from sim.model.costs import scenario_cost
from sim.model.metrics import KPI_NAMES
from sim.model.simulation import simulate_once


@dataclass(frozen=True)
class Task:
    """One replication of one scenario, as plain data (cheap to pickle and ship)."""

    key: str
    """Identity of the row this task produces (stable across re-runs)."""
    base: dict[str, Any]
    """The scenario as ``Scenario.model_dump(mode="json")``."""
    overrides: tuple[str, ...]
    """``a.b[0].c=value`` strings applied to ``base`` before validation."""
    seed: int
    source_path: str | None = None
    """The scenario file the data-file paths are relative to (must exist on the worker)."""
    labels: dict[str, Any] = field(default_factory=dict)
    """Copied into the row: point, replication, parameter values, config hash …"""
    keep_result: bool = False
    """Also return the whole ``RunResult`` (time series, schools) under ``result``."""
    extract: Callable[[Any], Any] | None = None
    """Computed from the ``RunResult`` where the run ran (a module-level function, so that it
    pickles by name) and returned under ``extract``: a small part of a big result without
    shipping the whole (the what-if page's per-minute series)."""


def task_for(
    scenario: Scenario,
    seed: int,
    overrides: Iterable[str] = (),
    key: str = "",
    labels: dict[str, Any] | None = None,
    keep_result: bool = False,
) -> Task:
    """A :class:`Task` running ``scenario`` (plus ``overrides``) with ``seed``."""
    return Task(
        key=key or f"{scenario.config_hash()}-{seed}",
        base=scenario.model_dump(mode="json"),
        overrides=tuple(overrides),
        seed=int(seed),
        source_path=scenario.source_path,
        labels=dict(labels or {}),
        keep_result=keep_result,
    )


def scenario_of(task: Task) -> Scenario:
    """The validated scenario a task runs."""
    sc = scenario_from_dict(task.base, f"<task {task.key}>", task.overrides)
    sc.source_path = task.source_path
    return sc


def _error_text(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno})" if tb else ""
    text = f"{exc.__class__.__name__}: {exc}{where}"
    return text if len(text) <= 2000 else text[:1997] + "..."


LOST = "_lost"
"""Key set in a row that the cluster failed to compute (not a result of the run: not stored)."""


def _blank_row(task: Task) -> dict[str, Any]:
    row: dict[str, Any] = {"key": task.key, **task.labels, "seed": task.seed}
    row.update({k: math.nan for k in KPI_NAMES})
    return row


def error_row(task: Task, exc: BaseException | str, runtime_s: float = math.nan) -> dict[str, Any]:
    """The row of a task that failed (KPIs NaN, ``error`` says why)."""
    row = _blank_row(task)
    row["runtime_s"] = runtime_s
    row["error"] = exc if isinstance(exc, str) else _error_text(exc)
    row["host"] = socket.gethostname()
    return row


def run_task(task: Task) -> dict[str, Any]:
    """Run one task; return its row. Never raises for a failing run (the row has ``error``).

    Returns
    -------
    dict
        ``key``, the task's labels, ``seed``, every KPI (NaN if the run failed), scalar
        details as ``details.<name>``, the lost pupil-minutes by cause as ``cause:<name>``
        (the causes present), ``cost_eur`` (the scenario as configured priced by its
        ``costs:`` section, :func:`sim.model.costs.scenario_cost` — the figure the run report
        shows), ``runtime_s``, ``error`` (None if it ran) and ``host``.
    """
    t0 = time.perf_counter()
    try:
        sc = scenario_of(task)
        res = simulate_once(sc, task.seed)
        cost = scenario_cost(sc, res)["total_eur"]
    except Exception as exc:  # a failing run is a row with its error, never a dead sweep
        return error_row(task, exc, time.perf_counter() - t0)
    row = _blank_row(task)
    for k in KPI_NAMES:
        v = res.kpis.get(k)
        row[k] = math.nan if v is None else float(v)
    for k, v in res.extra.items():
        if isinstance(v, int | float) and not isinstance(v, bool):
            row[f"details.{k}"] = float(v)
    # a sweep's report says who lost the minutes at each point: the direct accounting's
    # scalars travel with the row (a dict would not fit a parquet column)
    for c, v in (res.extra.get("lost_pupil_minutes_by_cause") or {}).items():
        row[CAUSE + str(c)] = float(v)
    row["cost_eur"] = float(cost)
    if task.extract is not None:
        try:
            row["extract"] = task.extract(res)
        except Exception as exc:
            return error_row(task, exc, time.perf_counter() - t0)
    row["runtime_s"] = time.perf_counter() - t0
    row["error"] = None
    row["host"] = socket.gethostname()
    if task.keep_result:
        row["result"] = res
    return row


# ------------------------------------------------------------------------------ executors
class Executor(Protocol):
    """Runs tasks somewhere; yields rows in completion order."""

    name: str
    parallelism: int

    def run(self, tasks: Sequence[Task]) -> Iterator[dict[str, Any]]: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Every task in this process, one after the other (in task order)."""

    name = "serial"
    parallelism = 1

    def run(self, tasks: Sequence[Task]) -> Iterator[dict[str, Any]]:
        for t in tasks:
            yield run_task(t)

    def close(self) -> None:
        pass

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DaskExecutor:
    """Tasks on Dask: a ``LocalCluster`` of ``workers`` processes, or a running scheduler.

    The project must be importable on the scheduler and on every worker (Dask unpickles the
    task graph on the scheduler), and the scenario's data files must exist at the same path
    on every worker.
    """

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        from distributed import Client, LocalCluster

        if (workers is None) == (scheduler is None):
            raise ValueError("give either workers (LocalCluster) or a scheduler address")
        self._cluster: Any = None
        if scheduler is not None:
            self.name = f"dask scheduler {scheduler}"
            self.client = Client(scheduler, timeout="20s")
        else:
            assert workers is not None
            self._cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,  # the model is single-threaded Python: one process each
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.name = f"dask LocalCluster ({workers} worker{'s' if workers != 1 else ''})"
            self.client = Client(self._cluster)
        info = self.client.scheduler_info()
        self.parallelism = max(
            1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values())
        )

    def run(self, tasks: Sequence[Task]) -> Iterator[dict[str, Any]]:
        from distributed import as_completed

        if not tasks:
            return
        futures = self.client.map(run_task, list(tasks), pure=False)
        by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        try:
            for fut in as_completed(futures):
                task = by_key[fut.key]
                try:
                    row = fut.result()
                except Exception as exc:
                    # run_task never raises, so this is the cluster's failure (a worker lost
                    # more often than distributed's allowed-failures, a cancelled task), not
                    # the run's: reported, never stored, so that a re-run computes it
                    row = error_row(task, exc)
                    row[LOST] = True
                fut.release()
                yield row
        finally:
            # interrupted (or the consumer stopped early): do not leave work behind
            pending = [f for f in futures if not f.done()]
            if pending:
                self.client.cancel(pending)

    def close(self) -> None:
        try:
            if self._cluster is not None:
                self.client.shutdown()  # our own LocalCluster: stop it at once (never remote)
            else:
                self.client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_executor(
    workers: int | None = None, scheduler: str | None = None
) -> SerialExecutor | DaskExecutor:
    """Serial without arguments; a Dask ``LocalCluster`` with ``workers``; a remote cluster
    with ``scheduler`` (``tcp://host:port``). Use as a context manager."""
    if workers is not None and scheduler is not None:
        raise ValueError("give --workers or --scheduler, not both")
    if workers is None and scheduler is None:
        return SerialExecutor()
    return DaskExecutor(workers=workers, scheduler=scheduler)
