"""Hostile intake: whatever a submission's files are, the batch completes,
each submission gets its own row with a status and a reason, the output
folder's own files stay files, nothing a student named reaches the TA's
terminal or a CSV cell raw, and only regular files are ever read."""

from __future__ import annotations

import csv
import io
import json
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.batch.grade import Course, Options, run
from grader.batch.printable import csv_cell, printable

COURSE = Path(__file__).parent / "course"
REFERENCE = COURSE / "reference" / "mini"
RIGHT = (REFERENCE / "mini.py").read_text()
CONTROL = {chr(c) for c in range(32)} | {"\x7f"} | {chr(c) for c in range(0x80, 0xA0)}


def quiet(_: str) -> None:
    pass


def right_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "mini.py").write_text(RIGHT)
    return folder


def results(out: Path, sub: str) -> dict:
    return json.loads((out / sub / "results.json").read_text())


def test_a_truncated_notebook_is_its_own_row_and_the_batch_completes(tmp_path):
    good = right_folder(tmp_path / "good")
    notebook = json.dumps({"cells": [{"cell_type": "code", "source": RIGHT}], "nbformat": 4})
    (tmp_path / "cut.ipynb").write_text(notebook[: len(notebook) // 2])
    out = tmp_path / "out"
    rows = {
        r.id: r
        for r in run(
            [good, tmp_path / "cut.ipynb"], Course(COURSE, "mini"), out, Options(), log=quiet
        )
    }
    assert rows["good"].score == 6
    assert rows["cut"].status == "unreadable submission" and rows["cut"].score == 0
    assert "cut.ipynb: the notebook is not valid JSON" in rows["cut"].reason
    assert "unreadable submission: cut.ipynb" in results(out, "cut")["tests"][0]["output"]
    book = list(csv.reader((out / "gradebook.csv").open()))
    assert [r[0] for r in book[1:]] == ["cut", "good"]
    assert book[1][3].startswith("unreadable submission: cut.ipynb: the notebook is not valid")


def test_a_zero_byte_scratch_notebook_inside_a_folder_is_skipped_with_a_note(tmp_path):
    student = right_folder(tmp_path / "alice")
    (student / "scratch.ipynb").write_bytes(b"")
    (student / "Untitled.ipynb").write_text('{"cells": [')
    rows = run([student], Course(COURSE, "mini"), tmp_path / "out", Options(), log=quiet)
    assert rows[0].score == 6
    assert "scratch.ipynb: the notebook is empty (0 bytes); ignored" in rows[0].notes
    assert any(
        n.startswith("Untitled.ipynb: the notebook is not valid JSON") for n in rows[0].notes
    )


@pytest.mark.parametrize(
    "names",
    [["journal.jsonl", "gradebook.csv", "summary.html", "staff.html"], ["JOURNAL.JSONL", "x"]],
)
def test_submission_ids_never_collide_with_the_output_folders_own_files(tmp_path, names):
    paths = [right_folder(tmp_path / "class" / name) for name in names]
    out = tmp_path / "out"
    rows = run(paths, Course(COURSE, "mini"), out, Options(), log=quiet)
    assert len(rows) == len(names) and all(r.score == 6 for r in rows)
    for own in ("journal.jsonl", "gradebook.csv", "summary.html"):
        assert (out / own).is_file(), own
    assert all("." not in r.id for r in rows)
    assert len(list(csv.reader((out / "gradebook.csv").open()))) == len(names) + 1
    # the next run reads the journal back whole
    again = run(paths, Course(COURSE, "mini"), out, Options(), log=quiet)
    assert [r.id for r in again] == [r.id for r in rows]


def test_ids_differing_only_in_case_get_their_own_folders(tmp_path):
    paths = [right_folder(tmp_path / "a" / "Alice"), right_folder(tmp_path / "b" / "alice")]
    rows = run(paths, Course(COURSE, "mini"), tmp_path / "out", Options(), log=quiet)
    assert sorted(r.id.casefold() for r in rows) == ["alice", "alice~2"]


def test_control_characters_never_reach_the_terminal_or_the_csv(tmp_path):
    """Escape sequences and newlines in folder and file names (two of them
    collide, so the duplicate warning names both origins)."""
    first = tmp_path / "class" / "eve\x1b]0;pwned\x07"
    second = tmp_path / "class" / "eve\r\n0;pwned"
    for folder in (first, second):
        folder.mkdir(parents=True)
        (folder / "hw\x1b[31m\n.py").write_text(RIGHT)
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(first),
        str(second),
        "-a",
        "mini",
        "--course",
        str(COURSE),
        "--out",
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    printed = done.stdout + done.stderr
    assert "duplicate submission id" in printed
    assert not CONTROL & set(printed.replace("\n", "")), repr(printed)
    assert printed.count("\n") <= 6
    cells = [c for row in csv.reader((out / "gradebook.csv").open()) for c in row]
    assert not any(CONTROL & set(c) for c in cells), cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    for folder in out.iterdir():
        assert not CONTROL & set(folder.name)
    for row in (out / "journal.jsonl").read_text().splitlines():
        for note in json.loads(row)["notes"]:
            assert not CONTROL & set(note)


def test_printable_and_csv_cell():
    assert printable("a\x1b[31mb\r\nc\u202ed") == "a [31mb c d"
    assert csv_cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert csv_cell("-1.5") == "-1.5"


def test_a_symlinked_submission_pointing_at_the_course_is_not_followed(tmp_path):
    """unzip restores links: a "student folder" that is a link to the
    reference solution must not be graded as the student's work."""
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "mallory").symlink_to(REFERENCE.resolve(), target_is_directory=True)
    (downloads / "trudy.py").symlink_to((REFERENCE / "mini.py").resolve())
    honest = right_folder(downloads / "honest")
    inside = downloads / "oscar"
    inside.mkdir()
    (inside / "mini.py").symlink_to((REFERENCE / "mini.py").resolve())
    (inside / "solutions").symlink_to(REFERENCE.resolve(), target_is_directory=True)
    paths = [downloads / "mallory", downloads / "trudy.py", honest, inside]
    rows = {
        r.id: r for r in run(paths, Course(COURSE, "mini"), tmp_path / "out", Options(), log=quiet)
    }
    assert rows["honest"].score == 6
    for name in ("mallory", "trudy"):
        assert rows[name].score == 0 and rows[name].status == "unreadable submission"
        assert "symbolic link" in rows[name].reason
    assert rows["oscar"].score == 0 and rows["oscar"].status == "empty submission"
    assert any("mini.py is not a regular file; skipped" in n for n in rows["oscar"].notes)


def test_links_and_special_files_in_an_archive_are_skipped_and_the_rest_graded(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("carol/mini.py", RIGHT)
        link = zipfile.ZipInfo("carol/solution.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, str((REFERENCE / "mini.py").resolve()))
        fifo = zipfile.ZipInfo("carol/pipe.py")
        fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
        archive.writestr(fifo, "")
        archive.writestr("dave/notes.txt", "no code")
    (tmp_path / "class.zip").write_bytes(buffer.getvalue())
    rows = {
        r.id: r
        for r in run(
            [tmp_path / "class.zip"], Course(COURSE, "mini"), tmp_path / "out", Options(), log=quiet
        )
    }
    assert rows["carol"].score == 6
    assert any("carol/solution.py is not a regular file; skipped" in n for n in rows["carol"].notes)
    assert rows["dave"].status == "empty submission"
    assert rows["dave"].reason == "no .py or .ipynb files (found notes.txt)"
    assert rows["dave"].status_text == "empty submission: no .py or .ipynb files (found notes.txt)"


def test_an_unreadable_student_archive_inside_an_lms_download_is_that_students_row(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("erin/mini.py", RIGHT)
        archive.writestr("frank/homework.zip", b"PK\x03\x04 this is not a zip")
    (tmp_path / "class.zip").write_bytes(buffer.getvalue())
    rows = {
        r.id: r
        for r in run(
            [tmp_path / "class.zip"], Course(COURSE, "mini"), tmp_path / "out", Options(), log=quiet
        )
    }
    assert rows["erin"].score == 6
    assert rows["frank"].status == "unreadable submission"
    assert "homework.zip is not a readable zip archive" in rows["frank"].reason


def test_an_unexpected_failure_laying_out_one_submission_is_its_row(tmp_path, monkeypatch):
    from grader.batch import worker

    def broken(sub, template, work):
        if sub.id == "bad":
            raise RuntimeError("disk hiccup")
        return real(sub, template, work)

    real = worker.lay_out
    monkeypatch.setattr(worker, "lay_out", broken)
    paths = [right_folder(tmp_path / "bad"), right_folder(tmp_path / "fine")]
    rows = {
        r.id: r for r in run(paths, Course(COURSE, "mini"), tmp_path / "out", Options(), log=quiet)
    }
    assert rows["fine"].score == 6
    assert rows["bad"].status == "unreadable submission"
    assert rows["bad"].reason == "RuntimeError: disk hiccup"
