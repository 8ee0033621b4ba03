"""Page layout shared by all reports: Jinja2 templates (autoescaped), KPI cards, tables,
intervals in words, the service target and embedded figures.

HTML is rendered from the templates in ``sim/report/templates`` with autoescape on: every
value is escaped unless it is :class:`markupsafe.Markup` built by this package. plotly.js is
inlined once in the page head, so a report is one file that works offline.
"""

from __future__ import annotations

import datetime as _dt
import math
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
# ------------------------------------------------------------------------------ precision
# One rule for how precisely a figure is shown (issue 25, second pass: "≈ 1,049,433"):
# a mean with a meaningful interval to the leading digit of the interval's half-width, one
# digit more when that digit is a 1 (a half-width of 12,345 shows 188,332 as 188,000 and
# the interval to 1,000s; one of 45,000 as 190,000), never finer than the KPI's own format
# and a share never coarser than whole percent (98 % must not read as 100 %); an estimate
# without an interval (a whole-state count scaled from the miniature) to 3 significant
# figures; an exact count (one replication, a number of schools) as it is.
ESTIMATE_FIGURES = 3


def _default_digits(kpi: str) -> int:
    """The decimals a KPI is shown with (a share in percent)."""
    kind = kpi_kind(kpi)
    if kind == "share":
        return 3 if kpi == "blocking_probability" else 2
    return 1 if kind == "seconds" else 0


def supported_digits(half_width: float | None, most: int) -> int:
    """Decimals a figure with this 95 % half-width supports: those of the half-width's
    leading digit, or of its second when the first is a 1 (negative: tens, hundreds, …),
    at most ``most``."""
    if half_width is None or not math.isfinite(half_width) or half_width <= 0:
        return most
    lead = math.floor(math.log10(half_width))
    one = half_width / 10.0 ** lead < 2  # a leading 1: two digits of the half-width
    return min(most, -lead + (1 if one else 0))


def _digits(kpi: str, iv: Interval | None) -> int:
    """The decimals of ``kpi`` as ``iv`` supports it (shares in percent points)."""
    most = _default_digits(kpi)
    if iv is None or not iv.meaningful:
        return most
    if kpi_kind(kpi) == "share":  # in percent points, never coarser than whole percent
        return max(0, supported_digits(iv.half_width * 100.0, most))
    return supported_digits(iv.half_width, most)


def _fmt_at(kpi: str, x: Any, digits: int, tr: Tr) -> str:
    """``x`` in ``kpi``'s unit, rounded to ``digits`` decimals (negative: to tens, …)."""
    if not tr._ok(x):
        return fmt_kpi(kpi, x, tr)
    if kpi_kind(kpi) == "share":
        return fmt_kpi(kpi, round(float(x) * 100, digits) / 100, tr, max(digits, 0))
    return fmt_kpi(kpi, round(float(x), digits), tr, max(digits, 0))


def fmt_mean(kpi: str, v: Any, iv: Interval | None, tr: Tr = EN) -> str:
    """A KPI's mean as precisely as its interval supports (as it is without one)."""
    return _fmt_at(kpi, v, _digits(kpi, iv), tr)


def estimate(x: Any, tr: Tr = EN, half_width: float | None = None) -> str:
    """An estimated count (a whole-state figure scaled from the miniature): to the leading
    digit of its half-width when it has one, else to :data:`ESTIMATE_FIGURES` significant
    figures."""
    if not tr._ok(x) or float(x) == 0:
        return tr.count(x)
    f = float(x)
    if half_width is not None and math.isfinite(half_width) and half_width > 0:
        d = supported_digits(half_width, 0)
    else:
        d = min(0, ESTIMATE_FIGURES - 1 - math.floor(math.log10(abs(f))))
    return tr.num(round(f, d), 0)


def interval_range(kpi: str, iv: Interval | None, tr: Tr = EN) -> str:
    """The 95 % interval of a KPI as a range in its unit ("97.1–99.6 %"), or ``""``; its
    bounds as precise as the interval supports (the mean's precision, :func:`fmt_mean`)."""
    if iv is None or iv.n < 2 or not (tr._ok(iv.lo) and tr._ok(iv.hi)):
        return ""
    d = _digits(kpi, iv)
    lo, hi = _fmt_at(kpi, iv.lo, d, tr), _fmt_at(kpi, iv.hi, d, tr)
    kind = kpi_kind(kpi)
    if kind in ("share", "seconds"):  # the unit once, after the upper bound
        return f"{lo.rsplit(chr(0x202F), 1)[0]}–{hi}"
    return f"{lo}–{hi}"


def interval_note(kpi: str, iv: Interval | None, tr: Tr = EN) -> str:
    """What to print beside a mean: "(95 % CI 97.1–99.6 %)", or why there is none."""
    if iv is None or iv.n < 2:
        return ""
    if not iv.meaningful:
        return tr("({n} replications: too few for an interval)", n=iv.n)
    return tr("(95 % CI {range})", range=interval_range(kpi, iv, tr))


def fmt_with_interval(kpi: str, v: Any, iv: Interval | None, tr: Tr = EN) -> str:
    """"98.9 % (97.1–99.6 %)" — the mean and, when meaningful, its interval, both as precise
    as the interval supports."""
    text = fmt_mean(kpi, v, iv, tr)
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
    "estimate",
    "fmt_kpi",
    "fmt_mean",
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
