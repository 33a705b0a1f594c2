"""Run a handout's public tests inside this Python process (a Jupyter
kernel): pytest with our plugin, no terminal output, and the submission's
modules imported afresh from disk on every run, so the student's latest edits
are what is checked."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.plugin import handout, hooks
from grader.plugin.student import PREFIX


class CheckError(Exception):
    """The tests could not be run as asked; ``str()`` says why and what to do."""


class _Probe:
    """Keeps the graded session and the tasks the test files hold when pytest ends."""

    def __init__(self) -> None:
        self.results: dict[str, Any] | None = None
        self.tasks: set[str] = set()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.results = hooks.session_results(config)
        state = config.stash.get(hooks.STATE, None)
        self.tasks = set(state.known.values()) if state is not None else set()


def run(folder: Path | None, task: str | None) -> dict[str, Any]:
    """The graded session of the handout holding ``folder`` (default: the
    current folder): every task, or only ``task``. Only a run of every task
    writes the handout's report.html."""
    start = Path.cwd() if folder is None else Path(folder)
    found = handout.find(start)
    if found is None:
        raise CheckError(
            f"no homework handout in {start.resolve()} or above it (a folder with the "
            "pytest.ini of the handout); open the notebook in the handout's folder or pass "
            "folder='path/to/handout'"
        )
    args = [
        str(found.tests),
        "-c",
        str(found.folder / "pytest.ini"),
        f"--rootdir={found.folder}",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:terminal",
        "--capture=sys",
        "--import-mode=importlib",
    ]
    if task is not None:
        args += [f"--grader-tasks={task}", "--grader-report="]
    probe = _Probe()
    with _fresh_bytecode(), _forgetting(found.folder):
        code = pytest.main(args, plugins=[probe])
    if code in (
        pytest.ExitCode.USAGE_ERROR,
        pytest.ExitCode.INTERNAL_ERROR,
        pytest.ExitCode.INTERRUPTED,
    ):
        raise CheckError(
            f"pytest could not run the tests in {found.tests} (exit status {int(code)}); "
            f"run pytest in {found.folder} to see why"
        )
    if probe.results is None:
        known = ", ".join(sorted(probe.tasks, key=_task_key)) or "none"
        what = f"task {task!r}" if task is not None else "any task"
        raise CheckError(f"the tests in {found.tests} have no test of {what} (tasks: {known})")
    return probe.results


def _task_key(task: str) -> tuple[int | str, ...]:
    return tuple(int(p) if p.isdigit() else p for p in task.split("."))


@contextlib.contextmanager
def _forgetting(folder: Path) -> Iterator[None]:
    """Drop the modules a run imported from the handout (its test modules, the
    submission's fresh package) when it ends: the next run imports them from
    disk again, and a kernel that checks a hundred times does not keep a
    hundred copies."""
    before = set(sys.modules)
    try:
        yield
    finally:
        for name in set(sys.modules) - before:
            where = getattr(sys.modules.get(name), "__file__", None) or ""
            ours = bool(where) and Path(where).resolve().is_relative_to(folder.resolve())
            if ours or name.startswith(PREFIX):  # a folder's package may have no file
                del sys.modules[name]


@contextlib.contextmanager
def _fresh_bytecode() -> Iterator[None]:
    """Compile the student's modules from their source: a cached .pyc can be
    older than an edit made in the same second as the last run."""
    before = sys.pycache_prefix
    with tempfile.TemporaryDirectory(prefix="grader-pyc-") as folder:
        sys.pycache_prefix = folder
        try:
            yield
        finally:
            sys.pycache_prefix = before
