"""What a reader of the reports sees, checked in headless Chromium for every report kind in
German and English (issue 15): axis ranges fit their data, share intervals stay in [0, 1], no
raw config path or internal id is visible, a German page has no English report strings and
German number formats, and the one-page briefing prints on exactly one page.

The probe reads plotly's own layout (``_fullLayout``: the ranges plotly drew) and data
(``_fullData``, ``calcdata`` for histogram heights) from the rendered page, and the visible
text (``innerText`` and the charts' SVG text) outside the provenance section, whose file
paths and hashes are meant to be copied as they are. On a German page the quoted rows of the
English list of sources (``data/SOURCES.md``, marked ``lang="en"``) are not counted as report
strings.
"""

from __future__ import annotations

import html as html_lib
import json
import math
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from sim.report import Tr, report_directory
from sim.report import i18n as I
from sim.report.i18n import load_catalogue
from sim.report.labels import PLATFORMS, REGIONS, SCHOOL_TYPES, TIERS
from tests.e2e.browser import chromium_args, require_chromium
from tests.e2e.conftest import REPORT_SCALE

PROBE = """<script>
window.addEventListener('load', () => setTimeout(() => {
  const num = a => Array.from(a || []).map(Number).filter(Number.isFinite);
  const plots = [...document.querySelectorAll('.js-plotly-plot')].map(gd => {
    const L = gd._fullLayout, axes = {};
    for (const k of Object.keys(L)) {
      if (/^[xy]axis\\d*$/.test(k)) {
        const a = L[k];
        axes[a._id] = {type: a.type, range: a.range, tickformat: a.tickformat || ''};
      }
    }
    const traces = gd._fullData.filter(t => t.visible === true).map((t, i) => ({
      type: t.type, xaxis: t.xaxis, yaxis: t.yaxis, orientation: t.orientation || 'v',
      fill: t.fill || '', x: num(t.x), y: num(t.y),
      ey: t.error_y && t.error_y.visible ? num(t.error_y.array) : [],
      heights: t.type === 'histogram' ? (gd.calcdata[t.index] || []).map(p => p.s) : [],
    }));
    const shapes = (L.shapes || []).map(s => ({yref: s.yref, xref: s.xref, y0: s.y0, y1: s.y1,
                                                x0: s.x0, x1: s.x1}));
    return {name: (gd.closest('.figure') || {dataset: {}}).dataset.figure, axes, traces,
            shapes};
  });
  // provenance (paths, hashes) is meant to be copied as it is; on a German page, parts
  // marked lang="en" are the project's English list of sources, quoted
  const de = document.documentElement.lang === 'de';
  const skip = el => el.closest('#provenance') || el.closest('code') ||
                     (de && el.closest('[lang="en"]'));
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || skip(el) || el.closest('script,style,#dlsim-probe')) continue;
    const st = getComputedStyle(el);
    if (st.display === 'none' || st.visibility === 'hidden') continue;
    const t = n.textContent.trim();
    if (t) texts.push(t);
  }
  const pre = document.createElement('pre');
  pre.id = 'dlsim-probe';
  pre.textContent = JSON.stringify({plots, texts});
  document.body.appendChild(pre);
}, 800));
</script>"""


def probe(page: Path) -> dict[str, Any]:
    browser = require_chromium()
    text = page.read_text(encoding="utf-8")
    cut = text.rindex("</body>")
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "page.html"
        p.write_text(text[:cut] + PROBE + text[cut:], encoding="utf-8")
        proc = subprocess.run(
            [*chromium_args(browser, str(Path(tmp) / "profile")), "--window-size=1280,900",
             "--virtual-time-budget=20000", "--dump-dom", p.as_uri()],
            capture_output=True, text=True, timeout=180, check=False,
        )
    m = re.search(r'<pre id="dlsim-probe">(.*?)</pre>', proc.stdout, re.S)
    assert m, f"probe did not run (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(html_lib.unescape(m[1]))


KINDS = ("run", "comparison", "sweep")


@pytest.fixture(scope="module")
def pages(report_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
          ) -> dict[tuple[str, str], dict[str, Any]]:
    """Each report kind in each language, rendered and probed (German pages must find every
    message in the catalogue)."""
    out = tmp_path_factory.mktemp("pages")
    I.MISSING.clear()
    probes = {}
    for kind in KINDS:
        for lang in ("en", "de"):
            _, path, _ = report_directory(report_dirs[kind], out / f"{kind}-{lang}.html",
                                          lang=lang)
            probes[kind, lang] = probe(path) | {"html": path.read_text(encoding="utf-8")}
    probes["missing"] = {"ids": sorted(I.MISSING)}  # type: ignore[index]
    return probes


def _axis_values(plot: dict[str, Any], axis: str) -> list[float]:
    """What is drawn against ``axis`` (id like "y2"): points, bar lengths from 0, error bar
    ends, histogram heights, lines (shapes) placed in data coordinates."""
    letter = axis[0]
    vals: list[float] = []
    for t in plot["traces"]:
        if t[f"{letter}axis"] != axis:
            continue
        along = t[letter]
        if t["type"] == "bar":
            horizontal = t["orientation"] == "h"
            if (letter == "x") != horizontal:
                continue  # the category side of a bar
            vals += [*along, 0.0]
            if letter == "y":
                vals += [v + e for v, e in zip(along, t["ey"], strict=False)]
        elif t["type"] == "histogram":
            if letter == "y":
                vals += [h for h in t["heights"] if h]
            else:
                vals += along
        else:
            vals += along
    for s in plot["shapes"]:
        ref = s[f"{letter}ref"]
        if ref == axis:
            vals += [float(s[f"{letter}0"]), float(s[f"{letter}1"])]
    return [v for v in vals if math.isfinite(v)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", ["en", "de"])
def test_axis_ranges_fit_the_data(pages: dict, kind: str, lang: str) -> None:
    """No axis runs more than a factor of 10 beyond what it shows (the time-to-join axis ran
    to 10^114)."""
    checked = 0
    for plot in pages[kind, lang]["plots"]:
        for axis, a in plot["axes"].items():
            if a["type"] not in ("linear", "log") or not a["range"]:
                continue
            vals = _axis_values(plot, axis)
            if not vals:
                continue
            r0, r1 = (float(x) for x in a["range"])
            where = f"{plot['name']} {axis} range {a['range']} data {min(vals)}..{max(vals)}"
            if a["type"] == "log":
                pos = [v for v in vals if v > 0]
                assert pos, where
                assert r1 <= math.log10(max(pos)) + 1 and r0 >= math.log10(min(pos)) - 1, where
            else:
                span = max(max(vals) - min(vals), abs(max(vals)), abs(min(vals)))
                assert r1 - r0 <= 10 * (span if span > 0 else 1.0), where
                assert r0 <= min(vals) + 1e-9 * (span or 1) or r0 <= 0, where
            checked += 1
    assert checked >= 2, f"no numeric axes checked in the {kind} report"


RANGE_PCT = re.compile(r"(\d[\d.,]*)\s?[–-]\s?(\d[\d.,]*)\s?%")


def _number(text: str, lang: str) -> float:
    de = lang == "de"
    return float(text.replace(".", "").replace(",", ".") if de else text.replace(",", ""))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", ["en", "de"])
def test_share_intervals_stay_within_0_and_1(pages: dict, kind: str, lang: str) -> None:
    """Every interval shown as a percentage range lies in [0 %, 100 %], and every band drawn
    on a percentage axis in [0, 1]."""
    text = "\n".join(pages[kind, lang]["texts"]).replace("\u202f", " ")
    ranges = RANGE_PCT.findall(text)
    for lo, hi in ranges:
        a, b = _number(lo, lang), _number(hi, lang)
        assert 0 <= a <= b <= 100, (lo, hi)
    bands = 0
    for plot in pages[kind, lang]["plots"]:
        for t in plot["traces"]:
            ax = plot["axes"].get(t["yaxis"], {})
            if "%" in ax.get("tickformat", "") and t["fill"]:
                bands += 1
                assert all(0 <= y <= 1 for y in t["y"]), (plot["name"], t["y"])
    if kind in ("run", "comparison"):
        assert ranges, "the report shows no share interval at all (3 replications)"
    if kind == "sweep":
        assert bands, "the sweep report draws no band on a share axis"


RAW_IDS = sorted(
    {k for table in (SCHOOL_TYPES, REGIONS, TIERS) for k in table
     if k not in ("none", "current", "outdated", "cloud", "hosted", "gymnasium", "oberschule",
                  "realschule", "hauptschule", "braunschweig", "hannover")}
    | {k for k in PLATFORMS if k != "iserv"}
    | {"iserv-bbb", "nbc-bbb", "hannover-bbb"}
)
RAW_PATTERNS = [
    (re.compile(r"\b\w+\[\d+\]"), "a config path by position"),
    (re.compile(r"\b(platforms|clusters|policies|behaviour|timetable)\.\w"), "a config path"),
    (re.compile(r"\b[a-z]+_[a-z_]+\b"), "a snake_case id"),
    (re.compile(r"\b(frontend|school_servers|cluster):\w"), "a component id"),
    (re.compile("`"), "a Markdown backtick"),
    (re.compile(r"\b(no\.|Nr\.) \d{1,3}[,.]\d{3}"), "a school id with separators"),
    (re.compile(r"\b(" + "|".join(map(re.escape, RAW_IDS)) + r")\b"), "a raw id"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", ["en", "de"])
def test_no_raw_config_path_or_id_in_visible_text(pages: dict, kind: str, lang: str) -> None:
    bad = []
    for t in pages[kind, lang]["texts"]:
        for pat, what in RAW_PATTERNS:
            m = pat.search(t)
            if m and "http" not in t:  # source URLs may hold anything
                bad.append(f"{what}: {m[0]!r} in {t[:120]!r}")
    assert not bad, "\n".join(bad[:20])


def _german() -> dict[str, str]:
    """English → German for every message of the German catalogue (a plural message's
    singular and plural each with their form)."""
    out: dict[str, str] = {}
    for m in load_catalogue("de"):
        if not m.id:
            continue
        if isinstance(m.id, str):
            out[m.id] = str(m.string)
        else:
            out[m.id[0]], out[m.id[1]] = m.string[0], m.string[-1]
    return out


DE = _german()


def _fragments(msgid: str) -> list[str]:
    """The literal pieces of a message long enough to identify it (placeholders removed)."""
    parts = re.split(r"\{[^}]*\}", msgid)
    return [p.strip(" .,:;()") for p in parts
            if len(p.strip(" .,:;()")) >= 12 or len(p.split()) >= 3]


def test_german_pages_find_every_message(pages: dict) -> None:
    assert pages["missing"]["ids"] == [], "messages missing from the German catalogue"


@pytest.mark.parametrize("kind", KINDS)
def test_german_page_has_no_english_report_strings(pages: dict, kind: str) -> None:
    """Every English message (catalogue msgid) that the English page shows is absent from the
    German page."""
    en = "\n".join(pages[kind, "en"]["texts"])
    de = "\n".join(pages[kind, "de"]["texts"])
    shown = [m for m, t in DE.items() if t != m and any(f in en for f in _fragments(m))]
    assert len(shown) >= 15, f"too few catalogue messages found on the English {kind} page"
    left = [f for m in shown for f in _fragments(m) if f in de and f not in DE[m]]
    assert not left, left[:10]


@pytest.mark.parametrize("kind", ["run", "comparison"])
def test_german_number_and_date_formats(pages: dict, report_dirs: dict[str, Path],
                                        kind: str) -> None:
    de = "\n".join(pages[kind, "de"]["texts"]).replace("\u202f", " ")
    en = "\n".join(pages[kind, "en"]["texts"]).replace("\u202f", " ")
    summary = json.loads((report_dirs["run"] / "summary.json").read_text())
    # a miniature's count is shown as the whole state's (÷ scale), rounded to what its interval
    # supports (sim.report.state): some rounding of it, German-formatted, is on the page
    n = summary["kpis"]["join_attempts"] / REPORT_SCALE
    assert n >= 1000  # so that it has a thousands separator
    shown = {lang: [Tr(lang).num(round(n, d), 0) for d in range(-5, 1)] for lang in ("de", "en")}
    assert any(x in de for x in shown["de"]) and not any(x in de for x in shown["en"])
    assert any(x in en for x in shown["en"]) or kind == "comparison"
    assert re.search(r"\b\d{2}\.\d{2}\.\d{4}\b", de), "no German date (dd.mm.yyyy)"
    assert not re.search(r"\b\d{2}\.\d{2}\.\d{4}\b", en)
    assert re.search(r"\d,\d+ %", de) and not re.search(r"\d\.\d+ %", de)
    assert '<html lang="de">' in pages[kind, "de"]["html"]


def test_one_page_pdf(report_dirs: dict[str, Path], tmp_path: Path) -> None:
    """--pdf: the briefing (verdict, KPI cards, two key charts) fits one A4 page."""
    pypdf = pytest.importorskip("pypdf")
    require_chromium()
    for lang in ("de", "en"):
        pdf = tmp_path / f"briefing-{lang}.pdf"
        _, _, files = report_directory(report_dirs["run"], tmp_path / f"r-{lang}.html",
                                       lang=lang, pdf=pdf)
        assert pdf in files and pdf.stat().st_size > 10_000
        reader = pypdf.PdfReader(str(pdf))
        assert len(reader.pages) == 1, f"{lang}: {len(reader.pages)} pages"
        box = reader.pages[0].mediabox
        assert abs(float(box.width) - 595) < 3 and abs(float(box.height) - 842) < 3  # A4
        text = reader.pages[0].extract_text()
        assert ("Versorgungsziel" if lang == "de" else "Service target") in text
