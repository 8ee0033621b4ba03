"""The translations in one shape (gettext catalogues read by Babel), kept whole: the template is
the code's messages, every language translates each of them (no fuzzy, no obsolete entries,
the same placeholders), lookups follow gettext's plural forms and contexts, a message a
catalogue lacks falls back to English and is recorded, and the checks themselves find what
they are meant to find. The German pages are rendered whole in
``tests/e2e/test_report_quality.py`` (every message found, none left in English).
"""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from sim.report import catalogues as C
from sim.report import i18n as I
from sim.report import labels as L
from sim.report.i18n import Tr

REPO = Path(__file__).resolve().parents[2]


def test_the_template_is_the_codes_messages() -> None:
    """``make i18n`` was run after the last change to a message (or to where it is used)."""
    assert C.stale_template() == [], "run make i18n"


@pytest.mark.parametrize("lang", C.languages())
def test_every_message_is_translated(lang: str) -> None:
    """Each msgid of the template is translated (not fuzzy), no entry is obsolete, and each
    translation has its msgid's placeholders."""
    assert C.problems(lang) == []


def test_languages_and_catalogues_match() -> None:
    on_disk = {p.name for p in C.LOCALE.iterdir() if p.is_dir()}
    assert on_disk == set(C.languages())
    assert I.SOURCE_LANG in I.LANGS and I.SOURCE_LANG not in on_disk


def test_catalogues_ship_as_package_data() -> None:
    """pyproject's package data names every catalogue, and the package finds it."""
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["sim"]
    for lang in C.languages():
        rel = C.po_file(lang).relative_to(REPO / "sim").as_posix()
        assert any(fnmatch(rel, p) for p in patterns), rel
        assert I.po_path(lang).is_file()


def test_plural_forms_and_contexts() -> None:
    de, en = Tr("de"), Tr("en")
    one, many = "one replication", "{n} replications"
    assert [de.ngettext(one, many, n, n=n) for n in (1, 2, 7)] == [
        "ein Lauf", "2 Wiederholungsläufe", "7 Wiederholungsläufe"]
    assert [en.ngettext(one, many, n, n=n) for n in (1, 2)] == [one, "2 replications"]
    one = "; one other setting that meets it costs the same"
    many = "; {n} other settings that meet it cost the same"
    assert [de.ngettext(one, many, n, n=n) for n in (1, 3)] == [
        "; eine weitere Einstellung, die es erreicht, kostet gleich viel",
        "; 3 weitere Einstellungen, die es erreichen, kosten gleich viel"]
    # a context keeps the same English apart; here it decides the German word order
    assert L.config_path("platforms[0].clusters[0].nodes", de) == "Konferenzknoten (IServ)"
    assert L.config_path("platforms[0].clusters[0].nodes") == "IServ conference nodes"
    assert de.pgettext("a setting of a platform or cluster", "{owner} {setting}",
                       owner="IServ", setting="x") == "x (IServ)"
    assert not de.missing


def test_a_message_the_catalogue_lacks_falls_back_to_english_and_is_recorded() -> None:
    de = Tr("de")
    assert de("No such message: {n}", n=3) == "No such message: 3"
    assert de.ngettext("no such one", "no such {n}", 2, n=2) == "no such 2"
    assert de.pgettext("ctx", "Key figures") == "Key figures"  # known without a context only
    assert de.missing == {"No such message: {n}", "no such one", "ctx\x04Key figures"}
    assert {"No such message: {n}", "no such one"} <= I.MISSING
    I.MISSING -= de.missing
    assert Tr("en")("No such message: {n}", n=3) == "No such message: 3"


def test_fuzzy_and_empty_entries_count_as_untranslated(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    po = tmp_path / "de.po"
    po.write_text('msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
                  '#, fuzzy\nmsgid "Key figures"\nmsgstr "Kennzahlen"\n\n'
                  'msgid "value"\nmsgstr ""\n\nmsgid "yes"\nmsgstr "ja"\n', encoding="utf-8")
    monkeypatch.setattr(I, "po_path", lambda lang: po)
    I._compiled.cache_clear()
    try:
        de = Tr("de")
        assert (de("Key figures"), de("value"), de("yes")) == ("Key figures", "value", "ja")
        assert de.missing == {"Key figures", "value"}
        I.MISSING -= de.missing
    finally:
        I._compiled.cache_clear()


def test_extraction_finds_every_kind_of_message(tmp_path: Path) -> None:
    """tr(…), N_(…), tr.ngettext(…), tr.pgettext(…) in Python, tr(…) in a Jinja template; a
    translators: comment reaches the template; other calls and f-strings are not messages."""
    code = tmp_path / "pkg"
    code.mkdir()
    (code / "m.py").write_text(
        "def f(tr, n, d):\n"
        "    # translators: a heading\n"
        "    a = tr('Key figures')\n"
        "    b = N_('stored {x}')\n"
        "    c = tr.ngettext('one run', '{n} runs', n, n=n)\n"
        "    e = tr.pgettext('a context', 'share')\n"
        "    g = print('not a message'), d['not one either']\n"
        "    return a, b, c, e, g\n", encoding="utf-8")
    (code / "t.html.j2").write_text('<p>{{ tr("From a template") }}</p>', encoding="utf-8")
    cat = C.extract(code)
    found = {(m.context, m.id) for m in cat if m.id}
    assert found == {(None, "Key figures"), (None, "stored {x}"), (None, ("one run", "{n} runs")),
                     ("a context", "share"), (None, "From a template")}
    assert cat["Key figures"].auto_comments == ["a heading"]
    assert cat["Key figures"].locations[0][0] == "pkg/m.py"


def _catalogue(entries: list[tuple[str | tuple[str, str], str | tuple[str, ...], bool]],
               lang: str | None = None) -> Catalog:
    cat = Catalog(locale=lang, domain=I.DOMAIN)
    for msgid, string, fuzzy in entries:
        cat.add(msgid, string, flags=["fuzzy"] if fuzzy else [])
    return cat


def test_the_checks_find_what_they_look_for(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    template = _catalogue([(m, "", False) for m in (
        "ok {n}", "untranslated", "fuzzy", "fields {a}", ("one", "{n} ones"), ("a {k}", "{n} bs"))])
    po = tmp_path / "de.po"
    po.write_bytes(C._text(_catalogue([
        ("ok {n}", "gut {n}", False), ("untranslated", "", False), ("fuzzy", "unscharf", True),
        ("fields {a}", "Felder {b}", False), (("one", "{n} ones"), ("eins", "{n} einsen"), False),
        (("a {k}", "{n} bs"), ("ein {x}", "{k} bs"), False), ("gone", "weg", False)], "de")))
    monkeypatch.setattr(C, "po_file", lambda lang: po)
    found = "\n".join(C.problems("de", template))
    for expected in ("'untranslated': not translated", "'fuzzy': not translated (fuzzy)",
                     "'fields {a}': placeholders ['b']", "'gone': obsolete",
                     "'a {k}': form 0 has placeholders ['x']",
                     "'a {k}': the last plural form's placeholders differ"):
        assert expected in found, found
    assert "'ok {n}'" not in found and "'one'" not in found  # "eins" may leave out the count
    assert len(found.splitlines()) == 6


def test_placeholders_are_the_format_fields() -> None:
    assert C.placeholders("{n} of {k} ({share}) {{literal}}") == ["k", "n", "share"]
    assert C.placeholders("{n:,} and {x!r}") == ["n", "x"]
    assert C.placeholders("95 % – no fields") == []


def test_no_text_is_chosen_by_language_in_code() -> None:
    """German lives only in the catalogues: no module of sim/ chooses between two literal
    texts by the language (the old ``tr.pick(en, de)`` and ``(en, de)`` tuples)."""
    pattern = re.compile(r"\.pick\(|lang == \"de\" else \"|\"de\" else \"")
    bad = [f"{p.relative_to(REPO)}:{i}" for p in (REPO / "sim").rglob("*.py")
           for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
           if pattern.search(line)]
    assert not bad, bad


def test_make_i18n_merges_new_changed_and_vanished_messages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``update`` (make i18n) on a new language, again on a current tree (nothing written),
    then after the code changed: a new message empty, a changed one fuzzy with its old
    translation, a vanished one gone."""
    code: list[str] = ["Key figures", "{n} schools in all"]

    def extract() -> Catalog:
        cat = Catalog(domain=I.DOMAIN)
        for m in code:
            cat.add(m, None, [("sim/x.py", 1)])
        return cat

    po = tmp_path / "de" / "LC_MESSAGES" / "dlsim.po"
    monkeypatch.setattr(C, "extract", extract)
    monkeypatch.setattr(C, "TEMPLATE", tmp_path / "dlsim.pot")
    monkeypatch.setattr(C, "po_file", lambda lang: po)
    monkeypatch.setattr(C, "languages", lambda: ["de"])
    assert C.update() == [tmp_path / "dlsim.pot", po]
    assert "nplurals=2; plural=(n != 1)" in po.read_text(encoding="utf-8")
    assert sorted(C.problems("de")) == [
        "de: 'Key figures': not translated", "de: '{n} schools in all': not translated"]
    cat = C.read(po, "de")  # a translator at work
    cat["Key figures"].string = "Kennzahlen"
    cat["{n} schools in all"].string = "{n} Schulen insgesamt"
    po.write_bytes(C._text(cat))
    assert C.update() == [] and C.problems("de") == []
    code[:] = ["{n} schools altogether", "Sources"]
    assert C.update() == [tmp_path / "dlsim.pot", po]
    cat = C.read(po, "de")
    assert "Key figures" not in cat and cat["Sources"].string == ""
    changed = cat["{n} schools altogether"]
    assert changed.fuzzy and changed.string == "{n} Schulen insgesamt"
    assert sorted(C.problems("de")) == ["de: 'Sources': not translated",
                                        "de: '{n} schools altogether': not translated (fuzzy)"]
