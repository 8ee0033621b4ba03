"""What ``sim.decide.optimise`` found: candidates, the answer, ``optimum.json`` and the report page.

Besides the answer, every optimisation records the **screening bias** it can measure: for
each confirmed candidate and each target KPI, the screening mean (population scale s, the
screening seeds) against the confirmation mean (scale of the confirmation, fresh seeds),
their difference (screening − confirmation) with Welch's 95 % interval and the ratio. The
two samples come from different seeds, so the difference is the scale bias plus noise that
the interval covers. It is computed from the stored runs only, so re-running an existing
optimisation directory adds it without running anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.decide.levers import Lever
from sim.experiments.targets import Target
from sim.runs.stats import difference_bounds, kpi_interval, welch_difference

ALPHA = 0.05
FRONT_KPI = "lost_pupil_minutes"


@dataclass
class Candidate:
    """One combination: its lever values, cost and KPI samples per phase."""

    values: tuple[Any, ...]
    cost_eur: float
    screen: dict[str, list[float]] = field(default_factory=dict)
    confirm: dict[str, list[float]] = field(default_factory=dict)
    accepted: bool | None = None
    bounds: dict[str, float] = field(default_factory=dict)


@dataclass
class OptimumResult:
    """The answer (``best``; None: none within the levers given) and its evidence."""

    levers: list[Lever]
    targets: list[Target]
    candidates: list[Candidate]
    """The screened combinations (all of them, or those the Optuna search tried)."""
    best: Candidate | None
    closest: Candidate | None
    confirmed_at_full_scale: bool
    runs: int
    pareto: list[Candidate]
    tested: int
    alpha_each: float
    screen_scale: float | None
    confirm_scale: float | None
    baseline_cost: dict[str, Any]
    search: str = "exhaustive"
    """``exhaustive`` or ``optuna`` (:mod:`sim.decide.search`)."""
    combinations: int = 0
    """The size of the space (the product of the levers' value counts)."""
    looks: tuple[int, ...] = ()
    """Confirmation replications at each sequential look (one look: one entry)."""

    def lever_values(self, c: Candidate) -> dict[str, Any]:
        return {lv.name: v for lv, v in zip(self.levers, c.values, strict=True)}

    def words(self, c: Candidate) -> str:
        """A combination as a planner reads it: "IServ conference nodes 350; …"."""
        return "; ".join(f"{lever_words(lv)} {value_words(lv, v)}"
                         for lv, v in zip(self.levers, c.values, strict=True))

    def sentence(self) -> str:
        tg = ", ".join(str(t) for t in self.targets)
        if self.best is None:
            near = (f"; closest: {self.words(self.closest)} at "
                    f"€{self.closest.cost_eur:,.0f}" if self.closest else "")
            return f"No combination within the levers given meets {tg} at 95 % confidence{near}."
        return (f"The cheapest combination meeting {tg} at 95 % confidence is "
                f"{self.words(self.best)}, costing €{self.best.cost_eur:,.0f}.")

    def screening_bias(self) -> list[dict[str, Any]]:
        """Per confirmed candidate (in confirmation order): screening vs confirmation means
        of every target KPI (see the module docstring)."""
        out = []
        for c in self.candidates_confirmed():
            kpis: dict[str, Any] = {}
            for kpi in dict.fromkeys(t.kpi for t in self.targets):
                s, f = c.screen[kpi], c.confirm[kpi]
                d = welch_difference(f, s, bounds=difference_bounds(kpi))
                ms, mf = float(np.mean(s)), float(np.mean(f))
                kpis[kpi] = {"screen_mean": _num(ms), "confirm_mean": _num(mf),
                             "difference": _num(d.mean), "lo": _num(d.lo), "hi": _num(d.hi),
                             "ratio": _num(ms / mf) if mf != 0 else None,
                             "screen_n": len(s), "confirm_n": len(f)}
            out.append({"levers": self.lever_values(c), "kpis": kpis})
        return out

    def candidates_confirmed(self) -> list[Candidate]:
        return [c for c in self.candidates if c.confirm]

    def to_dict(self) -> dict[str, Any]:
        """``optimum.json``'s content."""
        shown = self.best or self.closest
        kpis: dict[str, Any] = {}
        if shown is not None:
            samples = shown.confirm or shown.screen
            for kpi, v in samples.items():
                iv = kpi_interval(kpi, v)
                kpis[kpi] = {"mean": _num(float(np.mean(v))), "lo": _num(iv.lo),
                             "hi": _num(iv.hi)}
        screened = ("all combinations" if self.search == "exhaustive" else
                    f"{len(self.candidates)} of {self.combinations} combinations chosen by a "
                    f"seeded constrained TPE search (Optuna)")
        return {
            "answer": self.sentence(),
            "found": self.best is not None,
            "levers": self.lever_values(shown) if shown else {},
            "cost_eur": shown.cost_eur if shown else None,
            "kpis": kpis,
            "targets": [str(t) for t in self.targets],
            "confirmed_at_full_scale": self.confirmed_at_full_scale and self.best is not None,
            "runs": self.runs,
            "pareto": [
                {"levers": self.lever_values(c), "cost_eur": c.cost_eur,
                 FRONT_KPI: _num(float(np.mean(c.screen[FRONT_KPI])))}
                for c in self.pareto
            ],
            "screening_bias": {
                "screen_scale": self.screen_scale, "confirm_scale": self.confirm_scale,
                "difference": "screening mean − confirmation mean, Welch 95 % interval",
                "candidates": self.screening_bias(),
            },
            "method": {
                "procedure": f"screen (CRN, {screened}) then sequential confirmation in "
                             "cost order on fresh CRN seeds, one-sided t bounds at "
                             "1 − α/(K·T·L) (Bonferroni; L sequential looks)",
                "looks": list(self.looks),
                "search": self.search, "combinations": self.combinations,
                "screened": len(self.candidates),
                "alpha": ALPHA, "candidates_tested_K": self.tested,
                "alpha_per_bound": self.alpha_each,
                "screen_scale": self.screen_scale, "confirm_scale": self.confirm_scale,
            },
            "baseline_cost": self.baseline_cost,
        }


def _num(x: float) -> float | None:
    return x if math.isfinite(x) else None


def mix(values: dict[str, Any]) -> str:
    """``name=value, …`` as printed."""
    return ", ".join(f"{k}={v}" for k, v in values.items())


def pareto_front(cands: Sequence[Candidate]) -> list[Candidate]:
    """Combinations no other is both cheaper (or as cheap) and better in lost minutes."""
    pts = sorted(cands, key=lambda c: (c.cost_eur, float(np.mean(c.screen[FRONT_KPI]))))
    front, best = [], math.inf
    for c in pts:
        m = float(np.mean(c.screen[FRONT_KPI]))
        if m < best:
            front.append(c)
            best = m
    return front


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>dlsim optimise</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}
th{background:#eee}</style></head><body>
<h1>Cheapest fix</h1><p><strong>{{ sentence }}</strong></p>
<p>{{ how }}</p>
<h2>Cost–lost-minutes front (screening{{ scale }})</h2>
<p>{{ lost_note }}</p>
<table><tr>{% for n in names %}<th>{{ n }}</th>{% endfor %}<th>cost €</th>
<th>lost pupil-minutes{{ lost_where }}</th></tr>
{% for r in front %}<tr>{% for v in r.vals %}<td>{{ v }}</td>{% endfor %}
<td>{{ "{:,.0f}".format(r.cost) }}</td><td>{{ "{:,.0f}".format(r.lost) }}</td></tr>{% endfor %}
</table>
<h2>What each lever buys (others at the answer, screening means)</h2>
{% for b in buys %}<h3>{{ b.name }}</h3><table><tr><th>value</th><th>cost €</th>
<th>lost pupil-minutes{{ lost_where }}</th></tr>{% for r in b.rows %}<tr><td>{{ r.value }}</td>
<td>{{ "{:,.0f}".format(r.cost) }}</td><td>{{ "{:,.0f}".format(r.lost) }}</td></tr>
{% endfor %}</table>{% endfor %}
{% if buys_note %}<p>{{ buys_note }}</p>{% endif %}
<h2>Screening bias (screening{{ scale }} against the confirmation{{ cscale }})</h2>
{% if bias %}<table><tr><th>candidate</th><th>KPI</th><th>screening mean</th>
<th>confirmation mean</th><th>difference (95 % interval)</th><th>ratio</th></tr>
{% for r in bias %}<tr><td>{{ r.name }}</td><td>{{ r.kpi }}</td><td>{{ r.s }}</td>
<td>{{ r.f }}</td><td>{{ r.d }}</td><td>{{ r.ratio }}</td></tr>{% endfor %}</table>
{% else %}<p>No candidate was confirmed, so there is nothing to compare.</p>{% endif %}
</body></html>"""


def _g(x: float | None) -> str:
    return "–" if x is None else f"{x:.4g}"


_CODE_LEVER_WORDS = {
    "replace_outdated_servers": "Outdated school servers replaced (worst first, whole state)",
    "upgrade_uplinks": "School uplinks upgraded (worst first, whole state)",
    "move_region_to_platform": "Regions moved to {platform}",
}


def lever_words(lev: Lever) -> str:
    """A lever as a planner reads it (the report's words for config paths, no path syntax)."""
    from sim.report import labels

    if lev.kind == "path":
        return labels.config_path(lev.path or lev.name)
    words = _CODE_LEVER_WORDS.get(lev.kind, lev.kind.replace("_", " "))
    return words.format(platform=labels.platform(lev.platform) if lev.platform else "")


def value_words(lev: Lever, v: object) -> str:
    """A lever's value in words (clock times, durations, regions; "–" for none)."""
    from sim.report import labels

    if lev.kind == "path":
        return labels.setting_value(lev.path or lev.name, v)
    return labels.value_words(list(v) if isinstance(v, tuple) else v)


def write_report(res: OptimumResult, path: Path) -> Path:
    """Write :func:`render_report`'s page to ``path`` (atomically)."""
    from sim.runs.io import write_text

    return write_text(path, render_report(res))


def render_report(res: OptimumResult) -> str:
    """A self-contained HTML page: the answer in one sentence, the front, what each buys,
    the measured screening bias."""
    from jinja2 import Environment

    def lost(c: Candidate) -> float:
        return float(np.mean(c.screen[FRONT_KPI]))

    ref = res.best or res.closest
    by_values = {c.values: c for c in res.candidates}
    buys, missing = [], 0
    if ref is not None:
        for i, lev in enumerate(res.levers):
            rows = []
            for v in lev.values:
                c = by_values.get((*ref.values[:i], v, *ref.values[i + 1:]))
                if c is None:  # the search did not screen this neighbour
                    missing += 1
                    continue
                rows.append({"value": value_words(lev, v), "cost": c.cost_eur,
                             "lost": lost(c)})
            buys.append({"name": lever_words(lev), "rows": rows})
    searched = ("all combinations screened" if res.search == "exhaustive" else
                f"{len(res.candidates)} of {res.combinations} combinations screened, chosen "
                f"by a constrained TPE search (Optuna)")
    looks = (f" × {len(res.looks)} looks at {', '.join(map(str, res.looks))} replications"
             if len(res.looks) > 1 else "")
    how = (f"{searched}; {res.tested} confirmed in cost order "
           f"with one-sided bounds at {1 - res.alpha_each:.4f} each (Bonferroni over "
           f"{res.tested} candidates × {len(res.targets)} targets"
           f"{looks}"
           f"); {res.runs} runs; "
           f"confirmed at full scale: {'yes' if res.confirmed_at_full_scale else 'no'}.")
    bias = []
    for c, row in zip(res.candidates_confirmed(), res.screening_bias(), strict=True):
        for kpi, b in row["kpis"].items():
            bias.append({"name": res.words(c), "kpi": kpi, "s": _g(b["screen_mean"]),
                         "f": _g(b["confirm_mean"]), "ratio": _g(b["ratio"]),
                         "d": f"{_g(b['difference'])} ({_g(b['lo'])} to {_g(b['hi'])})"})
    html = Environment(autoescape=True).from_string(_PAGE).render(
        sentence=res.sentence(), how=how, names=[lever_words(lev) for lev in res.levers],
        lost_where=(f" (in the miniature at scale {res.screen_scale:g})"
                    if res.screen_scale and res.screen_scale < 1 else ""),
        lost_note=(f"Lost pupil-minutes here are those of the screening runs, a faithful "
                   f"miniature at population scale {res.screen_scale:g}: roughly "
                   f"{1 / res.screen_scale:g} times as many for the whole state, and biased by "
                   f"the miniature's sample of schools (see the screening bias below)."
                   if res.screen_scale and res.screen_scale < 1 else ""),
        scale=f", population scale {res.screen_scale:g}" if res.screen_scale else "",
        cscale=f", population scale {res.confirm_scale:g}" if res.confirm_scale else "",
        front=[{"vals": [value_words(lev, v) for lev, v in zip(res.levers, c.values,
                                                                 strict=True)],
                "cost": c.cost_eur, "lost": lost(c)} for c in res.pareto],
        buys=buys, bias=bias,
        buys_note=(f"{missing} neighbouring combinations were not screened by the search "
                   "and are left out." if missing else ""))
    return html
