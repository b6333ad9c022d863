"""SELU tab (Gradio wiring only): the self-normalizing fixed point, deep networks live, AlphaDropout."""

from __future__ import annotations

import gradio as gr

from demos.common.device import get_device
from demos.common.gpu import gpu
from demos.common.ui import friendly, number, show_on_load

from . import compute as C

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
"""


@friendly
def field(omega, tau, mu0, nu0, steps, x0):
    omega = number(omega, "ω", -10, 10)
    tau = number(tau, "τ", 1e-6, 100)
    mu0 = number(mu0, "start μ", -10, 10)
    nu0 = number(nu0, "start ν", 1e-6, 100)
    steps = number(steps, "iterations", 1, 200, integer=True)
    x0 = number(x0, "x₀", -100, 100)
    fig, text = C.figure_field(omega, tau, (mu0, nu0), steps)
    return fig, text, C.figure_cos(x0, steps)


@friendly
@gpu
def deep(depth, width, mean0, var0, progress=gr.Progress()):
    depth = number(depth, "depth", 1, C.MAX_DEPTH, integer=True)
    width = number(width, "width", 2, C.MAX_WIDTH, integer=True)
    mean0 = number(mean0, "input mean", -10, 10)
    var0 = number(var0, "input variance", 1e-3, 100)
    dev = get_device()
    progress(0.1, desc=f"{depth} layers x {width} units on {dev.type}")
    res = C.run_deep(depth=depth, width=width, mean0=mean0, var0=var0, device=dev)
    s = res["SELU"]
    text = (f"After {depth} layers from an input of mean {mean0:g} and variance {var0:g}: **SELU** mean "
            f"{s['mean'][-1]:.3f}, variance {s['var'][-1]:.3f}; ReLU variance {res['ReLU']['var'][-1]:.2e}, tanh "
            f"{res['tanh']['var'][-1]:.3f}, ReLU + BatchNorm mean {res['ReLU + BatchNorm']['mean'][-1]:.2f} "
            f"(BatchNorm normalizes before the ReLU).")
    return (C.figure_deep(res, f"{depth}-layer, {width}-wide fully connected network, LeCun-normal weights"),
            C.figure_hists(res), text)


@friendly
@gpu
def dropout(p, depth, width):
    p = number(p, "drop probability", 0.0, 0.9)
    depth = number(depth, "depth", 1, C.MAX_DEPTH, integer=True)
    width = number(width, "width", 2, C.MAX_WIDTH, integer=True)
    dev = get_device()
    a = C.run_deep(["SELU"], depth=depth, width=width, mean0=0.0, var0=1.0, dropout="alpha", p=p, device=dev)
    d = C.run_deep(["SELU"], depth=depth, width=width, mean0=0.0, var0=1.0, dropout="standard", p=p, device=dev)
    res = {"SELU + AlphaDropout": a["SELU"], "SELU + Dropout": d["SELU"], "_depths": a["_depths"]}
    text = (f"Training mode, p = {p:g}. **AlphaDropout** sets dropped units to −λα = {C.ALPHA_PRIME:.4f} (SELU's "
            f"saturation value) and applies an affine map that restores mean and variance: after {depth} layers mean "
            f"{a['SELU']['mean'][-1]:.3f}, variance {a['SELU']['var'][-1]:.3f}. **Ordinary dropout** zeroes and "
            f"scales by 1/(1−p), which keeps the mean of a ReLU net but not SELU's variance: mean "
            f"{d['SELU']['mean'][-1]:.3f}, variance {d['SELU']['var'][-1]:.3f}.")
    return C.figure_deep(res, "SELU network with AlphaDropout vs Dropout (mean 0, variance 1 input)"), text


def build():
    gr.Markdown(INTRO)
    gr.Markdown("### The mapping g and its fixed point")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            omega = gr.Slider(-1, 1, 0, step=0.01, label="ω (sum of weights)")
            tau = gr.Slider(0.1, 2, 1, step=0.01, label="τ (sum of squared weights)")
            mu0 = gr.Slider(-1, 1, 0.5, step=0.01, label="start μ")
            nu0 = gr.Slider(0.3, 3, 2.0, step=0.01, label="start ν")
            steps = gr.Slider(1, 50, 12, step=1, label="iterations")
            x0 = gr.Slider(-1.5, 1.5, 1.0, step=0.01, label="x₀ for x ← cos(x)")
            fp_text = gr.Markdown(elem_id="selu-fixed-point")
        field_plot = gr.Plot(label="Field of g", elem_id="selu-field", scale=2)
        cos_plot = gr.Plot(label="cos iteration", elem_id="selu-cos", scale=2)
    f_in = [omega, tau, mu0, nu0, steps, x0]
    gr.on([c.release for c in f_in], field, f_in, [field_plot, fp_text, cos_plot], api_name="selu_field",
          trigger_mode="always_last")

    gr.Markdown("### A deep network, live")
    with gr.Row():
        depth = gr.Slider(1, C.MAX_DEPTH, 32, step=1, label="depth (layers)")
        width = gr.Slider(16, C.MAX_WIDTH, 512, step=16, label="width (units)")
        mean0 = gr.Slider(-2, 2, 0.5, step=0.1, label="input mean")
        var0 = gr.Slider(0.1, 10, 4.0, step=0.1, label="input variance")
        run = gr.Button("Run the networks", variant="primary", elem_id="selu-run")
    deep_text = gr.Markdown(elem_id="selu-deep-text")
    deep_plot = gr.Plot(label="Per-layer statistics", elem_id="selu-deep")
    hist_plot = gr.Plot(label="Histograms", elem_id="selu-hist")
    run.click(deep, [depth, width, mean0, var0], [deep_plot, hist_plot, deep_text], api_name="selu_deep")

    gr.Markdown("### AlphaDropout keeps the fixed point; dropout breaks it")
    with gr.Row():
        p = gr.Slider(0, 0.5, 0.1, step=0.01, label="drop probability p")
        run_d = gr.Button("Compare", variant="primary", elem_id="selu-dropout-run")
    drop_text = gr.Markdown(elem_id="selu-dropout-text")
    drop_plot = gr.Plot(label="Dropout comparison", elem_id="selu-dropout")
    run_d.click(dropout, [p, depth, width], [drop_plot, drop_text], api_name="selu_dropout")

    show_on_load(field, [0.0, 1.0, 0.5, 2.0, 12, 1.0], [field_plot, fp_text, cos_plot])
    show_on_load(deep, [32, 512, 0.5, 4.0], [deep_plot, hist_plot, deep_text])
    show_on_load(dropout, [0.1, 32, 512], [drop_plot, drop_text])
