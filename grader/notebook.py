"""Checks inside Jupyter, for students::

    from grader.notebook import check
    check("1.2")   # task 1.2's public tests on your files as they are now: its card
    check()        # every task: the scoreboard (and report.html, as pytest writes it)

Each call imports your homework's modules afresh from disk, so an edit you
saved is what is checked. The notebook must sit in the handout's folder (or
below it), or pass ``folder="path/to/handout"``. In a terminal the results
print as plain text.
"""

from __future__ import annotations

from pathlib import Path

from grader.plugin.cards import Scoreboard, TaskCard
from grader.plugin.runner import CheckError, run

__all__ = ["CheckError", "Scoreboard", "TaskCard", "check"]


def check(task: str | None = None, *, folder: str | Path | None = None) -> TaskCard | Scoreboard:
    """Run the public tests of ``task`` (e.g. "1.2"), or of every task, and
    return what Jupyter shows: the task's card, or the scoreboard."""
    where = Path(folder) if folder is not None else None
    if task is None:
        return Scoreboard(run(where, None))
    if not isinstance(task, str):  # 1.10 == 1.1 as a number: the id must be written as text
        raise CheckError(f'write the task id as a string: check("{task}"), not check({task})')
    wanted = task.strip()
    return TaskCard(run(where, wanted), wanted)
