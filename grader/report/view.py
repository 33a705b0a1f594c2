"""The page model: the untrusted results dict read into plain, typed, display-ready values.

Hidden tests are redacted here (unless ``show_hidden``), so the templates never
see what a student must not.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from grader.report import checks, coerce, fmt
from grader.report.charts import Boundary, LossCurve, decision_boundary, loss_curve
from grader.report.status import StatusView, status

OUTPUT_HEAD, OUTPUT_TAIL = 8000, 2000  # characters of captured output kept
MESSAGE_LIMIT = 600


@dataclass(frozen=True)
class Output:
    stream: str  # "stdout" or "stderr"
    text: str
    lines: int
    note: str  # what was cut, if anything


@dataclass(frozen=True)
class TestView:
    anchor: str
    title: str
    nodeid: str
    hidden: bool
    redacted: bool
    status: StatusView
    score: str
    max_score: str
    points: float | None
    possible: float | None
    message: str
    duration: str
    diagnosis: checks.DiagnosisView | None
    checks: list[checks.CheckView]
    loss_curve: LossCurve | None
    boundary: Boundary | None
    outputs: list[Output]


@dataclass(frozen=True)
class TaskView:
    anchor: str
    id: str
    name: str
    status: StatusView
    score: str
    max_score: str
    message: str
    tests: list[TestView]


@dataclass(frozen=True)
class Count:
    status: StatusView
    n: int


@dataclass(frozen=True)
class Page:
    title: str
    submission: str
    submission_parts: list[str]  # broken after each "/" so a long path wraps there
    assignment: str
    date: str
    date_iso: str
    seed: str
    score: str
    max_score: str
    fraction: float | None
    percent: str
    execution_time: str
    counts: list[Count]
    n_tests: int
    tasks: list[TaskView]  # every task of the table, with its tests
    show_hidden: bool
    hidden: int
    partial: str = ""  # a run of only some tasks: says so, and the page shows no total


def page(
    results: Mapping[str, Any], *, show_hidden: bool, shared: dict[int, TestView] | None = None
) -> Page:
    """The page model. ``shared``: the views of tests every reader sees in
    full, kept from another page of the same results (the student's report
    and the staff's draw the same charts once)."""
    data = coerce.mapping(results)
    tests = []
    for n, t in enumerate(coerce.items(data.get("tests")), 1):
        test = coerce.mapping(t)
        everyone = test.get("hidden") is not True
        if shared is not None and everyone and n in shared:
            tests.append(shared[n])
            continue
        view = _test(test, n, show_hidden, _chart_ids(n))
        if shared is not None and everyone:
            shared[n] = view
        tests.append(view)
    tasks = _tasks(data, tests, coerce.items(data.get("tests")))
    counts: dict[StatusView, int] = {}
    for t in tests:
        counts[t.status] = counts.get(t.status, 0) + 1
    submission = coerce.line(data.get("submission"), 300) or "unnamed submission"
    assignment = coerce.line(data.get("assignment"), 120)
    date, date_iso = _date(data.get("date"))
    fraction = fmt.ratio(data.get("score"), data.get("max_score"))
    return Page(
        title=f"{assignment + ': ' if assignment else ''}{submission}",
        submission=submission,
        submission_parts=re.split(r"(?<=[/\\])", submission),
        assignment=assignment or fmt.MISSING,
        date=date,
        date_iso=date_iso,
        seed=fmt.num(coerce.integer(data.get("seed")), 20),
        score=fmt.points(data.get("score")),
        max_score=fmt.points(data.get("max_score")),
        fraction=fraction,
        percent=fmt.percent(fraction),
        execution_time=fmt.seconds(data.get("execution_time")),
        counts=[Count(s, n) for s, n in counts.items()],
        n_tests=len(tests),
        tasks=tasks,
        show_hidden=show_hidden,
        hidden=sum(t.hidden for t in tests),
        partial=_partial(data.get("coverage")),
    )


def _partial(value: object) -> str:
    """ "This run covered 1 of 15 tasks (-k softmax)." for a partial run, else ""."""
    coverage = coerce.mapping(value)
    ran, total = coerce.integer(coverage.get("ran")), coerce.integer(coverage.get("total"))
    skipped = coerce.integer(coverage.get("skipped_files")) or 0
    if ran is None or total is None or (ran >= total and not skipped):
        return ""
    reasons = [coerce.line(r, 120) for r in coerce.items(coverage.get("reasons"))]
    why = f" ({', '.join(r for r in reasons if r)})" if any(reasons) else ""
    least = "at least " if skipped else ""
    return f"This run covered {ran} of {least}{total} task{'' if total == 1 else 's'}{why}."


def _date(value: object) -> tuple[str, str]:
    """The date as shown and as a machine-readable ISO string ("" when it does not parse)."""
    raw = coerce.line(value, 60)
    try:
        when = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith("Z") else raw)
    except ValueError:
        return raw or fmt.MISSING, ""
    shown = when.strftime("%Y-%m-%d %H:%M")
    offset = when.utcoffset()
    if offset is not None:
        shown += " UTC" if offset == timedelta(0) else when.strftime(" UTC%z")
    return shown, when.isoformat()


def _tasks(data: Mapping[str, Any], tests: list[TestView], raw: list[Any]) -> list[TaskView]:
    """The tasks in their given order, each with its tests; tests of unlisted tasks come after."""
    groups: dict[str, list[TestView]] = {}
    names: dict[str, str] = {}
    for test, t in zip(tests, raw, strict=True):
        task = coerce.mapping(t)
        tid = coerce.line(task.get("task"), 40)
        groups.setdefault(tid, []).append(test)
        names.setdefault(tid, coerce.line(task.get("task_name"), 200))
    out: list[TaskView] = []
    for task in (coerce.mapping(t) for t in coerce.items(data.get("tasks"))):
        tid = coerce.line(task.get("id"), 40)
        out.append(
            TaskView(
                anchor=f"task-{len(out) + 1}",
                id=tid or fmt.MISSING,
                name=coerce.line(task.get("name"), 200),
                status=status(task.get("status")),
                score=fmt.points(task.get("score")),
                max_score=fmt.points(task.get("max_score")),
                message=coerce.line(task.get("message"), MESSAGE_LIMIT),
                tests=groups.pop(tid, []),
            )
        )
    for tid, group in groups.items():
        out.append(
            TaskView(
                anchor=f"task-{len(out) + 1}",
                id=tid or fmt.MISSING,
                name=names[tid] if tid else "tests without a task",
                status=_group_status(group),
                score=fmt.points(_total(t.points for t in group)),
                max_score=fmt.points(_total(t.possible for t in group)),
                message="",
                tests=group,
            )
        )
    return out


def _total(values: Iterable[float | None]) -> float | None:
    listed = list(values)
    return None if None in listed else sum(v for v in listed if v is not None)


def _chart_ids(n: int) -> Callable[[], str]:
    """Chart ids of the n-th test: the same on every page of the results."""
    ids = itertools.count(1)
    return lambda: f"chart-{n}-{next(ids)}"


def _group_status(tests: list[TestView]) -> StatusView:
    keys = {t.status.key for t in tests}
    if keys == {"passed"}:
        return status("passed")
    if "passed" in keys:
        return status("partial")
    return tests[0].status


def _test(t: Mapping[str, Any], n: int, show_hidden: bool, next_id: Callable[[], str]) -> TestView:
    """A test in full, or only its status and points when it is hidden from this reader."""
    hidden = t.get("hidden") is True
    shown = TestView(
        anchor=f"test-{n}",
        title="hidden test",
        nodeid="",
        hidden=hidden,
        redacted=True,
        status=status(t.get("status")),
        score=fmt.points(t.get("score")),
        max_score=fmt.points(t.get("max_score")),
        points=coerce.number(t.get("score")),
        possible=coerce.number(t.get("max_score")),
        message="",
        duration="",
        diagnosis=None,
        checks=[],
        loss_curve=None,
        boundary=None,
        outputs=[],
    )
    if hidden and not show_hidden:
        return shown
    artifacts = coerce.mapping(t.get("artifacts"))
    curve = coerce.mapping(artifacts.get("loss_curve"))
    boundary = coerce.mapping(artifacts.get("decision_boundary"))
    checks_ = [checks.check(c, next_id) for c in coerce.items(t.get("checks"))]
    said = {c.message for c in checks_} | {c.diagnosis.message for c in checks_ if c.diagnosis}
    message = coerce.line(t.get("message"), MESSAGE_LIMIT)
    diagnosis = checks.diagnosis(t.get("diagnosis"))
    return replace(
        shown,
        redacted=False,
        title=coerce.line(t.get("name"), 200) or coerce.line(t.get("nodeid"), 200) or f"test {n}",
        nodeid=coerce.line(t.get("nodeid"), 400),
        # a check below says it already, or it only repeats the status
        message="" if message in said or message.lower() == shown.status.label.lower() else message,
        duration=fmt.seconds(t.get("duration")) if t.get("duration") is not None else "",
        diagnosis=None if diagnosis is None or diagnosis.message in said | {message} else diagnosis,
        checks=checks_,
        loss_curve=loss_curve(curve, chart_id=next_id()) if curve else None,
        boundary=decision_boundary(boundary, chart_id=next_id()) if boundary else None,
        outputs=[o for o in (_output("stdout", t), _output("stderr", t)) if o is not None],
    )


def _output(stream: str, t: Mapping[str, Any]) -> Output | None:
    text = coerce.text(t.get(stream)).rstrip()
    if not text.strip():
        return None
    lines = text.count("\n") + 1
    if len(text) <= OUTPUT_HEAD + OUTPUT_TAIL:
        return Output(stream, text, lines, "")
    cut = len(text) - OUTPUT_HEAD - OUTPUT_TAIL
    shown = f"{text[:OUTPUT_HEAD]}\n\n[… {cut:,} characters not shown …]\n\n{text[-OUTPUT_TAIL:]}"
    note = (
        f"Output truncated: showing the first {OUTPUT_HEAD:,} and last {OUTPUT_TAIL:,} "
        f"of {len(text):,} characters."
    )
    return Output(stream, shown, lines, note)
