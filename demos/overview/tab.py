"""Overview tab: what the lab covers, in lecture order, with links to the other tabs."""

from __future__ import annotations

import gradio as gr

from demos.common.device import device_label

TAB_ID = "overview"
TITLE = "Overview"
SUMMARY = "What this lab covers and how to use it."

INTRO = """
## Advanced architectures and sparse 2D keypoints — a live lab

Every number and plot in this app is computed live with PyTorch on **{device}**. Pick a tab, or share a
link: `?tab=<name>` opens a tab directly (the address bar follows the tab you open), and `&present=1` turns on
presentation mode (large type for a projector). Every plot downloads as PNG from its toolbar, at its top-right
corner (in presentation mode the toolbar shows when the pointer reaches that corner).

| # | Tab | What it shows |
|---|---|---|
{rows}

All bundled models are trained by this project on procedurally rendered figures (`scripts/train.py`), so the
whole lab runs offline.
"""


def build(topics=()):
    rows = "\n".join(
        f"| {i} | [{m.TITLE}](?tab={m.TAB_ID}) | {m.SUMMARY} |"
        for i, m in enumerate((t for t in topics if t.TAB_ID != TAB_ID), start=1)
    )
    gr.Markdown(INTRO.format(device=device_label(), rows=rows), elem_id="overview-text")
