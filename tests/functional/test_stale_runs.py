"""Stored runs are keyed by what determines them — the scenario's hash *and* the model's
version — and a changed model or an edited base scenario is never silently reused (issue 30):
a sweep or what-if directory is refused naming what changed (exit 2; ``--force`` computes
again), an optimisation computes the runs of the new model again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import sim.runs.provenance as provenance
from sim.decide.optimise import optimise
from sim.experiments.verification import loss_scenario
from tests.conftest import DEFAULT_CONFIG
from tests.reliability import cli

pytestmark = pytest.mark.reliability

NODES = "platforms[0].clusters[0].nodes"


def _other_model(monkeypatch: pytest.MonkeyPatch) -> str:
    """Pretend the model's source changed; return the new model version."""
    monkeypatch.setattr(provenance, "model_digest", lambda: "0123456789ab")
    return provenance.model_version()


def _sweep(tmp_path: Path, base: Path) -> Path:
    p = tmp_path / "sweep.yaml"
    p.write_text(yaml.safe_dump({
        "name": "stale", "base": str(base),
        "overrides": ["population.scale=0.005", "day.end='09:00'"],
        "parameters": {NODES: [200, 600]}, "replications": 2, "seed": 3}), encoding="utf-8")
    return p


def _parts(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (out / "parts").glob("*.parquet")}


def test_model_version_digests_the_model_source() -> None:
    v = provenance.model_version()
    assert v.startswith(provenance.package_version() + "+model.")
    assert len(provenance.model_digest()) == 12
    assert provenance.model_change(v) is None
    assert "the model changed" in str(provenance.model_change("0.0.1+model.000000000000"))
    assert "without a model version" in str(provenance.model_change(None))


def test_sweep_of_another_model_is_refused_naming_both_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f, out = _sweep(tmp_path, DEFAULT_CONFIG), tmp_path / "out"
    code, _, err = cli(["sweep", str(f), "--out", str(out), "--no-report"])
    assert code == 0, err
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["model_version"] == provenance.model_version()
    stored, before = meta["model_version"], _parts(out)
    assert len(before) == 4
    new = _other_model(monkeypatch)
    code, _, err = cli(["sweep", str(f), "--out", str(out), "--no-report"])
    assert code == 2, err
    assert f"the model changed since the runs were stored ({stored} → {new})" in err, err
    assert str(out / "sweep.json") in err and "--force" in err
    assert _parts(out) == before  # nothing touched
    # --force computes every run again, under keys of the new model
    code, out_text, err = cli(["sweep", str(f), "--out", str(out), "--no-report", "--force"])
    assert code == 0, err
    assert "4 computed now, 0 already stored" in out_text, out_text
    assert not set(_parts(out)) & set(before)
    assert json.loads((out / "sweep.json").read_text())["model_version"] == new


def test_sweep_whose_base_scenario_was_edited_is_refused(tmp_path: Path) -> None:
    base = tmp_path / "configs" / "base.yaml"
    base.parent.mkdir()
    (tmp_path / "data").symlink_to(DEFAULT_CONFIG.parents[1] / "data")
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    base.write_text(text, encoding="utf-8")
    f, out = _sweep(tmp_path, base), tmp_path / "out"
    code, _, err = cli(["sweep", str(f), "--out", str(out), "--no-report"])
    assert code == 0, err
    before = _parts(out)
    data = yaml.safe_load(text)
    data["behaviour"]["attendance"] = 0.5
    base.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, _, err = cli(["sweep", str(f), "--out", str(out), "--no-report"])
    assert code == 2, err
    assert f"the base scenario {base} was edited" in err, err
    assert _parts(out) == before


def test_whatif_directory_of_another_model_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.whatif_grid import write_grid

    grid, out = write_grid(tmp_path / "grid.yaml", {NODES: [1]}), tmp_path / "w"
    code, _, err = cli(["whatif", "--grid", str(grid), "--out", str(out)])
    assert code == 0, err
    before = _parts(out)
    _other_model(monkeypatch)
    code, _, err = cli(["whatif", "--grid", str(grid), "--out", str(out)])
    assert code == 2 and "the model changed since the runs were stored" in err, err
    assert _parts(out) == before


def test_optimisation_recomputes_the_runs_of_another_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = loss_scenario(2.0, 1, arrivals=300)
    lv = tmp_path / "levers.yaml"
    lv.write_text(yaml.safe_dump({"levers": [{
        "path": "platforms[p].clusters[c].node_max_participants", "values": [2, 4, 6],
        "cost_eur": {"per_unit": 1}}]}), encoding="utf-8")
    out = tmp_path / "o"

    def run() -> list[str]:
        optimise(sc, lv, ["blocking_probability<=0.2"], replications=2, confirm_replications=2,
                 confirm_scale=None, out_dir=out)
        return (out / "runs.jsonl").read_text(encoding="utf-8").splitlines()

    first = run()
    assert run() == first  # the same model: every run reused, none appended
    _other_model(monkeypatch)
    third = run()
    assert third[: len(first)] == first and len(third) == 2 * len(first)  # all computed again
    old_keys = {json.loads(x)["key"] for x in first}
    assert not old_keys & {json.loads(x)["key"] for x in third[len(first):]}
