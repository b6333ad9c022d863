"""The overview tab lists every other tab, in lecture order, with a link that opens it."""

from __future__ import annotations

import app
from demos.overview import tab
from tests.tab_checks import build


def test_overview_links_every_topic():
    topics = app.load_topics()
    import gradio as gr
    with gr.Blocks() as demo:
        tab.build(topics=topics)
    text = next(b.value for b in demo.blocks.values() if getattr(b, "elem_id", None) == "overview-text")
    for m in topics:
        if m.TAB_ID != tab.TAB_ID:
            assert f"(?tab={m.TAB_ID})" in text and m.TITLE in text


def test_builds_alone():
    assert build(tab).blocks
