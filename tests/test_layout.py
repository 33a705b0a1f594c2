"""grader/ is in parts, one subpackage per part of the data flow, and its
imports point one way: read from the source, so a new import that breaks the
rule fails here before anyone has to find the cycle by hand."""

from __future__ import annotations

import ast
from pathlib import Path

GRADER = Path(__file__).resolve().parents[1] / "grader"

# which parts each part may import (besides itself); the top (cli.py,
# __init__.py, __main__.py) may import anything
ALLOWED = {
    "gradcheck": set(),
    "course": set(),
    "results": set(),
    "sandbox": {"gradcheck"},
    "report": {"gradcheck", "results"},
    "plugin": {"gradcheck", "results", "sandbox", "course", "report"},
    "batch": {"gradcheck", "results", "sandbox", "course", "report"},
}
TOP = {"__init__.py", "__main__.py", "cli.py", "notebook.py"}


def module_name(path: Path) -> str:
    parts = path.relative_to(GRADER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in GRADER.rglob("*.py")}


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every import, lazy ones too."""
    found: list[tuple[str, list[str]]] = []
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, [alias.name for alias in node.names]))
    return found


def resolve(target: str, names: list[str], known: dict[str, Path]) -> list[str]:
    """The grader modules an import statement loads."""
    if not target.startswith("grader"):
        return []
    loaded = [target] if target in known else []
    loaded += [f"{target}.{n}" for n in names if f"{target}.{n}" in known]
    return loaded


def part_of(module: str) -> str | None:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 2 or (len(pieces) == 2 and pieces[1] in ALLOWED) else None


def graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {m for target, names in imports(path) for m in resolve(target, names, known)}
        for name, path in known.items()
    }


def test_grader_has_at_most_five_top_level_modules_and_every_other_in_a_part():
    top = sorted(p.name for p in GRADER.glob("*.py"))
    assert set(top) <= TOP | {"py.typed"}, top
    assert len(top) <= 5
    parts = sorted(p.parent.name for p in GRADER.glob("*/__init__.py"))
    assert set(ALLOWED) <= set(parts) <= set(ALLOWED) | {"report"}, parts


def test_each_part_imports_only_the_parts_below_it():
    wrong = []
    for module, targets in graph().items():
        own = part_of(module)
        if own is None:
            continue
        for target in targets:
            other = part_of(target)
            if other is None and target != "grader":
                continue
            if other is None or (other != own and other not in ALLOWED[own]):
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_imports_nothing_of_the_other_parts():
    for module, targets in graph().items():
        if part_of(module) == "gradcheck":
            assert all(part_of(t) == "gradcheck" for t in targets), (module, targets)


def test_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            # a package's __init__ importing its own submodules is not a cycle
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_no_private_name_is_imported_across_modules():
    known = modules()
    found = []
    for module, path in known.items():
        for target, names in imports(path):
            if target.startswith("grader"):
                found += [f"{module}: from {target} import {n}" for n in names if n.startswith("_")]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grader")
            for alias in node.names
            if f"{node.module}.{alias.name}" in known
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                found.append(f"{module}: {node.value.id}.{node.attr}")
    assert not found, "\n".join(found)
