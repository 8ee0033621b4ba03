"""Report fixtures for the end-to-end tests: a run, a comparison and a sweep directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim import simulate
from sim.runs.io import write_parquet
from tests.conftest import small_scenario, synthetic_sweep_results

FAULT = ("faults=[{kind: dispatcher_failure, label: dispatcher fault (test), platform: iserv, "
         "start: '08:00', end: '08:40'}]")


#: the miniature's scale of the runs of :func:`report_dirs` (their counts are shown ÷ this)
REPORT_SCALE = 0.02


@pytest.fixture(scope="session")
def report_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``run`` (3 replications, a dispatcher fault), ``comparison`` (two runs) and ``sweep``
    (results.parquet) directories, each already holding its report.html."""
    from sim.report import report_directory

    base = tmp_path_factory.mktemp("reports")
    morning = ["day.end=10:30"]
    # 3 replications: the fewest for which the reports show confidence intervals
    a = simulate(small_scenario(REPORT_SCALE, morning), seed=3, replications=3)
    b = simulate(small_scenario(REPORT_SCALE, [*morning, FAULT]), seed=3, replications=3)
    b.save(base / "run")
    a.save(base / "comparison" / "a-ordinary", report=False)
    b.save(base / "comparison" / "b-fault", report=False)
    report_directory(base / "comparison")
    sweep = base / "sweep"
    write_parquet(sweep / "results.parquet", synthetic_sweep_results())
    (sweep / "sweep.json").write_text(json.dumps({"name": "nodes × slots (test)"}))
    report_directory(sweep)
    return {"run": base / "run", "comparison": base / "comparison", "sweep": sweep}
