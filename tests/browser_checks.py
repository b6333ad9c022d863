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
    page.locator("#arch-deepcomp-run").click()  # a short run (2.5 s declared): its figure is measured after this
    page.wait_for_function("document.querySelector('#arch-deepcomp-table')?.innerText.includes('Huffman')",
                           timeout=120_000)
    wait_plot(page, "arch-deepcomp")


def race(page):
    page.locator("#race-run").click()  # the default race: about 30 s on a 2-core CPU
    # the end: the details under the figures appear with the verdict (whose order may be "within noise": not asserted)
    page.wait_for_function("document.querySelector('#race-details')?.innerText.includes('each head read by its own')",
                           timeout=180_000)
    assert "| " not in page.locator("#race-text").inner_text() and page.locator("#race-text table").count() == 1
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
    .map(t => ({t: t.textContent.trim().slice(0, 30), r: t.getBoundingClientRect(), px: fs(t),
                turned: /rotate\\((?!0[,)])/.test((t.getAttribute('transform') || '') + ' ' + (t.parentElement?.getAttribute('transform') || ''))}))
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
    // axis titles and tick labels stay out of every panel's plotting area (a y title squeezed between two panels
    // ran into its neighbour's curves)
    const panels = Object.values((gd._fullLayout || {})._plots || {}).filter(p => p.xaxis && p.yaxis)
      .map(p => ({l: R.left + p.xaxis._offset, r: R.left + p.xaxis._offset + p.xaxis._length,
                  t: R.top + p.yaxis._offset, b: R.top + p.yaxis._offset + p.yaxis._length}));
    for (const t of [...gd.querySelectorAll('.xtitle, .ytitle, .xtick text, .ytick text')].filter(t => t.textContent.trim())) {
      const r = t.getBoundingClientRect();
      if (r.width > 0 && panels.some(q => Math.min(r.right, q.r) - Math.max(r.left, q.l) > 3 && Math.min(r.bottom, q.b) - Math.max(r.top, q.t) > 3))
        out.overlaps.push(`${id}: the axis text "${t.textContent.trim().slice(0, 30)}" lies inside a plotting area`);
    }
    // a legend (its box, background included) covers no axis label, no axis title (a grouped axis's second row of
    // labels was hidden under the legend's background)
    const lg = gd.querySelector('.legend .bg') || gd.querySelector('.legend');
    if (lg) { const q = lg.getBoundingClientRect();
      for (const t of [...gd.querySelectorAll('.xaxislayer-above text, .yaxislayer-above text, [class^=g-x][class$=title] text, '
                                              + '[class^=g-y][class$=title] text')].filter(t => t.textContent.trim())) {
        const r = t.getBoundingClientRect();
        if (r.width > 0 && Math.min(r.right, q.right) - Math.max(r.left, q.left) > 3 && Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top) > 3)
          out.overlaps.push(`${id}: the legend covers the axis text "${t.textContent.trim().slice(0, 30)}"`);
      } }
    // the figure's title stays above its plotting area (a title of three lines ran into the curves)
    const tt = gd.querySelector('.g-gtitle text, .gtitle'), fl = gd._fullLayout;
    if (tt && tt.textContent.trim() && fl && fl._size && tt.getBoundingClientRect().bottom > R.top + fl._size.t + 2)
      out.overlaps.push(`${id}: the title "${tt.textContent.trim().slice(0, 30)}" runs into the plotting area`);
    for (let i = 0; i < bs.length; i++) for (let j = i + 1; j < bs.length; j++) {
      const a = bs[i].r, c = bs[j].r;
      const w = Math.min(a.right, c.right) - Math.max(a.left, c.left), h = Math.min(a.bottom, c.bottom) - Math.max(a.top, c.top);
      if (w > 2 && h > 0.25 * Math.min(a.height, c.height)) out.overlaps.push(`${id}: "${bs[i].t}" overlaps "${bs[j].t}"`);
      // two labels on one line with no space between them read as one ("0.2" + "50" = "0.250"): upright text only
      else if (!bs[i].turned && !bs[j].turned && w > -3 && h > 0.6 * Math.min(a.height, c.height))
        out.overlaps.push(`${id}: "${bs[i].t}" touches "${bs[j].t}" (${(-w).toFixed(0)} px apart)`);
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
      for (const m of n.textContent.matchAll(/[^\\s\\-\\/\u2013\u2014]+/g)) {  // a line may break after a hyphen or a dash
        const r = document.createRange(); r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
        if (tops.size > 1) out.broken.push(m[0]);
      }
    }
  }
  out.empty = [...document.querySelectorAll('.block[id]')].filter(vis)
    .filter(b => b.querySelector('[data-testid=plotly]') && !b.querySelector('.js-plotly-plot svg')).map(b => b.id);
  out.modebarStops = [...document.querySelectorAll('.modebar-btn')].filter(b => b.tabIndex >= 0).length;
  // number boxes (a slider's, a number field's) that cut their digits: the text is wider than the box's room
  const cv = document.createElement('canvas').getContext('2d');
  out.numbers = [];
  for (const i of [...document.querySelectorAll('input[type=number]')].filter(vis)) {
    const cs = getComputedStyle(i);
    cv.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const room = i.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight), w = cv.measureText(i.value).width;
    const high = i.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom), em = parseFloat(cs.fontSize);
    // the box itself inside whatever clips it (Gradio's slider box has a fixed height and hides what overflows)
    const r = i.getBoundingClientRect();
    let clip = null;
    for (let a = i.parentElement; a && !a.classList.contains('block'); a = a.parentElement)
      if (getComputedStyle(a).overflow !== 'visible') { clip = a.getBoundingClientRect(); break; }
    const name = (i.closest('.block[id]') || {}).id || (i.closest('.block')?.innerText.trim().split('\\n')[0] || '?');
    if (i.scrollWidth > i.clientWidth || w > room + 0.5)
      out.numbers.push(`${name}: "${i.value}" is ${w.toFixed(0)} px wide in a box of ${room.toFixed(0)} px`);
    else if (high < em - 0.5 || (clip && (r.top < clip.top - 0.5 || r.bottom > clip.bottom + 0.5 || r.right > clip.right + 0.5)))
      out.numbers.push(`${name}: "${i.value}" (${em} px type) in a box ${high.toFixed(0)} px high`
                       + (clip ? `, shown ${Math.max(r.top, clip.top).toFixed(0)}-${Math.min(r.bottom, clip.bottom).toFixed(0)} of ${r.top.toFixed(0)}-${r.bottom.toFixed(0)}` : ''));
  }
  // the header's title: whole (or wrapped between words), not cut
  const h1 = document.querySelector('#kplab-header h1'), hd = document.querySelector('#kplab-header');
  if (h1) out.header = {text: h1.innerText, cut: h1.scrollWidth > h1.clientWidth + 1 || h1.scrollHeight > h1.clientHeight + 1,
                        bottom: hd.getBoundingClientRect().bottom};
  // each figure's plotting area against its whole figure (what a legend or margins leave for the data)
  out.areas = {};
  for (const gd of gds) { const id = (gd.closest('.block[id]') || {}).id, fl = gd._fullLayout;
    if (id && fl && fl._size) out.areas[id] = {plotH: fl._size.h, plotW: fl._size.w, figH: fl.height, figW: fl.width}; }
  out.figures = gds.map(gd => (gd.closest('.block[id]') || {}).id).filter(Boolean);
  // words cut off: a widget's label, a tab's name, a button's text or a field's value wider than its box
  out.cut = [];
  for (const e of [...document.querySelectorAll('[data-testid=block-info], [data-testid=block-label], button[role=tab], '
                                               + '.gradio-container button, .gradio-container input')].filter(vis)) {
    if (e.tagName === 'INPUT' && e.type !== 'text') continue;  // a dropdown's field has no type attribute
    const v = (e.tagName === 'INPUT' ? e.value : e.innerText).trim();
    if (v && e.scrollWidth > e.clientWidth + 1)
      out.cut.push(`${(e.closest('.block[id]') || {}).id || '?'}: "${v.slice(0, 50)}" needs ${e.scrollWidth} px of ${e.clientWidth}`);
  }
  // tables wider than their box (they scroll sideways: a projector shows part of the table and no scroll bar)
  out.wide = [];
  for (const t of [...document.querySelectorAll('table')].filter(vis)) {
    let box = null;
    for (let a = t.parentElement; a && a !== document.body; a = a.parentElement)
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) { box = a; break; }
    if (!box) continue;
    const need = t.getBoundingClientRect().width, room = box.clientWidth;
    const head = t.querySelector('th, td'), name = (t.closest('.block[id]') || {}).id
      || (t.closest('.block')?.querySelector('[data-testid=block-label], [data-testid=block-info]')?.innerText.trim() || '?');
    if (need > room + 1)
      out.wide.push(`${name}: a table starting "${(head?.innerText || '').trim().slice(0, 20)}" needs ${need.toFixed(0)} px of ${room.toFixed(0)}`);
    // every row shown: a box (inside the table's block) that scrolls down hides rows a sentence may quote
    const blk = t.closest('.block');
    for (let a = t.parentElement; a && blk && blk.contains(a); a = a.parentElement)
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowY) && a.scrollHeight > a.clientHeight + 1) {
        const msg = `${name}: a table shows ${a.clientHeight} px of its ${a.scrollHeight} px (rows hidden)`;
        if (!out.wide.includes(msg)) out.wide.push(msg);
        break;
      }
  }
  return out; }"""


# Tables that may scroll sideways on a projector: the per-joint table holds every decoder's coordinates and errors
# (21 columns with the truth known); its joint column is pinned and the columns that compare decoders come first
# (demos/keypoints/analysis.joint_table), the CSV download has them all. Every other table fits its box.
SCROLLING_TABLES = ("kp-table",)


def wide_tables(m: dict) -> list[str]:
    """The measured tables wider than their box (less SCROLLING_TABLES) or taller than it."""
    return [w for w in m["wide"] if "rows hidden" in w or not any(f"] {t}:" in w for t in SCROLLING_TABLES)]


# Every figure frame on screen shows a figure (a result or its placeholder) drawn at presentation size.
FRAMES_READY = """() => { const vis = e => e && e.offsetParent !== null && e.getBoundingClientRect().width > 0;
  const frames = [...document.querySelectorAll('.block[id]')].filter(vis).filter(b => b.querySelector('[data-testid=plotly]'));
  const gds = [...document.querySelectorAll('.js-plotly-plot')].filter(vis);
  return document.body.classList.contains('kplab-present') && frames.every(f => f.querySelector('.js-plotly-plot svg text'))
    && gds.every(g => g.layout && g.layout.__kplab && g.querySelector('svg text')); }"""

def settle(page, timeout: int = 60_000) -> bool:
    """Wait until every figure on screen is drawn at presentation size, and still is after the page's 1 s height
    check and late events; False if that does not happen within ``timeout`` ms."""
    try:
        page.wait_for_function(FRAMES_READY, timeout=timeout)
        page.wait_for_timeout(1500)
        page.wait_for_function(FRAMES_READY, timeout=30_000)
        return True
    except Exception:  # noqa: BLE001 - reported by the caller as a figure that was not drawn
        return False


def merge(acc: dict, m: dict, where: str) -> dict:
    """One tab's measurements over several states (its inner tabs opened in turn): the smallest type of each kind,
    every problem once (named with the state it was seen in), the first screen's figure and header from the first."""
    if not acc:
        acc = {k: v for k, v in m.items()}
        acc["figures"] = set(m["figures"])
        acc["states"] = [where]
        for key in ("overlaps", "broken", "empty", "numbers", "cut", "wide"):
            acc[key] = [f"[{where}] {x}" for x in m[key]]
        return acc
    acc["states"].append(where)
    for kind, v in m["type"].items():
        if v is not None and (acc["type"].get(kind) is None or v["px"] < acc["type"][kind]["px"]):
            acc["type"][kind] = {**v, "text": f"[{where}] {v['text']}"}
    for key in ("overlaps", "broken", "empty", "numbers", "cut", "wide"):
        seen = {x.split("] ", 1)[1] for x in acc[key]}
        acc[key] += [f"[{where}] {x}" for x in dict.fromkeys(m[key]) if x not in seen]
    acc["figures"] |= set(m["figures"])
    acc["areas"] = {**m["areas"], **acc["areas"]}
    acc["modebarStops"] = max(acc["modebarStops"], m["modebarStops"])
    return acc


def open_inner_tab(page, panel: str, label: str):
    """Click the inner tab named ``label`` inside ``#panel`` (from Gradio's overflow menu when the bar folded it)."""
    root = page.locator(f"#{panel}")
    tab = root.get_by_role("tab", name=label, exact=True)
    if tab.count() == 0:
        root.get_by_role("button", name="More tabs").first.click()
        tab = root.locator("button:visible", has_text=label)
    tab.first.click()
    page.wait_for_timeout(300)


def measure_present(browser, url: str, tab: str, size: tuple[int, int], inner: tuple[str, ...] = ()) -> dict:
    """Open ``tab`` from its link in presentation mode at ``size`` and measure it (see MEASURE); then open each of its
    inner tabs (``inner``, their labels) in turn and measure what each shows (what runs draw: measure_after_runs).
    Figures that no state drew are listed under "empty"; "figures" holds the ids of those measured."""
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
        m = merge({}, page.evaluate(MEASURE), "on opening")
        for label in inner:
            selected = page.locator(f"#tab-{tab}").get_by_role("tab", name=label, exact=True)
            if selected.count() and selected.first.get_attribute("aria-selected") == "true":
                continue  # measured with the tab's first state
            open_inner_tab(page, f"tab-{tab}", label)
            if not settle(page):
                m["empty"].append(f"[{label}] a figure was not drawn within a minute")
            m = merge(m, page.evaluate(MEASURE), label)
        m["errors"] = errors
        return m
    finally:
        ctx.close()


# -- after every long run: the figures and tables that only a run draws (the race, the zoo's latency, the training
# runs), pressed once each at their defaults and measured at both sizes ----------------------------------------

RUNNING = """(panel) => [...document.querySelectorAll(`#${panel} [data-testid=status-tracker]`)]
  .some(e => !e.classList.contains('hide') && e.offsetParent !== null)"""

# Where a tab's point is a verdict a run writes (the head race's order and table): it must be on the first screen too.
VERDICTS = {"race": ("race-text",)}

BOX = """(id) => { const e = document.getElementById(id); if (!e || e.offsetParent === null) return null;
  const r = e.getBoundingClientRect(); return {id, top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }"""


# Other buttons whose result is a figure of its own kind, pressed after the long runs: the two-figure scene, the
# backbone's levels (2 s, beside the session's image), the mined two-peak cases (read from the bundled file): not
# in the long-run slot.
PRESS_TOO = ("#kp-two", "#kp-unet-run", "#bm-real")


def press_long_runs(page, panel: str, timeout: int = 240_000) -> list[str]:
    """Press every long-run button visible in ``#panel`` (ui.long_run marks them), one after the other, each once
    its predecessor is done (the long-run slot takes one at a time), then those of PRESS_TOO; returns the long runs'
    button texts."""
    pressed = []
    buttons = page.locator(f"#{panel} button.kplab-long-run:visible")
    extra = page.locator(", ".join(f"#{panel} {b}:visible" for b in PRESS_TOO))
    for b in [buttons.nth(i) for i in range(buttons.count())] + [extra.nth(i) for i in range(extra.count())]:
        if "kplab-long-run" in (b.get_attribute("class") or ""):
            pressed.append(b.inner_text().strip())
        b.click()
        page.wait_for_timeout(700)  # the event is queued: its outputs show their status
        page.wait_for_function(f"(p) => !({RUNNING})(p)", arg=panel, timeout=timeout, polling=500)
        page.wait_for_timeout(500)
        page.wait_for_function(f"(p) => !({RUNNING})(p)", arg=panel, timeout=timeout, polling=500)
    return pressed


def measure_after_runs(browser, url: str, tab: str, sizes: dict, inner: tuple[str, ...] = (), shots=None) -> dict:
    """Open ``tab`` in presentation mode at the first of ``sizes``, and in each of its states (on opening, then each
    inner tab) press every long run, then measure what is on screen (see MEASURE) at every size, scrolled to the top
    (and save the page there, whole, under ``shots`` if given: a folder). Returns {size: merged measurements} plus
    "pressed" (the buttons' texts) and "toasts" (error toasts seen)."""
    first = next(iter(sizes.values()))
    ctx = browser.new_context(viewport={"width": first[0], "height": first[1]})
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    out = {size: {} for size in sizes} | {"pressed": [], "toasts": []}
    try:
        page.goto(url + f"?tab={tab}&present=1", wait_until="load")
        page.wait_for_function(PRESENT_READY, timeout=90_000)
        page.wait_for_timeout(2500)
        for where in ("on opening", *inner):
            if where != "on opening":
                selected = page.locator(f"#tab-{tab}").get_by_role("tab", name=where, exact=True)
                if selected.count() and selected.first.get_attribute("aria-selected") == "true":
                    continue  # pressed and measured as the tab's first state
                open_inner_tab(page, f"tab-{tab}", where)
            out["pressed"] += press_long_runs(page, f"tab-{tab}")
            out["toasts"] += [t.inner_text() for t in page.locator("[data-testid='toast-body']").all()]
            for size, (w, h) in sizes.items():
                page.set_viewport_size({"width": w, "height": h})
                page.mouse.move(1, 1)  # off the tab's intro (hovered, it shows all its lines) and the figures
                page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
                page.wait_for_timeout(600)  # the page redraws its figures 300 ms after a resize
                m = {"empty": []}
                if not settle(page):
                    m["empty"].append(f"figures not redrawn at {w}x{h} within a minute")
                late = m["empty"]
                m = page.evaluate(MEASURE) | {"verdicts": [page.evaluate(BOX, v) for v in VERDICTS.get(tab, ())]}
                m["empty"] += late
                out[size] = merge(out[size], m, f"{where}, after its runs")
                if shots is not None:
                    state = "".join(c if c.isalnum() else "-" for c in where.lower()).strip("-")
                    page.screenshot(path=str(shots / f"{tab}-{state}-after-runs-{w}x{h}.png"), full_page=True)
                out[size].setdefault("verdicts_at", []).extend(x for x in m["verdicts"] if x)
            page.set_viewport_size({"width": first[0], "height": first[1]})
        for size in sizes:
            out[size]["errors"] = errors
        return out
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
