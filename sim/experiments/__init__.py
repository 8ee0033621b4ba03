"""Layer 4 — many replications: what a set of runs says.

Imports the layers below it: :mod:`sim.config`, :mod:`sim.model`, :mod:`sim.runs` and
:mod:`sim.report`.

- ``replications`` — :func:`simulate` and :class:`Results` (replications of one scenario,
  with intervals; ``.save``/``.report``);
- ``comparisons`` — paired comparisons on common random numbers;
- ``executors`` — serial, Dask ``LocalCluster`` or a remote Dask cluster;
- ``sweep/`` — grids and Latin hypercubes into a resumable store;
- ``targets`` — service targets (``KPI>=value``) and their blocking equivalents;
- ``capacity_bound`` — Erlang-B's bracket for a cluster's capacity from the offered load;
- ``sizing`` — the smallest capacity meeting a target (that bracket + paired bisection);
- ``attribution`` — ``explain``: lost minutes by cause, direct and counterfactual;
- ``analytic`` — Erlang-B/C, M/M/c/K, Engset;
- ``verification`` — the model against queueing theory (``docs/verification.md``);
- ``validation`` — the January 2021 replays against the reported figures
  (``docs/validation.md``).
"""
