"""The package layout of docs/architecture.md holds: every import points down the flow, no import
cycle exists between modules, no module is too long to read, and nothing sits loose at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "sopaudit"

# Each stage package and the layer it sits in (docs/architecture.md). A module may import from
# its own package and from packages of a lower layer, never from one of the same or a higher
# layer. A new package gets a layer here and a line in docs/architecture.md.
LAYERS = {
    "core": 0,
    "calendar": 1,
    "drawing": 1,
    "ingest": 2,
    "sop": 3,
    "conform": 4,
    "standards": 4,
    "discovery": 5,
    "analysis": 5,
    "simulation": 5,
    "report": 6,
    "auditing": 7,
    "history": 7,
    "batch": 8,
    "reform": 8,
    "verification": 8,
    "cli": 9,
}
MAX_LINES = 620  # "about 600": a module an IT-unit developer reads in one sitting


def _modules() -> dict[str, Path]:
    mods = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = path
    return mods


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The sopaudit modules `name` imports anywhere in its file (function-level imports too:
    a lazy import is still a dependency)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If) and _is_type_checking(block.test)
                   for stmt in block.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in typing_only:  # imports for annotations only: no dependency at run time
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package
                for _ in range(node.level - 1):
                    base = base.rsplit(".", 1)[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            # `from pkg import mod` depends on pkg.mod; `from pkg import name` on pkg itself
            candidates = [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target for a in node.names]
        elif isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        else:
            continue
        for cand in candidates:
            while cand and cand not in MODULES and "." in cand:
                cand = cand.rsplit(".", 1)[0]
            if cand in MODULES and cand != name and cand != "sopaudit":
                found.add(cand)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_top_level_module_is_a_stage_package() -> None:
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    assert loose == [], f"modules at the top of src/sopaudit: {loose}; put them in a stage package"
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    unknown = [p for p in packages if p not in LAYERS]
    assert unknown == [], f"packages without a layer: {unknown}; add them to LAYERS and docs/architecture.md"


def test_imports_point_down_the_flow() -> None:
    upward = []
    for module, targets in GRAPH.items():
        src = _stage(module)
        for target in targets:
            dst = _stage(target)
            if src and dst and src != dst and LAYERS[dst] >= LAYERS[src]:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_no_import_cycles() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert cycles == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_is_short_enough(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{MODULES[name]} has {lines} lines; split it by concern"


def test_core_imports_nothing_heavy() -> None:
    """core is imported by everything, the CLI's start-up included."""
    for name, path in MODULES.items():
        if _stage(name) == "core":
            tree = ast.parse(path.read_text(encoding="utf-8"))
            top = {a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import) for a in n.names}
            top |= {(n.module or "").split(".")[0] for n in tree.body if isinstance(n, ast.ImportFrom)}
            assert not top & {"pandas", "numpy", "pm4py", "matplotlib", "pyarrow"}, name
