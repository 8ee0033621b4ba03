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

**Interaction**: removing causes one at a time need not add up. A pupil whose chain first failed
at an overloaded school server may, with the server fixed, fail next at the dispatcher: the
recovered minutes of one cause can exceed or fall short of its direct share, and their sum
differs from the total lost. ``interaction`` in the result is ``Σ recovered − lost``.
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


def _by_cause(result: Any) -> dict[str, float]:
    """What a task keeps of its run: the minutes by cause (module level: picklable)."""
    return dict(result.extra.get("lost_pupil_minutes_by_cause", {}))


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
    names = sorted({c for r in base for c in r["extract"]} | set(causes or []))
    direct = {c: float(np.mean([r["extract"].get(c, 0.0) for r in base])) for c in names}
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
            d = paired_difference(without, lost)  # baseline − without, per seed
            entry.update(removal=(remove.__doc__ or "").strip(), recovered_mean=d.mean,
                         recovered_ci95=(d.hi - d.lo) / 2, recovered_lo=d.lo,
                         recovered_hi=d.hi)
            recovered_sum += d.mean
        out_causes[c] = entry
    return as_jsonable({
        "lost_pupil_minutes": total,
        "lost_pupil_minutes_replications": lost.tolist(),
        "replications": len(seeds),
        "seeds": [int(s) for s in seeds],
        "scenario": scenario.name,
        "config_hash": scenario.config_hash(),
        "causes": out_causes,
        "recovered_sum": recovered_sum,
        "interaction": recovered_sum - total,
    })


def write_attribution(out_dir: str | Path, attribution: dict[str, Any]) -> Path:
    """Write ``DIR/attribution.json`` atomically (the format lives in :mod:`sim.runs.rundir`)."""
    from sim.runs.rundir import write_attribution as write

    return write(out_dir, attribution)
