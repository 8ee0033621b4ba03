"""ABC-SMC with pyABC, made reproducible and resumable: the glue between the priors and pyABC.

pyABC's own samplers draw their random numbers from the operating system in each worker and
accept particles in the order they finish, so two runs (or a run and its resumption) differ.
:class:`SeededSampler` fixes that: generation ``t`` is cut into ``n`` *slots* (one per particle
of the population), slot ``i`` seeds numpy from ``(seed, t, i)`` and proposes until it has one
accepted particle (at most ``slot_cap`` proposals). Slots run on any map — in this process, on
a local process pool or on a Dask cluster — and their results are put together in slot order,
so the population is a function of ``(seed, t)`` and the previous population only: the same on
every executor, and the same after a ``kill -9`` and a re-run (pyABC's database holds the
finished generations; the generation in flight is redone, its simulations read back from the
simulation cache of :mod:`sim.uncertainty.calibrate`).

Everything else pyABC does between generations is a deterministic function of the stored
populations (epsilon = the weighted median distance, the transition kernels' fit), and it reads
them from the database in both cases.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pyabc
from pyabc.population import Sample
from pyabc.sampler import Sampler
from pyabc.transition import AggregatedTransition, DiscreteJumpTransition

Mapper = Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]

P_STAY = 0.7
"""Discrete inputs (the population seed): the chance that a proposal keeps a particle's value
(pyABC's default; the rest jumps to another value of the support)."""


def slot_seed(seed: int, t: int, i: int) -> int:
    """The numpy seed of slot ``i`` of generation ``t`` (``t = -1``: pyABC's calibration
    sample from the prior)."""
    return int(np.random.SeedSequence([int(seed), int(t) + 1, int(i)]).generate_state(1)[0])


# ----------------------------------------------------------------------------- the prior
class FrozenRV(pyabc.RVBase):
    """A frozen ``scipy.stats`` distribution as a pyABC random variable (draws from numpy's
    global generator, which :class:`SeededSampler` seeds per slot)."""

    def __init__(self, frozen: Any, discrete: bool):
        self.frozen = frozen
        self.discrete = discrete

    def copy(self) -> FrozenRV:
        return FrozenRV(self.frozen, self.discrete)

    def rvs(self, *args: Any, **kwargs: Any) -> float:
        # through the quantile function from numpy's global generator: a frozen scipy
        # distribution carries a *copy* of the generator when pickled to a worker, which the
        # per-slot seeding would not reach
        return float(self.frozen.ppf(np.random.random_sample()))  # noqa: NPY002 (pyABC draws from the global generator)

    def pmf(self, x: float, *args: Any, **kwargs: Any) -> float:
        return float(self.frozen.pmf(x)) if self.discrete else 0.0

    def pdf(self, x: float, *args: Any, **kwargs: Any) -> float:
        return float(self.frozen.pmf(x) if self.discrete else self.frozen.pdf(x))

    def cdf(self, x: float, *args: Any, **kwargs: Any) -> float:
        return float(self.frozen.cdf(x))

    def __repr__(self) -> str:
        return f"<FrozenRV {self.frozen.dist.name}>"


def parameter_names(paths: Iterable[str]) -> dict[str, str]:
    """Config path → a pyABC parameter name (letters, digits, ``_``; unique, in order)."""
    out: dict[str, str] = {}
    for i, p in enumerate(paths):
        out[p] = f"p{i:02d}_" + re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_")[:60]
    return out


def prior_of(frozen: dict[str, Any], discrete: set[str], names: dict[str, str]
             ) -> pyabc.Distribution:
    """The priors (path → frozen scipy distribution) as a pyABC ``Distribution``."""
    return pyabc.Distribution(**{names[p]: FrozenRV(d, p in discrete) for p, d in frozen.items()})


def transition_of(frozen: dict[str, Any], discrete: set[str], names: dict[str, str]) -> Any:
    """A multivariate normal kernel over the continuous inputs, a jump kernel per discrete
    one (pyABC's ``AggregatedTransition``)."""
    cont = tuple(names[p] for p in frozen if p not in discrete)
    if not discrete:
        return pyabc.MultivariateNormalTransition()
    mapping: dict[Any, Any] = {}
    if cont:
        mapping[cont] = pyabc.MultivariateNormalTransition()
    for p in frozen:
        if p in discrete:
            mapping[names[p]] = DiscreteJumpTransition(
                domain=np.asarray(frozen[p].xk, dtype=float), p_stay=P_STAY)
    return AggregatedTransition(mapping=mapping)


# ----------------------------------------------------------------------------- the sampler
def run_slot(job: tuple[Callable[[], Any], Any, int, int, int, int]) -> tuple[Sample, int]:
    """One slot: seed numpy from (seed, t, i), propose until one particle is accepted.
    ``simulate_one`` travels inside the job: a process pool or Dask pickles it with the job
    (the package itself never unpickles bytes — tests/e2e/test_reliability.py)."""
    simulate_one, factory, seed, t, i, cap = job
    s = slot_seed(seed, t, i)
    np.random.seed(s)  # noqa: NPY002 (pyABC draws from it)
    random.seed(s)
    sample, k = factory(), 0
    while k < cap:
        particle = simulate_one()
        k += 1
        sample.append(particle)
        if particle.accepted:
            break
    return sample, k


def serial_map(f: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    return [f(x) for x in items]


class SeededSampler(Sampler):
    """pyABC sampler whose populations depend only on ``seed``, the generation and the
    previous population (see the module docstring). ``mapper(f, items)`` returns
    ``[f(x) for x in items]`` in order, anywhere."""

    def __init__(self, seed: int, mapper: Mapper = serial_map, slot_cap: int = 200):
        super().__init__()
        self.seed = int(seed)
        self.mapper = mapper
        self.slot_cap = int(slot_cap)

    def sample_until_n_accepted(self, n: int, simulate_one: Callable[[], Any], t: int, *,
                                max_eval: float = np.inf, all_accepted: bool = False,
                                ana_vars: Any = None) -> Sample:
        cap = 1 if all_accepted else self.slot_cap
        jobs = [(simulate_one, self.sample_factory, self.seed, t, i, cap) for i in range(n)]
        results = self.mapper(run_slot, jobs)
        sample = self._create_empty_sample()
        evaluations = 0
        for part, k in results:
            sample += part
            evaluations += k
        self.nr_evaluations_ = evaluations
        if sample.n_accepted < n:
            sample.ok = False
        return sample
