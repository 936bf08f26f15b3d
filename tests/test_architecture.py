"""The package's shape, as docs/ARCHITECTURE.md draws it: imports point one way (down the layers),
no import cycles, modules and functions small enough to read in one sitting, and measurement
written once (`measure/`: no other module resamples, reads percentiles or redefines its rules).

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
    ("errors", "records", "options", "resources", "progress_display", "measure"),
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


# A bootstrap draws with replacement (`integers`, `choice`, `choices`) and reads percentiles of the
# draws (`quantile`, `percentile`); sampling without replacement (`random.sample`) is no bootstrap.
BOOTSTRAP_CALLS = {"integers", "choice", "choices", "quantile", "percentile", "nanquantile", "nanpercentile",
                   "bootstrap"}


def bootstrap_calls(path: Path) -> list[str]:
    """`line: name` of each call in `path` that a bootstrap is made of."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in BOOTSTRAP_CALLS:
                found.append(f"{node.lineno}: {name}")
    return found


def function_names(path: Path, top_level: bool = False) -> set[str]:
    """The names of the functions `path` defines (with `top_level`, only those of the module itself)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level else list(ast.walk(tree))
    return {n.name for n in nodes if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def outside_measure() -> dict[str, Path]:
    return {name: path for name, path in modules().items() if top(name) != "measure"}


def test_only_measure_resamples_for_an_interval() -> None:
    # One seed rule for every bootstrap holds only while `measure/bootstrap.py` is the one place that
    # draws resamples and reads their percentiles.
    found = [f"{name}:{call}" for name, path in outside_measure().items() for call in bootstrap_calls(path)]
    assert not found, "a bootstrap outside rmboost.measure (call measure.bootstrap instead):\n" + "\n".join(found)


def test_no_module_redefines_a_measure_rule() -> None:
    rules = {n for path in (SRC / "measure").glob("*.py") for n in function_names(path, top_level=True)
             if not n.startswith("_")}
    assert {"cluster_bootstrap", "pair_outcome", "words", "overlap_share", "distinct_n"} <= rules
    copies = [f"{name}.{n}" for name, path in outside_measure().items() for n in sorted(function_names(path) & rules)]
    assert not copies, "copies of a rmboost.measure rule (import it instead):\n" + "\n".join(copies)


def test_the_checker_sees_a_bootstrap_and_a_copied_rule(tmp_path: Path) -> None:
    fake = tmp_path / "mod.py"
    fake.write_text("import numpy as np\n\ndef distinct_n(texts, n):\n    draws = np.random.default_rng(0)"
                    ".integers(0, 3, size=(10, 3))\n    return np.quantile(draws, [0.1, 0.9])\n")
    assert bootstrap_calls(fake) == ["4: integers", "5: quantile"]
    assert "distinct_n" in function_names(fake)


# What a data set offers (loader, task, split rule, yardsticks) is its registration in
# `data/formats.py`; a format's name compared or listed anywhere else is a dispatch by string that a
# new format would have to find. `io/row_kinds.py` names kinds of rows (what a file holds), some of
# which are spelled like a format.
FORMAT_HOMES = ("rmboost.data", "rmboost.io.row_kinds")


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [s for e in node.elts for s in _strings(e) if isinstance(e, ast.Constant)]
    return []


def format_dispatch(path: Path, names: set[str]) -> list[str]:
    """`line: names` of each comparison with a format's name, and of each literal collection (or dict's
    keys) that lists two or more formats, in `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            hit = {s for side in (node.left, *node.comparators) for s in _strings(side)} & names
        elif isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict):
            items = node.keys if isinstance(node, ast.Dict) else node.elts
            hit = {s for item in items if item is not None for s in _strings(item)} & names
            hit = hit if len(hit) >= 2 else set()
        else:
            continue
        if hit:
            found.append(f"{node.lineno}: {', '.join(sorted(hit))}")
    return found


def test_no_module_outside_data_dispatches_on_a_format_name() -> None:
    from rmboost.data.formats import FORMATS

    homes = [name for name in modules() if any(name == h or name.startswith(h + ".") for h in FORMAT_HOMES)]
    found = [f"{name}:{hit}" for name, path in modules().items() if name not in homes
             for hit in format_dispatch(path, set(FORMATS))]
    assert not found, "a data format named outside its registration (read data/formats.py instead):\n" + \
        "\n".join(found)


def test_the_checker_sees_a_format_dispatch(tmp_path: Path) -> None:
    fake = tmp_path / "mod.py"
    fake.write_text('TASK = {"hh": "chat", "tldr": "summarization"}\n\ndef f(c):\n    return c.format == "trl"\n')
    assert format_dispatch(fake, {"hh", "tldr", "trl"}) == ["1: hh, tldr", "4: trl"]
