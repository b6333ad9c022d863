"""Two-peak tab wiring: widgets built from the records, named endpoints, buttons that keep values in range."""

from __future__ import annotations

import gradio as gr

from demos.bimodal import tab
from demos.bimodal import views as V


def test_every_slider_is_built_from_its_record():
    with gr.Blocks() as demo:
        tab.build()
    sliders = {b.label: b for b in demo.blocks.values() if isinstance(b, gr.Slider)}
    for rec in V.two_peaks.params + V.remedies.params + V.exp_normalize.params:
        s = sliders[rec.label]
        assert (s.minimum, s.maximum, s.value) == (rec.lo, rec.hi, rec.default), rec.key
    names = {fn.api_name for fn in demo.fns.values()}
    assert {"two_peaks", "exp_normalize", "real_cases", "remedies"} <= names
