"""The project's list of sources (``data/SOURCES.md``) on a page: its rows read, cleaned into
words and translated, and the appendix of the rows a report cites.

**What is translated.** Our own words are messages of the catalogue like every other text a
reader reads: each row's figure or assumption, its value, and an assumption's reasoning
(``make i18n`` extracts them from ``SOURCES.md``: :func:`catalogue_messages`, for every row a
report can cite). What a row quotes — an S row's source: outlets, titles, addresses — stays
as published, marked as English on a page in another language.

**One rule for ids and paths.** ``SOURCES.md`` writes settings, ids and values in code
marks (```assignment.platform_shares```, ```hannover_stadt```, ```none```). A code span
that is a setting of the scenario (its first name a field of the scenario's schema, or a
field name on its own) becomes its label (:func:`sim.report.labels.config_path`); a name of
one thing (region, school type, platform, KPI, cause, fault kind) becomes that thing's
words; anything else — a value (``none``, ``by_size``), a file, an environment variable —
stays as written, in code type. Text outside code marks stays as written (addresses,
"welt.de", "e.g.").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from sim.report import labels as L
from sim.report.i18n import EN, Tr
from sim.report.layout import esc, html, table

SOURCES_MD = Path(__file__).resolve().parents[2] / "data" / "SOURCES.md"
#: The module whose assumptions cite the rows (every id a page can cite starts there).
_CITING = Path(__file__).with_name("assumptions.py")
_ROW = re.compile(r"^\|\s*([AS]\d+)\s*\|(.*)\|\s*$")


def _parse(text: str) -> dict[str, dict[str, Any]]:
    """id → {what, value, basis, refs, confidence, line}; ``basis`` is an A row's reasoning or
    an S row's source, ``refs`` an A row's S ids ("S62–S65, S73"; "" for none)."""
    rows: dict[str, dict[str, Any]] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _ROW.match(line)
        if not m:
            continue
        cells = [c.strip() for c in m[2].split(" | ")]
        if len(cells) < 5:
            continue
        what, value, mid, last, conf = (without_history(cells[0]), without_history(cells[1]),
                                        without_history(cells[2]), " | ".join(cells[3:-1]),
                                        cells[-1])
        assumption = m[1].startswith("A")
        rows[m[1]] = {"what": what, "value": value, "basis": mid if assumption else last,
                      "refs": (last if last != "—" else "") if assumption else "",
                      "confidence": conf, "line": lineno}
    return rows


@lru_cache(maxsize=1)
def source_rows() -> dict[str, dict[str, Any]]:
    """id → {what, value, basis, refs, confidence, line} from data/SOURCES.md (empty if not
    shipped), without the notes on what a figure used to be (:func:`without_history`)."""
    try:
        return _parse(SOURCES_MD.read_text(encoding="utf-8"))
    except OSError:
        return {}


def own_basis(sid: str, row: dict[str, Any]) -> bool:
    """Whether a row's source / reasoning is in our own words: an assumption's reasoning, or
    the source of a figure we estimated (confidence L); any other S row's source is quoted."""
    return sid.startswith("A") or row["confidence"].strip().startswith("L")


def own_cells(sid: str, row: dict[str, Any]) -> tuple[str, ...]:
    """The cells of a row in our own words (messages): figure, value and, where it is ours
    (:func:`own_basis`), the reasoning."""
    cells = (row["what"], row["value"]) + ((row["basis"],) if own_basis(sid, row) else ())
    return tuple(c for c in cells if c and c != "—")


def _expand(ids_text: str) -> list[str]:
    """'S62–S65, S73' → ['S62', 'S63', 'S64', 'S65', 'S73']."""
    out = []
    for a, b in re.findall(r"([AS]\d+)(?:\s*[–-]\s*([AS]?\d+))?", ids_text):
        if b:
            lo, hi = int(a[1:]), int(b.lstrip("AS"))
            out += [f"{a[0]}{i}" for i in range(lo, hi + 1)]
        else:
            out.append(a)
    return out


def with_what_they_rest_on(ids: list[str], rows: dict[str, dict[str, Any]]) -> list[str]:
    """``ids`` and the rows they rest on (an A row's S ids, "same as S49"), known ones only,
    S rows first."""
    wanted = list(ids)
    i = 0
    while i < len(wanted):
        row = rows.get(wanted[i], {})
        refs = _expand(row.get("refs", ""))
        refs += re.findall(r"same as (S\d+)", row.get("basis", ""))
        wanted += [r for r in refs if r not in wanted]
        i += 1
    known = [i for i in wanted if i in rows]
    return sorted(known, key=lambda i: (i[0] != "S", int(i[1:])))


def catalogue_messages(sources: Path = SOURCES_MD) -> Iterator[tuple[int, str]]:
    """(line, text) of every cell in our own words of the rows a report can cite (the ids
    :mod:`sim.report.assumptions` names and what they rest on): ``make i18n``'s messages
    from ``SOURCES.md``."""
    rows = _parse(sources.read_text(encoding="utf-8"))
    cited = sorted(set(re.findall(r"[\"']([AS]\d+)[\"']", _CITING.read_text(encoding="utf-8"))))
    for sid in with_what_they_rest_on(cited, rows):
        for cell in own_cells(sid, rows[sid]):
            yield rows[sid]["line"], cell


def source_link(sid: str) -> Markup:
    return html('<a class=src href="#src-{i}">{i}</a>', i=sid)


# ------------------------------------------------------------------------------ words
_CODE = re.compile(r"`([^`]*)`")
_EMPHASIS = re.compile(r"\*\*|(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
_URL = re.compile(r"https?://[^\s<>&\"]+[^\s<>&\".,;)]")
_PATH = re.compile(r"[a-z_]+(?:\[[^\]]*\])?(?:\.(?:[a-z_]+|\*)(?:\[[^\]]*\])?)*(?:_\*|\.\*)?")
#: registries of names that mean one thing wherever they stand (a tier's "none" does not)
_NAMES = (L.REGIONS, L.SCHOOL_TYPES, L.FAULT_KINDS, L.CAUSES)


@cache
def _schema_fields() -> tuple[frozenset[str], frozenset[str]]:
    """The scenario's top-level fields, and every field name of its schema."""
    from pydantic import BaseModel

    from sim.config import Scenario

    top = frozenset(Scenario.model_fields)
    seen: set[type] = set()
    names: set[str] = set()
    todo: list[Any] = [Scenario]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, f in model.model_fields.items():
            names.add(name)
            todo += [t for t in _types(f.annotation) if issubclass(t, BaseModel)]
    return top, frozenset(names)


def _types(ann: Any) -> list[type]:
    """The classes inside an annotation (``list[Fault] | None`` → Fault, NoneType)."""
    args = getattr(ann, "__args__", None)
    if args:
        return [t for a in args for t in _types(a)]
    return [ann] if isinstance(ann, type) else []


def is_setting(token: str) -> bool:
    """Whether ``token`` names a setting of the scenario (``timetable.periods``,
    ``platforms[*].frontend``, ``behaviour.backoff_*``, or a path that starts at a field
    deeper in the schema: ``dispatcher.poll_interval_s``, ``live_lesson_min``)."""
    token = token.lstrip(".")  # ``.response_share``: a sibling of the path before it
    if not _PATH.fullmatch(token):
        return False
    top, names = _schema_fields()
    first = re.split(r"[.\[]", token, maxsplit=1)[0]
    return first in top or first.rstrip("_*") in names


def code_words(token: str, tr: Tr = EN) -> str | None:
    """A code span of SOURCES.md in words, by :func:`is_setting` and the names' registries;
    None for anything else (kept as written)."""
    for names in _NAMES:
        if token in names:
            return tr(names[token])
    if token in L.PLATFORMS:
        return L.PLATFORMS[token]
    if token in L.KPIS:
        return L.kpi_label(token, tr)
    if is_setting(token):
        return L.config_path(token.lstrip("."), tr)
    return None


def clean(text: str, tr: Tr = EN) -> Markup:
    """A SOURCES.md cell as a reader reads it: no Markdown marks, code spans in words
    (:func:`code_words`) or, where they are not words (a value, a file, a variable), as
    written in code type; addresses as links; everything else as written."""
    out, pos = Markup(""), 0
    for m in _CODE.finditer(text):
        words = code_words(m[1], tr)
        out += _plain(text[pos:m.start()]) + (
            _plain(words) if words is not None else html("<code>{c}</code>", c=m[1]))
        pos = m.end()
    return out + _plain(text[pos:])


def _plain(text: str) -> Markup:
    """Text without its emphasis marks, escaped, its addresses as links."""
    escaped = str(esc(_EMPHASIS.sub(lambda m: m[1] or "", text)))
    return Markup(_URL.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', escaped))


# the project's history in SOURCES.md ("Was 1/75 (2 workers, 14 s) …", "(was 0.40, …)",
# "Until Dec 2026 …", "(Until issue 24c …)", "(CORRECTED; …)"): for its maintainers, not
# for the reader of a report
_HISTORY = re.compile(
    r"(?:^|(?<=[.;] ))(?:Was|Before [A-Z][a-z]+ \d{4}|Until [A-Z][a-z]+ \d{4}) .*?"
    r"(?:\.(?=\s+[A-Z(]|\s*$)|$)\s*"
    r"|\s*\((?:was|Until issue|Before issue|CORRECTED)\b[^()]*\)", re.S)


def without_history(text: str) -> str:
    """A SOURCES.md cell without its notes on what the figure used to be."""
    return _HISTORY.sub("", text).strip()


def _own(text: str, tr: Tr) -> Markup:
    """One of our cells, translated (the catalogue's messages from SOURCES.md) and cleaned."""
    return clean(tr(text) if text and text != "—" else text, tr)


def _source(sid: str, row: dict[str, Any], tr: Tr) -> Markup:
    """A row's source / reasoning: ours translated; "same as S49" in words; a quoted source
    as published, marked as English on a page in another language."""
    text = row["basis"]
    if own_basis(sid, row):
        return _own(text, tr)
    same = re.fullmatch(r"same as (S\d+)", text)
    if same:
        return esc(tr("same as {id}", id=same[1]))
    cell = clean(text, tr)
    return cell if tr.lang == "en" else html('<span lang="en">{c}</span>', c=cell)


def sources_appendix(ids: list[str], tr: Tr = EN) -> Markup:
    """The cited rows of SOURCES.md (and the S rows the cited A rows rest on), in the
    reader's language; quoted sources as published."""
    rows = source_rows()
    if not rows:
        return html("<p class=muted>{t}</p>", t=tr("The list of sources is not available in "
                                                    "this installation."))
    conf = {"H": tr("high"), "M": tr("medium"), "L": tr("low")}
    body = []
    for i in with_what_they_rest_on(ids, rows):
        r = rows[i]
        basis = _source(i, r, tr)
        if r["refs"]:
            basis += html(" ({t})", t=tr("sources: {ids}", ids=r["refs"]))
        body.append((html('<b id="src-{i}">{i}</b>', i=i), _own(r["what"], tr),
                     _own(r["value"], tr), html("<span class=small>{b}</span>", b=basis),
                     conf.get(r["confidence"].strip()[:1], r["confidence"])))
    note = tr("From the project's list of sources (data/SOURCES.md); the sources themselves "
              "are quoted as published. Confidence: high = published figure, medium = "
              "published but indirect, low = our estimate.")
    return table([tr("id"), tr("figure / assumption"), tr("value"), tr("source / reasoning"),
                  tr("confidence")], body) + html("<p class='muted small'>{t}</p>", t=note)
