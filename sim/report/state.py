"""One unit for counts: the whole state's (issue 25, point 3).

A run at population scale ``s`` < 1 whose scenario keeps the whole state's central capacities
(``population.capacities: whole_state``, ``sim.model.scale``) is a faithful miniature: it
simulates ``s`` of the state, and its counts — attempts, joins, lost pupil-minutes, peak
participants, schools — are ``s`` of the state's. Every page and terminal table shows such a
count as the whole state's estimate (``miniature / s``, :func:`sim.model.scale.full_state_count`),
labelled "whole state", with the miniature's own figure in small print where useful. Shares
and times are the same at any scale and stay as they are. A scenario whose capacities are as
given (or Poisson demand) is not a miniature of the state: its counts stay its own.

This module is the one place that decides whether a figure is scaled and how it is labelled;
the run report, the briefing, compare, sweep, explain, optimise, what-if and the terminal
tables call it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from sim.model.scale import full_state_count
from sim.report.i18n import EN, Tr
from sim.report.labels import kpi_kind, kpi_label
from sim.report.layout import estimate, fmt_mean
from sim.runs.stats import Interval


def miniature_factor(scenario: Any, scale: float | None = None) -> float | None:
    """``s`` when runs of ``scenario`` (at its ``population.scale``, or at ``scale``) are a
    faithful miniature of the state — their counts × 1/s are the whole state's — else None."""
    if scenario is None:
        return None
    pop = getattr(scenario, "population", None)
    s = scale if scale is not None else getattr(pop, "scale", None)
    try:
        s = float(s)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not 0 < s < 1 or getattr(pop, "capacities", "") != "whole_state":
        return None
    if getattr(getattr(scenario, "demand", None), "kind", "") == "poisson":
        return None
    return s


def run_factor(d: Any) -> float | None:
    """:func:`miniature_factor` of a run's data (``RunData``): the scale it recorded."""
    scale = (getattr(d, "provenance", None) or {}).get("scale")
    if scale is None:
        return None
    return miniature_factor(getattr(d, "scenario", None), float(scale))


def scales(kpi: str, s: float | None) -> bool:
    """Whether ``kpi`` is shown in whole-state units at factor ``s`` (counts of a miniature)."""
    return s is not None and kpi_kind(kpi) == "count"


def whole(x: Any, s: float | None) -> Any:
    """A miniature's count as the whole state's (``x / s``); as it is when ``s`` is None or
    ``x`` is not a finite number."""
    if s is None or isinstance(x, bool):
        return x
    try:
        f = float(x)
    except (TypeError, ValueError):
        return x
    return full_state_count(f, s) if math.isfinite(f) else x


def kpi_whole(kpi: str, x: Any, s: float | None) -> Any:
    """A KPI's value in the unit it is shown in: whole-state for a miniature's count."""
    return whole(x, s) if scales(kpi, s) else x


def interval_whole(kpi: str, iv: Interval | None, s: float | None) -> Interval | None:
    """A KPI's interval in the unit it is shown in (counts of a miniature × 1/s)."""
    if iv is None or not scales(kpi, s):
        return iv
    return dataclasses.replace(iv, mean=whole(iv.mean, s), lo=whole(iv.lo, s),
                               hi=whole(iv.hi, s))


def count_text(x: Any, s: float | None, tr: Tr = EN) -> str:
    """A miniature's count as the whole state's estimate ("≈ 9,730,000", to the precision an
    estimate supports: :func:`sim.report.layout.estimate`), or as it is (``s`` None)."""
    if x is None or not tr._ok(x):
        return tr.count(x)
    return tr.count(x) if s is None else "≈\u202f" + estimate(whole(x, s), tr)


def kpi_text(kpi: str, x: Any, s: float | None, tr: Tr = EN,
             iv: Interval | None = None) -> str:
    """A KPI's value as shown, as precise as its interval ``iv`` (the miniature's) supports
    (:func:`sim.report.layout.fmt_mean`): a miniature's count as the whole state's
    ("≈ 840,000"), every other figure in its unit."""
    if scales(kpi, s) and x is not None and tr._ok(x):
        return "≈\u202f" + whole_figure(kpi, x, s, tr, iv)
    return fmt_mean(kpi, x, iv, tr)


def whole_figure(kpi: str, x: Any, s: float | None, tr: Tr = EN,
                 iv: Interval | None = None) -> str:
    """A miniature's count ``x`` of ``kpi`` as the whole state's figure, without the "≈" (for
    sentences that carry their own): to what the interval ``iv`` supports when it is
    meaningful, else to an estimate's significant figures — the one rule the cards use, so a
    sentence and a card never round the same figure two ways."""
    ivw = interval_whole(kpi, iv, s)
    if ivw is not None and ivw.meaningful:
        return fmt_mean(kpi, whole(x, s), ivw, tr)
    return estimate(whole(x, s), tr)


def kpi_name(kpi: str, s: float | None, tr: Tr = EN) -> str:
    """A KPI's label, with ", whole state" for a miniature's count."""
    label = kpi_label(kpi, tr)
    return tr("{kpi}, whole state", kpi=label) if scales(kpi, s) else label


def miniature_note(kpi: str, x: Any, s: float | None, tr: Tr = EN,
                   iv: Interval | None = None) -> str:
    """The miniature's own figure in words ("simulated miniature: 16,807"), or ``""``."""
    if not scales(kpi, s) or x is None or not tr._ok(x):
        return ""
    return tr("simulated miniature: {v}", v=fmt_mean(kpi, x, iv, tr))


def unit_note(s: float | None, tr: Tr = EN) -> str:
    """The sentence under a table whose counts are whole-state estimates, or ``""``."""
    if s is None:
        return ""
    return tr("Counts are the whole state's, estimated from the faithful miniature at "
              "population scale {s} (its counts × {f}); shares and times are the same at any "
              "scale.", s=tr.plain(s), f=tr.sig(1 / s, 4))


def axis_title(title: str, s: float | None, tr: Tr = EN) -> str:
    """A chart axis of a miniature's counts, labelled so ("people (miniature; × 50 for the
    whole state)")."""
    if s is None:
        return title
    return tr("{title} (miniature; × {f} for the whole state)", title=title,
              f=tr.sig(1 / s, 4))


def label_count_axes(fig: Any, s: float | None, tr: Tr = EN) -> Any:
    """``fig`` (plotly) with every titled y axis labelled as a miniature's counts
    (:func:`axis_title`); unchanged when ``s`` is None."""
    if s is None:
        return fig
    for name in list(fig.layout):
        if name.startswith("yaxis"):
            ax = fig.layout[name]
            if ax.title is not None and ax.title.text:
                ax.title.text = axis_title(ax.title.text, s, tr)
    return fig


def whole_frame(df: Any, s: float | None, kpis: Any) -> Any:
    """A copy of a table of runs (pandas, one row per run) with a miniature's counts as the
    whole state's: each count KPI among ``kpis`` and every ``cause:<name>`` column (lost
    pupil-minutes by cause) × 1/s; as it is when ``s`` is None."""
    if s is None:
        return df
    out = df.copy()
    cols = [k for k in kpis if scales(k, s) and k in out.columns]
    cols += [c for c in out.columns if str(c).startswith("cause:")]
    for c in cols:
        out[c] = out[c].astype(float) / s
    return out
