"""The trusted worker's side of batch grading: lay one submission over the
template, run the course's tests on it in grading mode (the plugin puts the
student's code in a sandbox), and write its results atomically."""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import multiprocessing
import multiprocessing.util
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader.batch.intake import Layout, Submission, lay_out
from grader.batch.printable import printable
from grader.batch.records import Course, Job, Options, Problem, Row, Status
from grader.course import templates
from grader.results import gradescope
from grader.results import session as sessions
from grader.results.outcome import TestOutcome, TestStatus
from grader.sandbox import forkserver
from grader.sandbox.confine import PR_SET_PDEATHSIG


def grade_job(job: Job, course: Course, out: Path, work_root: Path, options: Options) -> Row:
    """Grade one submission (in a trusted worker process) and write its files.

    Never raises for anything about the submission: a submission whose code
    cannot be laid out or run still gets its results and its row, with the
    reason."""
    start = time.perf_counter()
    target = out / job.id
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{job.id}.", dir=out))
    notes: list[str] = list(job.notes)
    problem = job.problem
    try:
        if problem is None:
            work = work_root / job.id
            try:
                layout = lay_out(
                    Submission(job.id, job.origin, job.files, notes=job.notes),
                    course.template,
                    work,
                )
                notes = layout.notes
                problem = _unusable(layout)
            except Exception as exc:  # intake of this one submission failed: its own row
                problem = Problem(Status.UNREADABLE, printable(f"{type(exc).__name__}: {exc}"))
            if problem is None:
                try:
                    _run_pytest(job, course, work, staging, options)
                except Exception as exc:  # never the batch's end: this submission's row
                    problem = Problem(Status.ERROR, printable(f"grading stopped: {exc}"))
            shutil.rmtree(work, ignore_errors=True)
        if problem is not None or not (staging / "results.json").exists():
            (staging / "results.json").unlink(missing_ok=True)
            _write_unreadable(job, course, staging, problem)
        if notes:
            _add_notes(staging / "results.json", notes)
        for name in ("results.json", "report.html", "staff.html"):
            if (staging / name).exists():
                os.replace(staging / name, target / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    data = json.loads((target / "results.json").read_text())
    extra = data.get("extra_data", {}).get("backprop_grader", {})
    status = problem.status.value if problem else _overall(extra.get("tasks", []))
    return Row(
        job.id,
        job.digest,
        float(data["score"]),
        float(data["max_score"]),
        status,
        time.perf_counter() - start,
        job.origin,
        notes,
        reason=problem.reason if problem else "",
        assignment=course.assignment,
        lms_id=job.student.lms_id,
        name=job.student.name,
        late=job.student.late,
    )


def _unusable(layout: Layout) -> Problem | None:
    """Nothing of the student's could be placed: why, as the student's status."""
    if layout.used:
        return None
    if layout.unreadable:
        return Problem(Status.UNREADABLE, printable("; ".join(layout.unreadable)))
    return Problem(
        Status.EMPTY, "no file defines any of the assignment's functions (see the notes)"
    )


def _overall(tasks: list[dict[str, Any]]) -> str:
    statuses = {t.get("status") for t in tasks}
    if statuses == {"passed"}:
        return Status.PASSED.value
    if statuses == {"not attempted"}:
        return Status.NOT_ATTEMPTED.value
    return Status.ERROR.value if statuses == {"error"} else Status.GRADED.value


def _run_pytest(job: Job, course: Course, work: Path, staging: Path, options: Options) -> None:
    import pytest

    paths = [str(course.folder / "tests")]
    if course.hidden.is_dir():
        paths.append(str(course.hidden))
    args = [
        *paths,
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "grader.plugin.hooks",
        # no unraisable/thread-exception hunting: it runs five full garbage
        # collections per session, half the fixed cost of a submission
        "-p",
        "no:unraisableexception",
        "-p",
        "no:threadexception",
        # nobody reads pytest's own failure text here (the records carry the
        # messages); its long tracebacks parse every source file involved
        "--tb=native",
        f"--rootdir={course.folder}",
        "-c",
        str(course.folder / "pytest.ini"),
        f"--grader-submission={work}",
        f"--grader-reference={course.reference}",
        f"--grader-sandbox={'on' if options.sandbox else 'off'}",
        *([f"--grader-uid={options.run_as}"] if options.run_as is not None else []),
        f"--grader-timeout={options.timeout}",
        f"--grader-memory={options.memory_mb}",
        f"--grader-budget={options.budget}",
        f"--grader-assignment={course.assignment}",
        f"--grader-name={job.id}",
        f"--grader-json={staging / 'results.json'}",
        f"--grader-report={staging / 'report.html'}",
        f"--grader-staff={staging / 'staff.html'}",
    ]
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), _no_autoload():
        pytest.main(args, plugins=[])


@contextlib.contextmanager
def _no_autoload() -> Iterator[None]:
    """Only our plugin (and what the course's pytest.ini asks for with -p):
    a plugin that happens to be installed where the TA grades must not change
    the order, the timing or the outcome of the tests."""
    old = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = old


def _add_notes(path: Path, notes: list[str]) -> None:
    """Say in the results what intake did (transcoding, file placement)."""
    data = json.loads(path.read_text())
    data["output"] = "\n".join(f"note: {n}" for n in notes) + "\n" + data.get("output", "")
    data.setdefault("extra_data", {}).setdefault("backprop_grader", {})["notes"] = notes
    path.write_text(json.dumps(data, indent=2, allow_nan=False))


def _write_unreadable(job: Job, course: Course, staging: Path, problem: Problem | None) -> None:
    """A submission that could not be read or run still gets its results:
    every task at zero, with the reason."""
    reason = str(problem) if problem else "grading stopped before any test ran"
    outcomes = [
        TestOutcome(
            nodeid=task.id,
            name=task.name,
            task=task.id,
            task_name=task.name,
            max_score=task.points,
            status=TestStatus.ERROR,
            message=reason,
        )
        for task in templates.tasks(course.reference)
    ]
    results = sessions.build(
        outcomes, submission=job.origin, assignment=course.assignment, seed=0, execution_time=0.0
    )
    text = json.dumps(gradescope.results_json(results), indent=2, allow_nan=False)
    (staging / "results.json").write_text(text)
    try:
        from grader.report import render_reports

        student, staff = render_reports(results)
        (staging / "report.html").write_text(student)
        (staging / "staff.html").write_text(staff)
    except ImportError:
        pass


def worker_init() -> None:
    """Trusted workers: one BLAS thread each (a spinning multi-threaded BLAS
    starves the students' processes on a small machine). numpy is already
    loaded, so the limit is applied at runtime."""
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if multiprocessing.parent_process() is not None:  # a pool's worker
        # die with the coordinator (kill -9 included), and with it the jail
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # a worker that ends normally stops its jail and removes its cgroup
        multiprocessing.util.Finalize(None, forkserver.close_all, exitpriority=10)


def grade_star(arguments: tuple[Any, ...]) -> Row:
    return grade_job(*arguments)
