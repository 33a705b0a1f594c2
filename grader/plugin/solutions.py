"""The reference solution of an assignment, imported privately in the
trusted process: its task functions, their solution blocks, and variants of
them compiled from syntax trees (mutants, or the function with its calls
watched).

Nothing here runs student code; the variants run in the reference module's
own namespace, so the names a solution uses (numpy, given helpers, other
tasks' functions) are the reference's.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.machinery
import importlib.util
import inspect
import itertools
import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from grader.course import templates
from grader.course.mutants import HOOK, Solution, solution

_counter = itertools.count()

Hook = Callable[..., Any]


class Reference:
    """One assignment's reference folder, imported under a private package name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.package = f"_grader_reference_{next(_counter)}"
        spec = importlib.machinery.ModuleSpec(self.package, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
        sys.modules[self.package] = importlib.util.module_from_spec(spec)
        self.tasks = templates.tasks(folder)
        self.by_target = {f"{t.module}.{t.qualname}": t for t in self.tasks}
        self.by_id = {t.id: t for t in self.tasks}
        self._modules: dict[str, ModuleType] = {}
        self._solutions: dict[str, Solution | None] = {}
        self._instrumented: dict[str, tuple[CodeType, str] | None] = {}

    def module(self, stem: str) -> ModuleType:
        if stem not in self._modules:
            self._modules[stem] = importlib.import_module(f"{self.package}.{stem}")
        return self._modules[stem]

    def function(self, task: templates.Task) -> Callable[..., Any]:
        """The reference's own function of a task (a method as a plain function)."""
        value: Any = self.module(task.module)
        for part in task.qualname.split("."):
            value = (
                inspect.getattr_static(value, part)
                if isinstance(value, type)
                else getattr(value, part)
            )
        return value  # type: ignore[no-any-return]

    def parameters(self, task: templates.Task) -> list[str]:
        """The parameter names the handout gives the task's function (without self)."""
        try:
            names = list(inspect.signature(self.function(task)).parameters)
        except (TypeError, ValueError):
            return []
        return [n for n in names if n != "self"]

    def solution(self, task: templates.Task) -> Solution | None:
        if task.id not in self._solutions:
            path = self.folder / f"{task.module}.py"
            self._solutions[task.id] = solution(path.read_text(), task.qualname, str(path))
        return self._solutions[task.id]

    def compile(
        self, task: templates.Task, tree: ast.FunctionDef, hook: Hook | None = None
    ) -> Callable[..., Any]:
        """The function of ``tree`` defined in the task's reference module;
        ``hook`` receives every call when the tree was instrumented."""
        return self._define(task, self._code(tree), tree.name, hook)

    def instrumented(self, task: templates.Task, hook: Hook) -> Callable[..., Any] | None:
        """The reference's function of the task with every call it makes
        passed to ``hook`` (None: it has no solution block). Compiled once
        per task: a training loop's checks ask for it hundreds of times."""
        if task.id not in self._instrumented:
            solution = self.solution(task)
            tree = solution.instrumented() if solution is not None else None
            self._instrumented[task.id] = (
                (self._code(tree), tree.name) if tree is not None else None
            )
        compiled = self._instrumented[task.id]
        return self._define(task, *compiled, hook) if compiled is not None else None

    def _code(self, tree: ast.FunctionDef) -> CodeType:
        return compile(
            ast.Module(body=[tree], type_ignores=[]), str(self.folder / "<variant>"), "exec"
        )

    def _define(
        self, task: templates.Task, code: CodeType, name: str, hook: Hook | None
    ) -> Callable[..., Any]:
        module = self.module(task.module)
        namespace = dict(vars(module))
        if hook is not None:
            namespace[HOOK] = hook
        exec(code, namespace)  # trusted: the reference's own code, one node changed
        function = namespace[name]
        function.__qualname__ = task.qualname
        function.__module__ = module.__name__
        return function  # type: ignore[no-any-return]

    def task_of(self, value: Any) -> tuple[templates.Task | None, Any]:
        """(task, bound self) of a callable that is some version of a task's
        function: the student's, a grading-mode proxy, the reference's or a
        variant of it; (None, None) for anything else."""
        owner = getattr(value, "__self__", None)
        function = getattr(value, "__func__", value)
        target = getattr(function, "_grader_target", None)
        if not isinstance(target, str):
            module = getattr(function, "__module__", None)
            qualname = getattr(function, "__qualname__", None)
            if not isinstance(module, str) or not isinstance(qualname, str):
                return None, None
            target = f"{module.rsplit('.', 1)[-1]}.{qualname}"
        task = self.by_target.get(target)
        if task is None:
            return None, None
        return task, owner if "." in task.qualname else None


@functools.lru_cache(maxsize=8)
@functools.cache
def open_reference(folder: Path) -> Reference:
    """One private import per reference folder and process: a grading run
    judges hundreds of calls against it, each test's checker names from it."""
    return Reference(folder)


def find_reference(test_file: Path | None, handle: Any) -> Path | None:
    """The reference folder: the one grading mode runs the given code from,
    else ``reference/<assignment>`` in a folder above the test file (a course
    checkout; a student's handout has none, and then nothing is named from it)."""
    given = vars(handle).get("reference") if handle is not None else None
    if isinstance(given, Path) and given.is_dir():
        return given.resolve()
    if test_file is None:
        return None
    assignment = test_file.resolve().parent.parent.name
    for ancestor in test_file.resolve().parents:
        candidate = ancestor / "reference" / assignment
        if candidate.is_dir() and any(candidate.glob("*.py")):
            return candidate
    return None
