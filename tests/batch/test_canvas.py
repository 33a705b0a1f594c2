"""Canvas: its submission downloads (flat zip or the folder it extracts to)
are grouped by Canvas user id, late ones too, and the Canvas CSV is the
layout Canvas's gradebook import reads, filled from a roster."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from grader.batch import canvas
from grader.batch.grade import BatchError, Course, Options, run

COURSE = Path(__file__).parent / "course"
RIGHT = (COURSE / "reference" / "mini" / "mini.py").read_text()
LINEAR, _, SQUARE = RIGHT.partition("def square_forward")
SQUARE = "import numpy as np\n\ndef square_forward" + SQUARE


def quiet(_: str) -> None:
    pass


def student_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("homework/mini.py", RIGHT)
    return buffer.getvalue()


DOWNLOAD = {
    # two files of one student: one student, not two
    "smithjohn_1234_5678_part1.py": LINEAR.encode(),
    "smithjohn_1234_5679_part2.py": SQUARE.encode(),
    # late, and a file uploaded twice (Canvas numbers it)
    "doejane_LATE_2345_6789_mini-1.py": RIGHT.encode(),
    # a student who submitted a zip
    "leeann_3456_7890_hw3.zip": student_zip(),
    # a student who submitted a report only
    "kimsam_4567_8901_report.pdf": b"%PDF-1.4",
}


def canvas_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in DOWNLOAD.items():
            archive.writestr(name, data)
    return path


def canvas_folder(path: Path) -> Path:
    path.mkdir()
    for name, data in DOWNLOAD.items():
        (path / name).write_bytes(data)
    return path


@pytest.mark.parametrize("layout", [canvas_zip, canvas_folder])
def test_canvas_downloads_are_grouped_by_user_id(tmp_path, layout):
    name = "submissions.zip" if layout is canvas_zip else "submissions"
    download = layout(tmp_path / name)
    rows = {
        r.id: r
        for r in run([download], Course(COURSE, "mini"), tmp_path / "out", Options(), log=quiet)
    }
    assert sorted(rows) == ["doejane_2345", "kimsam_4567", "leeann_3456", "smithjohn_1234"]
    assert rows["smithjohn_1234"].score == 6
    assert rows["doejane_2345"].score == 6 and rows["doejane_2345"].late
    assert not rows["smithjohn_1234"].late
    assert rows["leeann_3456"].score == 6
    assert rows["kimsam_4567"].status_text == (
        "empty submission: no .py or .ipynb files (found report.pdf)"
    )
    assert {r.lms_id for r in rows.values()} == {"1234", "2345", "3456", "4567"}
    assert rows["smithjohn_1234"].name == "smithjohn"


def test_file_names_are_taken_apart():
    parsed = canvas.parse("doejane_LATE_2345_6789_my_home_work-2.ipynb")
    assert parsed == canvas.CanvasFile("doejane", "2345", "6789", True, "my_home_work-2.ipynb")
    assert canvas.parse("alice.py") is None
    assert canvas.parse("notes_2024.py") is None
    assert canvas.original_name("layers-1.py", {"layers.py"}) == "layers.py"
    assert canvas.original_name("notes-1.py", {"layers.py"}) == "notes-1.py"


ROSTER = """Student,ID,SIS User ID,SIS Login ID,Section,Backprop HW (4242),Quiz 1 (99)
    Points Possible,,,,,6,10
"Smith, John",1234,S001,jsmith,Sec A,,8
"Doe, Jane",2345,S002,jdoe,Sec B,,9
"Ng, Absent",5555,S005,ang,Sec A,,7
"Student, Test",9999,,,,,
"""


def test_canvas_csv_from_a_roster_is_what_canvas_imports(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("\ufeff" + ROSTER)
    out = tmp_path / "out"
    messages: list[str] = []
    run(
        [canvas_zip(tmp_path / "s.zip")],
        Course(COURSE, "mini"),
        out,
        Options(roster=roster, canvas_column="Backprop HW (4242)"),
        log=messages.append,
    )
    rows = list(csv.reader((out / "gradebook.csv").open()))
    assert rows[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "Backprop HW (4242)",
    ]
    assert rows[1] == ["Points Possible", "", "", "", "", "6"]
    assert rows[2] == ["Smith, John", "1234", "S001", "jsmith", "Sec A", "6"]
    assert rows[3] == ["Doe, Jane", "2345", "S002", "jdoe", "Sec B", "6"]
    assert rows[4] == ["Ng, Absent", "5555", "S005", "ang", "Sec A", ""]  # left as it is
    # graded but not on the roster: listed at the end with their Canvas ID, and said
    assert ["leeann", "3456", "", "", "", "6"] in rows[5:]
    assert any("not in the roster" in m for m in messages)
    assert not any(r[0] == "Student, Test" for r in rows)


def test_the_roster_column_naming_the_assignment_is_filled_or_the_guess_is_said(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER.replace("Backprop HW (4242)", "mini backprop (4242)"))
    out = tmp_path / "out"
    download = canvas_zip(tmp_path / "s.zip")
    run([download], Course(COURSE, "mini"), out, Options(roster=roster), log=quiet)
    assert next(csv.reader((out / "gradebook.csv").open()))[-1] == "mini backprop (4242)"
    roster.write_text(ROSTER)
    said: list[str] = []
    run([download], Course(COURSE, "mini"), out, Options(roster=roster), log=said.append)
    assert next(csv.reader((out / "gradebook.csv").open()))[-1] == "mini"
    assert any("pass --canvas-assignment 'NAME (ID)'" in m for m in said)


def test_canvas_csv_without_roster_has_the_id_and_a_named_column(tmp_path):
    out = tmp_path / "out"
    run(
        [canvas_zip(tmp_path / "s.zip")],
        Course(COURSE, "mini"),
        out,
        Options(canvas=True, canvas_column="Backprop HW (4242)"),
        log=quiet,
    )
    rows = list(csv.reader((out / "gradebook.csv").open()))
    assert rows[0][-1] == "Backprop HW (4242)"
    assert ["smithjohn", "1234", "", "", "", "6"] in rows


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Name,Score\nx,1\n", "has no 'Student' or 'ID' column"),
        ("Student,ID\n", "lists no students"),
    ],
)
def test_a_bad_roster_stops_the_run_before_grading(tmp_path, text, message):
    roster = tmp_path / "roster.csv"
    roster.write_text(text)
    out = tmp_path / "out"
    with pytest.raises(BatchError, match=message):
        run(
            [canvas_zip(tmp_path / "s.zip")],
            Course(COURSE, "mini"),
            out,
            Options(roster=roster),
            log=quiet,
        )
    assert not out.exists()
