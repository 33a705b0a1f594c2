"""What batch grading passes around: the course, the options, one job per
submission and the small row the coordinator keeps for each."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

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


@dataclass
class Job:
    id: str
    origin: str
    files: dict[str, bytes]
    problem: str | None
    digest: str


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
