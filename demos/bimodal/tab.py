"""Two-peak heatmaps tab (Gradio wiring only; the views and their parameter records are in views.py)."""

from __future__ import annotations

import gradio as gr

from demos.common import ui
from demos.common.params import about
from demos.common.plotstyle import placeholder

from . import views as V

TAB_ID = "bimodal"
TITLE = "Two peaks"
SUMMARY = ("Why a heatmap with two peaks breaks integral regression, why soft-max needs the max-subtraction "
           "trick, and what the remedies cost on real left/right confusions.")
INTRO = """
**A heatmap with two peaks** — a left/right confusion, an occluded joint — is where integral regression
breaks: the expectation of a two-peaked distribution lies *between* the peaks, where there is no joint at
all. Arg-max stays on the higher peak and jumps when the peaks swap. Move the second peak's height past
the first and watch. For a probability map that *is* the mixture of peaks at x = 20 and x = 40 with weights
1 and w, the expectation is (20 + 40w)/(1 + w): 21.8, 24.6, 26.7, 29.5 for w = 0.1, 0.3, 0.5, 0.9 — while
arg-max stays at 20. Here the map is a heatmap and the weights come from softmax(β · heatmap).
"""


def build():
    gr.Markdown(INTRO, elem_classes="kplab-intro")
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            with gr.Group():
                gr.Markdown("**Peak 1**")
                x1, y1, h1, s1 = (ui.widget(r) for r in (V.X1, V.Y1, V.H1, V.S1))
            with gr.Group():
                gr.Markdown("**Peak 2**")
                x2, y2 = ui.widget(V.X2), ui.widget(V.Y2)
                h2 = ui.widget(V.H2, elem_id="bm-h2")
                s2 = ui.widget(V.S2)
            noise = ui.widget(V.NOISE)
            beta = ui.widget(V.BETA, elem_id="bm-beta")
            radius = ui.widget(V.RADIUS)
            with gr.Row():
                equal = gr.Button("Equal peaks", size="sm")
                swap = gr.Button("Peak 2 higher", size="sm")
        with gr.Column(scale=3):
            maps = gr.Plot(label="Heatmap and probability map", elem_id="bm-maps")
            table = gr.Markdown(elem_id="bm-table")
            with gr.Row():
                slice_ = gr.Plot(label="Slice", elem_id="bm-slice")
                sweep = gr.Plot(label="Sweep", elem_id="bm-sweep")
    inputs = [x1, y1, h1, s1, x2, y2, h2, s2, noise, beta, radius]
    outs = {"maps": maps, "slice": slice_, "sweep": sweep, "table": table}
    ui.on([c.release for c in inputs], V.two_peaks, inputs, outs, api_name="two_peaks", trigger_mode="always_last")
    equal.click(lambda h: h, h1, h2, api_visibility="private").then(
        ui.handler(V.two_peaks, list(outs)), inputs, list(outs.values()), api_visibility="private")
    swap.click(lambda h: round(min(V.H2.hi, 1.1 * float(h)), 2), h1, h2, api_visibility="private").then(
        ui.handler(V.two_peaks, list(outs)), inputs, list(outs.values()), api_visibility="private")

    gr.Markdown("### Exp-normalize: why soft-max subtracts the maximum\n"
                "In float32, exp(z) overflows to inf once z > 88.7; inf/inf is NaN. Since "
                "softmax(z) = softmax(z − max z), subtracting the max first gives the same probabilities with the "
                "largest term exactly exp(0) = 1 — finite for any logits.")
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            scale = ui.widget(V.SCALE, elem_id="bm-scale")
            over_text = gr.Markdown(elem_id="bm-overflow-text")
        over_plot = gr.Plot(label="Overflow", elem_id="bm-overflow")
    over = {"plot": over_plot, "text": over_text}
    ui.on([scale.release], V.exp_normalize, [scale], over, api_name="exp_normalize")

    gr.Markdown("### Real cases: left/right confusion in the symmetric model, and the remedies")
    real_btn = gr.Button("Show the mined cases and the remedy table", variant="primary", elem_id="bm-real")
    real = {"text": gr.Markdown(elem_id="bm-real-text"), "cases": gr.Plot(placeholder("Press <b>Show the mined cases</b> above: the six most two-peaked<br>"
                                                  f"left/right joints of the symmetric model, both decoders marked ({about(V.real_cases, where=False)})."),
                             label="Cases", elem_id="bm-cases"),
            "hist": gr.Plot(placeholder("The histogram of two-peak scores appears with the cases."),
                            label="Two-peak scores", elem_id="bm-hist")}
    ui.on([real_btn.click], V.real_cases, [], real, api_name="real_cases")
    gr.Markdown("**Switch the remedies' settings and measure them again on the held-out set:**")
    with gr.Row():
        r_in = [ui.widget(r) for r in (V.R_BETA, V.R_RADIUS, V.R_THRESHOLD, V.R_FACTOR)]
        r_btn = gr.Button("Measure", elem_id="bm-remeasure")
    r_text = gr.Markdown(elem_id="bm-remeasure-text")
    ui.long_run(r_btn, None, V.remedies, r_in, {"text": r_text}, api_name="remedies")

    ui.first_view(V.two_peaks, outs)
    ui.first_view(V.exp_normalize, over)
