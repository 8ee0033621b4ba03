"""The shape of the code, checked: ``sim`` is grouped in layers and each imports only the
layers below it (:data:`LAYERS`); its modules import each other without a cycle (module-level
and function-level imports alike, ``TYPE_CHECKING`` ones included, and a module named in a
string literal, as ``importlib.import_module`` takes it); SimPy's private attributes are used
in ``sim/model/engine.py`` only; no module or class of the model core grows past the size
a newcomer can read; and no function or method past :data:`MAX_FUNCTION_LINES`, but for the
named exceptions in :data:`LONG_FUNCTIONS`."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[2] / "sim"


def _module_name(path: Path, root: Path = SIM) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(root: Path = SIM) -> dict[str, Path]:
    return {_module_name(p, root): p for p in root.rglob("*.py")}


def _resolve(mod: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(root: Path = SIM) -> dict[str, set[str]]:
    """Module → the ``sim`` modules it imports anywhere in its body.

    ``from a import b`` depends on ``a.b`` if that is a module, else on ``a``; importing
    ``a.b`` is a dependency on ``a.b`` (not on the package ``a`` that contains it).
    """
    mods = _modules(root)
    graph: dict[str, set[str]] = {}
    for mod, path in mods.items():
        deps: set[str] = set()
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and node.value in mods and not mod.startswith(node.value + ".")):
                # importlib.import_module("sim.x") and the like (a package naming its own
                # resources, e.g. PackageLoader("sim.report", …), is no dependency)
                deps.add(node.value)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in mods)
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(mod, is_pkg, node)
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    if sub in mods:
                        deps.add(sub)
                    elif target in mods:
                        deps.add(target)
        deps.discard(mod)
        graph[mod] = deps
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (as a path that returns to its start), or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return [*stack[stack.index(m):], m]
            if m not in state and (found := visit(m)) is not None:
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)) is not None:
            return found
    return None


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_graph_sees_function_level_and_type_checking_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a import f\n")
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.a"]
    # and in sim itself: sim.model.metrics names sim.model.behaviour for type checking only
    assert "sim.model.behaviour" in import_graph()["sim.model.metrics"]


def test_sim_modules_import_without_a_cycle() -> None:
    graph = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, " → ".join(cycle or [])


_PRIVATE = re.compile(r"\.(_queue|_now|_eid)\b")


def test_simpy_internals_only_in_the_engine() -> None:
    users = sorted(str(p.relative_to(SIM.parent)) for p in SIM.rglob("*.py")
                   if _PRIVATE.search(p.read_text()))
    assert users == ["sim/model/engine.py"]


# the model core: the run, the world, the people, faults and policies
CORE = [f"model/{n}" for n in (
    "simulation.py", "engine.py", "world.py", "effects.py", "faults.py", "policies.py",
    "metrics.py", "recorder.py", "sampler.py", "states.py", "causes.py", "behaviour",
    "components")]


def _core_files() -> list[Path]:
    out: list[Path] = []
    for name in CORE:
        p = SIM / name
        out.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p])
    return out


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(SIM)))
def test_core_modules_and_classes_stay_small(path: Path) -> None:
    text = path.read_text()
    assert len(text.splitlines()) <= 420, f"{path.name}: {len(text.splitlines())} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef):
            n = (node.end_lineno or node.lineno) - node.lineno + 1
            assert n <= 400, f"{path.name}: class {node.name} has {n} lines"


# ----------------------------------------------------------------------------- layers
#: The layers of ``sim``, bottom first: a module may import its own layer and those below.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("config", ("sim.config",)),            # the scenario: pydantic models, loading, paths
    ("model", ("sim.model",)),              # one replication: (Scenario, seed) → RunResult
    ("runs", ("sim.runs",)),                # records of runs: formats, provenance, intervals
    ("report", ("sim.report",)),            # pages rendered from records
    ("experiments", ("sim.experiments",)),  # many replications: compare, sweep, size, explain
    ("uncertainty", ("sim.uncertainty",)),  # priors, targets, sensitivity, calibration
    ("decide", ("sim.decide",)),            # decisions: levers, optimise, what-if
    ("front doors", ("sim", "sim.__main__", "sim.api", "sim.cli")),
)


def layer_of(module: str) -> int:
    """Index in :data:`LAYERS` of the layer that holds ``module`` (the longest prefix)."""
    best, best_len = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for pre in prefixes:
            if (module == pre or module.startswith(pre + ".")) and len(pre) > best_len:
                best, best_len = i, len(pre)
    if best < 0:
        raise KeyError(module)
    return best


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a module by one in a lower layer, as ``a (layer) → b (layer)``."""
    out = []
    for mod in sorted(graph):
        for dep in sorted(graph[mod]):
            if layer_of(dep) > layer_of(mod):
                out.append(f"{mod} ({LAYERS[layer_of(mod)][0]}) → "
                           f"{dep} ({LAYERS[layer_of(dep)][0]})")
    return out


def test_every_module_belongs_to_a_layer() -> None:
    for mod in import_graph():
        layer_of(mod)  # raises KeyError for a module no layer holds


def test_each_layer_imports_only_the_layers_below() -> None:
    assert upward_imports(import_graph()) == []


def test_sim_has_few_top_level_modules() -> None:
    """The tree tells the layers: besides ``__init__``/``__main__`` at most four modules
    stand at the top of ``sim/``; everything else lives in its layer's folder."""
    top = sorted(p.name for p in SIM.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(top) <= 4, top


@pytest.mark.parametrize("planted", [
    "from sim.decide.levers import LeverSpec\n",                     # module level
    "def f():\n    import sim.experiments.sweep.spec\n",            # inside a function
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sim.runs import rundir\n",
    "import importlib\nM = importlib.import_module('sim.report.layout')\n",  # by name
])
def test_layering_check_catches_a_planted_upward_import(tmp_path: Path, planted: str) -> None:
    import shutil

    copy = tmp_path / "sim"
    shutil.copytree(SIM, copy, ignore=shutil.ignore_patterns("__pycache__"))
    engine = copy / "model" / "engine.py"
    engine.write_text(engine.read_text() + "\n" + planted)
    found = upward_imports(import_graph(copy))
    assert len(found) == 1 and found[0].startswith("sim.model.engine (model) → "), found


def test_modules_find_the_repository_from_their_new_place() -> None:
    """Modules that find the repository from their own file (configs, docs, the git commit
    stamped on results) look two levels up since the regroup put them in a layer's folder."""
    from sim.experiments.validation import CONFIGS, REPO
    from sim.runs.provenance import git_commit

    assert SIM.parent == REPO and CONFIGS.is_dir()
    if (SIM.parent / ".git").exists():  # a checkout (a worktree's .git is a file)
        assert git_commit() is not None


# ----------------------------------------------------------------------------- functions
#: The most lines a function or method of ``sim`` may have, from its ``def`` to its last
#: line (docstring included, decorators not): Ciw and desmod each have one function over 80
#: lines, and a longer one usually hides named steps (STYLE.md, "Functions by concept too").
MAX_FUNCTION_LINES = 100

#: The named exceptions, each with its reason. An entry goes when its function is split.
LONG_FUNCTIONS = {
    # the report's table of assumptions, one row each (a table written as code, not steps);
    # its strings are moving to gettext in parallel: split it by topic after that lands
    "sim/report/assumptions.py:assumptions",
}


def long_functions(root: Path = SIM, limit: int = MAX_FUNCTION_LINES) -> dict[str, int]:
    """``path:Qualified.name`` → lines, of every function or method under ``root`` longer
    than ``limit`` (methods by their class, nested functions by the function around them)."""
    found: dict[str, int] = {}

    def visit(node: ast.AST, where: str, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (child.end_lineno or child.lineno) - child.lineno + 1
                if n > limit:
                    found[f"{where}:{prefix}{child.name}"] = n
                visit(child, where, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, where, f"{prefix}{child.name}.")
            else:
                visit(child, where, prefix)

    for path in sorted(root.rglob("*.py")):
        visit(ast.parse(path.read_text(), str(path)), path.relative_to(root.parent).as_posix(),
              "")
    return found


def test_no_function_is_longer_than_the_limit() -> None:
    found = long_functions()
    new = {k: n for k, n in found.items() if k not in LONG_FUNCTIONS}
    assert not new, (f"over {MAX_FUNCTION_LINES} lines: {new} — split by concept into named "
                     "steps (docs: STYLE.md), or add it to LONG_FUNCTIONS with its reason")
    stale = sorted(LONG_FUNCTIONS - set(found))
    assert not stale, f"no longer over {MAX_FUNCTION_LINES} lines: drop {stale} from LONG_FUNCTIONS"


_BODY = "    x = 1\n"


@pytest.mark.parametrize(("source", "name"), [
    (lambda n: "def f():\n" + _BODY * (n - 1), "f"),
    (lambda n: "async def f():\n" + _BODY * (n - 1), "f"),
    (lambda n: "class C:\n    @property\n    def f(self):\n" + ("    " + _BODY) * (n - 1),
     "C.f"),
    (lambda n: "def outer():\n    def f():\n" + ("    " + _BODY) * (n - 1)
     + "    return f\n", "outer.f"),
    (lambda n: "if True:\n    class C:\n        def f(self):\n" + ("        " + _BODY) * (n - 1),
     "C.f"),
], ids=["function", "async", "method", "nested", "class-under-if"])
def test_length_check_catches_a_long_function(tmp_path: Path, source: Callable[[int], str],
                                              name: str) -> None:
    pkg = tmp_path / "sim" / "model"
    pkg.mkdir(parents=True)
    at_limit, over = source(MAX_FUNCTION_LINES), source(MAX_FUNCTION_LINES + 1)
    (pkg / "x.py").write_text(at_limit)
    assert name not in {k.split(":")[1] for k in long_functions(tmp_path / "sim")}
    (pkg / "x.py").write_text(over)
    found = long_functions(tmp_path / "sim")
    assert found[f"sim/model/x.py:{name}"] == MAX_FUNCTION_LINES + 1


def test_length_check_fails_on_a_long_function_planted_in_sim(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "sim"
    shutil.copytree(SIM, copy, ignore=shutil.ignore_patterns("__pycache__"))
    demand = copy / "model" / "demand.py"
    demand.write_text(demand.read_text() + "\n\ndef planted():\n" + _BODY * MAX_FUNCTION_LINES)
    new = set(long_functions(copy)) - LONG_FUNCTIONS
    assert new == {"sim/model/demand.py:planted"}
