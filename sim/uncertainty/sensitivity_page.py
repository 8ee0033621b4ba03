"""The page of ``dlsim sensitivity`` (``OUT/report.html``), in the reader's language.

Top to bottom: what was run (method, runs, scale, seed); a chart of every input against every
statistic, shaded by how much the input moves it relative to the input that moves it most
(Morris μ*, Sobol total order); per statistic a table of the indices with their 95 %
intervals; how to read them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from markupsafe import Markup

from sim.report.i18n import Tr
from sim.report.layout import Section, embed, html, page, table
from sim.uncertainty.targets import STATISTICS

if TYPE_CHECKING:
    from sim.uncertainty.sensitivity import SensitivityResult


def _label(res: SensitivityResult, path: str) -> str:
    inp = res.priors.input(path)
    return inp.label or path


def _stat(name: str, tr: Tr) -> str:
    return tr(STATISTICS[name].description) if name in STATISTICS else name


def figure(res: SensitivityResult, tr: Tr) -> go.Figure:
    """Inputs (rows) × statistics (columns), shaded by the relative index."""
    t = res.table
    outs = [o for o in res.outputs if o in set(t.output)]
    paths = res.priors.paths
    z = np.zeros((len(paths), len(outs)))
    for j, o in enumerate(outs):
        sel = t[t.output == o].set_index("input")["relative"]
        for i, p in enumerate(paths):
            z[i, j] = float(sel.get(p, 0.0))
    fig = go.Figure(go.Heatmap(
        z=z, x=[_stat(o, tr) for o in outs], y=[_label(res, p) for p in paths],
        colorscale="Blues", zmin=0.0, zmax=1.0,
        colorbar={"title": tr("relative effect")},
        hovertemplate="%{y}<br>%{x}<br>%{z:.2f}<extra></extra>"))
    fig.update_layout(height=max(360, 28 * len(paths) + 160), template="plotly_white",
                      margin={"l": 20, "r": 20, "t": 10, "b": 10},
                      xaxis={"side": "top", "tickangle": -30, "automargin": True},
                      yaxis={"automargin": True, "autorange": "reversed"})
    return fig


def _fmt(tr: Tr, v: object) -> str:
    x = float(v)  # type: ignore[arg-type]
    return tr.sig(x, 3) if np.isfinite(x) else "–"


def output_table(res: SensitivityResult, output: str, tr: Tr) -> Markup:
    """The indices of one statistic, the input that moves it most first."""
    t = res.table[res.table.output == output]
    morris = res.design.method == "morris"
    t = t.sort_values("mu_star" if morris else "ST", ascending=False)
    rows = []
    for r in t.to_dict(orient="records"):
        label = _label(res, str(r["input"]))
        if morris:
            rows.append([label, tr("{v} ± {c}", v=_fmt(tr, r["mu_star"]),
                                   c=_fmt(tr, r["mu_star_conf"])),
                         _fmt(tr, r["sigma"]), _fmt(tr, r["mu"]), tr.num(r["relative"], 2)])
        else:
            rows.append([label, tr("{v} ± {c}", v=tr.num(r["S1"], 2), c=tr.num(r["S1_conf"], 2)),
                         tr("{v} ± {c}", v=tr.num(r["ST"], 2), c=tr.num(r["ST_conf"], 2)),
                         tr.num(r["relative"], 2)])
    heads = ([tr("input"), tr("μ* (95 % interval)"), tr("σ"), tr("μ"), tr("relative")]
             if morris else [tr("input"), tr("first order S1 (95 % interval)"),
                             tr("total order ST (95 % interval)"), tr("relative")])
    first = t.iloc[0] if len(t) else None
    spread = (tr("mean {m}, standard deviation {s} over the design",
                 m=_fmt(tr, float(first.output_mean)), s=_fmt(tr, float(first.output_sd)))
              if first is not None else "")
    return (html("<h3>{t}</h3>", t=_stat(output, tr))
            + html("<p class=muted>{t}</p>", t=spread)
            + table(heads, rows, num=range(1, len(heads))))


def method_html(res: SensitivityResult, tr: Tr) -> Markup:
    d = res.design
    if d.method == "morris":
        text = tr("Morris elementary effects: {r} trajectories of {k} steps on 4 levels of each "
                  "input's prior quantiles ({n} runs). μ* is the mean absolute effect of an "
                  "input on a statistic, in the statistic's unit per the input's whole prior "
                  "range (for a linear effect: the change from the input's lowest to its "
                  "highest value); σ the spread of the effects (large: the effect depends on "
                  "the other inputs, or is not linear); μ the signed mean. The interval of μ* "
                  "is a bootstrap over the trajectories.", r=d.size, k=len(res.priors.paths) + 1,
                  n=d.runs)
    else:
        text = tr("Sobol indices (Saltelli's design, base sample {N}, {n} runs): S1 is the "
                  "share of a statistic's variance over the priors that an input explains on "
                  "its own, ST the share it takes part in (with interactions). Intervals are "
                  "95 % bootstrap intervals.", N=d.size, n=d.runs)
    common = tr("Every run used the same run seed ({seed}), so differences come from the "
                "inputs; the generated population is an input of its own where the priors "
                "name it. Population scale {s}: a faithful miniature, whose local-server "
                "figures are noisier than the whole state's (docs/scale.md).",
                seed=res.seed, s=tr.plain(res.scenario.population.scale))
    return html("<p>{a}</p><p>{b}</p>", a=text, b=common)


def skipped_words(why: dict[str, float], tr: Tr) -> str:
    """Why a statistic has no indices, in words."""
    if "constant" in why:
        return tr("the same value ({v}) in every run: no input moves it",
                  v=tr.sig(why["constant"], 3))
    if "missing" in why:
        return tr("{n} runs without a value", n=int(why["missing"]))
    return tr("{n} of {total} runs stored", n=int(why["stored"]), total=int(why["runs"]))


def render(res: SensitivityResult, lang: str | None = None) -> str:
    tr = Tr(lang or res.scenario.report.lang)
    d = res.design
    head = (html("<h1>{t}</h1>", t=tr("Which inputs matter"))
            + html("<p>{t}</p>", t=tr(
                "{method} over {k} uncertain inputs of {scenario} ({priors}): {n} runs at "
                "population scale {s}, seed {seed}.",
                method=tr("Morris screening") if d.method == "morris" else tr("Sobol indices"),
                k=len(res.priors.paths), scenario=res.scenario.name, priors=res.priors.source,
                n=tr.count(d.runs), s=tr.plain(res.scenario.population.scale),
                seed=res.seed)))
    tables = Markup("").join(output_table(res, o, tr) for o in res.outputs
                             if o in set(res.table.output))
    sections = [
        Section("chart", tr("Inputs against statistics"),
                html("<p class=muted>{t}</p>", t=tr(
                    "Each cell: how much the input moves the statistic, relative to the input "
                    "that moves it most (1)."))
                + embed("sensitivity", figure(res, tr), tr)),
        Section("tables", tr("Indices per statistic"), tables),
        Section("method", tr("How to read it"), method_html(res, tr)),
    ]
    if res.skipped:
        rows = [[_stat(o, tr), skipped_words(why, tr)] for o, why in res.skipped.items()]
        sections.append(Section("skipped", tr("Statistics left out"),
                                table([tr("statistic"), tr("why")], rows)))
    return page(tr("dlsim sensitivity – which inputs matter"), head, sections, tr,
                kind="sensitivity")


def write_report(res: SensitivityResult, path: Path, lang: str | None = None) -> Path:
    """Write the page to ``path`` atomically."""
    from sim.runs.io import write_text

    return write_text(path, render(res, lang))
