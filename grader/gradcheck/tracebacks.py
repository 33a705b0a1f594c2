"""Describe an exception raised by student code at the student's own line,
never at the grader's internals."""

from __future__ import annotations

import linecache
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_GRADER_DIR = os.path.dirname(os.path.abspath(__file__))


class RaisedElsewhere(Exception):
    """An exception the student's code raised in another process, already
    described and located there: ``description`` reads "KeyError: 'W1' (at
    net.py:12 in backward: `...`)", ``trace()`` gives the student's frames."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description

    def trace(self) -> str:
        return ""


class ProcessEnded(Exception):
    """The process running the student's code ended; ``str()`` says why."""


@dataclass(frozen=True)
class Frame:
    filename: str
    line: int
    function: str
    code: str

    def where(self) -> str:
        text = f"{os.path.basename(self.filename)}:{self.line} in {self.function}"
        return f"{text}: `{self.code}`" if self.code else text


def _source_file(function: Callable[..., Any]) -> str | None:
    code = getattr(function, "__code__", None) or getattr(
        getattr(function, "__func__", None), "__code__", None
    )
    return os.path.abspath(code.co_filename) if code is not None else None


def student_frame(
    exc: BaseException,
    function: Callable[..., Any] | None = None,
    root: Path | None = None,
) -> Frame | None:
    """The innermost traceback frame in the student's code: the file of
    ``function``, or any file under ``root``, or failing both, the innermost
    frame outside the grader and numpy."""
    frames = traceback.extract_tb(exc.__traceback__)
    home = _source_file(function) if function is not None else None
    chosen = None
    for summary in frames:
        path = os.path.abspath(summary.filename)
        if root is not None:  # the submission's folder wins over the function's file
            ours = path.startswith(str(root).rstrip("/") + "/")
        elif home is not None:
            ours = path == home
        else:
            ours = not (path.startswith(_GRADER_DIR) or "numpy" in path)
        if ours:
            chosen = summary
    if chosen is None:
        return None
    code = (chosen.line or linecache.getline(chosen.filename, chosen.lineno or 0)).strip()
    return Frame(chosen.filename, chosen.lineno or 0, chosen.name, code)


def student_frames(exc: BaseException, root: Path) -> str:
    """The traceback lines that are in the student's files only."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if os.path.abspath(f.filename).startswith(str(root))
    ]
    return "".join(traceback.format_list(frames)).rstrip()


def describe(
    exc: BaseException,
    function: Callable[..., Any] | None,
    name: str,
    root: Path | None = None,
) -> str:
    """One line: what was raised, and where in the student's code."""
    if isinstance(exc, RaisedElsewhere):  # raised in the student's process, already located
        return f"{name} raised {exc.description}"
    if isinstance(exc, ProcessEnded):
        return str(exc)
    frame = student_frame(exc, function, root)
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{name} raised {type(exc).__name__}"
    if detail:
        text += f": {detail}"
    if frame is not None:
        text += f" (at {frame.where()})"
    return text
