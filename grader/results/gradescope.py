"""Gradescope's ``results.json`` from a session, and the per-test
``extra_data`` that our own readers (gradebook, summary) use.

Each test carries ``extra_data`` with ``task``, ``status`` (passed, failed,
not attempted, error, skipped) and ``diagnosis`` (``code`` and ``message``, or
None). Tags are for display on Gradescope only; nothing reads meaning from
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KEY = "backprop_grader"


def results_json(session: Mapping[str, Any]) -> dict[str, Any]:
    """Gradescope's results.json: score, max_score, execution_time, output,
    tests[] (name, number, score, max_score, status, output, tags,
    visibility, extra_data). Hidden tests are shown only after the due date."""
    tests = [_test(t) for t in session["tests"]]
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
        "extra_data": {KEY: {k: v for k, v in session.items() if k != "tests"}},
    }


def _test(t: Mapping[str, Any]) -> dict[str, Any]:
    output = t["message"]
    diagnosis = t.get("diagnosis")
    if diagnosis and diagnosis.get("message") and diagnosis["message"] not in output:
        output += f"\n{diagnosis['message']}"
    code = diagnosis["code"] if diagnosis else None
    return {
        "name": f"Task {t['task']} {t['task_name']}: {t['name']}",
        "number": t["task"],
        "score": t["score"],
        "max_score": t["max_score"],
        "status": "passed" if t["status"] == "passed" else "failed",
        "output": output,
        "tags": [f"task {t['task']}", t["status"], *([code] if code else [])],
        "visibility": "after_due_date" if t.get("hidden") else "visible",
        "extra_data": {
            "task": t["task"],
            "status": t["status"],
            "diagnosis": {"code": code, "message": diagnosis.get("message", "")}
            if diagnosis
            else None,
        },
    }


def status_of(test: Mapping[str, Any]) -> str:
    """A results.json test's own status (our extra_data; Gradescope's
    passed/failed for a file written by something else)."""
    extra = test.get("extra_data") or {}
    return str(extra.get("status") or test.get("status") or "failed")


def diagnosis_code_of(test: Mapping[str, Any]) -> str | None:
    """The diagnosis code of a results.json test, or None."""
    diagnosis = (test.get("extra_data") or {}).get("diagnosis")
    if isinstance(diagnosis, Mapping) and diagnosis.get("code"):
        return str(diagnosis["code"])
    return None
