// The page's own behaviour (loaded in <head> by app.py): presentation mode's plot type and heights, and the
// keyboard (slider values typed or stepped with the arrow keys, the tab bar by arrows, focus kept after a
// redraw, plot toolbars out of the Tab order in presentation mode, named example thumbnails).
(() => {
  if (window.kplab) return;
  const K = (window.kplab = {});
  const BASE = 16; // demos/common/plotstyle.FONT_SIZE: the type size the figures are drawn for
  const present = () => document.body.classList.contains("kplab-present");
  // Presentation mode: no text under 3 % of the screen height (22 px at 720p, 33 px at 1080p).
  K.target = () => Math.ceil(0.03 * window.innerHeight);

  // -- plots ---------------------------------------------------------------------------------------------------
  // Gradio draws a figure with Plotly.react(gd, data, layout, config). In presentation mode the layout is
  // rewritten before it is drawn: every font at least K.target() (larger ones keep their ratio to the base
  // size), axes that make room for their labels, margins for the larger type, and heights from the viewport
  // (a figure that starts on the first screen ends on it). The server's figure is kept, so leaving the mode
  // redraws it as sent.
  const ORIG = new WeakMap();
  const clone = (o) => (o == null ? o : JSON.parse(JSON.stringify(o)));
  const get = (o, path) => path.split(".").reduce((a, k) => (a == null ? undefined : a[k]), o);
  const put = (o, path, v) => {
    const ks = path.split(".");
    let a = o;
    for (const k of ks.slice(0, -1)) {
      if (a[k] == null || typeof a[k] !== "object") a[k] = typeof a[k] === "string" ? { text: a[k] } : {};
      a = a[k];
    }
    a[ks[ks.length - 1]] = v;
  };
  const first = (...vals) => vals.find((v) => typeof v === "number");

  function scaled(gd, layout, data) {
    const L = layout, T = (L.template && L.template.layout) || {}, TD = (L.template && L.template.data) || {};
    const t = K.target(), k = t / BASE, H = window.innerHeight;
    const base = first(get(L, "font.size"), get(T, "font.size"), 12);
    const up = (s) => Math.round(t * Math.max(1, (s || base) / BASE));
    const fix = (path, tpath) => put(L, path, up(first(get(L, path), tpath ? get(T, tpath) : undefined, base)));
    fix("font.size", "font.size");
    const hasTitle = !!(get(L, "title.text") || (typeof L.title === "string" && L.title));
    const titleSize = up(first(get(L, "title.font.size"), get(T, "title.font.size"), 1.4 * base));
    let titleLines = 1;
    if (hasTitle) {
      put(L, "title.font.size", titleSize);
      // a title wider than the figure breaks between words (plotly would cut it at the figure's edge)
      const w = wrapped(String(get(L, "title.text") || L.title), titleSize, figWidth(gd) - 20);
      titleLines = w.lines;
      put(L, "title.text", w.text);
    }
    fix("legend.font.size", "legend.font.size");
    fix("legend.title.font.size", "legend.title.font.size");
    fix("hoverlabel.font.size", "hoverlabel.font.size");
    for (const key of Object.keys(L)) {
      if (/^[xy]axis\d*$/.test(key)) {
        const tk = key.slice(0, 5);
        fix(`${key}.tickfont.size`, `${tk}.tickfont.size`);
        fix(`${key}.title.font.size`, `${tk}.title.font.size`);
        put(L, `${key}.automargin`, true);
        const tt = get(L, `${key}.title.text`);
        if (tk === "xaxis" && typeof tt === "string") {
          const dom = get(L, `${key}.domain`) || [0, 1];
          put(L, `${key}.title.text`, wrapped(tt, get(L, `${key}.title.font.size`), (dom[1] - dom[0]) * figWidth(gd) - 60).text);
        }
      } else if (/^scene\d*$/.test(key)) {
        for (const ax of ["xaxis", "yaxis", "zaxis"]) {
          fix(`${key}.${ax}.tickfont.size`);
          fix(`${key}.${ax}.title.font.size`);
        }
      } else if (/^coloraxis\d*$/.test(key)) {
        fix(`${key}.colorbar.tickfont.size`);
        fix(`${key}.colorbar.title.font.size`);
      }
    }
    let above = 0; // panel titles above the top panels need room under the figure's title
    (L.annotations || []).forEach((a, i) => {
      const s = up(first(get(a, "font.size"), base));
      put(L, `annotations.${i}.font.size`, s);
      let lines = String(a.text || "").split("<br>").length;
      if (a.xref === "paper" && typeof a.x === "number" && typeof a.text === "string") {
        // a text wider than its room breaks between words (plotly would let it leave the figure)
        const x = Math.min(1, Math.max(0, a.x)), anchor = a.xanchor || "center";
        let frac = anchor === "left" ? 1 - x : anchor === "right" ? x : 2 * Math.min(x, 1 - x), panel = 1, apart = 1;
        for (const key of Object.keys(L)) { // a panel's title: no wider than its panel and the gaps beside it
          const d = /^xaxis\d*$/.test(key) && get(L, `${key}.domain`);
          if (!d) continue;
          if (d[0] - 1e-6 <= x && x <= d[1] + 1e-6) panel = Math.min(panel, d[1] - d[0]);
          const c = (d[0] + d[1]) / 2; // the next panel's centre: its title may take half of the way
          if (Math.abs(c - x) > 1e-3) apart = Math.min(apart, 0.95 * Math.abs(c - x));
        }
        if (panel < 1) panel = Math.max(panel, Math.min(apart, 1));
        // a title above a narrow panel (anchored at its bottom) breaks to the panel's width: six panels in a row
        // have titles of 1/6 each; other texts in a panel (a label under a diagram's node) keep a quarter at least
        if (a.yanchor !== "bottom") { frac = Math.min(frac, panel); panel = 1; }
        const w = wrapped(a.text, s, (panel < 1 ? Math.min(frac, panel) : Math.max(0.25, frac)) * (figWidth(gd) - 40));
        a.text = w.text;
        lines = w.lines;
      }
      if (a.yref === "paper" && a.y >= 0.999 && a.yanchor === "bottom") above = Math.max(above, 1.3 * lines * s / 1.4);
    });
    for (const d of data || []) {
      const td = (TD[d.type] && TD[d.type][0]) || {};
      // labels beside points may reach into the margins rather than be cut at the axes
      if (d.type === "scatter" && String(d.mode || "").includes("text") && d.cliponaxis === undefined) d.cliponaxis = false;
      for (const p of ["colorbar.tickfont.size", "colorbar.title.font.size", "marker.colorbar.tickfont.size",
                       "textfont.size", "insidetextfont.size", "outsidetextfont.size"]) {
        const v = first(get(d, p), get(td, p));
        if (v !== undefined || (p === "colorbar.tickfont.size" && ["heatmap", "contour"].includes(d.type))) {
          put(d, p, up(first(v, base)));
        }
      }
    }
    // ticks every n units were chosen for the server's type: at presentation size plotly spaces them itself
    for (const key of Object.keys(L)) {
      const ax = L[key];
      // a log axis labels its decades only (plotly draws the 2s and 5s between them in smaller type)
      if (/^[xy]axis\d*$/.test(key) && ax && ax.type === "log" && ax.dtick === undefined && ax.tickmode !== "array") {
        ax.dtick = 1;
      }
      if (/^[xy]axis\d*$/.test(key) && ax && ax.dtick !== undefined && ax.type !== "log" && ax.tickmode !== "array") {
        delete ax.dtick;
        delete ax.tick0;
      }
      // an equal-aspect panel keeps its aspect by widening its range, not by narrowing its plot area: a legend
      // under it may use the figure's width (plotly limits a horizontal legend to the plot area's)
      if (/^[xy]axis\d*$/.test(key) && ax && ax.constrain === "domain" && !(L.annotations || []).length
          && Object.keys(L).filter((k) => /^xaxis\d*$/.test(k)).length === 1) ax.constrain = "range";
    }
    // margins for the larger type; the figure's title sits at the top, panel titles under it; a legend below
    // the plot goes to the bottom edge, under the x axis, with the room its rows take at this size
    const m = Object.assign({ l: 80, r: 80, t: 100, b: 80 }, T.margin || {}, ORIG.get(gd).layout.margin || {});
    let bottom = Math.round(m.b * k);
    const leg = Object.assign({}, T.legend || {}, L.legend || {});
    const items = (data || []).filter((d) => d.showlegend !== false && !["heatmap", "image", "contour"].includes(d.type)
      && (d.showlegend === true || d.name));
    const legendShown = L.showlegend === true || (L.showlegend !== false && items.length > 1);
    // plotly lays a horizontal legend out in the plot area's width: on one row if every item fits, else in columns
    // as wide as its widest item
    const legendRows = () => {
      const s = L.legend.font.size, width = figWidth(gd) - k * (m.l + m.r) - 20;
      const ws = items.map((d) => 44 + 0.62 * s * String(d.name || "").length);
      if (ws.reduce((a, b) => a + b, 0) <= width) return 1;
      return Math.ceil(ws.length / Math.max(1, Math.floor(width / Math.max(...ws))));
    };
    let legendAbove = 0; // a legend above the plot (under the title) needs its rows' room in the top margin
    if (legendShown && leg.orientation === "h" && typeof leg.y === "number" && leg.y >= 1 && leg.yanchor === "bottom") {
      legendAbove = legendRows() * 1.4 * L.legend.font.size + 20;
    }
    if (legendShown && leg.orientation === "h" && typeof leg.y === "number" && leg.y < 0) {
      const s = L.legend.font.size, rows = legendRows();
      const xa = Object.assign({}, T.xaxis || {}, L.xaxis || {});
      const axisRoom = (xa.showticklabels === false || xa.visible === false ? 6 : 1.5 * (get(L, "xaxis.tickfont.size") || t))
        + (get(xa, "title.text") ? 1.5 * (get(L, "xaxis.title.font.size") || t) : 0) + 12;
      L.legend = Object.assign({}, L.legend, { traceorder: "normal", yref: "container", y: 0, yanchor: "bottom", xref: "container", x: 0,
                                               xanchor: "left" });
      bottom = Math.round(axisRoom + rows * 1.4 * s + 10);
    }
    L.margin = Object.assign({}, L.margin || {}, {
      l: Math.round(m.l * k), r: Math.round(m.r * k), b: bottom,
      t: Math.round(legendAbove) + (hasTitle ? Math.round(1.3 * titleLines * titleSize + 1.4 * above + 0.6 * t + 14)
                                              : Math.round(Math.max(m.t, 10) * k)),
      autoexpand: true,
    });
    const h = heightFor(gd, first(L.height, get(T, "height"), 450));
    L.height = h;
    // margins never take the whole figure (plotly cannot draw a plot of no size)
    const width = gd.getBoundingClientRect().width || 0.45 * window.innerWidth;
    const fitV = Math.min(1, (h - 60) / (L.margin.t + L.margin.b)), fitH = Math.min(1, (width - 80) / (L.margin.l + L.margin.r));
    if (fitV < 1) { L.margin.t = Math.floor(L.margin.t * fitV); L.margin.b = Math.floor(L.margin.b * fitV); }
    if (fitH < 1) { L.margin.l = Math.floor(L.margin.l * fitH); L.margin.r = Math.floor(L.margin.r * fitH); }
    // a y axis title longer than its axis breaks between words
    for (const key of Object.keys(L)) {
      const tt = /^yaxis\d*$/.test(key) && get(L, `${key}.title.text`);
      if (typeof tt !== "string") continue;
      const dom = get(L, `${key}.domain`) || [0, 1];
      put(L, `${key}.title.text`, wrapped(tt, get(L, `${key}.title.font.size`) || t,
                                          (dom[1] - dom[0]) * (h - L.margin.t - L.margin.b) - 10).text);
    }
    const nticks = Math.max(2, Math.floor((h - L.margin.t - L.margin.b) / (2.4 * t)));
    for (const d of data || []) if (d.colorbar || ["heatmap", "contour"].includes(d.type)) put(d, "colorbar.nticks", nticks);
    for (const key of Object.keys(L)) if (/^coloraxis\d*$/.test(key)) put(L, `${key}.colorbar.nticks`, nticks);
    if (hasTitle) {
      put(L, "title.yref", "container");
      put(L, "title.yanchor", "top");
      put(L, "title.y", 1 - (10 + (titleLines - 1) * 1.25 * titleSize) / h);
    }
    (gd.closest(".block") || gd).classList.toggle("kplab-titled", hasTitle); // presentation mode hides the block's label: the title says it
    L.__kplab = h;
    L.__kplabW = Math.round(gd.getBoundingClientRect().width); // drawn for this width (0: drawn while hidden)
    return L;
  }

  const figWidth = (gd) => gd.getBoundingClientRect().width || 0.45 * window.innerWidth;
  // Text broken between words into lines of at most `width` px at `size` (an estimate: 0.58 em a character).
  function wrapped(text, size, width) {
    const perLine = Math.max(8, Math.floor(width / (0.58 * size)));
    const plain = (x) => x.replace(/<[^>]+>/g, "");
    const out = [];
    for (const line of text.split("<br>")) {
      if (plain(line).length <= perLine) { out.push(line); continue; }
      let cur = "";
      for (const word of line.split(" ")) {
        if (cur && plain(cur + " " + word).length > perLine) { out.push(cur); cur = word; } else cur = cur ? cur + " " + word : word;
      }
      out.push(cur);
    }
    return { text: out.join("<br>"), lines: out.length };
  }

  // Heights from the viewport: a figure that starts in the top 60 % of the first screen ends on it; the others
  // grow with the type, up to 92 % of the screen.
  function heightFor(gd, h0) {
    const H = window.innerHeight, k = K.target() / BASE;
    let h = Math.min(Math.round(h0 * k), Math.round(0.92 * H));
    const block = gd.closest(".block") || gd;
    const r = gd.getBoundingClientRect(), top = r.top + window.scrollY;
    if (r.width > 0 && top < 0.6 * H) {
      const pad = Math.max(0, block.getBoundingClientRect().bottom - r.bottom);
      const room = Math.floor(H - top - pad - 6);
      if (room >= 0.3 * H) h = room;
    }
    return h;
  }

  function roomForLegend(gd, tries) {
    const lg = gd.querySelector(".legend");
    if (!lg || tries > 2 || !gd.layout || gd.layout.legend?.yref !== "container") return;
    const top = lg.getBoundingClientRect().top;
    // (positions on screen: a figure scrolled above the window has negative ones, so none is assumed to be 0)
    let low = -Infinity;
    // (every x axis's labels: a grouped axis's second row of labels too, and the panels' axes x2, x3, ...)
    for (const t of gd.querySelectorAll(".xaxislayer-above text, [class^=g-x][class$=title] text")) low = Math.max(low, t.getBoundingClientRect().bottom);
    if (low > top - 4) {
      const b = gd._fullLayout.margin.b + Math.ceil(low - top + 8);
      gd.layout.margin.b = b;
      window.Plotly.relayout(gd, { "margin.b": b }).then(() => roomForLegend(gd, tries + 1));
    }
  }

  function wrap(P) {
    if (!P || P.__kplabWrapped || typeof P.react !== "function") return;
    const react = P.react.bind(P);
    P.react = function (gd, data, layout, config) {
      if (gd && gd.nodeType === 1 && layout && !layout.__kplab) {
        ORIG.set(gd, { data: clone(data), layout: clone(layout), config });
        if (present()) {
          data = clone(data);
          layout = scaled(gd, clone(layout), data);
        }
      }
      const done = react(gd, data, layout, config);
      if (layout && layout.__kplab && done && done.then) done.then(() => roomForLegend(gd, 0));
      return done;
    };
    P.__kplabWrapped = true;
  }
  let plotly = window.Plotly;
  Object.defineProperty(window, "Plotly", {
    configurable: true,
    get: () => plotly,
    set: (v) => { plotly = v; wrap(v); },
  });
  wrap(plotly);

  // Redraw the figures on screen: all of them (entering or leaving presentation mode, a new window size), or
  // those whose height no longer fits what is above them (a tab opened, text arrived).
  K.redraw = (force) => {
    if (!window.Plotly) return;
    for (const gd of document.querySelectorAll(".js-plotly-plot")) {
      const o = ORIG.get(gd), now = gd.layout && gd.layout.__kplab;
      if (!o || gd.offsetParent === null) continue;
      if (!present()) {
        if (now) window.Plotly.react(gd, clone(o.data), clone(o.layout), o.config);
        continue;
      }
      if (!force && now) {
        // redrawn when its height no longer fits, or when it is now shown at another width than it was drawn for
        // (a figure in an inner tab is drawn while hidden; its titles and legend rows depend on its width)
        const T = (o.layout.template && o.layout.template.layout) || {};
        const sameW = Math.abs(gd.getBoundingClientRect().width - (gd.layout.__kplabW || 0)) <= 8
          || (gd.__kplabWidthRedraws || 0) >= 3; // (a width that keeps changing, a scroll bar coming and going: 3 tries)
        if (sameW && Math.abs(heightFor(gd, first(o.layout.height, T.height, 450)) - now) <= 8) continue;
        if (!sameW) gd.__kplabWidthRedraws = (gd.__kplabWidthRedraws || 0) + 1;
      }
      const data = clone(o.data);
      window.Plotly.react(gd, data, scaled(gd, clone(o.layout), data), o.config);
    }
  };
  K.setPresent = (on) => {
    document.body.classList.toggle("kplab-present", !!on);
    K.quietResize = true; // Gradio measures its tab bar again (which tabs go to the overflow menu) on a resize
    window.dispatchEvent(new Event("resize"));
    K.quietResize = false;
    K.redraw(true);
    sweep();
  };
  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    if (K.quietResize) return; clearTimeout(resizeTimer); resizeTimer = setTimeout(() => K.redraw(true), 300); });
  // what is above a figure can change after it is drawn (a tab opens, text arrives): check its height again
  setInterval(() => K.redraw(false), 1000);
  document.addEventListener("click", (e) => {
    if (e.target instanceof Element && e.target.closest("[role=tab]")) setTimeout(() => K.redraw(false), 80);
  }, true);

  // -- keyboard ------------------------------------------------------------------------------------------------
  // Gradio's slider reports a value (its "release" event, which the views listen to) when the pointer is let go
  // or its number box loses focus. Typed values (Enter) and arrow keys report theirs too, once the keys rest.
  const timers = new WeakMap();
  const later = (el, fn, ms) => { clearTimeout(timers.get(el)); timers.set(el, setTimeout(fn, ms)); };
  const STEP_KEYS = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "PageUp", "PageDown", "Home", "End"];
  document.addEventListener("keydown", (e) => {
    const el = e.target;
    if (!(el instanceof HTMLElement)) return;
    if (el.matches("input[data-testid=number-input]") && e.key === "Enter") {
      e.preventDefault();
      el.dispatchEvent(new Event("blur")); // the slider's "release", focus stays in the box
    } else if (el.matches("[role=tab]") && ["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) {
      const tabs = [...el.closest("[role=tablist]").querySelectorAll("[role=tab]:not([aria-disabled=true])")];
      const i = tabs.indexOf(el);
      const j = e.key === "Home" ? 0 : e.key === "End" ? tabs.length - 1
        : (i + (e.key === "ArrowRight" ? 1 : -1) + tabs.length) % tabs.length;
      e.preventDefault();
      tabs[j].focus();
      tabs[j].click();
    }
  }, true);
  document.addEventListener("keyup", (e) => {
    const el = e.target;
    if (!(el instanceof HTMLElement) || !STEP_KEYS.includes(e.key)) return;
    if (el.matches("input[data-testid=range-input]")) {
      later(el, () => el.dispatchEvent(new PointerEvent("pointerup", { bubbles: true })), 350);
    } else if (el.matches("input[data-testid=number-input]") && ["ArrowUp", "ArrowDown"].includes(e.key)) {
      later(el, () => el.dispatchEvent(new Event("blur")), 350);
    }
  }, true);

  // A redraw may replace the focused control (a dropdown the view updates): focus its successor, not the page.
  let focused = null, focusKey = null;
  const keyOf = (el) => {
    const blk = el.closest("[id]");
    if (!blk) return null;
    const all = [...blk.querySelectorAll("input, button, select, textarea, [tabindex]")];
    return [blk.id, el.tagName, all.indexOf(el)];
  };
  document.addEventListener("focusin", (e) => { focused = e.target; focusKey = keyOf(e.target); });
  // A control that blurs itself when a choice is made (Gradio's dropdown) leaves focus on its block, not the page.
  let pointerAt = 0;
  document.addEventListener("pointerdown", () => { pointerAt = Date.now(); }, true);
  document.addEventListener("focusout", (e) => {
    const el = e.target;
    if (e.relatedTarget || !(el instanceof HTMLElement)) return;
    setTimeout(() => {
      const blk = el.closest(".block[id]");
      if (!blk || !el.isConnected || Date.now() - pointerAt < 400) return;
      if (document.activeElement && document.activeElement !== document.body) return;
      if (!blk.hasAttribute("tabindex")) blk.setAttribute("tabindex", "-1");
      blk.focus({ preventScroll: true });
    }, 60);
  }, true);
  setInterval(() => {
    if (!focused || focused.isConnected || !focusKey) return;
    if (document.activeElement && document.activeElement !== document.body) { focused = null; return; }
    const blk = document.getElementById(focusKey[0]);
    if (!blk) return;
    const all = [...blk.querySelectorAll("input, button, select, textarea, [tabindex]")];
    const el = all[focusKey[2]];
    if (el && el.tagName === focusKey[1]) { el.focus({ preventScroll: true }); focused = el; }
  }, 150);

  // Tab order: plot toolbars out of it in presentation mode (still there for the mouse); one stop per tab bar
  // (the selected tab; the arrow keys move along it); example thumbnails named after their file.
  function sweep() {
    const p = present();
    for (const b of document.querySelectorAll(".modebar-btn")) {
      if (p) b.setAttribute("tabindex", "-1"); else if (b.getAttribute("tabindex") === "-1") b.removeAttribute("tabindex");
    }
    for (const list of document.querySelectorAll("[role=tablist]")) {
      for (const t of list.querySelectorAll("[role=tab]")) {
        const want = t.getAttribute("aria-selected") === "true" ? "0" : "-1";
        if (t.getAttribute("tabindex") !== want) t.setAttribute("tabindex", want);
      }
    }
    for (const b of document.querySelectorAll(".gallery-item:not([aria-label])")) {
      const img = b.querySelector("img");
      const name = img && decodeURIComponent((img.getAttribute("src") || "").split("/").pop().split("?")[0]);
      if (name) b.setAttribute("aria-label", "Example: " + name.replace(/\.[a-z0-9]+$/i, "").replace(/[-_]+/g, " "));
    }
  }
  K.sweep = sweep;
  // A drawing canvas draws at once: its brush is picked when it first shows (Gradio starts with no tool).
  function brushes() {
    for (const b of document.querySelectorAll(".kplab-brush button[aria-label=Brush]:not(.highlight)")) {
      if (b.offsetParent === null || b.dataset.kplabPicked) continue;
      b.dataset.kplabPicked = "1";
      b.click();
    }
  }
  setInterval(brushes, 500);
  let sweepTimer = 0;
  new MutationObserver(() => { if (!sweepTimer) sweepTimer = setTimeout(() => { sweepTimer = 0; sweep(); }, 200); })
    .observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ["aria-selected"] });
})();
