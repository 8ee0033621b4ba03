"""The page of ``dlsim calibrate`` (``DIR/calibration.html``, German ``calibration.de.html``):
prior against posterior per input, a pairs plot of the posterior, the predictive checks.

Rendered from the calibration's records (``calibration.json``'s content and the posterior
table), never from a live run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

from sim.report.i18n import Tr
from sim.report.layout import Section, embed, html, page, table
from sim.uncertainty.priors import Priors

BLUE, GREY, RED, GREEN = "#1f77b4", "#9aa3ad", "#d62728", "#2ca02c"
PAIRS = 5
"""The pairs plot shows the inputs whose posterior narrowed most (at most this many)."""


def _v(x: Any, tr: Tr) -> str:
    return "–" if x is None or not math.isfinite(float(x)) else tr.sig(float(x), 3)


def _range(d: dict[str, Any], tr: Tr) -> str:
    return tr("{lo} to {hi}", lo=_v(d["lo"], tr), hi=_v(d["hi"], tr))


def header(result: dict[str, Any], tr: Tr) -> Markup:
    ident = [r for r in result["inputs"] if r["identified"]]
    held = [t for t in result["targets"] if t["held_out"]]
    ok = [t for t in held if t["covered"]]
    s = result["settings"]
    return html("<p>{a}</p><p>{b}</p>",
                a=tr("{n} of {m} inputs are identified by the figures (posterior 90 % interval "
                     "at most 60 % of the prior's); {k} of {h} held-out figures are covered by "
                     "the posterior-predictive 90 % interval.", n=len(ident),
                     m=len(result["inputs"]), k=len(ok), h=len(held)),
                b=tr("ABC-SMC: {g} generations of {p} particles, {r} runs at population "
                     "scale {s}, seed {seed}.", g=result["generations"],
                     p=s["population_size"], r=tr.count(result["day_runs"]),
                     s=tr.plain(float(s["scale"])), seed=s["seed"]))


def inputs_figure(result: dict[str, Any], tr: Tr) -> go.Figure:
    """Per input its prior and posterior 90 % interval and median, on the prior's 90 %
    interval as 0–1 (so inputs of every unit share one axis)."""
    fig = go.Figure()
    rows = result["inputs"]
    labels = [r["label"] for r in rows]
    for key, colour, name in (("prior", GREY, tr("prior")), ("posterior", BLUE,
                                                               tr("posterior"))):
        lo, med, hi = [], [], []
        for r in rows:
            a, b = r["prior"]["lo"], r["prior"]["hi"]
            span = (b - a) or 1.0
            lo.append((r[key]["lo"] - a) / span)
            med.append((r[key]["median"] - a) / span)
            hi.append((r[key]["hi"] - a) / span)
        fig.add_trace(go.Scatter(
            x=med, y=labels, mode="markers", name=name, marker={"color": colour, "size": 9},
            error_x={"type": "data", "symmetric": False,
                     "array": np.subtract(hi, med), "arrayminus": np.subtract(med, lo)}))
    fig.update_layout(height=120 + 28 * len(rows), margin={"l": 10, "r": 10, "t": 30},
                      xaxis_title=tr("position within the prior's 90 % interval (0 = low "
                                     "end, 1 = high end)"), yaxis={"autorange": "reversed"})
    return fig


def pairs_figure(post: pd.DataFrame, result: dict[str, Any]) -> go.Figure:
    """Scatter matrix of the last generation for the inputs that narrowed most."""
    rows = sorted((r for r in result["inputs"] if r["width_ratio"] is not None),
                  key=lambda r: r["width_ratio"])[:PAIRS]
    dims = [{"label": r["label"][:28], "values": post[r["path"]]} for r in rows]
    w = post.weight.to_numpy(dtype=float)
    fig = go.Figure(go.Splom(dimensions=dims, showupperhalf=False, diagonal_visible=False,
                             marker={"size": 5 + 25 * w / (w.max() or 1), "color": BLUE,
                                     "opacity": 0.6}))
    fig.update_layout(height=140 * max(2, len(dims)), margin={"l": 10, "r": 10, "t": 30})
    return fig


def checks_figure(result: dict[str, Any], tr: Tr) -> go.Figure:
    """Per target the values the report allows and the predictive 90 % interval, each as a
    ratio to the observed figure."""
    fig = go.Figure()
    rows = result["targets"]
    names = [r["name"] + (" *" if r["held_out"] else "") for r in rows]

    def rel(v: Any, obs: float) -> float:
        return math.nan if v is None or not math.isfinite(float(v)) else float(v) / obs

    for i, r in enumerate(rows):
        obs = r["observed"] or 1.0
        a, b = (rel(x, obs) for x in r["allowed"])
        a = a if math.isfinite(a) else 0.0
        b = b if math.isfinite(b) else max(a * 1.5, 2.0)
        fig.add_trace(go.Scatter(x=[a, b], y=[names[i]] * 2, mode="lines",
                                 line={"color": GREEN, "width": 12}, opacity=0.4,
                                 name=tr("what the report allows"), showlegend=i == 0))
        colour = BLUE if r["covered"] else RED
        fig.add_trace(go.Scatter(
            x=[rel(r["mean"], obs)], y=[names[i]], mode="markers", showlegend=i == 0,
            name=tr("posterior predictive: mean and 90 % interval"),
            marker={"color": colour, "size": 9},
            error_x={"type": "data", "symmetric": False,
                     "array": [rel(r["hi"], obs) - rel(r["mean"], obs)],
                     "arrayminus": [rel(r["mean"], obs) - rel(r["lo"], obs)]}))
    fig.update_layout(height=140 + 30 * len(rows), margin={"l": 10, "r": 10, "t": 30},
                      xaxis_title=tr("ratio to the reported figure"),
                      yaxis={"autorange": "reversed"})
    return fig


def _input_rows(result: dict[str, Any], tr: Tr) -> list[list[Any]]:
    return [[r["label"], r["source"], _range(r["prior"], tr), _range(r["posterior"], tr),
             tr.pct(r["width_ratio"], 0) if r["width_ratio"] is not None else "–",
             tr("yes") if r["identified"] else tr("no")] for r in result["inputs"]]


def _target_rows(result: dict[str, Any], tr: Tr) -> list[list[Any]]:
    return [[r["name"], r["source"], _v(r["observed"], tr),
             _range({"lo": r["allowed"][0], "hi": r["allowed"][1]}, tr), _v(r["mean"], tr),
             _range(r, tr), tr("held out") if r["held_out"] else tr("fitted"),
             tr("yes") if r["covered"] else tr("no")] for r in result["targets"]]


def render(result: dict[str, Any], posterior_table: pd.DataFrame, priors: Priors,
           lang: str | None = None) -> str:
    """The page in ``lang`` (English by default)."""
    tr = Tr(lang)
    post = posterior_table[posterior_table.generation == posterior_table.generation.max()]
    inputs = (embed("inputs", inputs_figure(result, tr), tr)
              + table([tr("input"), tr("source"), tr("prior 90 %"), tr("posterior 90 %"),
                       tr("width vs prior"), tr("identified")], _input_rows(result, tr)))
    checks = (embed("checks", checks_figure(result, tr), tr)
              + html("<p>{t}</p>", t=tr("* held out: never used to fit. Covered: the "
                                        "predictive 90 % interval overlaps what the report "
                                        "allows."))
              + table([tr("target"), tr("source"), tr("observed"), tr("report allows"),
                       tr("predicted mean"), tr("predicted 90 %"), tr("use"), tr("covered")],
                      _target_rows(result, tr)))
    sections = [
        Section("inputs", tr("Prior and posterior per input"), inputs),
        Section("pairs", tr("Posterior pairs (the inputs that narrowed most)"),
                embed("pairs", pairs_figure(post, result), tr)),
        Section("checks", tr("Posterior-predictive checks"), checks),
    ]
    return page(tr("Calibration: what the reported figures allow"), header(result, tr),
                sections, tr, kind="calibration")
