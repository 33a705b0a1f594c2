"""The pytest plugin: task markers, the ``student`` and ``checker`` fixtures,
the scoreboard, and the report and results files.

It is inert until asked: a run that uses no ``task`` marker and none of its
fixtures prints nothing extra and writes nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from grader.gradcheck.failure import GradientCheckFailed, NotAttempted
from grader.gradcheck.metrics import Tolerance
from grader.gradcheck.result import Status
from grader.gradcheck.tracebacks import ProcessEnded, RaisedElsewhere, describe, student_frames
from grader.plugin import coverage, handout
from grader.plugin.checker import Checker, Subject
from grader.plugin.compact import Compact, wanted
from grader.plugin.given_code import GivenCodeFailed
from grader.plugin.scoreboard import render, wrap
from grader.plugin.student import Student, SubmissionError
from grader.results import gradescope
from grader.results import session as sessions
from grader.results.outcome import TestOutcome, TestStatus

RECORD = "backprop_grader"

OPTIONS = {
    "submission": "the homework to grade: a folder of modules or one .py file "
    "(default: the folder of the test file)",
    "report": "write a self-contained HTML report of the graded tasks to this path",
    "staff": "write the course staff's HTML report (hidden tests in full) to this path",
    "json": "write the results in Gradescope's results.json format to this path",
    "seed": "seed for test inputs and gradient-check probes (default: 0)",
    "assignment": "the assignment's name, shown in the scoreboard and the reports",
    "name": "the submission's name in the reports (default: its path)",
    "tasks": "run only these tasks, a comma-separated list of task ids such as 1.2,1.3",
    "reference": "grading mode: run the given code from this reference folder and only the "
    "task functions of the submission, in a confined process",
    "sandbox": "grading mode: 'on' (default) runs the student's process in a bubblewrap jail; "
    "'off' runs it without one (unsafe: it gets the grader's rights)",
    "uid": "grading mode with --grader-sandbox=off, as root: the user id the student's "
    "process runs as",
    "timeout": "grading mode: seconds one call into the student's code may take (default 30)",
    "budget": "grading mode: seconds all calls into one submission's code may take together "
    "(default 900)",
    "memory": "grading mode: address-space limit of the student's process in MB (default 2048)",
}
MARKER = (
    "task(id, points=1, name=None, hidden=False): the homework task this test grades "
    "(e.g. '1.2'), the points the test is worth, the task's name, and whether students see "
    "its details"
)


@dataclass
class State:
    outcomes: dict[str, TestOutcome] = field(default_factory=dict)
    students: dict[Path, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    # every graded test the collected test files hold, selected or not: node id -> task
    known: dict[str, str] = field(default_factory=dict)
    unread: set[str] = field(default_factory=set)  # test files whose tests were not collected


STATE = pytest.StashKey[State]()
CHECKER = pytest.StashKey[Checker]()
STUDENT = pytest.StashKey[Any]()
SUBMISSION = pytest.StashKey["Path | None"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backprop-grader", "backprop-grader: gradient checks and scores")
    for name, text in OPTIONS.items():
        group.addoption(f"--grader-{name}", dest=f"grader_{name}", default=None, help=text)
        parser.addini(f"grader_{name}", help=text, default=None)


def option(config: pytest.Config, name: str) -> str | None:
    """The command-line value, else the ini value, else None."""
    value = config.getoption(f"grader_{name}")
    if value is None:
        value = config.getini(f"grader_{name}")
    return str(value) if value not in (None, "") else None


def seed_of(config: pytest.Config) -> int:
    text = option(config, "seed") or "0"
    try:
        return int(text)
    except ValueError:
        raise pytest.UsageError(f"--grader-seed must be a whole number, got {text!r}") from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    config.stash[STATE] = State()
    seed_of(config)
    path = submission_path(config)
    if path is not None and not path.exists():
        raise pytest.UsageError(
            f"backprop-grader: the submission {path} does not exist; pass the homework folder "
            "or .py file with --grader-submission PATH"
        )
    config.pluginmanager.register(Collector(config), "backprop-grader-collector")
    if _asked(config) and wanted(config):
        config.pluginmanager.register(Compact(config, RECORD), "backprop-grader-compact")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Grading mode: the student's process starts importing the submission
    while pytest collects (an xdist controller runs no test: it opens none)."""
    config = session.config
    path = submission_path(config)
    if option(config, "reference") is None or path is None:
        return
    if config.getoption("dist", "no") != "no" and not hasattr(config, "workerinput"):
        return
    state = config.stash[STATE]
    try:
        if path not in state.students:
            state.students[path] = _open(config, path)
        state.students[path].preload()
    except Exception:  # the same failure is reported by the first test that reaches it
        return


def _asked(config: pytest.Config) -> bool:
    return any(option(config, name) for name in OPTIONS)


def pytest_report_header(config: pytest.Config) -> list[str]:
    if not _asked(config):
        return []
    tol = Tolerance()
    path = submission_path(config)
    where = _shown(path, Path(config.invocation_params.dir)) if path else "each test's folder"
    lines = [
        f"backprop-grader: seed {seed_of(config)}, rtol {tol.rtol:g}, atol {tol.atol:g}, "
        f"projection screen {tol.screen:g}",
        f"backprop-grader: grading {where}",
    ]
    if option(config, "reference") is not None:  # grading mode: say what confinement is missing
        from grader.sandbox.confine import isolation

        notes = isolation(sandboxed(config)).notes
        lines += [f"backprop-grader: warning: {note}" for note in notes]
    width = config.get_terminal_writer().fullwidth
    return [part for line in lines for part in wrap(line, width)]


def _shown(path: Path, start: Path) -> str:
    """A path as the student finds it: relative to where pytest started, when below it."""
    return str(path.relative_to(start)) if start in path.parents else str(path)


def sandboxed(config: pytest.Config) -> bool:
    value = (option(config, "sandbox") or "on").lower()
    if value not in ("on", "off"):
        raise pytest.UsageError(f"--grader-sandbox must be 'on' or 'off', got {value!r}")
    return value == "on"


def submission_path(config: pytest.Config) -> Path | None:
    """--grader-submission relative to where pytest was started; the ini key
    relative to the ini file (resolved once per run)."""
    if SUBMISSION not in config.stash:
        config.stash[SUBMISSION] = _submission_path(config)
    return config.stash[SUBMISSION]


def _submission_path(config: pytest.Config) -> Path | None:
    cli = config.getoption("grader_submission")
    if cli:
        return (Path(config.invocation_params.dir) / str(cli)).resolve()
    ini = config.getini("grader_submission")
    if ini:
        base = config.inipath.parent if config.inipath else config.rootpath
        return (Path(base) / str(ini)).resolve()
    return None


@pytest.fixture
def student(request: pytest.FixtureRequest) -> Any:
    """The submission under test: ``student.<module>.<function>``."""
    config = request.config
    path = submission_path(config) or Path(str(request.path)).parent.resolve()
    state = config.stash[STATE]
    if path not in state.students:
        state.students[path] = _open(config, path)
    handle = state.students[path]
    request.node.stash[STUDENT] = handle
    return handle


def _open(config: pytest.Config, path: Path) -> Any:
    """Student mode: import the submission here. Grading mode (a reference is
    given): reference code here, the submission's task code in a sandbox."""
    reference = option(config, "reference")
    if reference is None:
        return Student(path)
    from grader.plugin.grading_student import TrustedStudent
    from grader.sandbox.confine import Limits
    from grader.sandbox.jail import course_modules, course_packages
    from grader.sandbox.process import Sandbox

    ref = (Path(config.invocation_params.dir) / reference).resolve()
    uid = option(config, "uid")
    limits = Limits(
        wall_seconds=float(option(config, "timeout") or 30),
        memory_mb=int(option(config, "memory") or 2048),
        total_wall_seconds=float(option(config, "budget") or 900),
        total_cpu_seconds=float(option(config, "budget") or 900),
    )
    # the assignment's own requirements (digits: scikit-learn) beside numpy and scipy
    packages = course_packages(config.rootpath / "requirements.txt")
    sandbox = Sandbox(
        path,
        limits=limits,
        sandbox=sandboxed(config),
        run_as=int(uid) if uid else None,
        packages=packages,
        modules=course_modules(ref, packages),
    )
    return TrustedStudent(ref, sandbox, path)


@pytest.fixture
def checker(request: pytest.FixtureRequest) -> Checker:
    """The gradient checker with the course's seed; records its results."""
    source = submission_path(request.config) or Path(str(request.path)).parent.resolve()
    marker = request.node.get_closest_marker("task")
    subject = Subject(
        str(marker.args[0]) if marker is not None and marker.args else None,
        lambda: request.node.stash.get(STUDENT, None),
        Path(str(request.path)),
    )
    handle = Checker(seed_of(request.config), request.node.nodeid, source=source, subject=subject)
    request.node.stash[CHECKER] = handle
    return handle


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = option(config, "tasks")
    if not wanted:
        return
    chosen = {t.strip() for t in wanted.split(",") if t.strip()}
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("task")
        (
            keep if marker is not None and marker.args and str(marker.args[0]) in chosen else drop
        ).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Note every graded test of each test file before -k, --lf,
    --grader-tasks or test ids on the command line choose among them (the
    innermost wrapper: --lf filters a file's tests on the way out)."""
    report = yield
    state = collector.config.stash.get(STATE, None)
    if state is None:
        return report
    for node in report.result:
        if isinstance(node, pytest.Item):
            marker = node.get_closest_marker("task")
            if marker is not None and marker.args:
                state.known[node.nodeid] = str(marker.args[0])
    if isinstance(collector, pytest.File) and report.passed and not report.result:
        state.unread.add(collector.nodeid)  # --lf skipped the whole file (or it has no test)
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker hands its known tests to the controller."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        state = session.config.stash[STATE]
        output[RECORD] = {"known": state.known, "unread": sorted(state.unread)}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """The controller of an xdist run gathers the workers' known tests."""
    sent = getattr(node, "workeroutput", {}).get(RECORD)
    if isinstance(sent, dict):
        state = node.config.stash[STATE]
        state.known.update({str(k): str(v) for k, v in sent["known"].items()})
        state.unread.update(str(f) for f in sent["unread"])


def _graded(item: pytest.Item) -> bool:
    return item.get_closest_marker("task") is not None or CHECKER in item.stash


def _task_of(item: pytest.Item) -> tuple[str, str, float, bool]:
    marker = item.get_closest_marker("task")
    name = item.name.removeprefix("test_")
    if marker is None:
        return "-", name, 0.0, False
    if not marker.args:
        raise pytest.UsageError(f"{item.nodeid}: the task marker needs an id, e.g. task('1.2')")
    points = float(marker.kwargs.get("points", 1))
    return (
        str(marker.args[0]),
        str(marker.kwargs.get("name", name)),
        points,
        bool(marker.kwargs.get("hidden", False)),
    )


def _not_attempted(exc: BaseException) -> str | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, NotImplementedError | NotAttempted):
            text = str(seen).strip()
            return text if isinstance(seen, NotAttempted) else f"not attempted ({text})"
        seen = seen.__cause__ or seen.__context__
    return None


def _outcome(
    item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[None]
) -> tuple[TestStatus, str, str | None]:
    """(status, one-line message, short failure text to show instead of pytest's)."""
    if report.passed:
        return TestStatus.PASSED, "passed", None
    if report.skipped:
        return TestStatus.SKIPPED, "skipped", None
    exc = call.excinfo.value if call.excinfo is not None else None
    if exc is None:
        return TestStatus.FAILED, "failed", None
    absent = _not_attempted(exc)
    if absent is not None:
        return TestStatus.NOT_ATTEMPTED, absent, absent
    if isinstance(exc, GradientCheckFailed):
        errored = exc.result.status is Status.ERROR
        return (TestStatus.ERROR if errored else TestStatus.FAILED), exc.result.message, str(exc)
    if isinstance(exc, SubmissionError | ProcessEnded):
        return TestStatus.ERROR, str(exc), str(exc)
    if isinstance(exc, AssertionError):
        first = (str(exc).strip().splitlines() or ["assertion failed"])[0]
        return TestStatus.FAILED, first, None
    if isinstance(exc, RaisedElsewhere):
        text = f"your code raised {exc.description}"
        trace = exc.trace()
        return TestStatus.ERROR, text, f"{text}\n{trace}" if trace else text
    student = item.stash.get(STUDENT, None)
    if student is None:
        return TestStatus.ERROR, describe(exc, None, "the test"), None
    text = describe(exc, None, "your code", root=student.path)
    frames = student_frames(exc, student.path)
    return TestStatus.ERROR, text, f"{text}\n{frames}" if frames else text


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if not _graded(item) or not (report.when == "call" or report.failed or report.skipped):
        return report
    if report.when == "teardown" and not report.failed:
        return report
    task, task_name, points, hidden = _task_of(item)
    checker = item.stash.get(CHECKER, None)
    status, message, short = _outcome(item, report, call)
    handle = item.stash.get(STUDENT, None)
    if isinstance(handle, Student):  # the student's module names, never our internal ones
        message = handle.in_own_words(message)
        short = handle.in_own_words(short) if short is not None else None
    if short is not None and item.config.getoption("tbstyle", "auto") == "auto":
        report.longrepr = short  # --tb=... asks for pytest's own traceback
    checks = [r.to_dict(error_maps=True) for r in checker.results] if checker else []
    sandbox = vars(handle).get("sandbox") if handle is not None else None
    sandboxed = sandbox.output_since() if sandbox is not None else ("", "")
    outcome = TestOutcome(
        nodeid=item.nodeid,
        name=item.name,
        task=task,
        task_name=task_name,
        max_score=points,
        status=status,
        message=message,
        hidden=hidden,
        line=item.location[1] or 0,
        diagnosis=_given(call) or next((c["diagnosis"] for c in checks if c["diagnosis"]), None),
        checks=checks,
        artifacts=dict(checker.artifacts) if checker else {},
        stdout=report.capstdout + sandboxed[0],
        stderr=report.capstderr + sandboxed[1],
        duration=report.duration,
    )
    # as plain data: xdist carries user_properties between processes
    report.user_properties.append((RECORD, outcome.to_dict()))
    return report


def _given(call: pytest.CallInfo[None]) -> dict[str, Any] | None:
    """The diagnosis of given code that failed because of a task's function."""
    exc = call.excinfo.value if call.excinfo is not None else None
    return exc.diagnosis.to_dict() if isinstance(exc, GivenCodeFailed) else None


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the students' processes of a grading run."""
    state = config.stash.get(STATE, None)
    for handle in state.students.values() if state else []:
        sandbox = vars(handle).get("sandbox") if handle is not None else None
        if sandbox is not None:
            sandbox.close()


class Collector:
    """Collects the records on the controller (they travel inside xdist's
    reports) and renders them once at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: dict[str, Any] | None = None
        self.written = False

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        state = self.config.stash[STATE]
        for key, value in report.user_properties:
            if key == RECORD and isinstance(value, dict):
                outcome = TestOutcome.from_dict(value)
                state.outcomes[outcome.nodeid] = outcome

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int) -> None:
        if hasattr(self.config, "workerinput"):
            return
        results = self.session()
        if results is None:
            if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
                self._where_to_run(terminalreporter)
            return
        title = "backprop-grader" + (f": {results['assignment']}" if results["assignment"] else "")
        terminalreporter.write_sep("=", title)
        writer = self.config.get_terminal_writer()
        terminalreporter.write_line(render(results, width=writer.fullwidth, color=writer.hasmarkup))
        for path in self._write(results):
            started = Path(self.config.invocation_params.dir)
            terminalreporter.write_line(f"wrote {_shown(Path(path), started)}")

    def _where_to_run(self, terminalreporter: Any) -> None:
        """No test here, in a folder of a handout: say where the tests are."""
        started = Path(self.config.invocation_params.dir)
        found = handout.find(started)
        if found is None or not _asked(self.config):
            return
        width = self.config.get_terminal_writer().fullwidth
        for line in wrap(found.hint(started), width):
            terminalreporter.write_line(line, yellow=True, bold=True)

    def pytest_sessionfinish(self) -> None:
        """Without a terminal (batch grading), still write the files."""
        if hasattr(self.config, "workerinput") or self.config.pluginmanager.has_plugin(
            "terminalreporter"
        ):
            return
        results = self.session()
        if results is not None:
            self._write(results)

    def session(self) -> dict[str, Any] | None:
        """The graded session (built once, at the end of the run)."""
        if self.results is None:
            self.results = _session(self.config)
        return self.results

    def _write(self, results: dict[str, Any]) -> list[str]:
        if self.written:
            return []
        self.written = True
        return _write_outputs(self.config, results)


def session_results(config: pytest.Config) -> dict[str, Any] | None:
    """The graded session of a finished run (what the scoreboard shows), or
    None when no graded test ran."""
    plugin = config.pluginmanager.get_plugin("backprop-grader-collector")
    return plugin.session() if isinstance(plugin, Collector) else None


def _session(config: pytest.Config) -> dict[str, Any] | None:
    state = config.stash[STATE]
    if not state.outcomes:
        return None
    given = submission_path(config)
    if option(config, "name"):
        where = str(option(config, "name"))
    elif given is not None:
        where = str(given)
    else:
        where = str(next(iter(state.students))) if state.students else str(config.rootpath)
    results = sessions.build(
        state.outcomes.values(),
        submission=where,
        assignment=option(config, "assignment"),
        seed=seed_of(config),
        execution_time=time.perf_counter() - state.started,
    )
    ran = [(o.nodeid, o.task) for o in state.outcomes.values()]
    why = coverage.reasons(config, option(config, "tasks"))
    unread = len(state.unread) if config.getoption("lf", False) else 0
    results["coverage"] = coverage.measure(state.known, ran, why, unread).to_dict()
    return results


def _write_outputs(config: pytest.Config, results: dict[str, Any]) -> list[str]:
    written = []
    json_path = output_path(config, "json")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(gradescope.results_json(results), indent=2, allow_nan=False)
        _atomic_write(json_path, text)
        written.append(str(json_path))
    report_path = output_path(config, "report")
    staff = option(config, "staff")
    staff_path = Path(staff) if staff else None
    if report_path or staff_path:
        from grader.report import render_report, render_reports

        if report_path and staff_path:
            pages = render_reports(results)
        elif report_path:
            pages = (render_report(results), "")
        else:
            pages = ("", render_report(results, show_hidden=True))
        for path, text in ((report_path, pages[0]), (staff_path, pages[1])):
            if path:
                path.parent.mkdir(parents=True, exist_ok=True)
                _atomic_write(path, text)
                written.append(str(path))
    return written


def output_path(config: pytest.Config, name: str) -> Path | None:
    """--grader-NAME relative to where pytest was started; the ini key relative
    to the ini file, so report.html lands next to the handout's pytest.ini
    from whatever folder pytest is started."""
    cli = config.getoption(f"grader_{name}")
    if cli is not None:
        return (Path(config.invocation_params.dir) / str(cli)) if str(cli) else None
    ini = config.getini(f"grader_{name}")
    if not ini:
        return None
    base = config.inipath.parent if config.inipath else config.rootpath
    return Path(base) / str(ini)


def _atomic_write(path: Path, text: str) -> None:
    """Write beside the target, then rename: a crash never leaves half a file."""
    temporary = path.with_name(f".{path.name}.tmp{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
