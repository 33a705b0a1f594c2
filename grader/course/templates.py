"""Generate student templates from the reference solutions.

In ``reference/<assignment>/*.py`` every blank sits inside a task function
(whose docstring says ``Task X.Y (P points).``) between ``# BEGIN SOLUTION``
and ``# END SOLUTION``. The template replaces each block with one line that
raises the "not attempted" exception (``BLANK``) naming the task, so the
template and the reference can never drift apart, and the grader reports an
untouched blank as "not attempted".
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path

TASK_RE = re.compile(r"Task (\d+\.\d+) \((\d+(?:\.\d+)?) points?\)\.")
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
# the line a blank becomes in the student's template
BLANK = "raise " + NotImplementedError.__name__ + '("Task {task}: implement {name}")'


class TemplateError(Exception):
    """A reference file whose solution markers cannot be turned into a template."""


@dataclass(frozen=True)
class Task:
    id: str
    points: float
    name: str
    module: str
    summary: str
    qualname: str = ""


def tasks_in(source: str, module: str = "") -> dict[str, tuple[Task, ast.FunctionDef]]:
    """Functions and methods whose docstring names a task, by task id."""
    found: dict[str, tuple[Task, ast.FunctionDef]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            if not isinstance(node, ast.FunctionDef):
                continue
            doc = ast.get_docstring(node) or ""
            match = TASK_RE.search(doc)
            if match is None:
                continue
            if match[1] in found:
                raise TemplateError(f"{module}: Task {match[1]} is named by two functions")
            summary = doc.strip().splitlines()[0] if doc.strip() else node.name
            stem = module.removesuffix(".py")
            task = Task(match[1], float(match[2]), node.name, stem, summary, prefix + node.name)
            found[match[1]] = (task, node)

    visit(ast.parse(source).body, "")
    return found


def blocks(source: str, where: str = "") -> list[tuple[int, int, str]]:
    """(BEGIN line, END line, indent) of each solution block, 1-based."""
    found: list[tuple[int, int, str]] = []
    start: tuple[int, str] | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        stripped, indent = line.strip(), line[: len(line) - len(line.lstrip())]
        if stripped.startswith(BEGIN):
            if start is not None:
                raise TemplateError(f"{where}:{number}: BEGIN SOLUTION inside another block")
            start = (number, indent)
        elif stripped.startswith(END):
            if start is None or start[1] != indent:
                raise TemplateError(
                    f"{where}:{number}: END SOLUTION without a BEGIN SOLUTION at the same indent"
                )
            found.append((start[0], number, indent))
            start = None
    if start is not None:
        raise TemplateError(f"{where}:{start[0]}: BEGIN SOLUTION is never closed by END SOLUTION")
    return found


def strip(source: str, where: str = "") -> str:
    """The template of one reference module."""
    lines = source.splitlines()
    owners = sorted(
        (node.lineno, task.id, node.name) for task, node in tasks_in(source, where).values()
    )
    for begin, end, indent in reversed(blocks(source, where)):
        enclosing = [owner for owner in owners if owner[0] < begin]
        if not enclosing:
            raise TemplateError(
                f"{where}:{begin}: a solution block outside any function whose docstring says "
                "'Task X.Y (P points).'"
            )
        _, task_id, name = enclosing[-1]
        lines[begin - 1 : end] = [indent + BLANK.format(task=task_id, name=name)]
    return "\n".join(lines) + "\n"


def tasks(reference: Path) -> list[Task]:
    """Every task of one assignment's reference folder, in task order."""
    files = tuple((p, p.stat().st_mtime_ns) for p in sorted(reference.glob("*.py")))
    return list(_tasks(files))


@functools.lru_cache(maxsize=16)
def _tasks(files: tuple[tuple[Path, int], ...]) -> tuple[Task, ...]:
    """Parsed once per version of the files (a batch worker asks per submission)."""
    found = []
    for path, _ in files:
        found += [task for task, _ in tasks_in(path.read_text(), path.name).values()]
    return tuple(sorted(found, key=lambda t: tuple(int(p) for p in t.id.split("."))))


def render(reference: Path) -> dict[str, str]:
    """File name -> template text for one assignment."""
    return {
        path.name: strip(path.read_text(), str(path)) for path in sorted(reference.glob("*.py"))
    }


def write(reference: Path, target: Path) -> list[Path]:
    """Write the templates of one assignment into ``target``; returns the files."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render(reference).items():
        path = target / name
        path.write_text(text)
        written.append(path)
    return written


def stale(reference: Path, target: Path) -> list[str]:
    """Template files that differ from a fresh generation (or are missing)."""
    problems = []
    for name, text in render(reference).items():
        path = target / name
        if not path.exists():
            problems.append(f"{path} is missing")
        elif path.read_text() != text:
            problems.append(f"{path} differs from the template of {reference / name}")
    return problems
