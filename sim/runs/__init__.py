"""Layer 2 — records of runs: what is written, read back and summarised.

Imports only :mod:`sim.config` and :mod:`sim.model`.

- ``rundir`` — the formats of run, sweep, comparison and attribution directories (one reader
  per format, all-or-nothing writes);
- ``io`` — atomic file writes, parquet and JSON helpers;
- ``provenance`` — config hash, seeds, package version and git commit stamped on outputs;
- ``stats`` — every interval and paired test (scipy.stats; bounded for shares and counts).
"""
