"""The what-if page: one self-contained HTML file (plotly.js inlined, the data as JSON).

Per simulated setting (grid point) the page holds its key figures with 95 % intervals
(:func:`sim.stats.kpi_interval`), the service verdict (:func:`sim.report.layout.meets`, at the
conservative end of those intervals) and the mean per-minute series of its replications. The
script only looks values up: it computes nothing but differences against the pinned setting.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError
from sim.io import write_text
from sim.provenance import package_version
from sim.report.layout import (
    KPI_LABELS,
    SERVICE_TARGET,
    css,
    fmt_kpi,
    kpi_label,
    meets,
    target_text,
)
from sim.stats import kpi_interval
from sim.sweep.spec import PARAM
from sim.whatif.grid import META, PAGE, value_text
from sim.whatif.labels import CAUSES, UI, lever_label
from sim.whatif.series import SeriesStore

CARD_KPIS = (
    "join_success_rate",
    "p95_time_to_join_s",
    "lost_pupil_minutes",
    "gave_up",
    "blocking_probability",
    "peak_node_utilisation",
    "affected_schools_share",
    "peak_concurrent_participants",
)


def _number_format(kpi: str) -> dict[str, Any]:
    """The KPI's Python format (sim.report.layout.KPI_LABELS) as the script formats a
    difference: digits, percent or not, suffix."""
    spec = KPI_LABELS.get(kpi, (kpi, "{:,.4g}"))[1]
    m = re.fullmatch(r"\{:(,?)\.(\d+)([f%])\}(.*)", spec)
    if not m:
        return {"digits": 3, "pct": False, "suffix": ""}
    return {"digits": int(m[2]), "pct": m[3] == "%", "suffix": m[4]}


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
        "failed": [_compact(col(f"failed:{c}")) for c in CAUSES],
        "trying": _compact(col("pupils_trying")),
        "failed_day": [round(float(np.nansum(col(f"failed:{c}"))), 1) for c in CAUSES],
    }


def _kpis(ok: pd.DataFrame) -> tuple[dict[str, Any], bool | None, bool, list[str]]:
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
        out[k] = {"v": vals, "t": [fmt_kpi(k, x) for x in vals], "n": iv.n,
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
        f"{kpi_label(k).lower()} {fmt_kpi(k, means[k])} "
        f"(needs {'≥' if op == '>=' else '≤'} {fmt_kpi(k, thr)})"
        for k, op, thr in SERVICE_TARGET
        if k in means and meets({k: means[k]}, ci and {k: ci[k]}, ((k, op, thr),)) is False
    ]
    return out, verdict, meaningful, misses


def _levers_of(meta: dict[str, Any], wmeta: dict[str, Any] | None, summary: pd.DataFrame
               ) -> list[dict[str, Any]]:
    if wmeta and wmeta.get("levers"):
        return list(wmeta["levers"])
    levers = []  # a plain sweep directory: values in file order, default words
    for path in meta.get("parameters", []):
        values = list(dict.fromkeys(summary[PARAM + path].tolist()))
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        levers.append({
            "path": path, "label": lever_label(path), "unit": "",
            "values": values, "value_labels": [value_text(v) for v in values],
            "control": "slider" if numeric and len(values) > 1 else "select",
        })
    return levers


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def page_data(out_dir: str | Path) -> dict[str, Any]:
    """Everything the page shows, from a what-if (or grid sweep) directory."""
    d = Path(out_dir)
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
    wpath = d / META
    try:
        loaded = json.loads(wpath.read_text(encoding="utf-8")) if wpath.exists() else None
        wmeta = loaded if isinstance(loaded, dict) else None
        levers = _levers_of(meta, wmeta, summary)
        for lv in levers:
            _ = (lv["path"], lv["label"], lv["values"], lv["value_labels"], lv["control"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError([f"--from {d}: {wpath.name} or the sweep's parameters are unreadable "
                           f"({exc.__class__.__name__}: {exc}); run `dlsim whatif` with the "
                           "grid file again to rewrite it"]) from None
    shape = [len(lv["values"]) for lv in levers]
    store = SeriesStore(d)
    have = store.stored_keys()
    ok_rows = results[results["error"].isna()] if len(results) else results
    frames_all = {k: store.read(k) for k in ok_rows["key"] if k in have} if len(
        ok_rows) else {}
    times = np.array(sorted({int(t) for f in frames_all.values() if f is not None
                             for t in f["t"]}), dtype=np.int64)
    clusters = sorted({c.split(":", 1)[1] for f in frames_all.values() if f is not None
                       for c in f.columns if c.startswith("participants:")})
    points: list[dict[str, Any] | None] = [None] * int(np.prod(shape))
    for _, row in summary.iterrows():
        try:
            idx = [lv["values"].index(_py(row[PARAM + lv["path"]])) for lv in levers]
        except (KeyError, ValueError):
            raise ConfigError([f"--from {d}: point {row['point']} of summary.parquet is not a "
                               f"setting of {wpath.name}; run `dlsim whatif` with the grid "
                               "file again"]) from None
        flat = int(np.ravel_multi_index(idx, shape)) if shape else 0
        sel = ok_rows[ok_rows["point"] == row["point"]]
        if sel.empty:
            continue
        kpis, verdict, meaningful, misses = _kpis(sel)
        frames = [f for k in sel["key"] if (f := frames_all.get(k)) is not None]
        points[flat] = {
            "point": int(row["point"]),
            "n": len(sel),
            "errors": int(row["errors"]),
            "kpis": kpis,
            "verdict": verdict,
            "ci_used": meaningful,
            "misses": misses,
            "series": _point_series(frames, times, clusters) if frames else None,
        }
    interval = int(np.median(np.diff(times))) if len(times) > 1 else 60
    return {
        "name": meta.get("name", d.name),
        "description": meta.get("description", ""),
        "scenario": (wmeta or {}).get("scenario", meta.get("base_config", "")),
        "base_config": meta.get("base_config", ""),
        "scale": (wmeta or {}).get("scale"),
        "replications": int(meta.get("replications", 1)),
        "target": target_text(SERVICE_TARGET),
        "levers": levers,
        "shape": shape,
        "t0": int(times[0]) if len(times) else 0,
        "dt": interval,
        "nt": len(times),
        "clusters": clusters,
        "causes": [{"key": k, "label": v} for k, v in CAUSES.items()],
        "kpis": [{"key": k, "label": kpi_label(k), "fmt": _number_format(k)}
                 for k in CARD_KPIS],
        "points": points,
        "ui": UI,
        "version": package_version(),
        "built": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _asset(name: str) -> str:
    return resources.files("sim.whatif").joinpath(name).read_text(encoding="utf-8")


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
    return tmpl.render(
        title=UI["title"].format(name=data["name"]),
        lead=UI["lead"],
        description=data["description"],
        css=Markup(css() + _asset("whatif.css")),
        plotly_js=Markup(get_plotlyjs()),
        page_js=Markup(_asset("whatif.js")),
        payload=Markup(payload),
        ui=UI,
        version=data["version"],
    )


def write_page(out_dir: str | Path, out_file: str | Path | None = None) -> Path:
    """Build ``out_dir/whatif.html`` (or ``out_file``) from the directory's stored runs."""
    data = page_data(out_dir)
    return write_text(Path(out_file) if out_file else Path(out_dir) / PAGE, render_page(data))
