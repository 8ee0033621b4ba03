"""Attribution of lost pupil-minutes: direct accounting and counterfactuals on common random
numbers (``dlsim explain``, :func:`explain`).

**Direct** (from every run, ``sim.model.causes``): the minutes charged to each cause, mean over the
replications. **Recovered**: for each cause present (direct > 0) that has a removal, the same
scenario with that cause removed runs the same replications (the same seeds: common random
numbers), and the recovered minutes are the paired difference ``baseline − without`` with its
95 % t interval (:func:`sim.runs.stats.paired_difference`).

Each removal is one small function below, registered for the causes it removes:

- ``school_server:outdated`` — every outdated server replaced by a current one
  (``assignment.outdated_share = 0``; the overload-crash rule then judges them as current ones).
- ``school_server:current`` — the current tier's workers × 10.
- ``uplink_congestion`` — every school's uplink ten times as fast (each class of
  ``assignment.uplink_mix``; the same schools in each class).
- ``school_server_crash`` — the ``overload_crash`` faults removed.
- ``uplink_outage`` / ``frontend_outage`` / ``node_loss`` / ``dispatcher`` — the faults of
  that kind removed (``dispatcher_failure`` for the dispatcher).
- ``login_service:<platform>`` — that platform's front-end workers × 10.
- ``conference_capacity`` — every cluster's nodes × 10 and no per-node participant limit
  binding (× 10).
- ``rate_limited`` — the join-rate limit policy off.
- ``node_loss_unseen`` — every dispatcher with live counts (``dispatcher.mode: live``): a lost
  node seen at once (this also removes the placement lag between polls).

``moderator_late`` (a teacher arriving after the start, by the timetable's own jitter) and
``school_server_outage`` have no removal: they are reported with their direct share only.

**Degraded minutes** (``conference:degraded``) are not lost: the pupils got in, on a node
past its audio-degradation CPU or its bandwidth. They are a cause of their own, reported
beside the lost minutes (``degraded`` in the result: direct ``degraded_pupil_minutes`` and
the degraded minutes recovered when every node has ten times its CPU and bandwidth), never
added into the lost minutes' shares or ``interaction``.

**Interaction**: removing causes one at a time need not add up. A pupil whose chain first failed
at an overloaded school server may, with the server fixed, fail next at the dispatcher: the
recovered minutes of one cause can exceed or fall short of its direct share, and their sum
differs from the total lost. ``interaction`` in the result is ``Σ recovered − lost``.

**Additivity** (``additivity`` in the result, :func:`additivity`): the causes are said to act
nearly independently only when both the sum and every row agree — Σ recovered is within
±5 % of the total lost (:data:`SUM_TOLERANCE`), and for every cause with a removal its
direct minutes lie within its recovered 95 % interval widened by 5 % of the total lost
(:data:`ROW_TOLERANCE`; the widening keeps a cause of a few minutes from failing the check
by the interval's width alone). A sum that agrees while rows disagree is *offsetting*: one
removal recovers more than its direct share and another less.

**Bounded intervals**: a recovered-minutes interval is the paired t interval clipped to
[0, mean lost]: removing a cause
cannot recover more than was lost, and a recovery below zero — the day worse without the
cause — is not what the interval is asked about; a mean that noise puts below zero is kept
as measured (its interval then reads 0 to 0 or 0 to a small number).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import Scenario
from sim.experiments.comparisons import run_tasks
from sim.experiments.executors import task_for
from sim.model.metrics import as_jsonable
from sim.model.seeds import replication_seeds
from sim.runs.stats import paired_difference

Removal = Callable[[Scenario], Scenario]
SUM_TOLERANCE = 0.05
"""Σ recovered within ±5 % of the total lost counts as adding up (assumption, A107)."""
ROW_TOLERANCE = 0.05
"""A row agrees when its direct minutes lie within its recovered interval widened by this
share of the total lost (assumption, A107)."""


def _without_faults(kind: str) -> Removal:
    def remove(sc: Scenario) -> Scenario:
        out = sc.model_copy(deep=True)
        out.faults = [f for f in out.faults if f.kind != kind]
        return out
    remove.__doc__ = f"The scenario without its {kind} faults."
    return remove


def _outdated_replaced(sc: Scenario) -> Scenario:
    """Every outdated school server replaced by a current one."""
    out = sc.model_copy(deep=True)
    out.assignment.outdated_share = 0.0
    return out


def _current_servers_unbounded(sc: Scenario) -> Scenario:
    """The current tier's school servers with ten times the workers."""
    out = sc.model_copy(deep=True)
    tier = out.school_servers.tiers["current"]
    tier.workers = tier.workers * 10
    return out


def _uplinks_unbounded(sc: Scenario) -> Scenario:
    """Every school's uplink ten times as fast."""
    out = sc.model_copy(deep=True)
    for u in out.assignment.uplink_mix:
        u.mbit_s = u.mbit_s * 10
    return out


def _login_service_unbounded(platform: str) -> Removal:
    def remove(sc: Scenario) -> Scenario:
        out = sc.model_copy(deep=True)
        for p in out.platforms:
            if p.name == platform:
                p.frontend.workers = p.frontend.workers * 10
        return out
    remove.__doc__ = f"Platform {platform}'s front end with ten times the workers."
    return remove


def _capacity_unbounded(sc: Scenario) -> Scenario:
    """Every cluster with ten times the nodes, ten times the participants a node takes."""
    out = sc.model_copy(deep=True)
    for p in out.platforms:
        for c in p.clusters:
            c.nodes = c.nodes * 10
            c.node_max_participants = min(10_000_000, c.node_max_participants * 10)
    return out


def _overload_unbounded(sc: Scenario) -> Scenario:
    """Every node with ten times its CPU and bandwidth (no node runs degraded)."""
    out = sc.model_copy(deep=True)
    for p in out.platforms:
        for c in p.clusters:
            c.node_capacity_mbit_s = c.node_capacity_mbit_s * 10
            if c.node_cpu is not None:
                c.node_cpu = c.node_cpu * 10
    return out


DEGRADED = "conference:degraded"
"""The cause name of degraded (not lost) pupil-minutes."""


def _live_dispatcher(sc: Scenario) -> Scenario:
    """Every platform's dispatcher sees live counts and a lost node at once."""
    out = sc.model_copy(deep=True)
    for p in out.platforms:
        p.dispatcher.mode = "live"
    return out


def _no_rate_limit(sc: Scenario) -> Scenario:
    """The join-rate limit policy off."""
    out = sc.model_copy(deep=True)
    out.policies.join_rate_limit.per_node_per_s = None
    out.policies.join_rate_limit.per_meeting_per_min = None
    return out


REMOVALS: dict[str, Removal] = {
    "school_server:outdated": _outdated_replaced,
    "school_server:current": _current_servers_unbounded,
    "uplink_congestion": _uplinks_unbounded,
    "school_server_crash": _without_faults("overload_crash"),
    "uplink_outage": _without_faults("uplink_outage"),
    "frontend_outage": _without_faults("frontend_outage"),
    "node_loss": _without_faults("node_loss"),
    "dispatcher": _without_faults("dispatcher_failure"),
    "conference_capacity": _capacity_unbounded,
    "rate_limited": _no_rate_limit,
    "node_loss_unseen": _live_dispatcher,
}


def removal_for(cause: str) -> Removal | None:
    """The function that removes ``cause`` from a scenario (None: no removal defined)."""
    if cause.startswith("login_service:"):
        return _login_service_unbounded(cause.split(":", 1)[1])
    return REMOVALS.get(cause)


def _by_cause(result: Any) -> dict[str, Any]:
    """What a task keeps of its run: the lost minutes by cause and the degraded minutes
    (module level: picklable)."""
    return {"causes": dict(result.extra.get("lost_pupil_minutes_by_cause", {})),
            "degraded": float(result.kpis.get("degraded_pupil_minutes", 0.0))}


def _runs(sc: Scenario, seeds: list[int], arm: str, executor: Any | None,
          progress: Callable[[int, int], None] | None) -> list[dict[str, Any]]:
    tasks = [dataclasses.replace(
        task_for(sc, s, key=f"{arm}-{i}", labels={"arm": arm, "replication": i}),
        extract=_by_cause) for i, s in enumerate(seeds)]
    return run_tasks(tasks, executor, progress)


def explain(scenario: Scenario, replications: int = 3, seed: int = 1,
            executor: Any | None = None, causes: list[str] | None = None,
            progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Direct and counterfactual attribution of ``scenario``'s lost pupil-minutes.

    Returns the content of ``attribution.json``: ``lost_pupil_minutes`` (mean) and its
    replications, and per cause ``direct`` (mean minutes charged), ``direct_share``,
    ``recovered_mean``, ``recovered_ci95`` (half-width), ``recovered_lo``/``_hi``, ``n``,
    ``removal`` (what was removed; None: no removal, recovered fields None); then
    ``recovered_sum`` and ``interaction`` (Σ recovered − lost). ``causes``: also run these
    removals even if their direct share is 0 (a check that an absent cause recovers 0).
    """
    if replications < 2:
        raise ValueError("explain needs at least 2 replications (paired intervals)")
    seeds = replication_seeds(seed, replications)

    def step(what: str) -> Callable[[int, int], None] | None:
        return None if progress is None else (lambda d, t: progress(what, d, t))

    base = _runs(scenario, seeds, "baseline", executor, step("baseline"))
    lost = np.array([r["lost_pupil_minutes"] for r in base], dtype=float)
    names = sorted({c for r in base for c in r["extract"]["causes"]}
                   | (set(causes or []) - {DEGRADED}))
    direct = {c: float(np.mean([r["extract"]["causes"].get(c, 0.0) for r in base]))
              for c in names}
    total = float(lost.mean())
    out_causes: dict[str, Any] = {}
    recovered_sum = 0.0
    for c in sorted(names, key=lambda c: -direct[c]):
        entry: dict[str, Any] = {
            "direct": direct[c],
            "direct_share": direct[c] / total if total > 0 else 0.0,
            "removal": None, "recovered_mean": None, "recovered_ci95": None,
            "recovered_lo": None, "recovered_hi": None, "n": len(seeds),
        }
        remove = removal_for(c)
        if remove is not None and (direct[c] > 0 or c in (causes or [])):
            runs = _runs(remove(scenario), seeds, c, executor, step(c))
            without = np.array([r["lost_pupil_minutes"] for r in runs], dtype=float)
            entry.update(_recovered(remove, without, lost))
            recovered_sum += entry["recovered_mean"]
        out_causes[c] = entry
    degraded = _degraded(scenario, seeds, base, executor, step, DEGRADED in (causes or []))
    res = {
        "lost_pupil_minutes": total,
        "lost_pupil_minutes_replications": lost.tolist(),
        "replications": len(seeds),
        "seeds": [int(s) for s in seeds],
        "scenario": scenario.name,
        "config_hash": scenario.config_hash(),
        "config": scenario.model_dump(mode="json"),  # `dlsim report DIR` names things by it
        "causes": out_causes,
        "recovered_sum": recovered_sum,
        "interaction": recovered_sum - total,
        "degraded": degraded,
    }
    res["additivity"] = additivity(res)
    return as_jsonable(res)


def additivity(att: dict[str, Any]) -> dict[str, Any]:
    """Whether the causes act nearly independently (see the module docstring): ``verdict``
    ``independent`` (sum and rows agree), ``offsetting`` (the sum agrees, some row does not),
    ``overlap`` (Σ recovered above the loss) or ``shortfall`` (below it); ``disagreeing``:
    the causes whose direct minutes lie outside their widened recovered interval."""
    total = float(att["lost_pupil_minutes"])
    rsum = float(att["recovered_sum"])
    slack = ROW_TOLERANCE * total
    disagreeing = [
        name for name, c in att["causes"].items()
        if c.get("recovered_mean") is not None
        and not (c["recovered_lo"] - slack <= c["direct"] <= c["recovered_hi"] + slack)]
    if rsum > (1 + SUM_TOLERANCE) * total:
        verdict = "overlap"
    elif rsum < (1 - SUM_TOLERANCE) * total:
        verdict = "shortfall"
    else:
        verdict = "offsetting" if disagreeing else "independent"
    return {"verdict": verdict, "disagreeing": disagreeing,
            "sum_tolerance": SUM_TOLERANCE, "row_tolerance": ROW_TOLERANCE}


def _degraded(scenario: Scenario, seeds: list[int], base: list[dict[str, Any]],
              executor: Any | None, step: Callable[[str], Any], force: bool) -> dict[str, Any]:
    """The ``conference:degraded`` entry: direct degraded pupil-minutes and, if any (or
    ``force``), those recovered by :func:`_overload_unbounded` on the same seeds."""
    deg = np.array([r["extract"]["degraded"] for r in base], dtype=float)
    entry: dict[str, Any] = {
        "cause": DEGRADED, "direct": float(deg.mean()), "removal": None,
        "recovered_mean": None, "recovered_ci95": None, "recovered_lo": None,
        "recovered_hi": None, "n": len(seeds),
    }
    if deg.mean() > 0 or force:
        runs = _runs(_overload_unbounded(scenario), seeds, DEGRADED, executor, step(DEGRADED))
        without = np.array([r["extract"]["degraded"] for r in runs], dtype=float)
        entry.update(_recovered(_overload_unbounded, without, deg))
    return entry


def _recovered(remove: Callable[..., Any], without: np.ndarray,
               base: np.ndarray) -> dict[str, Any]:
    """What a removal recovered on the same seeds: the paired mean of ``base − without``, its
    t half-width, and the interval bounded to [0, the base's mean] (nothing below 0, nothing
    above what there was to recover: the module docstring)."""
    d = paired_difference(without, base)  # baseline − without, per seed
    top = max(float(base.mean()), 0.0)
    lo, hi = (min(max(x, 0.0), top) for x in (d.lo, d.hi))
    return {"removal": (remove.__doc__ or "").strip(), "recovered_mean": d.mean,
            "recovered_ci95": (d.hi - d.lo) / 2, "recovered_lo": lo, "recovered_hi": hi}


def write_attribution(out_dir: str | Path, attribution: dict[str, Any],
                      page: tuple[str, str] | None = None) -> Path:
    """Write ``DIR/attribution.json`` atomically, with ``page`` (name, HTML) in one set (the
    format lives in :mod:`sim.runs.rundir`)."""
    from sim.runs.rundir import write_attribution as write

    return write(out_dir, attribution, page)
