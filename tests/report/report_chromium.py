"""Headless Chromium for the report tests: screenshots, and layout measured in the browser."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
from report_png import decode_png

CHROMIUM = shutil.which("chromium")
TIMEOUT = 120
CSP = (
    '<meta http-equiv="Content-Security-Policy" '
    "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
)

# Injected into a test copy of the page only (the report itself never carries a script):
# it records the viewport, the document's scroll width, every element that sticks out
# to the right without being clipped by a scroll box of its own, and the boxes of the
# page's key elements.
MEASURE = """<script>
(function () {
  var root = document.documentElement, width = root.clientWidth, out = [], boxes = {};
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 0.5) return;
    for (var p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return;
    }
    out.push(el.tagName.toLowerCase() + "." + (el.getAttribute("class") || "") +
             " right=" + Math.round(r.right));
  });
  var spilling = [];  // content wider than its own box, drawn over its neighbours
  document.querySelectorAll("body *").forEach(function (el) {
    if (el.closest("svg") || el.clientWidth === 0) return;
    for (var p = el; p; p = p.parentElement) {  // skip visually hidden text for screen readers
      if (p.getBoundingClientRect().width <= 1) return;
    }
    if (getComputedStyle(el).overflowX !== "visible") return;
    if (el.scrollWidth > el.clientWidth + 1) {
      spilling.push(el.tagName.toLowerCase() + "." + (el.getAttribute("class") || "") + " " +
                    el.scrollWidth + ">" + el.clientWidth);
    }
  });
  [["header", "header.summary"], ["score", ".score-value"], ["title", "h1.submission"],
   ["tasks", "table.tasks"], ["heatmap", "figure.heatmap svg"], ["loss", "figure.loss svg"],
   ["boundary", "figure.boundary svg"], ["stacked", "table.stack td"]].forEach(function (pair) {
    var el = document.querySelector(pair[1]);
    if (el) {
      var r = el.getBoundingClientRect();
      boxes[pair[0]] = [r.left + scrollX, r.top + scrollY, r.width, r.height];
    }
  });
  var pre = parent.document.createElement("pre");
  pre.id = "layout-measure";
  pre.textContent = JSON.stringify({inner: innerWidth, client: width, scroll: root.scrollWidth,
                                    overflowing: out, spilling: spilling, boxes: boxes});
  parent.document.body.appendChild(pre);
})();
</script>"""


def run(tmp: Path, width: int, height: int, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp / 'profile'}", "--hide-scrollbars",
        f"--window-size={width},{height}", *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def screenshot(page: str, width: int, height: int, tmp: Path) -> np.ndarray:
    """The page as Chromium draws it in a width x height window, as (height, width, 3) uint8."""
    tmp.mkdir(parents=True, exist_ok=True)
    source, png = tmp / "page.html", tmp / "shot.png"
    source.write_text(page, encoding="utf-8")
    result = run(tmp, width, height, f"--screenshot={png}", source.as_uri())
    assert result.returncode == 0 and png.exists(), (
        f"screenshot {width}x{height} failed:\n" + (result.stderr[-3000:])
    )
    return decode_png(png.read_bytes())[:, :, :3]


def measure(page: str, width: int, tmp: Path, height: int = 2000) -> dict[str, Any]:
    """Layout facts of the page in a viewport ``width`` CSS pixels wide, measured by Chromium.

    Headless Chromium keeps its window at least 500 pixels wide while scripts run
    (a narrower screenshot is laid out again just before capture), so the page is
    measured inside an iframe of exactly ``width`` pixels: its own viewport, media
    queries included. The iframe's script reports back to the wrapper, whose DOM
    ``--dump-dom`` prints.
    """
    assert page.count(CSP) == 1, "the report must carry its Content-Security-Policy"
    probe = page.replace(CSP, "").replace("</body>", MEASURE + "</body>")
    wrapper = (
        '<!DOCTYPE html><html><body style="margin:0">'
        f'<iframe style="display:block;border:0;width:{width}px;height:{height}px" '
        f'srcdoc="{html.escape(probe, quote=True)}"></iframe></body></html>'
    )
    tmp.mkdir(parents=True, exist_ok=True)
    source = tmp / "probe.html"
    source.write_text(wrapper, encoding="utf-8")
    result = run(tmp, max(width, 800) + 40, height + 40, "--dump-dom", source.as_uri())
    found = re.search(r'<pre id="layout-measure">(.*?)</pre>', result.stdout, re.S)
    assert found, (
        f"no measurement at width {width} (exit {result.returncode}):\n" + (result.stderr[-3000:])
    )
    out: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return out
