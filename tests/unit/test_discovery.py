"""Scenario discovery (sim.decide.discovery): PRIM recovers a known box, its scores are the
hand-computed ones, CART's rules are in the inputs' units."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.decide import discovery as dc
from sim.report.i18n import Tr


def _known_box(n: int = 2000, seed: int = 1, noise: float = 0.0):
    """Three inputs uniform on their ranges; the label is 1 inside
    speed ≤ 1/12 and share ≥ 0.4 (``other`` is irrelevant), flipped with prob. ``noise``."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"speed": rng.uniform(0.0, 0.5, n), "share": rng.uniform(0.0, 1.0, n),
                      "other": rng.uniform(10.0, 20.0, n)})
    y = ((x["speed"] <= 1 / 12) & (x["share"] >= 0.4)).to_numpy()
    flip = rng.random(n) < noise
    return x, y ^ flip


def test_prim_recovers_a_known_box():
    x, y = _known_box()
    found = dc.prim(x, y, alpha=0.05, min_mass=0.02, min_coverage=0.8)
    box = found.chosen
    assert sorted(box.restricted) == ["share", "speed"]
    assert box.limits["speed"][0] == -math.inf and box.limits["share"][1] == math.inf
    assert box.limits["speed"][1] == pytest.approx(1 / 12, abs=0.01)
    assert box.limits["share"][0] == pytest.approx(0.4, abs=0.03)
    assert box.density > 0.95 and box.coverage > 0.9
    # the true restrictions are far from chance; on the trajectory density never falls much
    assert all(p < 1e-6 for p in box.quasi_p.values())
    dens = [b.density for b in found.trajectory]
    assert dens[-1] > dens[0] and found.trajectory[0].mass == 1.0
    assert [b.mass for b in found.trajectory] == sorted((b.mass for b in found.trajectory),
                                                         reverse=True)


def test_prim_with_noise_restricts_only_the_true_inputs():
    x, y = _known_box(noise=0.05, seed=3)
    # labelled draws outside the box (noise): the true box covers ≈ 0.095 / 0.14 = 68 %
    box = dc.prim(x, y, alpha=0.05, min_mass=0.02, min_coverage=0.5).chosen
    # peeling on noisy labels may trim the irrelevant input too; its quasi-p tells
    assert set(box.significant(0.05)) == {"speed", "share"}
    assert set(box.restricted) - {"speed", "share"} <= {"other"}
    assert all(box.quasi_p[k] > 0.05 for k in set(box.restricted) - {"speed", "share"})
    assert box.limits["speed"][1] == pytest.approx(1 / 12, abs=0.02)
    assert box.limits["share"][0] == pytest.approx(0.4, abs=0.06)


def test_scores_by_hand_on_a_tiny_case():
    # six draws on one input; labels 1 at x = 4, 5, 6 and at x = 1
    x = pd.DataFrame({"a": [1.0, 2, 3, 4, 5, 6]})
    y = np.array([1, 0, 0, 1, 1, 1], bool)
    xs, ys = x.to_numpy(float), y
    box = dc._box(["a"], xs, ys, np.array([3.5]), np.array([6.0]))
    # box holds x = 4, 5, 6: coverage 3/4, density 3/3, mass 3/6
    assert (box.coverage, box.density, box.mass, box.n) == (0.75, 1.0, 0.5, 3)
    assert box.limits == {"a": (3.5, math.inf)}
    # quasi-p: relaxed box = all draws, p = 4/6; P(Bin(3, 2/3) ≥ 3) = 8/27
    assert box.quasi_p["a"] == pytest.approx(8 / 27)
    whole = dc._box(["a"], xs, ys, np.array([1.0]), np.array([6.0]))
    assert whole.restricted == [] and whole.quasi_p == {} and whole.density == 4 / 6


def test_one_peel_removes_the_least_dense_end():
    x = pd.DataFrame({"a": np.arange(20.0)})
    y = np.arange(20) >= 10
    traj = dc.peel(x, y, alpha=0.1, min_mass=0.4)
    assert traj[1].limits["a"][0] > 0 and traj[1].limits["a"][1] == math.inf
    assert traj[-1].mass >= 0.4 and traj[-1].density == 1.0


def test_pasting_widens_a_box_while_density_rises():
    x = pd.DataFrame({"a": np.arange(20.0)})
    y = np.arange(20) >= 10
    narrow = dc._box(["a"], x.to_numpy(float), y, np.array([15.0]), np.array([19.0]))
    pasted = dc.paste(x, y, narrow, alpha=0.2)
    # everything ≥ 10 has density 1: widening below 15 never raises the density, so it stays
    assert pasted.density == 1.0 and pasted.limits["a"][0] == 15.0
    mixed = dc._box(["a"], x.to_numpy(float), y, np.array([0.0]), np.array([12.0]))
    assert dc.paste(x, y, mixed, alpha=0.2).density > mixed.density


def test_select_prefers_density_with_enough_coverage():
    mk = lambda c, d: dc.Box(limits={}, coverage=c, density=d, mass=0.5, n=1)  # noqa: E731
    traj = [mk(1.0, 0.2), mk(0.9, 0.5), mk(0.6, 0.8), mk(0.3, 1.0)]
    assert dc.select(traj, 0.5) == 2
    assert dc.select(traj, 0.95) == 0
    assert dc.select(traj, 0.1) == 3


def test_reproducibility_on_a_known_box_is_high():
    x, y = _known_box(n=800, seed=5)
    rep = dc.reproducibility(x, y, n=5, seed=2, alpha=0.05, min_mass=0.02, min_coverage=0.8)
    assert rep.restricted_share["speed"] == 1.0 and rep.restricted_share["share"] == 1.0
    assert rep.restricted_share["other"] <= 0.4
    assert rep.jaccard_mean > 0.8 and len(rep.jaccard) == 5
    again = dc.reproducibility(x, y, n=5, seed=2, alpha=0.05, min_mass=0.02,
                               min_coverage=0.8)
    assert again == rep  # seeded


@settings(max_examples=15, deadline=None)
@given(lo=st.floats(0.1, 0.5), width=st.floats(0.3, 0.45), seed=st.integers(0, 10_000))
def test_prim_recovers_random_one_dimensional_boxes(lo, width, seed):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"u": rng.uniform(0, 1, 1500), "v": rng.uniform(0, 1, 1500)})
    y = ((x["u"] >= lo) & (x["u"] <= lo + width)).to_numpy()
    box = dc.prim(x, y, alpha=0.05, min_mass=0.05, min_coverage=0.9).chosen
    assert box.restricted == ["u"]
    assert box.limits["u"][0] == pytest.approx(lo, abs=0.03)
    assert box.limits["u"][1] == pytest.approx(lo + width, abs=0.03)
    # the trajectory's scores are the definitions, recomputed from the box's members
    inside = dc.members(x, box)
    assert box.coverage == pytest.approx(y[inside].sum() / y.sum())
    assert box.density == pytest.approx(y[inside].mean())


def test_bad_arguments_are_refused():
    x = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(ValueError, match="no draw carries the label"):
        dc.prim(x, [False, False])
    with pytest.raises(ValueError, match="equal length"):
        dc.prim(x, [True])
    with pytest.raises(ValueError, match="finite"):
        dc.prim(pd.DataFrame({"a": [1.0, float("nan")]}), [True, False])
    with pytest.raises(ValueError, match="alpha"):
        dc.peel(x, [True, False], alpha=0.7)


def test_cart_rules_in_domain_units():
    x, y = _known_box(n=1500, seed=7)
    rules = dc.cart_rules(x, y, max_depth=2, min_samples_leaf=20)
    top = rules[0]
    assert top.limits["speed"][1] == pytest.approx(1 / 12, abs=0.01)
    assert top.limits["share"][0] == pytest.approx(0.4, abs=0.03)
    assert top.limits["other"] == (-math.inf, math.inf)
    assert top.density > 0.95 and top.coverage > 0.95
    words = dc.describe(top.limits, {"speed": "outdated servers' speed",
                                     "share": "share of schools running their own"})
    assert words == ("outdated servers' speed at most 0.083 and share of schools running "
                     "their own at least 0.4")


def test_describe_in_german_and_for_whole_range():
    limits = {"a": (0.25, 0.75), "b": (-math.inf, math.inf)}
    assert dc.describe(limits) == "a between 0.25 and 0.75"
    assert dc.describe(limits, tr=Tr("de")) == "a zwischen 0,25 und 0,75"
    assert dc.describe({"b": (-math.inf, math.inf)}) == "all draws"
