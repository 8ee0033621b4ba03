"""Two scenarios side by side with paired differences (B − A).

``diffs`` comes from the experiment layer (paired over common random numbers). Accepted
shapes per KPI: ``{"mean": d, "ci95": h}`` (also ``diff``/``half_width``, or ``lo``/``hi``),
``(d, h)`` or a bare number. Without ``diffs`` the report pairs the replications itself when
both sides ran on the same seeds, else it shows plain differences without a CI.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
from markupsafe import Markup
from plotly.subplots import make_subplots

from sim.model.capacity import capacity_at_mix
from sim.model.metrics import KPI_NAMES
from sim.report import figures as F
from sim.report import labels as L
from sim.report.briefing import briefing, read_attribution
from sim.report.comparison_verdict import (
    HIGHER_IS_BETTER,
    NEUTRAL,
    VERDICT_KPIS,
    causes_costs_html,
    delta_text,
    overall_verdict,
    verdict_line,
)
from sim.report.data import RunData, as_run_data
from sim.report.i18n import Tr
from sim.report.layout import (
    Section,
    embed,
    esc,
    fmt_with_interval,
    html,
    join,
    kpi_label,
    page,
    table,
    too_few_note,
)
from sim.report.run_report import population_line, provenance_table
from sim.report.state import interval_whole, kpi_name, kpi_whole, run_factor, unit_note
from sim.runs.stats import MIN_MEANINGFUL_REPLICATIONS, paired_difference

# KPIs where a larger value is better (for colouring differences).
Diff = tuple[float | None, float | None]
REL_CAP_PCT = 200


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def normalise_diffs(diffs: Mapping[str, Any] | None) -> dict[str, Diff]:
    """KPI → (difference B − A, 95 % CI half-width or None), whatever shape ``diffs`` has."""
    out: dict[str, Diff] = {}
    for k, v in (diffs or {}).items():
        mean = half = None
        if isinstance(v, Mapping):
            for key in ("mean", "diff", "difference", "estimate", "value", "delta"):
                if key in v:
                    mean = _num(v[key])
                    break
            for key in ("ci95", "half_width", "ci95_half_width", "ci_half_width", "hw"):
                if key in v and not isinstance(v[key], list | tuple):
                    half = _num(v[key])
                    break
            lohi = v.get("ci") if isinstance(v.get("ci"), list | tuple) else None
            lo, hi = (lohi if lohi else (v.get("lo"), v.get("hi")))[:2]
            lo, hi = _num(lo), _num(hi)
            if half is None and lo is not None and hi is not None:
                half = (hi - lo) / 2
                mean = (lo + hi) / 2 if mean is None else mean
            n = _num(v.get("n"))
            if v.get("meaningful") is False or (n is not None and n < MIN_MEANINGFUL_REPLICATIONS):
                half = None  # an interval from too few replications is not shown
        elif isinstance(v, list | tuple) and v:
            mean = _num(v[0])
            half = _num(v[1]) if len(v) > 1 else None
        else:
            mean = _num(v)
        out[str(k)] = (mean, half)
    return out


def paired_diffs(a: RunData, b: RunData, tr: Tr | None = None) -> tuple[dict[str, Diff], str]:
    """Differences B − A and how they were formed (paired t via :mod:`sim.runs.stats`)."""
    tr = tr or Tr()
    pa, pb = a.per_replication, b.per_replication
    seeds_a, seeds_b = a.provenance.get("seeds"), b.provenance.get("seeds")
    n = len(next(iter(pa.values()), []))
    paired = n > 1 and seeds_a is not None and seeds_a == seeds_b
    out: dict[str, Diff] = {}
    for k in KPI_NAMES:
        va, vb = a.kpis.get(k), b.kpis.get(k)
        if va is None or vb is None:
            out[k] = (None, None)
        elif paired and len(pa.get(k, [])) == len(pb.get(k, [])) == n:
            xa = [np.nan if x is None else x for x in pa[k]]
            xb = [np.nan if x is None else x for x in pb[k]]
            d = paired_difference(xa, xb)
            out[k] = (d.mean, d.half_width if d.meaningful else None)
        else:
            out[k] = (vb - va, None)
    if paired and n >= MIN_MEANINGFUL_REPLICATIONS:
        how = tr("paired over {n} replications on common random numbers", n=n)
    elif paired:
        how = tr("paired over {n} replications on common random numbers; too few for a "
                 "meaningful confidence interval (run at least {k})", n=n,
                 k=MIN_MEANINGFUL_REPLICATIONS)
    elif n == 1 and seeds_a is not None and seeds_a == seeds_b:
        how = tr("one replication each on the same seed (common random numbers): no "
                 "confidence interval; run several replications for one")
    else:
        how = tr("plain differences of the two scenarios' values (not paired: no confidence "
                 "interval)")
    return out, how


def resolve_diffs(
    a: RunData, b: RunData, diffs: Mapping[str, Any] | None, tr: Tr | None = None
) -> tuple[dict[str, Diff], str]:
    """The given differences (normalised), or paired ones computed from the replications."""
    tr = tr or Tr()
    nd = normalise_diffs(diffs)
    if any(m is not None for m, _ in nd.values()):
        return nd, tr("paired differences from the experiment (common random numbers)")
    return paired_diffs(a, b, tr)


def _diff_cell(k: str, d: Diff, base: float | None, tr: Tr,
               s: float | None = None) -> tuple[Any, str, str]:
    mean, half = d
    if mean is None:
        return "–", "–", ""
    # shares differ in percentage points ("pp"), not "%"; an interval of zero width is shown
    txt = delta_text(k, mean, tr, half, s) + (
        f" ± {delta_text(k, half, tr, half, s).lstrip('+')}" if half is not None else "")
    r = round(mean / base, 3) if base else None
    rel = (("+" if r > 0 else "−" if r < 0 else "") + tr.pct(abs(r), 1)) if r is not None \
        else "–"
    clear = half is not None and abs(mean) > half
    if k in NEUTRAL or mean == 0 or (half is not None and not clear):
        verdict_ = tr("no clear difference") if half is not None and not clear else ""
        return txt, rel, verdict_
    better = (mean > 0) == (k in HIGHER_IS_BETTER)
    word = tr("better") if better else tr("worse")
    cls = "better" if better else "worse"
    return html('<span class="{c}">{t}</span>', c=cls, t=txt), rel, word if half else ""


def _clear(d: Diff) -> bool:
    """A difference its interval does not cover 0 for (or one without an interval)."""
    mean, half = d
    return mean is not None and (half is None or abs(mean) > half)


def comparison_figures(
    a: RunData, b: RunData, diffs: dict[str, Diff], labels: tuple[str, str], tr: Tr | None = None
) -> dict[str, go.Figure]:
    """The comparison's three figures: A and B over the day, the paired differences, the
    time to join."""
    tr = tr or Tr()
    la, lb = (esc(x) for x in labels)
    return {"comparison_timeline": _timeline(a, b, la, lb, tr),
            "paired_differences": _differences(a, diffs, tr),
            "time_to_join": _time_to_join(a, b, la, lb, tr)}


def _timeline(a: RunData, b: RunData, la: str, lb: str, tr: Tr) -> go.Figure:
    """A and B over the day: participants against capacity, failed joins, pupils trying."""
    fig = make_subplots(
        rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.08,
        subplot_titles=[
            tr("Concurrent participants vs capacity"),
            tr("Failed join attempts per minute"),
            tr("Pupils trying to get in (the retry wave)"),
        ],
    )
    tops: list[list[float]] = [[], [], []]
    for d, name, color, dash in ((a, la, F.BLUE, "solid"), (b, lb, F.ORANGE, "dot")):
        ts = d.timeseries
        p = F.series(ts, "total", "participants")
        c = capacity_at_mix(ts, "total")
        fig.add_trace(go.Scatter(x=F.hhmm(p["t"]), y=p["value"],
                                 name=tr("{s}: participants", s=name),
                                 line={"color": color, "dash": dash, "width": 2}), row=1, col=1)
        fig.add_trace(go.Scatter(x=F.hhmm(c["t"]), y=c["value"],
                                 name=tr("{s}: capacity", s=name),
                                 line={"color": color, "dash": "dash" if dash == "solid"
                                       else "longdashdot", "width": 1}), row=1, col=1)
        fails = ts[(ts["component"] == "total")
                   & ts["metric"].isin(["refused_capacity", "failed_frontend",
                                        "failed_dispatcher"])]
        fs = fails.groupby("t", as_index=False)["value"].sum()
        fig.add_trace(go.Scatter(x=F.hhmm(fs["t"]), y=fs["value"],
                                 name=tr("{s}: failures", s=name),
                                 line={"color": color, "dash": dash}, showlegend=False),
                      row=2, col=1)
        tr_ = F.series(ts, "total", "pupils_trying")
        fig.add_trace(go.Scatter(x=F.hhmm(tr_["t"]), y=tr_["value"],
                                 name=tr("{s}: trying", s=name),
                                 line={"color": color, "dash": dash}, showlegend=False),
                      row=3, col=1)
        tops[0] += [*p["value"], *c["value"]]
        tops[1] += list(fs["value"])
        tops[2] += list(tr_["value"])
    for i, (top, title) in enumerate(zip(tops, (tr("people"), tr("failures / min"),
                                                 tr("pupils")), strict=True), start=1):
        rng, step = F.linear_range(top, headroom=1.1)
        fig.update_yaxes(range=rng, dtick=step, title_text=title, row=i, col=1)
    fig.update_layout(height=840, hovermode="x unified", margin={"t": 60, "b": 30, "l": 70},
                      title=tr("A and B over the day"), legend={"orientation": "h", "y": -0.06})
    fig.update_xaxes(tickformat="%H:%M")
    return fig


def _differences(a: RunData, diffs: dict[str, Diff], tr: Tr) -> go.Figure:
    """The paired differences B − A relative to A, coloured by better, worse or unclear."""
    ks = [k for k in KPI_NAMES if diffs.get(k, (None, None))[0] is not None and a.kpis.get(k)]
    rel = [100 * diffs[k][0] / abs(a.kpis[k]) for k in ks]  # type: ignore[operator]
    err = [100 * (diffs[k][1] or 0.0) / abs(a.kpis[k]) for k in ks]
    # a change of +30,000 % would flatten every other bar: bars stop at ±CAP %, their
    # label gives the value
    cap = REL_CAP_PCT
    shown = [max(-cap, min(cap, r)) for r in rel]
    bars = go.Figure(
        go.Bar(
            y=[kpi_label(k, tr) for k in ks], x=shown, orientation="h",
            marker_color=[
                F.GREY if k in NEUTRAL or not _clear(diffs[k])
                else (F.GREEN if (r > 0) == (k in HIGHER_IS_BETTER) else F.RED)
                for k, r in zip(ks, rel, strict=True)
            ],
            marker_pattern_shape=[
                "" if k in NEUTRAL or not _clear(diffs[k])
                else ("" if (r > 0) == (k in HIGHER_IS_BETTER) else "/")
                for k, r in zip(ks, rel, strict=True)
            ],
            error_x={"type": "data", "array": [e if abs(r) < cap else 0.0
                                               for r, e in zip(rel, err, strict=True)],
                     "visible": any(err)},
            text=[("+" if r > 0 else "−" if r < 0 else "") + tr.num(abs(r), 1) + " %"
                  for r in rel],
            textposition="outside", cliponaxis=False,
            customdata=rel, hovertemplate="%{y}: %{customdata:+.1f} %<extra></extra>",
        )
    )
    span = max([abs(r) + e for r, e in zip(shown, err, strict=True)] or [1.0]) * 1.35 or 1.0
    span = min(span, cap * 1.35)
    bars.update_layout(
        height=100 + 28 * len(ks), margin={"t": 50, "b": 50, "l": 330, "r": 40},
        title=tr("Differences B − A, relative to A (hatched: worse; grey: no clear difference; "
                 "bars end at ±{cap} %)",
                 cap=cap),
        xaxis={"title": tr("% of A"), "zeroline": True, "zerolinewidth": 2,
               "range": [-span, span]},
    )
    return bars


def _time_to_join(a: RunData, b: RunData, la: str, lb: str, tr: Tr) -> go.Figure:
    """A's and B's times to join against the 2-minute target."""
    ttj = go.Figure()
    drawn: list[float] = []
    for d, name, color, hatch in ((a, la, F.BLUE, ""), (b, lb, F.ORANGE, "/")):
        bar, vals = F._ttj_bar(d.kpis, d.intervals, tr, name, color, hatch)
        bar.update(textposition="outside", showlegend=True)
        ttj.add_trace(bar)
        drawn += vals
    ttj.add_hline(y=120, line_dash="dot", line_color=F.RED, line_width=2,
                  annotation_text=tr("2-minute target"), annotation_position="top left")
    ttj.update_layout(
        barmode="group", height=380, title=tr("Time to join"),
        yaxis={"title": tr("seconds (log scale)"), **F.log_axis([*drawn, 120.0], F.TTJ_FLOOR_S)},
        margin={"t": 50, "b": 40, "l": 70},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    return ttj


def _config_diff(a: RunData, b: RunData, tr: Tr) -> Markup:
    if a.scenario is None or b.scenario is None:
        return html("<p class=muted>{t}</p>", t=tr("Settings not recorded for both scenarios."))
    fa = _flatten(a.scenario.model_dump(mode="json", exclude={"report", "faults"}))
    fb = _flatten(b.scenario.model_dump(mode="json", exclude={"report", "faults"}))
    keys = [k for k in sorted(set(fa) | set(fb))
            if fa.get(k) != fb.get(k) and k not in ("name", "description")]
    rows = [(L.config_path(k, tr, b.scenario if k in fb else a.scenario),
             _short(k, fa.get(k), tr), _short(k, fb.get(k), tr)) for k in keys]
    rows += fault_rows(a.scenario, b.scenario, tr)
    if not rows:
        return html("<p>{t}</p>", t=tr("The two scenarios have the same settings (only the "
                                       "seeds may differ)."))
    return table([tr("setting"), "A", "B"], rows)


#: the fields that say what a fault strikes (with its kind and start: its identity)
_FAULT_TARGETS = ("platform", "cluster", "region", "school_type", "tier")


def fault_id(f: Mapping[str, Any]) -> tuple[Any, ...]:
    """A fault's identity: its kind, what it strikes and when it starts — how the faults of
    two scenarios are paired (never by their position in the list)."""
    return (f.get("kind"), *(f.get(k) for k in _FAULT_TARGETS), f.get("start"))


def _fault_name(f: Mapping[str, Any], tr: Tr, scenario: Any) -> str:
    """A fault in words: its label (or kind), what it strikes and its start ("IServ
    dispatcher failure from 07:50")."""
    what = tr.text(str(f.get("label") or "")) or L.fault_kind(str(f.get("kind")), tr)
    where = [L.platform(f["platform"], tr, scenario) if k == "platform" else
             L.value_words(f[k], tr, scenario) for k in _FAULT_TARGETS if f.get(k)]
    if where and not f.get("label"):
        what = f"{', '.join(where)}: {what}"
    return tr("{fault} from {start}", fault=what[:1].upper() + what[1:],
              start=L.setting_value("start", f.get("start"), tr))


def fault_rows(a: Any, b: Any, tr: Tr) -> list[tuple[str, str, str]]:
    """The faults of A and B paired by identity (:func:`fault_id`): a row per setting that
    differs between a pair, and one per fault only one side has."""
    da = {fault_id(f): f for f in a.model_dump(mode="json")["faults"]}
    db = {fault_id(f): f for f in b.model_dump(mode="json")["faults"]}
    rows = []
    for key in dict.fromkeys([*da, *db]):
        fa, fb = da.get(key), db.get(key)
        name = _fault_name(fa or fb or {}, tr, b if fb else a)
        if fa is None or fb is None:
            rows.append((name, "–" if fa is None else tr("present"),
                         "–" if fb is None else tr("present")))
            continue
        for k in sorted(set(fa) | set(fb)):
            if fa.get(k) != fb.get(k):
                rows.append((f"{name}: {L.config_path(k, tr, b)}", _short(k, fa.get(k), tr),
                             _short(k, fb.get(k), tr)))
    return rows


def _flatten(x: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(x, dict):
        out: dict[str, Any] = {}
        for k, v in x.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(x, list) and x and all(isinstance(i, dict) for i in x):
        out = {}
        for i, v in enumerate(x):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: x}


def _short(path: str, v: Any, tr: Tr) -> str:
    if isinstance(v, list) and not v:
        return tr("none")
    if v is None:
        return "–"
    s = L.setting_value(path, v, tr)
    return s if len(s) <= 120 else s[:117] + "…"


def render_comparison(
    a: Any,
    b: Any,
    diffs: Mapping[str, Any] | None = None,
    labels: tuple[str, str] | None = None,
    lang: str | None = None,
) -> str:
    """Scenario ``b`` against baseline ``a`` with paired differences, as one HTML string."""
    ra, rb = as_run_data(a), as_run_data(b)
    tr = Tr(lang or rb.lang or ra.lang)
    nd, how = resolve_diffs(ra, rb, diffs, tr)
    labels = labels or (tr.text(ra.name), tr.text(rb.name))
    if labels[0] == labels[1]:  # same scenario name: tell them apart by directory or letter
        dirs = [Path(d.source).name if d.source not in ("", "in memory") else "" for d in (ra, rb)]
        if all(dirs) and dirs[0] != dirs[1]:
            labels = (f"{labels[0]} ({dirs[0]})", f"{labels[1]} ({dirs[1]})")
        else:
            labels = (f"{labels[0]} (A)", f"{labels[1]} (B)")
    figs = comparison_figures(ra, rb, nd, labels, tr)
    fig = {k: embed(k, f, tr) for k, f in figs.items()}
    st = run_factor(ra) if run_factor(ra) == run_factor(rb) else None  # one unit for both
    rows = []
    for k in KPI_NAMES:
        dtxt, rel, word = _diff_cell(k, nd.get(k, (None, None)), ra.kpis.get(k), tr, st)
        rows.append((kpi_name(k, st, tr), *(
            fmt_with_interval(k, kpi_whole(k, r.kpis.get(k), st),
                              interval_whole(k, r.interval(k), st), tr) for r in (ra, rb)),
            dtxt, rel, word))
    kpis = table(
        [tr("key figure"), "A", "B", tr("B − A (95 % CI)"), tr("relative to A"), ""], rows,
        num=(1, 2, 3, 4),
    ) + (html("<p class='muted small'>{t}</p>", t=unit_note(st, tr)) if st else Markup(""))
    head = (
        html("<h1>{a} <span class=muted>{vs}</span> {b}</h1>", a=labels[0], vs=tr("vs"),
             b=labels[1])
        + _overall(ra, rb, tr)
        + html("<p class=lead><b>A:</b> {d}</p><p class=muted>{p}</p>", d=tr.text(ra.description),
               p=population_line(ra, tr))
        + html("<p class=lead><b>B:</b> {d}</p><p class=muted>{p}</p>", d=tr.text(rb.description),
               p=population_line(rb, tr))
        + briefing(ra.kpis, ra.summary.get("details") or {}, ra.intervals, tr,
                   read_attribution(ra.source), ra.scenario, prefix="A:", state=run_factor(ra))
        + briefing(rb.kpis, rb.summary.get("details") or {}, rb.intervals, tr,
                   read_attribution(rb.source), rb.scenario, prefix="B:", state=run_factor(rb))
    )
    n = min(ra.replications, rb.replications)
    head += _verdict(ra, rb, tr, st)
    sections = [
        Section("kpis", tr("Key figures side by side"),
                html("<p class=muted>{t}</p>", t=tr("Differences: {how}.", how=how))
                + too_few_note(n, tr) + kpis + fig["paired_differences"]),
        Section("day", tr("Over the day"), fig["comparison_timeline"]),
        Section("time-to-join", tr("Time to join"), fig["time_to_join"]),
        Section("causes-costs", tr("Causes and costs side by side"), causes_costs_html(
            (_causes(ra), _causes(rb)), (ra.summary.get("cost"), rb.summary.get("cost")), tr,
            rb.scenario, st)),
        Section("settings", tr("What differs between the scenarios"), _config_diff(ra, rb, tr)),
        Section("provenance", tr("Provenance"),
                html("<h3>A</h3>") + provenance_table(ra.provenance, tr, ra.source)
                + html("<h3>B</h3>") + provenance_table(rb.provenance, tr, rb.source)),
    ]
    return page(tr("dlsim comparison – {a} vs {b}", a=labels[0], b=labels[1]), head, sections,
                tr, kind="comparison")


def _causes(d: RunData) -> dict[str, float]:
    return {str(c): float(v) for c, v in
            (d.details.get("lost_pupil_minutes_by_cause") or {}).items()}


def _paired(a: RunData, b: RunData) -> bool:
    seeds = a.provenance.get("seeds")
    return seeds is not None and seeds == b.provenance.get("seeds")


def _verdict(a: RunData, b: RunData, tr: Tr, s: float | None = None) -> Markup:
    """The verdict on the headline figures, when both ran the same seeds (paired)."""
    if not _paired(a, b):
        return Markup("")
    lines = [verdict_line(k, a.per_replication[k], b.per_replication[k], tr, s)
             for k in VERDICT_KPIS
             if len(a.per_replication.get(k, [])) == len(b.per_replication.get(k, [])) >= 2]
    return join(html("<p class=note>{t}</p>", t=line) for line in lines)


def _overall(a: RunData, b: RunData, tr: Tr) -> Markup:
    """The comparison's one-line verdict, first on the page (paired runs only)."""
    line = overall_verdict(a.per_replication, b.per_replication, tr) if _paired(a, b) else ""
    return html('<p class="lead"><b>{t}</b></p>', t=line) if line else Markup("")
