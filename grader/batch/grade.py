"""Grade a whole class: every submission in its own sandbox, N trusted
workers, results written atomically and journaled so a killed batch resumes
where it stopped."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader import __version__
from grader.batch.intake import Submission, collect, lay_out, safe_id
from grader.course import templates
from grader.results import session as sessions

UID_BASE = 200_000
JOURNAL = "journal.jsonl"


@dataclass(frozen=True)
class Course:
    """Where an assignment's tests, template and reference live."""

    root: Path
    assignment: str

    @property
    def folder(self) -> Path:
        return self.root / "assignments" / self.assignment

    @property
    def template(self) -> Path:
        return self.folder / self.assignment

    @property
    def reference(self) -> Path:
        return self.root / "reference" / self.assignment

    @property
    def hidden(self) -> Path:
        return self.folder / "hidden"

    def check(self) -> None:
        for path, what in (
            (self.folder / "tests", "public tests"),
            (self.template, "template"),
            (self.reference, "reference"),
        ):
            if not path.is_dir():
                raise BatchError(
                    f"no {what} for assignment {self.assignment!r} at {path}; pass --course "
                    "with the folder that holds assignments/ and reference/"
                )

    def digest(self) -> str:
        """Changes whenever the tests, reference, template or grader change."""
        h = hashlib.sha256(__version__.encode())
        for base in (self.folder / "tests", self.hidden, self.template, self.reference):
            for path in sorted(base.rglob("*.py")) if base.is_dir() else []:
                h.update(str(path.relative_to(self.root)).encode() + path.read_bytes())
        return h.hexdigest()


class BatchError(Exception):
    """A problem with the batch as a whole (bad option, missing course)."""


@dataclass(frozen=True)
class Options:
    workers: int = 1
    timeout: float = 30.0
    memory_mb: int = 2048
    force: bool = False
    canvas: bool = False


@dataclass
class Job:
    id: str
    origin: str
    files: dict[str, bytes]
    problem: str | None
    digest: str
    uid: int


@dataclass
class Row:
    """What the coordinator keeps per submission (small, for the gradebook)."""

    id: str
    digest: str
    score: float
    max_score: float
    status: str
    seconds: float
    origin: str = ""
    notes: list[str] = field(default_factory=list)


# --- the worker side ------------------------------------------------------------


def grade_job(
    job: Job, course: Course, out: Path, work_root: Path, options: Options, hide: list[str]
) -> Row:
    """Grade one submission (in a trusted worker process) and write its files."""
    start = time.perf_counter()
    target = out / job.id
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{job.id}.", dir=out))
    notes: list[str] = []
    try:
        if job.problem is None:
            work = work_root / job.id
            notes = lay_out(Submission(job.id, job.origin, job.files), course.template, work)
            _run_pytest(job, course, work, staging, options, hide)
            shutil.rmtree(work, ignore_errors=True)
        if not (staging / "results.json").exists():
            _write_unreadable(job, course, staging)
        elif notes:
            _add_notes(staging / "results.json", notes)
        for name in ("results.json", "report.html"):
            if (staging / name).exists():
                os.replace(staging / name, target / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    data = json.loads((target / "results.json").read_text())
    extra = data.get("extra_data", {}).get("backprop_grader", {})
    status = "problem" if job.problem else _overall(extra.get("tasks", []))
    return Row(
        job.id,
        job.digest,
        float(data["score"]),
        float(data["max_score"]),
        status,
        time.perf_counter() - start,
        job.origin,
        notes,
    )


def _overall(tasks: list[dict[str, Any]]) -> str:
    statuses = {t.get("status") for t in tasks}
    if statuses == {"passed"}:
        return "passed"
    if statuses == {"not attempted"}:
        return "not attempted"
    return "error" if statuses == {"error"} else "graded"


def _run_pytest(
    job: Job, course: Course, work: Path, staging: Path, options: Options, hide: list[str]
) -> None:
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
        f"--grader-uid={job.uid}",
        f"--grader-hide={','.join(hide)}",
        f"--grader-timeout={options.timeout}",
        f"--grader-memory={options.memory_mb}",
        f"--grader-assignment={course.assignment}",
        f"--grader-name={job.id}",
        f"--grader-json={staging / 'results.json'}",
        f"--grader-report={staging / 'report.html'}",
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


def _write_unreadable(job: Job, course: Course, staging: Path) -> None:
    """A submission that could not be read or run still gets its results:
    every task at zero, with the reason."""
    reason = job.problem or "grading stopped before any test ran"
    records: list[dict[str, Any]] = [
        {
            "nodeid": f"{task.id}",
            "line": 0,
            "name": task.name,
            "task": task.id,
            "task_name": task.name,
            "score": 0.0,
            "max_score": task.points,
            "status": "error",
            "hidden": False,
            "message": reason,
            "diagnosis": None,
            "checks": [],
            "artifacts": {},
            "stdout": "",
            "stderr": "",
            "duration": 0.0,
        }
        for task in templates.tasks(course.reference)
    ]
    results = sessions.build(
        records, submission=job.origin, assignment=course.assignment, seed=0, execution_time=0.0
    )
    text = json.dumps(sessions.gradescope(results), indent=2, allow_nan=False)
    (staging / "results.json").write_text(text)
    try:
        from grader.report import render_report

        (staging / "report.html").write_text(render_report(results))
    except ImportError:
        pass


def _worker_init() -> None:
    """Trusted workers: one BLAS thread each (a spinning multi-threaded BLAS
    starves the students' processes on a small machine). numpy is already
    loaded, so the limit is applied at runtime."""
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _grade_star(arguments: tuple[Any, ...]) -> Row:
    return grade_job(*arguments)


# --- the coordinator --------------------------------------------------------------


def read_journal(out: Path) -> dict[str, Row]:
    """Finished submissions; a torn last line (kill -9 mid-write) is ignored."""
    rows: dict[str, Row] = {}
    path = out / JOURNAL
    if not path.exists():
        return rows
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            data = json.loads(line)
            row = Row(**data)
        except (ValueError, TypeError):
            continue
        if (out / row.id / "results.json").exists():
            rows[row.id] = row
    return rows


def append_journal(out: Path, row: Row) -> None:
    """One line per finished submission, flushed to disk before moving on."""
    path = out / JOURNAL
    torn = False
    if path.exists() and path.stat().st_size:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b"\n"  # a write cut short by kill -9
    with open(path, "a", encoding="utf-8") as f:
        f.write(("\n" if torn else "") + json.dumps(asdict(row)) + "\n")
        f.flush()
        os.fsync(f.fileno())


def plan(subs: list[Submission], course_digest: str) -> list[Job]:
    jobs = []
    for index, sub in enumerate(sorted(subs, key=lambda s: s.id)):
        digest = hashlib.sha256((sub.digest() + course_digest).encode()).hexdigest()
        jobs.append(Job(sub.id, sub.origin, sub.files, sub.problem, digest, UID_BASE + index))
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
    _preflight()
    out.mkdir(parents=True, exist_ok=True)
    from grader.sandbox.confine import isolation

    subs, warnings = collect(paths)
    for warning in [*isolation().notes, *warnings]:  # what confinement is missing, first
        log(f"warning: {warning}")
    jobs = plan(subs, course.digest())
    done = {} if options.force else read_journal(out)
    todo = [j for j in jobs if done.get(j.id) is None or done[j.id].digest != j.digest]
    skipped = len(jobs) - len(todo)
    if skipped:
        log(f"resuming: {skipped} submissions already graded (use --force to regrade)")
    work_root = Path(tempfile.mkdtemp(prefix="grader-work-"))
    work_root.chmod(0o711)
    hide = sorted(
        {str(course.hidden), str(course.reference), str(out.resolve())}
        | {
            str(Path(j.origin.split(":")[0]).resolve().parent)
            for j in jobs
            if Path(j.origin.split(":")[0]).exists()
        }
    )
    hide = [h for h in hide if Path(h).is_dir() and not _contains(Path(h), course.folder)]
    arguments = [(job, course, out, work_root, options, hide) for job in todo]
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


def _preflight() -> None:
    """Students' processes can be started here, or the whole batch stops with
    the reason (rather than every submission ending as an error)."""
    from grader.sandbox.forkserver import ForkServer, ForkServerError

    try:
        ForkServer().close()
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
        _worker_init()
        for args in arguments:
            yield grade_job(*args)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_worker_init, maxtasksperchild=50) as pool:
        yield from pool.imap_unordered(_grade_star, arguments)


__all__ = ["BatchError", "Course", "Options", "Row", "run", "safe_id"]
