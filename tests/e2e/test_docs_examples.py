"""The documentation's examples run, as SimPy's ``docs/conftest.py`` runs its examples.

Page by page (README, tutorial, how-to and reference pages), in a scratch directory holding a
copy of ``configs/`` and ``data/``, in the order of the page:

- a ```` ```yaml ```` block whose first line is ``# file: PATH`` is written to PATH;
- every ```` ```python ```` block runs, in one namespace per page;
- a ```` ```bash ```` block whose first line is a comment beginning ``# small:`` runs, command
  by command (``dlsim …`` and ``python -m sim …`` in this process, through the CLI's own
  entry point); every other ``dlsim`` line is parsed by the command line (the command and
  its options exist, their values parse), and every ``make`` target must exist;
- the one substitution: ``population.scale=<x>`` becomes ``population.scale=0.01`` in every
  block that runs (the pages say so where they show a scale).
"""

from __future__ import annotations

import re
import shlex
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = [
    REPO / "README.md",
    *sorted((REPO / "docs" / "tutorial").glob("*.md")),
    *sorted((REPO / "docs" / "howto").glob("*.md")),
    *sorted((REPO / "docs" / "reference").glob("*.md")),
]
SMALL = "0.01"
_FENCE = re.compile(r"^```([A-Za-z]*)\s*$")


@dataclass
class Block:
    lang: str
    text: str
    line: int


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page (top-level or indented)."""
    out: list[Block] = []
    lang: str | None = None
    start, body = 0, []
    for i, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        m = _FENCE.match(line)
        if lang is None and m:
            lang, start, body = m[1], i, []
        elif lang is not None and line == "```":
            out.append(Block(lang, textwrap.dedent("\n".join(body)) + "\n", start))
            lang = None
        elif lang is not None:
            body.append(raw)
    return out


def small(text: str) -> str:
    return re.sub(r"population\.scale=[0-9.]+", f"population.scale={SMALL}", text)


def commands(text: str) -> list[list[str]]:
    """Shell commands of a block (continuation lines joined, comments dropped)."""
    joined = re.sub(r"\\\n", " ", text)
    return [t for t in (shlex.split(line, comments=True) for line in joined.splitlines()) if t]


def dlsim_argv(tokens: list[str]) -> list[str] | None:
    if tokens[0] in ("dlsim", ".venv/bin/dlsim"):
        return tokens[1:]
    if tokens[:3] in (["python", "-m", "sim"], [".venv/bin/python", "-m", "sim"]):
        return tokens[3:]
    return None


def make_targets() -> set[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w.-]*):", text, flags=re.M))


def parse(argv: list[str]) -> None:
    """Parse a command line as ``dlsim`` would, without running it."""
    import typer

    from sim.cli import app

    root = typer.main.get_command(app)
    ctx = root.make_context("dlsim", list(argv), resilient_parsing=True)
    cmd = root.get_command(ctx, argv[0])
    if cmd is None:
        raise ValueError(f"no command {argv[0]!r}")
    cmd.make_context(argv[0], list(argv[1:]), parent=ctx)  # raises on a bad option or value


def run(argv: list[str]) -> None:
    from sim.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    assert exit_.value.code in (0, None), f"dlsim {' '.join(argv)} exited {exit_.value.code}"


def _pages_with_examples() -> list[Path]:
    return [p for p in PAGES if any(b.lang in ("python", "bash", "yaml") for b in blocks(p))]


@pytest.mark.parametrize("page", _pages_with_examples(), ids=lambda p: str(p.relative_to(REPO)))
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    shutil.copytree(REPO / "data", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    targets = make_targets()
    for b in blocks(page):
        where = f"{page.relative_to(REPO)}:{b.line}"
        first = b.text.lstrip().splitlines()[0] if b.text.strip() else ""
        if b.lang == "yaml" and first.startswith("# file:"):
            dest = tmp_path / first.removeprefix("# file:").strip()
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(small(b.text), encoding="utf-8")
        elif b.lang == "python":
            exec(compile(small(b.text), where, "exec"), namespace)
        elif b.lang == "bash":
            runs = first.startswith("# small:")
            for tokens in commands(small(b.text) if runs else b.text):
                argv = dlsim_argv(tokens)
                if argv is not None:
                    (run if runs else parse)(argv)
                elif tokens[0] == "make":
                    missing = [t for t in tokens[1:] if t not in targets]
                    assert not missing, f"{where}: no make target {missing}"


def test_the_parser_refuses_what_dlsim_refuses() -> None:
    parse(["run", "configs/x.yaml", "--set", "a=1", "--seed", "3"])
    for bad in (["run", "x.yaml", "--bogus"], ["run", "x.yaml", "--seed", "abc"],
                ["runn", "x.yaml"], ["sweep", "x.yaml"]):  # sweep needs --out
        with pytest.raises(Exception):  # noqa: B017 (a usage error or an unknown command)
            parse(bad)


def test_blocks_and_commands_are_read_as_written(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("text\n\n```bash\n# small: x\ndlsim run a.yaml \\\n"
                    "    --set population.scale=0.05  # why\n```\n\n"
                    "  ```python\n  x = 1\n  ```\n")
    bs = blocks(page)
    assert [(b.lang, b.line) for b in bs] == [("bash", 3), ("python", 9)]
    assert commands(small(bs[0].text)) == [
        ["dlsim", "run", "a.yaml", "--set", "population.scale=0.01"]]
