"""Grade a whole class (``grader grade``): every submission in its own
sandbox, N trusted workers, results written atomically and journaled so a
killed batch resumes where it stopped."""

from __future__ import annotations

import hashlib
import multiprocessing
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from grader.batch.intake import Submission, collect
from grader.batch.journal import append_journal, read_journal
from grader.batch.records import BatchError, Course, Job, Options, Row
from grader.batch.worker import grade_job, grade_star, worker_init


def plan(subs: list[Submission], course_digest: str) -> list[Job]:
    jobs = []
    for sub in sorted(subs, key=lambda s: s.id):
        digest = hashlib.sha256((sub.digest() + course_digest).encode()).hexdigest()
        jobs.append(Job(sub.id, sub.origin, sub.files, sub.problem, digest))
    return jobs


class Progress:
    """A progress line with rate and ETA on stderr."""

    def __init__(self, total: int, stream: Any = None) -> None:
        self.total, self.done = total, 0
        self.start = time.perf_counter()
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = max(1, total // 20)

    def step(self, label: str) -> None:
        self.done += 1
        if not self.tty and self.done % self.every and self.done != self.total:
            return
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "." * (width - filled)
        text = f"[{bar}] {self.done}/{self.total} {rate:.1f}/s ETA {eta:.0f}s (last: {label})"
        end = "\r" if self.tty and self.done < self.total else "\n"
        self.stream.write(text[:120].ljust(120 if self.tty else 0) + end)
        self.stream.flush()


def run(
    paths: list[Path],
    course: Course,
    out: Path,
    options: Options,
    *,
    executor: Callable[[list[tuple[Any, ...]]], Iterable[Row]] | None = None,
    log: Callable[[str], None] = print,
) -> list[Row]:
    """Grade every submission under ``paths``; returns one row per submission."""
    course.check()
    _preflight(options)
    out.mkdir(parents=True, exist_ok=True)
    from grader.sandbox.confine import isolation

    subs, warnings = collect(paths)
    for warning in [
        *isolation(options.sandbox).notes,
        *warnings,
    ]:  # what confinement is missing, first
        log(f"warning: {warning}")
    jobs = plan(subs, course.digest())
    done = {} if options.force else read_journal(out)
    todo = [j for j in jobs if done.get(j.id) is None or done[j.id].digest != j.digest]
    skipped = len(jobs) - len(todo)
    if skipped:
        log(f"resuming: {skipped} submissions already graded (use --force to regrade)")
    work_root = Path(tempfile.mkdtemp(prefix="grader-work-"))
    work_root.chmod(0o711)
    arguments = [(job, course, out, work_root, options) for job in todo]
    progress = Progress(len(todo))
    rows = {j.id: done[j.id] for j in jobs if j.id in done and j not in todo}
    try:
        results = executor(arguments) if executor else _pool(arguments, options.workers)
        for row in results:
            append_journal(out, row)
            rows[row.id] = row
            progress.step(row.id)
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    ordered = [rows[j.id] for j in jobs if j.id in rows]
    from grader.batch.gradebook import write_gradebook, write_summary

    write_gradebook(out, ordered, course.assignment, canvas=options.canvas)
    write_summary(out, ordered, course.assignment)
    return ordered


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
        raise BatchError(f"grader grade: {exc}") from None


def _contains(outer: Path, inner: Path) -> bool:
    try:
        inner.resolve().relative_to(outer.resolve())
        return True
    except ValueError:
        return False


def _pool(arguments: list[tuple[Any, ...]], workers: int) -> Iterator[Row]:
    if workers <= 1:
        worker_init()
        for args in arguments:
            yield grade_job(*args)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=worker_init, maxtasksperchild=50) as pool:
        yield from pool.imap_unordered(grade_star, arguments)


__all__ = ["BatchError", "Course", "Options", "Row", "run"]
