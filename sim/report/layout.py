"""Page layout shared by all reports: CSS, escaping, KPI formatting, tables, embedded figures.

Every piece of user or data text goes through :func:`esc` (``html.escape``); plotly.js is
inlined once in the page head, so a report is one file that works offline.
"""

from __future__ import annotations

import datetime as _dt
import html
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from sim.provenance import package_version

KPI_LABELS = {
    "join_attempts": ("Join attempts (pupils)", "{:,.0f}"),
    "joins_succeeded": ("Successful joins", "{:,.0f}"),
    "join_success_rate": ("Pupil-meetings that got in", "{:.2%}"),
    "p50_time_to_join_s": ("Median time to join", "{:,.1f} s"),
    "p95_time_to_join_s": ("95th pct. time to join", "{:,.1f} s"),
    "p99_time_to_join_s": ("99th pct. time to join", "{:,.1f} s"),
    "p95_time_to_join_retried_s": ("95th pct. time to join, pupils who retried", "{:,.1f} s"),
    "gave_up": ("Pupil-meetings given up", "{:,.0f}"),
    "lost_pupil_minutes": ("Lost pupil-minutes", "{:,.0f}"),
    "peak_concurrent_participants": ("Peak concurrent participants", "{:,.0f}"),
    "peak_node_utilisation": ("Peak node utilisation", "{:.1%}"),
    "blocking_probability": ("Blocking probability (capacity)", "{:.3%}"),
    "affected_schools_share": ("Schools affected (>10 % lost >15 min)", "{:.2%}"),
}

# The service target of the planners' first question (DESIGN.md): nearly every pupil gets in,
# and quickly. A target is a tuple of (kpi, ">=" or "<=", threshold), all of which must hold.
Target = tuple[tuple[str, str, float], ...]
SERVICE_TARGET: Target = (
    ("join_success_rate", ">=", 0.99),
    ("p95_time_to_join_s", "<=", 120.0),
)
SERVICE_TARGET_TEXT = "≥ 99 % of pupil-meetings get in, 95 % of them within 2 minutes"


def target_text(target: Target) -> str:
    """A target in words (the service target's own wording for the default)."""
    if tuple(target) == SERVICE_TARGET:
        return SERVICE_TARGET_TEXT
    return ", ".join(
        f"{kpi_label(k).lower()} {'≥' if op == '>=' else '≤'} {fmt_kpi(k, thr)}"
        for k, op, thr in target
    )


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2733;
background:#f6f7f9}
main{max-width:1150px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.2em;margin-top:2em;border-bottom:2px solid #e3e6ea;
padding-bottom:4px}h3{font-size:1.02em;margin:1.2em 0 .3em}.muted{color:#5b6775}
.lead{font-size:1.05em}.small{font-size:.85em}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:.92em}
th,td{padding:5px 8px;border-bottom:1px solid #e8eaee;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px;margin:12px 0}
.kpi{border:1px solid #e3e6ea;border-radius:6px;padding:10px 12px}
.kpi .v{font-size:1.35em;font-weight:600}.kpi .l{font-size:.85em;color:#5b6775}
.kpi .ci{font-size:.62em;font-weight:400;color:#5b6775;white-space:nowrap}
.warn{background:#fff4e5;border-left:4px solid #f0a030;padding:8px 12px}
.ok{background:#eaf7ee;border-left:4px solid #3a9d5d;padding:8px 12px}
.note{background:#eef3fb;border-left:4px solid #4a7cc9;padding:8px 12px}
.toc{font-size:.9em;columns:2}.toc a{color:#2a5aa8;text-decoration:none}
a.src{font-size:.8em;color:#2a5aa8;text-decoration:none;border:1px solid #c9d6ee;
border-radius:3px;padding:0 3px;margin-left:2px;white-space:nowrap}
.changed{font-size:.8em;color:#a35c00;font-weight:600}
.figure{margin:6px 0 14px}.better{color:#26734a}.worse{color:#b3261e}
code{font-size:.9em}footer{margin-top:3em;font-size:.85em;color:#5b6775}
@media print{body{background:#fff}main{max-width:none}}
"""


def esc(x: Any) -> str:
    """HTML-escape any value (user text, data values, numbers)."""
    return html.escape(str(x), quote=True)


def fmt_kpi(name: str, value: Any) -> str:
    """A KPI value formatted with its unit (``–`` when missing)."""
    if value is None:
        return "–"
    fmt = KPI_LABELS.get(name, (name, "{:,.4g}"))[1]
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return esc(value)


def kpi_label(name: str) -> str:
    return KPI_LABELS.get(name, (name.replace("_", " "), ""))[0]


def plain(v: Any) -> str:
    """A number as a planner reads it (thousands separators, 4 significant digits)."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, numbers.Integral):
        return f"{int(v):,}"
    if isinstance(v, numbers.Real):
        f = float(v)
        return f"{f:,.4g}" if abs(f) < 1e6 else f"{f:,.0f}"
    return str(v)


def meets(
    kpis: dict[str, Any], ci: dict[str, Any] | None = None, target: Target = SERVICE_TARGET
) -> bool | None:
    """Whether ``target`` holds (with ``ci``: at the conservative end of the 95 % CI); None if
    a KPI is missing."""
    for k, op, thr in target:
        v = kpis.get(k)
        if v is None or v != v:  # missing or NaN
            return None
        h = float((ci or {}).get(k) or 0.0)
        if op == ">=" and not v - h >= thr:
            return False
        if op == "<=" and not v + h <= thr:
            return False
    return True


def verdict(kpis: dict[str, Any], ci: dict[str, Any] | None = None, prefix: str = "") -> str:
    """A coloured line saying whether the service target is met (``prefix`` is raw HTML)."""
    ok = meets(kpis, ci)
    conf = " (at the 95 % confidence bound)" if ci else ""
    if ok is None:
        return ""
    if ok:
        return f"<p class=ok>{prefix}Service target met{conf}: {SERVICE_TARGET_TEXT}.</p>"
    return (
        f"<p class=warn>{prefix}Service target <b>not</b> met{conf} ({SERVICE_TARGET_TEXT}). "
        "See the capacity and retry sections below.</p>"
    )


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    num: Iterable[int] = (),
    raw: bool = False,
) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then the caller escaped them)."""
    num_cols = set(num)
    cls = [" class=num" if i in num_cols else "" for i in range(len(headers))]
    head = "".join(f"<th{cls[i]}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = []
    for r in rows:
        cells = "".join(
            f"<td{cls[i] if i < len(cls) else ''}>{c if raw else esc(c)}</td>"
            for i, c in enumerate(r)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def embed(name: str, fig: go.Figure) -> str:
    """A figure as a ``<div>`` (plotly.js itself is inlined once in the page head)."""
    div = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        config={"displaylogo": False, "responsive": True},
        default_width="100%",
    )
    return f'<div class=figure data-figure="{esc(name)}">{div}</div>'


def page(title: str, header_html: str, sections: Sequence[tuple[str, str, str]]) -> str:
    """A complete HTML page: ``sections`` are (anchor, heading, body html)."""
    toc = "".join(f'<li><a href="#{esc(a)}">{esc(h)}</a></li>' for a, h, _ in sections if h)
    body = "".join(
        f'<section id="{esc(a)}"><h2>{esc(h)}</h2>{b}</section>' if h else b for a, h, b in sections
    )
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="dlsim {esc(package_version())}">
<title>{esc(title)}</title><style>{CSS}</style>
<script>{get_plotlyjs()}</script></head>
<body><main>
<p class=muted>dlsim · distance-learning infrastructure load</p>
{header_html}
<nav><ul class=toc>{toc}</ul></nav>
{body}
<footer>Generated by dlsim {esc(package_version())} on {esc(now)}. Self-contained: the charts
work offline; hover for values, drag to zoom, double-click to reset.</footer>
</main></body></html>
"""
