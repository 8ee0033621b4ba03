"""Sensitivity designs and indices (sim/uncertainty/sensitivity.py) on functions whose answer
is known: an input with no effect has μ* = 0 and Sobol ST ≈ 0; a linear input has σ = 0; the
budget rule; the design maps the unit cube through the priors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.uncertainty.priors import load_priors
from sim.uncertainty.sensitivity import design_size, indices, make_design

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def three(tmp_path: Path):
    inputs = [
        {"path": "assignment.outdated_share", "dist": "uniform",
         "params": {"loc": 0.2, "scale": 0.3}, "source": "A24"},
        {"path": "behaviour.webcam_share_pupils", "dist": "uniform",
         "params": {"loc": 0.05, "scale": 0.35}, "source": "A38"},
        {"path": "timetable.live_lesson_share", "dist": "triang",
         "params": {"c": 0.5, "loc": 0.1, "scale": 0.06}, "source": "A29"},
    ]
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump({"inputs": inputs}), encoding="utf-8")
    return load_priors(p)


def _f(values) -> np.ndarray:
    """3·x0 + 0·x1 + 50·x2²: x1 has no effect, x0 is linear, x2 is not."""
    a = values["assignment.outdated_share"].to_numpy()
    c = values["timetable.live_lesson_share"].to_numpy()
    return 3.0 * a + 50.0 * c ** 2


def test_morris_finds_the_input_without_effect(three) -> None:
    d = make_design(three, "morris", 80, seed=3)
    assert d.size == 20 and d.runs == 80  # 80 // (3 + 1) trajectories of 4 runs
    ix = indices(three, d, _f(d.values), seed=3)
    mu_star, sigma = ix["mu_star"], ix["sigma"]
    assert mu_star[1] == 0.0 and sigma[1] == 0.0  # no effect: exactly zero
    assert mu_star[0] > 0 and mu_star[2] > 0
    # a linear input's effects are all the same: σ = 0; μ* is the change over the prior's
    # whole range (SALib divides each change by the step on the unit cube): 3 × 0.3
    assert sigma[0] == pytest.approx(0.0, abs=1e-12)
    assert mu_star[0] == pytest.approx(3.0 * 0.3, rel=1e-6)
    assert sigma[2] > 0  # x2² is not linear: its effects differ
    assert ix["mu_star_conf"][0] == pytest.approx(0.0, abs=1e-9)


def test_sobol_total_order_of_an_input_without_effect_is_zero(three) -> None:
    d = make_design(three, "sobol", 2000, seed=5)
    assert d.runs == d.size * (3 + 2) and d.runs <= 2000
    y = 3.0 * d.values["assignment.outdated_share"].to_numpy()  # only x0 matters
    ix = indices(three, d, y, seed=5)
    assert ix["ST"][1] == pytest.approx(0.0, abs=1e-9)
    assert ix["ST"][2] == pytest.approx(0.0, abs=1e-9)
    assert ix["S1"][0] == pytest.approx(1.0, abs=0.1)
    assert ix["ST"][0] == pytest.approx(1.0, abs=0.1)


def test_design_is_seeded_and_uses_the_priors(three) -> None:
    a = make_design(three, "morris", 40, seed=1)
    b = make_design(three, "morris", 40, seed=1)
    c = make_design(three, "morris", 40, seed=2)
    assert np.array_equal(a.unit, b.unit) and not np.array_equal(a.unit, c.unit)
    # 4 levels on the cube → the priors' quantiles 0, 1/3, 2/3, 1
    x = np.unique(a.values["assignment.outdated_share"].round(9))
    assert set(x) <= {0.2, 0.3, 0.4, 0.5}
    assert a.values["timetable.live_lesson_share"].between(0.1, 0.16).all()


def test_budget_rule() -> None:
    assert design_size("morris", 15, 160) == 10
    assert design_size("morris", 15, 5) == 2  # at least two trajectories
    assert design_size("sobol", 15, 160) == 8  # 8 × 17 = 136 ≤ 160 < 16 × 17
    assert design_size("sobol", 3, 10) == 2
