"""The gettext catalogues as files: the template extracted from the code, each language's
``.po`` brought up to date with it, and the checks that keep them whole.

``make i18n`` (``python -m sim.report.catalogues update``) extracts every message of ``sim/``
with Babel — calls of ``tr(…)``, ``tr.ngettext(…)``, ``tr.pgettext(…)`` and ``N_(…)`` in the
Python modules and the Jinja templates — into ``sim/report/locale/dlsim.pot``, then merges it
into every ``locale/<lang>/LC_MESSAGES/dlsim.po`` (new messages empty, changed ones fuzzy with
their old translation, vanished ones dropped). A file is rewritten only when its messages
changed, so the command is quiet on a tree that is current. ``… check`` prints what
:func:`problems` finds (exit 1 if anything); the tests run the same checks.

This module is the one home of the extraction options; with the same keywords Babel's own
command line gives the same template::

    pybabel extract --no-default-keywords -k tr -k N_ -k ngettext:1,2 -k pgettext:1c,2 \\
        -k npgettext:1c,2,3 -c translators: --add-location=file -o dlsim.pot sim

(the template and the Jinja templates mapped as in :data:`METHOD_MAP`), and adds the cells of
``data/SOURCES.md`` in our own words that a report can show
(:func:`sim.report.sources.catalogue_messages`).
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from sim.report.i18n import DOMAIN, LANGS, SOURCE_LANG
from sim.report.sources import catalogue_messages

SOURCES_FILE = "data/SOURCES.md"
SOURCES_COMMENT = ("A cell of the list of sources in our own words. Keep the `code` marks as "
                   "they are (settings, ids and values: they are put in words, or kept, on the "
                   "page) and the ids (S62, A31).")

SIM = Path(__file__).resolve().parents[1]
LOCALE = SIM / "report" / "locale"
TEMPLATE = LOCALE / f"{DOMAIN}.pot"

#: The functions whose string arguments are messages (Babel's keyword specs: ``1c`` is the
#: context argument, ``1,2`` singular and plural).
KEYWORDS: dict[str, tuple[int | tuple[int, str], ...] | None] = {
    "tr": None,
    "N_": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}
#: Files → Babel's extractors (the Jinja one ships with Jinja2).
METHOD_MAP = [("**.py", "python"), ("**.j2", "jinja2.ext:babel_extract")]
#: A comment starting with this, just above a message, reaches the translator.
COMMENT_TAGS = ("translators:",)
HEADER = """\
# The messages dlsim shows a reader, extracted from the code by `make i18n`: do not edit.
# Translations: locale/<lang>/LC_MESSAGES/dlsim.po (docs/translations.md)."""
_PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def po_file(lang: str) -> Path:
    """The catalogue of ``lang`` in the source tree."""
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def languages() -> list[str]:
    """The languages that have a catalogue (every supported language but the msgids' own)."""
    return [lang for lang in LANGS if lang != SOURCE_LANG]


def extract(root: Path = SIM) -> Catalog:
    """Every message of the code under ``root`` (its path relative to the repository)."""
    cat = Catalog(project="dlsim", domain=DOMAIN, header_comment=HEADER, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root), METHOD_MAP, keywords=KEYWORDS, comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
    ):
        path = f"{root.name}/{filename}".replace("\\", "/")
        cat.add(message, None, [(path, lineno)], auto_comments=comments, context=context)
    if root == SIM:  # our own words in the list of sources (sim.report.sources)
        for lineno, message in catalogue_messages():
            cat.add(message, None, [(SOURCES_FILE, lineno)], auto_comments=[SOURCES_COMMENT])
    return _brace_format_only(cat)


def _brace_format_only(cat: Catalog) -> Catalog:
    """Messages are ``str.format`` templates: a "%" in them ("95 %") is text, not a format
    (Babel would flag it python-format, and msgfmt -c would check it as one)."""
    for m in cat:
        m.flags.discard("python-format")
    return cat


def read(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def _text(cat: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, cat, include_lineno=False, ignore_obsolete=True)
    return buf.getvalue()


def _signature(cat: Catalog) -> list[tuple[object, ...]]:
    """What a catalogue says as written, without its header (dates, tool versions)."""
    return [(m.context, m.id, m.string or "", sorted(m.flags - {"python-format"}), _files(m),
             _words(m.auto_comments), _words(m.user_comments)) for m in cat if m.id]


def _words(comments: list[str]) -> str:
    """Comments as their words (a catalogue wraps them at its own width)."""
    return " ".join(" ".join(comments).split())


def _files(m: Message) -> list[str]:
    """The files a message is used in (a catalogue names files, not lines)."""
    return sorted({p for p, _ in m.locations})


def _write_if_changed(path: Path, cat: Catalog, old: Catalog | None) -> bool:
    if old is not None and _signature(old) == _signature(cat):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_text(cat))
    return True


def update() -> list[Path]:
    """Extract the template and merge it into every language's catalogue; the files that
    changed."""
    changed = []
    template = extract()
    old = read(TEMPLATE) if TEMPLATE.exists() else None
    if _write_if_changed(TEMPLATE, template, old):
        changed.append(TEMPLATE)
    for lang in languages():
        path = po_file(lang)
        if path.exists():
            cat = read(path, lang)
            before = read(path, lang)
        else:  # a new language: its header (plural forms) from Babel's locale data
            cat, before = Catalog(locale=lang, domain=DOMAIN, project="dlsim"), None
        cat.update(template, update_header_comment=False)
        cat.fuzzy = False  # the header: its fields are maintained by hand
        if _write_if_changed(path, _brace_format_only(cat), before):
            changed.append(path)
    return changed


# ------------------------------------------------------------------------------- checks
def placeholders(text: str) -> list[str]:
    """The ``str.format`` fields of a message, in order (``{n}``, ``{k}``)."""
    return sorted(m[1] for m in _PLACEHOLDER.finditer(text.replace("{{", "").replace("}}", "")))


def _key(m: Message) -> tuple[str | None, str]:
    return (m.context, m.id if isinstance(m.id, str) else m.id[0])


def _where(m: Message) -> str:
    ctx = f" [{m.context}]" if m.context else ""
    return f"{_key(m)[1]!r}{ctx}"


def placeholder_problems(m: Message) -> list[str]:
    """A translation whose fields differ from its msgid's (a plural form may leave out the
    count, as "ein Lauf" does, but no form may bring a field of its own)."""
    if not m.string or m.fuzzy:
        return []
    if isinstance(m.id, str):
        if placeholders(str(m.string)) != placeholders(m.id):
            return [f"{_where(m)}: placeholders {placeholders(str(m.string))} in the "
                    f"translation, {placeholders(m.id)} in the msgid"]
        return []
    allowed = set(placeholders(m.id[0])) | set(placeholders(m.id[1]))
    out = []
    for i, form in enumerate(m.string):
        extra = set(placeholders(form)) - allowed
        if extra:
            out.append(f"{_where(m)}: form {i} has placeholders {sorted(extra)} the msgid lacks")
    if placeholders(m.string[-1]) != placeholders(m.id[1]):
        out.append(f"{_where(m)}: the last plural form's placeholders differ from the plural "
                   "msgid's")
    return out


def problems(lang: str, template: Catalog | None = None) -> list[str]:
    """What is wrong with ``lang``'s catalogue against ``template`` (default: the committed
    template): untranslated or fuzzy messages, entries the template lacks (obsolete),
    placeholders that differ, plural forms that do not match the language's count."""
    template = template if template is not None else read(TEMPLATE)
    path = po_file(lang)
    if not path.exists():
        return [f"{path}: missing (run make i18n)"]
    cat = read(path, lang)
    out = []
    wanted = {_key(m): m for m in template if m.id}
    have = {_key(m): m for m in cat if m.id}
    for key, m in wanted.items():
        t = have.get(key)
        if t is None:
            out.append(f"{_where(m)}: not in {lang}'s catalogue (run make i18n)")
        elif isinstance(m.id, str) != isinstance(t.id, str):
            out.append(f"{_where(m)}: singular in one catalogue, plural in the other "
                       "(run make i18n)")
        elif t.fuzzy or not t.string or (not isinstance(t.string, str) and not all(t.string)):
            out.append(f"{_where(t)}: not translated{' (fuzzy)' if t.fuzzy else ''}")
        elif not isinstance(t.string, str) and len(t.string) != cat.num_plurals:
            out.append(f"{_where(t)}: {len(t.string)} plural forms, the language has "
                       f"{cat.num_plurals}")
    out += [f"{_where(t)}: obsolete (the code no longer uses it; run make i18n)"
            for key, t in have.items() if key not in wanted]
    out += [f"{_where(t)}: obsolete entry (#~)" for t in cat.obsolete.values()]
    for t in have.values():
        out += placeholder_problems(t)
    return [f"{lang}: {p}" for p in out]


def stale_template() -> list[str]:
    """How the committed template differs from the code's messages (empty: current)."""
    code, committed = extract(), read(TEMPLATE)
    a = {_key(m): m for m in code if m.id}
    b = {_key(m): m for m in committed if m.id}
    out = [f"{_where(m)}: in the code, not in the template" for k, m in a.items() if k not in b]
    out += [f"{_where(m)}: in the template, no longer in the code" for k, m in b.items()
            if k not in a]
    out += [f"{_where(m)}: changed in the code (plural, files or translators' comments)"
            for k, m in a.items() if k in b and _signature_of(m) != _signature_of(b[k])]
    return out


def _signature_of(m: Message) -> tuple[object, ...]:
    return (m.id, _files(m), _words(m.auto_comments))


def _all_problems(messages: Iterable[str]) -> int:
    shown = list(messages)
    for p in shown:
        print(p)
    return 1 if shown else 0


def main(argv: list[str]) -> int:
    if argv == ["update"]:
        for path in update():
            print(f"updated {path.relative_to(SIM.parent)}")
        return _all_problems(p for lang in languages() for p in problems(lang))
    if argv == ["check"]:
        return _all_problems([*stale_template(), *(p for lang in languages()
                                                    for p in problems(lang))])
    print("usage: python -m sim.report.catalogues update|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
