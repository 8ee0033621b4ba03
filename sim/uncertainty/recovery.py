"""Recovery check (simulation-based calibration): targets made from a run at known inputs must
be covered by the posterior's 90 % intervals for every input the targets identify.

``python -m sim.uncertainty.recovery --out DIR`` (``make calibration-check``) runs the
pre-registered check of docs/calibration.md: truth = every input at its prior median, the
targets of ``data/targets/jan-2021.yaml`` with ``observed`` replaced by one run at the truth
(each ± max(10 %, 0.01), SOURCES A163), then ``dlsim calibrate`` on them.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import yaml

from sim.runs.io import write_json, write_text
from sim.uncertainty.calibrate import ParticleModel, Settings
from sim.uncertainty.priors import Priors, load_priors
from sim.uncertainty.targets import CalibrationTargets, load_targets

REPO = Path(__file__).resolve().parents[2]
REL, ABS = 0.10, 0.01
"""A synthetic target's interval: observed ± max(REL × |observed|, ABS) (SOURCES A163)."""


def truth_at_medians(priors: Priors) -> dict[str, float]:
    """Every input at its prior median (a whole number where the input takes whole numbers)."""
    return {p: float(d.median()) for p, d in priors.frozen().items()}


def synthetic_targets(priors: Priors, targets: CalibrationTargets, truth: dict[str, float],
                      scale: float, seed: int, rel: float = REL) -> dict[str, Any]:
    """The targets file's content with ``observed`` from one run at ``truth`` (every day the
    targets name, ``seed``) and the interval observed ± max(``rel`` × it, 0.01) around it;
    days as absolute paths."""
    model = ParticleModel(priors, targets, scale, None, held_out_days=True)
    sim = model.simulate(truth, seed)
    rows = []
    for t in targets.targets:
        v = float(sim[t.name])
        if not math.isfinite(v):
            raise ValueError(f"{t.name}: the truth run gives no value")
        w = max(rel * abs(v), ABS)
        row = t.model_dump(mode="json", exclude_none=True,
                           exclude={"interval", "relative", "bound", "observed", "day"})
        rows.append({**row, "day": str(targets.day_of(t)), "observed": v,
                     "interval": [v - w, v + w],
                     "note": f"synthetic: one run at the truth, seed {seed}, scale {scale:g}"})
    return {"name": f"recovery-{targets.spec.name}", "targets": rows}


def judge(result: dict[str, Any], truth: dict[str, float]) -> dict[str, Any]:
    """Per input: identified, the truth inside its posterior 90 % interval; passed when every
    identified input covers its truth."""
    rows = []
    for r in result["inputs"]:
        t = truth[r["path"]]
        inside = bool(r["posterior"]["lo"] <= t <= r["posterior"]["hi"])
        rows.append({"path": r["path"], "truth": t, "identified": r["identified"],
                     "posterior": r["posterior"], "width_ratio": r["width_ratio"],
                     "covered": inside})
    ident = [r for r in rows if r["identified"]]
    return {"passed": all(r["covered"] for r in ident), "identified": len(ident),
            "covered": sum(r["covered"] for r in ident), "inputs": rows}


def run_check(priors_file: Path, targets_file: Path, config: Path, out: Path,
              settings: Settings, workers: int | None, truth_seed: int = 11,
              rel: float = REL) -> dict[str, Any]:
    """Make the synthetic targets in ``out``, calibrate on them, judge (``out/recovery.json``)."""
    from sim.config import load_scenario
    from sim.uncertainty.calibration_out import calibrate

    priors = load_priors(priors_file, load_scenario(config))
    targets = load_targets(targets_file)
    truth = truth_at_medians(priors)
    out.mkdir(parents=True, exist_ok=True)
    synth = out / "targets.yaml"
    if not synth.is_file():  # made once: a resumed check fits the same targets
        data = synthetic_targets(priors, targets, truth, settings.scale, truth_seed, rel)
        write_text(synth, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    result = calibrate(config, priors_file, synth, out / "calibration", settings, workers)
    verdict = {"truth_seed": truth_seed, **judge(result, truth)}
    write_json(out / "recovery.json", verdict)
    return verdict


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "out" / "calibration-check")
    ap.add_argument("--priors", type=Path, default=REPO / "configs/priors/default-day.yaml")
    ap.add_argument("--targets", type=Path, default=REPO / "data/targets/jan-2021.yaml")
    ap.add_argument("--config", type=Path, default=REPO / "configs/lower-saxony-scenario-c.yaml")
    ap.add_argument("--scale", type=float, default=0.01)
    ap.add_argument("--population", type=int, default=30)
    ap.add_argument("--generations", type=int, default=4)
    ap.add_argument("--budget-runs", type=int, default=600)
    ap.add_argument("--predictive", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args(argv)
    settings = Settings(scale=a.scale, population_size=a.population, generations=a.generations,
                        budget_runs=a.budget_runs, min_epsilon=0.5, seed=1,
                        predictive_draws=a.predictive)
    verdict = run_check(a.priors, a.targets, a.config, a.out, settings, a.workers)
    print(json.dumps({k: v for k, v in verdict.items() if k != "inputs"}))
    for r in verdict["inputs"]:
        mark = ("ok" if r["covered"] else "MISSED") if r["identified"] else "not identified"
        print(f"  {r['path']}: truth {r['truth']:.4g}, posterior {r['posterior']['lo']:.4g} "
              f"to {r['posterior']['hi']:.4g} ({mark})")
    return 0 if verdict["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
