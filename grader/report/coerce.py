"""Reading the untrusted results data: every value is checked for its type, never trusted.

The results dict comes from the pytest plugin or from a JSON file of a batch
run, so any field may be missing, of the wrong type, non-finite, or a string
written by the student (``<script>``, terminal escapes, lone surrogates).
These helpers turn it into plain, well-formed Python values.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")

EMPTY: Mapping[str, Any] = {}


def mapping(value: object) -> Mapping[str, Any]:
    """A JSON object, or an empty mapping for anything else."""
    return value if isinstance(value, Mapping) else EMPTY


def items(value: object) -> list[Any]:
    """A JSON array as a list; anything else (strings included) is empty."""
    return list(value) if isinstance(value, list | tuple) else []


def real(value: object) -> float | None:
    """Any real number as a float, NaN and infinities included; None otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except (OverflowError, ValueError):
        return None


def number(value: object) -> float | None:
    """A finite float, or None (for None, NaN, infinities, strings, booleans)."""
    f = real(value)
    return f if f is not None and math.isfinite(f) else None


def integer(value: object) -> int | None:
    """An integer (an integral float counts), or None."""
    f = number(value)
    if f is None or f != int(f):
        return None
    return int(f)


def clean(value: str) -> str:
    """Well-formed text: no lone surrogates, terminal escapes or control characters."""
    value = value.encode("utf-8", "replace").decode("utf-8")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _ANSI.sub("", value)
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", value)


def text(value: object, default: str = "") -> str:
    """A string field as clean text; numbers are shown as written, anything else is default."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return default


def shorten(value: str, limit: int) -> str:
    """Cut text to at most ``limit`` characters, saying how much was left out."""
    if len(value) <= limit:
        return value
    return f"{value[:limit].rstrip()}… ({len(value) - limit:,} more characters)"


def line(value: object, limit: int = 400, default: str = "") -> str:
    """A one-line message: whitespace runs collapsed, cut at ``limit`` characters."""
    return shorten(_SPACE.sub(" ", text(value, default)).strip(), limit)
