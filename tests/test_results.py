"""The typed record of one test's outcome, task totals and results.json."""

from __future__ import annotations

from grader.results import gradescope, session
from grader.results.outcome import TestOutcome, TestStatus


def outcome(task: str, status: str, points: float = 2.0, **extra: object) -> TestOutcome:
    return TestOutcome(
        nodeid=f"t.py::test_{task}_{status}",
        name=f"test_{task}",
        task=task,
        task_name=f"f{task}",
        max_score=points,
        status=TestStatus(status),
        message=status,
        **extra,  # type: ignore[arg-type]
    )


def test_an_outcome_crosses_as_plain_data_and_back():
    first = outcome("1.1", "failed", diagnosis={"code": "transposed", "message": "dw transposed"})
    data = first.to_dict()
    assert data["status"] == "failed" and data["score"] == 0.0
    assert TestOutcome.from_dict(data) == first
    assert outcome("1.1", "passed").score == 2.0


def test_task_totals_and_per_test_extra_data():
    tests = [
        outcome("1.10", "passed"),
        outcome("1.2", "failed", diagnosis={"code": "sign_flip", "message": "wrong sign"}),
        outcome("1.2", "passed", points=1.0),
        outcome("1.3", "not attempted"),
    ]
    built = session.build(tests, submission="s", assignment="a", seed=0, execution_time=1.0)
    assert [t["id"] for t in built["tasks"]] == ["1.2", "1.3", "1.10"]
    assert [t["status"] for t in built["tasks"]] == ["partial", "not attempted", "passed"]
    data = gradescope.results_json(built)
    assert data["score"] == 3.0 and data["max_score"] == 7.0
    wrong = next(t for t in data["tests"] if t["status"] == "failed" and t["number"] == "1.2")
    assert wrong["extra_data"] == {
        "task": "1.2",
        "status": "failed",
        "diagnosis": {"code": "sign_flip", "message": "wrong sign"},
    }
    assert gradescope.status_of(wrong) == "failed"
    assert gradescope.diagnosis_code_of(wrong) == "sign_flip"
    absent = next(t for t in data["tests"] if t["number"] == "1.3")
    assert gradescope.status_of(absent) == "not attempted"
    assert gradescope.diagnosis_code_of(absent) is None
