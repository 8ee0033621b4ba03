"""The scenario file reference, generated from the models: every field's path, type, default,
bounds and description (``Field(description=…)``), section by section.

    python -m sim.config.schema_doc > docs/reference/scenario.md      # or: make docs

:func:`render` returns the page; :func:`undocumented` lists the fields that have no
description (``tests/unit/test_reference_docs.py`` keeps it empty and the committed page equal
to a fresh :func:`render`). The walk follows nested sections, lists and mappings of sections,
and the kinds of a discriminated union (``faults``).
"""

from __future__ import annotations

import inspect
import re
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from sim.config.base import MAX_QUANTITY, MAX_SEED
from sim.config.models import Scenario

INTRO = """\
# Scenario file reference

Generated from the scenario models (`sim/config/models.py`, `sim/config/interventions.py`) by
`make docs` (`python -m sim.config.schema_doc`). Do not edit by hand: change a field's
`description=` in the code and regenerate; `tests/unit/test_reference_docs.py` fails when this
page and the code differ.

A scenario is one YAML file; every field below may be left out (its default applies) unless
it says **required**. How to read the tables:

- **Paths.** A section's heading is its path in the file: `platforms[].clusters[]` is an
  element of the list `clusters` of an element of the list `platforms`;
  `school_servers.tiers.<name>` is the value of a mapping under any key. The same paths,
  with a position or a name in the brackets (`platforms[iserv].clusters[iserv-bbb].nodes`),
  are what `--set`, sweep files and levers files accept ([how to change a
  setting](../howto/run.md#change-a-setting)).
- **Types.** A *whole number* is written without a decimal point (never `yes`, `450.0` or
  `0450`); a *time of day* is `'08:00'` or `'08:00:30'` (quoted) or seconds since midnight
  (a bare number up to 24 is refused as ambiguous); a *name* is letters, digits, `_`, `.` and
  `-`, at most 80 characters; `null` means empty (the description says what empty means).
- **Bounds** are checked when the file is loaded: a value outside them is exit 2 naming the
  field ([exit codes](exit-codes.md)). Names of platforms, clusters, tiers, regions and
  school types must exist.
- **Unknown keys are errors** (a typo is never ignored). A file may begin with
  `extends: other.yaml` (a path relative to it) and then change only what differs.
- **Whole state.** Node, worker and reserve counts are the whole state's: at
  `population.scale` below 1 a run builds that share of them (a [faithful
  miniature](../glossary.md#faithful-scale)).
"""

_NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"
_PLURAL = {"whole number": "whole numbers", "number": "numbers", "name": "names",
           "text": "texts", "time of day": "times of day", "section": "sections"}


# ------------------------------------------------------------------------------ the walk
@dataclass
class Row:
    name: str
    type: str
    default: str
    bounds: str
    description: str


@dataclass
class Section:
    path: str
    model: type[BaseModel]
    kind: str | None = None
    depth: int = 0
    rows: list[Row] = field(default_factory=list)
    defaults: list[tuple[str, str]] = field(default_factory=list)
    """(field, YAML text) of defaults too long for the table."""

    @property
    def title(self) -> str:
        base = f"`{self.path}`" if self.path else "Top level"
        return f"{base} with `kind: {self.kind}`" if self.kind else base

    @property
    def anchor(self) -> str:
        a = re.sub(r"[^a-z0-9]+", "-", (self.path or "top-level").lower()).strip("-")
        return f"{a}-{self.kind.replace('_', '-')}" if self.kind else a


def _unwrap(ann: Any) -> tuple[Any, list[Any]]:
    """An annotation without ``Annotated``, and the constraints it carried."""
    meta: list[Any] = []
    while get_origin(ann) is Annotated:
        ann, *extra = get_args(ann)
        for m in extra:
            meta.extend(m.metadata if isinstance(m, FieldInfo) else [m])
    return ann, meta


def _is_union(ann: Any) -> bool:
    return get_origin(ann) in (Union, types.UnionType)


def _models_in(ann: Any, path: str) -> Iterator[tuple[str, type[BaseModel], str | None]]:
    """(path, model, kind) of every section nested in an annotation."""
    ann, _ = _unwrap(ann)
    if inspect.isclass(ann) and issubclass(ann, BaseModel):
        yield path, ann, None
    elif _is_union(ann):
        members = [_unwrap(a)[0] for a in get_args(ann) if a is not type(None)]
        kinds = [m for m in members if inspect.isclass(m) and issubclass(m, BaseModel)]
        if len(kinds) > 1:  # a discriminated union: one section per kind
            for m in kinds:
                yield path, m, _kind_of(m)
        else:
            for m in members:
                yield from _models_in(m, path)
    elif get_origin(ann) is list:
        yield from _models_in(get_args(ann)[0], f"{path}[]")
    elif get_origin(ann) is dict:
        yield from _models_in(get_args(ann)[1], f"{path}.<name>")


def _kind_of(model: type[BaseModel]) -> str:
    ann, _ = _unwrap(model.model_fields["kind"].annotation)
    return str(get_args(ann)[0])


def walk(root: type[BaseModel] = Scenario) -> list[Section]:
    """Every section reachable from ``root``, depth first in the order of the fields."""
    out: list[Section] = []

    def visit(model: type[BaseModel], path: str, kind: str | None, depth: int) -> None:
        sec = Section(path, model, kind, depth)
        out.append(sec)
        nested: list[tuple[str, type[BaseModel], str | None]] = []
        for name, f in model.model_fields.items():
            if f.exclude:  # not a setting (e.g. where the file was loaded from)
                continue
            sub = f"{path}.{name}" if path else name
            sec.rows.append(_row(name, f, sec))
            nested.extend(_models_in(f.annotation, sub))
        if kind:  # the discriminator first
            sec.rows.sort(key=lambda r: r.name != "kind")
        for p, m, k in nested:
            visit(m, p, k, depth + 1)

    visit(root, "", None, 0)
    return out


def undocumented(root: type[BaseModel] = Scenario) -> list[str]:
    """Paths of the fields reachable from ``root`` (settings or not) without a description."""
    missing: list[str] = []
    seen: set[tuple[type[BaseModel], str]] = set()

    def visit(model: type[BaseModel], path: str) -> None:
        if (model, path) in seen:
            return
        seen.add((model, path))
        for name, f in model.model_fields.items():
            sub = f"{path}.{name}" if path else name
            if not (f.description or "").strip():
                missing.append(f"{model.__name__}: {sub}")
            for p, m, _ in _models_in(f.annotation, sub):
                visit(m, p)

    visit(root, "")
    return missing


# ------------------------------------------------------------------------------ one row
def _is_time(meta: list[Any]) -> bool:
    return any(getattr(getattr(m, "func", None), "__name__", "") == "_parse_time_of_day"
               for m in meta)


def _type(ann: Any, meta: list[Any] | None = None, link: str = "") -> str:
    """A field's type in words (inner constraints of list items and mapping values in
    parentheses)."""
    ann, inner = _unwrap(ann)
    meta = [*(meta or []), *inner]
    if _is_union(ann):
        members = [a for a in get_args(ann) if a is not type(None)]
        nullable = len(members) < len(get_args(ann))
        models = [_unwrap(m)[0] for m in members]
        if len(models) > 1 and all(inspect.isclass(m) and issubclass(m, BaseModel)
                                   for m in models):
            text = f"one of the [kinds below](#{link})"
        else:
            text = " or ".join(_type(m, meta if len(members) == 1 else None, link)
                               for m in members)
        return f"{text} or `null`" if nullable else text
    if get_origin(ann) is Literal:
        return "one of " + ", ".join(f"`{v}`" for v in get_args(ann))
    if get_origin(ann) is list:
        item = _type(get_args(ann)[0], None, link).replace("[section]", "[sections]")
        item = item.replace("one of the [kinds", "sections, each of one of the [kinds")
        return f"list of {_PLURAL.get(item, item)}" + _inner_bounds(get_args(ann)[0])
    if get_origin(ann) is dict:
        k, v = get_args(ann)
        return (f"mapping: {_type(k)}{_inner_bounds(k)} → {_type(v, None, link)}"
                f"{_inner_bounds(v)}")
    if inspect.isclass(ann) and issubclass(ann, BaseModel):
        return f"[section](#{link})" if link else "section"
    if ann is bool:
        return "true or false"
    if ann is int:
        return "whole number"
    if ann is float:
        return "time of day" if _is_time(meta) else "number"
    if ann is str:
        pattern = [getattr(m, "pattern", None) for m in meta]
        return "name" if _NAME_PATTERN in pattern else "text"
    return getattr(ann, "__name__", str(ann))


def _num(v: Any) -> str:
    if v == MAX_QUANTITY:
        return "10¹²"
    if v == MAX_SEED:
        return "2⁶³ − 1"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) >= 1000):
        return f"{int(v):,}"
    return f"{v:g}"


def _bounds(meta: list[Any], time: bool = False, unit: str = "") -> str:
    """Bounds in words; ``unit`` of a length ("characters", "items")."""
    if time:
        return "00:00 to 24:00"
    if _NAME_PATTERN in [getattr(m, "pattern", None) for m in meta]:
        return ""  # a name's length and letters are said once, in the introduction
    lo = hi = None
    parts = []
    lengths = [m for m in meta if isinstance(m, at.MinLen | at.MaxLen)]
    if lengths:
        least = next((m.min_length for m in lengths if isinstance(m, at.MinLen)), 0)
        most = next((m.max_length for m in lengths if isinstance(m, at.MaxLen)), None)
        if least and most is not None:
            parts.append(f"{least:,} to {most:,} {unit}")
        elif least:
            parts.append(f"at least {least:,} {unit[:-1] if least == 1 else unit}")
        elif most is not None:
            parts.append(f"at most {most:,} {unit}")
    for m in meta:
        if isinstance(m, at.Ge):
            lo = f"≥ {_num(m.ge)}"
        elif isinstance(m, at.Gt):
            lo = f"> {_num(m.gt)}"
        elif isinstance(m, at.Le):
            hi = f"≤ {_num(m.le)}"
        elif isinstance(m, at.Lt):
            hi = f"< {_num(m.lt)}"
    if lo and hi and lo.startswith("≥") and hi.startswith("≤"):
        parts.insert(0, f"{lo[2:]} to {hi[2:]}")
    else:
        parts[:0] = [b for b in (lo, hi) if b]
    return ", ".join(parts).replace("-", "−")


def _inner_bounds(ann: Any) -> str:
    inner, meta = _unwrap(ann)
    b = _bounds(meta, inner is float and _is_time(meta))
    return f" ({b})" if b else ""


def _plain(v: Any) -> Any:
    if isinstance(v, BaseModel):
        return v.model_dump(mode="json")
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def _hhmm(seconds: float) -> str:
    m = round(seconds / 60)
    return f"'{m // 60:02d}:{m % 60:02d}'"


def _row(name: str, f: FieldInfo, sec: Section) -> Row:
    meta = list(f.metadata)
    bare = f.annotation
    if _is_union(bare):  # `X | None`: the bounds of X
        members = [a for a in get_args(bare) if a is not type(None)]
        if len(members) == 1:
            bare, inner = _unwrap(members[0])
            meta += inner
    time = bare is float and _is_time(meta)
    nested = list(_models_in(f.annotation, f"{sec.path}.{name}" if sec.path else name))
    # a section links to its own heading; a union of kinds to the first kind's
    link = Section(*nested[0]).anchor if nested else ""
    typ = _type(f.annotation, meta, link)
    if f.default_factory is not None:
        value: Any = f.default_factory()  # type: ignore[call-arg]
    elif f.default is PydanticUndefined:
        value = PydanticUndefined
    else:
        value = f.default
    if value is PydanticUndefined:
        default = "**required**"
    elif isinstance(value, BaseModel):
        default = "see its section"
    elif value is None:
        default = "`null`"
    elif time:
        default = f"`{_hhmm(value)}`"
    elif isinstance(value, bool):
        default = f"`{str(value).lower()}`"
    else:
        text = yaml.safe_dump(_plain(value), default_flow_style=True, sort_keys=False,
                              width=10_000, allow_unicode=True).strip()
        text = text.removesuffix("\n...").strip()
        if len(text) > 48:
            block = yaml.safe_dump({name: _plain(value)}, sort_keys=False,
                                   allow_unicode=True, width=88)
            sec.defaults.append((name, block))
            default = "see below"
        else:
            default = f"`{text}`"
    unit = "characters" if bare is str else "items"
    return Row(name, typ, default, _bounds(meta, time, unit), _text(f.description or ""))


def _text(s: str) -> str:
    """Docstring or description text for a Markdown table cell or paragraph."""
    s = re.sub(r"``([^`]+)``", r"`\1`", inspect.cleandoc(s))
    return s.replace("|", "\\|")


# ------------------------------------------------------------------------------ the page
def render(root: type[BaseModel] = Scenario) -> str:
    """The whole reference page (Markdown)."""
    sections = walk(root)
    out = [INTRO, "## Sections\n"]
    for s in sections:
        out.append(f"{'  ' * max(s.depth - 1, 0)}- [{s.title}](#{s.anchor})")
    out.append("")
    for s in sections:
        out.append(f'<a id="{s.anchor}"></a>\n\n## {s.title}\n')
        doc = _text(s.model.__doc__ or "")
        if doc:
            out.append(doc.replace("\\|", "|") + "\n")
        out.append("| field | type | default | bounds | description |")
        out.append("|---|---|---|---|---|")
        for r in s.rows:
            out.append(f"| `{r.name}` | {r.type} | {r.default} | {r.bounds} | "
                       f"{r.description} |")
        out.append("")
        for name, block in s.defaults:
            out.append(f"Default of `{name}`:\n\n```yaml\n{block.rstrip()}\n```\n")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    """``python -m sim.config.schema_doc [FILE]``: the page to FILE, or to standard output."""
    args = sys.argv[1:] if argv is None else argv
    page = render()
    if args:
        Path(args[0]).write_text(page, encoding="utf-8")
    else:
        sys.stdout.write(page)


if __name__ == "__main__":
    main()
