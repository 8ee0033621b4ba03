"""Layer 5 — decisions: which levers to pull, and what they cost.

Imports every layer below it (config, model, runs, report, experiments).

- ``levers`` — levers files: what can be changed, at what price;
- ``search`` — which lever combinations are screened (all, or an Optuna search);
- ``optimise`` — ``dlsim optimise``: screen, confirm at full scale, the cheapest mix;
- ``optimum`` — its results, ``optimum.json`` and the report page;
- ``directory`` — the report of any results directory (``dlsim report DIR``), an optimise
  directory's from the whole result it stored;
- ``whatif/`` — the offline what-if page for planning meetings.
"""
