"""A problem an override caused is the override's, not the file's.

``dlsim run day.yaml --set populaton.scale=0.02`` used to say ``day.yaml: populaton: unknown
key (typo?)`` — blaming a file that has no such line, with the path by position where the
user wrote names. A validation problem at or under the path of a ``--set`` is reported as
``--set <what the user wrote>: …`` instead, and an unknown key comes with the nearest
known key (``did you mean 'population'?``, :func:`difflib.get_close_matches`).
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel

from sim.config import paths

Loc = tuple[int | str, ...]


def _loc_of(override: str) -> Loc | None:
    """The positional key path of an override as a pydantic location (None if malformed)."""
    key = override.partition("=")[0].strip()
    if not paths.is_path(key):
        return None
    toks = paths.split(key)
    if any(isinstance(t, paths.ByName) for t in toks):
        return None
    return tuple(toks)


def owner(loc: Loc, positional: Sequence[str], given: Sequence[str]) -> tuple[str, str] | None:
    """The override (as the user wrote it) whose path is a prefix of ``loc`` or has ``loc``
    as its prefix (an unknown key on the way to the value), and the problem's field path
    spelt as the user spelt the override (list elements by name where they were given by
    name); the last such override wins, as it is applied last."""
    for pos, shown in reversed(list(zip(positional, given, strict=True))):
        at = _loc_of(pos)
        if at is None:
            continue
        n = min(len(at), len(loc))
        if at[:n] == loc[:n]:
            written = paths.split(shown.partition("=")[0].strip())
            tokens = [*written[:n], *loc[len(at):]]
            return shown, paths.join(tokens)
    return None


def _members(tp: Any) -> list[Any]:
    """The alternatives of a type (``X | None``, ``Annotated[X, …]``, a union of models)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _members(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(tp) for m in _members(a)]
    return [tp]


def _step(types_: list[Any], part: int | str) -> list[Any]:
    """The types one location step below ``types_`` (a list element, a model field, a
    discriminated union's member by its tag)."""
    out: list[Any] = []
    for tp in types_:
        origin = typing.get_origin(tp)
        if isinstance(part, int) and origin in (list, tuple):
            out += [m for a in typing.get_args(tp)[:1] for m in _members(a)]
        elif isinstance(part, str) and origin is dict:
            out += _members(typing.get_args(tp)[1])
        elif isinstance(part, str) and isinstance(tp, type) and issubclass(tp, BaseModel):
            if part in tp.model_fields:
                out += _members(tp.model_fields[part].annotation)
            elif _tag(tp) == part:  # pydantic names a union member by its tag
                out.append(tp)
    return out


def _tag(model: type[BaseModel]) -> str | None:
    kind = model.model_fields.get("kind")
    if kind is None:
        return None
    args = typing.get_args(kind.annotation)
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


def known_keys(root: type[BaseModel], parent: Loc) -> list[str]:
    """The keys a mapping at ``parent`` may hold (empty where that cannot be told)."""
    types_: list[Any] = [root]
    for part in parent:
        types_ = _step(types_, part)
    keys: list[str] = []
    for tp in types_:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            keys += [k for k in tp.model_fields if k not in keys]
    return keys


def suggestion(root: type[BaseModel], loc: Loc) -> str:
    """``"; did you mean 'population'?"`` for an unknown key at ``loc``, else ``""``."""
    if not loc or not isinstance(loc[-1], str):
        return ""
    return did_you_mean(loc[-1], known_keys(root, loc[:-1]))


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``"; did you mean 'population'?"`` when one of ``known`` is close to ``word``
    (:func:`difflib.get_close_matches`), else ``""``: the one rule for every misspelt name."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
