"""The self-contained HTML report of a grading session.

``render_report(results)`` turns the session results dict (from the pytest
plugin, or loaded from a results JSON) into one HTML file with inline CSS and
SVG charts: no JavaScript, no external resources, readable offline and on a
phone. Modules: ``coerce`` reads the untrusted data, ``view`` and ``checks``
build the page model, ``charts`` the SVG geometry, ``render`` the jinja2 step.
"""

from __future__ import annotations

from grader.report.render import render_report, render_reports

__all__ = ["render_report", "render_reports"]
