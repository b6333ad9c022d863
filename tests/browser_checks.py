"""Per-tab browser exercises, run by tests/test_browser.py after it opens the tab (keyed by TAB_ID)."""

from __future__ import annotations


def wait_plot(page, elem_id: str, timeout: int = 60_000):
    page.wait_for_selector(f"#{elem_id} .js-plotly-plot", timeout=timeout)


def wait_text_change(page, selector: str, before: str, timeout: int = 60_000, contains: str = ""):
    page.wait_for_function("([s, b, c]) => { const e = document.querySelector(s); return e && e.innerText.trim() "
                           "&& e.innerText !== b && e.innerText.includes(c); }", arg=[selector, before, contains],
                           timeout=timeout)


def keypoints(page):
    for elem in ("kp-overlay", "kp-zoom", "kp-grid-probs"):  # the default example is shown on load
        wait_plot(page, elem)
    before = page.locator("#kp-summary").inner_text()
    page.locator("#kp-examples button").first.click()  # an example runs at once
    wait_text_change(page, "#kp-summary", before, contains="ground truth")
    text = page.locator("#kp-summary").inner_text()
    assert "arg-max and integral regression differ" in text and "ground truth" in text
    wait_plot(page, "kp-overlay")
    assert page.locator("#kp-overlay .js-plotly-plot .scatterlayer .trace").count() >= 4
    # draw a stick figure on the sketchpad and analyse it
    page.get_by_role("tab", name="Draw").click()
    page.locator("#kp-sketch button[aria-label=Brush]").click()
    page.keyboard.press("Escape")
    box = page.locator("#kp-sketch canvas").first.bounding_box()
    for stroke in ([(0.5, 0.15), (0.5, 0.55)], [(0.5, 0.3), (0.3, 0.5)], [(0.5, 0.3), (0.7, 0.5)],
                   [(0.5, 0.55), (0.38, 0.9)], [(0.5, 0.55), (0.62, 0.9)]):
        (ax, ay), (bx, by) = stroke
        page.mouse.move(box["x"] + ax * box["width"], box["y"] + ay * box["height"])
        page.mouse.down()
        page.mouse.move(box["x"] + bx * box["width"], box["y"] + by * box["height"], steps=10)
        page.mouse.up()
    before = page.locator("#kp-summary").inner_text()
    page.locator("#kp-run-draw").click()
    wait_text_change(page, "#kp-summary", before, contains="No ground truth")
    # cover the wrist of the example, then a two-figure scene: the summary says how the decoders respond
    page.get_by_role("tab", name="Occlude").click()
    before = page.locator("#kp-summary").inner_text()
    page.locator("#kp-cover").click()
    wait_text_change(page, "#kp-summary", before, contains="covers the")
    before = page.locator("#kp-summary").inner_text()
    page.locator("#kp-two").click()
    wait_text_change(page, "#kp-summary", before, contains="Two figures")
    assert "figure B" in page.locator("#kp-overlay").inner_text()  # both figures' ground truth in the legend
    # settings travel in the link
    base = page.url.split("?")[0]
    page.goto(base + "?tab=keypoints&model=integral-s8&beta=3", wait_until="load")
    page.wait_for_function("document.querySelector('#kp-summary')?.innerText.includes('integral-s8')", timeout=60_000)


def bimodal(page):
    for elem in ("bm-maps", "bm-slice", "bm-sweep", "bm-overflow"):  # drawn when the page loads
        wait_plot(page, elem)
    assert "distance to the higher peak" in page.locator("#bm-table").inner_text()
    page.locator("#bm-real").click()  # the plot shows a placeholder until then: wait for the result itself
    page.wait_for_function("document.querySelector('#bm-real-text')?.innerText.includes('windowed integral')",
                           timeout=60_000)
    wait_plot(page, "bm-cases")
    page.locator("#bm-remeasure").click()
    page.wait_for_function("document.querySelector('#bm-remeasure-text')?.innerText.includes('Measured live')",
                           timeout=60_000)


def selu(page):
    for elem in ("selu-field", "selu-cos", "selu-deep", "selu-dropout"):
        wait_plot(page, elem)
    assert "0.78" in page.locator("#selu-fixed-point").inner_text()
    before = page.locator("#selu-deep-text").inner_text()
    page.locator("#selu-run").click()
    page.wait_for_timeout(300)
    # same settings, same (seeded) result: once the run is done the numbers are back, identical
    page.wait_for_function("([s, b]) => document.querySelector(s)?.innerText === b", arg=["#selu-deep-text", before],
                           timeout=60_000)


def normalization(page):
    for elem in ("bn-steps", "bn-running", "bn-eval", "norm-cubes"):
        wait_plot(page, elem)
    assert "max |difference|" in page.locator("#bn-text").inner_text()
    page.locator("#norm-train").click()
    wait_plot(page, "norm-live")
    page.wait_for_function("document.querySelector('#norm-live-text')?.innerText.includes('step 300 of 300')",
                           timeout=120_000)


def dropout(page):
    wait_plot(page, "do-steps")
    wait_plot(page, "do-average")
    before = page.locator("#do-text").inner_text()
    page.locator("#do-resample").click()
    wait_text_change(page, "#do-text", before, contains="Kept")  # a new mask, new numbers
    assert "equals" in page.locator("#do-text").inner_text()


def architectures(page):
    for elem in ("arch-zoo-ops", "arch-blocks", "arch-separable", "arch-shuffle"):
        wait_plot(page, elem, timeout=120_000)
    assert "equal" in page.locator("#arch-blocks-text").inner_text()
    page.locator("#arch-compress-run").click()  # a placeholder until the sweep is done: wait for its table
    page.wait_for_function("document.querySelector('#arch-compress-table')?.innerText.includes('pruned')",
                           timeout=120_000)
    wait_plot(page, "arch-compress")


def race(page):
    page.locator("#race-run").click()  # the default race: about 30 s on a 2-core CPU
    page.wait_for_function("document.querySelector('#race-text')?.innerText.includes('Best to worst')",
                           timeout=180_000)
    wait_plot(page, "race-curves")
    assert page.locator("#race-curves .js-plotly-plot .scatterlayer .trace").count() >= 7


CHECKS = {"race": race, "architectures": architectures, "keypoints": keypoints, "bimodal": bimodal, "normalization": normalization, "dropout": dropout,
          "selu": selu}
