"""Hostile submissions: each must end with its own clear status and message,
zero points for what it did not earn, no effect on the others, and the batch
must complete."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from grader.batch.grade import Course, Options, run
from grader.sandbox.confine import isolation

COURSE = Path(__file__).parent / "course"
REFERENCE = COURSE / "reference" / "mini" / "mini.py"

GIVEN = """
import numpy as np


def linear_forward(x, w):
    return x @ w, (x, w)


def square_forward(x):
    return x**2, x
"""
RIGHT = (
    GIVEN
    + """

def linear_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout


def square_backward(dout, cache):
    return 2 * cache * dout
"""
)


def broken(body: str, at_import: str = "") -> str:
    """A submission whose linear_backward runs ``body``; square_backward is right."""
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return (
        f"{at_import}\n{GIVEN}\n\ndef linear_backward(dout, cache):\n{indented}\n\n"
        "def square_backward(dout, cache):\n    return 2 * cache * dout\n"
    )


SECRET = "/tmp/grader-hostile-canary"

HOSTILE: dict[str, tuple[str, str, str]] = {
    # name: (source of mini.py, expected status of task 1.1, text its message must contain)
    "infinite_loop": (broken("while True:\n    pass"), "error", "ran for more than"),
    "sleep": (broken("import time\ntime.sleep(60)"), "error", "ran for more than"),
    # half a message on the reply pipe, then silence: the grader must not wait forever
    "partial_reply": (
        broken("import os, time\nos.write(4, b'\\x40\\x00\\x00')\ntime.sleep(60)"),
        "error",
        "ran for more than",
    ),
    "memory_bomb": (
        broken("blocks = [bytearray(1 << 30) for _ in range(64)]"),
        "error",
        "MemoryError",
    ),
    "fork_bomb": (broken("import os\nwhile True:\n    os.fork()"), "error", ""),
    "exit_at_import": (RIGHT + "\nimport sys\nsys.exit(0)\n", "error", "SystemExit"),
    "kill_at_import": (
        RIGHT + "\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
        "error",
        "killed",
    ),
    "os_exit_at_import": (RIGHT + "\nimport os\nos._exit(7)\n", "error", "exited with code 7"),
    "segfault": (broken("import ctypes\nctypes.string_at(0)"), "error", "segmentation fault"),
    "huge_stdout": (broken("while True:\n    print('x' * 100000)"), "error", "File too large"),
    "write_outside": (
        broken(
            f"open('{SECRET}', 'w').write('pwned')\n"
            "open('../escaped', 'w').write('pwned')\nreturn None"
        ),
        "error",
        "Permission",
    ),
    "read_reference": (
        broken(f"src = open('{REFERENCE}').read()\nreturn None"),
        "error",
        "No such file",
    ),
    "import_reference": (
        broken("import reference.mini.mini as r\nreturn r.linear_backward(dout, cache)"),
        "error",
        "ModuleNotFoundError",
    ),
    "patch_grader": (
        broken(
            "import grader.gradcheck.api as c\nc.check_layer = lambda *a, **k: None\nreturn None",
            "import grader.gradcheck.metrics as m\nm.compare = lambda *a, **k: None",
        ),
        "not attempted",
        "not attempted",
    ),
    "patch_numpy": (
        broken(
            "x, w = cache\nreturn dout @ w.T, dout.T @ x",
            "import numpy\nnumpy.allclose = lambda *a, **k: True\n"
            "numpy.array_equal = lambda *a, **k: True",
        ),
        "failed",
        "transposed",
    ),
    "always_equal": (
        broken(
            "class Liar:\n    def __eq__(self, other):\n        return True\nreturn Liar(), Liar()"
        ),
        "failed",
        "not a numpy array",
    ),
    "lying_subclass": (
        broken(
            "class Lie(np.ndarray):\n    def __eq__(self, o):\n"
            "        return True\nx, w = cache\n"
            "return np.zeros_like(x).view(Lie), np.zeros_like(w).view(Lie)"
        ),
        "failed",
        "numpy",
    ),
    "signal_handlers": (
        broken(
            "import signal, time\n"
            "for s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):\n"
            "    signal.signal(s, signal.SIG_IGN)\n"
            "while True:\n    pass"
        ),
        "error",
        "ran for more than",
    ),
    "delete_files": (
        broken(
            "import shutil, os\nshutil.rmtree(os.path.expanduser('~'), True)\n"
            f"shutil.rmtree('{COURSE}', ignore_errors=True)\nreturn None"
        ),
        "not attempted",
        "not attempted",
    ),
    "syntax_error": (RIGHT + "\ndef oops(:\n    pass\n", "error", "SyntaxError"),
    "missing_functions": (GIVEN, "error", "linear_backward"),
    "wrong_signature": (
        broken("return None").replace("(dout, cache)", "(dout)", 1),
        "error",
        "TypeError",
    ),
}
RAW: dict[str, bytes] = {
    # saved as GBK on a Chinese Windows machine: Python alone would refuse the literal
    "non_utf8": '# 反向传播\nNOTE = "梯度"\n'.encode("gbk") + RIGHT.encode(),
}


def zip_with(members: dict[str, bytes], ratio_bomb: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if ratio_bomb:
            archive.writestr("bomb/mini.py", b"#" * (300 * 1024 * 1024))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    subs = root / "submissions"
    subs.mkdir()
    for name, (source, _, _) in HOSTILE.items():
        (subs / name).mkdir()
        (subs / name / "mini.py").write_text(source)
    for name, data in RAW.items():
        (subs / name).mkdir()
        (subs / name / "mini.py").write_bytes(data)
    (subs / "control").mkdir()
    (subs / "control" / "mini.py").write_text(RIGHT)
    (subs / "zip_slip.zip").write_bytes(zip_with({"../../evil/mini.py": RIGHT.encode()}))
    (subs / "zip_bomb.zip").write_bytes(zip_with({}, ratio_bomb=True))
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": RIGHT,
            },
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (subs / "killer_notebook.ipynb").write_text(json.dumps(notebook))
    out = root / "out"
    options = Options(workers=2, timeout=3.0, memory_mb=512)
    rows = run(sorted(subs.iterdir()), Course(COURSE, "mini"), out, options, log=lambda _: None)
    return {r.id: r for r in rows}, out


def task(out: Path, submission: str, task_id: str) -> dict:
    data = json.loads((out / submission / "results.json").read_text())
    tests = [t for t in data["tests"] if t["number"] == task_id]
    assert tests, f"no result for task {task_id} of {submission}"
    return tests[0]


def test_the_batch_completes_with_a_result_for_everyone(graded):
    rows, out = graded
    expected = set(HOSTILE) | set(RAW) | {"control", "zip_slip", "zip_bomb", "killer_notebook"}
    assert set(rows) == expected
    for name in expected:
        assert (out / name / "results.json").exists()
        assert (out / name / "report.html").exists()
    assert (out / "gradebook.csv").exists() and (out / "summary.html").exists()


def test_the_control_submission_is_unaffected(graded):
    rows, _ = graded
    assert rows["control"].score == rows["control"].max_score == 6


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_submission_gets_its_own_clear_status_and_no_points(graded, name):
    rows, out = graded
    _, status, text = HOSTILE[name]
    result = task(out, name, "1.1")
    assert result["score"] == 0
    tags = result["tags"]
    assert status in tags, (name, result)
    assert text in result["output"], (name, result["output"])
    assert len(result["output"].splitlines()[0]) < 400


def test_non_utf8_source_is_transcoded_and_said_so(graded):
    rows, out = graded
    data = json.loads((out / "non_utf8" / "results.json").read_text())
    assert "note: mini.py was not UTF-8; read it as GB18030" in data["output"]
    assert rows["non_utf8"].score == rows["non_utf8"].max_score


@pytest.mark.parametrize("name", ["zip_slip", "zip_bomb"])
def test_bad_archives_are_refused_with_the_reason(graded, name):
    rows, out = graded
    assert rows[name].status == "unreadable submission" and rows[name].score == 0
    output = task(out, name, "1.1")["output"]
    assert ("outside the archive" in output) if name == "zip_slip" else ("zip bomb" in output)


def test_notebook_cell_that_kills_its_process_is_left_out(graded):
    """Only definitions, imports and constants of a notebook are graded: a
    top-level statement (here a kill) never runs."""
    rows, out = graded
    assert rows["killer_notebook"].score == 6
    data = json.loads((out / "killer_notebook" / "results.json").read_text())
    assert "1 top-level statements (plots, prints, experiments) left out" in data["output"]


def test_nothing_escaped_the_sandbox(graded):
    _, out = graded
    assert not Path(SECRET).exists()
    assert REFERENCE.exists() and (COURSE / "assignments" / "mini" / "tests").exists()


def test_isolation_is_reported_plainly():
    found = isolation()
    if not found.namespaces:
        assert any("namespaces" in note for note in found.notes)
