"""The planner's page of ``dlsim optimise`` (``OUT/report.html``), in the run report's style
and the reader's language.

Top to bottom: the answer in one sentence with its own 95 % intervals (the confirmation
runs); the chart of the front — cost against lost pupil-minutes, every screened
combination, the front of those that may meet the targets, the recommended mix marked —
and its table; what each lever buys with the others at the answer; how the answer was
found (with the counts as they happened); the measured screening bias.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
from markupsafe import Markup

from sim.decide.lever_labels import lever_words, target_words, value_words
from sim.decide.optimum import FRONT_KPI, Candidate, OptimumResult, lost_mean
from sim.report.comparison_verdict import delta_text
from sim.report.i18n import Tr
from sim.report.labels import fmt_kpi, kpi_label
from sim.report.layout import Card, Section, cards, embed, html, interval_range, page, table
from sim.report.state import (
    count_text,
    interval_whole,
    kpi_name,
    kpi_text,
    miniature_factor,
    miniature_note,
    whole,
)
from sim.runs.stats import kpi_interval

BLUE, GREY, RED = "#1f77b4", "#9aa3ad", "#d62728"


def _eur(v: float, tr: Tr) -> str:
    return f"{tr.count(v)}\u202f€"


def mix_words(res: OptimumResult, c: Candidate, tr: Tr) -> str:
    """A combination in words: "IServ conference nodes: 350; Regions moved to …: no region
    moved"."""
    sc = res.scenario
    return "; ".join(f"{lever_words(lv, tr, sc)}: {value_words(lv, v, tr, sc)}"
                     for lv, v in zip(res.levers, c.values, strict=True))


def sentence(res: OptimumResult, tr: Tr) -> str:
    """The answer in one sentence, targets in words."""
    tg = tr(" and ").join(target_words(t, tr) for t in res.targets)
    if res.best is None:
        if res.closest is None:
            return tr("No combination within the levers given meets {targets} at 95 % "
                      "confidence.", targets=tg)
        return tr("No combination within the levers given meets {targets} at 95 % "
                  "confidence; the closest: {mix}, at {cost}.", targets=tg,
                  mix=mix_words(res, res.closest, tr), cost=_eur(res.closest.cost_eur, tr))
    return tr("The cheapest combination meeting {targets} at 95 % confidence: {mix}, "
              "at {cost}.", targets=tg, mix=mix_words(res, res.best, tr),
              cost=_eur(res.best.cost_eur, tr))


def answer_cards(res: OptimumResult, tr: Tr) -> Markup:
    """The answer's cost and, per target KPI and lost minutes, its mean with its 95 %
    interval (confirmation runs; screening runs when it was never confirmed)."""
    shown = res.best or res.closest
    if shown is None:
        return Markup("")
    samples = shown.confirm or shown.screen
    where = (tr("confirmation, {n} replications", n=len(next(iter(samples.values()))))
             if shown.confirm else tr("screening only"))
    items = [Card(tr("cost of the levers"), _eur(shown.cost_eur, tr), where)]
    st = _state(res, res.confirm_scale if shown.confirm else res.screen_scale)
    for kpi in dict.fromkeys([*(t.kpi for t in res.targets), FRONT_KPI]):
        if kpi not in samples:
            continue
        mean, raw = float(np.mean(samples[kpi])), kpi_interval(kpi, samples[kpi])
        iv = interval_whole(kpi, raw, st)
        rng = interval_range(kpi, iv, tr) if iv is not None else ""
        notes = [x for x in (miniature_note(kpi, mean, st, tr, raw),
                             tr("95 % CI {range}", range=rng) if rng and iv and iv.meaningful
                             else "") if x]
        items.append(Card(kpi_name(kpi, st, tr), kpi_text(kpi, mean, st, tr, raw),
                          " · ".join(notes)))
    return cards(items)


def _state(res: OptimumResult, scale: float | None) -> float | None:
    """The factor of a faithful miniature the runs ran at (``scale``, None: the scenario's
    own), whose counts are shown as the whole state's (sim.report.state)."""
    return miniature_factor(res.scenario, scale)


def _lost(res: OptimumResult, c: Candidate, tr: Tr) -> str:
    """A combination's screening mean of lost pupil-minutes, as the whole state's."""
    return count_text(lost_mean(c), _state(res, res.screen_scale), tr)


def front_figure(res: OptimumResult, tr: Tr) -> go.Figure:
    """Cost against lost pupil-minutes: every combination screened, the front, the answer."""
    lost_t = tr("lost pupil-minutes")
    fig = go.Figure()

    st = _state(res, res.screen_scale)

    def trace(cs: list[Candidate], name: str, **kw: Any) -> None:
        fig.add_trace(go.Scatter(
            x=[c.cost_eur for c in cs], y=[whole(lost_mean(c), st) for c in cs], name=name,
            text=[mix_words(res, c, tr) for c in cs],
            hovertemplate="%{text}<br>%{x:,.0f} €<br>%{y:,.0f} " + lost_t + "<extra></extra>",
            **kw))

    trace(res.candidates, tr("combination screened"), mode="markers",
          marker={"color": GREY, "size": 7, "symbol": "circle-open"})
    trace(res.pareto, tr("front") if res.front_of == "all" else
          tr("front of the combinations that may meet the targets"), mode="lines+markers",
          line={"color": BLUE, "shape": "hv"}, marker={"color": BLUE, "size": 8})
    if res.best is not None:
        trace([res.best], tr("recommended"), mode="markers",
              marker={"color": RED, "size": 16, "symbol": "star"})
    fig.update_layout(
        height=380, margin={"l": 60, "r": 20, "t": 10, "b": 50}, template="plotly_white",
        xaxis_title=tr("cost of the levers (€)"), yaxis_title=_lost_title(res, tr),
        xaxis_tickformat=",.0f", yaxis_tickformat=",.0f",
        legend={"orientation": "h", "y": -0.25})
    return fig


def _lost_title(res: OptimumResult, tr: Tr) -> str:
    if _state(res, res.screen_scale) is not None:
        return tr("lost pupil-minutes, whole state (estimated from the screening miniature)")
    return tr("lost pupil-minutes")


def front_table(res: OptimumResult, tr: Tr) -> Markup:
    sc = res.scenario
    rows = [[*(value_words(lv, v, tr, sc) for lv, v in zip(res.levers, c.values, strict=True)),
             _eur(c.cost_eur, tr), _lost(res, c, tr),
             tr("recommended") if c is res.best else ""] for c in res.pareto]
    n = len(res.levers)
    return table([*(lever_words(lv, tr, sc) for lv in res.levers), tr("cost"),
                  _lost_title(res, tr), ""], rows, num=(n, n + 1))


def buys_html(res: OptimumResult, tr: Tr) -> Markup:
    """Per lever: its values with the other levers at the answer (screening means)."""
    ref = res.best or res.closest
    if ref is None:
        return Markup("")
    by_values = {c.values: c for c in res.candidates}
    out, missing = Markup(""), 0
    for i, lev in enumerate(res.levers):
        rows = []
        for v in lev.values:
            c = by_values.get((*ref.values[:i], v, *ref.values[i + 1:]))
            if c is None:  # the search did not screen this neighbour
                missing += 1
                continue
            # the lever's own cost beside the mix's: a saving on another lever (fewer nodes)
            # is not this value's
            rows.append([value_words(lev, v, tr, res.scenario), _eur(lev.cost(v), tr),
                         _eur(c.cost_eur, tr), _lost(res, c, tr)])
        out += html("<h3>{t}</h3>", t=lever_words(lev, tr, res.scenario)) + table(
            [tr("value"), tr("cost of this value"), tr("cost of the whole mix"),
             _lost_title(res, tr)], rows, num=(1, 2, 3))
    if missing:
        out += html("<p class=muted>{t}</p>", t=tr(
            "{n} neighbouring combinations were not screened by the search and are left out.",
            n=missing))
    return out


def method_html(res: OptimumResult, tr: Tr) -> Markup:
    """How the answer was found, with the counts as they happened."""
    confirmed = len(res.candidates_confirmed())
    searched = (tr("Every one of the {n} combinations was screened", n=res.combinations)
                if res.search == "exhaustive" else
                tr("{k} of {n} combinations were screened, chosen by a constrained TPE search "
                   "(Optuna)", k=len(res.candidates), n=res.combinations))
    text = tr(
        "{searched} ({r} replications each, common random numbers). Up to {k} that passed "
        "the screening were to be confirmed in cost order on fresh seeds; the answer was "
        "settled after {m} of them. Each target is checked with a one-sided bound at "
        "{level} (Bonferroni over K × T × L = {k} × {t} × {l}: candidates, targets, "
        "looks). {runs} "
        "simulation runs in all; confirmed at full scale: {full}.",
        searched=searched, r=_screen_n(res), k=res.tested, m=confirmed,
        level=tr.pct(1 - res.alpha_each, 2), t=len(res.targets), l=max(1, len(res.looks)),
        runs=tr.count(res.runs), full=tr("yes") if res.confirmed_at_full_scale else tr("no"))
    note = ""
    st = _state(res, res.screen_scale)
    if st is not None:
        note = tr("Lost pupil-minutes in the chart and tables are the whole state's, estimated "
                  "from the screening runs, a faithful miniature at population scale {s} "
                  "(their minutes × {f}), and biased by the miniature's sample of schools "
                  "(see the screening bias below).", s=tr.plain(st), f=tr.sig(1 / st, 4))
    return html("<p>{t}</p>", t=text) + (html("<p class=note>{t}</p>", t=note) if note
                                         else Markup(""))


def _screen_n(res: OptimumResult) -> int:
    c = res.candidates[0] if res.candidates else None
    return len(c.screen.get(FRONT_KPI, [])) if c is not None else 0


def bias_html(res: OptimumResult, tr: Tr) -> Markup:
    rows = []
    for c, row in zip(res.candidates_confirmed(), res.screening_bias(), strict=True):
        for kpi, b in row["kpis"].items():
            rows.append([mix_words(res, c, tr), kpi_label(kpi, tr),
                         fmt_kpi(kpi, b["screen_mean"], tr), fmt_kpi(kpi, b["confirm_mean"], tr),
                         tr("{d} ({lo} to {hi})", d=delta_text(kpi, b["difference"], tr),
                            lo=delta_text(kpi, b["lo"], tr), hi=delta_text(kpi, b["hi"], tr)),
                         "–" if b["ratio"] is None else tr.num(b["ratio"], 3)])
    if not rows:
        return html("<p class=muted>{t}</p>", t=tr(
            "No candidate was confirmed, so there is nothing to compare."))
    return table([tr("combination"), tr("key figure"), tr("screening mean"),
                  tr("confirmation mean"), tr("difference (95 % interval)"), tr("ratio")],
                 rows, num=(2, 3, 4, 5))


def render(res: OptimumResult, lang: str | None = None) -> str:
    """The page as one HTML string (plotly.js inlined: it works offline)."""
    sc = res.scenario
    tr = Tr(lang or getattr(getattr(sc, "report", None), "lang", None))
    ok = res.best is not None
    head = (html("<h1>{t}</h1>", t=tr("Cheapest fix"))
            + html('<p class="{c}"><b>{s}</b></p>', c="ok" if ok else "warn",
                   s=sentence(res, tr))
            + answer_cards(res, tr))
    front_intro = (tr("Each point is a combination of the levers (screening means); the line "
                      "joins those no other combination that may meet the targets beats on "
                      "both cost and lost minutes; the star is the recommended one.")
                   if res.front_of == "feasible" else
                   tr("No combination may meet the targets: the line is the front of all "
                      "combinations screened."))
    sections = [
        Section("front", tr("Cost against lost pupil-minutes"),
                html("<p class=muted>{t}</p>", t=front_intro)
                + embed("front", front_figure(res, tr), tr) + front_table(res, tr)),
        Section("levers", tr("What each lever buys (the others at the answer)"),
                buys_html(res, tr)),
        Section("method", tr("How the answer was found"), method_html(res, tr)),
        Section("bias", tr("Screening bias (screening against confirmation)"),
                bias_html(res, tr)),
    ]
    return page(tr("dlsim optimise – cheapest fix"), head, sections, tr, kind="optimise")


def write_report(res: OptimumResult, path: Path, lang: str | None = None) -> Path:
    """Write the page to ``path`` atomically."""
    from sim.runs.io import write_text

    return write_text(path, render(res, lang))
