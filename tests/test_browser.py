"""The app in a real browser: headless Debian Chromium driven by Playwright.

Opens the page, checks the device is shown, opens every tab (by click and by ?tab= link), fails on any
browser console error or Gradio error toast, and saves a screenshot per tab under artifacts/screenshots/.
Tabs added to app.TOPICS are covered automatically.
"""

from __future__ import annotations

import re
import shutil

import pytest

import app

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
TOPICS = app.load_topics()
CHECKS = {}  # TAB_ID -> function(page) that exercises the open tab; see tests/browser_checks.py
try:
    from tests.browser_checks import CHECKS  # noqa: F811
except ImportError:
    pass


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Page:
    """A page plus the console errors and page errors it collected."""

    def __init__(self, browser, url):
        self.ctx = browser.new_context(viewport={"width": 1280, "height": 720})
        self.page = self.ctx.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.goto(url, wait_until="load")
        self.page.wait_for_selector("#kplab-device", timeout=60_000)

    def toasts(self) -> list[str]:
        return [t.inner_text() for t in self.page.locator("[data-testid='toast-body']").all()
                if "error" in (t.get_attribute("class") or "").lower() or "Error" in t.inner_text()]

    def assert_clean(self):
        assert not self.errors, f"browser console errors: {self.errors}"
        assert not self.toasts(), f"error toasts: {self.toasts()}"


@pytest.fixture
def page(browser, app_url):
    p = Page(browser, app_url)
    yield p
    p.ctx.close()


def screenshot(page, name):
    from tests.conftest import ARTIFACTS

    d = ARTIFACTS / "screenshots"
    d.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(d / f"{name}.png"), full_page=True)


def test_header_shows_device(page):
    text = page.page.locator("#kplab-device").inner_text()
    assert re.search(r"computing on:\s*(CUDA|MPS|CPU)", text), text
    page.assert_clean()


@pytest.mark.parametrize("mod", TOPICS, ids=[m.TAB_ID for m in TOPICS])
def test_tab_opens_by_click_and_by_link(browser, app_url, mod):
    p = Page(browser, app_url)
    try:
        button = f"#tab-{mod.TAB_ID}-button"
        for _ in range(6):  # a click that lands before the page has hydrated is lost, as it would be for a person
            p.page.locator(button).click()
            try:
                p.page.wait_for_function(f"window.location.search.includes('tab={mod.TAB_ID}')", timeout=5_000)
                break
            except Exception:  # noqa: BLE001
                continue
        assert f"tab={mod.TAB_ID}" in p.page.url  # the address bar follows the open tab
        assert p.page.locator(button).get_attribute("aria-selected") == "true"
        p.ctx.close()
        p = Page(browser, app_url + f"?tab={mod.TAB_ID}")
        p.page.wait_for_function(f"document.querySelector('{button}')?.getAttribute('aria-selected') === 'true'",
                                 timeout=20_000)
        check = CHECKS.get(mod.TAB_ID)
        if check is not None:  # a tab may be exercised further (run an example, wait for plots)
            check(p.page)
        p.page.wait_for_timeout(300)
        screenshot(p.page, mod.TAB_ID)
        p.assert_clean()
    finally:
        p.ctx.close()


def test_presentation_mode_enlarges_type(page):
    body = page.page.locator(".gradio-container").first
    before = float(body.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    page.page.locator("#kplab-present input").check()
    page.page.wait_for_timeout(200)
    after = float(body.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    assert after > before
    assert "present=1" in page.page.url
    page.assert_clean()


PLOT_IDS = sorted(b.elem_id for b in app.demo.blocks.values() if type(b).__name__ == "Plot" and b.elem_id)
FIRST_SCREEN = """(ids) => { const vis = e => e && e.offsetParent !== null;
  const frames = ids.map(i => document.getElementById(i)).filter(vis);
  const empty = frames.filter(f => !f.querySelector('.js-plotly-plot')).map(f => f.id);
  const tops = frames.map(f => f.getBoundingClientRect().top + window.scrollY);
  return {empty, top: tops.length ? Math.min(...tops) : null, n: frames.length}; }"""


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)], ids=["720p", "1080p"])
@pytest.mark.parametrize("mod", [m for m in TOPICS if m.TAB_ID != "overview"], ids=lambda m: m.TAB_ID)
def test_presentation_mode_main_figure_on_the_first_screen_and_no_empty_frames(browser, app_url, mod, size):
    """Opened from its link in presentation mode, a tab's first figure starts in the top 60 % of a projector
    screen, and every figure frame on the page shows a figure (a result or a drawn placeholder)."""
    w, h = size
    ctx = browser.new_context(viewport={"width": w, "height": h})
    page = ctx.new_page()
    try:
        page.goto(app_url + f"?tab={mod.TAB_ID}&present=1", wait_until="load")
        page.wait_for_function("document.body.classList.contains('kplab-present')", timeout=60_000)
        try:
            page.wait_for_function(f"(ids) => ({FIRST_SCREEN})(ids).empty.length === 0 && ({FIRST_SCREEN})(ids).n > 0",
                                   arg=PLOT_IDS, timeout=60_000)
        except Exception:  # noqa: BLE001 - the assertion below says which frames stayed empty
            pass
        page.wait_for_timeout(500)
        r = page.evaluate(FIRST_SCREEN, PLOT_IDS)
        assert r["n"] > 0 and not r["empty"], f"empty figure frames: {r['empty']}"
        assert r["top"] < 0.6 * h, f"first figure starts at {r['top'] / h:.2f} of the screen"
        if w == 1280:
            screenshot(page, f"present-{mod.TAB_ID}")
    finally:
        ctx.close()


def test_a_bad_upload_gets_a_toast_and_the_figures_stay(page, tmp_path):
    """A text file named .png: one plain sentence in a warning toast, and the figures already on screen stay."""
    p = page.page
    p.goto(p.url.split("?")[0] + "?tab=keypoints", wait_until="load")
    p.wait_for_selector("#kp-overlay .js-plotly-plot", timeout=60_000)
    summary = p.locator("#kp-summary").inner_text()
    bad = tmp_path / "notes.png"
    bad.write_text("this is not a picture")
    p.locator("#kp-image input[type=file]").set_input_files(str(bad))
    p.wait_for_selector("[data-testid='toast-body']", timeout=30_000)
    toast = " ".join(t.inner_text() for t in p.locator("[data-testid='toast-body']").all())
    assert "notes.png is not an image this app can read" in toast
    assert "/tmp" not in toast and "Error:" not in toast
    p.wait_for_timeout(500)
    assert p.locator("#kp-overlay .js-plotly-plot").count() == 1  # the figures stay
    assert p.locator("#kp-summary").inner_text() == summary


def test_a_copied_link_reopens_the_view_as_it_was(browser, app_url):
    """"Share this view" (Gradio's deep link, which works inside a Space's page): the link opens the tab
    with what was on screen, here a covered joint, not the tab's first view."""
    p = Page(browser, app_url + "?tab=keypoints")
    try:
        page = p.page
        page.wait_for_selector("#kp-overlay .js-plotly-plot", timeout=60_000)
        page.get_by_role("tab", name="Occlude").click()
        page.locator("#kp-cover").click()
        page.wait_for_function("document.querySelector('#kp-summary')?.innerText.includes('covers the')",
                               timeout=60_000)
        with page.expect_response(lambda r: "gradio_api/deep_link" in r.url) as resp:
            page.get_by_role("button", name="Share this view").click()
        link = resp.value.text().strip('"')
        assert re.fullmatch(r"[A-Za-z0-9_-]+", link), link
    finally:
        p.ctx.close()
    q = Page(browser, app_url + f"?tab=keypoints&deep_link={link}")
    try:
        q.page.wait_for_selector("#kp-overlay .js-plotly-plot", timeout=60_000)
        q.page.wait_for_timeout(3000)  # the page's own load events have run by now
        assert "covers the" in q.page.locator("#kp-summary").inner_text()
        q.assert_clean()
    finally:
        q.ctx.close()
