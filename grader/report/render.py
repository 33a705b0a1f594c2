"""Rendering: jinja2 with autoescaping on. Our own stylesheet is the only text inserted raw."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from grader.report.view import TestView, page


def render_report(results: Mapping[str, Any], *, show_hidden: bool = False) -> str:
    """The self-contained HTML report (inline CSS and SVG, no script, no URL) of one session.

    ``results`` is the session results dict of the pytest plugin, or the same
    data loaded from JSON; it is treated as untrusted: missing keys, wrong types,
    None and non-finite numbers are shown as "–", and every string is escaped.
    Hidden tests show only their status and points unless ``show_hidden`` (the
    TA view), where they appear in full, labelled hidden.
    """
    view = page(results, show_hidden=show_hidden)
    return environment().get_template("report.html").render(page=view, css=stylesheet())


def render_reports(results: Mapping[str, Any]) -> tuple[str, str]:
    """The student's report and the staff's (hidden tests in full) of the
    same results, each test every reader sees built once for both."""
    shared: dict[int, TestView] = {}
    template = environment().get_template("report.html")
    student = template.render(
        page=page(results, show_hidden=False, shared=shared), css=stylesheet()
    )
    staff = template.render(page=page(results, show_hidden=True, shared=shared), css=stylesheet())
    return student, staff


@functools.cache
def stylesheet() -> str:
    css = resources.files("grader.report").joinpath("templates/report.css").read_text("utf-8")
    if "</" in css:
        raise ValueError("report.css must not contain '</' (it is inlined in a <style> element)")
    return css


@functools.cache
def environment() -> Environment:
    """The one jinja environment of every page (autoescaped, strict)."""
    env = Environment(
        loader=PackageLoader("grader.report", "templates"),
        autoescape=select_autoescape(default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["c"] = coordinate
    return env


def coordinate(value: float) -> str:
    """An SVG coordinate with at most two decimals: 12.5, 40, -3.25."""
    out = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out
