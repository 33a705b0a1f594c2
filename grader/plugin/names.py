"""The student's own names in a check's messages.

A check speaks in the handout's names (``dout``, ``x``, ``dx``); a student
who wrote ``def relu_backward(da, a): return da * (da > 0)`` has none of
them. Both functions are read from their source (parsed, never run, so this
works in grading mode too, on the submission's files): parameters by
position, a parameter unpacked or renamed (``x, w, b = cache``), the names a
``return`` gives its values. A handout name the student's function has
stays; one it maps to becomes the student's; any other becomes what it
stands for ("the upstream gradient"), so a message never names a variable
the student's function does not have.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.gradcheck.result import CheckResult, Diagnosis

# words of the messages themselves, never a variable to rename
PROSE = frozenset(
    {"a", "an", "and", "as", "at", "be", "by", "do", "for", "if", "in", "is", "it", "no"}
    | {"not", "of", "on", "or", "so", "the", "to", "up", "N", "I"}
)
# what a handout name stands for, when the student's function has no name for it
ROLES = {
    "dout": "the upstream gradient",
    "out": "the output",
    "x": "the input",
    "cache": "the cache",
    "y": "the labels",
}
TOKEN = re.compile(r"(?<![\w.'\"])([A-Za-z_]\w*)(?![\w'\"])")
# handout names that are English words too: renamed only inside a formula
# ("out * (1 - out)", "out is already sigmoid(x)"), never in prose ("left out")
ENGLISH = frozenset({"out"})
FORMULA_BEFORE = re.compile(r"[(\[*+\-/=<>,] ?$|where $")
FORMULA_AFTER = re.compile(r"^ ?[)\]*+\-/=<>,\[]|^ is already")
MAX_SOURCE = 2_000_000  # characters; a longer module is not read


@dataclass(frozen=True)
class Names:
    """The names of one function, read from its syntax tree."""

    parameters: tuple[str, ...]
    bound: frozenset[str]
    unpacked: dict[str, tuple[str | None, ...]] = field(default_factory=dict)
    returned: tuple[str | None, ...] = ()


def read(source: str, qualname: str) -> Names | None:
    """The names of the function ``qualname`` (``Class.method``) in ``source``;
    None when the source does not parse or has no such function."""
    if len(source) > MAX_SOURCE:
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    body: list[ast.stmt] = tree.body
    found: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    for part in qualname.split("."):
        node = next(
            (
                n
                for n in body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and n.name == part
            ),
            None,
        )
        if node is None:
            return None
        body = node.body
        found = node if not isinstance(node, ast.ClassDef) else None
    return _names(found) if found is not None else None


def read_file(path: Path, qualname: str) -> Names | None:
    """The names of ``qualname`` in a submission's file: a regular file of
    bounded size only (a link may point anywhere on the grading machine)."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_SOURCE:
            return None
        return read(path.read_text(encoding="utf-8", errors="replace"), qualname)
    except OSError:
        return None


def _names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Names:
    arguments = function.args
    parameters = tuple(
        a.arg for a in [*arguments.posonlyargs, *arguments.args] if a.arg not in ("self", "cls")
    )
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    bound = {a.arg for a in every}
    unpacked: dict[str, tuple[str | None, ...]] = {}
    returned: tuple[str | None, ...] = ()
    try:
        nodes = list(ast.walk(function))
    except RecursionError:
        nodes = []
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            source = node.value
            if isinstance(source, ast.Name) and source.id in parameters:
                unpacked.setdefault(source.id, _targets(node.targets[0]))
        elif isinstance(node, ast.Return) and node.value is not None:
            returned = _targets(node.value)
    return Names(parameters, frozenset(bound), unpacked, returned)


def _targets(node: ast.expr) -> tuple[str | None, ...]:
    """``x, w, b`` -> ("x", "w", "b"); a single name -> (name,); None for an expression."""
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(e.id if isinstance(e, ast.Name) else None for e in node.elts)
    return (node.id,) if isinstance(node, ast.Name) else (None,)


@dataclass(frozen=True)
class Renaming:
    """Handout names -> the student's words, and the student's own names."""

    words: dict[str, str]
    own: frozenset[str]

    def apply(self, text: str) -> str:
        def word(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in PROSE:
                return name
            if name in ENGLISH:
                before, after = text[: match.start()], text[match.end() :]
                if not (FORMULA_BEFORE.search(before) or FORMULA_AFTER.match(after)):
                    return name
            return self.words.get(name, name)

        said = TOKEN.sub(word, text)
        if said.startswith("the ") and not text.startswith("the "):  # a sentence's first word
            return "The " + said[4:]
        return said


def renaming(
    handout: Names,
    student: Names,
    grads: dict[str, str] | None = None,
    vocabulary: frozenset[str] = frozenset(),
) -> Renaming:
    """How to say ``handout``'s names, the check's gradients ``grads`` (each
    with the input it differentiates: ``{"dx": "x"}``) and ``vocabulary``
    (the check's own words such as ``dout``, ``out``) in ``student``'s."""
    grads = grads or {}
    words: dict[str, str] = {}
    for mine, theirs in zip(handout.parameters, student.parameters, strict=False):
        words[mine] = theirs
        inner, outer = handout.unpacked.get(mine, ()), student.unpacked.get(theirs, ())
        if len(inner) == 1 and not outer:  # x = cache, and the student uses the cache itself
            outer = (theirs,)
        if len(inner) == len(outer):
            words.update({a: b for a, b in zip(inner, outer, strict=True) if a and b})
    if len(handout.returned) == len(student.returned):
        pairs = zip(handout.returned, student.returned, strict=True)
        words.update({a: b for a, b in pairs if a and b})
    returned = {n for n in handout.returned if n}
    unpacked = {n for names in handout.unpacked.values() for n in names if n}
    interface = set(handout.parameters) | unpacked | returned
    names = (interface | vocabulary) - set(grads)
    for name in sorted(names):
        words.setdefault(name, _say(name, student, returned))
    for grad, param in grads.items():
        if grad in words:
            continue
        if grad in student.bound:
            words[grad] = grad
        else:
            words[grad] = f"the gradient of {words.get(param, param)}"
    return Renaming({k: v for k, v in words.items() if k != v and k not in PROSE}, student.bound)


def _say(name: str, student: Names, returned: set[str]) -> str:
    """A handout name the student's function has no counterpart of."""
    if name in student.bound:
        return name
    if name in returned:
        return "the returned gradient" if len(returned) == 1 else "a returned gradient"
    return ROLES.get(name, f"the handout's {name}")


def renamed(result: CheckResult, renaming: Renaming) -> CheckResult:
    """``result`` with every message and gradient name in the student's words."""
    say = renaming.apply

    def diagnosis(found: Diagnosis | None) -> Diagnosis | None:
        if found is None:
            return None
        tensor = say(found.tensor) if found.tensor is not None else None
        return replace(found, message=say(found.message), tensor=tensor)

    tensors = tuple(
        replace(t, name=say(t.name), param=say(t.param), diagnosis=diagnosis(t.diagnosis))
        for t in result.tensors
    )
    return replace(
        result, message=say(result.message), diagnosis=diagnosis(result.diagnosis), tensors=tensors
    )
