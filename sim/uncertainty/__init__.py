"""Layer 6 — how sure are we: uncertain inputs as distributions, the reported figures as
targets, which inputs matter (sensitivity) and what the figures allow (calibration).

Imports every layer below it (config, model, runs, report, experiments); ``sim.decide`` and
the front doors build on it.

- ``priors`` — priors files: each uncertain input a config path with a scipy distribution and
  its source; sampling, bounds, applying values to a scenario;
- ``targets`` — calibration targets (``data/targets/``): the reported figures with their error
  models and held-out flags; the statistics a run yields; the distance between them;
- ``sensitivity`` — ``dlsim sensitivity``: Morris or Sobol (SALib) over the priors;
- ``sensitivity_page`` — its table, chart and report page.
"""
