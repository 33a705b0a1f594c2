"""Grade a whole class (``grader grade``): every submission in its own
sandbox, N trusted workers, results written atomically and journaled so a
killed batch resumes where it stopped."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from grader.batch.intake import Submission, collect
from grader.batch.journal import append_journal, read_journal
from grader.batch.printable import printable
from grader.batch.progress import BatchProgress
from grader.batch.records import JOURNAL, BatchError, Course, Job, Options, Row
from grader.batch.roster import Roster, read_roster
from grader.batch.worker import grade_job, grade_star, worker_init


def plan(subs: list[Submission], course_digest: str) -> list[Job]:
    jobs = []
    for sub in sorted(subs, key=lambda s: s.id):
        digest = hashlib.sha256((sub.digest() + course_digest).encode()).hexdigest()
        jobs.append(
            Job(
                sub.id,
                sub.origin,
                sub.files,
                sub.problem,
                digest,
                sub.student,
                sub.notes,
            )
        )
    return jobs


def run(
    paths: list[Path],
    course: Course,
    out: Path,
    options: Options,
    *,
    executor: Callable[[list[tuple[Any, ...]]], Iterable[Row]] | None = None,
    log: Callable[[str], None] = print,
) -> list[Row]:
    """Grade every submission under ``paths``; returns this run's rows (the
    gradebook and summary cover every submission graded into ``out``).

    A TA's slip (course, options, paths, output folder) raises BatchError
    before anything is graded."""
    course.check()
    roster = read_roster(options.roster) if options.roster else None
    _check_out(out, course.assignment)
    modules = {p.name for p in course.template.glob("*.py")}
    subs, warnings = collect(paths, modules)
    _preflight(options)
    out.mkdir(parents=True, exist_ok=True)
    from grader.sandbox.confine import isolation

    notes = isolation(options.sandbox).notes
    for warning in [*notes, *warnings]:  # what confinement is missing, first
        log(f"warning: {printable(warning)}")
    jobs = plan(subs, course.digest())
    journal = read_journal(out)
    done = {} if options.force else journal
    todo = [j for j in jobs if done.get(j.id) is None or done[j.id].digest != j.digest]
    skipped = len(jobs) - len(todo)
    if skipped:
        log(f"resuming: {skipped} submissions already graded (use --force to regrade)")
    work_root = scratch_folder(out)
    arguments = [(job, course, out, work_root, options) for job in todo]
    rows = {j.id: done[j.id] for j in jobs if j.id in done and j not in todo}
    try:
        with BatchProgress(len(todo)) as progress:
            results = executor(arguments) if executor else _pool(arguments, options.workers)
            for row in results:
                append_journal(out, row)
                rows[row.id] = row
                progress.step(row.id)
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    everyone = [
        row
        for _, row in sorted(read_journal(out).items())
        if row.assignment in ("", course.assignment)
    ]
    from grader.batch.gradebook import write_gradebook, write_summary

    for warning in write_gradebook(
        out,
        everyone,
        course.assignment,
        canvas=options.canvas or roster is not None,
        roster=roster,
        column=options.canvas_column,
    ):
        log(f"warning: {printable(warning)}")
    write_summary(out, everyone, course.assignment)
    return [rows[j.id] for j in jobs if j.id in rows]


def _check_out(out: Path, assignment: str) -> None:
    """The output folder can take this assignment's results."""
    if out.exists() and not out.is_dir():
        raise BatchError(f"--out {printable(out)} is a file; choose a folder for the results")
    if not (out / JOURNAL).is_file():
        return
    others = sorted(
        {r.assignment for r in read_journal(out).values() if r.assignment not in ("", assignment)}
    )
    if others:
        raise BatchError(
            f"--out {printable(out)} holds grades of {', '.join(others)}; choose another --out "
            f"for {assignment}"
        )


WORK_PREFIX = ".work-"  # submissions laid out for grading, inside --out (a dot: never an id)


def scratch_folder(out: Path) -> Path:
    """A scratch folder inside ``out``, so that a batch killed with kill -9
    leaves nothing outside it; those of batches that are gone are removed."""
    for stale in out.glob(f"{WORK_PREFIX}*"):
        owner = stale.name[len(WORK_PREFIX) :]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            shutil.rmtree(stale, ignore_errors=True)
    root = out / f"{WORK_PREFIX}{os.getpid()}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(mode=0o711)
    return root


def _preflight(options: Options) -> None:
    """Students' processes can be started here (in their jail, unless
    --no-sandbox), or the whole batch stops with the reason, rather than every
    submission ending as an error."""
    from grader.sandbox.confine import Limits
    from grader.sandbox.forkserver import ForkServer, ForkServerError, Setup

    limits = Limits(memory_mb=options.memory_mb)
    try:
        ForkServer(Setup.of(limits, options.sandbox, options.run_as)).close()
    except (ForkServerError, OSError) as exc:
        raise BatchError(str(exc)) from None


def _contains(outer: Path, inner: Path) -> bool:
    try:
        inner.resolve().relative_to(outer.resolve())
        return True
    except ValueError:
        return False


TASKS_PER_WORKER = 50  # submissions a worker grades before a fresh one takes over


def _pool(arguments: list[tuple[Any, ...]], workers: int) -> Iterator[Row]:
    if workers <= 1:
        worker_init()
        for args in arguments:
            yield grade_job(*args)
        return
    # spawned, not forked: the coordinator may run threads (the progress display),
    # and forking a threaded process is unsafe; and a spawned worker's parent is
    # the coordinator, whose death (kill -9 included) it follows (worker_init)
    context = multiprocessing.get_context("spawn")
    # A fresh pool for every TASKS_PER_WORKER submissions per worker bounds what a
    # long-lived worker accumulates. Not Pool(maxtasksperchild=...): a class of
    # 160 submissions hung at the end in 3 of 4 runs with it (the pool's own
    # terminate waited for a queue lock a replaced worker had left held).
    size = workers * TASKS_PER_WORKER
    for start in range(0, len(arguments), size):
        pool = context.Pool(workers, initializer=worker_init)
        try:
            yield from pool.imap_unordered(grade_star, arguments[start : start + size])
        except BaseException:
            pool.terminate()
            raise
        else:
            pool.close()
        finally:
            pool.join()


__all__ = ["BatchError", "Course", "Options", "Roster", "Row", "read_journal", "run"]
