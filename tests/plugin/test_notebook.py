"""grader.notebook.check: a task's card or the scoreboard, on the modules as
they are now; and a real notebook executed by a Jupyter kernel."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from handouts import SUBMISSION, TESTS

from grader.notebook import CheckError, Scoreboard, TaskCard, check

RELU = "def relu_backward(dout, cache):\n    return dout * (cache > 0)\n"
BLANK = (
    "def relu_backward(dout, cache):\n"
    '    raise NotImplementedError("Task 1.2: implement relu_backward")\n'
)


@pytest.fixture
def handout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small handout (pytest.ini, tests/, the homework package), the kernel's
    folder being the handout's."""
    folder = tmp_path / "demo"
    (folder / "tests").mkdir(parents=True)
    (folder / "hw").mkdir()
    (folder / "hw" / "__init__.py").write_text("")
    (folder / "hw" / "homework.py").write_text(SUBMISSION)
    (folder / "tests" / "test_homework.py").write_text(TESTS)
    (folder / "pytest.ini").write_text(
        "[pytest]\ntestpaths = tests\ngrader_submission = hw\ngrader_assignment = demo\n"
        "grader_report = report.html\n"
    )
    monkeypatch.chdir(folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def test_check_one_task_shows_its_card(handout):
    card = check("1.2")
    assert isinstance(card, TaskCard)
    assert card.status == "not attempted"
    text = repr(card)
    assert text.startswith("Task 1.2 relu_backward: 0/2 not attempted")
    html = card._repr_html_()
    assert "Task 1.2" in html and "relu_backward" in html and "not attempted" in html
    assert not (handout / "report.html").exists()  # one task: the homework's report is kept


def test_check_sees_the_students_latest_edit(handout, monkeypatch):
    monkeypatch.setattr("sys.dont_write_bytecode", False)  # as on a student's machine
    assert check("1.2").status == "not attempted"
    edit(handout / "hw" / "homework.py", BLANK, RELU)
    assert check("1.2").status == "passed"
    # the same size and the same second: a cached .pyc would look up to date
    module = handout / "hw" / "homework.py"
    before = module.stat()
    edit(module, RELU, RELU.replace("> 0", "< 0"))
    os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert check("1.2").status == "failed"


def test_check_every_task_shows_the_scoreboard(handout):
    board = check()
    assert isinstance(board, Scoreboard)
    assert (board.score, board.max_score) == (3, 9)
    text = repr(board)
    assert "Total" in text and "3/9" in text
    assert "1.1 linear_backward: dw has the right values but transposed" in " ".join(text.split())
    html = board._repr_html_()
    assert "<table" in html and "transposed" in html and "3/9" in html
    assert (handout / "report.html").is_file()


def test_a_failure_card_names_the_mistake_and_the_worst_element(handout):
    text = " ".join(repr(check("1.1")).split())
    assert "dw has the right values but transposed" in text
    edit(handout / "hw" / "homework.py", "(1 - cache ** 2)", "(1 - cache)")
    card = check("1.3")
    assert card.status == "failed"
    text = " ".join(repr(card).split())
    assert "dx: worst at [" in text and "expected" in text and ", got " in text


def test_html_is_escaped(handout):
    edit(
        handout / "hw" / "homework.py",
        "return x.reshape(7, 7)",
        'raise ValueError("<script>alert(1)</script>")',
    )
    html = check("1.4")._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_check_from_the_homework_package_and_from_elsewhere(handout, monkeypatch, tmp_path):
    monkeypatch.chdir(handout / "hw")
    assert check("1.3").status == "passed"
    monkeypatch.chdir(tmp_path)
    assert check("1.3", folder=handout).status == "passed"
    with pytest.raises(CheckError, match=r"no homework handout in .*folder='path/to/handout'"):
        check("1.3")


def test_bad_task_ids_are_one_line_errors(handout):
    with pytest.raises(CheckError, match=r"no test of task '9.9' \(tasks: 1.1, 1.2, 1.3, 1.4"):
        check("9.9")
    with pytest.raises(CheckError, match=r'write the task id as a string: check\("1.2"\)'):
        check(1.2)  # type: ignore[arg-type]


def test_a_real_notebook_runs_check_in_a_kernel(handout):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("from grader.notebook import check"),
        nbformat.v4.new_code_cell('check("1.1")'),
        nbformat.v4.new_code_cell("check()"),
    ]
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": handout}}
    )
    client.execute()
    card, board = notebook.cells[1].outputs, notebook.cells[2].outputs
    assert card[0]["output_type"] == "execute_result", card
    assert "Task 1.1" in card[0]["data"]["text/html"]
    assert "transposed" in card[0]["data"]["text/plain"]
    assert "<table" in board[0]["data"]["text/html"]


def test_tests_that_cannot_be_collected_are_a_one_line_error(handout):
    (handout / "tests" / "test_homework.py").write_text("def test_(:\n")
    with pytest.raises(CheckError, match=r"could not run the tests .*run pytest in "):
        check("1.2")
