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
    # draw a stick figure on the sketchpad and analyse it: the brush is ready, red first, its help in view
    page.get_by_role("tab", name="Draw").click()
    page.wait_for_selector("#kp-sketch button[aria-label=Brush].highlight", timeout=10_000)  # nobody picked it
    help_line = page.locator("#kp-sketch-help")
    assert help_line.is_visible() and "red" in help_line.inner_text()
    assert help_line.evaluate("e => { const r = e.getBoundingClientRect(); "
                              "return e.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)); }")
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
    assert "distance to peak 1" in page.locator("#bm-table").inner_text()
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


# -- presentation mode: what a projector shows (measured once per tab and size by tests/test_browser.py) --------

PRESENT_READY = """() => { const vis = e => e && e.offsetParent !== null;
  const gds = [...document.querySelectorAll('.js-plotly-plot')].filter(vis);
  return document.body.classList.contains('kplab-present') && gds.length > 0
    && gds.every(g => g.layout && g.layout.__kplab && g.querySelector('svg text')); }"""

# Everything the rules need, from the rendered page: the main figure (the topmost figure of the open tab, with its
# block), the smallest computed type of each kind, the SVG text boxes of every figure that overlap or leave their
# figure, and the words that a table breaks across lines.
MEASURE = """() => {
  const vis = e => e && e.offsetParent !== null && e.getBoundingClientRect().width > 0;
  const fs = e => parseFloat(getComputedStyle(e).fontSize);
  const smallest = els => { els = els.filter(vis).filter(e => e.innerText.trim());
    if (!els.length) return null; const e = els.reduce((a, b) => fs(a) <= fs(b) ? a : b);
    return {px: fs(e), text: e.innerText.trim().slice(0, 40)}; };
  const out = {H: innerHeight, W: innerWidth, scrollY};
  out.type = {
    body: smallest([...document.querySelectorAll('.prose p, .prose li, .prose td, .prose th')]),
    tabs: smallest([...document.querySelectorAll('button[role=tab]')]),
    labels: smallest([...document.querySelectorAll('[data-testid=block-info], [data-testid=block-label], '
                                                   + '.gradio-container label span, .gradio-container button')]),
  };
  const gds = [...document.querySelectorAll('.js-plotly-plot')].filter(vis);
  const texts = gd => [...gd.querySelectorAll('svg text')].filter(t => t.textContent.trim() && !t.closest('.hoverlayer'))
    .map(t => ({t: t.textContent.trim().slice(0, 30), r: t.getBoundingClientRect(), px: fs(t)}))
    .filter(b => b.r.width > 0 && b.r.height > 0);
  let plotMin = null;
  out.overlaps = [];
  for (const gd of gds) {
    const id = (gd.closest('.block[id]') || {}).id || '?', R = gd.getBoundingClientRect(), bs = texts(gd);
    for (const b of bs) {
      if (!plotMin || b.px < plotMin.px) plotMin = {px: b.px, text: `${id}: ${b.t}`};
      if (b.r.left < R.left - 1 || b.r.right > R.right + 1 || b.r.top < R.top - 1 || b.r.bottom > R.bottom + 1)
        out.overlaps.push(`${id}: "${b.t}" leaves the figure`);
    }
    for (let i = 0; i < bs.length; i++) for (let j = i + 1; j < bs.length; j++) {
      const a = bs[i].r, c = bs[j].r;
      const w = Math.min(a.right, c.right) - Math.max(a.left, c.left), h = Math.min(a.bottom, c.bottom) - Math.max(a.top, c.top);
      if (w > 2 && h > 0.25 * Math.min(a.height, c.height)) out.overlaps.push(`${id}: "${bs[i].t}" overlaps "${bs[j].t}"`);
    }
  }
  out.type.plots = plotMin;
  const top = gds.map(g => [g, g.getBoundingClientRect()]).sort((a, b) => a[1].top - b[1].top)[0];
  if (top) { const blk = top[0].closest('.block') || top[0], r = blk.getBoundingClientRect();
    out.main = {id: blk.id, top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }
  out.broken = [];
  for (const cell of [...document.querySelectorAll('table td, table th')].filter(vis)) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      for (const m of n.textContent.matchAll(/[^\\s\\-\\/]+/g)) {
        const r = document.createRange(); r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
        if (tops.size > 1) out.broken.push(m[0]);
      }
    }
  }
  out.empty = [...document.querySelectorAll('.block[id]')].filter(vis)
    .filter(b => b.querySelector('[data-testid=plotly]') && !b.querySelector('.js-plotly-plot svg')).map(b => b.id);
  out.modebarStops = [...document.querySelectorAll('.modebar-btn')].filter(b => b.tabIndex >= 0).length;
  return out; }"""


def measure_present(browser, url: str, tab: str, size: tuple[int, int]) -> dict:
    """Open ``tab`` from its link in presentation mode at ``size`` and measure it (see MEASURE)."""
    w, h = size
    ctx = browser.new_context(viewport={"width": w, "height": h})
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url + f"?tab={tab}&present=1", wait_until="load")
        page.wait_for_function(PRESENT_READY, timeout=90_000)
        page.wait_for_timeout(2500)  # late load events and the 1 s height check have run
        page.wait_for_function(PRESENT_READY, timeout=30_000)
        m = page.evaluate(MEASURE)
        m["errors"] = errors
        return m
    finally:
        ctx.close()


# -- the keyboard: one view per tab driven with keys only (focus, arrows, typing, Enter) ------------------------

SNAPSHOT = """(panel) => { const p = document.getElementById(panel);
  return [...p.querySelectorAll('.prose, .js-plotly-plot')].filter(e => e.offsetParent !== null)
    .map(e => e.classList.contains('prose') ? e.innerText : JSON.stringify((e.data || []).map(d => [d.x, d.y, d.z]))).join('|'); }"""


def wait_changed(page, panel: str, before: str, timeout: int = 60_000):
    page.wait_for_function(f"(b) => ({SNAPSHOT})('{panel}') !== b", arg=before, timeout=timeout)


def keys_on_first_slider(page, tab: str):
    """The open tab's first visible slider, stepped with the arrow keys: a view of the tab redraws."""
    panel = f"tab-{tab}"
    rng = page.locator(f"#{panel} input[data-testid=range-input]:visible").first
    page.wait_for_timeout(1500)
    before = page.evaluate(SNAPSHOT, panel)
    rng.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_changed(page, panel, before)


def keys_keypoints(page):
    """Beta typed and entered, beta and the occluder size stepped by arrows, the joint chosen by keys: each
    redraws, and focus stays on the control."""
    wait_plot(page, "kp-overlay")
    page.wait_for_timeout(1500)
    box = page.locator("#kp-beta input[data-testid=number-input]")
    before = page.locator("#kp-summary").inner_text()
    box.focus()
    page.keyboard.press("Control+a")
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    wait_text_change(page, "#kp-summary", before)
    assert page.evaluate("document.activeElement?.closest('#kp-beta') !== null")
    before = page.locator("#kp-summary").inner_text()
    page.locator("#kp-beta input[data-testid=range-input]").focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    wait_text_change(page, "#kp-summary", before)
    # the occluder: its tab by arrow keys along the tab bar, its size by arrows
    page.get_by_role("tab", name="Image").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("document.activeElement?.innerText === 'Occlude' && "
                           "document.activeElement.getAttribute('aria-selected') === 'true'", timeout=10_000)
    before = page.locator("#kp-summary").inner_text()
    page.locator("#tab-keypoints input[data-testid=range-input]:visible").first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_text_change(page, "#kp-summary", before, contains="covers the")
    # the joint to zoom on, chosen with the keys: focus stays on it after the redraw
    joint = page.get_by_label("Joint to zoom on")
    before = page.locator("#kp-summary").inner_text()
    joint.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    wait_text_change(page, "#kp-summary", before)
    page.wait_for_timeout(1200)
    assert page.evaluate("document.activeElement !== document.body"), "focus fell to the page after the redraw"


def keys_race(page):
    """Start the race with Enter, stop it with Enter."""
    page.locator("#race-run").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#race-text')?.innerText.includes('Step')", timeout=120_000)
    page.get_by_role("button", name="Stop").first.focus()
    page.keyboard.press("Enter")


def keys_overview(page):
    """Along the tab bar with the arrow keys: the next tab opens."""
    page.locator("#tab-overview-button").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("document.querySelector('#tab-overview-button').getAttribute('aria-selected') === 'false'"
                           " && document.activeElement?.getAttribute('aria-selected') === 'true'", timeout=10_000)


KEYS = {"keypoints": keys_keypoints, "race": keys_race, "overview": keys_overview}  # others: keys_on_first_slider
