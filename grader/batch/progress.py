"""The progress of a batch on the TA's terminal (rich): one line that
redraws in place and fits the terminal's width, with the count, the rate,
the time left and the last submission graded. When stderr is not a terminal
(a log file, CI) nothing is drawn while grading and one line ends it."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Column

from grader.batch.printable import printable


class BatchProgress:
    """``with BatchProgress(total) as progress: progress.step(id)``."""

    def __init__(self, total: int, console: Console | None = None) -> None:
        self.total, self.done = total, 0
        self.console = console or Console(stderr=True)
        self.start = time.perf_counter()
        self.live: Progress | None = None
        self.task: TaskID | None = None
        if self.console.is_terminal and total:
            self.live = Progress(
                TextColumn("grading", table_column=Column(no_wrap=True)),
                BarColumn(bar_width=None),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}", table_column=Column(no_wrap=True)),
                TimeRemainingColumn(),
                TextColumn(
                    "{task.fields[last]}",
                    markup=False,
                    table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1),
                ),
                console=self.console,
                auto_refresh=False,
                expand=True,
            )

    def __enter__(self) -> BatchProgress:
        if self.live is not None:
            self.live.start()
            self.task = self.live.add_task("grading", total=self.total, rate="", last="")
            self.live.refresh()
        return self

    def step(self, label: str) -> None:
        self.done += 1
        if self.live is not None and self.task is not None:
            elapsed = time.perf_counter() - self.start
            rate = f"{self.done / elapsed:.1f}/s" if elapsed > 0 else ""
            self.live.update(self.task, advance=1, rate=rate, last=printable(label))
            self.live.refresh()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.live is not None:
            self.live.stop()
        elif self.total:
            elapsed = time.perf_counter() - self.start
            self.console.print(
                f"graded {self.done}/{self.total} submissions in {elapsed:.1f} s",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
