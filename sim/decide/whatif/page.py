"""The what-if page: one self-contained HTML file (plotly.js inlined, the data as JSON).

Per simulated setting (grid point) the page holds its key figures with 95 % intervals
(:func:`sim.runs.stats.kpi_interval`), the service verdict (:func:`sim.report.layout.meets`, at the
conservative end of those intervals) and the mean per-minute series of its replications. The
script only looks values up: it computes nothing but differences against the pinned setting.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError, Scenario, scenario_from_dict
from sim.decide.whatif.grid import META, PAGE
from sim.decide.whatif.labels import FAILED_SERIES, failed_series, ui
from sim.decide.whatif.series import SeriesStore
from sim.experiments.sweep.spec import PARAM, override
from sim.model.causes import COLUMN as CAUSE
from sim.model.costs import scenario_cost
from sim.report import labels as L
from sim.report.i18n import Tr, check_lang
from sim.report.layout import SERVICE_TARGET, css, fmt_kpi, kpi_label, meets, target_text
from sim.report.state import axis_title, kpi_name, miniature_factor, unit_note, whole_frame
from sim.runs.io import write_text
from sim.runs.provenance import package_version
from sim.runs.stats import kpi_interval, mean_interval, share_interval

CARD_KPIS = (
    "join_success_rate",
    "p95_time_to_join_s",
    "lost_pupil_minutes",
    "gave_up",
    "blocking_probability",
    "peak_node_utilisation",
    "affected_schools_share",
    "degraded_share",
    "peak_concurrent_participants",
)


def _number_format(kpi: str) -> dict[str, Any]:
    """How the script formats a difference of ``kpi`` (as :func:`sim.report.labels.fmt_kpi`
    formats the value): digits, percent or not, suffix."""
    kind = L.kpi_kind(kpi)
    if kind == "share":
        return {"digits": 3 if kpi == "blocking_probability" else 2, "pct": True, "suffix": ""}
    if kind == "seconds":
        return {"digits": 1, "pct": False, "suffix": "\u202fs"}
    return {"digits": 0, "pct": False, "suffix": ""}


def _compact(values: np.ndarray) -> float | int | list[float | int]:
    """A series as compact JSON: one number if constant, else rounded values (integers
    without a decimal point): one decimal below 1,000, whole numbers from there, so that a
    value takes at most 7 characters below a million (``BYTES_PER_VALUE`` of the size
    estimate)."""
    v = np.nan_to_num(values.astype(float))
    v = np.round(v, 1 if v.size == 0 or np.max(np.abs(v)) < 1000 else 0)
    if v.size and np.all(v == v[0]):
        x = float(v[0])
        return int(x) if x.is_integer() else x
    return [int(x) if x.is_integer() else x for x in v.tolist()]


def _point_series(frames: list[pd.DataFrame], times: np.ndarray, clusters: list[str]
                  ) -> dict[str, Any]:
    """Mean over replications of each series, on the shared time axis."""
    aligned = [f.set_index("t").reindex(times) for f in frames]
    mean = pd.concat(aligned).groupby(level=0).mean().reindex(times)

    def col(name: str) -> np.ndarray:
        return mean[name].to_numpy(float) if name in mean else np.zeros(len(times))

    return {
        "participants": [_compact(col(f"participants:{c}")) for c in clusters],
        "capacity": [_compact(col(f"capacity:{c}")) for c in clusters],
        "failed": [_compact(col(f"failed:{c}")) for c in FAILED_SERIES],
        "trying": _compact(col("pupils_trying")),
    }


def _kpis(ok: pd.DataFrame, tr: Tr) -> tuple[dict[str, Any], bool | None, bool, list[str]]:
    """Key figures of one setting: per KPI [mean, lo, hi] and their texts; the verdict,
    whether it used the intervals, and what of the target is missed."""
    out: dict[str, Any] = {}
    means: dict[str, float] = {}
    bounds: dict[str, float] = {}
    meaningful = True
    for k in CARD_KPIS:
        iv = kpi_interval(k, ok[k].to_numpy(float) if k in ok else [])
        meaningful = meaningful and iv.meaningful
        vals = [iv.mean, iv.lo, iv.hi]
        if not all(math.isfinite(x) for x in vals):
            out[k] = None
            continue
        out[k] = {"v": vals, "t": [fmt_kpi(k, x, tr) for x in vals], "n": iv.n,
                  "meaningful": iv.meaningful}
        means[k] = iv.mean
        for kk, op, _thr in SERVICE_TARGET:
            if kk == k:  # the conservative end of the (possibly asymmetric) interval
                bounds[k] = iv.mean - iv.lo if op == ">=" else iv.hi - iv.mean
    for k, _, _ in SERVICE_TARGET:  # a target KPI not on a card is still judged
        if k not in means and k in ok:
            iv = kpi_interval(k, ok[k].to_numpy(float))
            if math.isfinite(iv.mean):
                means[k] = iv.mean
                bounds[k] = iv.mean - iv.lo
                meaningful = meaningful and iv.meaningful
    ci = bounds if meaningful else None
    verdict = meets(means, ci, SERVICE_TARGET)
    misses = [
        tr("{kpi} {value}{range} (needs {sign} {thr})", kpi=kpi_label(k, tr),
           value=fmt_kpi(k, means[k], tr), range="", sign="≥" if op == ">=" else "≤",
           thr=fmt_kpi(k, thr, tr))
        for k, op, thr in SERVICE_TARGET
        if k in means and meets({k: means[k]}, ci and {k: ci[k]}, ((k, op, thr),)) is False
    ]
    return out, verdict, meaningful, misses


def _levers_of(meta: dict[str, Any], wmeta: dict[str, Any] | None, summary: pd.DataFrame,
               tr: Tr, scenario: Scenario | None) -> list[dict[str, Any]]:
    """The levers with their words in ``tr``'s language: the grid author's where given, else
    the report's registry (config paths and setting values in words)."""
    if wmeta and wmeta.get("levers"):
        levers = [dict(lv) for lv in wmeta["levers"]]
    else:  # a plain sweep directory: values in file order, no author's words
        levers = []
        for path in meta.get("parameters", []):
            values = list(dict.fromkeys(summary[PARAM + path].tolist()))
            numeric = all(isinstance(v, int | float) and not isinstance(v, bool)
                          for v in values)
            levers.append({"path": path, "label": "", "unit": "", "values": values,
                           "value_labels": None,
                           "control": "slider" if numeric and len(values) > 1 else "select"})
    for lv in levers:
        lv["values"] = [_py(v) for v in lv["values"]]
        if not lv.get("label"):
            lv["label"] = L.config_path(lv["path"], tr, scenario)
        if not lv.get("value_labels"):
            unit = lv.get("unit") or ""
            lv["value_labels"] = [
                f"{L.setting_value(lv['path'], v, tr, scenario)} {unit}".strip()
                for v in lv["values"]]
    return levers


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _attribution(ok: pd.DataFrame, tr: Tr) -> dict[str, Any] | None:
    """Lost pupil-minutes of one setting by cause (the runs' direct accounting,
    ``cause:<name>``): per cause the mean minutes and the mean share,
    with the share's 95 % interval over the replications (:mod:`sim.runs.stats`); None when the
    rows do not carry the accounting."""
    cols = [c for c in ok.columns if c.startswith(CAUSE)]
    if not cols and "cost_eur" not in ok:
        return None  # rows of an older dlsim: no accounting recorded
    minutes = ok[cols].fillna(0.0).to_numpy(float) if cols else np.zeros((len(ok), 0))
    totals = minutes.sum(axis=1)
    rows: dict[str, Any] = {}
    for j, c in enumerate(cols):
        m = minutes[:, j]
        if not np.any(m != 0):
            continue
        shares = np.divide(m, totals, out=np.full(len(m), np.nan), where=totals > 0)
        shares = shares[np.isfinite(shares)]
        # charges can be negative (a return after giving up gives minutes back): a share
        # outside [0, 1] gets the plain t interval
        iv = (share_interval(shares) if np.all((shares >= 0) & (shares <= 1))
              else mean_interval(shares))
        mi = mean_interval(m)
        rows[c[len(CAUSE):]] = {
            "v": [mi.mean, iv.mean, iv.lo, iv.hi], "n": iv.n,
            "t": [tr.count(mi.mean), tr.pct(iv.mean, 1),
                  tr("{lo} to {hi}", lo=tr.pct(iv.lo, 1), hi=tr.pct(iv.hi, 1))
                  if iv.n >= 2 and math.isfinite(iv.lo) else "–"],
        }
    order = sorted(rows, key=lambda c: -rows[c]["v"][0])
    return {"rows": {c: rows[c] for c in order}, "n": len(ok)}


class _Ran:
    """What :func:`sim.model.costs.scenario_cost` reads of a run, from its stored row."""

    def __init__(self, row: pd.Series):
        self.extra = {"nodes_started_by_scale_up": float(
            row.get("details.nodes_started_by_scale_up", 0.0) or 0.0)}


def _cost(scenario: Scenario | None, why: str, ok: pd.DataFrame, tr: Tr) -> dict[str, Any]:
    """The setting as configured, priced per replication by :func:`sim.model.costs.scenario_cost`
    and averaged (the reserve node-hours depend on the run); or why it cannot be."""
    if scenario is None:
        return {"missing": why}
    if "details.nodes_started_by_scale_up" not in ok:
        return {"missing": tr("its runs did not record the reserve nodes started")}
    costs = [scenario_cost(scenario, _Ran(r)) for _, r in ok.iterrows()]
    items = []
    for j, it in enumerate(costs[0]["items"]):
        qty = float(np.mean([c["items"][j]["quantity"] for c in costs]))
        eur = float(np.mean([c["items"][j]["eur"] for c in costs]))
        items.append([L.cost_item(it, tr), tr.num(qty, 1),
                      tr.num(it["unit_eur"], 2), tr.num(eur, 0)])
    total = float(np.mean([c["total_eur"] for c in costs]))
    return {"v": total, "t": tr.num(total, 0), "items": items}


def _scenarios(wmeta: dict[str, Any] | None, levers: list[dict[str, Any]],
               points: list[tuple[int, list[Any]]], tr: Tr
               ) -> tuple[dict[int, Scenario], str]:
    """Each setting's scenario as configured (the stored base plus the setting's values), for
    its cost; with the reason when they cannot be built."""
    base = (wmeta or {}).get("base")
    if not isinstance(base, dict):
        return {}, tr("the directory does not record its base scenario (run `dlsim whatif` "
                      "again)")
    out = {}
    try:
        for p, values in points:
            sets = [override(lv["path"], v) for lv, v in zip(levers, values, strict=True)]
            out[p] = scenario_from_dict(base, META, sets)
    except ConfigError as exc:
        return {}, tr("its scenario no longer validates ({problem})", problem=str(exc))
    return out, ""


def _unpriced(levers: list[dict[str, Any]], scenarios: dict[int, Scenario]) -> list[str]:
    """Levers whose values change the scenario but not its price (a fault's window, or a
    change the costs section has no price for, such as the share of outdated servers)."""
    out = []
    for lv in levers:
        if len(lv["values"]) < 2:
            continue
        totals: dict[Any, set[float]] = {}
        for sc in scenarios.values():
            v = _value_at(sc, lv["path"])
            totals.setdefault(repr(v), set()).add(scenario_cost(sc)["total_eur"])
        if len(totals) > 1 and len({frozenset(t) for t in totals.values()}) == 1:
            out.append(lv["label"])
    return out


def _value_at(sc: Scenario, path: str) -> Any:
    obj: Any = sc.model_dump(mode="json")
    for part in re.findall(r"[^.\[\]]+", path):
        try:
            obj = obj[int(part)] if isinstance(obj, list) else obj[part]
        except (KeyError, IndexError, ValueError, TypeError):
            return None
    return obj


def _lang_of(wmeta: dict[str, Any] | None, lang: str | None) -> str | None:
    if lang is not None:
        return check_lang(lang)
    base = (wmeta or {}).get("base")
    report = base.get("report") if isinstance(base, dict) else None
    return report.get("lang") if isinstance(report, dict) else None


def page_data(out_dir: str | Path, lang: str | None = None) -> dict[str, Any]:
    """Everything the page shows, from a what-if (or grid sweep) directory, in ``lang`` (else
    the base scenario's ``report.lang``, else English)."""
    d = Path(out_dir)
    meta, results, summary = _read_sweep(d)
    wmeta, tr, base_sc, levers = _read_whatif(d, meta, summary, lang)
    shape = [len(lv["values"]) for lv in levers]
    ok_rows = results[results["error"].isna()] if len(results) else results
    series = _stored_series(d, ok_rows)
    # one unit: a faithful miniature's counts as the whole state's (sim.report.state)
    state = miniature_factor(base_sc, _scale_of(meta, wmeta))
    ok_rows = whole_frame(ok_rows, state, CARD_KPIS)
    times, clusters = series.times, series.clusters
    at = _grid_positions(d, summary, levers, shape)
    scenarios, why = _scenarios(wmeta, levers, [(p, v) for p, _, v in at], tr)
    points: list[dict[str, Any] | None] = [None] * int(np.prod(shape))
    for point, flat, _values in at:
        sel = ok_rows[ok_rows["point"] == point]
        if not sel.empty:
            points[flat] = _point(point, sel, summary, series, (scenarios.get(point), why), tr)
    causes = sorted({c for p in points if p and p["causes"] for c in p["causes"]["rows"]})
    interval = int(np.median(np.diff(times))) if len(times) > 1 else 60
    return {
        "lang": tr.lang,
        "locale": tr.locale.replace("_", "-"),
        "separators": tr.plotly_separators(),
        "name": meta.get("name", d.name),
        "description": meta.get("description", ""),
        "scenario": (wmeta or {}).get("scenario", meta.get("base_config", "")),
        "base_config": meta.get("base_config", ""),
        "scale": tr.plain((wmeta or {}).get("scale")) if (wmeta or {}).get("scale") is not None
        else None,
        "replications": int(meta.get("replications", 1)),
        "target": target_text(SERVICE_TARGET, tr),
        "levers": levers,
        "shape": shape,
        "t0": int(times[0]) if len(times) else 0,
        "dt": interval,
        "nt": len(times),
        "clusters": clusters,
        "cluster_labels": [L.cluster(c, tr, base_sc) for c in clusters],
        "failed": failed_series(tr),
        "causes": {c: L.cause(c, tr, base_sc) for c in causes},
        "unpriced": _unpriced(levers, scenarios),
        "kpis": [{"key": k, "label": kpi_name(k, state, tr), "fmt": _number_format(k)}
                 for k in CARD_KPIS],
        "points": points,
        "ui": _ui(tr, state),
        "version": package_version(),
        "built": tr.datetime(dt.datetime.now(dt.UTC).replace(microsecond=0)) + " UTC",
        "missing": sorted(tr.missing),
    }


def _scale_of(meta: dict[str, Any], wmeta: dict[str, Any] | None) -> float | None:
    """The population scale the grid ran at (the what-if file's, else sweep.json's)."""
    for m in (wmeta or {}, meta):
        if isinstance(m.get("scale"), int | float):
            return float(m["scale"])
    return None


def _ui(tr: Tr, state: float | None) -> dict[str, str]:
    """The page's messages; with a faithful miniature (``state``) the charts' count axes and
    the cause table's minutes say whose counts they are."""
    out = ui(tr)
    if state is not None:
        for k in ("capacity_axis", "failures_axis", "trying_axis"):
            out[k] = axis_title(out[k], state, tr)
        out["minutes"] = tr("lost pupil-minutes charged, whole state")
        out["about_text_one"] += " " + unit_note(state, tr)
        out["about_text_other"] += " " + unit_note(state, tr)
    return out


def _read_sweep(d: Path) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """The finished grid sweep in ``d``: its description, its runs and its points
    (:class:`ConfigError` if it is not one)."""
    try:
        meta = json.loads((d / "sweep.json").read_text(encoding="utf-8"))
        results = pd.read_parquet(d / "results.parquet")
        summary = pd.read_parquet(d / "summary.parquet")
    except (OSError, ValueError) as exc:
        raise ConfigError([f"--from {d}: not a finished sweep or what-if directory ({exc})"]
                          ) from None
    if meta.get("sampling", "grid") != "grid":
        raise ConfigError([f"--from {d}: a {meta.get('sampling')} sweep: the what-if page "
                           "needs a grid (every combination of the levers' values)"])
    return meta, results, summary


def _read_whatif(
    d: Path, meta: dict[str, Any], summary: pd.DataFrame, lang: str | None
) -> tuple[dict[str, Any] | None, Tr, Scenario | None, list[dict[str, Any]]]:
    """What the what-if run recorded beside the sweep: its metadata, the page's language,
    the base scenario (if it still loads) and the levers with their controls."""
    wpath = d / META
    try:
        loaded = json.loads(wpath.read_text(encoding="utf-8")) if wpath.exists() else None
        wmeta = loaded if isinstance(loaded, dict) else None
        tr = Tr(_lang_of(wmeta, lang))
        base_sc: Scenario | None = None
        if wmeta and isinstance(wmeta.get("base"), dict):
            try:
                base_sc = scenario_from_dict(wmeta["base"], META)
            except ConfigError:
                base_sc = None
        levers = _levers_of(meta, wmeta, summary, tr, base_sc)
        for lv in levers:
            _ = (lv["path"], lv["label"], lv["values"], lv["value_labels"], lv["control"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError([f"--from {d}: {wpath.name} or the sweep's parameters are unreadable "
                           f"({exc.__class__.__name__}: {exc}); run `dlsim whatif` with the "
                           "grid file again to rewrite it"]) from None
    return wmeta, tr, base_sc, levers


@dataclass(frozen=True)
class _Series:
    """The stored per-run series (by run key), the times they cover and the clusters in
    them."""

    frames: dict[str, Any]
    times: np.ndarray
    clusters: list[str]


def _stored_series(d: Path, ok_rows: pd.DataFrame) -> _Series:
    """The per-run series stored for the runs that succeeded."""
    store = SeriesStore(d)
    have = store.stored_keys()
    frames_all = {k: store.read(k) for k in ok_rows["key"] if k in have} if len(
        ok_rows) else {}
    times = np.array(sorted({int(t) for f in frames_all.values() if f is not None
                             for t in f["t"]}), dtype=np.int64)
    clusters = sorted({c.split(":", 1)[1] for f in frames_all.values() if f is not None
                       for c in f.columns if c.startswith("participants:")})
    return _Series(frames_all, times, clusters)


def _grid_positions(d: Path, summary: pd.DataFrame, levers: list[dict[str, Any]],
                    shape: list[int]) -> list[tuple[int, int, list[Any]]]:
    """Where each point of the sweep sits in the grid of lever values: (summary point, flat
    index, lever values); :class:`ConfigError` for a point that is no setting of the grid."""
    at: list[tuple[int, int, list[Any]]] = []
    for _, row in summary.iterrows():
        try:
            values = [_py(row[PARAM + lv["path"]]) for lv in levers]
            idx = [lv["values"].index(v) for lv, v in zip(levers, values, strict=True)]
        except (KeyError, ValueError):
            raise ConfigError([f"--from {d}: point {row['point']} of summary.parquet is not a "
                               f"setting of {META}; run `dlsim whatif` with the grid "
                               "file again"]) from None
        at.append((int(row["point"]), int(np.ravel_multi_index(idx, shape)) if shape else 0,
                   values))
    return at


def _point(point: int, sel: pd.DataFrame, summary: pd.DataFrame, series: _Series,
           priced: tuple[Any, str | None], tr: Tr) -> dict[str, Any]:
    """One grid point as the page shows it: key figures and verdict, the day's series, lost
    minutes by cause and the cost (``priced``: its scenario, or why there is none)."""
    scenario, why = priced
    kpis, verdict, meaningful, misses = _kpis(sel, tr)
    frames = [f for k in sel["key"] if (f := series.frames.get(k)) is not None]
    return {
        "point": point,
        "n": len(sel),
        "errors": int(summary.loc[summary["point"] == point, "errors"].iloc[0]),
        "kpis": kpis,
        "verdict": verdict,
        "ci_used": meaningful,
        "misses": misses,
        "series": _point_series(frames, series.times, series.clusters) if frames else None,
        "causes": _attribution(sel, tr),
        "cost": _cost(scenario, why or tr("no scenario for it"), sel, tr),
    }


def _asset(name: str) -> str:
    return resources.files("sim.decide.whatif").joinpath(name).read_text(encoding="utf-8")


def render_page(data: dict[str, Any]) -> str:
    """The page's HTML (Jinja2, autoescaped; the data as a JSON script element)."""
    import jinja2
    from markupsafe import Markup
    from plotly.offline import get_plotlyjs

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    # inside <script>: "</" could end the element early; "<\/" is the same JSON string
    payload = payload.replace("</", "<\\/")
    tmpl = env.from_string(_asset("whatif.html.j2"))
    ui_text = data["ui"]
    return tmpl.render(
        lang=data["lang"],
        title=ui_text["title"].format(name=data["name"]),
        description=data["description"],
        css=Markup(css() + _asset("whatif.css")),
        plotly_js=Markup(get_plotlyjs()),
        page_js=Markup(_asset("whatif.js")),
        payload=Markup(payload),
        ui=ui_text,
        footer=ui_text["footer"].format(version=data["version"]),
        version=data["version"],
    )


def write_page(out_dir: str | Path, out_file: str | Path | None = None,
               lang: str | None = None) -> Path:
    """Build ``out_dir/whatif.html`` (or ``out_file``) from the directory's stored runs."""
    data = page_data(out_dir, lang)
    return write_text(Path(out_file) if out_file else Path(out_dir) / PAGE, render_page(data))
