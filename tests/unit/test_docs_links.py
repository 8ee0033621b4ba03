"""Every relative link in the documentation leads somewhere: the file exists, and an anchor
(``page.md#anchor``) is a heading of that page (GitHub's slug) or an ``<a id>`` in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted([REPO / "README.md", REPO / "CONTRIBUTING.md", REPO / "notebooks" / "README.md",
                *(REPO / "docs").rglob("*.md")])
#: Pages another change adds (linked already, written elsewhere): a link to them may dangle
#: until they land.
PENDING = {REPO / "docs" / "translations.md"}

_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def _prose(text: str) -> str:
    """The page without fenced code blocks and inline code (links there are examples)."""
    text = re.sub(r"^\s*```.*?^\s*```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    text_wo_code = re.sub(r"^\s*```.*?^\s*```", "", text, flags=re.S | re.M)
    heads = {slug(m[1]) for m in re.finditer(r"^#{1,6}\s+(.*)$", text_wo_code, flags=re.M)}
    ids = set(re.findall(r"<a (?:id|name)=\"([^\"]+)\"", text))
    return heads | ids


def links(page: Path) -> list[str]:
    return [a or b for a, b in _LINK.findall(_prose(page.read_text(encoding="utf-8")))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in links(page):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        if dest in PENDING:
            continue
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading or <a id> {anchor!r} in {dest.name}")
    assert broken == [], broken


def test_slug_is_githubs() -> None:
    assert slug("Reference — looking things up") == "reference--looking-things-up"
    assert slug("The taxonomy (`sim/model/causes.py`)") == "the-taxonomy-simmodelcausespy"
    assert slug("`faults[]` with `kind: node_loss`") == "faults-with-kind-node_loss"
