"""The webcam stream in a real browser: headless Chromium with its fake camera (a generated test pattern, no
device), the Beyond tab served alone in this process; recording sends frames and each one grows the track plot.

Its own browser, in a thread of its own: Playwright's sync API refuses a second instance in a thread that already
runs one (the suite's session browser in tests/test_browser.py), and the fake camera is a launch flag."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-dev-shm-usage",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
POINTS = ("() => { const p = document.querySelector('#by-cam-tracks .js-plotly-plot');"
          " return p && p.data && p.data.length ? p.data[0].x.length : 0; }")


@pytest.fixture(scope="module")
def beyond_url():
    import gradio as gr

    from demos.beyond import tab
    from demos.common import ui
    from demos.common.serve import free_port

    with gr.Blocks() as demo:
        tab.build()
        ui.load_first_views()
    demo.queue()
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def _stream_and_count(url: str) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 720}, permissions=["camera"])
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url, wait_until="load")
            cam = page.locator("#by-cam")
            cam.scroll_into_view_if_needed(timeout=60_000)
            access = cam.get_by_text("Click to Access Webcam")
            if access.count():
                access.first.click()
            cam.locator("button.capture-button", has_text="Record").click(timeout=30_000)  # named "capture photo"
            page.wait_for_function(f"({POINTS})() >= 2", timeout=120_000)
            first = page.evaluate(POINTS)
            time.sleep(3)
            later = page.evaluate(POINTS)
            text = page.locator("#by-cam-text").inner_text()
            stop = cam.locator("button.capture-button", has_text="Stop")
            if stop.count():
                stop.first.click()
            return {"first": first, "later": later, "text": text, "errors": errors}
        finally:
            browser.close()


def test_recording_streams_frames_into_the_track_plot(beyond_url):
    with ThreadPoolExecutor(1) as ex:
        got = ex.submit(_stream_and_count, beyond_url).result(timeout=300)
    assert got["later"] > got["first"] >= 2, got  # frames kept arriving and each one added a point
    assert "frames" in got["text"], got["text"]
    assert not got["errors"], got["errors"]
