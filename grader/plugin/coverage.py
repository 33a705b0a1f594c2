"""How much of the homework a run covered: ``-k``, ``-m``, ``--lf``,
``--grader-tasks``, ``-x`` or test ids on the command line leave tasks out,
and then neither the scoreboard nor the report may show a total as if it were
the homework's score."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class Coverage:
    """The tasks a run ran in full, the tasks its test files hold, and what
    left the others out ("-k softmax")."""

    ran: int
    total: int
    reasons: tuple[str, ...] = ()
    skipped_files: int = 0  # test files --lf did not even read: their tasks are not counted

    @property
    def partial(self) -> bool:
        return self.ran < self.total or self.skipped_files > 0

    def sentence(self) -> str:
        """The run's coverage in words, e.g. "This run covered 1 of 15 tasks
        (-k softmax): no total score. ..." """
        why = f" ({', '.join(self.reasons)})" if self.reasons else ""
        least = "at least " if self.skipped_files else ""
        return (
            f"This run covered {self.ran} of {least}{self.total} "
            f"task{'' if self.total == 1 else 's'}{why}: no total score. "
            "Run pytest with no options for your score."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ran": self.ran,
            "total": self.total,
            "reasons": list(self.reasons),
            "skipped_files": self.skipped_files,
        }

    @classmethod
    def from_results(cls, results: Mapping[str, Any]) -> Coverage | None:
        """The coverage a session records, or None (a session from elsewhere)."""
        data = results.get("coverage")
        if not isinstance(data, Mapping):
            return None
        try:
            reasons = tuple(str(r) for r in data.get("reasons") or ())
            skipped = int(data.get("skipped_files") or 0)
            return cls(int(data["ran"]), int(data["total"]), reasons, skipped)
        except (KeyError, TypeError, ValueError):
            return None


def measure(
    known: Mapping[str, str],
    ran: Iterable[tuple[str, str]],
    reasons: list[str],
    skipped_files: int = 0,
) -> Coverage:
    """``known``: every graded test the test files hold (node id -> task);
    ``ran``: (node id, task) of every test that ran. A task counts as run when
    each of its known tests ran."""
    tests: dict[str, set[str]] = {}
    for nodeid, task in known.items():
        tests.setdefault(task, set()).add(nodeid)
    done: dict[str, set[str]] = {}
    for nodeid, task in ran:
        tests.setdefault(task, set()).add(nodeid)
        done.setdefault(task, set()).add(nodeid)
    complete = sum(1 for task, ids in tests.items() if ids <= done.get(task, set()))
    return Coverage(complete, len(tests), tuple(reasons), skipped_files)


def reasons(config: pytest.Config, tasks: str | None) -> list[str]:
    """The options of this run that select fewer tests, as the student typed them."""
    found = []
    if config.getoption("keyword", ""):
        found.append(f"-k {config.getoption('keyword')}")
    if config.getoption("markexpr", ""):
        found.append(f"-m {config.getoption('markexpr')}")
    if config.getoption("lf", False):
        found.append("--lf")
    if tasks:
        found.append(f"--grader-tasks={tasks}")
    maxfail = config.getoption("maxfail", 0) or 0
    if maxfail:
        found.append("-x" if maxfail == 1 else f"--maxfail={maxfail}")
    if config.getoption("deselect", None):
        found.append("--deselect")
    if any("::" in str(arg) for arg in config.args):
        found.append("test ids on the command line")
    return found
