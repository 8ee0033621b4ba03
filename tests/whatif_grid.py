"""Small what-if grids for the tests (population scale 0.01: a run takes about a second)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

BASE = REPO / "configs" / "whatif" / "scenario-c-dispatcher-fault.yaml"
SMALL = [
    "population.scale=0.01",
    "day.end=11:00",  # the morning: what the levers change, at a third of the run time
    "platforms[1].clusters[0].nodes=5",
    "platforms[2].clusters[0].nodes=1",
]
NODES = "platforms[0].clusters[0].nodes"
FAULT_END = "faults[1].end"


def write_grid(
    path: Path,
    parameters: dict[str, list[Any]] | None = None,
    replications: int = 2,
    **extra: Any,
) -> Path:
    """A grid file: IServ nodes × dispatcher fault length unless ``parameters`` says else."""
    data: dict[str, Any] = {
        "name": "whatif-test",
        "description": "test grid",
        "base": str(BASE),
        "overrides": SMALL,
        "parameters": parameters
        or {NODES: [1, 3], FAULT_END: ["07:51", "09:50"]},
        "labels": {
            NODES: {"label": "IServ conference nodes", "unit": "nodes"},
            FAULT_END: {"label": "Dispatcher fault lasts", "values": ["1 minute", "2 hours"]},
        }
        if parameters is None
        else {},
        "replications": replications,
        "seed": 1,
        **extra,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
