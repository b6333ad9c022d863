"""Normalization tab (Gradio wiring only): BatchNorm step by step, train vs eval, the variants, live training."""

from __future__ import annotations

import math

import gradio as gr
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch

from demos.common.device import get_device
from demos.common.gpu import gpu
from demos.common.plotstyle import PALETTE, style
from demos.common.ui import HEAVY, friendly, number, show_on_load

from . import compute as C
from . import training as T

TAB_ID = "normalization"
TITLE = "BatchNorm & variants"
SUMMARY = ("BatchNorm step by step on a real mini-batch, running statistics at inference, and which slice of "
           "(N, C, H, W) LayerNorm, InstanceNorm and GroupNorm normalize; live training with and without it.")
INTRO = """
**Batch normalization** normalizes each channel with the mean and variance of the current mini-batch, then
applies a learned scale γ and offset β. At inference there is no batch: it uses running averages collected
during training. Its variants normalize other slices of the (N, C, H, W) tensor.
"""


@friendly
def bn_steps(source, batch, channel, gamma, beta, step, show_all):
    batch = number(batch, "batch size", 1, 256, integer=True)
    channel = number(channel, "channel", 0, 7, integer=True)
    gamma = number(gamma, "γ", -1000, 1000)
    beta = number(beta, "β", -1000, 1000)
    step = int(step) % 4
    x = C.make_batch(source, batch)
    steps = C.batchnorm_steps(x, gamma, beta)
    ref = C.torch_batchnorm(x, gamma, beta)
    diff = float((ref - steps["y"]).abs().max())
    formula = "\n\n".join(f"**{t}** — {f}" for t, f in zip(C.STEP_TITLES, C.FORMULAS)) if show_all else \
        f"**{C.STEP_TITLES[step]}** — {C.FORMULAS[step]}"
    text = (formula + "\n\n" + C.step_numbers(steps, channel, gamma, beta) +
            f"\n\nAgainst `torch.nn.BatchNorm2d` (train mode, same γ, β): max |difference| = **{diff:.2e}**.")
    return C.figure_step(steps, channel, step, show_all), text


def next_step(step):
    return (int(step) + 1) % 4


@friendly
def train_eval(source, batch, steps, momentum, shift, channel):
    batch = number(batch, "batch size", 1, 256, integer=True)
    steps = number(steps, "steps", 1, 500, integer=True)
    momentum = number(momentum, "momentum", 1e-4, 1.0)
    shift = number(shift, "test-image shift", -100, 100)
    channel = number(channel, "channel", 0, 7, integer=True)
    res = C.running_stats(source, batch, steps, momentum, shift)
    ok = np.allclose(res["running_mean"], res["formula_mean"], atol=1e-4) and np.allclose(
        res["running_var"], res["formula_var"], rtol=1e-4, atol=1e-4)
    gap = float((res["eval"] - res["own"]).abs().mean())
    text = (f"torch's running statistics {'**equal**' if ok else '**differ from**'} the formula new = (1 − m)·old + "
            f"m·batch with m = {momentum:g} (the running variance uses the *unbiased* batch variance). A single test "
            f"image shifted by {shift:g}: normalized with the running statistics vs with its own statistics differ by "
            f"**{gap:.3f}** on average (batch size {batch} during training). Tiny batches give noisy running "
            "statistics; shifted data makes the training statistics wrong for the test image.")
    return C.figure_running(res, channel), C.figure_eval(res, channel), text


@friendly
def variants(n, c, groups):
    n = number(n, "sample n", 0, 3, integer=True)
    c = number(c, "channel c", 0, 7, integer=True)
    groups = number(groups, "G", 1, 8, integer=True)
    shape = (4, 8, 3, 3)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0)) * 2 + 1
    fig = C.figure_cubes(shape, n, c, groups)
    table = pd.DataFrame(C.variant_check(x, groups))
    table["max |difference|"] = table["max |difference|"].map(lambda v: f"{v:.1e}")
    return fig, table


def _curves(hist, title):
    fig = go.Figure()
    colors = {"BatchNorm": PALETTE[0], "GroupNorm": PALETTE[2], "none": PALETTE[3]}
    for k, v in hist.items():
        y = np.array(v, dtype=float)
        w = min(10, len(y))
        smooth = np.convolve(np.nan_to_num(y, nan=np.nan), np.ones(w) / w, mode="valid") if len(y) >= w else y
        fig.add_trace(go.Scatter(x=np.arange(w, len(y) + 1), y=smooth, name=k, line=dict(color=colors[k], width=3)))
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="training loss (moving average of 10)")
    return style(fig, title, height=400, legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                 margin=dict(t=100))


@friendly
@gpu
def live(lr, steps, progress=gr.Progress()):
    lr = number(lr, "learning rate", 1e-4, 5.0)
    steps = number(steps, "steps", 10, 2000, integer=True)
    dev = get_device()
    for step, hist in T.train_stream(steps=steps, lr=lr, device=dev, every=max(10, steps // 20)):
        progress(step / steps, desc=f"step {step}/{steps}")
        last = {k: v[-1] for k, v in hist.items()}
        text = "Final loss: " + ", ".join(f"{k} {'diverged (NaN)' if math.isnan(x) else f'{x:.3f}'}"
                                          for k, x in last.items()) + f" — step {step} of {steps}, SGD lr {lr:g}."
        yield _curves(hist, f"Same CNN, SGD with momentum 0.9 at lr {lr:g}"), text


@friendly
@gpu
def batch_sizes(progress=gr.Progress()):
    rows = []
    total = 10
    dev = get_device()
    for b, k, err, sec in T.batch_size_experiment(device=dev):
        rows.append({"batch": b, "norm": k, "error": err, "seconds": sec})
        progress(len(rows) / total, desc=f"{k}, batch {b}")
        yield _bs_figure(rows), _bs_text(rows)


def _bs_figure(rows):
    fig = go.Figure()
    for k, col in (("BatchNorm", PALETTE[0]), ("GroupNorm", PALETTE[2])):
        r = [x for x in rows if x["norm"] == k]
        fig.add_trace(go.Scatter(x=[x["batch"] for x in r], y=[100 * x["error"] for x in r], name=k,
                                 mode="lines+markers", line=dict(color=col, width=3), marker=dict(size=10)))
    fig.update_xaxes(title_text="images per batch", type="log", tickvals=[2, 4, 8, 16, 32])
    fig.update_yaxes(title_text="validation error (%)", rangemode="tozero")
    return style(fig, "Validation error against batch size (1500 Adam steps each)", height=400,
                 legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), margin=dict(t=100))


def _bs_text(rows):
    secs = sum(r["seconds"] for r in rows)
    return ("Wu & He (2018), ResNet-50 on ImageNet: BatchNorm's error grows from 23.6 % at batch 32 to 34.7 % at "
            f"batch 2 while GroupNorm stays at 24.1 %. Here, on 16×16 bars: {len(rows)} runs in {secs:.0f} s. "
            "BatchNorm normalizes with the statistics of the few images in the batch (noisy) and tests with running "
            "averages; GroupNorm's statistics come from each image alone.")


def build():
    gr.Markdown(INTRO)
    gr.Markdown("### 1. One BatchNorm layer, step by step")
    step = gr.State(0)
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            source = gr.Dropdown(list(C.SOURCES), value=C.SOURCES[0], label="mini-batch")
            batch = gr.Slider(1, 64, 16, step=1, label="batch size N")
            channel = gr.Slider(0, 7, 0, step=1, label="channel")
            gamma = gr.Slider(-3, 3, 1.0, step=0.05, label="γ (scale)")
            beta = gr.Slider(-3, 3, 0.0, step=0.05, label="β (offset)")
            show_all = gr.Checkbox(True, label="show all steps at once")
            nxt = gr.Button("Next step ▶", elem_id="bn-next")
        with gr.Column(scale=3):
            bn_plot = gr.Plot(label="BatchNorm steps", elem_id="bn-steps")
            bn_text = gr.Markdown(elem_id="bn-text", latex_delimiters=[{"left": "$", "right": "$", "display": False}])
    ins = [source, batch, channel, gamma, beta, step, show_all]
    # show_all.input (not .change): "Next step" unticks it programmatically and then redraws once itself
    gr.on([source.change, batch.release, channel.release, gamma.release, beta.release, show_all.input], bn_steps,
          ins, [bn_plot, bn_text], api_name="batchnorm_steps", trigger_mode="always_last")
    nxt.click(next_step, step, step, api_visibility="private").then(
        lambda: False, None, show_all, api_visibility="private").then(
        bn_steps, ins, [bn_plot, bn_text], api_visibility="private")

    gr.Markdown("### 2. Train vs eval: running statistics")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            tb = gr.Slider(1, 64, 4, step=1, label="training batch size")
            ts = gr.Slider(1, 200, 60, step=1, label="training steps")
            tm = gr.Slider(0.01, 1, 0.1, step=0.01, label="momentum (torch's convention)")
            shift = gr.Slider(-5, 5, 0.0, step=0.1, label="shift of the test image")
            run_te = gr.Button("Run", variant="primary", elem_id="bn-te-run")
        with gr.Column(scale=3):
            te_text = gr.Markdown(elem_id="bn-te-text")
            with gr.Row():
                te_plot = gr.Plot(label="Running statistics", elem_id="bn-running")
                te_eval = gr.Plot(label="Inference", elem_id="bn-eval")
    te_in = [source, tb, ts, tm, shift, channel]
    run_te.click(train_eval, te_in, [te_plot, te_eval, te_text], api_name="train_vs_eval")

    gr.Markdown("### 3. BatchNorm, LayerNorm, InstanceNorm, GroupNorm: who shares statistics")
    with gr.Row():
        vn = gr.Slider(0, 3, 0, step=1, label="sample n")
        vc = gr.Slider(0, 7, 2, step=1, label="channel c")
        vg = gr.Slider(1, 8, 2, step=1, label="GroupNorm groups G (must divide C = 8)")
    cubes = gr.Plot(label="Cubes", elem_id="norm-cubes")
    checks = gr.Dataframe(label="Each definition checked against torch (a 4×8×3×3 tensor)", elem_id="norm-checks")
    gr.on([vn.release, vc.release, vg.release], variants, [vn, vc, vg], [cubes, checks], api_name="norm_variants")

    gr.Markdown("### 4. Live training at a high learning rate, and batch size")
    with gr.Row():
        lr = gr.Slider(0.01, 1, 0.1, step=0.01, label="SGD learning rate (momentum 0.9)")
        nsteps = gr.Slider(50, 1000, 300, step=10, label="steps")
        go_btn = gr.Button("Train BatchNorm / GroupNorm / none", variant="primary", elem_id="norm-train")
        stop = gr.Button("Stop", variant="stop")
    live_text = gr.Markdown(elem_id="norm-live-text")
    live_plot = gr.Plot(label="Loss curves", elem_id="norm-live")
    ev = go_btn.click(live, [lr, nsteps], [live_plot, live_text], api_name="norm_live_training", **HEAVY)
    with gr.Row():
        bs_btn = gr.Button("Run the batch-size experiment (about 40 s)", elem_id="norm-bs")
        bs_stop = gr.Button("Stop", variant="stop")
    bs_text = gr.Markdown(elem_id="norm-bs-text")
    bs_plot = gr.Plot(label="Batch size", elem_id="norm-bs-plot")
    ev2 = bs_btn.click(batch_sizes, None, [bs_plot, bs_text], api_name="norm_batch_size", **HEAVY)
    stop.click(None, None, None, cancels=[ev])
    bs_stop.click(None, None, None, cancels=[ev2])

    show_on_load(bn_steps, [C.SOURCES[0], 16, 0, 1.0, 0.0, 0, True], [bn_plot, bn_text])
    show_on_load(train_eval, [C.SOURCES[0], 4, 60, 0.1, 0.0, 0], [te_plot, te_eval, te_text])
    show_on_load(variants, [0, 2, 2], [cubes, checks])

