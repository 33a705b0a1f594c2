"""Numbers as the report shows them. Missing values read "–", never "None" or "nan"."""

from __future__ import annotations

import math

from grader.report.coerce import items, real

MISSING = "–"


def num(value: object, digits: int = 3) -> str:
    """A number with ``digits`` significant digits: 0.0058, 6.77e-10, 1.2e5."""
    f = real(value)
    if f is None:
        return MISSING
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "∞" if f > 0 else "-∞"
    if f == 0:
        return "0"
    out = f"{f:.{digits}g}"
    if "e" in out:
        mantissa, exponent = out.split("e")
        out = f"{mantissa}e{int(exponent)}"
    return out


def points(value: object) -> str:
    """Points with at most two decimals: 7.5, 10, 2.33."""
    f = real(value)
    if f is None or not math.isfinite(f):
        return MISSING
    out = f"{f:.2f}".rstrip("0").rstrip(".")
    return "0" if out == "-0" else out


def ratio(part: object, whole: object) -> float | None:
    """part / whole clipped to [0, 1], or None when either is missing or whole <= 0."""
    p, w = real(part), real(whole)
    if p is None or w is None or not (math.isfinite(p) and math.isfinite(w)) or w <= 0:
        return None
    return min(max(p / w, 0.0), 1.0)


def percent(fraction: float | None, digits: int = 0) -> str:
    if fraction is None:
        return MISSING
    return f"{100 * fraction:.{digits}f}%"


def seconds(value: object) -> str:
    """A duration: 12 ms, 0.43 s, 2 min 3 s."""
    f = real(value)
    if f is None or not math.isfinite(f) or f < 0:
        return MISSING
    if f < 0.0005:
        return "<1 ms" if f > 0 else "0 ms"
    if f < 1:
        return f"{f * 1000:.0f} ms"
    if f < 60:
        return f"{f:.2f} s"
    minutes, rest = divmod(round(f), 60)
    return f"{minutes} min {rest} s"


def index(value: object) -> str:
    """An element index: [3, 0]."""
    parts = [num(v, 12) for v in items(value)]
    return f"[{', '.join(parts)}]" if parts else MISSING


def count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
