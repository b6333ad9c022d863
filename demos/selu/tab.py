"""SELU tab (Gradio wiring only; views and parameter records in views.py): the self-normalizing fixed point,
deep networks live, AlphaDropout."""

from __future__ import annotations

import gradio as gr

from demos.common import ui

from . import compute as C
from . import views as V

TAB_ID = "selu"
TITLE = "SELU"
SUMMARY = ("Self-normalizing networks: the moment mapping g and its attracting fixed point (0, 1), deep networks "
           "with SELU vs ReLU, tanh and BatchNorm, and AlphaDropout.")
INTRO = f"""
**SELU** is selu(x) = λx for x > 0 and λα(eˣ − 1) otherwise, with **α = {C.ALPHA!r}** and
**λ = {C.LAMBDA!r}** (torch.nn.SELU uses the same). If a layer's inputs have mean μ and variance ν and its
weights have sum ω and sum of squares τ, each pre-activation is ≈ N(μω, ντ); the mapping **g(μ, ν) → (μ̃, ν̃)**
gives the mean and variance after SELU (closed form with erfc). For ω = 0, τ = 1 — what **LeCun-normal**
weights N(0, 1/n) give — **(0, 1) is a fixed point and it attracts**: the Jacobian's largest singular value
there is {C.largest_singular_value():.4f} < 1, so every layer pulls the statistics back toward (0, 1).

*Initialization caveat:* `torch.nn.init.kaiming_normal_(w, nonlinearity='selu')` is **not** LeCun normal — it
uses gain 3/4 (std 0.75/√n) and the variance shrinks layer by layer. Use `nonlinearity='linear'` (gain 1).
For ReLU the fair baseline is He/Kaiming init (variance 2/n); with LeCun's 1/n the variance halves per layer.
"""


def build():
    gr.Markdown(INTRO, elem_classes="kplab-intro")
    gr.Markdown("### The mapping g and its fixed point")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            f_in = [ui.widget(r) for r in (V.OMEGA, V.TAU, V.MU0, V.NU0, V.STEPS, V.X0)]
            fp_text = gr.Markdown(elem_id="selu-fixed-point")
        fld = {"field": gr.Plot(label="Field of g", elem_id="selu-field", scale=2), "text": fp_text,
               "cos": gr.Plot(label="cos iteration", elem_id="selu-cos", scale=2)}
    ui.on([c.release for c in f_in], V.selu_field, f_in, fld, api_name="selu_field", trigger_mode="always_last")

    gr.Markdown("### A deep network, live")
    with gr.Row():
        depth, width, mean0, var0 = (ui.widget(r) for r in (V.DEPTH, V.WIDTH, V.MEAN0, V.VAR0))
        run = gr.Button("Run the networks", variant="primary", elem_id="selu-run")
    deep = {"text": gr.Markdown(elem_id="selu-deep-text"),
            "plot": gr.Plot(label="Per-layer statistics", elem_id="selu-deep"),
            "hists": gr.Plot(label="Histograms", elem_id="selu-hist")}
    ui.long_run(run, None, V.selu_deep, [depth, width, mean0, var0], deep, api_name="selu_deep")

    gr.Markdown("### AlphaDropout keeps the fixed point; dropout breaks it")
    with gr.Row():
        p = ui.widget(V.P)
        run_d = gr.Button("Compare", variant="primary", elem_id="selu-dropout-run")
    drop = {"text": gr.Markdown(elem_id="selu-dropout-text"),
            "plot": gr.Plot(label="Dropout comparison", elem_id="selu-dropout")}
    ui.long_run(run_d, None, V.selu_dropout, [p, depth, width], drop, api_name="selu_dropout")

    ui.first_view(V.selu_field, fld)
    ui.first_view(V.selu_deep, deep)
    ui.first_view(V.selu_dropout, drop)
