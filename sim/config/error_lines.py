"""Pydantic's validation errors as one line per problem: ``<file>: <field path>: <what is wrong>``
(a problem an override caused as ``--set <as written>: …``, :mod:`sim.config.override_errors`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import ValidationError

from sim.config import override_errors, paths
from sim.config.models import Scenario


def format_loc(loc: tuple[int | str, ...]) -> str:
    """A field path as written in a scenario: ``platforms[0].clusters[0].nodes``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # a key with a control character (\x1e splits a line for str.splitlines) is shown
            # escaped: one problem stays one line
            text = part if part.isprintable() else repr(part)
            out += ("." if out else "") + text
    return out or "(top level)"


def format_validation_error(
    err: ValidationError, source: str, positional: Sequence[str] = (), given: Sequence[str] = ()
) -> list[str]:
    """One line per problem; a problem at or under an override's path is the override's
    (``--set <as written>: …``, :mod:`sim.config.override_errors`)."""
    problems = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            hint = override_errors.suggestion(Scenario, loc)
            msg = f"unknown key{hint}" if hint else "unknown key (typo?)"
        msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        named = re.match(r"^([A-Za-z_][\w.\[\]]*): (.*)$", msg) if not loc else None
        if named and paths.is_path(named[1]):  # a cross-field check names its own path
            toks = paths.split(named[1])
            if not any(isinstance(t, paths.ByName) for t in toks):
                loc, msg = tuple(toks), named[2]
        set_by = override_errors.owner(loc, positional, given) if loc else None
        if set_by is not None:  # the override's problem, not the file's
            where, field = set_by
            problems.append(f"--set {where}: {field}: {msg}")
        else:
            problems.append(f"{source}: {format_loc(loc)}: {msg}")
    return problems
