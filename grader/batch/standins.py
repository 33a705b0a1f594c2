"""Imports of modules the grading sandbox does not offer become a harmless
stand-in inside the student's copied module.

The sandbox offers the standard library, numpy, scipy, whatever the
assignment's own template imports, and the template's own modules. A
student's ``import matplotlib.pyplot as plt`` becomes
``plt = _grader_unavailable("matplotlib.pyplot")``: every attribute of the
stand-in is the stand-in, calling it does nothing (and hands back a lone
list, range, tuple or iterator it was given, so ``for i in tqdm(range(n))``
still loops), and it unpacks as two stand-ins (``fig, ax =
plt.subplots()``). So plotting does nothing and a task that never needed the
module is graded as usual; a task that computes with it fails in its own
test. Imports of the assignment's own modules through the package name
(``from layers.losses import f``) become imports of the module itself, and a
module importing from itself loses that line.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from dataclasses import dataclass

STANDIN = "_grader_unavailable"
ALWAYS_AVAILABLE = frozenset({"numpy", "scipy"})
# one physical line, so that putting it into a student's file moves no other line
STANDIN_DEFINITION = (
    f"{STANDIN} = type('Unavailable', (), {{"
    "'__doc__': 'stands in for a module the grading sandbox does not offer', "
    "'__init__': lambda self, name='': None, "
    "'__getattr__': lambda self, name: (_ for _ in ()).throw(AttributeError(name)) "
    "if name.startswith('__') else self, "
    "'__call__': lambda self, *a, **k: a[0] if len(a) == 1 and (isinstance(a[0], "
    "(list, range, tuple)) or hasattr(a[0], '__next__')) else self, "
    "'__iter__': lambda self: iter((self, self)), "
    "'__getitem__': lambda self, key: self, "
    "'__setitem__': lambda self, key, value: None, "
    "'__enter__': lambda self: self, "
    "'__exit__': lambda self, *a: False, "
    "'__bool__': lambda self: False, "
    "'__repr__': lambda self: '<not available when grading>'})"
)
GET_IPYTHON = f"get_ipython = lambda: {STANDIN}('IPython')"


@dataclass(frozen=True)
class Offered:
    """What a student's module may import when graded."""

    modules: frozenset[str]  # top-level module names
    package: str  # the template's package name (``layers``)
    own: frozenset[str]  # the template's module names (``layers``, ``losses``)

    def has(self, dotted: str) -> bool:
        top = dotted.split(".")[0]
        return top in self.modules or top in self.own or top in sys.stdlib_module_names


def offered(template: dict[str, str], package: str) -> Offered:
    """The modules on offer for an assignment whose template modules are
    ``template`` (file name -> source)."""
    modules = set(ALWAYS_AVAILABLE)
    for source in template.values():
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    own = frozenset(name.removesuffix(".py") for name in template)
    return Offered(frozenset(modules), package, own)


@dataclass(frozen=True)
class Rewritten:
    text: str  # the statement that replaces the import ("" when it is left out)
    missing: str  # the unavailable module it stood for, or ""


def rewrite(node: ast.Import | ast.ImportFrom, offer: Offered, module: str) -> Rewritten | None:
    """What an import statement becomes in module ``module``; None to keep it."""
    if isinstance(node, ast.ImportFrom):
        if node.level or node.module is None:
            return None
        name = node.module
        parts = name.split(".")
        if parts[0] == offer.package and len(parts) == 2 and parts[1] in offer.own:
            name = parts[1]  # from layers.losses import f -> from losses import f
        if name == module:
            return Rewritten("pass", "")  # a module importing from itself
        if offer.has(name):
            if name == node.module:
                return None
            names = ", ".join(_alias(a) for a in node.names)
            return Rewritten(f"from {name} import {names}", "")
        bound = [a.asname or a.name for a in node.names if a.name != "*"]
        return Rewritten(_standins(bound, name), name)
    missing = [a for a in node.names if not offer.has(a.name)]
    if not missing:
        return None
    kept = [a for a in node.names if offer.has(a.name)]
    parts_text = [f"import {_alias(a)}" for a in kept]
    for alias in missing:
        binding = alias.asname or alias.name.split(".")[0]
        target = alias.name if alias.asname else alias.name.split(".")[0]
        parts_text.append(f"{binding} = {STANDIN}({target!r})")
    return Rewritten("; ".join(parts_text), missing[0].name)


def _alias(alias: ast.alias) -> str:
    return f"{alias.name} as {alias.asname}" if alias.asname else alias.name


def _standins(names: Iterable[str], module: str) -> str:
    return "; ".join(f"{n} = {STANDIN}({module + '.' + n!r})" for n in names) or "pass"


def rewrite_source(source: str, offer: Offered, module: str) -> tuple[str, list[str]]:
    """A whole student file with its unavailable top-level imports replaced in place
    (every other line keeps its number); returns the text and the modules
    that were not available."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source, []  # graded as it is: the import names the syntax error
    edits: list[tuple[ast.stmt, Rewritten]] = []
    for node in tree.body:  # an import inside a function fails only that function
        if isinstance(node, ast.Import | ast.ImportFrom):
            new = rewrite(node, offer, module)
            if new is not None:
                edits.append((node, new))
    if not edits:
        return source, []
    lines = source.splitlines(keepends=True)
    for node, new in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
        _replace(lines, node, new.text)
    missing = sorted({new.missing for _, new in edits if new.missing})
    text = "".join(lines)
    if missing:
        text = _with_definition(text, tree)
    return text, missing


def _replace(lines: list[str], node: ast.stmt, text: str) -> None:
    first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
    start = _column(lines[first], node.col_offset)
    end = _column(lines[last], node.end_col_offset or 0)
    padding = "\n" * (last - first)  # a multi-line import keeps its line count
    lines[first : last + 1] = [lines[first][:start] + text + padding + lines[last][end:]]


def _column(line: str, byte_offset: int) -> int:
    """ast's columns count UTF-8 bytes; the index into the str."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _with_definition(text: str, tree: ast.Module) -> str:
    """The stand-in's definition: on the line of the last ``from __future__``
    import when there is one (no line moves), else as a new first line."""
    future = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
    lines = text.splitlines(keepends=True)
    if future:
        node = future[-1]
        index = (node.end_lineno or node.lineno) - 1
        end = _column(lines[index], node.end_col_offset or 0)
        line = lines[index]
        lines[index] = line[:end] + "; " + STANDIN_DEFINITION + line[end:]
        return "".join(lines)
    return STANDIN_DEFINITION + "\n" + text
