"""The normalization tab's views: parameter records and the functions the tab wires (no Gradio here)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import torch

from demos.common.device import get_device
from demos.common.params import Choice, Flag, Opaque, Param, takes
from demos.common import tasks
from demos.common.plotstyle import PALETTE, PlainFigure, plain

from . import compute as C
from . import training as T

# shown short (a narrow column on a projector); the value, as the API takes it, says where the activations come from
SOURCE = Choice("source", "mini-batch", tuple((s.split(" (")[0], s) for s in C.SOURCES), C.SOURCES[0],
                help="conv activations: the keypoint model's first conv layer on held-out figures; the others are drawn from "
                     "that distribution, each channel on its own scale")
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
LIVE_STEPS = Param("steps", "steps", 50, 400, 300, 10, integer=True)
# measured costs on the 2-core CPU (bench/worst.py; see the measurements in the commit that set them)
# python -m bench worst, one torch thread as in the long-run worker, fresh process, in two sittings (the same code
# ran 20-40 % faster in the second): 300 steps 10.7 s and 6.5 s, 400 steps 12.3 s and 8.8 s; the batch-size
# experiment 27.9 s and 19.1 s. The costs sit between the sittings (each within 1.5x of both).
LIVE_S_PER_STEP = 0.025  # nine nets (three normalizations x three seeds), batch 16
BS_SECONDS = 24


@takes(SOURCE, BATCH, CHANNEL, GAMMA, BETA, STEP, SHOW_ALL)
def bn_steps(source, batch, channel, gamma, beta, step, show_all) -> dict:
    """BatchNorm's four steps (batch, its mean and variance, normalize, scale and shift by gamma and beta) on one channel of a mini-batch, against torch.nn.BatchNorm2d.
    Returns:
        plot: a plotly figure of the channel's values at the chosen step (or all four steps)
        text: Markdown with the step's formula, a table of mean, variance, min and max at each step, and the max difference from torch
    """
    try:
        step = int(step or 0) % 4
    except (TypeError, ValueError):
        step = 0
    return _bn_steps(source, batch, channel, gamma, beta, step, show_all)


@functools.lru_cache(maxsize=128)  # pure: the same checked values give the same figure and numbers
def _bn_steps(source, batch, channel, gamma, beta, step, show_all) -> dict:
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
    """BatchNorm's running statistics over training mini-batches against torch's update rule, and a shifted test image normalized in eval mode.
    Returns:
        running: a plotly figure of the channel's running mean and variance over the steps, torch's and the formula's
        eval: a plotly histogram of the test image's values normalized with the running statistics and with its own
        text: Markdown saying whether the running statistics equal the formula and how far eval mode is from the image's own statistics
    """
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
@functools.lru_cache(maxsize=64)  # pure: 4 x 8 x 3 choices at most
def norm_variants(n, c, groups) -> dict:
    """Which elements of an (N, C, H, W) batch share statistics under BatchNorm, LayerNorm, InstanceNorm and GroupNorm (G groups), each checked against torch.
    Returns:
        cubes: a plotly figure of the batch as a cube per normalizer, the elements sharing statistics with sample n, channel c highlighted
        checks: a table of each definition's max difference from torch's module, and the identities GroupNorm(G=1) = LayerNorm, GroupNorm(G=C) = InstanceNorm
    """
    return {"cubes": C.figure_cubes(VARIANT_SHAPE, n, c, groups), "checks": _variant_table(groups)}


VARIANT_SHAPE = (4, 8, 3, 3)


@functools.lru_cache(maxsize=8)  # the checks depend on G only (the slow, element-by-element definitions)
def _variant_table(groups) -> pd.DataFrame:
    x = torch.randn(*VARIANT_SHAPE, generator=torch.Generator().manual_seed(0)) * 2 + 1
    table = pd.DataFrame(C.variant_check(x, groups))
    table["max |difference|"] = table["max |difference|"].map(lambda v: f"{v:.1e}")
    return table


def _curves(hist, title) -> PlainFigure:
    """Per normalization: the mean over seeds of the loss (moving average of 10), and the band between the lowest and
    the highest seed (plain dicts: this figure is rebuilt on every update of a run)."""
    data = []
    colors = {"BatchNorm": PALETTE[0], "GroupNorm": PALETTE[2], "none": PALETTE[3]}
    for k, runs in hist.items():
        y = np.array(list(runs.values()), dtype=float)  # (seeds, steps)
        w = min(10, y.shape[1])
        if w == 0:
            continue
        smooth = np.stack([np.convolve(r, np.ones(w) / w, mode="valid") for r in y])
        x = np.arange(w, y.shape[1] + 1)
        lo, hi = np.nanmin(smooth, 0) if np.isfinite(smooth).any() else smooth[0], np.nanmax(smooth, 0) if np.isfinite(smooth).any() else smooth[0]
        data.append({"type": "scatter", "x": np.r_[x, x[::-1]], "y": np.r_[hi, lo[::-1]], "fill": "toself",
                     "fillcolor": colors[k], "opacity": 0.2, "line": {"width": 0}, "hoverinfo": "skip",
                     "showlegend": False, "legendgroup": k})
        data.append({"type": "scatter", "x": x, "y": np.nanmean(smooth, 0) if np.isfinite(smooth).any() else smooth[0],
                     "name": f"{k} (mean of {len(y)} seeds; band: lowest to highest)", "legendgroup": k,
                     "line": {"color": colors[k], "width": 3}})
    layout = {"xaxis": {"title": {"text": "step"}}, "yaxis": {"title": {"text": "training loss (moving average of 10)"}},
              "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}, "margin": {"l": 60, "r": 20, "t": 120, "b": 55}}
    return plain(data, layout, title, height=420)


def final_losses(hist: dict, last: int = 20) -> dict:
    """Per normalization, each seed's mean training loss over its last ``last`` steps (NaN if it diverged)."""
    return {k: [float(np.mean(v[-last:])) if v and np.all(np.isfinite(v[-last:])) else float("nan")
                for v in runs.values()] for k, runs in hist.items()}


def live_text(finals: dict, step: int, steps: int, lr: float) -> str:
    """The live training's sentence: each normalization's final loss over the seeds, and an order between two
    only where the gap between their means exceeds the spread over seeds (demos.common.tasks.verdict)."""
    names = list(finals)
    parts = [f"**{k}** {tasks.summary(finals[k])}" for k in names]
    pairs = [tasks.verdict(a, finals[a], b, finals[b], "final loss") for i, a in enumerate(names) for b in names[i + 1:]]
    return (f"Training loss over the last 20 steps (chance: ln 4 = {math.log(4):.2f}): " + "; ".join(parts) + ". "
            + " ".join(pairs) + f" — step {step} of {steps}, SGD lr {lr:g}, batch {T.BATCH}, GroupNorm with "
            f"G = {T.GROUPS}.")


@takes(LR, LIVE_STEPS, seconds=lambda steps, **_: 1 + LIVE_S_PER_STEP * steps)
def norm_live_training(lr, steps, report=None):
    """Trains the same small CNN with BatchNorm, GroupNorm and no normalization (three seeds each) at the given learning rate; yields a dict every few steps.
    Returns:
        plot: a plotly figure of each one's training loss (mean over seeds, band lowest to highest)
        text: Markdown with each one's final loss over the seeds, an order only beyond their spread
    """
    dev = get_device()
    for step, hist in T.train_stream(steps=steps, lr=lr, device=dev, every=max(10, steps // 20)):
        if report:
            report(step / steps, f"step {step}/{steps}")
        yield {"plot": _curves(hist, f"Same CNN, conv → norm → ReLU, SGD with momentum 0.9 at lr {lr:g}"),
               "text": live_text(final_losses(hist), step, steps, lr)}


def _bs_figure(rows) -> PlainFigure:
    data = []
    for k, col in (("BatchNorm", PALETTE[0]), ("GroupNorm", PALETTE[2])):
        r = [x for x in rows if x["norm"] == k]
        bs = sorted({x["batch"] for x in r})
        errs = [[100 * x["error"] for x in r if x["batch"] == b] for b in bs]
        mean = [float(np.mean(e)) for e in errs]
        data.append({"type": "scatter", "x": bs, "y": mean, "name": f"{k} (mean; bars: lowest to highest seed)",
                     "mode": "lines+markers", "line": {"color": col, "width": 3}, "marker": {"size": 10},
                     "error_y": {"type": "data", "symmetric": False, "array": [max(e) - m for e, m in zip(errs, mean)],
                                 "arrayminus": [m - min(e) for e, m in zip(errs, mean)], "color": col, "thickness": 2}})
    layout = {"xaxis": {"title": {"text": "images per batch"}, "type": "log", "tickvals": list(T.BATCH_SIZES)},
              "yaxis": {"title": {"text": "validation error (%)"}, "rangemode": "tozero"},
              "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}, "margin": {"l": 60, "r": 20, "t": 120, "b": 55}}
    return plain(data, layout, f"Validation error against batch size ({T.BS_STEPS} Adam steps each)", height=420)


def bs_errors(rows) -> dict:
    """{batch: {norm: [error of each seed]}} from the experiment's rows."""
    out: dict = {}
    for r in rows:
        out.setdefault(r["batch"], {}).setdefault(r["norm"], []).append(r["error"])
    return out


def bs_text(errors: dict, n_runs: int, seconds: float) -> str:
    """The batch-size experiment's sentence: per batch size both errors over the seeds and an order only beyond the
    spread; the paper's numbers are quoted as the paper's."""
    lines = []
    for b in sorted(errors):
        e = errors[b]
        if not {"BatchNorm", "GroupNorm"} <= set(e):
            continue
        bn, gn = [100 * v for v in e["BatchNorm"]], [100 * v for v in e["GroupNorm"]]
        lines.append(f"- batch {b}: BatchNorm {tasks.summary(bn, '.1f')} %, GroupNorm {tasks.summary(gn, '.1f')} %. "
                     + tasks.verdict("BatchNorm", bn, "GroupNorm", gn, "error", ".1f"))
    return (f"Here, on 16×16 bars ({n_runs} runs in {seconds:.0f} s, each {T.BS_STEPS} Adam steps; the same number of "
            "steps, so small batches see fewer images), validation error in eval mode:\n\n" + "\n".join(lines)
            + "\n\nBatchNorm normalizes with the statistics of the few images in the batch and tests with running "
            "averages; GroupNorm's statistics come from each image alone. *The paper's numbers, for comparison* (Wu & "
            "He 2018, ResNet-50 on ImageNet): BatchNorm's error grows from 23.6 % at batch 32 to 34.7 % at batch 2 "
            "while GroupNorm stays at 24.1 %.")


N_BS_RUNS = len(T.BATCH_SIZES) * 2 * len(T.SEEDS)  # the batch-size experiment's runs (progress)


@takes(seconds=BS_SECONDS)
def norm_batch_size(report=None):
    """Trains BatchNorm and GroupNorm nets at batch sizes 2 to 32 (three seeds each) and scores them in eval mode; yields a dict as each batch size finishes.
    Returns:
        plot: a plotly figure of validation error (%) against batch size (mean, bars lowest to highest seed)
        text: Markdown, per batch size both errors and an order only beyond the spread, with the paper's numbers quoted as the paper's
    """
    rows = []
    for b, k, seed, err, sec in T.batch_size_experiment(device=get_device()):
        rows.append({"batch": b, "norm": k, "seed": seed, "error": err, "seconds": sec})
        if report:
            report(len(rows) / N_BS_RUNS, f"{k}, batch {b}, seed {seed}")
        if seed == T.SEEDS[-1]:
            yield {"plot": _bs_figure(rows), "text": bs_text(bs_errors(rows), len(rows), sum(r["seconds"] for r in rows))}
