"""grader grade: same scores with any number of workers, resumable after
kill -9, regrades only what changed, and writes the class outputs."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader.batch.grade import Course, Options, read_journal, run

COURSE = Path(__file__).parent / "course"
GIVEN = (
    "import numpy as np\n\ndef linear_forward(x, w):\n    return x @ w, (x, w)\n\n"
    "def square_forward(x):\n    return x**2, x\n"
)
LINEAR = {
    "right": "    x, w = cache\n    return dout @ w.T, x.T @ dout\n",
    "transposed": "    x, w = cache\n    return dout @ w.T, dout.T @ x\n",
    "sign": "    x, w = cache\n    return -(dout @ w.T), x.T @ dout\n",
}
SQUARE = {"right": "    return 2 * cache * dout\n", "half": "    return cache * dout\n"}


def source(linear: str = "right", square: str = "right") -> str:
    return (
        GIVEN
        + "\ndef linear_backward(dout, cache):\n"
        + LINEAR[linear]
        + "\ndef square_backward(dout, cache):\n"
        + SQUARE[square]
    )


def make_class(folder: Path, count: int = 6) -> list[Path]:
    kinds = [
        ("right", "right"),
        ("transposed", "right"),
        ("sign", "half"),
        ("transposed", "half"),
        ("right", "half"),
        ("transposed", "right"),
    ]
    paths = []
    for i in range(count):
        linear, square = kinds[i % len(kinds)]
        path = folder / f"student{i:02d}"
        path.mkdir(parents=True)
        (path / "mini.py").write_text(source(linear, square))
        paths.append(path)
    return paths


def grade_command(paths: list[Path], out: Path, workers: int) -> list[str]:
    """``grader grade`` of the mini course, as a TA types it."""
    return [
        sys.executable,
        "-m",
        "grader",
        "grade",
        *map(str, paths),
        "-a",
        "mini",
        "--course",
        str(COURSE),
        "--out",
        str(out),
        "--workers",
        str(workers),
    ]


def scores(out: Path) -> dict[str, tuple[float, list[tuple[str, float]]]]:
    found = {}
    for results in sorted(out.glob("*/results.json")):
        data = json.loads(results.read_text())
        found[results.parent.name] = (
            data["score"],
            [(t["name"], t["score"]) for t in data["tests"]],
        )
    return found


def quiet(_: str) -> None:
    pass


def test_same_scores_with_one_or_two_workers_and_any_order(tmp_path):
    paths = make_class(tmp_path / "class")
    one = run(paths, Course(COURSE, "mini"), tmp_path / "one", Options(workers=1), log=quiet)
    two = run(
        list(reversed(paths)),
        Course(COURSE, "mini"),
        tmp_path / "two",
        Options(workers=2),
        log=quiet,
    )
    assert [(r.id, r.score) for r in one] == [(r.id, r.score) for r in two]
    assert scores(tmp_path / "one") == scores(tmp_path / "two")
    assert {r.id: r.score for r in one} == {
        "student00": 6,
        "student01": 3,
        "student02": 0,
        "student03": 0,
        "student04": 3,
        "student05": 3,
    }


def test_outputs_gradebook_canvas_and_summary(tmp_path):
    paths = make_class(tmp_path / "class")
    out = tmp_path / "out"
    run(paths, Course(COURSE, "mini"), out, Options(workers=2), log=quiet)
    rows = list(csv.reader((out / "gradebook.csv").open()))
    assert rows[0][:5] == ["submission", "score", "max_score", "status", "task 1.1"]
    assert any("test_linear_backward" in column for column in rows[0])
    assert rows[1][:3] == ["student00", "6", "6"]
    summary = (out / "summary.html").read_text()
    assert "gradient transposed in Task 1.1 linear_backward" in summary  # student01's top one
    assert 'href="student01/staff.html"' in summary and 'href="student00/staff.html"' in summary
    staff = (out / "student01" / "staff.html").read_text()
    student = (out / "student01" / "report.html").read_text()
    assert "test_square_backward_large" in staff  # the hidden test, in full for the staff
    assert "test_square_backward_large" not in student
    assert "Pass rate per test" in summary and "<svg" in summary
    for sub in ("student00", "student01"):
        results = json.loads((out / sub / "results.json").read_text())
        assert {"score", "max_score", "execution_time", "output", "tests"} <= set(results)
        assert any(t["visibility"] == "after_due_date" for t in results["tests"])
    run(paths, Course(COURSE, "mini"), out, Options(canvas=True), log=quiet)
    canvas = list(csv.reader((out / "gradebook.csv").open()))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "mini"]
    assert canvas[1] == ["Points Possible", "", "", "", "", "6"]
    assert canvas[2] == ["student00", "", "", "", "", "6"]


def test_resumes_after_kill_minus_nine_without_losing_or_double_counting(tmp_path):
    paths = make_class(tmp_path / "class", count=12)
    out = tmp_path / "out"
    command = grade_command(paths, out, workers=1)
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        journal = out / "journal.jsonl"
        if journal.exists() and len(journal.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before = read_journal(out)
    assert 3 <= len(before) < 12
    stamps = {i: (out / i / "results.json").stat().st_mtime_ns for i in before}
    with open(out / "journal.jsonl", "a") as journal:
        journal.write('{"id": "student11", "digest": "torn')  # a torn last line
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"resuming: {len(before)} submissions already graded" in again.stdout
    after = read_journal(out)
    assert sorted(after) == [p.name for p in paths]
    for i, stamp in stamps.items():
        assert (out / i / "results.json").stat().st_mtime_ns == stamp, f"{i} was regraded"
    ids = [
        json.loads(line)["id"]
        for line in (out / "journal.jsonl").read_text().splitlines()
        if line.endswith("}")
    ]
    assert len(ids) == len(set(ids)) == 12
    rows = list(csv.reader((out / "gradebook.csv").open()))
    assert len(rows) == 13


def test_regrades_only_what_changed_unless_forced(tmp_path):
    paths = make_class(tmp_path / "class", count=3)
    out = tmp_path / "out"
    course = Course(COURSE, "mini")
    run(paths, course, out, Options(), log=quiet)
    stamp = (out / "student00" / "results.json").stat().st_mtime_ns
    (paths[1] / "mini.py").write_text(source("right", "right"))
    messages: list[str] = []
    rows = run(paths, course, out, Options(), log=messages.append)
    assert "resuming: 2 submissions already graded (use --force to regrade)" in messages
    assert {r.id: r.score for r in rows}["student01"] == 6
    assert (out / "student00" / "results.json").stat().st_mtime_ns == stamp
    run(paths, course, out, Options(force=True), log=quiet)
    assert (out / "student00" / "results.json").stat().st_mtime_ns != stamp


def test_lms_zip_notebooks_single_files_and_duplicates(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("alice/mini.py", source())
        archive.writestr("bob.py", source("transposed"))
        archive.writestr("__MACOSX/._bob.py", b"junk")
    (tmp_path / "canvas_download.zip").write_bytes(buffer.getvalue())
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "id": "c1",
                "source": "%matplotlib inline\n" + source(),
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "carol.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "homework.py").write_text(source("sign"))
    messages: list[str] = []
    rows = run(
        [tmp_path / "canvas_download.zip", tmp_path / "carol.ipynb", tmp_path / "alice"],
        Course(COURSE, "mini"),
        tmp_path / "out",
        Options(),
        log=messages.append,
    )
    got = {r.id: r.score for r in rows}
    assert got == {"alice": 6, "bob": 3, "carol": 6, "alice~2": 3}
    assert any("duplicate submission id alice" in m for m in messages)
    notes = {n for r in rows for n in r.notes}
    assert any(
        n.startswith("homework.py: ") and "linear_backward" in n and n.endswith("graded in mini.py")
        for n in notes
    )


def test_cli_errors_are_one_line(tmp_path):
    def grade(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "grader", "grade", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    missing = grade(str(tmp_path), "-a", "nope", "--course", str(COURSE), "--out", "x")
    assert missing.returncode == 2
    assert "unknown assignment 'nope'" in missing.stderr and "has mini;" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    bad = grade(str(tmp_path), "-a", "mini", "--out", "x", "--workers", "0")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "grader grade: --workers must be at least 1 (got 0)"


DASK_RUN = """
import sys
from pathlib import Path

import distributed

from grader.batch.grade import Course, Options, run
from grader.batch.dask_executor import dask_executor

course, out, *paths = sys.argv[1:]
with distributed.LocalCluster(
    n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
) as cluster:
    rows = run([Path(p) for p in paths], Course(Path(course), "mini"), Path(out), Options(),
               executor=dask_executor(cluster.scheduler_address), log=lambda _: None)
print(len(rows))
"""


def test_dask_local_cluster_gives_the_same_outputs(tmp_path):
    """In a process of its own: a LocalCluster's shutdown must not depend on
    what other tests left in this one."""
    pytest.importorskip("distributed")
    paths = make_class(tmp_path / "class", count=4)
    local = run(paths, Course(COURSE, "mini"), tmp_path / "local", Options(), log=quiet)
    result = subprocess.run(
        [sys.executable, "-c", DASK_RUN, str(COURSE), str(tmp_path / "dask"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and result.stdout.split()[-1] == "4", result.stderr[-3000:]
    remote = read_journal(tmp_path / "dask")
    assert {r.id: r.score for r in local} == {i: r.score for i, r in remote.items()}
    assert scores(tmp_path / "local") == scores(tmp_path / "dask")
    assert (tmp_path / "dask" / "gradebook.csv").exists()


def test_unwritable_output_folder_is_one_line(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(tmp_path),
            "-a",
            "mini",
            "--course",
            str(COURSE),
            "--out",
            "/proc/no-such-folder",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "grader grade: cannot write /proc/no-such-folder: No such file or directory; choose an "
        "--out folder you can write to"
    ]


def test_missing_isolation_is_said_before_grading(tmp_path, monkeypatch):
    """Where the machine cannot confine students (no root), the TA is told, once,
    before anything is graded."""
    from grader.sandbox import confine as sandbox

    weak = sandbox.Isolation(jail=True, notes=["no cgroups here (needs root)"])
    monkeypatch.setattr(sandbox, "_isolation", {True: weak, False: weak})
    said: list[str] = []
    run(
        make_class(tmp_path / "class", count=1),
        Course(COURSE, "mini"),
        tmp_path / "out",
        Options(),
        log=said.append,
    )
    assert said[0] == "warning: no cgroups here (needs root)"


def test_a_class_larger_than_a_workers_share_finishes_with_every_submission(tmp_path):
    """More submissions than two workers grade before fresh ones take over
    (grade.TASKS_PER_WORKER each): every one is graded and the batch ends.
    With Pool(maxtasksperchild=50) a class of 160 hung after its last
    submission in 3 of 4 runs, so this runs in its own process, with a deadline."""
    paths = make_class(tmp_path / "class", count=110)
    done = subprocess.run(
        grade_command(paths, tmp_path / "out", workers=2),
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(read_journal(tmp_path / "out")) == 110
    with open(tmp_path / "out" / "gradebook.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 110
