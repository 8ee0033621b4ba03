"""``dlsim calibrate``: ABC-SMC over the priors against the reported figures (pyABC).

A particle is one value per uncertain input (:mod:`sim.uncertainty.priors`). Its simulation
sets those values on every *day* the targets name (``Priors.apply``: the input and what it
ties; a path a day's scenario does not have is left out for that day), runs each day once at
the calibration scale with one seed, and computes the targets' statistics
(:mod:`sim.uncertainty.targets`). The distance is the targets' rule with the held-out targets
excluded. Reproducibility and resumption: :mod:`sim.uncertainty.abc_engine`.

Each simulation is stored in ``DIR/sims/`` keyed by (the days' config hashes at the
calibration scale, the particle's values, the seed, the model version): a re-run after a
``kill -9`` redoes only the generation in flight and reads back what that generation had
already simulated. Outputs: :mod:`sim.uncertainty.calibration_out`.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import ConfigError, Scenario, load_scenario, scenario_from_dict
from sim.model.simulation import simulate_once
from sim.runs.io import write_json
from sim.runs.provenance import model_version
from sim.uncertainty.abc_engine import (
    Mapper,
    SeededSampler,
    parameter_names,
    prior_of,
    serial_map,
    transition_of,
)
from sim.uncertainty.priors import DISCRETE, Priors
from sim.uncertainty.targets import CalibrationTargets, distance, run_statistics

DB_NAME = "abc.db"
SPEC_NAME = "calibration-spec.json"


@dataclass(frozen=True)
class Settings:
    """A calibration's pre-registered procedure (docs/calibration.md, SOURCES A160–A163)."""

    scale: float = 0.01
    """Population scale of every run (a faithful miniature, docs/scale.md)."""
    population_size: int = 40
    """Particles per generation."""
    generations: int = 6
    """At most this many generations (t = 0 … generations − 1)."""
    budget_runs: int = 1200
    """At most this many day-runs (a particle runs every day that has a fitted target): pyABC
    stops after the generation that reaches it."""
    min_epsilon: float = 0.5
    """Stop when the acceptance threshold (the median distance) falls to this, in widths."""
    seed: int = 1
    predictive_draws: int = 30
    """Fresh runs at posterior draws for the predictive checks."""
    slot_cap: int = 200
    """At most this many proposals for one particle of a generation."""


# ----------------------------------------------------------------------------- one particle
def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


class ParticleModel:
    """particle values → the targets' statistics (the pyABC model; picklable)."""

    def __init__(self, priors: Priors, targets: CalibrationTargets, scale: float,
                 cache_dir: Path | None, held_out_days: bool = False):
        self.priors = priors
        self.targets = targets
        self.scale = float(scale)
        self.cache_dir = cache_dir
        days = targets.by_day(include_held_out=True)
        if not held_out_days:
            days = {d: ts for d, ts in days.items() if any(not t.held_out for t in ts)}
        self.days: dict[str, tuple[dict[str, Any], str | None, list[Any]]] = {}
        self.valid: dict[str, dict[str, list[bool]]] = {}
        self.hashes: dict[str, str] = {}
        for path, ts in days.items():
            sc = load_scenario(path, [f"population.scale={self.scale:g}"])
            self.days[str(path)] = (sc.model_dump(mode="json"), sc.source_path, ts)
            self.valid[str(path)] = self._valid_paths(sc)
            self.hashes[str(path)] = sc.config_hash()
        self.version = model_version()

    @property
    def day_runs(self) -> int:
        """Runs per particle."""
        return len(self.days)

    def _valid_paths(self, sc: Scenario) -> dict[str, list[bool]]:
        """Per input, which of its overrides (the input, then what it ties) the day has."""
        dump = sc.model_dump(mode="json")
        out = {}
        for p, d in self.priors.frozen().items():
            sets = self.priors.overrides({p: float(d.median())})
            ok = []
            for s in sets:
                try:
                    scenario_from_dict(dump, "<probe>", [s])
                    ok.append(True)
                except ConfigError:
                    ok.append(False)
            out[p] = ok
        return out

    def scenario(self, day: str, values: Mapping[str, float]) -> Scenario:
        """The day's scenario at the calibration scale with ``values`` set."""
        dump, source, _ = self.days[day]
        sets: list[str] = []
        for p, v in values.items():
            mask = self.valid[day][p]
            sets += [s for s, ok in zip(self.priors.overrides({p: v}), mask, strict=True) if ok]
        sc = scenario_from_dict(dump, f"{self.priors.source}: values", sets)
        sc.source_path = source
        return sc

    def simulate(self, values: Mapping[str, float], seed: int) -> dict[str, float]:
        """Every target's statistic (by target name) with ``values`` and ``seed`` (cached)."""
        values = {p: float(values[p]) for p in self.priors.paths}
        key = _digest([self.hashes, values, int(seed), self.version])
        cached = self.cache_dir / key[:2] / f"{key}.json" if self.cache_dir else None
        if cached is not None and cached.is_file():
            try:
                return {k: (math.nan if v is None else float(v))
                        for k, v in json.loads(cached.read_text())["stats"].items()}
            except (OSError, ValueError, KeyError):
                pass  # a damaged entry: simulate again
        out: dict[str, float] = {}
        for day, (_, _, ts) in self.days.items():
            stats = run_statistics(simulate_once(self.scenario(day, values), int(seed)))
            for t in ts:
                out[t.name] = float(stats[t.statistic])
        if cached is not None:
            write_json(cached, {"values": values, "seed": int(seed), "stats": {
                k: (v if math.isfinite(v) else None) for k, v in out.items()}})
        return out

    def __call__(self, par: Mapping[str, float]) -> dict[str, float]:
        """pyABC's model: the seed comes from numpy's generator, seeded per slot."""
        names = parameter_names(self.priors.paths)
        values = {p: float(par[names[p]]) for p in self.priors.paths}
        return self.simulate(values, int(np.random.randint(1, 2**31 - 1)))  # noqa: NPY002


class TargetDistance:
    """pyABC's distance: the targets' rule, held-out targets excluded (picklable)."""

    def __init__(self, targets: CalibrationTargets):
        self.targets = targets

    def __call__(self, x: Mapping[str, float], x0: Mapping[str, float]) -> float:
        return distance(x, self.targets, include_held_out=False)


# ----------------------------------------------------------------------------- where slots run
def make_mapper(workers: int | None, scheduler: str | None) -> tuple[Mapper, Callable[[], None]]:
    """A map in this process (``workers`` 1 or None), on a local pool of processes started
    once (they keep their imports and populations), or on a Dask cluster (``scheduler``:
    an address, or ``local:N`` for a LocalCluster of N one-thread workers)."""
    if scheduler:
        from dask.distributed import Client, LocalCluster

        cluster = None
        if scheduler.startswith("local:"):
            cluster = LocalCluster(n_workers=int(scheduler.split(":", 1)[1]),
                                   threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(scheduler)

        def dask_map(f: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
            return list(client.gather(client.map(f, list(items), pure=False)))

        def close_dask() -> None:
            client.close()
            if cluster is not None:
                cluster.close()

        return dask_map, close_dask
    if not workers or workers <= 1:
        return serial_map, lambda: None
    pool = ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("fork"))

    def pool_map(f: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return list(pool.map(f, items, chunksize=1))

    return pool_map, lambda: pool.shutdown(cancel_futures=True)


# ----------------------------------------------------------------------------- the run
def _spec(priors: Priors, targets: CalibrationTargets, config: Scenario, s: Settings,
          model: ParticleModel) -> dict[str, Any]:
    """What a stored calibration is keyed by (a different one is never resumed)."""
    return {"priors": priors.spec.model_dump(mode="json"),
            "targets": targets.spec.model_dump(mode="json"),
            "config_hash": config.config_hash(), "days": model.hashes,
            "settings": {k: v for k, v in asdict(s).items() if k != "predictive_draws"},
            "model_version": model.version}


def _check_resumable(out: Path, spec: dict[str, Any]) -> bool:
    """True: ``out`` holds this calibration's database to continue; False: start afresh.
    A different calibration in ``out`` is refused (:class:`ConfigError`)."""
    stored = out / SPEC_NAME
    if not stored.is_file():
        if (out / DB_NAME).exists():
            raise ConfigError([f"--out {out}: holds {DB_NAME} without {SPEC_NAME}: "
                               "not a calibration this program wrote; choose another --out"])
        return False
    try:
        old = json.loads(stored.read_text())
    except ValueError:
        raise ConfigError([f"--out {out}/{SPEC_NAME}: unreadable; choose another --out"]) from None
    if old != json.loads(json.dumps(spec, default=str)):
        diff = sorted(k for k in spec if old.get(k) != json.loads(json.dumps(spec[k], default=str)))
        raise ConfigError([f"--out {out}: holds a calibration of other inputs ({', '.join(diff)} "
                           "differ); choose another --out or remove it"])
    return (out / DB_NAME).is_file()


def run_abc(priors: Priors, targets: CalibrationTargets, config: Scenario, out: Path,
            settings: Settings, mapper: Mapper = serial_map,
            model: ParticleModel | None = None) -> Any:
    """Run (or continue) the ABC-SMC in ``out``; returns pyABC's ``History``."""
    import pyabc
    from pyabc.storage import History

    out.mkdir(parents=True, exist_ok=True)
    model = model or ParticleModel(priors, targets, settings.scale, out / "sims")
    spec = _spec(priors, targets, config, settings, model)
    resume = _check_resumable(out, spec)
    write_json(out / SPEC_NAME, json.loads(json.dumps(spec, default=str)))
    frozen = priors.frozen()
    discrete = {i.path for i in priors.inputs if i.dist == DISCRETE}
    names = parameter_names(priors.paths)
    abc = pyabc.ABCSMC(model, prior_of(frozen, discrete, names), TargetDistance(targets),
                       population_size=settings.population_size,
                       transitions=transition_of(frozen, discrete, names),
                       eps=pyabc.MedianEpsilon(),
                       sampler=SeededSampler(settings.seed, mapper, settings.slot_cap))
    db = f"sqlite:///{(out / DB_NAME).resolve()}"
    if resume and History(db).n_populations > 0:
        history = abc.load(db, 1)
    else:
        (out / DB_NAME).unlink(missing_ok=True)  # killed before its first generation
        history = abc.new(db, {t.name: t.observed for t in targets.targets})
    budget = max(1, settings.budget_runs // max(1, model.day_runs))
    left = settings.generations - (history.max_t + 1)
    if left > 0 and not _stopped(history, settings.min_epsilon, budget):
        history = abc.run(minimum_epsilon=settings.min_epsilon, max_nr_populations=left,
                          max_total_nr_simulations=budget)
    return history


def _stopped(history: Any, min_epsilon: float, budget: int) -> bool:
    """A stored run that met pyABC's own stopping rules after its last generation (so a
    re-run of a finished calibration adds nothing)."""
    if history.n_populations == 0:
        return False
    pops = history.get_all_populations()
    last = pops[pops.t == history.max_t]
    return bool(float(last.epsilon.iloc[0]) <= min_epsilon
                or history.total_nr_simulations >= budget)
