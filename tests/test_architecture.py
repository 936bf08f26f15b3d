"""The package's shape, as docs/ARCHITECTURE.md draws it: imports point one way (down the layers),
no import cycles, and modules and functions small enough to read in one sitting.

The oracle is the source text itself (`ast`), not the package at run time, so an import inside a
function counts as much as one at the top of a module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "rmboost"

# Lowest first. A module may import from its own package and from any package of a lower layer;
# packages of one layer are siblings and import nothing of each other. `api.py` (where a run
# starts), the package's `__init__.py` and `generate.py` (an old import path) are the facade above
# every layer but `cli`; `resources` holds data files only.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "records", "options", "resources", "progress_display"),
    ("io",),
    ("prompts",),
    ("data",),
    ("rm", "backends"),
    ("llm",),
    ("methods",),
    ("generation", "report"),
    ("scale", "experiment", "integrations"),
    ("api",),
    ("generate", "__init__"),
    ("cli", "testing"),
]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports_of(path: Path, name: str) -> set[str]:
    """The rmboost modules `path` imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "rmboost"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base.split(".")[0] == "rmboost":
                found.add(base)
    return found


def top(module: str) -> str:
    """The layer name of a module: `rmboost.methods.rlaif` -> `methods`, `rmboost` -> `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def resolve(module: str, known: dict[str, Path]) -> str:
    """`from rmboost.methods import X` may name a module or a package; either is in `known`."""
    while module not in known and "." in module:
        module = module.rsplit(".", 1)[0]
    return module


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {resolve(m, known) for m in imports_of(path, name)} - {name} for name, path in known.items()}


def test_every_top_level_module_and_package_has_a_layer() -> None:
    missing = sorted({top(m) for m in modules()} - set(RANK))
    assert not missing, f"give these a layer in LAYERS and docs/ARCHITECTURE.md: {missing}"


def test_imports_point_down_the_layers() -> None:
    upward = []
    for name, targets in graph().items():
        for target in targets:
            a, b = top(name), top(target)
            if a != b and RANK[b] >= RANK[a]:
                upward.append(f"{name} -> {target} ({a} is layer {RANK[a]}, {b} layer {RANK[b]})")
    assert not upward, "imports that do not point down:\n" + "\n".join(sorted(upward))


def test_no_import_cycles() -> None:
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            # A package's __init__ importing its own submodules is how packages work, not a cycle.
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("name,path", sorted(modules().items()))
def test_module_and_functions_are_short(name: str, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = len(text.splitlines())
    assert lines <= MAX_MODULE_LINES, f"{name}: {lines} lines"
    long = [f"{n.name} ({n.end_lineno - n.lineno + 1} lines)" for n in ast.walk(ast.parse(text))
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.end_lineno is not None
            and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{name}: functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    # The oracle must be able to fail: a module of layer `io` importing `generation` is flagged.
    fake = tmp_path / "mod.py"
    fake.write_text("def f():\n    from rmboost.generation.run import write_pairs\n")
    (target,) = imports_of(fake, "rmboost.io.mod")
    assert target == "rmboost.generation.run" and RANK[top(target)] > RANK[top("rmboost.io.mod")]
