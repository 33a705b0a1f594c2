"""The compact terminal of a graded run, for a student who asked for nothing
else: a test that is not attempted yet is counted as "unattempted" (no
FAILURES block, no summary line), a failure's text is wrapped to the terminal and
said once (no cut-off repeat in the short summary).

pytest's own ``-v``, ``-r`` and ``--tb`` keep their meaning: with ``-r`` or
``--tb`` given, this plugin is not registered at all; with ``-v`` the
per-test lines say NOT ATTEMPTED.
"""

from __future__ import annotations

from typing import Any

import pytest

from grader.plugin.scoreboard import wrap
from grader.results.outcome import TestStatus

# the final line's count ("20 unattempted"): one word, as pytest's own are, so that
# pytester's parseoutcomes reads it; the scoreboard says "not attempted" once per task
CATEGORY = "unattempted"
DEFAULT_REPORTCHARS = "fE"  # pytest's default -r


def wanted(config: pytest.Config) -> bool:
    """Compact unless the student gave -r or --tb (they asked for pytest's own)."""
    tbstyle = str(config.getoption("tbstyle", "auto"))
    return tbstyle == "auto" and config.getoption("reportchars", "fE") == DEFAULT_REPORTCHARS


def record_status(report: pytest.TestReport | pytest.CollectReport, key: str) -> str | None:
    """The status our makereport recorded on ``report``, or None."""
    for name, value in getattr(report, "user_properties", ()):
        if name == key and isinstance(value, dict):
            return str(value.get("status"))
    return None


class Compact:
    def __init__(self, config: pytest.Config, record: str) -> None:
        self.config = config
        self.record = record

    def pytest_sessionstart(self) -> None:
        """The short summary would repeat each failure's text, cut at the
        terminal's edge: the FAILURES block already has it in full."""
        reporter: Any = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.reportchars = reporter.reportchars.replace("f", "").replace("E", "")

    def pytest_report_teststatus(
        self, report: pytest.TestReport | pytest.CollectReport
    ) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
        if record_status(report, self.record) == TestStatus.NOT_ATTEMPTED.value:
            return CATEGORY, "N", ("NOT ATTEMPTED", {"yellow": True})
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Wrap a graded failure's text to this terminal (on the controller:
        an xdist worker does not know the width)."""
        if hasattr(self.config, "workerinput") or not isinstance(report.longrepr, str):
            return
        if record_status(report, self.record) is None:
            return
        if not self.config.pluginmanager.has_plugin("terminalreporter"):
            return  # no terminal (a notebook's check): nothing to fit
        width = self.config.get_terminal_writer().fullwidth
        report.longrepr = "\n".join(wrap(report.longrepr, width))
