"""Regenerate docs/screenshots/: every tab opened from its link in presentation mode, at 1280x720 and
1920x1080 (the first screen a projector shows), with Playwright and Debian's chromium.

    python scripts/screenshots.py                 # starts the app on a free loopback port
    python scripts/screenshots.py --url URL       # or uses a running one
    python scripts/screenshots.py --tabs race keypoints

Each tab waits until every visible figure frame shows a figure (a result or its placeholder), drawn at
presentation size.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demos.common.serve import start_app, stop  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
SIZES = ((1280, 720), (1920, 1080))
CHROMIUM = "/usr/bin/chromium"
def tab_ids() -> list[str]:
    import importlib

    import app

    return [importlib.import_module(f"demos.{n}.tab").TAB_ID for n in app.TOPICS]


def shoot(url: str, tabs: list[str], out: Path = OUT) -> list[Path]:
    from playwright.sync_api import sync_playwright

    import app

    plot_ids = sorted(b.elem_id for b in app.demo.blocks.values() if type(b).__name__ == "Plot" and b.elem_id)
    ready = """(ids) => { const vis = e => e && e.offsetParent !== null;
      const frames = ids.map(i => document.getElementById(i)).filter(vis);
      const gds = [...document.querySelectorAll('.js-plotly-plot')].filter(vis);
      return document.body.classList.contains('kplab-present') &&
             frames.every(f => f.querySelector('.js-plotly-plot')) &&
             gds.every(g => g.layout && g.layout.__kplab) &&  // drawn at presentation size (demos/common/page.js)
             !document.body.innerText.includes('processing |'); }"""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for tab in tabs:
            for w, h in SIZES:
                ctx = browser.new_context(viewport={"width": w, "height": h})
                page = ctx.new_page()
                page.goto(f"{url}?tab={tab}&present=1", wait_until="load")
                for _ in range(2):  # ready, and still ready after the tab's late events (plots may re-mount)
                    page.wait_for_function(ready, arg=plot_ids, timeout=120_000)
                    page.wait_for_timeout(1500)
                path = out / f"{tab}-{w}x{h}.png"
                page.screenshot(path=str(path))
                written.append(path)
                print(f"wrote {path}", flush=True)
                ctx.close()
        browser.close()
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running app (default: start one)")
    ap.add_argument("--tabs", nargs="*", help="tab ids (default: all)")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    tabs = a.tabs or tab_ids()
    if a.url:
        shoot(a.url.rstrip("/") + "/", tabs, a.out)
        return
    proc, url, _ = start_app(seconds=180)
    try:
        shoot(url, tabs, a.out)
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
