"""Turn per-test records into a graded session: task totals, the score, and
the Gradescope ``results.json``. Everything here is plain data in, plain data
out, so the plugin, the HTML report and batch grading share it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

TestRecord = dict[str, Any]
Session = dict[str, Any]


def _task_key(task_id: str) -> tuple[Any, ...]:
    """Sort "1.2" before "1.10"."""
    return tuple(int(p) if p.isdigit() else p for p in task_id.split("."))


def task_status(tests: list[TestRecord]) -> str:
    statuses = {t["status"] for t in tests}
    earned = sum(t["score"] for t in tests)
    if statuses <= {"passed", "skipped"} and "passed" in statuses:
        return "passed"
    if statuses <= {"not attempted", "skipped"}:
        return "not attempted"
    if earned > 0:
        return "partial"
    return "error" if "error" in statuses else "failed"


def tasks_of(tests: Iterable[TestRecord]) -> list[dict[str, Any]]:
    """One row per task: points earned/possible, status, the first problem."""
    grouped: dict[str, list[TestRecord]] = {}
    for test in tests:
        grouped.setdefault(test["task"], []).append(test)
    rows = []
    for task_id in sorted(grouped, key=_task_key):
        members = grouped[task_id]
        failing = [t for t in members if t["status"] not in ("passed", "skipped")]
        public = [t for t in failing if not t.get("hidden")]
        message = ""
        if public:  # a public failure explains the task; a hidden one must not leak
            message = public[0]["message"]
        elif failing:
            message = "hidden test failed"
        rows.append(
            {
                "id": task_id,
                "name": members[0]["task_name"],
                "score": sum(t["score"] for t in members),
                "max_score": sum(t["max_score"] for t in members),
                "status": task_status(members),
                "message": message,
            }
        )
    return rows


def build(
    tests: Iterable[TestRecord],
    *,
    submission: str,
    assignment: str | None,
    seed: int,
    execution_time: float,
) -> Session:
    """The session results that every renderer reads."""
    ordered = sorted(
        tests,
        key=lambda t: (
            _task_key(t["task"]),
            t["nodeid"].split("::")[0],
            t.get("line", 0),
            t["nodeid"],
        ),
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
        "tests": ordered,
    }


def gradescope(session: Mapping[str, Any]) -> dict[str, Any]:
    """Gradescope's results.json: score, max_score, execution_time, output,
    tests[] (name, number, score, max_score, status, output, tags,
    visibility). Hidden tests are shown only after the due date."""
    tests = []
    for t in session["tests"]:
        output = t["message"]
        diagnosis = t.get("diagnosis")
        if diagnosis and diagnosis.get("message") and diagnosis["message"] not in output:
            output += f"\n{diagnosis['message']}"
        tests.append(
            {
                "name": f"Task {t['task']} {t['task_name']}: {t['name']}",
                "number": t["task"],
                "score": t["score"],
                "max_score": t["max_score"],
                "status": "passed" if t["status"] == "passed" else "failed",
                "output": output,
                "tags": [f"task {t['task']}", t["status"]]
                + ([d["code"]] if (d := diagnosis) else []),
                "visibility": "after_due_date" if t.get("hidden") else "visible",
            }
        )
    lines = [
        f"Task {row['id']} {row['name']}: {row['score']:g}/{row['max_score']:g} {row['status']}"
        for row in session["tasks"]
    ]
    return {
        "score": session["score"],
        "max_score": session["max_score"],
        "execution_time": session["execution_time"],
        "output": "\n".join(lines),
        "tests": tests,
        "extra_data": {"backprop_grader": {k: v for k, v in session.items() if k != "tests"}},
    }
