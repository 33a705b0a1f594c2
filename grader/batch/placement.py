"""Lay a student's code into the template modules that define it.

A file named like a template module (``losses.py``) replaces it as it is.
Any other file, and every notebook, is read statement by statement: each
function and class goes, in place, into every template module that defines
that name (so one notebook may fill ``layers.py`` and ``losses.py`` at once),
and the rest of the template module (its imports, constants and given code)
stays. The student's imports, constants and helper functions go along into
each module the file fills; other top-level statements (plots, prints, a
training run, a gradient check) are left out, so nothing runs at import time.
A later definition of the same name wins, as it would in the notebook.

A cell or file that does not parse still counts: a task function it defines
raises the ``SyntaxError`` when graded, so the student reads what is wrong
instead of "not attempted".
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field

from grader.batch import standins
from grader.batch.notebook import NotebookError, code_cells

DEFINITION = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)
BUILTINS = frozenset(dir(builtins))
SHOWN = 8  # names listed per note


@dataclass
class Placement:
    """The modules to write and what the TA and student should know."""

    modules: dict[str, str]  # file name -> text, for every template module
    notes: list[str] = field(default_factory=list)
    used: list[str] = field(default_factory=list)  # files whose code was placed
    unreadable: list[str] = field(default_factory=list)  # "name: why"


@dataclass
class _Unit:
    label: str
    source: str


@dataclass
class _Parts:
    """What one file contributes, in the order it defines it."""

    defs: dict[str, str] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)  # name -> the SyntaxError text
    imports: list[str] = field(default_factory=list)
    early: list[str] = field(default_factory=list)  # constants needing only imports
    late: list[str] = field(default_factory=list)  # constants naming other definitions
    missing: set[str] = field(default_factory=set)
    dropped: int = 0
    unparsed: list[str] = field(default_factory=list)


def place(files: dict[str, bytes], template: dict[str, str], package: str) -> Placement:
    """Lay ``files`` (name -> bytes, already UTF-8) over ``template``."""
    offer = standins.offered(template, package)
    result = Placement(dict(template))
    routed: list[tuple[str, list[_Unit]]] = []
    for name, data in sorted(files.items()):
        text = data.decode("utf-8", errors="replace")
        if name.endswith(".ipynb"):
            try:
                cells = code_cells(data)
            except NotebookError as exc:
                result.unreadable.append(f"{name}: {exc}")
                continue
            routed.append((name, [_Unit(f"{name} cell {c.number}", c.source) for c in cells]))
        elif name in template:
            module = name.removesuffix(".py")
            result.modules[name], missing = standins.rewrite_source(text, offer, module)
            result.used.append(name)
            result.notes += [_missing_note(name, m) for m in missing]
        else:
            routed.append((name, [_Unit(name, text)]))
    for name, units in routed:
        _route(name, units, offer, result)
    return result


def _missing_note(name: str, module: str) -> str:
    return f"{name}: {module} is not available when grading; its uses do nothing"


def _route(name: str, units: list[_Unit], offer: standins.Offered, result: Placement) -> None:
    parts = _parts(units, offer)
    owners: dict[str, list[str]] = {}
    for module, text in result.modules.items():
        for defined in _defined(text):
            owners.setdefault(defined, []).append(module)
    wanted = [n for n in [*parts.defs, *parts.broken] if n in owners]
    if not wanted:
        what = "defines none of the assignment's functions" + (
            f" ({'; '.join(parts.unparsed)})" if parts.unparsed else ""
        )
        result.notes.append(f"{name} {what}; ignored")
        return
    helpers = {n: t for n, t in parts.defs.items() if n not in owners}
    for module in sorted({m for n in wanted for m in owners[n]}):
        mine = [n for n in wanted if module in owners[n]]
        result.modules[module] = _compose(result.modules[module], module, parts, helpers, mine)
        shown = ", ".join(mine[:SHOWN]) + (", ..." if len(mine) > SHOWN else "")
        result.notes.append(f"{name}: {shown} graded in {module}")
    result.used.append(name)
    result.notes += [_missing_note(name, m) for m in sorted(parts.missing)]
    result.notes += [f"{p}; left out" for p in parts.unparsed]
    if parts.dropped:
        result.notes.append(
            f"{name}: {parts.dropped} top-level statements (plots, prints, experiments) left "
            "out; only definitions, imports and constants are graded"
        )


def _parts(units: list[_Unit], offer: standins.Offered) -> _Parts:
    parts = _Parts()
    bound = set(BUILTINS)
    for unit in units:
        try:
            tree = ast.parse(unit.source)
        except (SyntaxError, ValueError) as exc:
            message = f"{unit.label} does not parse: {getattr(exc, 'msg', exc)}"
            if isinstance(exc, SyntaxError) and exc.lineno:
                message += f" (line {exc.lineno})"
            names = DEFINITION.findall(unit.source)
            for defined in names:
                parts.broken[defined] = message
                parts.defs.pop(defined, None)
            if not names and unit.source.strip():
                parts.unparsed.append(message)
            continue
        lines = unit.source.splitlines()
        for node in tree.body:
            text = _segment(lines, node)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                parts.defs.pop(node.name, None)  # a redefinition moves to the end
                parts.defs[node.name] = text
                parts.broken.pop(node.name, None)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                    continue
                new = standins.rewrite(node, offer, "")
                if new is not None and new.missing:
                    parts.missing.add(new.missing)
                statement = text if new is None else new.text
                if statement not in parts.imports:
                    parts.imports.append(statement)
                if not _own(node, offer):  # may be dropped as a module's import of itself
                    bound.update(_bound_by_import(node))
            elif _constant(node):
                used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                targets = _targets(node)
                (parts.early if used - targets <= bound else parts.late).append(text)
                bound.update(targets)
            else:
                parts.dropped += 1
    return parts


def _segment(lines: list[str], node: ast.stmt) -> str:
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    return "\n".join(lines[first - 1 : node.end_lineno or node.lineno])


def _own(node: ast.Import | ast.ImportFrom, offer: standins.Offered) -> bool:
    names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    return (
        node.level > 0
        if isinstance(node, ast.ImportFrom) and node.level
        else any(n.split(".")[0] in offer.own | {offer.package} for n in names)
    )


def _bound_by_import(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        return {a.asname or a.name.split(".")[0] for a in node.names}
    return {a.asname or a.name for a in node.names}


def _targets(node: ast.stmt) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)}


def _constant(node: ast.stmt) -> bool:
    """An assignment whose value calls nothing (lambdas may: their bodies do
    not run at import): ``EPS = 1e-8``, ``LOSSES = {"mse": mse_loss}``."""
    if not isinstance(node, ast.AnnAssign | ast.Assign) or node.value is None:
        return False
    return not _calls(node.value)


def _calls(node: ast.AST) -> bool:
    if isinstance(node, ast.Lambda):
        return _calls(node.args)
    if isinstance(node, ast.Call | ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr):
        return True
    if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        return True
    return any(_calls(child) for child in ast.iter_child_nodes(node))


def _defined(text: str) -> list[str]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []  # a module of the student's that does not parse takes no more code
    return [
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]


def _stub(name: str, kind: type[ast.stmt], message: str) -> str:
    if kind is ast.ClassDef:
        return (
            f"class {name}:\n    def __init__(self, *args, **kwargs):\n"
            f"        raise SyntaxError({message!r})\n"
        )
    return f"def {name}(*args, **kwargs):\n    raise SyntaxError({message!r})\n"


def _compose(
    base: str, module: str, parts: _Parts, helpers: dict[str, str], names: list[str]
) -> str:
    """``base`` with ``names`` replaced in place and the file's imports,
    constants and helpers put before the first definition."""
    tree = ast.parse(base)
    lines = base.splitlines()
    chosen = set(names)
    offer_module = module.removesuffix(".py")
    imports = [
        i for i in parts.imports if not re.match(rf"^from {re.escape(offer_module)} import ", i)
    ]
    preamble = [*imports, *parts.early, *helpers.values()]
    standin = any(standins.STANDIN in t for t in preamble + [parts.defs.get(n, "") for n in names])
    ipython = any("get_ipython" in t for t in [*preamble, *(parts.defs.get(n, "") for n in names)])
    head = ([standins.STANDIN_DEFINITION] if standin or ipython else []) + (
        [standins.GET_IPYTHON] if ipython else []
    )
    insert_at = len(lines)
    edits: list[tuple[int, int, str]] = []
    for index, node in enumerate(tree.body):
        docstring = (
            index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        )
        if insert_at == len(lines) and not (
            docstring or isinstance(node, ast.Import | ast.ImportFrom)
        ):
            decorators = getattr(node, "decorator_list", [])
            insert_at = min([node.lineno, *(d.lineno for d in decorators)]) - 1
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.name in chosen
        ):
            decorators = getattr(node, "decorator_list", [])
            first = min([node.lineno, *(d.lineno for d in decorators)]) - 1
            if node.name in parts.broken and node.name not in parts.defs:
                text = _stub(node.name, type(node), parts.broken[node.name])
            else:
                text = parts.defs[node.name]
            edits.append((first, node.end_lineno or node.lineno, text))
    out = list(lines)
    for first, last, text in sorted(edits, reverse=True):
        out[first:last] = [text]
    # the insertion point comes before every replaced definition, so it did not move
    block = [*head, *preamble]
    if block:
        out[insert_at:insert_at] = ["", *block, ""]
    if parts.late:
        out += ["", *parts.late]
    return "\n".join(out) + "\n"
