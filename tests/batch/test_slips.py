"""A TA's slip stops the run before anything is graded, with one line that
names the thing and the fix; a student's unusable submission is that
student's row. The gradebook covers every submission ever graded into
--out. Progress fits the terminal."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from rich.console import Console

from grader.batch.grade import BatchError, Course, Options, run
from grader.batch.progress import BatchProgress

COURSE = Path(__file__).parent / "course"
RIGHT = (COURSE / "reference" / "mini" / "mini.py").read_text()


def quiet(_: str) -> None:
    pass


def student(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "mini.py").write_text(RIGHT)
    return folder


def grade(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", "grade", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def empty_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w"):
        pass
    return path


def docs_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("alice/report.pdf", b"%PDF")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t: t / "stduents", "stduents: no such file or folder; check the path"),
        (
            lambda t: (t / "class.rar").write_bytes(b"Rar!") and t / "class.rar",
            "class.rar: a .rar file; grader grade reads folders, .py and .ipynb files and .zip",
        ),
        (lambda t: empty_zip(t / "empty.zip"), "empty.zip: the archive is empty; re-download"),
        (lambda t: docs_zip(t / "docs.zip"), "docs.zip: the archive holds no .py, .ipynb or"),
    ],
)
def test_a_bad_path_stops_the_run_before_grading(tmp_path, make, message):
    good = student(tmp_path / "good")
    out = tmp_path / "out"
    done = grade(
        str(good), str(make(tmp_path)), "-a", "mini", "--course", str(COURSE), "--out", str(out)
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grader grade: ") and message in lines[0]
    assert not out.exists()  # nothing graded, nothing written


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--workers", "0"], "--workers must be at least 1 (got 0)"),
        (["--timeout", "0"], "--timeout must be a positive number of seconds (got 0)"),
        (["--memory", "10"], "--memory must be at least 64 (MB; got 10)"),
        (["--roster", "nope.csv"], "--roster nope.csv: no such file"),
        (["-a", "layres"], "unknown assignment 'layres': the course at"),
    ],
)
def test_a_bad_option_is_named(tmp_path, option, message):
    args = [str(student(tmp_path / "s")), "--course", str(COURSE), "--out", str(tmp_path / "o")]
    done = grade(*args, *(option if "-a" in option else ["-a", "mini", *option]))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    if "-a" in option:
        assert "has mini; pass one of them with -a" in done.stderr


@pytest.mark.parametrize("damage", ["missing", "stale"])
def test_a_missing_or_stale_template_module_stops_the_run(tmp_path, damage):
    course = tmp_path / "course"
    shutil.copytree(COURSE, course)
    module = course / "assignments" / "mini" / "mini" / "mini.py"
    if damage == "missing":
        module.unlink()
    else:
        module.write_text(module.read_text().replace("Task 1.2: implement", "Task 1.2: do"))
    with pytest.raises(BatchError, match=r"template module .*mini\.py (is missing|differs)"):
        run(
            [student(tmp_path / "s")],
            Course(course, "mini"),
            tmp_path / "out",
            Options(),
            log=quiet,
        )
    assert not (tmp_path / "out").exists()


def test_a_folder_without_code_is_an_empty_submission_not_not_attempted(tmp_path):
    folder = tmp_path / "bob"
    folder.mkdir()
    (folder / "answers.docx").write_bytes(b"PK")
    rows = run(
        [folder, student(tmp_path / "amy")],
        Course(COURSE, "mini"),
        tmp_path / "out",
        Options(),
        log=quiet,
    )
    bob = {r.id: r for r in rows}["bob"]
    assert bob.status_text == "empty submission: no .py or .ipynb files (found answers.docx)"
    book = {r[0]: r for r in csv.reader((tmp_path / "out" / "gradebook.csv").open())}
    assert book["bob"][3] == bob.status_text


def test_the_gradebook_and_summary_cover_every_run_into_the_same_out(tmp_path, monkeypatch):
    from grader.batch import gradebook

    summarized: list[list[str]] = []
    real = gradebook.write_summary

    def spy(out, rows, assignment):
        summarized.append([r.id for r in rows])
        return real(out, rows, assignment)

    monkeypatch.setattr(gradebook, "write_summary", spy)
    out = tmp_path / "out"
    course = Course(COURSE, "mini")
    run([student(tmp_path / "a" / "first")], course, out, Options(), log=quiet)
    rows = run([student(tmp_path / "b" / "second")], course, out, Options(), log=quiet)
    assert [r.id for r in rows] == ["second"]  # this run's rows
    book = list(csv.reader((out / "gradebook.csv").open()))
    assert [r[0] for r in book[1:]] == ["first", "second"]
    assert summarized == [["first"], ["first", "second"]]


def test_another_assignment_into_the_same_out_is_refused(tmp_path):
    out = tmp_path / "out"
    course = tmp_path / "course"
    shutil.copytree(COURSE, course)
    for folder in ("assignments", "reference"):
        shutil.copytree(course / folder / "mini", course / folder / "other")
    shutil.move(course / "assignments/other/mini", course / "assignments/other/other")
    run([student(tmp_path / "s")], Course(course, "mini"), out, Options(), log=quiet)
    with pytest.raises(BatchError, match="holds grades of mini; choose another --out for other"):
        run([student(tmp_path / "t")], Course(course, "other"), out, Options(), log=quiet)


def test_progress_redraws_one_line_that_fits_80_columns():
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=80, color_system=None)
    with BatchProgress(40, console=console) as progress:
        for i in range(40):
            progress.step(f"a-rather-long-submission-name-{i:03d}-" + "x" * 60)
    text = stream.getvalue()
    assert text.count("\n") <= 2  # not a line per submission
    frames = [f for f in text.replace("\r", "\n").split("\n") if "grading" in f]
    assert len(frames) >= 40
    import re

    visible = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", f) for f in frames]
    assert all(len(f) <= 80 for f in visible), max(visible, key=len)
    assert "40/40" in visible[-1]


def test_progress_off_a_terminal_is_one_final_line():
    stream = io.StringIO()
    with BatchProgress(5, console=Console(file=stream, force_terminal=False)) as progress:
        for i in range(5):
            progress.step(f"s{i}")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("graded 5/5 submissions in")
