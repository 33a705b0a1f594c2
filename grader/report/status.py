"""Statuses as shown: a CSS key for the colour, a text label and a symbol (never colour only)."""

from __future__ import annotations

from dataclasses import dataclass

from grader.report.coerce import line


@dataclass(frozen=True)
class StatusView:
    key: str  # a fixed CSS class suffix, never taken from the data
    label: str
    symbol: str

    @property
    def ok(self) -> bool:
        return self.key == "passed"


_KNOWN = {
    "passed": StatusView("passed", "Passed", "✓"),
    "failed": StatusView("failed", "Failed", "✗"),
    "partial": StatusView("partial", "Partial", "◐"),
    "not attempted": StatusView("not-attempted", "Not attempted", "○"),
    "error": StatusView("error", "Error", "!"),
    "skipped": StatusView("skipped", "Skipped", "–"),
}


def status(value: object) -> StatusView:
    """The view of a status string; unknown ones keep their (escaped, short) text."""
    key = value.strip().lower() if isinstance(value, str) else ""
    known = _KNOWN.get(key.replace("_", " "))
    if known is not None:
        return known
    return StatusView("unknown", line(value, 40, "Unknown") or "Unknown", "?")
