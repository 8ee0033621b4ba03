"""Parameter sweeps: a grid or Latin hypercube of scenario variants × replications, run on an
executor (serial, Dask ``LocalCluster`` or a remote Dask cluster) into a resumable store.

- ``sim.sweep.spec``   — the sweep file (pydantic, ``extra="forbid"``), points, tasks, keys;
- ``sim.sweep.store``  — ``DIR/parts/<key>.parquet`` per finished run, results and summary;
- ``sim.sweep.runner`` — run what is missing, store rows as they finish, assemble.

```python
from sim.sweep import load_sweep, run_sweep
from sim.executors import make_executor
with make_executor(workers=2) as ex:
    out = run_sweep(load_sweep("configs/sweeps/nodes-x-stagger.yaml"), "out/sweep", ex)
out.summary
```

From Python without a file, ``sim.sweep(scenario, {path: values}, replications=R, workers=N)``
returns a tidy frame (:func:`sim.api.sweep`): this package's module object is callable.
"""

import sys
import types
from typing import Any

from sim.sweep.runner import SweepOutcome, assemble, run_sweep, summarise
from sim.sweep.spec import Sweep, SweepSpec, load_sweep
from sim.sweep.store import SweepStore

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


class _CallableModule(types.ModuleType):
    """``sim.sweep(...)`` runs :func:`sim.api.sweep`; ``sim.sweep.<name>`` is this package."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from sim.api import sweep

        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
