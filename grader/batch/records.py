"""What batch grading passes around: the course, the options, one job per
submission and the small row the coordinator keeps for each."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum
from importlib import metadata
from pathlib import Path

from grader.course import templates

# The output folder's own files. Every one of them has a dot in its name, and a
# submission id never does (intake.safe_id), so the two can never collide.
JOURNAL = "journal.jsonl"
GRADEBOOK = "gradebook.csv"
SUMMARY = "summary.html"


class Status(str, Enum):
    """A submission's overall status (one gradebook cell, one summary count)."""

    PASSED = "passed"
    GRADED = "graded"
    NOT_ATTEMPTED = "not attempted"
    ERROR = "error"
    EMPTY = "empty submission"  # nothing to grade: no .py or .ipynb files
    UNREADABLE = "unreadable submission"  # a broken notebook or archive, a file too large


@dataclass(frozen=True)
class Problem:
    """Why a student's submission cannot be graded; it still gets its row."""

    status: Status
    reason: str

    def __str__(self) -> str:
        return f"{self.status.value}: {self.reason}"


@dataclass(frozen=True)
class Student:
    """Who a submission belongs to, as the LMS download says (Canvas user id,
    the name in its file names, whether it was late)."""

    lms_id: str = ""
    name: str = ""
    late: bool = False


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

    def known(self) -> list[str]:
        """The assignments of this course (folders with public tests)."""
        folder = self.root / "assignments"
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if (p / "tests").is_dir())

    def check(self) -> None:
        """The course can grade this assignment, or the one line that says why not."""
        if not (self.root / "assignments").is_dir():
            raise BatchError(
                f"no assignments/ folder in {self.root}; pass --course with the folder that "
                "holds assignments/ and reference/"
            )
        if not (self.folder / "tests").is_dir():
            known = self.known()
            raise BatchError(
                f"unknown assignment {self.assignment!r}: the course at {self.root} has "
                + (", ".join(known) if known else "no assignments with tests")
                + "; pass one of them with -a"
            )
        for path, what in ((self.template, "template"), (self.reference, "reference")):
            if not path.is_dir():
                raise BatchError(
                    f"no {what} for assignment {self.assignment!r} at {path}; pass --course "
                    "with the folder that holds assignments/ and reference/"
                )
        try:
            stale = templates.stale(self.reference, self.template)
        except (templates.TemplateError, SyntaxError, OSError) as exc:
            raise BatchError(
                f"the reference of {self.assignment!r} cannot be read: {exc}"
            ) from None
        if stale:
            raise BatchError(
                f"template module {stale[0]}; run grader make-templates {self.assignment} "
                "before grading"
            )

    def digest(self) -> str:
        """Changes whenever the tests, reference, template or grader change."""
        h = hashlib.sha256(metadata.version("backprop-grader").encode())
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
    budget: float = 900.0  # seconds all calls of one submission may take
    force: bool = False
    canvas: bool = False
    sandbox: bool = True  # False: --no-sandbox
    run_as: int | None = None  # with --no-sandbox, as root: the students' user id
    roster: Path | None = None  # a Canvas gradebook export naming every student
    canvas_column: str = ""  # the Canvas assignment column, "Name (id)"


@dataclass
class Job:
    id: str
    origin: str
    files: dict[str, bytes]
    problem: Problem | None
    digest: str
    student: Student = field(default_factory=Student)
    notes: list[str] = field(default_factory=list)  # what intake did or skipped


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
    reason: str = ""  # why an empty or unreadable submission could not be graded
    assignment: str = ""
    lms_id: str = ""
    name: str = ""
    late: bool = False

    @property
    def status_text(self) -> str:
        """The status as the gradebook shows it, with the reason when there is one."""
        return f"{self.status}: {self.reason}" if self.reason else self.status
