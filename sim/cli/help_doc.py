"""The command-line reference, generated from the typer app's own help: every command, its
arguments and options with their types, defaults and bounds.

    python -m sim.cli.help_doc > docs/reference/cli.md      # or: make docs

``tests/unit/test_reference_docs.py`` keeps the committed page equal to a fresh
:func:`render`, so a new option or a changed help text shows up in the docs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, get_args, get_origin

import typer

from sim.cli import app

INTRO = """\
# Command-line reference

Generated from the command line's own help (`sim/cli/`) by `make docs`
(`python -m sim.cli.help_doc`). Do not edit by hand: change the help in the code and
regenerate; `tests/unit/test_reference_docs.py` fails when this page and the code differ.

`dlsim COMMAND --help` prints the same on the terminal; `python -m sim` is the same program.
Options that take a list are repeated (`--set a=1 --set b=2`). Exit codes (0 success, 2 bad
input, 1 internal error, 130 interrupted) are in [exit codes](exit-codes.md); the scenario
settings that `--set` changes are in the [scenario file reference](scenario.md).
"""


def _click_root() -> Any:
    return typer.main.get_command(app)


def _context(cmd: Any, name: str, parent: Any = None) -> Any:
    return cmd.context_class(cmd, info_name=name, parent=parent)


def _paragraphs(text: str) -> list[str]:
    """Help text as paragraphs (the code wraps lines; Markdown reflows them)."""
    blocks = [" ".join(line.strip() for line in b.splitlines()) for b in text.split("\n\n")]
    return [b for b in blocks if b]


def _annotation(p: Any) -> Any:
    td = getattr(p, "type_descriptor", None)  # typer ≥ 0.20 carries the Python annotation
    if td is not None:
        return td.annotation
    return {"integer": int, "float": float, "boolean": bool, "path": Path}.get(
        getattr(getattr(p, "type", None), "name", ""), str)


def _bound(p: Any, which: str) -> Any:
    if hasattr(p, which):
        return getattr(p, which)
    return getattr(getattr(p, "type", None), which, None)


def _type(p: Any) -> str:
    ann = _annotation(p)
    if get_origin(ann) is list:
        ann = get_args(ann)[0]
    if getattr(p, "is_flag", False):
        return "flag"
    words = {int: "whole number", float: "number", Path: "path", str: "text",
             bool: "flag"}.get(ann, getattr(ann, "__name__", str(ann)))
    lo, hi = _bound(p, "min"), _bound(p, "max")
    if lo is not None and hi is not None:
        words += f", {_num(lo)} to {_num(hi)}"
    elif lo is not None:
        words += f", ≥ {_num(lo)}"
    elif hi is not None:
        words += f", ≤ {_num(hi)}"
    return words


def _num(v: Any) -> str:
    if v == 2**63 - 1:
        return "2⁶³ − 1"
    return f"{v:,}" if isinstance(v, int) else f"{v:g}"


def _default(p: Any) -> str:
    if p.required:
        return "**required**"
    d = p.default
    if callable(d) or d is None or d == [] or d == () or getattr(p, "is_flag", False):
        return ""
    if not getattr(p, "show_default", True):
        return ""
    return f"`{d}`"


def _name(p: Any) -> str:
    if p.param_type_name == "argument":
        return f"`{p.name.upper()}`"
    names = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
    return names + (" (repeatable)" if p.multiple else "")


def _usage(cmd: Any, name: str) -> str:
    args = []
    for p in cmd.params:
        if p.param_type_name == "argument":
            args.append(p.name.upper() if p.required else f"[{p.name.upper()}]")
    return " ".join(["dlsim", name, "[OPTIONS]", *args])


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render() -> str:
    """The whole reference page (Markdown)."""
    root = _click_root()
    ctx = _context(root, "dlsim")
    names = root.list_commands(ctx)
    out = [INTRO, "| command | what it does |", "|---|---|"]
    cmds = {n: root.get_command(ctx, n) for n in names}
    for n, cmd in cmds.items():
        first = _paragraphs(cmd.help or "")[0] if cmd.help else ""
        out.append(f"| [`dlsim {n}`](#dlsim-{n}) | {_cell(first)} |")
    out.append("")
    for n, cmd in cmds.items():
        out.append(f'<a id="dlsim-{n}"></a>\n\n## `dlsim {n}`\n')
        out.append(f"```\n{_usage(cmd, n)}\n```\n")
        for para in _paragraphs(cmd.help or ""):
            out.append(para + "\n")
        out.append("| argument or option | type | default | what it does |")
        out.append("|---|---|---|---|")
        for p in cmd.params:
            if getattr(p, "hidden", False):
                continue
            out.append(f"| {_name(p)} | {_type(p)} | {_default(p)} | "
                       f"{_cell(getattr(p, 'help', None) or '')} |")
        out.append("| `--help` | flag |  | Show the help and exit. |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    """``python -m sim.cli.help_doc [FILE]``: the page to FILE, or to standard output."""
    args = sys.argv[1:] if argv is None else argv
    page = render()
    if args:
        Path(args[0]).write_text(page, encoding="utf-8")
    else:
        sys.stdout.write(page)


if __name__ == "__main__":
    main()
