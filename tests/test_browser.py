"""The app in a real browser: headless Debian Chromium driven by Playwright.

Opens the page, checks the device is shown, opens every tab (by click and by ?tab= link), fails on any
browser console error or Gradio error toast, and saves a screenshot per tab under artifacts/screenshots/.
Tabs added to app.TOPICS are covered automatically.
"""

from __future__ import annotations

import re
import shutil
import time

import pytest

import app

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
TOPICS = app.load_topics()
# Per-tab exercises (tests/browser_checks.py). Imported plainly: a broken import fails the whole module loudly
# instead of quietly dropping every per-tab check.
from tests import browser_checks as BC  # noqa: E402

CHECKS = BC.CHECKS  # TAB_ID -> function(page) that exercises the open tab
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


@pytest.fixture(scope="session")
def app_url(app_url):
    """The conftest's app, or a running one named by KPLAB_TEST_URL (quicker when iterating on the page)."""
    import os

    return os.environ.get("KPLAB_TEST_URL") or app_url


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


PRESENT_TABS = [m.TAB_ID for m in TOPICS if m.TAB_ID != "overview"]  # the overview tab has no figure
_MEASURED: dict = {}


def tab_tree(tab: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The labels of the inner tabs (gr.Tab inside the tab) and the elem_ids of the figures (gr.Plot) of a tab,
    from the app's own block tree."""
    import gradio as gr

    root = next(b for b in app.demo.blocks.values() if isinstance(b, gr.Tab) and b.elem_id == f"tab-{tab}")
    inner, plots = [], []

    def walk(block):
        for c in getattr(block, "children", None) or []:
            if isinstance(c, gr.Tab):
                inner.append(str(c.label))
            elif isinstance(c, gr.Plot) and c.elem_id:
                plots.append(c.elem_id)
            walk(c)
    walk(root)
    return tuple(inner), tuple(plots)


@pytest.fixture
def measured(browser, app_url):
    """The presentation-mode measurements of a tab at a size (tests/browser_checks.MEASURE), one page load each,
    shared by the rules below: on opening, then with each inner tab open in turn (its short runs pressed)."""
    def get(tab: str, size: str) -> dict:
        if (tab, size) not in _MEASURED:
            _MEASURED[tab, size] = BC.measure_present(browser, app_url, tab, SIZES[size], inner=tab_tree(tab)[0])
        return _MEASURED[tab, size]
    return get


def long_runs(tab: str) -> int:
    """How many long-run buttons (ui.long_run's) the tab holds, from the app's own block tree."""
    import gradio as gr

    root = next(b for b in app.demo.blocks.values() if isinstance(b, gr.Tab) and b.elem_id == f"tab-{tab}")
    count = 0

    def walk(block):
        nonlocal count
        for c in getattr(block, "children", None) or []:
            count += isinstance(c, gr.Button) and "kplab-long-run" in (c.elem_classes or [])
            walk(c)
    walk(root)
    return count


LONG_TABS = [t for t in PRESENT_TABS if long_runs(t)]
_AFTER: dict = {}


@pytest.fixture
def after_runs(browser, app_url):
    """A tab in presentation mode after every long run it holds was pressed at its defaults (once per tab), measured
    at both sizes (tests/browser_checks.measure_after_runs)."""
    def get(tab: str) -> dict:
        if tab not in _AFTER:
            from tests.conftest import ARTIFACTS

            shots = ARTIFACTS / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            _AFTER[tab] = BC.measure_after_runs(browser, app_url, tab, SIZES, inner=tab_tree(tab)[0], shots=shots)
        return _AFTER[tab]
    return get


def min_px(h: int) -> float:
    """3 % of the screen height (AVIXA DISCAS, a room viewed from 6 image heights): 21.6 px at 720p, 32.4 at 1080p."""
    return 0.03 * h


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("tab", PRESENT_TABS)
def test_presentation_main_figure_whole_on_the_first_screen(measured, tab, size):
    """The open tab's topmost figure (its block: title, axes, legend) lies wholly inside the first screen."""
    m = measured(tab, size)
    assert not m["errors"], m["errors"]
    assert not m["empty"], f"empty figure frames: {m['empty']}"
    f = m["main"]
    assert f["top"] >= 0 and f["left"] >= 0 and f["bottom"] <= m["H"] + 1 and f["right"] <= m["W"] + 1, \
        f"{f['id']} spans {f['top']:.0f}-{f['bottom']:.0f} px of {m['H']} (x {f['left']:.0f}-{f['right']:.0f} of {m['W']})"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("tab", PRESENT_TABS)
def test_presentation_type_at_least_3_percent_of_the_screen(measured, tab, size):
    """Body text, tab names, widget labels and every figure's text (ticks, legends, titles): >= 3 % of the height."""
    m = measured(tab, size)
    small = {kind: v for kind, v in m["type"].items() if v is not None and v["px"] < min_px(m["H"]) - 0.01}
    assert not small, f"under {min_px(m['H']):.1f} px: {small}"
    assert m["type"]["plots"] is not None and m["type"]["tabs"] is not None


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("tab", PRESENT_TABS)
def test_presentation_no_overlapping_or_clipped_figure_text(measured, tab, size):
    """Every figure on the tab, inner tabs included: no two SVG text boxes of one figure overlap, none leaves its
    figure; and every figure of the tab was measured (an inner tab not opened would leave its figures out)."""
    m = measured(tab, size)
    assert not m["overlaps"], f"{len(m['overlaps'])} overlaps: {m['overlaps'][:12]}"
    missing = set(tab_tree(tab)[1]) - m["figures"]
    assert not missing, f"figures never drawn in the states {m['states']}: {sorted(missing)}"
    assert not m["empty"], f"empty figure frames: {m['empty']}"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("tab", PRESENT_TABS)
def test_presentation_number_boxes_show_every_digit(measured, tab, size):
    """The number box beside each slider (and every number field) is wide enough for the digits it holds."""
    m = measured(tab, size)
    assert not m["numbers"], f"number boxes that cut their digits: {m['numbers'][:12]}"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("tab", PRESENT_TABS)
def test_presentation_labels_and_values_whole(measured, tab, size):
    """Widget labels, tab names, button texts and the values in text fields and dropdowns are shown whole (broken
    between words where a column is narrow), not cut off at the box's edge ("training steps (each mo...")."""
    m = measured(tab, size)
    assert not m["cut"], f"cut off: {m['cut'][:12]}"


@pytest.mark.parametrize("size", SIZES)
def test_presentation_header_title_whole(measured, size):
    """The header's title is shown whole (wrapped between words if it must), not cut with an ellipsis."""
    m = measured("keypoints", size)
    h = m["header"]
    assert not h["cut"], f"the title is cut: {h}"
    assert h["bottom"] < 0.2 * m["H"], f"the header takes {h['bottom']:.0f} px of {m['H']}"


@pytest.mark.parametrize("size", SIZES)
def test_presentation_keypoint_zoom_is_mostly_map(measured, size):
    """The keypoints tab's zoom panel: its legend and margins leave the plotting area (the zoomed map) at least
    half of the panel's height."""
    a = measured("keypoints", size)["areas"]["kp-zoom"]
    assert a["plotH"] >= 0.5 * a["figH"], f"the zoomed map is {a['plotH']:.0f} px of the panel's {a['figH']:.0f} px"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("tab", PRESENT_TABS)
def test_presentation_no_word_broken_across_lines(measured, tab, size):
    """Tables wrap between words only ("Keypoi nts" was a word broken in two)."""
    m = measured(tab, size)
    assert not m["broken"], f"broken words: {sorted(set(m['broken']))[:12]}"
    assert m["modebarStops"] == 0, "plot toolbars are in the Tab order in presentation mode"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("tab", PRESENT_TABS)
def test_presentation_tables_fit_their_box(measured, tab, size):
    """Every table (Markdown or Dataframe) fits its box, every column and every row: a projector shows no scroll bar,
    so a table that scrolls hides columns, or rows a sentence beside it quotes (the per-joint table may scroll
    sideways: browser_checks.SCROLLING_TABLES)."""
    m = measured(tab, size)
    assert not BC.wide_tables(m), f"tables wider than their box: {BC.wide_tables(m)}"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("tab", LONG_TABS)
def test_presentation_after_every_long_run(after_runs, tab, size):
    """The figures and tables only a run draws (the race's curves and verdict, the zoo's latency, every training
    run's curves), each run pressed once at its defaults: every rule above holds for them too (no overlapping,
    clipped or cut text, type >= 3 % of the height, number boxes whole, words whole), and a verdict that is the
    tab's point lies on the first screen."""
    runs = after_runs(tab)
    assert len(runs["pressed"]) == long_runs(tab), f"pressed {runs['pressed']}, the tab holds {long_runs(tab)} runs"
    assert not [t for t in runs["toasts"] if "rror" in t], runs["toasts"]
    m = runs[size]
    assert not m["errors"], m["errors"]
    assert not m["empty"], f"empty figure frames: {m['empty']}"
    assert not m["overlaps"], f"{len(m['overlaps'])} overlaps: {m['overlaps'][:12]}"
    small = {kind: v for kind, v in m["type"].items() if v is not None and v["px"] < min_px(m["H"]) - 0.01}
    assert not small, f"under {min_px(m['H']):.1f} px: {small}"
    assert not m["numbers"], f"number boxes cut: {m['numbers'][:12]}"
    assert not m["cut"], f"cut off: {m['cut'][:12]}"
    assert not m["broken"], f"broken words: {sorted(set(m['broken']))[:12]}"
    assert not BC.wide_tables(m), f"tables wider than their box: {BC.wide_tables(m)}"
    # the first state, page at its top: the verdict where a run writes the tab's point (the race: once it ends, its
    # order and table come first and its curves move below), the main figure everywhere else
    first = m["verdicts_at"][:len(BC.VERDICTS[tab])] if tab in BC.VERDICTS else [m["main"]]
    assert first, f"{BC.VERDICTS.get(tab)} not shown after the run"
    for v in first:
        assert v["top"] >= 0 and v["bottom"] <= m["H"] + 1, f"{v['id']} spans {v['top']:.0f}-{v['bottom']:.0f} px of {m['H']}"


def open_keypoints(page):
    """Navigate the shared page to the keypoints tab, its figure drawn; returns the Playwright page."""
    p = page.page
    p.goto(p.url.split("?")[0] + "?tab=keypoints", wait_until="load")
    BC.wait_plot(p, "kp-overlay")
    p.wait_for_timeout(1000)
    page.errors.clear()  # the first page's event streams, aborted by the navigation above, log their abort
    return p


def test_presentation_mode_scales_plot_type_and_back(page):
    """Ticking presentation mode redraws the figures on screen with larger type; unticking restores them."""
    p = open_keypoints(page)
    tick = "() => parseFloat(getComputedStyle(document.querySelector('#kp-overlay .xtick text')).fontSize)"
    before = p.evaluate(tick)
    p.locator("#kplab-present input").check()
    p.wait_for_function(f"({tick})() >= {min_px(720)}", timeout=20_000)
    p.locator("#kplab-present input").uncheck()
    p.wait_for_function(f"({tick})() === {before}", timeout=20_000)
    page.assert_clean()


def test_presentation_toolbar_only_under_the_pointer(page):
    """Presentation mode: a figure's toolbar stays hidden while the pointer is on the figure (it covered long titles)
    and shows when the pointer reaches the toolbar's corner; without presentation mode Plotly's own rule holds (the
    toolbar shows on the whole figure)."""
    p = open_keypoints(page)
    opacity = "() => getComputedStyle(document.querySelector('#kp-overlay .modebar-group')).opacity"
    figure = p.locator("#kp-overlay .js-plotly-plot .draglayer").first  # the plotting area (hover: scrolls to it)
    figure.hover()
    p.wait_for_function(f"({opacity})() === '1'", timeout=5_000)
    p.locator("#kplab-present input").check()
    p.wait_for_function("document.body.classList.contains('kplab-present')")
    p.wait_for_timeout(1500)  # redrawn at presentation size
    figure.hover()
    p.wait_for_timeout(600)  # past the toolbar's fade
    assert p.evaluate(opacity) == "0", "the toolbar shows over the figure in presentation mode"
    p.locator("#kp-overlay .modebar-group").first.hover(force=True)  # (force: it is transparent, not hidden)
    p.wait_for_function(f"({opacity})() === '1'", timeout=5_000)
    page.assert_clean()


@pytest.mark.parametrize("mod", TOPICS, ids=[m.TAB_ID for m in TOPICS])
def test_keyboard_only_drives_a_view(browser, app_url, mod):
    """Each tab answers the keyboard: a slider stepped with the arrow keys (or a typed value and Enter, a button
    pressed with Enter, the tab bar walked with the arrows) changes what the tab shows."""
    p = Page(browser, app_url + f"?tab={mod.TAB_ID}")
    try:
        p.page.wait_for_function(f"document.querySelector('#tab-{mod.TAB_ID}-button')?.getAttribute('aria-selected')"
                                 " === 'true'", timeout=60_000)
        drive = BC.KEYS.get(mod.TAB_ID)
        if drive is None:
            BC.keys_on_first_slider(p.page, mod.TAB_ID)
        else:
            drive(p.page)
        p.assert_clean()
    finally:
        p.ctx.close()


def test_example_thumbnails_are_named(page):
    p = page.page
    p.goto(p.url.split("?")[0] + "?tab=keypoints", wait_until="load")
    p.wait_for_selector("#kp-examples .gallery-item", timeout=60_000)
    p.wait_for_timeout(800)
    names = p.locator("#kp-examples .gallery-item").evaluate_all("bs => bs.map(b => b.getAttribute('aria-label'))")
    assert names and all(n and n.startswith("Example: ") for n in names), names


def test_api_page_examples_run_and_every_output_is_named():
    """The API page's example for /analyse_image sends a bundled image (not None), and no output is "value_N"."""
    info = app.demo.get_api_info()
    ep = info["named_endpoints"]["/analyse_image"]
    image = next(p for p in ep["parameters"] if p["parameter_name"] == "image")
    assert image["parameter_default"] is not None and "default-solid" in str(image["parameter_default"])
    unnamed = [(name, r["label"]) for name, e in info["named_endpoints"].items() for r in e["returns"]
               if re.fullmatch(r"value_\d+", str(r["label"]))]
    assert not unnamed, unnamed


def test_api_page_opens_without_console_errors(browser, app_url):
    """The "Use via API" panel loads its schema (a 404 for /gradio_api/mcp/schema was a console error)."""
    p = Page(browser, app_url + "?view=api")
    try:
        p.page.wait_for_timeout(4000)
        p.assert_clean()
    finally:
        p.ctx.close()


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


# Here, not in a module of its own: a second module importing the session browser fixture would start a second
# Playwright in the same thread, which Playwright refuses ("Sync API inside the asyncio loop").
def test_photo_model_offline_one_toast_and_the_dropdown_goes_back(browser, app_url):
    """#26 item 2: the photo model chosen where its weights are not available (the test app runs offline) gives
    one warning toast and one log line, and the dropdown goes back to the model the figure shows."""
    from tests.conftest import ARTIFACTS

    log = ARTIFACTS / "app-server.log"
    before = log.read_text().count("rejected input to change_model") if log.exists() else 0
    p = Page(browser, app_url + "?tab=keypoints")
    try:
        page = p.page
        page.wait_for_selector("#kp-model input", timeout=120_000)
        page.wait_for_function("document.querySelector('#kp-summary') && "
                               "document.querySelector('#kp-summary').innerText.includes('Model')", timeout=120_000)
        shown = page.locator("#kp-model input").input_value()
        page.locator("#kp-model input").click()
        page.locator("ul[role='listbox'] li", has_text="Keypoint R-CNN").first.click()
        page.wait_for_selector("[data-testid='toast-body']", timeout=60_000)
        time.sleep(4)  # a second event from the same choice would arrive within this
        toasts = [t.inner_text() for t in page.locator("[data-testid='toast-body']").all()]
        if not any("not available here" in t for t in toasts):
            pytest.skip("the photo model's weights are available here")
        assert len(toasts) == 1 and "(2)" not in toasts[0], toasts
        assert page.locator("#kp-model input").input_value() == shown  # back to the model the figure shows
        text = log.read_text() if log.exists() else ""
        assert text.count("rejected input to change_model") - before == 1
    finally:
        p.ctx.close()
