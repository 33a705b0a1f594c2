"""The sandbox's process life cycle: children of the fork server in its
bubblewrap jail, confined, holding nothing of the trusted process, reaped,
leaving nothing behind."""

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

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import os, sys
import numpy as np

def fds():
    found = []
    for fd in range(256):
        try:
            os.fstat(fd)
            found.append(fd)
        except OSError:
            pass
    return found

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

def exists(paths):
    return [p for p in paths if os.path.exists(p)]

def top():
    return sorted(os.listdir("/"))

def importable(names):
    import importlib
    found = []
    for name in names:
        try:
            importlib.import_module(name)
            found.append(name)
        except ImportError:
            pass
    return found
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
    return Sandbox(folder, sandbox=isolation().jail)


def test_the_child_holds_only_its_own_pipes_and_logs(folder):
    box = sandbox(folder)
    try:
        # 0-2: /dev/null and the two logs, 3-4: the pipes
        assert box.call("probe.fds")["value"] == [0, 1, 2, 3, 4]
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


def test_runs_as_an_unprivileged_user_in_a_fresh_folder_of_its_own(folder):
    box = sandbox(folder)
    try:
        uid, cwd = box.call("probe.whoami")["value"]
        assert cwd == ("/work" if isolation().jail else cwd)
        assert cwd != str(folder.resolve())  # a copy of the files, never the folder itself
        if os.geteuid() == 0 and isolation().jail:
            assert uid == forkserver.UID_BASE + os.getpid()
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
    assert box.exit_code(0) == 3  # reaped: its code is known
    box.close()


def test_no_mount_points_or_folders_are_left_on_the_host(folder):
    mounts = Path("/proc/self/mounts").read_text()
    box = sandbox(folder)
    box.call("probe.fds")
    logs = box.output_folder
    assert logs.is_dir()
    box.close()
    assert not logs.exists()
    assert Path("/proc/self/mounts").read_text() == mounts


def test_a_dead_fork_server_is_replaced(folder):
    server = forkserver.server()
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    box = sandbox(folder)
    try:
        assert box.call("probe.fds")["value"] == [0, 1, 2, 3, 4]
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
    with pytest.raises(BatchError, match=r"cannot start the students' fork server.*pip install"):
        run([tmp_path / "alice"], Course(course, "mini"), tmp_path / "out", Options())
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not isolation().jail, reason="needs bubblewrap")
def test_the_jail_shows_only_the_allowlist(folder):
    """Built from nothing: the interpreter, the allowed packages, the grader's
    student side; none of the course, the checkout, the host's writable places."""
    import sysconfig

    import grader

    checkout = Path(grader.__file__).resolve().parents[1]
    box = sandbox(folder)
    try:
        assert set(box.call("probe.top")["value"]) <= {
            "dev",
            "lib",
            "lib64",
            "opt",
            "proc",
            "root",
            "tmp",
            "usr",
            "work",
            "bin",
            "home",
        }
        hidden = [
            str(checkout / "reference"),
            str(checkout / "examples"),
            str(checkout / ".git"),
            str(Path(__file__).parent / "course"),
            str(folder),
            "/etc/passwd",
            "/run",
            "/var/tmp",
            "/home",
            sysconfig.get_paths()["purelib"] + "/pytest",
        ]
        assert box.call("probe.exists", (hidden,))["value"] == []
        wanted = ["numpy", "scipy.special", "pytest", "jinja2", "grader.plugin", "grader.batch"]
        assert box.call("probe.importable", (wanted,))["value"] == ["numpy", "scipy.special"]
    finally:
        box.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
def test_without_a_jail_as_root_it_runs_as_the_given_user_in_a_fresh_folder(folder):
    """The fallback where namespaces are refused (some containers): no jail, but
    an unprivileged user of its own and a folder only it may enter, removed after."""
    box = Sandbox(folder, sandbox=False, run_as=65534)
    try:
        uid, cwd = box.call("probe.whoami")["value"]
        assert uid == 65534
        assert cwd != str(folder.resolve()) and Path(cwd).stat().st_uid == 65534
        assert Path(cwd, "probe.py").read_text() == PROBE
    finally:
        box.close()
    assert not Path(cwd).exists()


def test_without_bubblewrap_grader_grade_stops_with_one_line_saying_how_to_install_it(tmp_path):
    import subprocess

    bin_dir = tmp_path / "bin"  # a PATH without bwrap
    bin_dir.mkdir()
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "grader", "grade",
         str(root / "examples/submissions/layers/correct"), "-a", "layers",
         "--course", str(root), "--out", str(tmp_path / "out")],
        env={**os.environ, "PATH": str(bin_dir)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grader grade: bubblewrap (bwrap) is not")
    assert "apt-get install bubblewrap" in lines[0] and "--no-sandbox" in lines[0]
    assert not (tmp_path / "out").exists()


def test_the_allowlist_grows_by_the_assignments_requirements(tmp_path):
    """A distribution the course's requirements.txt lists is shown with the
    distributions it needs; one this interpreter lacks is skipped; nothing
    else of site-packages is added."""
    from grader.sandbox.jail import ALLOWED_PACKAGES, course_packages

    assert course_packages(tmp_path / "missing.txt") == ALLOWED_PACKAGES
    wanted = tmp_path / "requirements.txt"
    wanted.write_text("# the course\nscikit-learn>=1.3  # digits\nno-such-distribution==1\n")
    found = set(course_packages(wanted))
    assert {"numpy", "scipy", "sklearn", "joblib", "threadpoolctl"} <= found
    assert "pytest" not in found and "grader" not in found


def test_the_course_modules_the_reference_imports_are_loaded_before_a_child_starts(folder):
    """scikit-learn takes a second to import: the fork server imports what the
    reference imports from the course's packages once, before its first
    child (while the trusted side imports its own), and every student's
    process starts with them loaded (nothing else: the submission's own
    imports still run in its process)."""
    from grader.sandbox.jail import course_modules, course_packages

    packages = course_packages(ROOT / "assignments" / "moons" / "requirements.txt")
    modules = course_modules(ROOT / "reference" / "moons", packages)
    assert modules == ("sklearn.datasets", "sklearn.linear_model")
    assert course_modules(ROOT / "reference" / "layers", packages) == ()
    plain = Sandbox(folder, sandbox=isolation().jail)
    first = Sandbox(folder, sandbox=isolation().jail, packages=packages, modules=modules)
    after = Sandbox(folder, sandbox=isolation().jail, packages=packages, modules=modules)
    try:
        assert "sklearn.datasets" not in plain.call("probe.modules")["value"]
        for box in (first, after):
            loaded = box.call("probe.modules")["value"]
            assert {"sklearn.datasets", "sklearn.linear_model", "submission.probe"} <= set(loaded)
    finally:
        plain.close()
        first.close()
        after.close()
