"""The typed record of one test's outcome, task totals and results.json."""

from __future__ import annotations

import json
import re

import pytest

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
    wrong = next(t for t in data["tests"] if t["status"] == "failed" and t["number"] == "1.2.1")
    assert wrong["extra_data"] == {
        "task": "1.2",
        "status": "failed",
        "diagnosis": {"code": "sign_flip", "message": "wrong sign"},
        "hidden": False,
        "message": "failed",
        "worst": None,
    }
    assert gradescope.status_of(wrong) == "failed"
    assert gradescope.task_of(wrong) == "1.2"
    assert gradescope.diagnosis_code_of(wrong) == "sign_flip"
    absent = next(t for t in data["tests"] if t["number"] == "1.3.1")
    assert gradescope.status_of(absent) == "not attempted"
    assert gradescope.diagnosis_code_of(absent) is None


def worst_check(tensor: str = "dw") -> dict[str, object]:
    """A check record as CheckResult.to_dict() gives it, with one wrong tensor."""
    return {
        "name": "linear_backward",
        "tensors": [
            {"name": "dx", "status": "passed", "worst": []},
            {
                "name": tensor,
                "status": "failed",
                "worst": [
                    {"index": [2, 3], "expected": 0.25, "got": -1.5, "rel_error": 7.0},
                    {"index": [0, 0], "expected": 1.0, "got": 1.1, "rel_error": 0.1},
                ],
            },
        ],
    }


def graded(*tests: TestOutcome) -> dict:
    return session.build(tests, submission="s", assignment="layers", seed=0, execution_time=1.0)


def test_every_test_has_its_own_number_within_its_task():
    built = graded(
        outcome("1.1", "passed"),
        outcome("1.1", "failed", points=1.0),
        outcome("1.1", "passed", points=3.0, hidden=True),
        outcome("1.2", "passed"),
    )
    numbers = [t["number"] for t in gradescope.results_json(built)["tests"]]
    assert len(set(numbers)) == len(numbers)
    assert sorted(numbers) == ["1.1.1", "1.1.2", "1.1.3", "1.2.1"]
    assert all(
        gradescope.task_of(t) == t["number"].rsplit(".", 1)[0]
        for t in gradescope.results_json(built)["tests"]
    )


@pytest.mark.parametrize("when", list(gradescope.Visibility))
def test_hidden_tests_take_the_chosen_visibility_and_public_ones_stay_visible(when):
    built = graded(outcome("1.1", "passed"), outcome("1.1", "failed", hidden=True))
    data = gradescope.results_json(built, gradescope.Style(hidden=when))
    seen = {t["extra_data"]["hidden"]: t["visibility"] for t in data["tests"]}
    assert seen == {False: "visible", True: when.value}


def test_markdown_output_names_the_diagnosis_and_the_worst_element():
    wrong = outcome(
        "1.1",
        "failed",
        points=3.0,
        diagnosis={"code": "transposed", "message": "dw has the right values but transposed"},
        checks=[worst_check()],
    )
    wrong.message = "dw is wrong"
    style = gradescope.Style(output_format=gradescope.OutputFormat.MD)
    data = gradescope.results_json(graded(wrong, outcome("1.2", "passed")), style)
    assert data["output_format"] == data["test_output_format"] == "md"
    test = data["tests"][0]
    assert test["output_format"] == "md"
    assert test["extra_data"]["worst"] == {
        "check": "linear_backward",
        "tensor": "dw",
        "index": [2, 3],
        "expected": 0.25,
        "got": -1.5,
        "rel_error": 7.0,
    }
    text = test["output"]
    assert text.startswith("**Failed.** dw is wrong")
    assert "Diagnosis: dw has the right values but transposed" in text
    assert "`transposed`" in text
    assert "Worst element: `dw[2, 3]` expected `0.25`, got `-1.5` (relative error `7`)" in text
    summary = data["output"]
    assert "3 of 5" not in summary and "2 of 5 points" in summary
    assert "http" not in summary and "](" not in summary and "report.html" not in summary


def test_markdown_makes_student_text_literal():
    evil = outcome("1.1", "error")
    evil.message = "boom <img src=x onerror=alert(1)> [click](http://evil) **bold**\n# heading"
    style = gradescope.Style(output_format=gradescope.OutputFormat.MD)
    text = gradescope.results_json(graded(evil), style)["tests"][0]["output"]
    bare = re.sub(r"\\.", "", text.split("** ", 1)[1])  # without the escaped marks
    assert not set("<>[]()*#`") & set(bare), bare
    assert "\n" not in text
    assert "\\<img src=x onerror=alert\\(1\\)\\>" in text


def test_the_summary_never_reveals_hidden_results_before_they_are_shown():
    built = graded(
        outcome("1.1", "passed", points=2.0),
        outcome("1.1", "failed", points=5.0, hidden=True),
    )
    style = gradescope.Style(gradescope.Visibility.AFTER_PUBLISHED, gradescope.OutputFormat.MD)
    summary = gradescope.results_json(built, style)["output"]
    assert "2 of 2 points" in summary
    assert "1 hidden test (5 points) shown once the grades are published" in summary
    assert "failed" not in summary


def test_restyle_rebuilds_a_written_results_json_from_its_extra_data():
    built = graded(outcome("1.1", "failed", hidden=True), outcome("1.2", "passed"))
    written = json.loads(json.dumps(gradescope.results_json(built)))
    md = gradescope.Style(gradescope.Visibility.HIDDEN, gradescope.OutputFormat.MD)
    again = gradescope.restyle(written, md, notes=["your code ran as an unprivileged user"])
    assert again["tests"][0]["visibility"] == "hidden"
    assert again["tests"][0]["output"].startswith("**Failed.**")
    assert "note: your code ran as an unprivileged user" in again["output"]
    assert again["extra_data"]["backprop_grader"]["notes"] == [
        "your code ran as an unprivileged user"
    ]
    back = gradescope.restyle(again, gradescope.Style())
    assert back["tests"] == written["tests"]
    assert "output_format" not in back
