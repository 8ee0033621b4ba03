"""Page layout shared by all reports: Jinja2 templates (autoescaped), KPI cards, tables,
intervals in words, the service target and embedded figures.

HTML is rendered from the templates in ``sim/report/templates`` with autoescape on: every
value is escaped unless it is :class:`markupsafe.Markup` built by this package. plotly.js is
inlined once in the page head, so a report is one file that works offline.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from sim.report.i18n import EN, N_, Tr
from sim.report.labels import KPIS, fmt_kpi, kpi_kind, kpi_label
from sim.runs.provenance import package_version
from sim.runs.stats import MIN_MEANINGFUL_REPLICATIONS, Interval

# Kept for callers that read labels by KPI name (the CLI, notebooks): English label, kind.
KPI_LABELS = dict(KPIS)

# The service target of the planners' first question (DESIGN.md): nearly every pupil gets in,
# and quickly. A target is a tuple of (kpi, ">=" or "<=", threshold), all of which must hold.
Target = tuple[tuple[str, str, float], ...]
SERVICE_TARGET: Target = (
    ("join_success_rate", ">=", 0.99),
    ("p95_time_to_join_s", "<=", 120.0),
)
SERVICE_TARGET_TEXT = N_("≥ 99 % of pupil-meetings get in, 95 % of them within 2 minutes")


def target_text(target: Target, tr: Tr = EN) -> str:
    """A target in words (the service target's own wording for the default)."""
    if tuple(target) == SERVICE_TARGET:
        return tr(SERVICE_TARGET_TEXT)
    return ", ".join(
        f"{kpi_label(k, tr)} {'≥' if op == '>=' else '≤'} {fmt_kpi(k, thr, tr)}"
        for k, op, thr in target
    )


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("sim.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=False,
        lstrip_blocks=False,
    )


def esc(x: Any) -> Markup:
    """HTML-escape any value (user text, data values, numbers)."""
    return escape(str(x))


def html(template: str, **kw: Any) -> Markup:
    """A snippet with escaped arguments: ``html("<b>{}</b>", x)`` escapes ``x``."""
    return Markup(template).format(**kw) if kw else Markup(template)


def join(parts: Iterable[Any], sep: str = "") -> Markup:
    return Markup(sep).join(parts)


def table(
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    num: Iterable[int] = (),
    cls: str = "",
) -> Markup:
    """An HTML table; plain cells are escaped, :class:`Markup` cells are kept."""
    macro = _env().get_template("macros.html.j2").module.table  # type: ignore[attr-defined]
    return Markup(macro(list(headers), [list(r) for r in rows], set(num), cls))


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    interval: str = ""


def cards(items: Sequence[Card]) -> Markup:
    macro = _env().get_template("macros.html.j2").module.cards  # type: ignore[attr-defined]
    return Markup(macro(list(items)))


# ------------------------------------------------------------------------------- intervals
def interval_range(kpi: str, iv: Interval | None, tr: Tr = EN) -> str:
    """The 95 % interval of a KPI as a range in its unit ("97.1–99.6 %"), or ``""``."""
    if iv is None or iv.n < 2 or not (tr._ok(iv.lo) and tr._ok(iv.hi)):
        return ""
    kind = kpi_kind(kpi)
    if kind == "share":
        d = 2 if kpi != "blocking_probability" else 3  # as many digits as the mean
        lo, hi = tr.pct(iv.lo, d), tr.pct(iv.hi, d)
        return f"{lo.rsplit(chr(0x202F), 1)[0]}–{hi}"
    if kind == "seconds":
        return f"{tr.num(iv.lo, 1)}–{tr.seconds(iv.hi, 1)}"
    return f"{tr.num(iv.lo)}–{tr.num(iv.hi)}"


def interval_note(kpi: str, iv: Interval | None, tr: Tr = EN) -> str:
    """What to print beside a mean: "(95 % CI 97.1–99.6 %)", or why there is none."""
    if iv is None or iv.n < 2:
        return ""
    if not iv.meaningful:
        return tr("({n} replications: too few for an interval)", n=iv.n)
    return tr("(95 % CI {range})", range=interval_range(kpi, iv, tr))


def fmt_with_interval(kpi: str, v: Any, iv: Interval | None, tr: Tr = EN) -> str:
    """"98.9 % (97.1–99.6 %)" — the mean and, when meaningful, its interval."""
    text = fmt_kpi(kpi, v, tr)
    if iv is not None and iv.meaningful and interval_range(kpi, iv, tr):
        text += f" ({interval_range(kpi, iv, tr)})"
    return text


def too_few_note(n: int, tr: Tr = EN) -> Markup:
    """The sentence a report prints when intervals are missing or meaningless."""
    if n >= MIN_MEANINGFUL_REPLICATIONS:
        return Markup("")
    if n <= 1:
        text = tr(
            "One replication: no confidence intervals. Run at least {k} replications "
            "(--replications {k}) for 95 % confidence intervals.",
            k=MIN_MEANINGFUL_REPLICATIONS,
        )
    else:
        text = tr(
            "Only {n} replications: too few for a meaningful 95 % confidence interval "
            "(it would mostly reflect the lack of data); figures are means. Run at least {k}.",
            n=n,
            k=MIN_MEANINGFUL_REPLICATIONS,
        )
    return html('<p class="note">{t}</p>', t=text)


# ------------------------------------------------------------------------- service target
def _bound(v: float, iv: Any, op: str) -> float:
    """The conservative end of ``iv`` for ``op`` (an Interval or a half-width)."""
    if iv is None:
        return v
    if isinstance(iv, Interval):
        if not iv.meaningful:
            return v
        return iv.lo if op == ">=" else iv.hi
    h = float(iv or 0.0)
    return v - h if op == ">=" else v + h


def meets(
    kpis: Mapping[str, Any],
    ci: Mapping[str, Any] | None = None,
    target: Target = SERVICE_TARGET,
) -> bool | None:
    """Whether ``target`` holds; with ``ci`` (intervals or half-widths) at the conservative end
    of the 95 % interval. None if a KPI is missing. Intervals from too few replications are
    not used (the mean is judged)."""
    for k, op, thr in target:
        v = kpis.get(k)
        if v is None or v != v:  # missing or NaN
            return None
        b = _bound(float(v), (ci or {}).get(k), op)
        if op == ">=" and not b >= thr:
            return False
        if op == "<=" and not b <= thr:
            return False
    return True


def verdict(
    kpis: Mapping[str, Any],
    intervals: Mapping[str, Interval | None] | None = None,
    tr: Tr = EN,
    prefix: str = "",
    see: bool = True,
) -> Markup:
    """A coloured line saying whether the service target is met (``see``: point to the
    sections below)."""
    ok = meets(kpis, intervals)
    if ok is None:
        return Markup("")
    ivs = [iv for iv in (intervals or {}).values() if iv is not None]
    conf = ""
    if ivs and all(iv.meaningful for iv in ivs):
        conf = tr(" (at the 95 % confidence bound)")
    text = tr(SERVICE_TARGET_TEXT)
    lead = html("<b>{p}</b> ", p=prefix) if prefix else Markup("")
    if ok:
        return html('<p class="ok">{lead}{m}{c}: {t}.</p>', lead=lead,
                    m=tr("Service target met"), c=conf, t=text)
    return html(
        '<p class="warn">{lead}<b>{m}</b>{c} ({t}). {see}</p>', lead=lead,
        m=tr("Service target not met"), c=conf, t=text,
        see=tr("See the capacity and retry sections below.") if see else "",
    )


# ---------------------------------------------------------------------------------- figures
def embed(name: str, fig: go.Figure, tr: Tr = EN, static: bool = False) -> Markup:
    """A figure as a ``<div>`` (plotly.js itself is inlined once in the page head);
    ``static`` for print: no tool bar, no hover."""
    fig.update_layout(separators=tr.plotly_separators())
    config: dict[str, Any] = {"displaylogo": False, "responsive": not static, "locale": tr.lang}
    if static:
        config |= {"staticPlot": True, "displayModeBar": False}
    div = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        config=config,
        default_width="100%",
    )
    return html('<div class="figure" data-figure="{n}">', n=name) + Markup(div) + Markup("</div>")



@lru_cache(maxsize=1)
def css() -> str:
    from importlib.resources import files

    return files("sim.report").joinpath("templates", "report.css.j2").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Section:
    anchor: str
    heading: str
    body: Markup
    css: str = ""


def page(
    title: str,
    header_html: Markup,
    sections: Sequence[Section | tuple[str, str, Any]],
    tr: Tr = EN,
    kind: str = "run",
) -> str:
    """A complete HTML page from the page template."""
    from plotly.offline import get_plotlyjs

    secs = [s if isinstance(s, Section) else Section(s[0], s[1], Markup(s[2])) for s in sections]
    now = tr.datetime(_dt.datetime.now(_dt.UTC).replace(tzinfo=None)) + " UTC"
    return _env().get_template("page.html.j2").render(
        tr=tr,
        title=title,
        header=header_html,
        sections=secs,
        css=Markup(css()),
        plotlyjs=Markup(get_plotlyjs()),
        version=package_version(),
        now=now,
        kind=kind,
    )


__all__ = [
    "KPI_LABELS",
    "SERVICE_TARGET",
    "Card",
    "Section",
    "Target",
    "cards",
    "embed",
    "esc",
    "fmt_kpi",
    "fmt_with_interval",
    "html",
    "interval_note",
    "interval_range",
    "join",
    "kpi_label",
    "meets",
    "page",
    "table",
    "target_text",
    "too_few_note",
    "verdict",
]
