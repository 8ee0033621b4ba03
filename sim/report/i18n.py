"""The reader's language: messages from gettext catalogues; numbers, dates and times in the
reader's format (Babel).

Every text a person reads — the HTML reports, the one-page briefing, chart labels, the CLI
summaries, the offline what-if page — is written in English where the code uses it, and that
English is the gettext *msgid*. The other languages live in gettext catalogues::

    sim/report/locale/dlsim.pot                 the template: every msgid, extracted from sim/
    sim/report/locale/de/LC_MESSAGES/dlsim.po   German

A :class:`Tr` is handed to everything that writes such text:

- ``tr("Key figures")`` — a message; placeholders are filled after the lookup, so
  ``tr("{n} schools", n=tr.count(59))`` reads "59 Schulen" in German;
- ``tr.ngettext("one replication", "{n} replications", n, n=n)`` — where the text depends on a
  count: the catalogue's ``Plural-Forms`` picks the form;
- ``tr.pgettext("context", "…")`` — where the same English needs different renderings, or a
  msgid alone would not tell a translator what it is;
- ``N_("…")`` marks a msgid that is stored now and translated where it is shown (registries
  of ids, notes, cost items): it returns its argument unchanged.

Numbers go through Babel (``1.234,5`` in German, ``1,234.5`` in English), as do percentages
and dates (``11.01.2021`` / ``11 Jan 2021``).

Why gettext: it is what translators and their tools (Poedit, Weblate, Lokalize) expect;
plural forms and contexts are part of the format rather than ad-hoc code; and Babel, which
already formats the numbers, extracts the messages and merges them into each language's
catalogue (``make i18n``, :mod:`sim.report.catalogues`) and reads the catalogues. The English
stays where it is used, so a reader of the code sees the words. Before, German lived in three
shapes — ``(English, German)`` tuples in the label registries, a msgid → German dictionary
and a key → msgid table for the what-if page — and a translator could use none of them.

Loading: a language's ``.po`` is read with :func:`babel.messages.pofile.read_po` the first
time the language is used and compiled in memory into a :class:`gettext.GNUTranslations`
(no ``.mo`` file, no build step; it ships as package data). English needs no catalogue: the
msgid is the text. Fuzzy or empty entries count as untranslated. A message the catalogue
lacks falls back to English and is recorded in :attr:`Tr.missing` and :data:`MISSING`; the
tests render every report kind in German and require that set to stay empty, and check the
catalogues against the code (``tests/unit/test_translations.py``; see docs/translations.md).
"""

from __future__ import annotations

import datetime as _dt
import gettext
import io
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Literal, cast

from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import (
    format_decimal,
    format_percent,
    get_decimal_symbol,
    get_group_symbol,
)

from sim.model.messages import N_

Lang = Literal["de", "en"]
LANGS: tuple[Lang, ...] = ("de", "en")
DEFAULT_LANG: Lang = "en"
SOURCE_LANG: Lang = "en"  # the language of the msgids: no catalogue
_LOCALES = {"de": "de_DE", "en": "en_GB"}
DOMAIN = "dlsim"
DASH = "–"

#: Every msgid a translated page asked for that its catalogue lacks (the tests keep it empty).
MISSING: set[str] = set()

__all__ = ["DASH", "DEFAULT_LANG", "EN", "LANGS", "MISSING", "N_", "Lang", "Tr", "check_lang",
           "load_catalogue", "po_path"]


def check_lang(lang: str | None) -> Lang:
    """``lang`` if it is a supported language (None → the default), else ValueError."""
    if lang is None:
        return DEFAULT_LANG
    if lang not in LANGS:
        raise ValueError(f"language {lang!r}: expected one of {', '.join(LANGS)}")
    return cast(Lang, lang)


def po_path(lang: str) -> Traversable:
    """The catalogue of ``lang`` in the installed package (``locale/<lang>/LC_MESSAGES``)."""
    return resources.files("sim.report") / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_catalogue(lang: str) -> Catalog:
    """The catalogue of ``lang`` as Babel reads it (every entry, fuzzy ones included)."""
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


@dataclass(frozen=True)
class _Compiled:
    """A catalogue ready for lookups, and which of its entries are translated."""

    translations: gettext.GNUTranslations
    singular: frozenset[tuple[str | None, str]]  # (context, msgid)
    plural: frozenset[tuple[str | None, str]]  # (context, singular msgid)


@cache
def _compiled(lang: str) -> _Compiled | None:
    """``lang``'s catalogue, read and compiled at its first use (None for the msgids' own
    language)."""
    if lang == SOURCE_LANG:
        return None
    cat = load_catalogue(lang)
    buf = io.BytesIO()
    write_mo(buf, cat)  # fuzzy entries left out: they are not translations yet
    buf.seek(0)
    singular, plural = set(), set()
    for m in cat:
        if not m.id or m.fuzzy:
            continue
        if isinstance(m.id, str):
            if m.string:
                singular.add((m.context, m.id))
        elif isinstance(m.string, tuple | list) and all(m.string):
            plural.add((m.context, m.id[0]))
    return _Compiled(gettext.GNUTranslations(buf), frozenset(singular), frozenset(plural))


class Tr:
    """Messages, numbers and dates in one language."""

    def __init__(self, lang: str | None = None):
        self.lang: Lang = check_lang(lang)
        self.locale = _LOCALES[self.lang]
        self.missing: set[str] = set()

    def __repr__(self) -> str:
        return f"Tr({self.lang!r})"

    # -------------------------------------------------------------------- text
    def __call__(self, msgid: str, /, **kw: Any) -> str:
        """The message ``msgid`` in this language, its placeholders filled from ``kw``."""
        return self.pgettext(None, msgid, **kw)

    def pgettext(self, context: str | None, msgid: str, /, **kw: Any) -> str:
        """The message ``msgid`` in ``context`` (gettext's ``msgctxt``)."""
        cat = _compiled(self.lang)
        text = msgid
        if cat is not None:
            if (context, msgid) in cat.singular:
                t = cat.translations
                text = t.pgettext(context, msgid) if context is not None else t.gettext(msgid)
            else:
                self._miss(context, msgid)
        return text.format(**kw) if kw else text

    def ngettext(self, singular: str, plural: str, count: int, /, **kw: Any) -> str:
        """The form of a message for ``count`` (the catalogue's plural rule; English:
        ``singular`` for 1, else ``plural``). The count is not filled in by itself: pass it,
        or its formatted form, as a placeholder (``n=tr.count(count)``)."""
        cat = _compiled(self.lang)
        text = singular if count == 1 else plural
        if cat is not None:
            if (None, singular) in cat.plural:
                text = cat.translations.ngettext(singular, plural, int(count))
            else:
                self._miss(None, singular)
        return text.format(**kw) if kw else text

    def text(self, words: Any) -> str:
        """A user's text (a scenario's name, description or label) in this language when the
        catalogue has it (the shipped scenarios', ``sim.report.scenario_texts``), else as
        written: a user's own words are not a missing message."""
        raw = "" if words is None else str(words)
        key = " ".join(raw.split())
        cat = _compiled(self.lang)
        if cat is not None and key and (None, key) in cat.singular:
            return cat.translations.gettext(key)
        return raw.strip()

    def _miss(self, context: str | None, msgid: str) -> None:
        key = msgid if context is None else f"{context}\x04{msgid}"  # gettext's own joint
        self.missing.add(key)
        MISSING.add(key)

    # ------------------------------------------------------------------ numbers
    @staticmethod
    def _ok(x: Any) -> bool:
        try:
            return x is not None and math.isfinite(float(x))
        except (TypeError, ValueError):
            return False

    def num(self, x: Any, digits: int = 0) -> str:
        """A number with thousands separators and ``digits`` decimals."""
        if not self._ok(x):
            return DASH
        fmt = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return str(format_decimal(float(x), format=fmt, locale=self.locale))

    def count(self, x: Any) -> str:
        return self.num(x, 0)

    def sig(self, x: Any, digits: int = 3) -> str:
        """A number to about ``digits`` significant digits (at least the integer part)."""
        if not self._ok(x):
            return DASH
        f = float(x)
        if f == 0:
            return self.num(0)
        dec = max(0, digits - 1 - math.floor(math.log10(abs(f))))
        fmt = "#,##0" + ("." + "#" * dec if dec > 0 else "")  # no trailing zeros
        return str(format_decimal(round(f, dec), format=fmt, locale=self.locale))

    def pct(self, x: Any, digits: int = 1) -> str:
        """A share as a percentage (``98,9 %`` / ``98.9%``)."""
        if not self._ok(x):
            return DASH
        fmt = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
        text = str(format_percent(float(x), format=fmt, locale=self.locale))
        # one look for both languages: a (narrow) space before the percent sign
        return text.replace("\xa0%", "%").replace("%", "\u202f%")

    def seconds(self, x: Any, digits: int = 1) -> str:
        return DASH if not self._ok(x) else f"{self.num(x, digits)}\u202fs"

    def minutes(self, x: Any) -> str:
        return DASH if not self._ok(x) else f"{self.sig(x, 3)}\u202fmin"

    def mbit(self, x: Any) -> str:
        return DASH if not self._ok(x) else f"{self.sig(x, 3)}\u202fMbit/s"

    def plain(self, v: Any) -> str:
        """Any value as a reader sees it (numbers formatted, booleans as words)."""
        if isinstance(v, bool):
            return self(N_("yes")) if v else self(N_("no"))
        if isinstance(v, int):
            return self.count(v)
        if isinstance(v, float):
            return self.sig(v, 4) if abs(v) < 1e6 else self.count(v)
        return str(v)

    # -------------------------------------------------------------------- dates
    def date(self, d: _dt.date) -> str:
        return str(format_date(d, format="medium", locale=self.locale))

    def datetime(self, d: _dt.datetime) -> str:
        return str(format_datetime(d, format="medium", locale=self.locale))

    def clock(self, seconds: float) -> str:
        """Seconds since midnight as ``HH:MM`` (the same in both languages)."""
        s = round(seconds)
        return f"{s // 3600:02d}:{s % 3600 // 60:02d}"

    # ----------------------------------------------------------------- plotly
    def plotly_separators(self) -> str:
        """plotly's ``separators`` (decimal, then thousands) for this language."""
        return str(get_decimal_symbol(self.locale)) + str(get_group_symbol(self.locale))


EN = Tr("en")
