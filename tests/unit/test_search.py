"""sim.decide.search: which combinations are screened, and the Optuna search on a known function."""

from __future__ import annotations

import pytest

from sim.config import ConfigError
from sim.decide.search import MAX_EXHAUSTIVE, Outcome, choose, optuna_search


def test_choose_exhaustive_when_it_fits() -> None:
    assert choose("auto", 10, 3, 40, None) == ("exhaustive", 10)
    assert choose("auto", 10, 3, 40, 70) == ("exhaustive", 10)
    assert choose("exhaustive", 10, 3, 40, None) == ("exhaustive", 10)


def test_choose_optuna_over_the_budget() -> None:
    # 100 combinations × 3 + 40 > 160: (160 − 40) // 3 = 40 combinations
    assert choose("auto", 100, 3, 40, 160) == ("optuna", 40)
    assert choose("optuna", 10, 3, 40, 1000) == ("optuna", 10)  # never more than there are


@pytest.mark.parametrize(("args", "names"), [
    (("nope", 10, 3, 40, None), "--search nope"),
    (("exhaustive", 100, 3, 40, 160), "--budget-runs 160"),
    (("optuna", 100, 3, 40, None), "--budget-runs"),
    (("auto", 100, 3, 40, 60), "--budget-runs 60"),  # room for 6 < 10 combinations
    (("auto", MAX_EXHAUSTIVE + 1, 3, 40, None), "--budget-runs"),
    (("auto", 10, 3, 40, 0), "--budget-runs 0"),
])
def test_choose_refuses_naming_the_option(args: tuple, names: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as exc:
        choose(*args)
    assert exc.value.problems[0].startswith(names), exc.value.problems


def _toy() -> tuple[list[tuple[str, list[int]]], object]:
    # cost 3x + 2y; feasible when x·y ≥ 24 (a capacity of x nodes × y slots); 40 × 40 values
    levers = [("x", list(range(1, 41))), ("y", list(range(40, 0, -1)))]  # y listed backwards
    calls: list[list[tuple[int, ...]]] = []

    def evaluate(combos: list[tuple[int, ...]]) -> list[Outcome]:
        calls.append(combos)
        return [Outcome(3.0 * x + 2.0 * y, 100.0 / (x * y), ((24 - x * y) / 24,))
                for x, y in combos]

    return levers, (evaluate, calls)


def test_optuna_search_budget_batches_and_seed() -> None:
    levers, (evaluate, calls) = _toy()  # type: ignore[misc]
    order = optuna_search(levers, evaluate, budget=120, batch=6, seed=3)
    assert len(order) == len(set(order)) <= 120  # distinct combinations within the budget
    assert all(len(b) <= 6 for b in calls) and sum(map(len, calls)) == len(order)
    again_levers, (again_eval, _) = _toy()  # type: ignore[misc]
    assert optuna_search(again_levers, again_eval, budget=120, batch=6, seed=3) == order
    # the cheapest feasible (x·y ≥ 24, min 3x + 2y: x = 4, y = 6 → 24) is among those tried
    feasible = [c for c in order if c[0] * c[1] >= 24]
    best = min(feasible, key=lambda c: 3 * c[0] + 2 * c[1])
    assert 3 * best[0] + 2 * best[1] == min(
        3 * x + 2 * y for x in range(1, 41) for y in range(1, 41) if x * y >= 24)


def test_optuna_search_small_space_is_exhausted() -> None:
    seen: list[tuple[int, str]] = []

    def evaluate(combos: list[tuple[int, str]]) -> list[Outcome]:
        seen.extend(combos)
        return [Outcome(float(a) + (b == "q"), 0.0, (0.0,)) for a, b in combos]

    order = optuna_search([("a", [1, 2, 3]), ("b", ["p", "q"])], evaluate, budget=100,
                          batch=4, seed=1)
    assert sorted(order, key=str) == sorted(
        [(a, b) for a in (1, 2, 3) for b in ("p", "q")], key=str)
    assert len(seen) == 6  # each run once
