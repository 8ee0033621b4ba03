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
from sim.report.labels import cause, fmt_kpi, kpi_label
from sim.report.layout import html, supported_digits, table
from sim.runs.power import EFFECT, verdict
from sim.runs.stats import difference_bounds, is_share, paired_difference

VERDICT_KPIS = ("lost_pupil_minutes", "join_success_rate")
"""The key figures a comparison's verdict is given for."""


def delta_text(kpi: str, v: float | None, tr: Tr = EN, half_width: float | None = None) -> str:
    """A difference of a KPI, signed, with its unit: shares in percentage points ("+1.2 pp"),
    never "%" (a difference of two shares is not a relative change); as precise as its
    interval's ``half_width`` supports (the one rule: :func:`layout.supported_digits`)."""
    if v is None or not math.isfinite(v):
        return "–"
    if is_share(kpi):
        most = 3 if kpi == "blocking_probability" else 2  # as the means are written
        hw = None if half_width is None else half_width * 100
        digits = max(0, supported_digits(hw, most))
        text = f"{tr.num(round(abs(v) * 100, digits), digits)} {tr('pp')}"
    else:
        most = 1 if kpi.endswith("_s") else 0
        digits = supported_digits(half_width, most)
        text = fmt_kpi(kpi, round(abs(v), digits), tr, max(digits, 0))
    if v == 0 or set(re.sub(r"[^0-9]", "", text)) <= {"0"}:
        return text
    return ("+" if v > 0 else "−") + text


def verdict_line(kpi: str, a: Sequence[float | None], b: Sequence[float | None],
                 tr: Tr = EN) -> str:
    """One sentence on ``kpi``: B − A with its interval when the difference is detectable,
    else "no detectable effect" and about how many paired replications would show a 5 %
    change."""
    xa, xb = ([math.nan if x is None else float(x) for x in s] for s in (a, b))
    v = verdict(kpi, xa, xb)
    d = paired_difference(xa, xb, bounds=difference_bounds(kpi))
    name = kpi_label(kpi, tr)
    hw = d.half_width
    if v["detectable"]:
        return tr("{kpi}: B − A = {diff} (95 % CI {lo} to {hi}), a detectable effect.",
                  kpi=name, diff=delta_text(kpi, d.mean, tr, hw),
                  lo=delta_text(kpi, d.lo, tr, hw), hi=delta_text(kpi, d.hi, tr, hw))
    effect = v["effect"]
    need = v["replications_for_effect"]
    pct = tr.pct(EFFECT, 0)
    size = (delta_text(kpi, float(effect), tr).lstrip("+") if isinstance(effect, float)
            else "–")
    if not isinstance(need, int):
        return tr("{kpi}: no detectable effect (B − A = {diff}); how many replications would "
                  "show a {pct} change cannot be said from these.", kpi=name,
                  diff=delta_text(kpi, d.mean, tr, hw), pct=pct)
    if need <= int(v["n"]):
        return tr("{kpi}: no detectable effect (B − A = {diff}); {n} paired replications "
                  "would most likely have shown a {pct} change ({size}), so any effect is "
                  "smaller.", kpi=name, diff=delta_text(kpi, d.mean, tr, hw), n=v["n"], pct=pct,
                  size=size)
    return tr("{kpi}: no detectable effect (B − A = {diff}); about {need} paired replications "
              "would show a {pct} change ({size}).", kpi=name,
              diff=delta_text(kpi, d.mean, tr, hw), need=tr.count(need), pct=pct, size=size)


def causes_rows(a: Mapping[str, float], b: Mapping[str, float], tr: Tr = EN,
                scenario: Any = None) -> list[list[str]]:
    """Lost pupil-minutes by cause: A, B and B − A, largest first."""
    names = sorted(set(a) | set(b), key=lambda c: -max(a.get(c, 0.0), b.get(c, 0.0)))
    return [[cause(c, tr, scenario), tr.count(a.get(c, 0.0)), tr.count(b.get(c, 0.0)),
             delta_text("lost_pupil_minutes", b.get(c, 0.0) - a.get(c, 0.0), tr)]
            for c in names]


def costs_rows(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None,
               tr: Tr = EN) -> list[list[str]]:
    """The scenarios' costs item by item (``scenario_cost``'s shape): A, B and B − A in €."""
    def items(c: Mapping[str, Any] | None) -> dict[str, tuple[str, float]]:
        return {i["item"] + repr(sorted(i.get("fill", {}).items())):
                (tr(i["item"], **i.get("fill", {})), float(i["eur"]))
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
                      tr: Tr = EN, scenario: Any = None) -> Markup:
    """The comparison report's section: causes, then costs, A against B."""
    out = Markup("")
    if causes[0] or causes[1]:
        out += html("<h3>{t}</h3>", t=tr("Lost pupil-minutes by cause")) + table(
            [tr("cause"), "A", "B", "B − A"], causes_rows(*causes, tr, scenario),
            num=(1, 2, 3))
    if costs[0] or costs[1]:
        out += html("<h3>{t}</h3>", t=tr("Cost of the scenario as configured")) + table(
            [tr("item"), "A", "B", "B − A"], costs_rows(*costs, tr), num=(1, 2, 3))
    return out or html("<p class=muted>{t}</p>", t=tr("Not available for these runs."))
