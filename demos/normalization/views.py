"""The normalization tab's views: parameter records and the functions the tab wires (no Gradio here)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch

from demos.common.device import get_device
from demos.common.params import Choice, Flag, Opaque, Param, takes
from demos.common.plotstyle import PALETTE, style

from . import compute as C
from . import training as T

SOURCE = Choice("source", "mini-batch", tuple((s, s) for s in C.SOURCES), C.SOURCES[0])
BATCH = Param("batch", "batch size N", 1, 64, 16, 1, integer=True)
CHANNEL = Param("channel", "channel", 0, 7, 0, 1, integer=True)
GAMMA = Param("gamma", "γ (scale)", -3, 3, 1.0, 0.05)
BETA = Param("beta", "β (offset)", -3, 3, 0.0, 0.05)
STEP = Opaque("step", 0)
SHOW_ALL = Flag("show_all", "show all steps at once", True)
# bounds from `python -m bench worst`: 64 x 200 took 92 s and 1.1 GB (each step renders its mini-batch)
TRAIN_BATCH = Param("train_batch", "training batch size", 1, 32, 4, 1, integer=True)
TRAIN_STEPS = Param("train_steps", "training steps", 1, 80, 60, 1, integer=True)
MOMENTUM = Param("momentum", "momentum m (torch's convention)", 0.01, 1, 0.1, 0.01,
                 help="running = (1 − m)·running + m·batch")
SHIFT = Param("shift", "shift of the test image", -5, 5, 0.0, 0.1)
SAMPLE_N = Param("n", "sample n", 0, 3, 0, 1, integer=True)
CHANNEL_C = Param("c", "channel c", 0, 7, 2, 1, integer=True)
GROUPS = Choice("groups", "GroupNorm groups G (divides C = 8)", tuple((str(g), g) for g in (1, 2, 4, 8)), 2)
LR = Param("lr", "SGD learning rate (momentum 0.9)", 0.01, 1, 0.1, 0.01)
LIVE_STEPS = Param("steps", "steps", 50, 1000, 300, 10, integer=True,
                   help="1000 steps take about 22 s on a 2-core CPU")


@takes(SOURCE, BATCH, CHANNEL, GAMMA, BETA, STEP, SHOW_ALL)
def bn_steps(source, batch, channel, gamma, beta, step, show_all) -> dict:
    step = int(step or 0) % 4
    x = C.make_batch(source, batch)
    steps = C.batchnorm_steps(x, gamma, beta)
    ref = C.torch_batchnorm(x, gamma, beta)
    diff = float((ref - steps["y"]).detach().abs().max())
    formula = ("\n\n".join(f"**{t}** — {f}" for t, f in zip(C.STEP_TITLES, C.FORMULAS)) if show_all else
               f"**{C.STEP_TITLES[step]}** — {C.FORMULAS[step]}")
    text = (formula + "\n\n" + C.step_numbers(steps, channel, gamma, beta) +
            f"\n\nAgainst `torch.nn.BatchNorm2d` (train mode, same γ, β): max |difference| = **{diff:.2e}**.")
    return {"plot": C.figure_step(steps, channel, step, show_all), "text": text}


@takes(SOURCE, TRAIN_BATCH, TRAIN_STEPS, MOMENTUM, SHIFT, CHANNEL)
def train_vs_eval(source, train_batch, train_steps, momentum, shift, channel) -> dict:
    res = C.running_stats(source, train_batch, train_steps, momentum, shift)
    ok = np.allclose(res["running_mean"], res["formula_mean"], atol=1e-4) and np.allclose(
        res["running_var"], res["formula_var"], rtol=1e-4, atol=1e-4)
    gap = float((res["eval"] - res["own"]).abs().mean())
    text = (f"torch's running statistics {'**equal**' if ok else '**differ from**'} the formula new = (1 − m)·old + "
            f"m·batch = {1 - momentum:.3g}·old + {momentum:.3g}·batch (m = {momentum:g}; the running variance uses the "
            f"*unbiased* batch variance). A single test image shifted by {shift:g}: normalized with the running "
            f"statistics vs with its own statistics differ by **{gap:.3f}** on average (batch size {train_batch} "
            "during training). Tiny batches give noisy running statistics; shifted data makes the training statistics "
            "wrong for the test image.")
    return {"running": C.figure_running(res, channel), "eval": C.figure_eval(res, channel), "text": text}


@takes(SAMPLE_N, CHANNEL_C, GROUPS)
def norm_variants(n, c, groups) -> dict:
    shape = (4, 8, 3, 3)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0)) * 2 + 1
    table = pd.DataFrame(C.variant_check(x, groups))
    table["max |difference|"] = table["max |difference|"].map(lambda v: f"{v:.1e}")
    return {"cubes": C.figure_cubes(shape, n, c, groups), "checks": table}


def _curves(hist, title):
    fig = go.Figure()
    colors = {"BatchNorm": PALETTE[0], "GroupNorm": PALETTE[2], "none": PALETTE[3]}
    for k, v in hist.items():
        y = np.array(v, dtype=float)
        w = min(10, len(y))
        smooth = np.convolve(y, np.ones(w) / w, mode="valid") if len(y) >= w else y
        fig.add_trace(go.Scatter(x=np.arange(w, len(y) + 1), y=smooth, name=k, line=dict(color=colors[k], width=3)))
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="training loss (moving average of 10)")
    return style(fig, title, height=400, legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                 margin=dict(t=100))


@takes(LR, LIVE_STEPS, seconds=lambda steps, **_: 1 + 22 * steps / 1000)
def norm_live_training(lr, steps, report=None):
    dev = get_device()
    for step, hist in T.train_stream(steps=steps, lr=lr, device=dev, every=max(10, steps // 20)):
        if report:
            report(step / steps, f"step {step}/{steps}")
        last = {k: v[-1] for k, v in hist.items()}
        text = "Final loss: " + ", ".join(f"{k} {'diverged (NaN)' if math.isnan(x) else f'{x:.3f}'}"
                                          for k, x in last.items()) + f" — step {step} of {steps}, SGD lr {lr:g}."
        yield {"plot": _curves(hist, f"Same CNN, conv → norm → ReLU, SGD with momentum 0.9 at lr {lr:g}"),
               "text": text}


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
            f"batch 2 while GroupNorm stays at 24.1 %. Here, on 16×16 bars: {len(rows)} runs in {secs:.0f} s, each "
            "1500 Adam steps on one device (the same number of steps, so small batches see fewer images). "
            "BatchNorm normalizes with the statistics of the few images in the batch (noisy) and tests with running "
            "averages; GroupNorm's statistics come from each image alone.")


@takes(seconds=36)
def norm_batch_size(report=None):
    rows = []
    for b, k, err, sec in T.batch_size_experiment(device=get_device()):
        rows.append({"batch": b, "norm": k, "error": err, "seconds": sec})
        if report:
            report(len(rows) / 10, f"{k}, batch {b}")
        yield {"plot": _bs_figure(rows), "text": _bs_text(rows)}
