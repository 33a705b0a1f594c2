"""Grade one Gradescope submission (``run_autograder`` runs
``python -m grader.batch.autograder``).

The submission in ``/autograder/submission`` is laid over the template and
graded by the same worker, tests and sandbox as ``grader grade``; its
results.json is then restyled as the autograder's settings ask (hidden tests'
visibility, Markdown) and written to ``/autograder/results/results.json``.
Whatever happens, a results.json is written.

Gradescope runs each submission in its own container, which may refuse the
namespaces the sandbox builds. ``confinement()`` is the one place that asks;
without them the student's process runs under the unprivileged user that
``setup.sh`` creates, with the same budgets and the same data-only wire, and
the course files are closed to that user by their permissions (which are
closed in either case); the results' ``output`` says which.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.batch.intake import collect
from grader.batch.records import BatchError, Course, Job, Options
from grader.batch.worker import grade_job, worker_init
from grader.course.gradescope import Layout, PackageError, Settings
from grader.results import gradescope
from grader.sandbox.confine import isolation


class AutograderError(Exception):
    """The autograder cannot grade here; ``str()`` says why and what to do."""


@dataclass(frozen=True)
class Confinement:
    """How the student's process is confined in this container."""

    jailed: bool  # the sandbox's namespaces are available
    note: str  # what the results' output says when they are not ("" otherwise)


def confinement(user: str) -> Confinement:
    """Whether this container lets the sandbox build its namespaces; when it
    does not, the student's process runs under ``user`` (the one place that
    decides: point it at the sandbox's own probe when that changes)."""
    if os.geteuid() != 0:
        raise AutograderError(
            f"cannot switch to the user {user} (run_autograder must run as root, as "
            "Gradescope runs it)"
        )
    if isolation(sandbox=True).jail:
        return Confinement(True, "")
    return Confinement(
        False,
        "this container does not allow the sandbox's namespaces, so your code ran under the "
        f"unprivileged user {user} instead, with the same limits (time, memory, processes, "
        "file size) and only plain data crossing to the grader",
    )


def style_of(settings: Settings) -> gradescope.Style:
    try:
        return gradescope.Style(
            gradescope.Visibility(settings.hidden_visibility),
            gradescope.OutputFormat(settings.output_format),
        )
    except ValueError as exc:
        raise AutograderError(
            f"{exc} in autograder.json; rebuild it with grader gradescope"
        ) from None


def student_uid(user: str) -> int:
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        raise AutograderError(
            f"there is no user {user} here: setup.sh creates it; rebuild the autograder image "
            "(on Gradescope: Configure Autograder, Update Autograder)"
        ) from None


def lock_down(layout: Layout) -> None:
    """Close the course, the results and earlier submissions' results (in
    submission_metadata.json) to every user but root."""
    layout.results.mkdir(parents=True, exist_ok=True)
    layout.root.chmod(0o711)  # others may pass through to the venv, not list
    for path, mode in ((layout.source, 0o700), (layout.results, 0o700), (layout.metadata, 0o600)):
        if path.exists():
            os.chown(path, 0, 0)
            path.chmod(mode)


def grade(layout: Layout) -> tuple[dict[str, Any], Confinement]:
    """Grade the submission; its results.json, restyled for Gradescope."""
    settings = Settings.read(layout.settings)
    style = style_of(settings)
    course = Course(layout.course, settings.assignment)
    course.check()
    uid = student_uid(settings.user)
    mode = confinement(settings.user)
    lock_down(layout)
    worker_init()
    submissions, warnings = collect([layout.submission])
    sub = submissions[0]
    job = Job(sub.id, sub.origin, sub.files, sub.problem, "")
    out = Path(tempfile.mkdtemp(prefix="grader-out-"))
    work = Path(tempfile.mkdtemp(prefix="grader-work-"))
    work.chmod(0o711)
    options = Options(
        timeout=settings.timeout,
        memory_mb=settings.memory_mb,
        sandbox=mode.jailed,
        run_as=None if mode.jailed else uid,
    )
    try:
        grade_job(job, course, out, work, options)
        data = json.loads((out / job.id / "results.json").read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    notes = [*([mode.note] if mode.note else []), *warnings]
    return gradescope.restyle(data, style, notes), mode


def failed(reason: str) -> dict[str, Any]:
    """The results when the autograder itself could not grade."""
    return {
        "score": 0,
        "output": f"This submission could not be graded: {reason}. Your course staff can see "
        "the details in the autograder output.",
        "tests": [],
    }


def write(layout: Layout, data: dict[str, Any]) -> None:
    layout.results.mkdir(parents=True, exist_ok=True)
    temporary = layout.results / ".results.json.tmp"
    temporary.write_text(json.dumps(data, indent=2, allow_nan=False), encoding="utf-8")
    os.replace(temporary, layout.results_json)


def main() -> int:
    layout = Layout.here()
    start = time.perf_counter()
    try:
        data, mode = grade(layout)
    except (AutograderError, BatchError, PackageError, OSError) as exc:
        print(f"run_autograder: {exc}", file=sys.stderr)
        write(layout, failed(str(exc)))
        return 1
    except Exception as exc:  # a bug of ours: the student still gets results
        traceback.print_exc()
        write(layout, failed(f"the grader failed ({type(exc).__name__})"))
        return 1
    write(layout, data)
    where = "sandbox" if mode.jailed else "unprivileged user, no namespaces"
    print(
        f"run_autograder: {data['score']:g}/{data.get('max_score', 0):g} in "
        f"{time.perf_counter() - start:.1f} s ({where}); wrote {layout.results_json}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
