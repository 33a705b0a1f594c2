"""The report as a browser draws it: headless Chromium at desktop and phone widths."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
import report_samples
from report_chromium import CHROMIUM, measure, screenshot

from grader.report import render_report
from grader.report.charts import Heatmap, colors, heatmap
from grader.report.charts.boundary import REGION_TINT
from grader.report.render import stylesheet

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian package 'chromium'); "
    "the browser rendering tests need /usr/bin/chromium",
)

DESKTOP, PHONE, HEIGHT = 1280, 390, 2000
WIDTHS = (DESKTOP, PHONE)


def rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])


BACKGROUND = rgb(re.search(r"--bg: (#[0-9a-f]{6})", stylesheet()).group(1))  # type: ignore[union-attr]
CARD = rgb("#ffffff")


def heatmap_model() -> Heatmap:
    """The model of the heatmap on the visual page (leaky ReLU treated as ReLU)."""
    tensor = report_samples.record("leaky_relu_like_relu")["tensors"][0]
    model = heatmap(tensor["error_map"], tensor="dx", chart_id="x")
    assert model is not None
    return model


def visual_session() -> dict[str, Any]:
    """A short page with one of each chart near the top, for the pixel checks."""
    s = report_samples.session()
    s["tests"] = [s["tests"][3], s["tests"][7]]  # leaky ReLU treated as ReLU; the training run
    s["tests"][0]["checks"][0]["tensors"][0]["worst"] = []  # keeps the page short on a phone
    s["tasks"] = [dict(t, message="") for t in s["tasks"] if t["id"] in ("1.2", "2.2")]
    s["tests"][1]["stdout"] = ""
    return s


def stress_session() -> dict[str, Any]:
    """Everything long: unbroken names, paths, messages, output lines; big maps and tables."""
    s = report_samples.session()
    word = "gradient_" * 40
    s["submission"] = "/home/student/" + "very_long_folder_name_" * 12 + "/layers.py"
    s["assignment"] = word
    s["tasks"][0]["name"] = word
    s["tasks"][0]["message"] = word + " " + word
    first = s["tests"][0]
    first["nodeid"] = "tests/" + word + ".py::test_" + word
    first["name"] = "test_" + word
    first["message"] = word * 3
    first["stdout"] = ("x" * 3000 + "\n") * 5
    rec = report_samples.record("net_reg_missing")
    big = dict(rec["tensors"][0], error_map=[[1e-3 * (i + 1)] * 64 for i in range(64)])
    first["checks"] = [dict(rec, tensors=[big, *rec["tensors"][1:]])]
    return s


Key = tuple[str, str, int]  # ("shot" | "measure", page name, window width)
NEEDS: dict[str, Callable[..., set[Key]]] = {}


def needs(keys: Callable[..., set[Key]]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Declare what a test looks at, so the fixture can take it in advance, in parallel."""

    def register(test: Callable[..., None]) -> Callable[..., None]:
        NEEDS[test.__name__] = keys
        return test

    return register


class Browser:
    """Screenshots and measurements, each taken once per process (each Chromium ~1 s)."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp = tmp_path_factory
        self.taken: dict[Key, Any] = {}
        self.pages: dict[str, str] = {}

    def page(self, name: str) -> str:
        if name not in self.pages:
            self.pages[name] = {
                "visual": lambda: render_report(visual_session()),
                "student": lambda: render_report(report_samples.session()),
                "stress": lambda: render_report(stress_session(), show_hidden=True),
            }[name]()
        return self.pages[name]

    def take(self, keys: set[Key]) -> None:
        todo = sorted(keys - self.taken.keys())
        for _, name, _ in todo:
            self.page(name)
        # folders are made here: pytest's tmp_path_factory is not thread-safe
        folders = {key: self.tmp.mktemp("-".join(map(str, key))) for key in todo}

        def work(key: Key) -> Any:
            kind, name, width = key
            if kind == "measure":
                return measure(self.pages[name], width, folders[key])
            return screenshot(self.pages[name], width, HEIGHT, folders[key])

        with ThreadPoolExecutor(max_workers=min(4, max(2, os.cpu_count() or 2))) as pool:
            self.taken.update(zip(todo, pool.map(work, todo), strict=True))

    def __getitem__(self, key: Key) -> Any:
        if key not in self.taken:
            self.take({key})
        return self.taken[key]


@pytest.fixture(scope="module")
def browser(request, tmp_path_factory) -> Browser:
    """Takes, in parallel, what this process's tests of this module declared they need
    (with pytest-xdist each worker runs only some of them)."""
    taken = Browser(tmp_path_factory)
    keys: set[Key] = set()
    for item in request.session.items:
        if getattr(item, "module", None) is request.module and item.originalname in NEEDS:
            params = item.callspec.params if hasattr(item, "callspec") else {}
            keys |= NEEDS[item.originalname](**params)
    taken.take(keys)
    return taken


def near(image: np.ndarray, color: np.ndarray, tol: int = 8) -> np.ndarray:
    return (np.abs(image.astype(int) - color) <= tol).all(axis=-1)


def crop(image: np.ndarray, box: list[float], pad: int = 0) -> np.ndarray:
    x, y, w, h = (round(v) for v in box)
    assert y + h <= image.shape[0], "the element is below the screenshot"
    return image[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad]


@pytest.mark.parametrize("width", WIDTHS)
@needs(lambda width: {("shot", "visual", width)})
def test_screenshot_is_a_drawn_page_of_the_right_size(browser, width):
    image = browser["shot", "visual", width]
    assert image.shape == (HEIGHT, width, 3)
    packed = (image.astype(np.uint32) << np.array([16, 8, 0], np.uint32)).sum(axis=-1)
    assert image.std() > 15 and len(np.unique(packed)) > 1000  # not a blank page
    background = near(image, BACKGROUND, 2).mean()
    white = near(image, CARD, 2).mean()
    assert 0.03 < background < 0.7 and white > 0.2  # cards on the page background


@pytest.mark.parametrize("width", WIDTHS)
@needs(lambda width: {("shot", "visual", width), ("measure", "visual", width)})
def test_header_shows_the_submission_and_the_score(browser, width):
    image, boxes = browser["shot", "visual", width], browser["measure", "visual", width]["boxes"]
    header = crop(image, boxes["header"])
    assert near(header, CARD, 2).mean() > 0.7  # a white card...
    for key, least in (("title", 300), ("score", 100)):  # ...with dark text in the right places
        ink = (crop(image, boxes[key]).max(axis=-1) < 90).sum()
        assert ink > least, (key, ink)
    x, y, w, h = boxes["header"]
    assert y < 40 and x >= 8 and x + w <= width - 8


@pytest.mark.parametrize("width", WIDTHS)
@needs(lambda width: {("shot", "visual", width), ("measure", "visual", width)})
def test_charts_are_drawn_in_colour_where_the_layout_puts_them(browser, width):
    image, boxes = browser["shot", "visual", width], browser["measure", "visual", width]["boxes"]
    heatmap = crop(image, boxes["heatmap"])
    fills = sorted({rgb(c.fill).tobytes(): rgb(c.fill) for c in heatmap_model().cells}.values(),
                   key=lambda c: c @ [0.2126, 0.7152, 0.0722])  # fmt: skip
    assert near(heatmap, fills[-1], 4).sum() > 2000  # the wrong elements: bright yellow
    assert near(heatmap, fills[0], 4).sum() > 300  # the darkest right element
    loss = crop(image, boxes["loss"])
    assert near(loss, rgb(colors.OKABE_ITO[0]), 10).sum() > 60  # student: solid blue
    assert near(loss, rgb(colors.OKABE_ITO[5]), 10).sum() > 60  # reference: dashed vermillion
    if boxes["boundary"][1] + boxes["boundary"][3] <= HEIGHT:
        area = crop(image, boxes["boundary"])
        for k in (0, 1):
            assert near(area, rgb(colors.tint(colors.OKABE_ITO[k], REGION_TINT)), 3).mean() > 0.1
            assert near(area, rgb(colors.OKABE_ITO[k]), 10).sum() > 500  # the markers
    else:
        assert width == PHONE


@pytest.mark.parametrize(
    ("name", "width"),
    [
        ("student", PHONE),
        ("stress", PHONE),
        ("stress", DESKTOP),
        ("visual", PHONE),
        ("visual", DESKTOP),
    ],
)
@needs(lambda name, width: {("measure", name, width)})
def test_nothing_overflows_the_viewport(browser, name, width):
    facts = browser["measure", name, width]
    assert facts["inner"] == width and facts["client"] == width  # measured at this width
    assert facts["scroll"] <= facts["client"], "the page scrolls sideways"
    assert facts["overflowing"] == []
    assert facts["spilling"] == []  # no text drawn over its neighbours


@needs(lambda: {("shot", "visual", PHONE)})
def test_phone_screenshot_keeps_the_right_margin_clear(browser):
    # Content that stuck out would cover the page margin at the right edge.
    image = browser["shot", "visual", PHONE]
    edge = image[:, -6:]
    assert near(edge, BACKGROUND, 2).all()


@needs(lambda: {("measure", "visual", DESKTOP), ("measure", "student", PHONE)})
def test_desktop_page_is_a_centred_column(browser):
    boxes = browser["measure", "visual", DESKTOP]["boxes"]
    x, _, w, _ = boxes["header"]
    assert w <= 1080 and abs((x + w / 2) - DESKTOP / 2) < 2
    phone = browser["measure", "student", PHONE]["boxes"]["header"]
    assert phone[2] >= PHONE - 2 * 12  # the column fills a phone's width
