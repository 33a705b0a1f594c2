"""Untrusted text never becomes markup; the page loads nothing and runs nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from report_html import Document
from report_samples import XSS

from grader.report import render_report
from grader.report.render import stylesheet

TEMPLATES = Path(__file__).resolve().parents[2] / "grader" / "report" / "templates"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;"
FORBIDDEN_TAGS = {
    "script",
    "img",
    "iframe",
    "object",
    "embed",
    "link",
    "base",
    "form",
    "input",
    "image",
    "use",
    "foreignobject",
    "audio",
    "video",
    "source",
}


def poison(value: Any) -> Any:
    """Every string (and every dict key outside the fixed schema) carries the payload."""
    if isinstance(value, str):
        return value + XSS
    if isinstance(value, list):
        return [poison(v) for v in value]
    if isinstance(value, dict):
        out = {k: poison(v) for k, v in value.items()}
        if "evidence" in out:
            out["evidence"] = {k + XSS: v for k, v in out["evidence"].items()} | {XSS: 1.0}
        return out
    return value


@pytest.fixture(params=[False, True], ids=["student", "ta"])
def poisoned(request, session) -> str:
    session["tests"][0]["stdout"] = f"{XSS}\n" * 3
    session["tests"][0]["stderr"] = XSS
    session["tests"][0]["checks"][0]["tensors"][1]["worst"] = [
        {"index": [XSS], "expected": XSS, "got": None, "rel_error": float("nan")}
    ]
    return render_report(poison(session), show_hidden=request.param)


def test_student_text_is_escaped_everywhere(poisoned):
    assert "<script" not in poisoned.lower()
    assert "<img" not in poisoned.lower() and "<svg onload" not in poisoned.lower()
    assert poisoned.count(ESCAPED) > 20  # shown, as text, in many places
    doc = Document(poisoned)
    assert doc.errors == []
    assert XSS in doc.text  # the reader sees exactly what was written


def test_no_active_or_remote_content_in_the_tree(poisoned):
    doc = Document(poisoned)
    tags = {e.tag for e in doc.elements}
    assert tags & FORBIDDEN_TAGS == set()
    for el in doc.elements:
        for name, value in el.attrs.items():
            assert not name.startswith("on"), (el.tag, name)
            assert name not in {"src", "srcset", "xlink:href", "action", "formaction"}
            if name == "href":
                assert value and re.fullmatch(r"#[a-z]+-\d+", value)
            if name == "style":
                assert re.fullmatch(r"(max-)?width: [\d.]+(px|%)", value or ""), value


def test_no_url_and_no_script_anywhere(session):
    for show_hidden in (False, True):
        html = render_report(session, show_hidden=show_hidden)
        assert "http://" not in html and "https://" not in html
        assert "<script" not in html.lower() and "javascript:" not in html.lower()
        assert "@import" not in html and "url(" not in html.replace("url(#chart-", "")


def test_content_security_policy_forbids_scripts_and_loads(session):
    doc = Document(render_report(session))
    csp = next(m for m in doc.find_all("meta") if m.attr("http-equiv") == "Content-Security-Policy")
    assert csp.attr("content") == "default-src 'none'; style-src 'unsafe-inline'"


def test_safe_is_used_only_on_our_stylesheet():
    uses = {
        path.name: re.findall(r"\|\s*safe\b[^}]*", path.read_text())
        for path in TEMPLATES.glob("*.html")
    }
    assert {name: u for name, u in uses.items() if u} == {"report.html": ["|safe "]}
    assert "{{ css|safe }}" in (TEMPLATES / "report.html").read_text()
    source = "".join(p.read_text() for p in TEMPLATES.parent.rglob("*.py"))
    assert "Markup" not in source and "autoescape=False" not in source
    assert "</" not in stylesheet()


def test_script_in_a_style_breaking_position_stays_text(session):
    session["submission"] = "</style><script>alert(3)</script>"
    session["tests"][0]["stdout"] = "</pre></details></article><script>alert(4)</script>"
    html = render_report(session)
    doc = Document(html)
    assert doc.errors == []
    assert "<script" not in html
    assert doc.find("h1").text == "</style><script>alert(3)</script>"
