"""Gradescope's ``results.json`` from a session, and the per-test
``extra_data`` that our own readers (gradebook, summary) use.

Each test carries ``extra_data`` with ``task``, ``status`` (passed, failed,
not attempted, error, skipped), ``diagnosis`` (``code`` and ``message``, or
None), ``hidden``, ``message`` and ``worst`` (the worst element of the first
wrong gradient, or None). Tags are for display on Gradescope only; nothing
reads meaning from them. Each test's ``number`` is unique: the task and the
test's place in it ("1.1.1", "1.1.2", ...).

How Gradescope shows the results is a ``Style``: when hidden tests become
visible (``Visibility``) and whether outputs are plain text or Markdown
(``OutputFormat``). ``restyle`` applies one to a results.json written with
another, from the ``extra_data`` alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from grader.results import markdown

KEY = "backprop_grader"


class Visibility(str, Enum):
    """When Gradescope shows a hidden test to the student."""

    HIDDEN = "hidden"  # never
    AFTER_DUE_DATE = "after_due_date"
    AFTER_PUBLISHED = "after_published"  # once the grades are published


class OutputFormat(str, Enum):
    """How Gradescope renders ``output`` fields."""

    TEXT = "text"
    MD = "md"


WHEN = {
    Visibility.HIDDEN: "never shown to you",
    Visibility.AFTER_DUE_DATE: "shown after the due date",
    Visibility.AFTER_PUBLISHED: "shown once the grades are published",
}


@dataclass(frozen=True)
class Style:
    """How Gradescope presents a results.json."""

    hidden: Visibility = Visibility.AFTER_DUE_DATE
    output_format: OutputFormat = OutputFormat.TEXT


def results_json(session: Mapping[str, Any], style: Style = Style()) -> dict[str, Any]:
    """Gradescope's results.json: score, max_score, execution_time, output,
    tests[] (name, number, score, max_score, status, output, tags,
    visibility, extra_data)."""
    numbers: dict[str, int] = {}
    tests = []
    for t in session["tests"]:
        numbers[t["task"]] = numbers.get(t["task"], 0) + 1
        tests.append(_test(t, f"{t['task']}.{numbers[t['task']]}"))
    data = {
        "score": session["score"],
        "max_score": session["max_score"],
        "execution_time": session["execution_time"],
        "output": "",
        "tests": tests,
        "extra_data": {KEY: {k: v for k, v in session.items() if k != "tests"}},
    }
    return restyle(data, style)


def restyle(data: Mapping[str, Any], style: Style, notes: Sequence[str] = ()) -> dict[str, Any]:
    """The same results with every ``output`` and ``visibility`` rebuilt in
    ``style`` from the tests' ``extra_data`` (plus ``notes`` for the whole
    submission, and those intake recorded in the session's extra_data)."""
    session = dict((data.get("extra_data") or {}).get(KEY) or {})
    said = [*session.get("notes", []), *notes]
    if said:
        session["notes"] = said
    out = {k: v for k, v in data.items() if k not in ("output_format", "test_output_format")}
    out["extra_data"] = {**(data.get("extra_data") or {}), KEY: session}
    tests = [_styled(t, style) for t in data.get("tests", [])]
    out["tests"] = tests
    if style.output_format is OutputFormat.MD:
        out["output"] = _summary_md(session, tests, style, said)
        out["output_format"] = out["test_output_format"] = OutputFormat.MD.value
    else:
        out["output"] = _summary_text(session, said)
    return out


def _summary_text(session: Mapping[str, Any], notes: Iterable[str]) -> str:
    lines = [f"note: {n}" for n in notes]
    lines += [
        f"Task {row['id']} {row['name']}: {row['score']:g}/{row['max_score']:g} {row['status']}"
        for row in session.get("tasks", [])
    ]
    return "\n".join(lines)


def _summary_md(
    session: Mapping[str, Any],
    tests: list[dict[str, Any]],
    style: Style,
    notes: Iterable[str],
) -> str:
    """What the student sees above the tests: the points of the tests they
    can see, task by task, and how many hidden tests there are (never their
    results); no links (nothing of ours is reachable from Gradescope)."""
    names = {str(row.get("id")): str(row.get("name", "")) for row in session.get("tasks", [])}
    shown: dict[str, list[float]] = {}
    hidden_points, hidden_count = 0.0, 0
    for test in tests:
        extra = test.get("extra_data") or {}
        if extra.get("hidden"):
            hidden_count += 1
            hidden_points += float(test.get("max_score") or 0)
            continue
        got = shown.setdefault(str(extra.get("task", test.get("number"))), [0.0, 0.0])
        got[0] += float(test.get("score") or 0)
        got[1] += float(test.get("max_score") or 0)
    earned = sum(v[0] for v in shown.values())
    possible = sum(v[1] for v in shown.values())
    lines = [f"**Tests shown here: {earned:g} of {possible:g} points**", ""]
    for task, (score, most) in shown.items():
        mark = "passed" if score == most else "not yet"
        label = markdown.literal(f"Task {task} {names.get(task, '')}".strip())
        lines.append(f"- {label}: {score:g}/{most:g} ({mark})")
    if hidden_count:
        lines += [
            "",
            f"{hidden_count} hidden test{'s' if hidden_count != 1 else ''} "
            f"({hidden_points:g} points) {WHEN[style.hidden]}.",
        ]
    if notes:
        lines += ["", *(f"- note: {markdown.literal(str(n))}" for n in notes)]
    return "\n".join(lines)


def _test(t: Mapping[str, Any], number: str) -> dict[str, Any]:
    diagnosis = t.get("diagnosis")
    code = diagnosis["code"] if diagnosis else None
    return {
        "name": f"Task {t['task']} {t['task_name']}: {t['name']}",
        "number": number,
        "score": t["score"],
        "max_score": t["max_score"],
        "status": "passed" if t["status"] == "passed" else "failed",
        "output": "",
        "tags": [f"task {t['task']}", t["status"], *([code] if code else [])],
        "visibility": "visible",
        "extra_data": {
            "task": t["task"],
            "status": t["status"],
            "diagnosis": {"code": code, "message": diagnosis.get("message", "")}
            if diagnosis
            else None,
            "hidden": bool(t.get("hidden")),
            "message": t["message"],
            "worst": worst_element(t.get("checks") or []),
        },
    }


def _styled(test: Mapping[str, Any], style: Style) -> dict[str, Any]:
    extra = test.get("extra_data") or {}
    out = {k: v for k, v in test.items() if k != "output_format"}
    hidden = bool(extra.get("hidden", test.get("visibility", "visible") != "visible"))
    out["visibility"] = style.hidden.value if hidden else "visible"
    if style.output_format is OutputFormat.MD:
        out["output"] = _test_md(extra)
        out["output_format"] = OutputFormat.MD.value
    else:
        out["output"] = _test_text(extra, str(test.get("output", "")))
    return out


def _test_text(extra: Mapping[str, Any], given: str) -> str:
    if "message" not in extra:  # written by something else: keep what it said
        return given
    output = str(extra["message"])
    diagnosis = extra.get("diagnosis") or {}
    said = str(diagnosis.get("message") or "")
    if said and said not in output:
        output += f"\n{said}"
    return output


def _test_md(extra: Mapping[str, Any]) -> str:
    """One test for Gradescope's Markdown: the status and message, the
    diagnosis (when it says more), the worst element."""
    status = str(extra.get("status") or "failed")
    message = str(extra.get("message") or "")
    lines = [f"**{markdown.literal(status.capitalize())}.** {markdown.literal(message)}".rstrip()]
    if status == "passed":
        return lines[0]
    diagnosis = extra.get("diagnosis") or {}
    said = str(diagnosis.get("message") or "")
    if said and said != message:
        lines.append(f"- Diagnosis: {markdown.literal(said)}")
    if diagnosis.get("code"):
        lines.append(f"- Mistake code: {markdown.code(str(diagnosis['code']))}")
    worst = extra.get("worst")
    if isinstance(worst, Mapping):
        index = ", ".join(str(i) for i in worst.get("index") or [])
        where = markdown.code(f"{worst.get('tensor', '?')}[{index}]")
        expected, got, error = (
            markdown.code(_num(worst.get(k))) for k in ("expected", "got", "rel_error")
        )
        lines.append(
            f"- Worst element: {where} expected {expected}, got {got} (relative error {error})"
        )
    return "\n".join(lines)


def _num(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "not a number"
    return f"{value:.6g}" if math.isfinite(value) else str(value)


def worst_element(checks: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The worst element of the first wrong gradient of a test's checks."""
    for check in checks:
        for tensor in check.get("tensors") or []:
            worst = tensor.get("worst") or []
            if tensor.get("status") != "passed" and worst:
                first = worst[0]
                return {
                    "check": check.get("name"),
                    "tensor": tensor.get("name"),
                    "index": list(first.get("index") or []),
                    "expected": first.get("expected"),
                    "got": first.get("got"),
                    "rel_error": first.get("rel_error"),
                }
    return None


def status_of(test: Mapping[str, Any]) -> str:
    """A results.json test's own status (our extra_data; Gradescope's
    passed/failed for a file written by something else)."""
    extra = test.get("extra_data") or {}
    return str(extra.get("status") or test.get("status") or "failed")


def task_of(test: Mapping[str, Any]) -> str:
    """The task a results.json test grades (our extra_data; its number for a
    file written by something else)."""
    extra = test.get("extra_data") or {}
    return str(extra.get("task") or test.get("number") or "-")


def diagnosis_code_of(test: Mapping[str, Any]) -> str | None:
    """The diagnosis code of a results.json test, or None."""
    diagnosis = (test.get("extra_data") or {}).get("diagnosis")
    if isinstance(diagnosis, Mapping) and diagnosis.get("code"):
        return str(diagnosis["code"])
    return None
