"""Unit tests for :mod:`sim.model.seeds`: named, independent, reproducible random streams."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from sim.model.seeds import SeedTree
from tests.conftest import REPO

# Recorded once (numpy 2.x, PCG64). If these change, every stored result and every paired
# comparison across versions silently changes too.
FIRST_DRAW_2021_CHECKIN = 0.6065224535649605
FIRST_NORMAL_2021_SIZES = -0.837361280255294
CHILD_2021_REPLICATION_1 = 4293371009341382589
CHILD_1_REPLICATION_1 = 5312484541610052524


def test_same_name_same_stream() -> None:
    a = SeedTree(7).rng("demand.lessons").random(100)
    b = SeedTree(7).rng("demand.lessons").random(100)
    np.testing.assert_array_equal(a, b)


def test_stream_independent_of_other_streams_use() -> None:
    tree = SeedTree(7)
    other = tree.rng("demand.checkin")
    other.random(10_000)
    tree.rng("population.sizes").random(5)
    a = tree.rng("demand.lessons").random(50)
    b = SeedTree(7).rng("demand.lessons").random(50)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("name_a", "name_b"),
    [
        ("demand.lessons", "demand.checkin"),
        ("demand", "demand.lessons"),
        ("a.b", "b.a"),
        ("platform.iserv.frontend", "platform.bildungscloud.frontend"),
        ("x", "x."),
    ],
)
def test_different_names_differ(name_a: str, name_b: str) -> None:
    tree = SeedTree(7)
    a = tree.rng(name_a).random(20)
    b = tree.rng(name_b).random(20)
    assert not np.array_equal(a, b)
    # and are not shifted copies of each other
    assert np.intersect1d(a, b).size == 0


def test_different_root_seeds_differ() -> None:
    a = SeedTree(1).rng("demand.lessons").random(20)
    b = SeedTree(2).rng("demand.lessons").random(20)
    assert np.intersect1d(a, b).size == 0


def test_streams_look_independent() -> None:
    a = SeedTree(3).rng("s.one").standard_normal(20_000)
    b = SeedTree(3).rng("s.two").standard_normal(20_000)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.03


def test_recorded_first_draws() -> None:
    tree = SeedTree(2021)
    assert tree.rng("demand.checkin").random() == FIRST_DRAW_2021_CHECKIN
    assert tree.rng("population.sizes").standard_normal() == FIRST_NORMAL_2021_SIZES
    assert tree.child_seed("replication.1") == CHILD_2021_REPLICATION_1
    assert SeedTree(1).child_seed("replication.1") == CHILD_1_REPLICATION_1


def test_stable_across_processes() -> None:
    """A fresh interpreter with another hash seed draws the same numbers (no ``hash()``)."""
    # load sim/model/seeds.py alone: importing the whole package would cost seconds
    code = (
        "import importlib.util as u, sys; "
        "spec = u.spec_from_file_location('seeds', sys.argv[1]); m = u.module_from_spec(spec); "
        "spec.loader.exec_module(m); t = m.SeedTree(2021); "
        "print(repr(t.rng('demand.checkin').random())); print(t.child_seed('replication.1'))"
    )
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", code, str(REPO / "sim" / "model" / "seeds.py")],
            capture_output=True, text=True, check=True, env=env, timeout=60,
        ).stdout.split()
        assert float(out[0]) == FIRST_DRAW_2021_CHECKIN
        assert int(out[1]) == CHILD_2021_REPLICATION_1


def test_child_seed_deterministic_and_distinct() -> None:
    tree = SeedTree(99)
    seeds = [tree.child_seed(f"replication.{i}") for i in range(50)]
    assert seeds == [SeedTree(99).child_seed(f"replication.{i}") for i in range(50)]
    assert len(set(seeds)) == 50
    assert all(isinstance(s, int) and 0 <= s < 2**63 for s in seeds)
    assert SeedTree(100).child_seed("replication.1") != tree.child_seed("replication.1")
    # a child seed is a valid root for its own tree
    SeedTree(seeds[0]).rng("x").random()


def test_negative_seed_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        SeedTree(-1)
