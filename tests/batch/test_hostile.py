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
        "Read-only file system",
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
    "steal_solution": (  # look for the course's solutions anywhere it can see
        broken(
            "import os\n"
            "for root, dirs, files in os.walk('/'):\n"
            "    dirs[:] = [d for d in dirs if d not in ('proc', 'dev')]\n"
            "    if 'mini.py' in files and root != os.getcwd():\n"
            "        ns = {}\n"
            "        exec(open(os.path.join(root, 'mini.py')).read(), ns)\n"
            "        return ns['linear_backward'](dout, cache)\n"
            "return None"
        ),
        "not attempted",
        "not attempted",
    ),
    "read_course_by_path": (
        broken(f"open('{COURSE / 'assignments' / 'mini' / 'tests' / 'test_mini.py'}').read()"),
        "error",
        "No such file",
    ),
    "git_show": (
        broken(
            "import subprocess\n"
            f"subprocess.run(['git', '-C', '{COURSE}', 'show', 'HEAD:README.md'], check=True)"
        ),
        "error",
        "No such file",
    ),
    "daemon": (  # a session of its own, outliving the call: it must not outlive grading
        broken(
            "import subprocess, sys\n"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', "
            "'grader-hostile-daemon'], start_new_session=True)\nreturn None"
        ),
        "not attempted",
        "not attempted",
    ),
    "tmp_plant": (  # a shared writable place would let the next submission copy this
        broken(
            "for place in ('/tmp', '/dev/shm', '/var/tmp'):\n"
            "    try:\n"
            "        open(place + '/planted', 'w').write('x')\n"
            "    except OSError:\n"
            "        pass\n"
            "return None"
        ),
        "not attempted",
        "not attempted",
    ),
    "tmp_steal": (
        broken("open('/tmp/planted').read()\nopen('/dev/shm/planted').read()"),
        "error",
        "No such file",
    ),
    "run_lock": (broken("open('/run/lock/planted', 'w').write('x')"), "error", "No such file"),
    "fill_disk": (
        broken(
            "for i in range(20):\n"
            "    with open(f'big{i}', 'wb') as f:\n"
            "        f.write(b'x' * (10 * 1024 * 1024))"
        ),
        "error",
        "No space left",
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
    tests = [t for t in data["tests"] if t["extra_data"]["task"] == task_id]
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
    assert not Path("/run/lock/planted").exists() and not Path("/dev/shm/planted").exists()


def survivors(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_no_process_of_a_submission_outlives_its_grading(graded):
    assert not survivors("grader-hostile-daemon")


def test_isolation_is_reported_plainly():
    found = isolation()
    if not found.jail:
        assert any("bubblewrap" in note for note in found.notes)
    if not found.cgroups:
        assert any("cgroups" in note for note in found.notes)


def grade_one(tmp_path: Path, source: str, **options: object) -> dict:
    """Grade one submission alone; its task 1.1 result."""
    (tmp_path / "subs" / "one").mkdir(parents=True)
    (tmp_path / "subs" / "one" / "mini.py").write_text(source)
    settings = Options(**{"timeout": 5.0, **options})  # type: ignore[arg-type]
    run([tmp_path / "subs" / "one"], Course(COURSE, "mini"), tmp_path / "out", settings, log=str)
    return task(tmp_path / "out", "one", "1.1")


def test_a_submission_that_answers_each_call_just_in_time_runs_out_of_its_budget(tmp_path):
    """Each call takes less than its limit; together they exceed the budget."""
    result = grade_one(
        tmp_path,
        broken("import time\ntime.sleep(0.5)\nx, w = cache\nreturn dout @ w.T, x.T @ dout"),
        timeout=3.0,
        budget=1.2,
    )
    assert result["score"] == 0 and "used up its total time of 1.2 s" in result["output"]


@pytest.mark.skipif(not isolation().cgroups, reason="needs cgroups (root)")
def test_the_memory_of_all_its_processes_counts_together(tmp_path):
    """Four children under the address-space limit each, over it together."""
    hog = (
        "import os, time\n"
        "kids = []\n"
        "for _ in range(4):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        try:\n"
        "            block = bytearray(200 * 1024 * 1024)\n"
        "            block[::4096] = b'x' * len(block[::4096])\n"
        "            time.sleep(2)\n"
        "        finally:\n"
        "            os._exit(0)\n"
        "    kids.append(pid)\n"
        "for pid in kids:\n"
        "    os.waitpid(pid, 0)\n"
        "return None"
    )
    # touching 800 MB of pages near the limit can outlast the usual 5 s call on a
    # loaded machine (the whole suite runs on two cores): the limit must be what ends it
    result = grade_one(tmp_path, broken(hog), memory_mb=600, timeout=30.0)
    assert result["score"] == 0
    assert "more than 600 MB of memory together" in result["output"]


def test_nothing_of_a_submission_survives_a_kill_9_of_the_batch(tmp_path):
    """The TA's terminal dies: the jail, the daemon it started, everything goes."""
    import signal
    import subprocess
    import sys
    import time

    subs = tmp_path / "subs"
    for name in ("a", "b"):
        (subs / name).mkdir(parents=True)
        (subs / name).joinpath("mini.py").write_text(
            broken(
                "import subprocess, sys, time\n"
                "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', "
                "'grader-kill9-daemon'], start_new_session=True)\n"
                "time.sleep(30)"
            )
        )
    batch = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(subs / "a"),
            str(subs / "b"),
            "-a",
            "mini",
            "--course",
            str(COURSE),
            "--out",
            str(tmp_path / "out"),
            "--workers",
            "2",
            "--timeout",
            "60",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(survivors("grader-kill9-daemon")) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(survivors("grader-kill9-daemon")) == 2, "the daemons never started"
    batch.send_signal(signal.SIGKILL)
    batch.wait()
    deadline = time.monotonic() + 10
    while survivors("grader-kill9-daemon") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not survivors("grader-kill9-daemon")
    # what the killed batch could not clean up is inside --out, and the next run removes it
    from grader.batch.grade import WORK_PREFIX, scratch_folder

    left = list((tmp_path / "out").glob(f"{WORK_PREFIX}*"))
    assert [p.name for p in left] == [f"{WORK_PREFIX}{batch.pid}"]
    fresh = scratch_folder(tmp_path / "out")
    assert not left[0].exists() and fresh.exists()
