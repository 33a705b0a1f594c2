"""The sandbox's process life cycle: children of the fork server, confined,
holding nothing of the trusted process, reaped, leaving nothing behind."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grader.sandbox import forkserver
from grader.sandbox.confine import isolation
from grader.sandbox.process import Sandbox, SandboxDied

PROBE = """
import os, sys
import numpy as np

def fds():
    return sorted(int(n) for n in os.listdir("/proc/self/fd"))

def modules():
    return sorted(sys.modules)

def draws():
    return np.random.rand(3)

def shout(text):
    print(text)
    os.kill(os.getpid(), 9)

def leave(code):
    os._exit(code)

def whoami():
    return [os.getuid(), os.getcwd()]
"""


@pytest.fixture
def folder() -> Iterator[Path]:
    """A submission folder the student's own uid can reach, as batch.py makes them."""
    root = Path(tempfile.mkdtemp(prefix="grader-test-"))
    root.chmod(0o711)
    (root / "sub").mkdir()
    (root / "sub" / "probe.py").write_text(PROBE)
    yield root / "sub"
    shutil.rmtree(root, ignore_errors=True)


def sandbox(folder: Path) -> Sandbox:
    return Sandbox(folder, uid=210_000, hide=[Path(__file__).parent / "course" / "reference"])


def test_the_child_holds_only_its_own_pipes_and_logs(folder):
    box = sandbox(folder)
    try:
        fds = box.call("probe.fds")["value"]
        # 0-2: /dev/null and the two logs, 3-4: the pipes, one more: listdir's own
        assert len(fds) == 6 and fds[:5] == [0, 1, 2, 3, 4]
    finally:
        box.close()


def test_the_child_has_nothing_of_the_trusted_process_loaded(folder):
    import grader.plugin.grading_student  # noqa: F401 (loaded here, and must not be there)

    box = sandbox(folder)
    try:
        names = box.call("probe.modules")["value"]
        assert "numpy" in names and "submission.probe" in names
        trusted = ("_trusted", "grader.plugin", "pytest")
        assert not [n for n in names if n.startswith(trusted)]
    finally:
        box.close()


def test_every_child_starts_from_the_same_random_state(folder):
    first, second = sandbox(folder), sandbox(folder)
    try:
        a = first.call("probe.draws")["value"]
        b = second.call("probe.draws")["value"]
        assert np.array_equal(a, b)
    finally:
        first.close()
        second.close()


def test_runs_as_its_own_user_in_its_folder(folder):
    box = sandbox(folder)
    try:
        uid, cwd = box.call("probe.whoami")["value"]
        assert cwd == str(folder.resolve())
        assert uid == (210_000 if isolation().own_uid else os.getuid())
    finally:
        box.close()


def test_output_of_a_killed_child_is_kept_and_its_death_named(folder):
    box = sandbox(folder)
    with pytest.raises(SandboxDied, match="was killed"):
        box.call("probe.shout", ("last words",))
    out, _ = box.close()
    assert "last words" in out


def test_exit_codes_are_reported_and_the_child_reaped(folder):
    box = sandbox(folder)
    with pytest.raises(SandboxDied, match="exited with code 3"):
        box.call("probe.leave", (3,))
    pid = box.pid
    box.close()
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_no_mount_points_are_left_on_the_host(folder):
    if not isolation().namespaces:
        pytest.skip("needs mount namespaces (root)")
    before = {p.name for p in Path("/run").glob(".grader-keep-*")}
    before |= {p.name for p in Path("/tmp").glob(".grader-stage-*")}
    box = sandbox(folder)
    box.call("probe.fds")
    box.close()
    after = {p.name for p in Path("/run").glob(".grader-keep-*")}
    after |= {p.name for p in Path("/tmp").glob(".grader-stage-*")}
    assert after <= before


def test_a_dead_fork_server_is_replaced(folder):
    server = forkserver.server()
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    box = sandbox(folder)
    try:
        assert box.call("probe.fds")["value"][:2] == [0, 1]
        assert forkserver.server() is not server
    finally:
        box.close()


def test_a_grader_that_cannot_start_students_processes_stops_the_batch_saying_why(
    monkeypatch, tmp_path
):
    from grader.batch.grade import BatchError, Course, Options, run

    monkeypatch.setattr(sys, "executable", "/bin/false")
    course = Path(__file__).parent / "course"
    (tmp_path / "alice").mkdir()
    with pytest.raises(BatchError, match=r"cannot start /bin/false .*pip install"):
        run([tmp_path / "alice"], Course(course, "mini"), tmp_path / "out", Options())
    assert not (tmp_path / "out").exists()
