"""What a notebook reads off its runs, from the front door (``import sim``): KPI tables with
their intervals, the paired difference of two sets of runs, a sweep's points summarised,
reports written, the what-if page built — so that a notebook needs no module behind ``sim``.

```python
import sim
base = sim.simulate(sim.scaled(sc, 0.02), replications=3)
less = sim.simulate(sim.scaled(sc_less, 0.02), replications=3)
sim.kpi_table({"default": base, "less capacity": less})   # means with 95 % intervals
sim.compare(base, less)          # paired B − A on the runs already made (same seeds)
sim.compare_report(base, less, "out/cmp.html", labels=("default", "less capacity"))
base.plot()                      # participants against capacity
```
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.replications import Results
from sim.model.metrics import KPI_NAMES

#: Columns of :func:`summarise`'s frame after the parameter columns.
SUMMARY_COLUMNS = ("kpi", "n", "mean", "lo", "hi")


def kpi_table(results: Results | Mapping[str, Results], lang: str | None = None,
              kpis: list[str] | None = None) -> pd.DataFrame:
    """The KPIs of one or several sets of runs side by side, formatted for reading: one row
    per KPI (its label in ``lang``), one column per set; with more than one replication each
    cell is the mean and its 95 % interval ("96.5 % (95.9 % – 97.1 %)"), inside the KPI's
    bounds (:mod:`sim.runs.stats`)."""
    from sim.report.i18n import Tr
    from sim.report.labels import fmt_kpi, kpi_label

    tr = Tr(lang)
    sets = {"": results} if isinstance(results, Results) else dict(results)
    names = kpis or list(KPI_NAMES)
    cols: dict[str, dict[str, str]] = {}
    for name, r in sets.items():
        ivs = r.kpi_intervals if len(r.runs) > 1 else None
        cols[name] = {
            kpi_label(k, tr): fmt_kpi(k, r.kpis[k], tr) + (
                f" ({fmt_kpi(k, ivs[k].lo, tr)} – {fmt_kpi(k, ivs[k].hi, tr)})" if ivs else "")
            for k in names
        }
    return pd.DataFrame(cols)


def compare_runs(a: Results, b: Results) -> pd.DataFrame:
    """Paired B − A per KPI of two sets of runs made on the same seeds (``simulate`` with the
    same ``seed`` and ``replications``), as :func:`sim.api.compare` returns it."""
    from sim.experiments.comparisons import kpi_difference

    seeds_a, seeds_b = [r.seed for r in a.runs], [r.seed for r in b.runs]
    if seeds_a != seeds_b:
        raise ValueError(f"the runs are not paired: seeds {seeds_a} and {seeds_b} "
                         "(simulate both with the same seed and replications)")
    rows = []
    for k in KPI_NAMES:
        d = kpi_difference(k, a._values(k), b._values(k))
        rows.append({
            "kpi": k, "a": d.a_mean, "a_lo": d.a_lo, "a_hi": d.a_hi, "b": d.b_mean,
            "b_lo": d.b_lo, "b_hi": d.b_hi, "diff": d.diff, "lo": d.lo, "hi": d.hi,
            "p_value": d.p_value, "n": d.n, "significant": d.significant,
            "meaningful": d.meaningful,
        })
    df = pd.DataFrame(rows)
    df.attrs.update(a=a.scenario.name, b=b.scenario.name, seeds=seeds_a)
    return df


def explain_table(attribution: Mapping[str, Any], scenario: Any = None,
                  lang: str | None = None) -> pd.DataFrame:
    """What :func:`sim.explain` returned, one row per cause (in words, as the report names
    it): the minutes charged to it directly and their share of the loss, and what removing
    it recovers (mean over the paired replications, 95 % interval ``lo``/``hi``; empty
    where it cannot be removed)."""
    from sim.report.i18n import Tr
    from sim.report.labels import cause

    tr = Tr(lang)
    rows = [{"cause": cause(c, tr, scenario), "direct": e["direct"],
             "direct_share": e["direct_share"], "recovered": e["recovered_mean"],
             "recovered_lo": e["recovered_lo"], "recovered_hi": e["recovered_hi"]}
            for c, e in attribution["causes"].items()]
    return pd.DataFrame(rows).set_index("cause")


def compare_report(a: Results, b: Results, path: str | Path,
                   labels: tuple[str, str] | None = None, lang: str | None = None) -> Path:
    """Write the comparison page of ``b`` against baseline ``a`` (one self-contained HTML
    file, as ``dlsim compare`` writes it)."""
    from sim.report import render_comparison
    from sim.runs.io import write_text

    return write_text(path, render_comparison(a, b, labels=labels, lang=lang))


def summarise(sweep: pd.DataFrame) -> pd.DataFrame:
    """A :func:`sim.sweep` frame per point and KPI: ``n`` replications, ``mean`` and the 95 %
    interval ``lo``/``hi`` inside the KPI's bounds; the parameter columns kept."""
    from sim.runs.stats import kpi_interval

    params = [c for c in sweep.columns
              if c not in ("point", "replication", "seed", "kpi", "value", "error")]
    rows = []
    for (point, kpi), g in sweep.groupby(["point", "kpi"], sort=False):
        iv = kpi_interval(str(kpi), g["value"].to_numpy(dtype=float))
        rows.append({"point": point, **g[params].iloc[0].to_dict(), "kpi": kpi, "n": iv.n,
                     "mean": iv.mean, "lo": iv.lo, "hi": iv.hi})
    return pd.DataFrame(rows, columns=["point", *params, *SUMMARY_COLUMNS])


def whatif(grid: str | Path, out: str | Path, *, workers: int | None = None,
           force: bool = False, lang: str | None = None) -> Path:
    """Run a what-if grid file into ``out`` (resumable) and write its one offline page;
    returns the page's path (``dlsim whatif --grid GRID --out OUT``)."""
    from sim.decide.whatif import load_grid, run_whatif
    from sim.experiments.executors import make_executor

    with make_executor(workers=workers if workers and workers > 1 else None) as ex:
        _, page = run_whatif(load_grid(grid), out, executor=ex, force=force, lang=lang)
    return Path(page)


def report_directory(directory: str | Path, lang: str | None = None) -> Path:
    """Write the report of a run, sweep, comparison, optimise or explain directory
    (``dlsim report DIR``) without re-simulating; returns its path."""
    from sim.decide.directory import report_directory as write

    return write(directory, lang=lang)[1]


__all__ = ["SUMMARY_COLUMNS", "compare_report", "compare_runs", "explain_table", "kpi_table",
           "report_directory", "summarise", "whatif"]
