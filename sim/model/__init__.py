"""Layer 1 — one replication: ``(Scenario, seed) → RunResult``, nothing else.

Imports only :mod:`sim.config`. Read in this order:

- ``simulation`` — :func:`build` wires one replication, :func:`simulate_once` runs it;
  :class:`RunResult` is what comes back;
- ``population``, ``demand`` — the schools, classes and pupils; everything decided before the
  run (meetings, attempts, logins), pre-sampled with numpy;
- ``scale`` — a faithful miniature: central capacities built at the population's scale;
- ``world`` — platforms, school servers and routing: the surface faults and policies act on;
- ``components/`` — request queues, conference node pools, the dispatcher, platforms;
- ``behaviour/`` — pupils and teachers: attempts, back-off, give-up;
- ``faults``, ``policies``, ``effects`` — time-windowed modifiers, each declaring its effects;
- ``engine`` — the only user of SimPy's internals (clock, scheduled calls, the merged loop);
- ``recorder``, ``sampler``, ``metrics``, ``causes`` — outcomes, per-minute samples, KPIs and
  conservation, lost minutes by cause;
- ``costs`` — the price of a scenario as configured; ``seeds``, ``draws``, ``states`` — the
  seed tree, batched draws, status codes; ``messages`` — ``N_``, the mark on English text a
  reader will see (translated in :mod:`sim.report.i18n`).
"""
