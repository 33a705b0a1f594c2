"""``grader gradescope``: the autograder zip, and ``run_autograder`` run for real
against a folder laid out as Gradescope lays out /autograder, in a container
that allows namespaces and in one that refuses them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.course.gradescope import ROOT_ENV, STUDENT_USER

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "submissions" / "layers"
CONTAINER = Path(__file__).with_name("gradescope_container.py")
EXPECTED = json.loads((EXAMPLES / "expected.json").read_text())

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="plays a Gradescope container: needs root (namespaces, mounts)"
)


def grader(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def autograder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip a TA builds: hidden tests shown once grades are published, Markdown."""
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    done = grader("gradescope", "layers", "--out", str(out), "--hidden-visibility",
                  "after_published")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "autograder of layers written to" in done.stdout
    return out


def test_the_zip_holds_the_scripts_at_its_root_the_wheel_and_the_course(autograder):
    archive = zipfile.ZipFile(autograder)
    names = set(archive.namelist())
    assert {"setup.sh", "run_autograder", "autograder.json"} <= names
    for script in ("setup.sh", "run_autograder"):
        assert (archive.getinfo(script).external_attr >> 16) & 0o111, f"{script} not executable"
    wheels = [n for n in names if n.endswith(".whl")]
    assert len(wheels) == 1 and "/" not in wheels[0]
    course = "course/assignments/layers"
    assert {
        f"{course}/pytest.ini",
        f"{course}/layers/layers.py",
        f"{course}/tests/test_layers.py",
        f"{course}/hidden/test_hidden_layers.py",
        "course/reference/layers/layers.py",
    } <= names
    assert not any("__pycache__" in n or n.endswith("README.md") for n in names)
    settings = json.loads(archive.read("autograder.json"))
    assert settings["assignment"] == "layers"
    assert settings["hidden_visibility"] == "after_published"
    assert settings["output_format"] == "md"
    assert settings["user"] == STUDENT_USER

    setup = archive.read("setup.sh").decode()
    for needed in ("python3", "python3-venv", "python3-pip", "bubblewrap"):
        assert needed in setup.split("apt-get install", 1)[1].splitlines()[0]
    assert f'STUDENT="{STUDENT_USER}"' in setup and "useradd --system" in setup
    assert f'"$SOURCE/{wheels[0]}"' in setup
    assert "@" not in setup.replace("$@", "")  # every placeholder filled in
    for script in ("setup.sh", "run_autograder"):
        check = subprocess.run(["bash", "-n"], input=archive.read(script), capture_output=True)
        assert check.returncode == 0, check.stderr

    inside = zipfile.ZipFile(archive.open(wheels[0]))
    shipped = set(inside.namelist())
    assert "grader/batch/autograder.py" in shipped
    assert "grader/course/autograder/run_autograder" in shipped
    assert not any(n.startswith(("reference/", "assignments/")) for n in shipped)


def test_a_ta_slip_stops_the_build_with_one_line_naming_the_fix(tmp_path):
    unknown = grader("gradescope", "layres", "--out", str(tmp_path / "a.zip"))
    assert unknown.returncode == 2
    line = unknown.stderr.strip()
    assert "\n" not in line and "'layres'" in line
    assert "known assignments: " in line and "layers" in line and "spiral" in line
    bad = grader("gradescope", "layers", "--out", str(tmp_path / "a.zip"), "--timeout", "0")
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "grader gradescope: --timeout must be more than 0 seconds"
    )
    hidden = grader("gradescope", "layers", "--out", "x.zip", "--hidden-visibility", "never")
    assert hidden.returncode == 2 and "after_due_date" in hidden.stderr
    assert not (tmp_path / "a.zip").exists()


# -- run_autograder in a folder laid out as Gradescope lays it out ---------------


SPY = '''

_honest = linear_backward


def linear_backward(dout, cache):
    """Right, unless this process can see what a student must not (then wrong)."""
    import os

    seen = []
    for path in {secrets!r}:
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                with open(path, "rb") as f:
                    f.read(1)
            seen.append(path)
        except OSError:
            pass
    if os.getuid() == 0:
        seen.append("running as root")
    print("spy saw:", seen)
    dx, dw, db = _honest(dout, cache)
    return (dx, 2 * dw, db) if seen else (dx, dw, db)
'''


def lay_out(zip_path: Path, where: Path, submission: Path, spy: bool = False) -> Path:
    """/autograder as Gradescope builds it: source/ (the zip), run_autograder,
    the venv setup.sh would make (here: the one running these tests), the
    student's files in submission/, and submission_metadata.json."""
    root = where / "autograder"
    (root / "source").mkdir(parents=True)
    zipfile.ZipFile(zip_path).extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "venv").symlink_to(sys.prefix)
    shutil.copytree(submission, root / "submission")
    (root / "submission_metadata.json").write_text('{"previous_submissions": []}')
    if spy:
        secrets = [
            str(root / "source" / "course" / "assignments" / "layers" / "hidden"),
            str(root / "source" / "course" / "reference" / "layers" / "layers.py"),
            str(root / "source" / "autograder.json"),
            str(root / "results"),
            str(root / "submission_metadata.json"),
        ]
        with open(root / "submission" / "layers.py", "a") as f:
            f.write(SPY.format(secrets=secrets))
    return root


def run_autograder(root: Path, *, namespaces: bool) -> tuple[dict, subprocess.CompletedProcess]:
    accounts = root.parent / "etc"
    accounts.mkdir()
    passwd, group = accounts / "passwd", accounts / "group"
    passwd.write_text(
        Path("/etc/passwd").read_text()
        + f"{STUDENT_USER}:x:64999:64999::/nonexistent:/usr/sbin/nologin\n"
    )
    group.write_text(Path("/etc/group").read_text() + f"{STUDENT_USER}:x:64999:\n")
    flags = [] if namespaces else ["--no-namespaces"]
    done = subprocess.run(
        [sys.executable, str(CONTAINER), *flags, str(passwd), str(group), "--",
         str(root / "run_autograder")],
        env={**os.environ, ROOT_ENV: str(root)},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    results = root / "results" / "results.json"
    assert results.exists(), done.stdout + done.stderr
    return json.loads(results.read_text()), done


def task_outcomes(data: dict) -> dict[str, dict]:
    """Per task: its status and the diagnosis codes of its failed tests."""
    out: dict[str, dict] = {}
    for task in data["extra_data"]["backprop_grader"]["tasks"]:
        out[task["id"]] = {"status": task["status"], "codes": set()}
    for test in data["tests"]:
        diagnosis = test["extra_data"]["diagnosis"]
        if test["status"] == "failed" and diagnosis:
            out[test["extra_data"]["task"]]["codes"].add(diagnosis["code"])
    return out


def assert_gradescope_shape(data: dict) -> None:
    numbers = [t["number"] for t in data["tests"]]
    assert len(numbers) == len(set(numbers)) > 15
    assert all(n.count(".") == 2 for n in numbers)
    assert data["output_format"] == data["test_output_format"] == "md"
    visibility = {t["extra_data"]["hidden"]: set() for t in data["tests"]}
    for t in data["tests"]:
        visibility[t["extra_data"]["hidden"]].add(t["visibility"])
    assert visibility == {False: {"visible"}, True: {"after_published"}}
    assert data["score"] == sum(t["score"] for t in data["tests"])
    assert "](" not in data["output"] and "http" not in data["output"]


def assert_expected(data: dict, example: str) -> None:
    """The outcome examples/submissions/layers/expected.json gives this example."""
    found = task_outcomes(data)
    for task, want in EXPECTED[example].items():
        assert found[task]["status"] == want["status"], (task, found[task])
        if want["diagnosis"]:
            assert want["diagnosis"] in found[task]["codes"], (task, found[task])


@needs_root
def test_run_autograder_gives_a_correct_submission_full_marks(autograder, tmp_path):
    data, done = run_autograder(lay_out(autograder, tmp_path, EXAMPLES / "correct"),
                                namespaces=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert data["score"] == data["max_score"] > 0
    assert_gradescope_shape(data)
    assert_expected(data, "correct")
    assert "namespaces" not in data["output"]
    assert "(sandbox)" in done.stdout  # the instructor's log says how it ran


@needs_root
def test_run_autograder_names_the_transposed_gradient(autograder, tmp_path):
    data, done = run_autograder(lay_out(autograder, tmp_path, EXAMPLES / "transposed_dW"),
                                namespaces=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert 0 < data["score"] < data["max_score"]
    assert_gradescope_shape(data)
    assert_expected(data, "transposed_dW")
    wrong = [t for t in data["tests"] if t["extra_data"]["task"] == "1.1"]
    assert wrong and all(t["status"] == "failed" for t in wrong)
    public = next(t for t in wrong if not t["extra_data"]["hidden"])
    assert public["output"].startswith("**Failed.** dw has the right values but transposed")
    assert "`transposed`" in public["output"]
    assert "Task 1\\.1 linear\\_backward: 0/" in data["output"]
    assert (
        "hidden tests" in data["output"] and "shown once the grades are published" in data["output"]
    )


@needs_root
def test_without_namespaces_it_says_so_and_runs_the_student_as_the_unprivileged_user(
    autograder, tmp_path
):
    """Gradescope's container may refuse namespaces: the student's process then
    runs as setup.sh's user, under the same budgets, and still cannot read
    the course, the results or earlier results; the score is the same."""
    root = lay_out(autograder, tmp_path, EXAMPLES / "transposed_dW", spy=False)
    data, done = run_autograder(root, namespaces=False)
    assert done.returncode == 0, done.stderr
    said = data["output"].replace("\\", "")  # the Markdown, read as text
    assert "this container does not allow the sandbox's namespaces" in said
    assert f"your code ran under the unprivileged user {STUDENT_USER} instead" in said
    assert "no namespaces" in done.stdout
    assert_gradescope_shape(data)
    assert_expected(data, "transposed_dW")


@needs_root
@pytest.mark.parametrize("namespaces", [True, False], ids=["sandbox", "unprivileged-user"])
def test_the_students_code_sees_nothing_of_the_course_either_way(autograder, tmp_path, namespaces):
    root = lay_out(autograder, tmp_path, EXAMPLES / "correct", spy=True)
    data, done = run_autograder(root, namespaces=namespaces)
    assert done.returncode == 0, done.stderr
    linear = [t for t in data["tests"] if t["extra_data"]["task"] == "1.1"]
    assert linear and all(t["status"] == "passed" for t in linear), [t["output"] for t in linear]
    assert data["score"] == data["max_score"]


def test_a_broken_autograder_still_writes_results_that_say_why(autograder, tmp_path):
    root = lay_out(autograder, tmp_path, EXAMPLES / "correct")
    (root / "source" / "autograder.json").write_text("{not json")
    done = subprocess.run(
        [str(root / "run_autograder")],
        env={**os.environ, ROOT_ENV: str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 0 and data["tests"] == []
    assert data["output"].startswith("This submission could not be graded: cannot read the")
    assert "autograder.json" in done.stderr
