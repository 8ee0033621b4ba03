"""Parameter sweeps: a grid or Latin hypercube of scenario variants × replications, run on an
executor (serial, Dask ``LocalCluster`` or a remote Dask cluster) into a resumable store.

- ``sim.experiments.sweep.spec``   — the sweep file (pydantic, ``extra="forbid"``), points, tasks,
keys;
- ``sim.experiments.sweep.store``  — ``DIR/parts/<key>.parquet`` per finished run, results and
summary;
- ``sim.experiments.sweep.runner`` — run what is missing, store rows as they finish, assemble.

```python
from sim.experiments.sweep import load_sweep, run_sweep
from sim.experiments.executors import make_executor
with make_executor(workers=2) as ex:
    out = run_sweep(load_sweep("configs/sweeps/nodes-x-stagger.yaml"), "out/sweep", ex)
out.summary
```

From Python without a file, ``sim.sweep(scenario, {path: values}, replications=R, workers=N)``
(:func:`sim.api.sweep`) returns a tidy frame.
"""

from sim.experiments.sweep.runner import SweepOutcome, assemble, run_sweep, summarise
from sim.experiments.sweep.spec import Sweep, SweepSpec, load_sweep
from sim.experiments.sweep.store import SweepStore

__all__ = [
    "Sweep",
    "SweepOutcome",
    "SweepSpec",
    "SweepStore",
    "assemble",
    "load_sweep",
    "run_sweep",
    "summarise",
]
