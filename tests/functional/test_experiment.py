"""Experiments: replications on the seed tree, paired comparisons (CRN), replication counts."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim import Scenario, simulate
from sim.experiments.comparisons import (
    compare,
    kpi_difference,
    precision_trace,
    replicate,
    replications_for_precision,
    solution,
)
from sim.experiments.executors import Task, run_task
from sim.experiments.verification import loss_scenario
from sim.model.metrics import KPI_NAMES
from tests.conftest import small_scenario

SETS = ["day.end=10:00"]  # a short morning: the 08:00 peak without the afternoon


@pytest.fixture(scope="module")
def tight() -> Scenario:
    return small_scenario(0.005, SETS, capacity_factor=0.3)


def test_replicate_matches_simulate(tight: Scenario) -> None:
    """Rows from the executor path equal `simulate(..., replications=R)` run by run."""
    rows = replicate(tight, seed=9, replications=2)
    res = simulate(tight, seed=9, replications=2)
    for row, run in zip(rows, res.runs, strict=True):
        assert row["seed"] == run.seed
        assert {k: row[k] for k in KPI_NAMES} == run.kpis


def test_same_scenario_has_zero_paired_difference(tight: Scenario) -> None:
    """Common random numbers: A = B gives identical replications, difference exactly 0."""
    cmp = compare(tight, tight, seed=3, replications=2)
    for k in cmp.kpis:
        assert k.diff == 0.0 and k.diff_ci95 == 0.0 and not k.significant
    assert cmp.a_values == cmp.b_values


def test_more_nodes_is_a_significant_paired_improvement() -> None:
    fewer = small_scenario(0.01, SETS, capacity_factor=0.3)
    more = small_scenario(0.01, SETS, capacity_factor=1.0)
    cmp = compare(fewer, more, seed=3, replications=3)
    by = {k.kpi: k for k in cmp.kpis}
    # load refuses no one: more nodes show as fewer pupil-minutes on overloaded nodes
    deg = by["degraded_share"]
    assert deg.diff < 0 and deg.significant
    assert by["degraded_pupil_minutes"].diff < 0 and by["degraded_pupil_minutes"].significant
    # the paired CI uses the per-replication differences
    d = np.array(cmp.b_values["degraded_share"]) - np.array(cmp.a_values["degraded_share"])
    assert deg.diff == pytest.approx(d.mean())
    table = cmp.table()
    assert list(table["kpi"]) == list(KPI_NAMES) and "significant" in table
    assert cmp.to_dict()["kpis"]["degraded_share"]["significant"] is True


def test_paired_difference_statistics() -> None:
    a = np.array([1.0, 2.0, 3.0, 4.0])
    k = kpi_difference("lost_pupil_minutes", a, a + np.array([0.9, 1.1, 1.0, 1.0]))
    sd = np.std([0.9, 1.1, 1.0, 1.0], ddof=1)
    assert k.diff == pytest.approx(1.0)
    assert k.diff_ci95 == pytest.approx(3.182446305284263 * sd / 2)  # t(0.975, 3)
    assert k.lo == pytest.approx(1.0 - k.diff_ci95) and k.hi == pytest.approx(1.0 + k.diff_ci95)
    assert k.p_value < 0.001 and k.significant and k.meaningful and k.n == 4
    same = kpi_difference("lost_pupil_minutes", a, a)
    assert (same.diff, same.diff_ci95, same.significant) == (0.0, 0.0, False)


def test_comparison_intervals_of_shares_stay_inside_unit_interval() -> None:
    """Two replications near 1: each arm's interval stays in [0, 1], flagged not meaningful."""
    k = kpi_difference("join_success_rate", np.array([0.9975, 0.9805]), np.array([0.999, 0.99]))
    assert 0.0 <= k.a_lo <= k.a_mean <= k.a_hi <= 1.0
    assert 0.0 <= k.b_lo <= k.b_mean <= k.b_hi <= 1.0
    assert k.a_mean + k.a_ci95 > 1.0  # what the plain ± figure would have claimed
    assert not k.meaningful


def test_confidence_interval_method_table() -> None:
    tr = precision_trace([10.0, 12.0, 11.0, 11.0])
    assert list(tr["n"]) == [1, 2, 3, 4]
    assert math.isnan(tr.loc[1, "deviation"])  # n < 3, as in sim-tools
    x = np.array([10.0, 12.0, 11.0])
    half = 4.302652729911275 * x.std(ddof=1) / math.sqrt(3)  # t(0.975, 2)
    assert tr.loc[2, "half_width"] == pytest.approx(half)
    assert tr.loc[2, "deviation"] == pytest.approx(half / 11.0)


def test_solution_needs_the_look_ahead() -> None:
    nan = math.nan
    dev = [nan, nan, 0.3, 0.04, 0.2, 0.04, 0.03, 0.03, 0.02, 0.02, 0.01]
    assert solution(dev, 0.05, initial=3, look_ahead=5) == 6  # 0.04 at n=4 did not hold
    assert solution(dev[:9], 0.05, initial=3, look_ahead=5) is None  # look-ahead not run yet
    assert solution(dev, 0.05, initial=3, look_ahead=0) == 4
    assert solution([nan, nan, 0.0, 0.0], 0.05, initial=3, look_ahead=1) == 3


class _Batched:
    """In-process, but reports a parallelism of 3 (batches like a 3-worker cluster)."""

    name = "batched"
    parallelism = 3

    def run(self, tasks: Sequence[Task]) -> Iterator[dict[str, Any]]:
        for t in reversed(tasks):  # completion order must not matter
            yield run_task(t)


def test_replications_for_precision() -> None:
    """Hoad et al.: the answer depends only on the replication sequence (not on batching or
    completion order); an unreachable precision stops at the budget with no answer."""
    fast = loss_scenario(10.0, 10, arrivals=1_500)  # a quick run with a noisy KPI
    kpi = ["blocking_probability"]
    loose = replications_for_precision(fast, kpi, precision=0.1, look_ahead=1, budget=8, seed=2)
    n = loose.needed["blocking_probability"]
    assert n is not None and loose.replications == n and n + 1 <= loose.runs <= 8
    tr = loose.trace
    assert tr.loc[n - 1, "deviation"] <= 0.1 and tr.loc[n, "deviation"] <= 0.1
    batched = replications_for_precision(
        fast, kpi, precision=0.1, look_ahead=1, budget=8, seed=2, executor=_Batched()
    )
    assert batched.needed == loose.needed
    assert batched.trace["value"].tolist()[: loose.runs] == tr["value"].tolist()
    never = replications_for_precision(fast, kpi, precision=1e-9, budget=3, look_ahead=0)
    assert never.needed == {"blocking_probability": None} and never.replications is None
    assert never.runs == 3
    with pytest.raises(ValueError):
        replications_for_precision(fast, ["no_such_kpi"])


def test_replicated_outputs_carry_bounded_intervals(tight: Scenario) -> None:
    """summary.json's kpis_interval95 and the time-series band stay inside the bounds."""
    from sim.runs.stats import KPI_BOUNDS

    res = simulate(tight, seed=5, replications=2)
    s = res.summary
    assert set(s["kpis_interval95"]) == set(KPI_NAMES) and set(s["kpis_ci95"]) == set(KPI_NAMES)
    for k, iv in s["kpis_interval95"].items():
        assert iv["n"] == 2 and iv["meaningful"] is False
        assert iv["mean"] == pytest.approx(s["kpis"][k]) if iv["mean"] is not None else True
        lo_b, hi_b = KPI_BOUNDS.get(k, (-math.inf, math.inf))
        if iv["lo"] is not None:
            assert lo_b <= iv["lo"] <= iv["mean"] <= iv["hi"] <= hi_b
    ts = res.timeseries
    assert (ts["lo"] >= 0).all() and (ts["lo"] <= ts["value"] + 1e-12).all()
    # a utilisation's band stays within 1, or within what a replication reached above it (an
    # overloaded node runs past its CPU: it degrades, it does not refuse)
    keys = ["t", "component", "metric"]
    seen = (pd.concat([r.timeseries for r in res.runs]).groupby(keys)["value"].max()
            .rename("seen").reset_index())
    util = ts[ts["metric"].str.startswith("utilisation")].merge(seen, on=keys)
    assert not util.empty and (util["hi"] <= np.maximum(1.0, util["seen"]) + 1e-12).all()


def _leaves(d: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _leaves(v, (*path, k))
        else:
            yield (*path, k), v


def _at(d: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path``; 0 where a replication has no such key (a cause it lacked)."""
    for k in path:
        d = d.get(k, {}) if isinstance(d, dict) else {}
    return d if d != {} else 0.0


def test_nested_details_are_the_mean_over_replications(tight: Scenario) -> None:
    """Every number under summary.json's details — nested ones (``joins_per_platform``,
    ``frontends``, ``server_crashes_by_tier``, …) too — is the mean over the replications,
    with its interval in ``details_interval95``; before, nested dicts were replication 1's."""
    res = simulate(tight, seed=5, replications=3)
    det, ivs = res.summary["details"], res.summary.get("details_interval95", {})
    nested = [p for p, v in _leaves(det) if len(p) > 1 and isinstance(v, int | float)
              and not isinstance(v, bool)]
    per_rep = {p: [float(_at(r.extra, p)) for r in res.runs] for p in nested}
    # the check can fail: some nested figure differs between the replications
    assert any(len(set(v)) > 1 for v in per_rep.values())
    for p, vals in per_rep.items():
        assert _at(det, p) == pytest.approx(np.mean(vals)), p
    for p, vals in per_rep.items():
        iv = _at(ivs, p)
        assert iv["lo"] <= _at(det, p) <= iv["hi"], p
        assert iv["lo"] >= 0 or min(vals) < 0, p
