"""Rate of the figure renderer (images per second), by style.

Baseline: the 'solid' style, measured in the same run.
"""

from __future__ import annotations

from demos.keypoints import STYLES, render

from .common import median, table, timeit


def run() -> str:
    rows = []
    for style in STYLES:
        seeds = iter(range(10_000))
        per = median(timeit(lambda: [render(next(seeds), style=style) for _ in range(50)], repeat=5)) / 50
        rows.append((style, per))
    text = table("Renderer: time per 128x128 figure", rows, "solid")
    return text + "\n" + "\n".join(f"{n}: {1 / v:.0f} images/s" for n, v in rows)
