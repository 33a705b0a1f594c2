"""One graded test's outcome: the record the plugin makes for every test that
grades a task, and that batch grading makes for a submission it could not run.

It crosses process boundaries (pytest-xdist's reports) as ``to_dict()`` and
comes back with ``from_dict``; everything downstream (task totals, the
scoreboard, the reports, results.json) reads these fields by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any


class TestStatus(str, Enum):
    """How one test ended."""

    __test__ = False  # not a pytest test class

    PASSED = "passed"
    FAILED = "failed"
    NOT_ATTEMPTED = "not attempted"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass
class TestOutcome:
    """What one test found out about one task of a submission."""

    __test__ = False  # not a pytest test class

    nodeid: str
    name: str
    task: str
    task_name: str
    max_score: float
    status: TestStatus
    message: str
    hidden: bool = False
    line: int = 0
    diagnosis: dict[str, Any] | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0

    def __post_init__(self) -> None:
        self.status = TestStatus(self.status)

    @property
    def score(self) -> float:
        """All the test's points when it passed, none otherwise."""
        return self.max_score if self.status is TestStatus.PASSED else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for xdist, JSON and the report), score included. Its
        fields hold plain data already: the containers are copied one level
        (``asdict`` deep-copies every value, a loss curve's thousands of points
        included, twice per test)."""
        data = {f.name: _copied(getattr(self, f.name)) for f in fields(self)}
        data["status"] = self.status.value
        data["score"] = self.score
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestOutcome:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


def _copied(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value
