"""The report's language: translated strings and numbers, dates and times in the reader's format.

A :class:`Tr` is handed to everything that writes text a person reads (HTML, chart labels, the
CLI summary). ``tr("Key figures")`` looks the English message up in the German catalogue
(:mod:`sim.report.catalogue`); placeholders are filled after the lookup, so
``tr("{n} replications", n=tr.count(5))`` works in both languages. Numbers go through Babel
(``1.234,5`` in German, ``1,234.5`` in English), as do percentages and dates
(``11.01.2021`` / ``11 Jan 2021``).

Why a Python catalogue module rather than gettext ``.po`` files: the reports ship as a
Python package without a compile step, the catalogue is type-checked and linted like the code,
and the tests read the same dictionary the pages are translated from. A message the German
catalogue lacks falls back to English and is recorded in :attr:`Tr.missing`; the tests
render every report kind in German and require that set to stay empty.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Literal, cast

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

from sim.report.catalogue import DE

Lang = Literal["de", "en"]
LANGS: tuple[Lang, ...] = ("de", "en")
DEFAULT_LANG: Lang = "en"
_LOCALES = {"de": "de_DE", "en": "en_GB"}
DASH = "–"

#: Every msgid a German page asked for that the catalogue lacks (the tests keep it empty).
MISSING: set[str] = set()


def check_lang(lang: str | None) -> Lang:
    """``lang`` if it is a supported language (None → the default), else ValueError."""
    if lang is None:
        return DEFAULT_LANG
    if lang not in LANGS:
        raise ValueError(f"language {lang!r}: expected one of {', '.join(LANGS)}")
    return cast(Lang, lang)


class Tr:
    """Translation and number formatting for one language."""

    def __init__(self, lang: str | None = None):
        self.lang: Lang = check_lang(lang)
        self.locale = _LOCALES[self.lang]
        self.missing: set[str] = set()

    def __repr__(self) -> str:
        return f"Tr({self.lang!r})"

    # -------------------------------------------------------------------- text
    def __call__(self, msgid: str, **kw: Any) -> str:
        text = msgid
        if self.lang == "de":
            found = DE.get(msgid)
            if found is None:
                self.missing.add(msgid)
                MISSING.add(msgid)
            else:
                text = found
        return text.format(**kw) if kw else text

    def pick(self, en: str, de: str) -> str:
        """One of two texts that are data rather than messages (labels of ids)."""
        return de if self.lang == "de" else en

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
            return self("yes") if v else self("no")
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
        return ",." if self.lang == "de" else ".,"


EN = Tr("en")
