"""Grading mode (student code in a sandbox, given code trusted, training
loops traced) reaches the same verdicts as running the tests in one process,
and its trusted training loops really train with the student's gradients."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.batch.grade import Course, Options, run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "submissions" / "layers"


def statuses(out: Path, submission: str) -> dict[str, str]:
    data = json.loads((out / submission / "results.json").read_text())
    return {t["id"]: t["status"] for t in data["extra_data"]["backprop_grader"]["tasks"]}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading-mode")
    subs = sorted(p for p in EXAMPLES.iterdir() if p.is_dir())
    # Network.backprop returns zero gradients: the network cannot learn OR
    frozen = root / "zero_network_grads"
    shutil.copytree(EXAMPLES / "correct", frozen)
    source = frozen / "layer_class.py"
    text = source.read_text()
    assert "grads.insert(0, (dEdW, dEdb))" in text
    source.write_text(
        text.replace("grads.insert(0, (dEdW, dEdb))", "grads.insert(0, (0 * dEdW, 0 * dEdb))")
    )
    out = root / "out"
    run([*subs, frozen], Course(ROOT, "layers"), out, Options(workers=2), log=lambda _: None)
    return out


def outcomes(results: Path) -> dict[str, tuple[float, str]]:
    data = json.loads(results.read_text())
    return {t["name"]: (t["score"], t["status"]) for t in data["tests"]}


@pytest.mark.parametrize("submission", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
def test_every_test_of_every_example_ends_as_in_one_process(graded, submission, tmp_path):
    """The same tests (public and hidden), in student mode: the submission
    imported into pytest's own process, no sandbox, no traces."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests",
            "hidden",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-o",
            "grader_report=",
            f"--grader-submission={EXAMPLES / submission}",
            f"--grader-json={tmp_path / 'r.json'}",
        ],
        cwd=ROOT / "assignments" / "layers",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (tmp_path / "r.json").exists(), result.stdout[-2000:] + result.stderr[-2000:]
    assert outcomes(graded / submission / "results.json") == outcomes(tmp_path / "r.json")


def test_the_trusted_or_training_uses_the_students_gradients(graded):
    data = json.loads((graded / "zero_network_grads" / "results.json").read_text())
    learns = [t for t in data["tests"] if "test_network_learns_or" in t["name"]]
    assert learns and learns[0]["score"] == 0
    assert "falls more than 10-fold" in learns[0]["output"]
    assert statuses(graded, "zero_network_grads")["1.13"] == "passed"


@pytest.fixture(scope="module")
def every_correct(tmp_path_factory):
    """The correct example of every assignment, graded in its own batch."""
    root = tmp_path_factory.mktemp("correct")
    for assignment in ("spiral", "moons", "digits"):
        source = ROOT / "examples" / "submissions" / assignment / "correct"
        run([source], Course(ROOT, assignment), root / assignment, Options(), log=lambda _: None)
    return root


@pytest.mark.parametrize("assignment", ["spiral", "moons", "digits"])
def test_a_correct_submission_gets_full_marks_in_grading_mode(every_correct, assignment):
    """The jail shows what the assignment's requirements.txt installs (digits'
    given code imports scikit-learn): without it every MLP task errored."""
    data = json.loads((every_correct / assignment / "correct" / "results.json").read_text())
    failing = [(t["name"], t["output"][:200]) for t in data["tests"] if t["status"] != "passed"]
    assert failing == []
    assert data["score"] == data["max_score"]


def test_a_student_process_that_cannot_start_at_session_start_fails_the_tests_not_pytest(
    tmp_path,
):
    """The student's process is started when the session starts; if that
    fails (here the reference folder is missing), the tests that reach the
    submission report it, and pytest itself does not stop with an internal error."""
    spiral = ROOT / "assignments" / "spiral"
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", str(spiral / "tests"), "-q", "-p", "no:cacheprovider",
            "-p", "no:xdist", "-c", str(spiral / "pytest.ini"), f"--rootdir={spiral}",
            f"--grader-submission={ROOT / 'examples' / 'submissions' / 'spiral' / 'correct'}",
            f"--grader-reference={tmp_path / 'no-reference'}", "--grader-report=",
            "-k", "test_l2_backward",
        ],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "INTERNALERROR" not in done.stdout + done.stderr
    assert "1 failed" in done.stdout, done.stdout[-2000:]
