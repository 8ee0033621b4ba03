"""Config paths: by position (``platforms[0].clusters[0].nodes``) or by name
(``platforms[iserv].clusters[iserv-bbb].nodes``), wherever a path is accepted.

A list element is addressed by its index or by its ``name`` (platforms, clusters: every list
of named entries). Reports and tables print the named form, so a path read off a report can
be pasted back into ``--set``, a sweep file or ``size --param``.

- :func:`split` — a path into tokens (``str`` keys, ``int`` positions, :class:`ByName`);
- :func:`positional` — names resolved against the config data (:class:`ConfigError` naming
  the names that exist when one matches nothing);
- :func:`named` — positions replaced by names where the element has one (for printing);
- :func:`join` — tokens back into a path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sim.config.base import ConfigError

#: A key path: keys separated by dots, each followed by any number of ``[index]`` or
#: ``[name]`` (names may hold letters, digits, ``_ . -`` as the config's names do).
PATH_RE = re.compile(r"[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+|\[[A-Za-z0-9_.\-]+\])*")
_TOKEN = re.compile(r"\[([^\[\]]+)\]|([^.\[\]]+)")


class ByName(str):
    """A list element addressed by its ``name``."""

    __slots__ = ()


Token = str | int  # ``int``: a position; ``ByName``: a name; other ``str``: a mapping key


def is_path(path: str) -> bool:
    """True if ``path`` is a well-formed key path (positions or names)."""
    return PATH_RE.fullmatch(path) is not None


def split(path: str) -> list[Token]:
    """``a.b[0].c[x]`` → ``["a", "b", 0, "c", ByName("x")]`` (ValueError if malformed)."""
    if not is_path(path):
        raise ValueError(f"malformed key path {path!r}")
    out: list[Token] = []
    for m in _TOKEN.finditer(path):
        inner, key = m.groups()
        if inner is None:
            out.append(key)
        elif inner.isdigit():
            out.append(int(inner))
        else:
            out.append(ByName(inner))
    return out


def join(tokens: Sequence[Token]) -> str:
    """Tokens back into a path (positions as ``[i]``, names as ``[name]``)."""
    out = ""
    for t in tokens:
        if isinstance(t, int | ByName):
            out += f"[{t}]"
        else:
            out += ("." if out else "") + t
    return out


def _has_name(el: Any, name: str) -> bool:
    return isinstance(el, Mapping) and el.get("name") is not None and str(el["name"]) == name


def _names(items: Sequence[Any]) -> list[str]:
    return [str(el["name"]) for el in items if isinstance(el, Mapping) and "name" in el]


def positional(
    data: Mapping[str, Any],
    path: str,
    defaults: Mapping[str, Any] | None = None,
    where: str | None = None,
) -> str:
    """``path`` with every ``[name]`` replaced by the position of the element of that name.

    ``data`` is the raw or dumped config; where it leaves a section out, ``defaults`` (the
    same shape) is looked up instead, so names of default platforms resolve too. A path
    without names is returned unchanged (positions are checked where they are applied).

    Raises
    ------
    ConfigError
        ``<where>: no <list> named 'x' (names: a, b)``, or a name used on a list that has no
        named entries. ``where`` defaults to ``--set <path>``.
    """
    label = where if where is not None else f"--set {path}"
    try:
        tokens = split(path)
    except ValueError as exc:
        raise ConfigError([f"{label}: {exc}"]) from None
    if not any(isinstance(t, ByName) for t in tokens):
        return path
    node: Any = data
    dnode: Any = defaults
    out: list[Token] = []
    for tok in tokens:
        if isinstance(tok, ByName):
            where_list = join(out) or "(top level)"
            items = node if isinstance(node, list) else dnode if isinstance(dnode, list) else None
            if items is None:
                raise ConfigError([f"{label}: {where_list} is not a list of named entries"])
            hits = [j for j, el in enumerate(items) if _has_name(el, tok)]
            if not hits:
                names = _names(items)
                what = out[-1] if out and type(out[-1]) is str else where_list
                if names:
                    msg = f"no {what} named {str(tok)!r} (names: {', '.join(names)})"
                else:
                    msg = f"the entries of {where_list} have no names; use a position"
                raise ConfigError([f"{label}: {msg}"])
            j = hits[0]
            out.append(j)
            # resolved in the data, or (the data leaves the list out) in the defaults
            from_data = items is node
            node = _step(node, j) if from_data else None
            dnode = _step(dnode, j) if from_data else _step(items, j)
            continue
        out.append(tok)
        node, dnode = _step(node, tok), _step(dnode, tok)
    return join(out)


def _step(node: Any, tok: Token) -> Any:
    if isinstance(tok, int):
        return node[tok] if isinstance(node, list) and 0 <= tok < len(node) else None
    return node.get(tok) if isinstance(node, Mapping) else None


def named(data: Mapping[str, Any], path: str) -> str:
    """``path`` with every position replaced by the ``name`` of that element, where it has
    one (``platforms[0].clusters[0].nodes`` → ``platforms[iserv].clusters[iserv-bbb].nodes``).

    ``data`` is the config (e.g. ``scenario.model_dump(mode="json")``). Positions without a
    named element, and paths that do not parse, come back as they are: printing never fails.
    """
    try:
        tokens = split(path)
    except ValueError:
        return path
    node: Any = data
    out: list[Token] = []
    for tok in tokens:
        if isinstance(tok, ByName):
            items = node if isinstance(node, list) else []
            idx = next(
                (j for j, el in enumerate(items) if _has_name(el, tok)),
                None,
            )
            out.append(tok)
            node = items[idx] if idx is not None else None
            continue
        if isinstance(tok, int) and isinstance(node, list) and 0 <= tok < len(node):
            el = node[tok]
            name = el.get("name") if isinstance(el, Mapping) else None
            out.append(ByName(str(name)) if isinstance(name, str) and is_path(f"a[{name}]")
                       and not name.isdigit() else tok)
            node = el
            continue
        out.append(tok)
        node = _step(node, tok)
    return join(out)


def named_in(scenario: Any, path: str) -> str:
    """:func:`named` for a :class:`~sim.config.Scenario` (or anything with ``model_dump``)."""
    return named(scenario.model_dump(mode="json"), path)
