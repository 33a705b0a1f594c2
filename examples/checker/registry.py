"""Registers catalogue entries: ``@mistake(kind, code)`` for a wrong backward
and the diagnosis code the checker must give; ``@correct(kind)`` for a right
one. ``forward=`` overrides the kind's default forward."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str
    backward: Callable[..., Any]
    expected: str | None  # diagnosis code, None for a correct function
    forward: Callable[..., Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)


ENTRIES: list[Entry] = []


def mistake(kind: str, code: str, forward: Callable[..., Any] | None = None, **options: Any):
    def register(fn):
        ENTRIES.append(Entry(fn.__name__, kind, fn, code, forward, options))
        return fn

    return register


def correct(kind: str, forward: Callable[..., Any] | None = None, **options: Any):
    def register(fn):
        ENTRIES.append(Entry(fn.__name__, kind, fn, None, forward, options))
        return fn

    return register
