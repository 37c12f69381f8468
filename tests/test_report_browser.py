"""The HTML reports in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

The page must load with no error and no failed resource, the focus slider must change the displayed slice, clicking
the in-focus map must select that pixel's slice, and the evfocus frame player must advance. A screenshot of each page
is saved beside it. Without Chromium the tests skip, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import shutil

import pytest

from .conftest import run_cli as run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None or not _has_playwright():
        reason = "needs Debian's chromium (apt-get install chromium) and playwright (pip install '.[test]')"
        if os.environ.get("CI"):
            pytest.fail(f"the browser test {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def _has_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def _open(browser, path):
    """A page showing the file ``path``, with a list collecting console errors, page errors and failed loads."""
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"failed to load {r.url[:60]}"))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems


def _broken_images(page) -> int:
    return page.evaluate("[...document.images].filter(i => !i.complete || i.naturalWidth === 0).length")


def _pixels(page, selector: str) -> str:
    """The displayed image's pixels, drawn onto a canvas and read back (a data URL)."""
    return page.evaluate("""sel => { const i = document.querySelector(sel), c = document.createElement('canvas');
        c.width = i.naturalWidth; c.height = i.naturalHeight; c.getContext('2d').drawImage(i, 0, 0);
        return c.toDataURL(); }""", selector)


def test_aif_report_focus_slider_and_map_in_chromium(capsys, tmp_path, simulated, browser):
    out = tmp_path / "out"
    code, _, err = run(capsys, "aif", "--image", simulated / "image.png", "--events", simulated / "events.raw",
                       "--out", out)
    assert code == 0, err
    page, problems = _open(browser, out / "report.html")
    slider = page.locator("#focus-slider")
    count = int(slider.get_attribute("max")) + 1
    assert count >= 3
    start = int(page.eval_on_selector("#focus-image", "e => e.dataset.index"))
    assert "(the input image)" in page.inner_text("#focus-label")
    before = _pixels(page, "#focus-image")
    slider.focus()
    page.keyboard.press("ArrowRight" if start < count - 1 else "ArrowLeft")
    after_index = int(page.eval_on_selector("#focus-image", "e => e.dataset.index"))
    assert after_index != start
    assert _pixels(page, "#focus-image") != before  # another slice is displayed
    assert f"slice {after_index + 1} of {count}" in page.inner_text("#focus-label")
    # hovering the in-focus map reads the pixel; clicking it shows that pixel's slice above
    page.locator("#map-canvas").scroll_into_view_if_needed()
    box = page.locator("#map-canvas").bounding_box()
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    assert page.inner_text("#map-readout").startswith("pixel (")
    page.mouse.click(box["x"] + 5, box["y"] + 5)
    picked = int(page.inner_text("#map-readout").split("slice ")[1].split(" of")[0]) - 1
    assert int(page.eval_on_selector("#focus-image", "e => e.dataset.index")) == picked
    assert _broken_images(page) == 0 and problems == []
    page.screenshot(path=str(out / "report.png"), full_page=True)
    assert (out / "report.png").stat().st_size > 10_000


def test_evfocus_report_frame_player_in_chromium(capsys, tmp_path, simulated, browser):
    out = tmp_path / "ev"
    code, _, err = run(capsys, "evfocus", "--events", simulated / "events.raw", "--method", "integrate", "--out", out)
    assert code == 0, err
    page, problems = _open(browser, out / "report.html")
    first = _pixels(page, "#frame-image")
    page.click("#frame-play")
    page.wait_for_function("document.getElementById('frame-image').dataset.index !== '0'", timeout=5000)
    page.click("#frame-play")
    assert _pixels(page, "#frame-image") != first
    assert _broken_images(page) == 0 and problems == []
    page.screenshot(path=str(out / "report.png"), full_page=True)
