"""Every assignment, end to end: committed templates match the reference,
the blank template reads "not attempted" everywhere, the handout holds no
solution and passes with full points once the reference is pasted in, the
hidden tests pass on the reference, and each example submission keeps the
template's given code and gets the outcome it is meant to get."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course import templates
from grader.course.release import leaks, release

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "assignments").iterdir() if (p / "tests").is_dir())
EXAMPLES = [
    (a, name)
    for a in ASSIGNMENTS
    if (ROOT / "examples" / "submissions" / a / "expected.json").exists()
    for name in json.loads((ROOT / "examples/submissions" / a / "expected.json").read_text())
]


def grade(folder: Path, out: Path, *args: str) -> dict:
    """Run pytest in an assignment or handout folder; return its results.json."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "grader_report=",
            f"--grader-json={out}",
            *args,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(out.read_text())


def tasks(results: dict) -> dict[str, dict]:
    return {t["id"]: t for t in results["extra_data"]["backprop_grader"]["tasks"]}


def diagnosis_of(results: dict, task: str) -> str | None:
    for test in results["tests"]:
        extra = test["extra_data"]
        if extra["task"] == task and test["status"] == "failed" and extra["diagnosis"]:
            return extra["diagnosis"]["code"]
    return None


def reference_tasks(assignment: str) -> dict[str, float]:
    return {t.id: t.points for t in templates.tasks(ROOT / "reference" / assignment)}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_templates_match_a_fresh_generation(assignment):
    assert (
        templates.stale(
            ROOT / "reference" / assignment, ROOT / "assignments" / assignment / assignment
        )
        == []
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_template_reads_not_attempted_for_every_task(assignment, tmp_path):
    results = grade(ROOT / "assignments" / assignment, tmp_path / "r.json")
    rows = tasks(results)
    assert set(rows) == set(reference_tasks(assignment))
    assert {row["status"] for row in rows.values()} == {"not attempted"}
    assert results["score"] == 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_handout_has_no_solution_and_passes_with_the_reference_pasted_in(assignment, tmp_path):
    handout = tmp_path / "handout"
    files = release(assignment, handout, ROOT / "assignments", ROOT / "reference", force=False)
    names = {p.relative_to(handout).parts[0] for p in files}
    assert names <= {
        assignment,
        "tests",
        "README.md",
        "pytest.ini",
        "INSTALL.md",
        "requirements.txt",
        *(wheel.name for wheel in handout.glob("backprop_grader-*.whl")),  # to install from
    }
    assert "hidden" not in names and "reference" not in names
    assert not any(p.suffix == ".py" and p.parent.name == "reference" for p in files)
    assert leaks(handout, ROOT / "reference" / assignment) == []
    for path in (ROOT / "reference" / assignment).glob("*.py"):
        shutil.copy(path, handout / assignment / path.name)
    results = grade(handout, tmp_path / "r.json")
    rows = tasks(results)
    assert {row["status"] for row in rows.values()} == {"passed"}, rows
    assert results["score"] == results["max_score"]
    points = {task_id: row["max_score"] for task_id, row in rows.items()}
    assert points == reference_tasks(assignment), "public test points must match the docstrings"


@pytest.mark.parametrize(
    "assignment", [a for a in ASSIGNMENTS if (ROOT / "assignments" / a / "hidden").is_dir()]
)
def test_hidden_tests_pass_on_the_reference(assignment, tmp_path):
    results = grade(
        ROOT / "assignments" / assignment,
        tmp_path / "r.json",
        "hidden",
        f"--grader-submission={ROOT / 'reference' / assignment}",
    )
    assert results["tests"], "no hidden tests ran"
    assert all(t["visibility"] == "after_due_date" for t in results["tests"])
    assert results["score"] == results["max_score"], results["output"]


@pytest.mark.parametrize(
    ("assignment", "submission"), EXAMPLES, ids=[f"{a}/{s}" for a, s in EXAMPLES]
)
def test_example_submission_gets_its_expected_outcome(assignment, submission, tmp_path):
    folder = ROOT / "examples" / "submissions" / assignment
    expected = json.loads((folder / "expected.json").read_text())[submission]
    results = grade(
        ROOT / "assignments" / assignment,
        tmp_path / "r.json",
        f"--grader-submission={folder / submission}",
        f"--grader-tasks={','.join(expected)}",
    )
    rows = tasks(results)
    for task_id, want in expected.items():
        assert rows[task_id]["status"] == want["status"], (task_id, rows[task_id])
        if want.get("diagnosis"):
            assert diagnosis_of(results, task_id) == want["diagnosis"], (task_id, rows[task_id])
        for name in want.get("forbid", []):  # names the student's function does not have
            said = [t["output"] for t in results["tests"] if t["extra_data"]["task"] == task_id]
            pattern = rf"(?<![\w.'\"]){re.escape(name)}\b"
            assert not [text for text in said if re.search(pattern, text)], (name, said)


def given_code(source: str, tasks: set[str]) -> str:
    """The module with each task function (by qualname) left out but its name:
    what the student is given. A student may rename a task's parameters and
    drop its docstring; everything else is the template's."""
    tree = ast.parse(source)

    def blank(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                blank(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.FunctionDef) and f"{prefix}{node.name}" in tasks:
                node.body = [ast.Pass()]
                node.args = ast.arguments(
                    posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]
                )
                node.returns = None

    blank(tree.body, "")
    return ast.dump(tree)


@pytest.mark.parametrize(
    ("assignment", "submission"), EXAMPLES, ids=[f"{a}/{s}" for a, s in EXAMPLES]
)
def test_example_submission_keeps_the_templates_given_code(assignment, submission):
    """Only task functions are written by the student: a change to given code (a
    training loop, say) must reach every example, as it reaches the template."""
    template = ROOT / "assignments" / assignment / assignment
    folder = ROOT / "examples" / "submissions" / assignment / submission
    for path in sorted(folder.glob("*.py")):
        given = template / path.name
        assert given.exists(), f"{path.name} is not a module of the template"
        tasks = {t.qualname for t, _ in templates.tasks_in(given.read_text(), given.name).values()}
        assert given_code(path.read_text(), tasks) == given_code(
            given.read_text(), tasks
        ), f"{path.name}: the given code differs from {given.relative_to(ROOT)}"
