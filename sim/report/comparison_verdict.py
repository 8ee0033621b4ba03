"""What a comparison of A and B says, in words: a verdict per key figure ("no detectable
effect; about N replications would show a 5 % change", :mod:`sim.runs.power`), differences
in their unit (shares in percentage points, "pp"), and the causes of lost minutes and the
costs of both scenarios side by side. Used by ``dlsim compare`` and the comparison report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from sim.report.i18n import EN, Tr
from sim.report.labels import cause, cost_item, fmt_kpi, kpi_kind, kpi_label
from sim.report.layout import estimate, html, supported_digits, table
from sim.report.state import count_text, kpi_name, kpi_whole, scales
from sim.runs.power import EFFECT, verdict
from sim.runs.stats import difference_bounds, paired_difference

HIGHER_IS_BETTER = {"join_success_rate", "joins_succeeded"}
"""Key figures where more is better (for the others less is, but for :data:`NEUTRAL`)."""
NEUTRAL = {"join_attempts", "peak_concurrent_participants"}
"""Key figures that are neither better nor worse when they change."""
VERDICT_KPIS = ("lost_pupil_minutes", "join_success_rate", "affected_schools_share")
"""The key figures a comparison's verdict is given for."""


def delta_text(kpi: str, v: float | None, tr: Tr = EN, half_width: float | None = None,
               s: float | None = None) -> str:
    """A difference of a KPI, signed, with its unit: shares — utilisations included — in
    percentage points ("+1.2 pp"), never "%" (a difference of two shares is not a relative
    change); as precise as its interval's ``half_width`` supports (the one rule:
    :func:`layout.supported_digits`); with ``s`` (a faithful miniature) a count as the whole
    state's (an estimate without a half-width: :func:`layout.estimate`)."""
    if v is None or not math.isfinite(v):
        return "–"
    if kpi_kind(kpi) == "share":
        most = 3 if kpi == "blocking_probability" else 2  # as the means are written
        hw = None if half_width is None else half_width * 100
        digits = max(0, supported_digits(hw, most))
        text = f"{tr.num(round(abs(v) * 100, digits), digits)} {tr('pp')}"
    elif scales(kpi, s) and half_width is None:
        text = estimate(abs(kpi_whole(kpi, v, s)), tr)
    else:
        x = abs(kpi_whole(kpi, v, s))
        hw = None if half_width is None else kpi_whole(kpi, half_width, s)
        most = 1 if kpi.endswith("_s") else 0
        digits = supported_digits(hw, most)
        text = fmt_kpi(kpi, round(x, digits), tr, max(digits, 0))
    if v == 0 or set(re.sub(r"[^0-9]", "", text)) <= {"0"}:
        return text
    return ("+" if v > 0 else "−") + text


def _judge(kpi: str, a: Sequence[float | None], b: Sequence[float | None]) -> tuple[
        dict[str, Any], Any]:
    xa, xb = ([math.nan if x is None else float(x) for x in q] for q in (a, b))
    return verdict(kpi, xa, xb), paired_difference(xa, xb, bounds=difference_bounds(kpi))


def verdict_line(kpi: str, a: Sequence[float | None], b: Sequence[float | None],
                 tr: Tr = EN, s: float | None = None) -> str:
    """One sentence on ``kpi``: B − A with its interval when the difference is detectable,
    else "no detectable effect" and how large a change these (or about how many) paired
    replications would detect — in plain words: the size of the change in the KPI's unit,
    then what share of A's value that is. ``s``: a faithful miniature's scale (counts shown
    as the whole state's)."""
    v, d = _judge(kpi, a, b)
    name = kpi_name(kpi, s, tr)
    hw = d.half_width
    if v["detectable"]:
        return tr("{kpi}: B − A = {diff} (95 % CI {lo} to {hi}), a detectable effect.",
                  kpi=name, diff=delta_text(kpi, d.mean, tr, hw, s),
                  lo=delta_text(kpi, d.lo, tr, hw, s), hi=delta_text(kpi, d.hi, tr, hw, s))
    effect, need = v["effect"], v["replications_for_effect"]
    pct = tr.pct(EFFECT, 0)
    size = (delta_text(kpi, float(effect), tr, s=s).lstrip("+") if isinstance(effect, float)
            else "–")
    diff = delta_text(kpi, d.mean, tr, hw, s)
    if not isinstance(need, int):
        return tr("{kpi}: no detectable difference (B − A = {diff}); these replications "
                  "cannot say how many would detect a change of {pct} of A's value.",
                  kpi=name, diff=diff, pct=pct)
    if need <= int(v["n"]):
        return tr("{kpi}: no detectable difference (B − A = {diff}). These {n} paired "
                  "replications would most likely have detected a change of {size} ({pct} of "
                  "A's value), so any real difference is smaller than that.", kpi=name,
                  diff=diff, n=v["n"], size=size, pct=pct)
    return tr("{kpi}: no detectable difference (B − A = {diff}). To detect a change of {size} "
              "({pct} of A's value), about {need} paired replications would be needed.",
              kpi=name, diff=diff, need=tr.count(need), size=size, pct=pct)


def overall_verdict(a: Mapping[str, Sequence[float | None]],
                    b: Mapping[str, Sequence[float | None]], tr: Tr = EN) -> str:
    """The comparison in one line: on which of the verdict's key figures B is detectably
    better or worse than A, or that it is on none ("" without two paired replications)."""
    better, worse, same = [], [], []
    for k in VERDICT_KPIS:
        xa, xb = a.get(k) or [], b.get(k) or []
        if len(xa) != len(xb) or len(xa) < 2:
            continue
        v, d = _judge(k, xa, xb)
        name = kpi_label(k, tr)
        if not v["detectable"]:
            same.append(name)
        elif (d.mean > 0) == (k in HIGHER_IS_BETTER):
            better.append(name)
        else:
            worse.append(name)
    if not (better or worse or same):
        return ""
    if not (better or worse):
        return tr("Verdict: no detectable difference between A and B in {kpis}.",
                  kpis=_and(same, tr))
    parts = []
    if better:
        parts.append(tr("B is better than A in {kpis}", kpis=_and(better, tr)))
    if worse:
        parts.append(tr("B is worse than A in {kpis}", kpis=_and(worse, tr)))
    if same:
        parts.append(tr("no detectable difference in {kpis}", kpis=_and(same, tr)))
    return tr("Verdict: {parts}.", parts="; ".join(parts))


def _and(names: Sequence[str], tr: Tr) -> str:
    return names[0] if len(names) == 1 else (", ".join(names[:-1]) + tr(" and ") + names[-1])


def causes_rows(a: Mapping[str, float], b: Mapping[str, float], tr: Tr = EN,
                scenario: Any = None, s: float | None = None) -> list[list[str]]:
    """Lost pupil-minutes by cause: A, B and B − A, largest first (``s``: a faithful
    miniature's scale, the minutes shown as the whole state's)."""
    names = sorted(set(a) | set(b), key=lambda c: -max(a.get(c, 0.0), b.get(c, 0.0)))
    return [[cause(c, tr, scenario), count_text(a.get(c, 0.0), s, tr),
             count_text(b.get(c, 0.0), s, tr),
             delta_text("lost_pupil_minutes", b.get(c, 0.0) - a.get(c, 0.0), tr, s=s)]
            for c in names]


def costs_rows(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None,
               tr: Tr = EN) -> list[list[str]]:
    """The scenarios' costs item by item (``scenario_cost``'s shape): A, B and B − A in €."""
    def items(c: Mapping[str, Any] | None) -> dict[str, tuple[str, float]]:
        return {i["item"] + repr(sorted(i.get("fill", {}).items())):
                (cost_item(i, tr), float(i["eur"]))
                for i in (c or {}).get("items", [])}

    ia, ib = items(a), items(b)
    rows = []
    for key in dict.fromkeys([*ia, *ib]):
        label = (ia.get(key) or ib[key])[0]
        va, vb = ia.get(key, ("", 0.0))[1], ib.get(key, ("", 0.0))[1]
        rows.append([label, _eur(va, tr), _eur(vb, tr), _signed_eur(vb - va, tr)])
    ta, tb = float((a or {}).get("total_eur", 0.0)), float((b or {}).get("total_eur", 0.0))
    rows.append([tr("total"), _eur(ta, tr), _eur(tb, tr), _signed_eur(tb - ta, tr)])
    return rows


def _eur(v: float, tr: Tr) -> str:
    return f"{tr.count(v)}\u202f€"


def _signed_eur(v: float, tr: Tr) -> str:
    return ("+" if v > 0 else "−" if v < 0 else "") + _eur(abs(v), tr)


def causes_costs_html(causes: tuple[Mapping[str, float], Mapping[str, float]],
                      costs: tuple[Mapping[str, Any] | None, Mapping[str, Any] | None],
                      tr: Tr = EN, scenario: Any = None, s: float | None = None) -> Markup:
    """The comparison report's section: causes, then costs, A against B."""
    out = Markup("")
    if causes[0] or causes[1]:
        title = (tr("Lost pupil-minutes by cause") if s is None else
                 tr("Lost pupil-minutes by cause, whole state"))
        out += html("<h3>{t}</h3>", t=title) + table(
            [tr("cause"), "A", "B", "B − A"], causes_rows(*causes, tr, scenario, s),
            num=(1, 2, 3))
    if costs[0] or costs[1]:
        out += html("<h3>{t}</h3>", t=tr("Cost of the scenario as configured")) + table(
            [tr("item"), "A", "B", "B − A"], costs_rows(*costs, tr), num=(1, 2, 3))
    return out or html("<p class=muted>{t}</p>", t=tr("Not available for these runs."))
