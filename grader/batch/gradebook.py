"""Class-level outputs: ``gradebook.csv`` (plain or Canvas layout) and
``summary.html``. Both stream the per-submission ``results.json`` files one
at a time, so memory stays flat in the size of the class."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from grader.batch import canvas as canvas_csv
from grader.batch.printable import csv_cell
from grader.batch.records import GRADEBOOK, SUMMARY, Row
from grader.batch.roster import Roster, assignment_column
from grader.gradcheck.codes import Code
from grader.results.gradescope import diagnosis_code_of, status_of, task_of


class RowLike(Protocol):
    id: str
    score: float
    max_score: float
    status: str
    origin: str


R = TypeVar("R", bound=RowLike)


def _results(out: Path, rows: Sequence[R]) -> Iterator[tuple[R, dict[str, Any]]]:
    for row in rows:
        path = out / row.id / "results.json"
        try:
            yield row, json.loads(path.read_text())
        except (OSError, ValueError):
            yield row, {"tests": [], "score": row.score, "max_score": row.max_score}


def _columns(out: Path, rows: Sequence[RowLike]) -> tuple[list[str], list[str]]:
    """Task and test column names, in first-seen order."""
    tasks: dict[str, None] = {}
    tests: dict[str, None] = {}
    for _, data in _results(out, rows):
        for test in data.get("tests", []):
            tasks.setdefault(f"task {task_of(test)}", None)
            tests.setdefault(test["name"], None)
    return list(tasks), list(tests)


def write_gradebook(
    out: Path,
    rows: Sequence[Row],
    assignment: str,
    *,
    canvas: bool = False,
    roster: Roster | None = None,
    column: str = "",
) -> list[str]:
    """gradebook.csv for ``rows`` (every submission graded into ``out``):
    submission, score, max_score, status (with the reason of an empty or
    unreadable submission), then per-task and per-test points. With
    ``canvas``, Canvas's import layout (see ``canvas``), students taken from
    ``roster`` when given. Returns warnings for the TA. Every text cell is
    printable (no control characters) and never read as a formula."""
    path = out / GRADEBOOK
    temporary = path.with_name(f".{GRADEBOOK}.tmp")
    warnings: list[str] = []
    if canvas:
        maximum = max((r.max_score for r in rows), default=0.0)
        header, guessed = assignment_column(roster, assignment, column)
        entries = roster.entries if roster is not None else []
        warnings = [guessed] if guessed else []
        warnings += canvas_csv.write_csv(temporary, rows, header, maximum, entries)
        os.replace(temporary, path)
        return warnings
    with open(temporary, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        task_columns, test_columns = _columns(out, rows)
        writer.writerow(
            [
                "submission",
                "score",
                "max_score",
                "status",
                *(csv_cell(c) for c in task_columns),
                *(csv_cell(c) for c in test_columns),
            ]
        )
        for row, data in _results(out, rows):
            per_task: dict[str, float] = {}
            per_test: dict[str, float] = {}
            for test in data.get("tests", []):
                key = f"task {task_of(test)}"
                per_task[key] = per_task.get(key, 0.0) + float(test["score"])
                per_test[test["name"]] = float(test["score"])
            writer.writerow(
                [
                    csv_cell(row.id),
                    f"{row.score:g}",
                    f"{row.max_score:g}",
                    csv_cell(row.status_text),
                    *(f"{per_task.get(c, 0.0):g}" for c in task_columns),
                    *(f"{per_test[c]:g}" if c in per_test else "" for c in test_columns),
                ]
            )
    os.replace(temporary, path)
    return warnings


def summarize(out: Path, rows: Sequence[RowLike], assignment: str) -> dict[str, Any]:
    """The class picture: score histogram, pass rate per test, one line per
    submission, and clusters of submissions sharing a diagnosis.

    A submission counts once per task in the clusters, under the task's most
    specific diagnosis (``most_specific``): one whose tests say "transposed"
    and "unrecognised" is in the transposed cluster only.
    """
    maximum = max((r.max_score for r in rows), default=0.0)
    bins = 10
    histogram = [0] * bins
    for row in rows:
        fraction = row.score / maximum if maximum else 0.0
        histogram[min(int(fraction * bins), bins - 1)] += 1
    passes: dict[str, list[int]] = {}
    clusters: dict[tuple[str, str], list[str]] = {}
    task_names: dict[str, str] = {}
    submissions = []
    for row, data in _results(out, rows):
        codes: dict[str, list[str]] = {}  # task -> diagnosis codes of its unpassed tests
        for test in data.get("tests", []):
            counts = passes.setdefault(test["name"], [0, 0])
            counts[1] += 1
            status = status_of(test)
            counts[0] += status == "passed"
            code = diagnosis_code_of(test)
            if status not in ("passed", "skipped") and code is not None:
                codes.setdefault(task_of(test), []).append(code)
        tasks = (data.get("extra_data") or {}).get("backprop_grader", {}).get("tasks") or []
        for task in tasks:
            task_names.setdefault(str(task.get("id")), str(task.get("name", "")))
        chosen = {task: most_specific(found) for task, found in codes.items()}
        for task, code in chosen.items():
            clusters.setdefault((task, code), []).append(row.id)
        top = min(chosen.items(), key=lambda kv: _rank(kv[1]), default=None)
        submissions.append(
            {
                "id": row.id,
                "score": row.score,
                "max_score": row.max_score,
                "status": row.status,
                "tasks": len(tasks),
                "tasks_passed": sum(t.get("status") == "passed" for t in tasks),
                "top": {"task": top[0], "diagnosis": top[1]} if top else None,
            }
        )
    return {
        "assignment": assignment,
        "count": len(rows),
        "max_score": maximum,
        "mean": sum(r.score for r in rows) / len(rows) if rows else 0.0,
        "histogram": histogram,
        "items": [
            {"test": name, "passed": p, "total": t, "rate": p / t if t else 0.0}
            for name, (p, t) in passes.items()
        ],
        "submissions": submissions,
        "clusters": sorted(
            (
                {
                    "task": task,
                    "task_name": task_names.get(task, ""),
                    "diagnosis": code,
                    "submissions": members,
                }
                for (task, code), members in clusters.items()
            ),
            key=lambda c: (-len(c["submissions"]), _task_key(c["task"]), c["diagnosis"]),
        ),
        "statuses": dict(Counter(r.status for r in rows)),
    }


# how much a diagnosis says, most first: a named mistake, then what the
# returned value was, then "we cannot tell", then "nothing there yet"
_GENERIC = {
    Code.EXCEPTION: 1,
    Code.WRONG_RETURN: 1,
    Code.TYPE: 1,
    Code.DTYPE: 1,
    Code.NON_FINITE: 1,
    Code.INVALID: 1,
    Code.UNRECOGNISED: 2,
    Code.NOT_ATTEMPTED: 3,
}


def _rank(code: str) -> int:
    try:
        return _GENERIC.get(Code(code), 0)
    except ValueError:  # a code we do not know (an older grader's results)
        return 2


def most_specific(codes: Sequence[str]) -> str:
    """The diagnosis that says most about one task: the most specific kind,
    then the one most of its tests gave, then the first."""
    counts = Counter(codes)
    return min(codes, key=lambda c: (_rank(c), -counts[c], codes.index(c)))


def _task_key(task: str) -> tuple[tuple[int, str], ...]:
    """Sort "1.2" before "1.10"."""
    return tuple((int(p), "") if p.isdigit() else (0, p) for p in task.split("."))


def write_summary(out: Path, rows: Sequence[RowLike], assignment: str) -> Path:
    from grader.report.summary import render_summary

    path = out / SUMMARY
    temporary = path.with_name(f".{SUMMARY}.tmp")
    temporary.write_text(render_summary(summarize(out, rows, assignment)), encoding="utf-8")
    os.replace(temporary, path)
    return path
