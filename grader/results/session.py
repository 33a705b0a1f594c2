"""Turn per-test outcomes into a graded session: task totals and the score.
The session is plain data (what the report, the scoreboard and results.json
read), so the plugin and batch grading share it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from grader.results.outcome import TestOutcome, TestStatus

Session = dict[str, Any]


def _task_key(task_id: str) -> tuple[Any, ...]:
    """Sort "1.2" before "1.10"."""
    return tuple(int(p) if p.isdigit() else p for p in task_id.split("."))


def task_status(tests: list[TestOutcome]) -> str:
    """passed, not attempted, partial, error or failed."""
    statuses = {t.status for t in tests}
    earned = sum(t.score for t in tests)
    if statuses <= {TestStatus.PASSED, TestStatus.SKIPPED} and TestStatus.PASSED in statuses:
        return "passed"
    if statuses <= {TestStatus.NOT_ATTEMPTED, TestStatus.SKIPPED}:
        return "not attempted"
    if earned > 0:
        return "partial"
    return "error" if TestStatus.ERROR in statuses else "failed"


def hidden_failure(test: TestOutcome) -> str:
    """What kind of hidden case failed, and how, without its inputs or
    expected values: "fails a hidden test (saturated): non finite"."""
    case = test.name.split("[", 1)[0].removeprefix("test_").removeprefix("hidden_")
    function = test.task_name.lower().replace(".", "_")
    case = case.removeprefix(function).strip("_") or case
    how = "gives a wrong result"
    code = (test.diagnosis or {}).get("code")
    if test.status is TestStatus.ERROR:
        how = "raises an error"
    elif code == "non_finite" or re.search(r"\b(nan|inf)\b", test.message.lower()):
        how = "the result has NaN or infinite values"
    elif isinstance(code, str) and code != "unrecognised":
        how = code.replace("_", " ")
    return f"fails a hidden test ({case.replace('_', ' ')}): {how}"


def tasks_of(tests: Iterable[TestOutcome]) -> list[dict[str, Any]]:
    """One row per task: points earned/possible, status, the first problem."""
    grouped: dict[str, list[TestOutcome]] = {}
    for test in tests:
        grouped.setdefault(test.task, []).append(test)
    rows = []
    for task_id in sorted(grouped, key=_task_key):
        members = grouped[task_id]
        failing = [t for t in members if t.status not in (TestStatus.PASSED, TestStatus.SKIPPED)]
        public = [t for t in failing if not t.hidden]
        message = ""
        if public:  # a public failure explains the task; a hidden one must not leak
            message = public[0].message
        elif failing:
            message = hidden_failure(failing[0])
        rows.append(
            {
                "id": task_id,
                "name": members[0].task_name,
                "score": sum(t.score for t in members),
                "max_score": sum(t.max_score for t in members),
                "status": task_status(members),
                "message": message,
            }
        )
    return rows


def build(
    tests: Iterable[TestOutcome],
    *,
    submission: str,
    assignment: str | None,
    seed: int,
    execution_time: float,
) -> Session:
    """The session results that every renderer reads."""
    ordered = sorted(
        tests,
        key=lambda t: (_task_key(t.task), t.nodeid.split("::")[0], t.line, t.nodeid),
    )
    tasks = tasks_of(ordered)
    return {
        "submission": submission,
        "assignment": assignment,
        "seed": seed,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "score": sum(t["score"] for t in tasks),
        "max_score": sum(t["max_score"] for t in tasks),
        "execution_time": round(execution_time, 3),
        "tasks": tasks,
        "tests": [t.to_dict() for t in ordered],
    }
