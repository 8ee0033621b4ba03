"""The report of a parameter sweep: KPI vs parameter with 95 % CI bands and the sizing answer.

Reads ``results.parquet`` (one row per (point, replication); KPI columns named as in
``sim.model.metrics.KPI_NAMES``; swept parameters in ``param:<config path>`` columns; lost
pupil-minutes by cause in ``cause:<name>``; ``cost_eur``; failed runs carry a non-empty
``error``) through :func:`sim.runs.rundir.read_sweep`. Anything else in the directory is optional:
a ``sizing.json`` written by ``dlsim size`` is shown as is, a name and description are taken
from ``sweep.json`` (or a ``sweep.yaml`` beside the results) when present.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup
from plotly.subplots import make_subplots

from sim.model.causes import COLUMN as CAUSE
from sim.model.metrics import KPI_NAMES
from sim.report import figures as F
from sim.report import labels as L
from sim.report.briefing import TOP
from sim.report.data import ReportInputError
from sim.report.i18n import EN, N_, Tr
from sim.report.layout import (
    SERVICE_TARGET,
    SERVICE_TARGET_TEXT,
    Section,
    Target,
    embed,
    esc,
    fmt_kpi,
    fmt_mean,
    html,
    interval_range,
    join,
    kpi_label,
    meets,
    page,
    table,
    target_text,
    too_few_note,
)
from sim.report.state import kpi_name, scales, unit_note, whole
from sim.runs.rundir import RunDirError, read_sweep
from sim.runs.stats import KPI_BOUNDS, MIN_MEANINGFUL_REPLICATIONS, Interval, kpi_interval

SWEEP_KPIS = (
    "join_success_rate",
    "p95_time_to_join_s",
    "lost_pupil_minutes",
    "peak_node_utilisation",
    "blocking_probability",
    "affected_schools_share",
    "degraded_share",
)
PALETTE = (F.BLUE, F.ORANGE, F.GREEN, F.RED, F.PURPLE, "#8c564b", "#e377c2", F.GREY)


@dataclass
class SweepData:
    results: pd.DataFrame
    name: str = "Parameter sweep"
    description: str = ""
    sizing: dict[str, Any] | None = None
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    summary: pd.DataFrame | None = None
    """summary.parquet (one row per point with ``<kpi>:lo``/``<kpi>:hi``), when written."""
    lang: str | None = None
    notes: list[str] = field(default_factory=list)
    """What the reader set aside (English msgids of the catalogue)."""

    @property
    def params(self) -> list[str]:
        return [c for c in self.results.columns if str(c).startswith("param:")]

    @property
    def kpis(self) -> list[str]:
        return [k for k in KPI_NAMES if k in self.results.columns]

    @property
    def causes(self) -> list[str]:
        """The ``cause:<name>`` columns (lost pupil-minutes by cause; none in older sweeps)."""
        return sorted(c for c in self.results.columns if str(c).startswith(CAUSE))

    @property
    def means(self) -> list[str]:
        """Columns averaged per point besides the KPIs: the causes and ``cost_eur``."""
        cost = ["cost_eur"] if "cost_eur" in self.results.columns else []
        return self.causes + cost

    @property
    def param_names(self) -> dict[str, str]:
        """sweep.json's ``parameter_names``: each swept path as written → the same path with
        list elements by name. Labels resolved by name do not depend on the platforms' order
        in the default scenario (a base scenario may order them differently)."""
        names = self.meta.get("parameter_names") if isinstance(self.meta, dict) else None
        if not isinstance(names, dict):
            return {}
        return {str(k): v for k, v in names.items() if isinstance(v, str)}

    @property
    def failed(self) -> pd.DataFrame:
        if "error" not in self.results.columns:
            return self.results.iloc[0:0]
        err = self.results["error"]
        return self.results[err.notna() & (err.astype(str).str.strip() != "")]

    @property
    def ok(self) -> pd.DataFrame:
        return self.results.drop(index=self.failed.index)


def load_sweep_dir(path: str | Path) -> SweepData:
    """A sweep directory as the report reads it (the files are read by
    :func:`sim.runs.rundir.read_sweep`)."""
    try:
        stored = read_sweep(path)
    except ReportInputError:
        raise
    except RunDirError as exc:
        raise ReportInputError(str(exc)) from None
    p, meta = stored.path, stored.meta
    data = SweepData(stored.results, name=f"Parameter sweep {p.name}", source=str(p),
                     meta=meta, summary=stored.summary, sizing=stored.sizing,
                     notes=list(stored.notes))
    if not data.params:
        raise ReportInputError(f"{p / 'results.parquet'}: no 'param:<path>' columns")
    if not data.kpis:
        raise ReportInputError(f"{p / 'results.parquet'}: no KPI columns")
    data.name = str(meta.get("name") or data.name)
    data.description = str(meta.get("description") or "")
    lang = (meta.get("report") or {}).get("lang") if isinstance(meta.get("report"), dict) else None
    data.lang = lang if lang in ("de", "en") else None
    return data


def point_stats(data: SweepData) -> pd.DataFrame:
    """One row per point: parameters, n, and per KPI ``<kpi>`` (mean), ``<kpi>:lo``,
    ``<kpi>:hi`` (95 % interval within the KPI's bounds, :func:`sim.runs.stats.kpi_interval`, or
    read from summary.parquet), ``<kpi>:ci95`` (half-width) and ``<kpi>:n``; the mean of each
    ``cause:<name>`` (lost pupil-minutes by cause) and of ``cost_eur`` when the rows carry
    them."""
    ok, params = data.ok, data.params
    given = _given_intervals(data)
    rows = []
    for key, g in ok.groupby(params, dropna=False, sort=True):
        vals = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(params, vals, strict=True))
        row["n"] = len(g)
        for k in data.kpis:
            v = pd.to_numeric(g[k], errors="coerce").to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            lo, hi = KPI_BOUNDS.get(k, (-np.inf, np.inf))
            v = np.clip(v, lo, hi)
            iv = kpi_interval(k, v) if v.size else Interval(np.nan, np.nan, np.nan, 0)
            glo, ghi = given.get((vals, k), (None, None))
            if glo is not None and ghi is not None:
                iv = Interval(iv.mean, max(glo, lo), min(ghi, hi), iv.n, method=iv.method)
            row[k], row[f"{k}:lo"], row[f"{k}:hi"] = iv.mean, iv.lo, iv.hi
            row[f"{k}:ci95"] = iv.half_width if iv.n > 1 else 0.0
            row[f"{k}:n"] = iv.n
        for c in data.means:
            v = pd.to_numeric(g[c], errors="coerce").to_numpy(dtype=float)
            # a cause a run did not record cost it nothing (older parts lack the column)
            row[c] = float(np.nan_to_num(v).mean()) if c.startswith(CAUSE) else (
                float(np.nanmean(v)) if np.isfinite(v).any() else np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_factor(data: SweepData) -> float | None:
    """``s`` when every point of the sweep is a faithful miniature at scale ``s`` (sweep.json's
    scale, capacities the whole state's, the scale not swept itself), else None."""
    scale, caps = data.meta.get("scale"), data.meta.get("capacities")
    if (not isinstance(scale, int | float) or caps not in (None, "whole_state")
            or data.meta.get("demand") == "poisson"
            or any(p.endswith("population.scale") for p in data.params)):
        return None
    return float(scale) if 0 < float(scale) < 1 else None


def whole_state_stats(stats: pd.DataFrame, s: float | None) -> pd.DataFrame:
    """:func:`point_stats` with a faithful miniature's counts as the whole state's
    (sim.report.state): each count KPI's mean, interval and half-width, and the lost minutes
    by cause, × 1/s. Shares and times are unchanged."""
    if s is None or stats.empty:
        return stats
    out = stats.copy()
    cols = [c for k in KPI_NAMES if scales(k, s)
            for c in (k, f"{k}:lo", f"{k}:hi", f"{k}:ci95") if c in out.columns]
    cols += [c for c in out.columns if str(c).startswith(CAUSE)]
    for c in cols:
        out[c] = whole(pd.to_numeric(out[c], errors="coerce"), s)
    return out


def _given_intervals(data: SweepData) -> dict[tuple[tuple[Any, ...], str], tuple[Any, Any]]:
    """(point's parameter values, kpi) → (lo, hi) from summary.parquet, when present."""
    s = data.summary
    if s is None or not set(data.params) <= set(s.columns):
        return {}
    out: dict[tuple[tuple[Any, ...], str], tuple[Any, Any]] = {}
    for _, r in s.iterrows():
        key = tuple(r[p] for p in data.params)
        for k in data.kpis:
            if f"{k}:lo" in s.columns and f"{k}:hi" in s.columns:
                lo, hi = r[f"{k}:lo"], r[f"{k}:hi"]
                if pd.notna(lo) and pd.notna(hi):
                    out[(key, k)] = (float(lo), float(hi))
    return out


def _iv(r: pd.Series, k: str) -> Interval:
    return Interval(float(r[k]), float(r[f"{k}:lo"]), float(r[f"{k}:hi"]),
                    int(r.get(f"{k}:n", r.get("n", 0)) or 0))


def x_param(data: SweepData) -> str:
    """The parameter for the x axis: numeric, most levels, capacity-like names first."""

    def score(c: str) -> tuple[bool, bool, int]:
        s = data.results[c]
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        cap = any(w in c for w in ("nodes", "workers", "capacity", "mbit"))
        return numeric, cap, s.nunique()

    return max(data.params, key=score)


def _label(col: str, tr: Tr, names: Mapping[str, str] | None = None, scenario: Any = None) -> str:
    """A parameter column in words, through its named path when sweep.json recorded one."""
    path = str(col)[6:] if str(col).startswith("param:") else str(col)
    return L.config_path((names or {}).get(path, path), tr, scenario)


def _group_label(row: pd.Series, cols: Sequence[str], tr: Tr = EN,
                 names: Mapping[str, str] | None = None) -> str:
    """The other parameters of a line in words ("staggered start slots 3"); with the
    English defaults the config paths (``path=value``) that sizing answers are keyed by."""
    if tr is EN:
        return ", ".join(f"{c[6:]}={_val(row[c])}" for c in cols) or "all points"
    return ", ".join(f"{_label(c, tr, names)} {L.setting_value(c[6:], row[c], tr)}"
                     for c in cols) or tr("all points")


def _val(v: Any) -> str:
    """A parameter value as written in a config (``3``, not ``3.0`` after pandas upcasting)."""
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _meets_at(r: pd.Series, target: Target) -> bool:
    """Whether a point (row of :func:`point_stats`) meets ``target`` at its 95 % bound."""
    return bool(
        meets({k: r[k] for k, _, _ in target}, {k: _iv(r, k) for k, _, _ in target}, target)
    )


def _groups(stats: pd.DataFrame, x: str) -> tuple[list[str], list[pd.DataFrame]]:
    others = [c for c in stats.columns if str(c).startswith("param:") and c != x]
    if not others:
        return others, [stats.sort_values(x)]
    return others, [g.sort_values(x) for _, g in stats.groupby(others, dropna=False, sort=True)]


def kpi_vs_param(
    stats: pd.DataFrame, x: str, kpis: Sequence[str] = SWEEP_KPIS, target: Target = SERVICE_TARGET,
    tr: Tr | None = None, scenario: Any = None, names: Mapping[str, str] | None = None,
    state: float | None = None,
) -> go.Figure:
    """A panel per KPI: mean vs ``x`` with its 95 % band (inside the KPI's bounds), a line per
    other-parameter level; the thresholds of ``target`` as dotted lines. ``state``: the scale
    of a faithful miniature whose counts ``stats`` holds as the whole state's (titles say so)."""
    tr = tr or Tr()
    kpis = [k for k in kpis if k in stats.columns]
    others, groups = _groups(stats, x)
    rows = (len(kpis) + 1) // 2
    fig = make_subplots(
        rows=rows, cols=2, subplot_titles=[kpi_name(k, state, tr) for k in kpis],
        vertical_spacing=0.14 if rows > 1 else 0.2, horizontal_spacing=0.12,
    )
    thresholds = {k: thr for k, _, thr in target}
    xlabel = _label(x, tr, names, scenario)
    for gi, g in enumerate(groups):
        color = PALETTE[gi % len(PALETTE)]
        rgba = "rgba({},{},{},0.15)".format(*(int(color[i : i + 2], 16) for i in (1, 3, 5)))
        label = esc(_group_label(g.iloc[0], others, tr if tr.lang == "de" else _WORDS_EN,
                                 names))
        for j, k in enumerate(kpis):
            r, c = j // 2 + 1, j % 2 + 1
            xs, m = g[x].tolist(), g[k].to_numpy(float)
            lo, hi = g[f"{k}:lo"].to_numpy(float), g[f"{k}:hi"].to_numpy(float)
            lo, hi = np.where(np.isfinite(lo), lo, m), np.where(np.isfinite(hi), hi, m)
            fig.add_trace(
                go.Scatter(x=xs + xs[::-1], y=list(hi) + list(lo[::-1]), fill="toself",
                           mode="lines", fillcolor=rgba, line={"width": 0}, hoverinfo="skip",
                           showlegend=False),
                row=r, col=c,
            )
            fig.add_trace(
                go.Scatter(x=xs, y=m, mode="lines+markers", name=label,
                           line={"color": color, "dash": F.DASHES[gi % len(F.DASHES)]},
                           marker={"symbol": ("circle", "square", "diamond", "triangle-up",
                                              "x", "cross")[gi % 6]},
                           legendgroup=label, showlegend=j == 0),
                row=r, col=c,
            )
            if k in thresholds and gi == 0:
                fig.add_hline(y=thresholds[k], line_dash="dot", line_color=F.RED, row=r, col=c)
    for j, k in enumerate(kpis):
        r, c = j // 2 + 1, j % 2 + 1
        if L.kpi_kind(k) == "share":
            fig.update_yaxes(tickformat=".1%" if k != "blocking_probability" else ".2%",
                             row=r, col=c)
        else:  # 400,000 / 400.000 rather than "400k"
            fig.update_yaxes(tickformat=",~r", row=r, col=c)
        top = np.nanmax(stats[f"{k}:hi"].to_numpy(float)) if len(stats) else 1.0
        bot = np.nanmin(stats[f"{k}:lo"].to_numpy(float)) if len(stats) else 0.0
        if k in thresholds:
            top, bot = max(top, thresholds[k]), min(bot, thresholds[k])
        lo_b, hi_b = KPI_BOUNDS.get(k, (-np.inf, np.inf))
        pad = (top - bot) * 0.06 or abs(top) * 0.05 or 0.01
        fig.update_yaxes(range=[max(bot - pad, lo_b), min(top + pad, hi_b)
                                if np.isfinite(hi_b) else top + pad], row=r, col=c)
    fig.update_xaxes(title_text=esc(xlabel), title_font={"size": 11})
    fig.update_layout(
        height=320 * rows + 100, margin={"t": 70, "b": 40},
        title=tr("Key figures by {x} (mean and 95 % confidence interval over replications)",
                 x=xlabel),
        legend={"orientation": "h", "y": -0.08},
    )
    return fig


_WORDS_EN = Tr("en")  # a distinct object: group labels in words, not the API's path=value


def sizing_answer(
    stats: pd.DataFrame, x: str, target: Target = SERVICE_TARGET
) -> list[tuple[str, Any, bool]]:
    """Per level of the other parameters: (label, the smallest ``x`` from which every larger
    swept value meets ``target`` at the conservative 95 % bound — None if not reached,
    whether the largest swept value meets it)."""
    others, groups = _groups(stats, x)
    out = []
    for g in groups:
        ok = [_meets_at(r, target) for _, r in g.iterrows()]
        best = next((g[x].iloc[i] for i in range(len(ok)) if all(ok[i:])), None)
        out.append((_group_label(g.iloc[0], others), best, bool(ok and ok[-1])))
    return out


def _shortfall(r: pd.Series, target: Target, tr: Tr) -> str:
    """What a point misses of ``target`` (at its 95 % bound), or ``–``."""
    missed = []
    for k, op, thr in target:
        iv = _iv(r, k)
        if not meets({k: r[k]}, {k: iv}, ((k, op, thr),)):
            sign = "≥" if op == ">=" else "≤"
            rng = interval_range(k, iv, tr) if iv.meaningful else ""
            rng = f" ({rng})" if rng else ""
            missed.append(tr("{kpi} {value}{range} (needs {sign} {thr})", kpi=kpi_label(k, tr),
                             value=fmt_mean(k, r[k], iv, tr), range=rng, sign=sign,
                             thr=fmt_kpi(k, thr, tr)))
    return "; ".join(missed) or "–"


def _sizing_html(data: SweepData, stats: pd.DataFrame, x: str, target: Target, tr: Tr) -> Markup:
    out = Markup("")
    xl = _label(x, tr, data.param_names)
    if data.sizing:
        out += html("<h3>{t}</h3>", t=tr("From the sizing search")) + table(
            ["", ""],
            [(L._words(k), json.dumps(v) if isinstance(v, dict | list) else tr.plain(v))
             for k, v in data.sizing.items()],
        )
    if all(k in stats.columns for k, _, _ in target) and pd.api.types.is_numeric_dtype(stats[x]):
        others, groups = _groups(stats, x)
        rows = [
            (_group_label(g.iloc[0], others, tr if tr.lang == "de" else _WORDS_EN,
                          data.param_names),
             tr.plain(v) if v is not None else tr("not reached in the swept range"),
             _shortfall(g.iloc[-1], target, tr))
            for (_, v, _), g in zip(sizing_answer(stats, x, target), groups, strict=True)
        ]
        out += html("<p>{t}</p>", t=Markup(tr(
            "Smallest number of {x} that meets the target (<b>{target}</b>) at the "
            "conservative end of the 95 % confidence interval, with every larger swept value "
            "meeting it too:", x=esc(xl), target=esc(target_text(target, tr))))) + table(
            [tr("other settings"), tr("minimum {x}", x=xl), tr("missed at the largest {x}",
                                                                  x=xl)],
            rows, num=(1,),
        )
    return out or html("<p class=muted>{t}</p>", t=tr(
        "The target's key figures or a numeric parameter are missing: no sizing answer."))


def _points_html(data: SweepData, stats: pd.DataFrame, target: Target, tr: Tr) -> Markup:
    kpis = [k for k in SWEEP_KPIS if k in stats.columns]
    can = all(k in stats.columns for k, _, _ in target)
    rows = []
    for _, r in stats.iterrows():
        cells: list[Any] = [L.setting_value(c[6:], r[c], tr) for c in data.params]
        cells += [tr.count(r["n"])]
        for k in kpis:
            iv = _iv(r, k)
            rng = interval_range(k, iv, tr) if iv.meaningful else ""
            cells.append(html("{v}<br><span class=muted>{r}</span>", v=fmt_mean(k, r[k], iv, tr),
                              r=rng) if rng else fmt_mean(k, r[k], iv, tr))
        if can:
            cells.append(tr("yes") if _meets_at(r, target) else tr("no"))
        if data.causes:
            named, _ = _top_causes(stats.loc[[r.name]], data.causes, tr, top=1)
            cells.append(named or "–")
        rows.append(cells)
    headers = [_label(p, tr, data.param_names) for p in data.params] + [tr("replications")]
    headers += [kpi_name(k, sweep_factor(data), tr) for k in kpis]
    return html("<div class=wide>") + table(
        headers + ([tr("target met")] if can else [])
        + ([tr("most minutes lost to")] if data.causes else []), rows,
        num=range(len(data.params), len(headers) + 1), cls="points",
    ) + html("</div>")


def _scale_note(data: SweepData, tr: Tr) -> Markup:
    """The population scale of the sweep's base (sweep.json), unless it is swept itself."""
    scale = data.meta.get("scale")
    if not isinstance(scale, int | float) or scale == 1 or any(
            p.endswith("population.scale") for p in data.params):
        return Markup("")
    if data.meta.get("capacities") == "as_given":
        return html("<p class=muted>{t}</p>", t=tr(
            "Simulated at population scale {s} on capacities as given (not scaled with "
            "demand); the figures are for the simulated share.", s=tr.plain(float(scale))))
    return html("<p class=muted>{t}</p>", t=tr(
        "Simulated at population scale {s}: a faithful miniature (central capacities at the "
        "same scale).", s=tr.plain(float(scale))) + " " + unit_note(sweep_factor(data), tr))


# ------------------------------------------------------------------------------ briefing
def _setting_words(r: pd.Series, cols: Sequence[str], tr: Tr,
                   names: Mapping[str, str] | None = None) -> str:
    """A point's settings in words ("IServ conference nodes 400, spread of school bells
    10 min"): never a config path."""
    return ", ".join(f"{_inline(_label(c, tr, names), tr)} {L.setting_value(c[6:], r[c], tr)}"
                     for c in cols) or tr("all points")


def _inline(label: str, tr: Tr) -> str:
    """A label as it reads inside an English sentence ("spread of school bells"; names such
    as "IServ" keep their capitals; German nouns keep theirs)."""
    if tr.lang == "en" and len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def _misses(r: pd.Series, k: str, op: str, thr: float) -> bool:
    """Whether a point misses one criterion at the conservative end of its interval (the
    run report's rule, :func:`sim.report.layout.meets`)."""
    return not meets({k: r[k]}, {k: _iv(r, k)}, ((k, op, thr),))


def _extreme(rows: pd.DataFrame, k: str, low: bool) -> pd.Series:
    """The row with the lowest (``low``) or highest mean of ``k``."""
    v = rows[k].to_numpy(dtype=float)
    return rows.iloc[int(np.nanargmin(v) if low else np.nanargmax(v))]


def _amount(k: str, op: str, v: float, thr: float, tr: Tr) -> str:
    """How far a mean is from a criterion ("2.9 percentage points short of ≥ 99 %")."""
    d = (thr - v) if op == ">=" else (v - thr)
    sign = "≥" if op == ">=" else "≤"
    if not d > 0:
        return tr("the mean meets {sign} {thr}, its 95 % bound does not", sign=sign,
                  thr=fmt_kpi(k, thr, tr))
    kind = L.kpi_kind(k)
    if kind == "share":
        amount = tr("{n} percentage points", n=tr.num(100 * d, 2 if d < 0.01 else 1))
    elif kind == "seconds":
        amount = tr.seconds(d)
    else:
        amount = tr.sig(d)
    msg = N_("{amount} short of {sign} {thr}") if op == ">=" else N_("{amount} over {sign} {thr}")
    return tr(msg, amount=amount, sign=sign, thr=fmt_kpi(k, thr, tr))


def _criteria_html(stats: pd.DataFrame, params: Sequence[str], target: Target, tr: Tr,
                   names: Mapping[str, str]) -> list[str]:
    """Per criterion that fails somewhere: at how many points, and the worst of them."""
    out = []
    for k, op, thr in target:
        bad = stats[[_misses(r, k, op, thr) for _, r in stats.iterrows()]]
        if bad.empty:
            continue
        worst = _extreme(bad, k, low=op == ">=")
        iv = _iv(worst, k)
        rng = interval_range(k, iv, tr) if iv.meaningful else ""
        out.append(tr(
            "{kpi}: missed at {k} of {n} points; worst {value}{range} at {setting} ({amount})",
            kpi=kpi_label(k, tr), k=tr.count(len(bad)), n=tr.count(len(stats)),
            value=fmt_mean(k, worst[k], iv, tr), range=f" ({rng})" if rng else "",
            setting=_setting_words(worst, params, tr, names),
            amount=_amount(k, op, float(worst[k]), thr, tr)))
    return out


def _takes(stats: pd.DataFrame, x: str, target: Target, tr: Tr,
           names: Mapping[str, str]) -> str:
    """What it takes to meet the target along ``x``, per level of the other parameters."""
    others, groups = _groups(stats, x)
    xl = _inline(_label(x, tr, names), tr)
    items = []
    for (_, best, _), g in zip(sizing_answer(stats, x, target), groups, strict=True):
        top = L.setting_value(x[6:], g[x].iloc[-1], tr)
        if others:
            group = _setting_words(g.iloc[0], others, tr, names)
            items.append(tr("{x} from {value} with {settings}", x=xl, settings=group,
                            value=L.setting_value(x[6:], best, tr)) if best is not None
                         else tr("with {settings} not within the grid (up to {x} {top})",
                                 settings=group, x=xl, top=top))
        else:
            items.append(tr("{x} from {value}", x=xl, value=L.setting_value(x[6:], best, tr))
                         if best is not None
                         else tr("not within the grid (up to {x} {top})", x=xl, top=top))
    return tr("What it takes to meet the target: {items}.", items="; ".join(items))


def _eur(v: float, tr: Tr) -> str:
    return f"{tr.count(v)}\u202f€"


def _cheapest(stats: pd.DataFrame, ok: Sequence[bool], params: Sequence[str], tr: Tr,
              names: Mapping[str, str]) -> str:
    """The cheapest point that meets the target (``cost_eur``), or ``""`` without costs."""
    if "cost_eur" not in stats.columns or not any(ok):
        return ""
    meeting = stats[list(ok)]
    cost = pd.to_numeric(meeting["cost_eur"], errors="coerce")
    if not cost.notna().any():
        return ""
    best = meeting.iloc[int(np.nanargmin(cost.to_numpy(dtype=float)))]
    ties = int((cost == cost.min()).sum()) - 1
    text = tr("The cheapest setting that meets it: {setting}, {eur} (the scenario's costs: "
              "running costs of the day plus one-off costs)", eur=_eur(float(cost.min()), tr),
              setting=_setting_words(best, params, tr, names))
    if ties:
        text += tr.ngettext("; one other setting that meets it costs the same",
                            "; {n} other settings that meet it cost the same", ties,
                            n=tr.count(ties))
    return text + "."


def _top_causes(rows: pd.DataFrame, causes: Sequence[str], tr: Tr,
                top: int = TOP) -> tuple[str, float]:
    """The ``top`` causes of ``rows`` (points) with their shares, and the minutes they
    share."""
    by = rows[list(causes)].sum()
    total = float(by.sum())
    if not total > 0:
        return "", 0.0
    first = by.sort_values(ascending=False).head(top)
    return ", ".join(tr("{cause} ({share})", cause=L.cause(str(c)[len(CAUSE):], tr),
                        share=tr.pct(v / total)) for c, v in first.items() if v > 0), total


def _causes_html(stats: pd.DataFrame, ok: Sequence[bool], causes: Sequence[str],
                 tr: Tr) -> list[str]:
    """Who lost the minutes: where the target is missed, and what remains where it is met."""
    if not causes:
        if "lost_pupil_minutes" in stats.columns and stats["lost_pupil_minutes"].sum() > 0:
            return [tr("This sweep's runs did not record who lost the minutes (a sweep from "
                       "before the direct accounting): run it again for the causes.")]
        return []
    miss = stats[[not o for o in ok]]
    met = stats[list(ok)]
    out = []
    if len(miss):
        named, total = _top_causes(miss, causes, tr)
        if named:
            out.append(tr("Who lost the minutes where the target is missed ({k} points, {n} "
                          "lost pupil-minutes in all, direct accounting): {causes}.",
                          k=tr.count(len(miss)), n=tr.count(total), causes=named))
    if len(met):
        named, total = _top_causes(met, causes, tr)
        if named:
            msg = (N_("Where it is met ({k} points), the {n} pupil-minutes still lost are "
                      "mostly: {causes}.") if len(miss) else
                   N_("Who lost the {n} pupil-minutes still lost ({k} points, direct "
                      "accounting): {causes}."))
            out.append(tr(msg, k=tr.count(len(met)), n=tr.count(total), causes=named))
    return out


def sweep_briefing(data: SweepData, stats: pd.DataFrame, x: str,
                   target: Target = SERVICE_TARGET, tr: Tr = EN) -> Markup:
    """The sweep's briefing in plain words (no config paths): at how many grid points the
    target holds at the conservative end of their 95 % intervals (the run report's rule),
    which criterion fails where and by how much, what it takes along the sweep's parameters,
    the cheapest setting that meets it (``cost_eur``), who lost the minutes (direct
    accounting, ``cause:<name>``), and the verdict from those numbers."""
    if not len(stats) or not all(k in stats.columns for k, _, _ in target):
        return Markup("")
    names, params = data.param_names, data.params
    ok = [_meets_at(r, target) for _, r in stats.iterrows()]
    n, k = len(stats), sum(ok)
    n_min = int(stats["n"].min())
    conf = (tr(" at the conservative end of their 95 % confidence intervals")
            if n_min >= MIN_MEANINGFUL_REPLICATIONS else "")
    text = tr(SERVICE_TARGET_TEXT) if tuple(target) == SERVICE_TARGET else target_text(target, tr)
    if k == n:
        parts = [html('<p class="ok">{m}{c}: {t}.</p>', c=conf, t=text,
                      m=tr("Service target met at all {n} grid points", n=tr.count(n)))]
    else:
        m = (tr("Service target not met at any of the {n} grid points", n=tr.count(n)) if not k
             else tr("Service target met at {k} of {n} grid points", k=tr.count(k),
                     n=tr.count(n)))
        parts = [html('<p class="warn"><b>{m}</b>{c}: {t}.</p>', m=m, c=conf, t=text)]
    failed = _criteria_html(stats, params, target, tr, names)
    if failed:
        parts.append(html("<p>{t}.</p>", t="; ".join(failed)))
    sizing = [_takes(stats, x, target, tr, names)] if (
        k < n and pd.api.types.is_numeric_dtype(stats[x])) else []
    cheap = _cheapest(stats, ok, params, tr, names)
    if sizing or cheap:
        parts.append(html("<p>{t}</p>", t=" ".join([*sizing, *([cheap] if cheap else [])])))
    parts += [html("<p>{t}</p>", t=c) for c in _causes_html(stats, ok, data.causes, tr)]
    parts.append(html("<p><b>{v}</b> {t}</p>", v=tr("Verdict:"),
                      t=_verdict(stats, ok, params, target, tr, names)))
    return html('<div class="briefing">{b}</div>', b=join(parts))


def no_difference(stats: pd.DataFrame, k: str) -> bool:
    """Whether the points of a sweep (two or more) do not differ in ``k``: their 95 %
    intervals all overlap (with enough replications for one), else their means are equal."""
    if len(stats) < 2 or k not in stats.columns:
        return False
    m = stats[k].to_numpy(dtype=float)
    lo, hi = (stats.get(f"{k}:{e}", pd.Series(np.nan, index=stats.index)).to_numpy(dtype=float)
              for e in ("lo", "hi"))
    if (int(stats["n"].min()) >= MIN_MEANINGFUL_REPLICATIONS and np.isfinite(lo).all()
            and np.isfinite(hi).all()):
        return bool(lo.max() <= hi.min())
    return bool(np.nanmax(m) - np.nanmin(m) <= 1e-9 * max(1.0, float(np.nanmax(np.abs(m)))))


def _verdict(stats: pd.DataFrame, ok: Sequence[bool], params: Sequence[str], target: Target,
             tr: Tr, names: Mapping[str, str]) -> str:
    n, k = len(stats), sum(ok)
    n_min = int(stats["n"].min())
    if k == n:
        text = tr("Every swept setting meets the service target.")
    elif k:
        text = tr("The service target can be met within this grid, at {k} of its {n} points.",
                  k=tr.count(k), n=tr.count(n))
    else:
        key = target[0][0]
        best = _extreme(stats, key, low=target[0][1] != ">=")
        short = "; ".join(f"{kpi_label(c, tr)} {_amount(c, op, float(best[c]), thr, tr)}"
                          for c, op, thr in target if _misses(best, c, op, thr))
        if all(no_difference(stats, c) for c, _, _ in target):
            # no point is better than another: naming a "best" one would send a planner
            # to a setting that buys nothing
            text = tr("No swept setting meets the service target, and the settings swept make "
                      "no difference to it within the 95 % intervals (no point is better than "
                      "another): {short}.", short=short)
        else:
            text = tr("No swept setting meets the service target; even the best point "
                      "({setting}) misses it: {short}.",
                      setting=_setting_words(best, params, tr, names), short=short)
    if n_min <= 1:
        text += " " + tr("The verdict rests on single runs: one replication per point, no "
                         "confidence interval.")
    elif n_min < MIN_MEANINGFUL_REPLICATIONS:
        text += " " + tr("The verdict rests on {r} runs per point: too few for a confidence "
                         "interval, the means are judged.", r=tr.count(n_min))
    return text


def render_sweep(
    data: SweepData | pd.DataFrame, target: Target = SERVICE_TARGET, lang: str | None = None
) -> str:
    """The sweep report as one self-contained HTML string (sizing against ``target``)."""
    if isinstance(data, pd.DataFrame):
        data = SweepData(data)
    tr = Tr(lang or data.lang)
    stats = whole_state_stats(point_stats(data), sweep_factor(data))  # one unit: the state's
    x = x_param(data)
    failed = data.failed
    name = data.name if data.name != "Parameter sweep" else tr("Parameter sweep")
    n_min = int(stats["n"].min()) if len(stats) else 0
    head = html(
        "<h1>{n}</h1><p class=lead>{d}</p><p class=muted>{m}</p>", n=name, d=data.description,
        m=tr("{p} points · {r} runs ({f} failed) · settings varied: {s}", p=len(stats),
             r=len(data.results), f=len(failed),
             s=", ".join(_label(p, tr, data.param_names) for p in data.params)),
    ) + _scale_note(data, tr) + sweep_briefing(data, stats, x, target, tr) + (
        too_few_note(n_min, tr) if n_min else Markup("")) + join(
        html("<p class=note>{t}</p>", t=tr("Note: {n}.", n=tr(n))) for n in data.notes)
    sections = [
        Section("sizing", tr("Sizing answer"), _sizing_html(data, stats, x, target, tr)),
        Section("kpis", tr("Key figures by setting"),
                embed("kpi_vs_param", kpi_vs_param(stats, x, target=target, tr=tr,
                                                   names=data.param_names,
                                                   state=sweep_factor(data)), tr)),
        Section("points", tr("All points"), _points_html(data, stats, target, tr)),
    ]
    if len(failed):
        sections.append(Section("failed", tr("Failed runs"), table(
            [*(_label(p, tr, data.param_names) for p in data.params), tr("error")],
            [(*(tr.plain(r[p]) for p in data.params), str(r["error"])[:300])
             for _, r in failed.head(50).iterrows()],
        )))
    if data.source:
        from sim.report.run_report import provenance_rows

        meta = provenance_rows({k: v for k, v in data.meta.items()
                                if k not in ("name", "description")}, tr)
        sections.append(Section("provenance", tr("Provenance"), table(
            ["", ""], [(tr("read from"), html("<code>{v}</code>", v=data.source)), *meta])))
    return page(tr("dlsim sweep – {name}", name=name), head, sections, tr, kind="sweep")
