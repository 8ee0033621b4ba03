"""The seeded ABC-SMC sampler (sim/uncertainty/abc_engine.py) on a model whose posterior is
cheap: populations depend only on the seed, the generation and the previous population — the
same in this process and on a process pool, and the same when a run is continued from its
database as when it ran straight through."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyabc
import pytest
import scipy.stats as st

from sim.uncertainty.abc_engine import (
    SeededSampler,
    parameter_names,
    prior_of,
    serial_map,
    slot_seed,
    transition_of,
)

FROZEN = {"a.mu": st.uniform(loc=-5, scale=10), "population.seed": st.rv_discrete(
    values=([1.0, 2.0, 3.0], [1 / 3, 1 / 3, 1 / 3]))}
NAMES = parameter_names(FROZEN)


def toy_model(par: Any) -> dict[str, float]:
    """x ~ N(mu, 0.5) plus the discrete input, noise from numpy's (per-slot seeded) generator."""
    return {"x": float(par[NAMES["a.mu"]] + np.random.normal(0, 0.5)),  # noqa: NPY002
            "s": float(par[NAMES["population.seed"]])}


def toy_distance(x: dict[str, float], x0: dict[str, float]) -> float:
    return abs(x["x"] - x0["x"]) + abs(x["s"] - x0["s"])


def _pool_map(f: Any, items: Any) -> list[Any]:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as ex:
        return list(ex.map(f, items))


def _abc(seed: int, mapper: Any = serial_map) -> pyabc.ABCSMC:
    discrete = {"population.seed"}
    return pyabc.ABCSMC(toy_model, prior_of(FROZEN, discrete, NAMES), toy_distance,
                        population_size=15, transitions=transition_of(FROZEN, discrete, NAMES),
                        eps=pyabc.MedianEpsilon(), sampler=SeededSampler(seed, mapper))


def _run(db: Path, generations: int, seed: int = 3, mapper: Any = serial_map,
         resume: bool = False) -> pd.DataFrame:
    abc = _abc(seed, mapper)
    url = f"sqlite:///{db}"
    h = abc.load(url, 1) if resume else abc.new(url, {"x": 1.5, "s": 2.0})
    h = abc.run(max_nr_populations=generations - (h.max_t + 1))
    frames = []
    for t in range(h.max_t + 1):
        df, w = h.get_distribution(m=0, t=t)
        frames.append(df.assign(weight=w, generation=t).reset_index(drop=True))
    return pd.concat(frames, ignore_index=True)


def test_same_population_in_process_and_on_a_pool_and_after_resuming(tmp_path: Path) -> None:
    straight = _run(tmp_path / "a.db", 3)
    pooled = _run(tmp_path / "b.db", 3, mapper=_pool_map)
    pd.testing.assert_frame_equal(straight, pooled)
    _run(tmp_path / "c.db", 2)  # "killed" after two generations …
    resumed = _run(tmp_path / "c.db", 3, resume=True)  # … and continued
    pd.testing.assert_frame_equal(straight, resumed)
    # the posterior moved towards the observed x = 1.5 and s = 2
    last = straight[straight.generation == 2]
    assert abs(np.average(last[NAMES["a.mu"]], weights=last.weight) - 1.5) < 1.0
    assert set(last[NAMES["population.seed"]]) <= {1.0, 2.0, 3.0}


def test_another_seed_gives_another_population(tmp_path: Path) -> None:
    a = _run(tmp_path / "a.db", 1, seed=3)
    b = _run(tmp_path / "b.db", 1, seed=4)
    assert not a[NAMES["a.mu"]].equals(b[NAMES["a.mu"]])


def test_slot_seeds_differ_by_seed_generation_and_slot() -> None:
    seeds = {slot_seed(s, t, i) for s in (1, 2) for t in (-1, 0, 1) for i in range(50)}
    assert len(seeds) == 2 * 3 * 50


def test_parameter_names_are_plain_and_unique() -> None:
    names = parameter_names(["platforms[iserv].clusters[iserv-bbb].cpu_per_participant",
                             "platforms[iserv].clusters[iserv_bbb].cpu_per_participant"])
    assert len(set(names.values())) == 2
    assert all(n.replace("_", "").isalnum() for n in names.values())


@pytest.mark.parametrize("x", [1.0, 2.0, 2.5])
def test_discrete_prior_has_mass_only_on_its_values(x: float) -> None:
    prior = prior_of(FROZEN, {"population.seed"}, NAMES)
    p = prior.pdf(pyabc.Parameter({NAMES["a.mu"]: 0.0, NAMES["population.seed"]: x}))
    assert (p > 0) == (x in (1.0, 2.0))
