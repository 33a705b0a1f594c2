"""The reference can be turned into student templates: marked blocks are well formed,
each sits in a function whose docstring states ``Task X.Y (P points).``, and the
stripped templates import and raise NotImplementedError from every blank.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from pathlib import Path

import pytest

from grader.course import templates

REFERENCE = Path(__file__).resolve().parents[2] / "reference"
ASSIGNMENTS = {"layers": 1, "spiral": 2, "moons": 3, "digits": 4}
THIRD_PARTY = {"numpy", "scipy", "sklearn"}


def task_functions(source: str) -> dict[str, ast.FunctionDef]:
    """Functions and methods whose docstring names a task, by task id."""
    return {task_id: node for task_id, (_, node) in templates.tasks_in(source).items()}


def modules(assignment: str) -> list[Path]:
    return sorted((REFERENCE / assignment).glob("*.py"))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_block_sits_at_the_end_of_a_task_function(assignment: str) -> None:
    all_tasks: list[str] = []
    for path in modules(assignment):
        source = path.read_text()
        tasks = task_functions(source)
        spans = templates.blocks(source)
        assert len(spans) == len(tasks), f"{path.name}: {len(spans)} blocks, {len(tasks)} tasks"
        for task, node in tasks.items():
            assert int(task.split(".")[0]) == ASSIGNMENTS[assignment], f"{path.name}: Task {task}"
            last = node.end_lineno or 0  # the last statement; the END comment follows it
            inside = [s for s in spans if node.lineno < s[0] < last]
            assert len(inside) == 1, f"{path.name}: {node.name} needs exactly one block"
            docstring_end = node.body[0].end_lineno or 0
            assert docstring_end < inside[0][0], f"{node.name}: block before the docstring ends"
            assert inside[0][1] == last + 1, f"{node.name}: code after END SOLUTION"
        all_tasks += tasks
    assert all_tasks, f"{assignment} has no tasks"
    numbers = sorted(int(t.split(".")[1]) for t in all_tasks)
    assert numbers == list(range(1, len(numbers) + 1)), f"{assignment}: task numbers {numbers}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_imports_stay_inside_the_assignment(assignment: str) -> None:
    for path in modules(assignment):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in THIRD_PARTY or top in sys.stdlib_module_names, (
                    f"{path.name}: import {name}"
                )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_stripped_templates_import_and_raise(
    assignment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = f"template_{assignment}"
    (tmp_path / package).mkdir()
    for path in modules(assignment):
        template = templates.strip(path.read_text())
        assert "SOLUTION" not in template
        (tmp_path / package / path.name).write_text(template)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        for path in modules(assignment):
            module = importlib.import_module(f"{package}.{path.stem}")
            for task, node in task_functions(path.read_text()).items():
                function = getattr(module, node.name, None)
                if function is None:  # a method; importing the module already compiled it
                    continue
                n_args = sum(
                    p.default is inspect.Parameter.empty
                    for p in inspect.signature(function).parameters.values()
                )
                with pytest.raises(
                    NotImplementedError, match=f"Task {re.escape(task)}: implement {node.name}"
                ):
                    function(*[None] * n_args)
    finally:
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]
