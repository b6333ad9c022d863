"""BatchNorm step by step, train vs eval, and the variants LayerNorm / InstanceNorm / GroupNorm.

Plain torch/numpy/plotly, no Gradio. Tensors are (N, C, H, W).
"""

from __future__ import annotations

import copy
import functools
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from demos.common.errors import UserInputError
from demos.common.plotstyle import PALETTE, PlainFigure, plain, subplot_grid
import demos.keypoints as kp

EPS = 1e-5
SOURCES = ("conv activations (keypoint model, held-out figures)", "Gaussian", "skewed (exponential)", "bimodal")
VARIANTS = ("BatchNorm", "LayerNorm", "InstanceNorm", "GroupNorm")


def make_batch(source: str, n: int, c: int = 8, hw: int = 8, shift: float = 0.0, seed: int = 0) -> torch.Tensor:
    """A mini-batch (N, C, H, W): real conv activations, or a chosen distribution with a per-channel offset."""
    g = torch.Generator().manual_seed(seed)
    if source == SOURCES[0]:
        return conv_activations(n, seed) + shift
    if source == "Gaussian":
        x = torch.randn(n, c, hw, hw, generator=g)
    elif source == "skewed (exponential)":
        x = torch.empty(n, c, hw, hw).exponential_(1.0, generator=g)
    elif source == "bimodal":
        x = torch.randn(n, c, hw, hw, generator=g) * 0.5 + 2.0 * torch.sign(torch.randn(n, c, 1, 1, generator=g))
    else:
        raise UserInputError(f"Unknown source {source!r}; choose one of {SOURCES}.")
    per_channel = torch.linspace(-2, 3, c).view(1, c, 1, 1)  # channels live on different scales, as in a real net
    scale = torch.linspace(0.5, 3, c).view(1, c, 1, 1)
    return x * scale + per_channel + shift


@functools.lru_cache(maxsize=1)
def _first_conv() -> nn.Module:
    """A CPU copy of the bundled model's first conv layer (one layer: cheap, and no GPU needed)."""
    return copy.deepcopy(kp.get_model(kp.model_for("features").name).backbone.stem[0]).cpu().eval()


POOL = 256  # held-out figures whose conv activations the mini-batches are drawn from


@functools.lru_cache(maxsize=1)
def _conv_pool() -> torch.Tensor:
    """The first conv layer's outputs on POOL held-out figures, computed once per process: a training run of 80
    mini-batches of 32 would otherwise render 2,560 figures (at ~5-15 ms each, most of a minute under load)."""
    conv = _first_conv()
    x = kp.to_tensor(np.stack([kp.render(kp.HELDOUT_SEED0 + 1000 + i).image for i in range(POOL)]))
    with torch.no_grad():
        return F.avg_pool2d(conv(x)[:, :8], 2)


def conv_activations(n: int, seed: int = 0) -> torch.Tensor:
    """Outputs of the first conv layer (before its BatchNorm) of the bundled heatmap model on held-out figures:
    (n, 8, 32, 32) — the first 8 of its channels, average-pooled 2x to keep the page light. Mini-batch ``seed``
    holds n different figures of the pool (n <= POOL, bounded by the records), drawn by its own generator."""
    idx = torch.randperm(POOL, generator=torch.Generator().manual_seed(seed))[:n]
    return _conv_pool()[idx]


def batchnorm_steps(x: torch.Tensor, gamma: float, beta: float, eps: float = EPS) -> dict:
    """Each step of one BatchNorm2d layer in training mode, for every channel:
    mean and (biased) variance over (N, H, W), x_hat = (x - mean)/sqrt(var + eps), y = gamma x_hat + beta."""
    if x.shape[0] * x.shape[2] * x.shape[3] < 2:
        raise UserInputError("BatchNorm in training mode needs more than one value per channel: with batch size "
                             "1 and a 1x1 map the variance is undefined (torch raises 'Expected more than 1 value "
                             "per channel when training'). Use a larger batch or eval mode.")
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    xhat = (x - mean) / torch.sqrt(var + eps)
    y = gamma * xhat + beta
    return {"x": x, "mean": mean.flatten(), "var": var.flatten(), "xhat": xhat, "y": y}


def torch_batchnorm(x: torch.Tensor, gamma: float, beta: float, eps: float = EPS) -> torch.Tensor:
    bn = nn.BatchNorm2d(x.shape[1], eps=eps)
    with torch.no_grad():
        bn.weight.fill_(gamma)
        bn.bias.fill_(beta)
    return bn.train()(x)


STEP_TITLES = ("1. mini-batch x", "2. μ_B and σ²_B", "3. x̂ = (x − μ_B)/√(σ²_B + ε)", "4. y = γ·x̂ + β")
FORMULAS = (
    "A channel's values over the whole mini-batch: $\\{x_i\\}$, $i$ over $N \\times H \\times W$.",
    "$\\mu_B = \\frac{1}{m}\\sum_i x_i, \\quad \\sigma_B^2 = \\frac{1}{m}\\sum_i (x_i - \\mu_B)^2$ (biased; $m = NHW$)",
    "$\\hat x_i = \\dfrac{x_i - \\mu_B}{\\sqrt{\\sigma_B^2 + \\epsilon}}, \\quad \\epsilon = 10^{-5}$",
    "$y_i = \\gamma \\hat x_i + \\beta$ — learned scale and offset (they can undo the normalization)",
)


def figure_step(steps: dict, channel: int, step: int, show_all: bool) -> PlainFigure:
    arrays = [steps["x"], steps["x"], steps["xhat"], steps["y"]]
    shown = list(range(4)) if show_all else [step]
    axes, layout = subplot_grid(1, len(shown), hspace=0.06, vspace=0.0, titles=[STEP_TITLES[i] for i in shown])
    data, shapes = [], []
    for j, i in enumerate(shown):
        xa, ya = axes[j]
        v = arrays[i][:, channel].flatten().numpy()
        data.append({"type": "histogram", "x": v, "nbinsx": 40, "marker": {"color": PALETTE[i % 4]},
                     "showlegend": False, "xaxis": xa, "yaxis": ya})
        if i == 1:
            m, sd = float(steps["mean"][channel]), math.sqrt(float(steps["var"][channel]))
            shapes.append({"type": "rect", "xref": xa, "yref": f"{ya} domain", "x0": m - sd, "x1": m + sd, "y0": 0,
                           "y1": 1, "fillcolor": PALETTE[1], "opacity": 0.2, "line": {"width": 0}})
            shapes.append({"type": "line", "xref": xa, "yref": f"{ya} domain", "x0": m, "x1": m, "y0": 0, "y1": 1,
                           "line": {"color": "black", "width": 3}})
        layout["xaxis" + xa[1:]] |= {"title": {"text": "value"}}
    layout |= {"shapes": shapes, "margin": {"l": 60, "r": 20, "t": 90, "b": 55}}
    return plain(data, layout, f"Channel {channel}", height=380)


def step_numbers(steps: dict, channel: int, gamma: float, beta: float) -> str:
    x = steps["x"][:, channel]
    xh = steps["xhat"][:, channel]
    y = steps["y"][:, channel]
    return ("| | mean | variance | min | max |\n|---|---|---|---|---|\n" +
            f"| x | {float(x.mean()):.4f} | {float(x.var(unbiased=False)):.4f} | {float(x.min()):.3f} | {float(x.max()):.3f} |\n"
            f"| x̂ | {float(xh.mean()):.4f} | {float(xh.var(unbiased=False)):.4f} | {float(xh.min()):.3f} | {float(xh.max()):.3f} |\n"
            f"| y (γ = {gamma:g}, β = {beta:g}) | {float(y.mean()):.4f} | {float(y.var(unbiased=False)):.4f} | "
            f"{float(y.min()):.3f} | {float(y.max()):.3f} |\n\n"
            f"μ_B = {float(steps['mean'][channel]):.4f}, σ²_B = {float(steps['var'][channel]):.4f} over "
            f"m = {x.numel()} values.")


# --- train vs eval ----------------------------------------------------------------------------------------
def running_stats(source: str, batch: int, steps: int, momentum: float, shift: float = 0.0, seed: int = 0) -> dict:
    """Feed ``steps`` mini-batches through a BatchNorm2d in train mode and record its running statistics next to
    torch's update rule new = (1 - momentum) * old + momentum * batch (unbiased variance for the running one).
    Then normalize one held-out image in eval mode (running stats) and in train mode alone (its own stats)."""
    bn = nn.BatchNorm2d(8, momentum=momentum)  # every source has 8 channels
    rm, rv, bm, bv, mine_m, mine_v = [], [], [], [], [], []
    own_m = torch.zeros(bn.num_features)
    own_v = torch.ones(bn.num_features)
    for t in range(steps):
        x = make_batch(source, batch, seed=seed + 1 + t)
        if batch * x.shape[2] * x.shape[3] < 2:
            raise UserInputError("Batch size 1 with a 1x1 map has a single value per channel: BatchNorm cannot train.")
        bn.train()(x)
        m = x.mean((0, 2, 3))
        v_unb = x.var((0, 2, 3), unbiased=True)
        own_m = (1 - momentum) * own_m + momentum * m
        own_v = (1 - momentum) * own_v + momentum * v_unb
        bm.append(m.numpy())
        bv.append(x.var((0, 2, 3), unbiased=False).numpy())
        rm.append(bn.running_mean.clone().numpy())
        rv.append(bn.running_var.clone().numpy())
        mine_m.append(own_m.numpy().copy())
        mine_v.append(own_v.numpy().copy())
    test = make_batch(source, 1, shift=shift, seed=seed + 10_000)
    with torch.no_grad():
        y_eval = bn.eval()(test)
        own = (test - test.mean((0, 2, 3), keepdim=True)) / torch.sqrt(test.var((0, 2, 3), unbiased=False,
                                                                                 keepdim=True) + bn.eps)
    return {"running_mean": np.array(rm), "running_var": np.array(rv), "batch_mean": np.array(bm),
            "batch_var": np.array(bv), "formula_mean": np.array(mine_m), "formula_var": np.array(mine_v),
            "eval": y_eval, "own": own, "test": test, "momentum": momentum}


def figure_running(res: dict, channel: int) -> PlainFigure:
    T = np.arange(1, len(res["running_mean"]) + 1)
    axes, layout = subplot_grid(1, 2, hspace=0.1, vspace=0.0, titles=["mean", "variance"])
    m = res["momentum"]
    data = []
    for j, key in enumerate(("mean", "var")):
        xa, ya = axes[j]
        first = j == 0
        data += [{"type": "scatter", "x": T, "y": res[f"batch_{key}"][:, channel], "mode": "markers",
                  "name": "this mini-batch", "marker": {"color": PALETTE[5], "size": 6}, "showlegend": first,
                  "xaxis": xa, "yaxis": ya},
                 {"type": "scatter", "x": T, "y": res[f"running_{key}"][:, channel], "name": "running (torch)",
                  "line": {"color": PALETTE[0], "width": 4}, "showlegend": first, "xaxis": xa, "yaxis": ya},
                 {"type": "scatter", "x": T, "y": res[f"formula_{key}"][:, channel],
                  "name": f"{1 - m:.3g}·old + {m:.3g}·batch (formula)",
                  "line": {"color": PALETTE[1], "width": 2, "dash": "dash"}, "showlegend": first, "xaxis": xa, "yaxis": ya}]
        layout["xaxis" + xa[1:]] |= {"title": {"text": "training step"}}
    layout |= {"legend": {"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0},
               "margin": {"l": 60, "r": 20, "t": 70, "b": 150}}
    return plain(data, layout, f"Running statistics, channel {channel}", height=430)


def figure_eval(res: dict, channel: int) -> PlainFigure:
    data = [{"type": "histogram", "x": res["eval"][:, channel].flatten().numpy(), "name": "eval mode: running statistics",
             "opacity": 0.6, "marker": {"color": PALETTE[0]}, "nbinsx": 40},
            {"type": "histogram", "x": res["own"][:, channel].flatten().numpy(), "name": "the image's own statistics",
             "opacity": 0.6, "marker": {"color": PALETTE[3]}, "nbinsx": 40}]
    layout = {"barmode": "overlay", "xaxis": {"title": {"text": "normalized value"}},
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0},
              "margin": {"l": 60, "r": 20, "t": 70, "b": 150}}
    return plain(data, layout, "One test image at inference", height=430)


# --- variants ---------------------------------------------------------------------------------------------
def group_mask(kind: str, shape, n: int, c: int, groups: int = 2) -> torch.Tensor:
    """Which elements of an (N, C, H, W) tensor share statistics with sample n, channel c."""
    N, C, H, W = shape
    m = torch.zeros(N, C, dtype=torch.bool)
    if kind == "BatchNorm":
        m[:, c] = True
    elif kind == "LayerNorm":
        m[n, :] = True
    elif kind == "InstanceNorm":
        m[n, c] = True
    elif kind == "GroupNorm":
        if C % groups:
            raise UserInputError(f"GroupNorm needs the number of groups G to divide the channels C: {C} % {groups} "
                                 f"= {C % groups}. Try G in {[g for g in range(1, C + 1) if C % g == 0]}.")
        size = C // groups
        g0 = (c // size) * size
        m[n, g0:g0 + size] = True
    else:
        raise UserInputError(f"Unknown normalization {kind!r}")
    return m[:, :, None, None].expand(N, C, H, W)


def normalize_by_mask(x: torch.Tensor, kind: str, groups: int = 2, eps: float = EPS) -> torch.Tensor:
    """Normalize every element by the mean/variance of the set that shares statistics with it (the picture's
    definition, done the slow way) — to check against torch's modules."""
    N, C, H, W = x.shape
    out = torch.empty_like(x)
    for n in range(N):
        for c in range(C):
            m = group_mask(kind, x.shape, n, c, groups)
            vals = x[m]
            out[n, c] = (x[n, c] - vals.mean()) / torch.sqrt(vals.var(unbiased=False) + eps)
    return out


def torch_norm(x: torch.Tensor, kind: str, groups: int = 2, eps: float = EPS) -> torch.Tensor:
    N, C, H, W = x.shape
    with torch.no_grad():
        if kind == "BatchNorm":
            return nn.BatchNorm2d(C, eps=eps).train()(x)
        if kind == "LayerNorm":
            return nn.LayerNorm([C, H, W], eps=eps)(x)
        if kind == "InstanceNorm":
            return nn.InstanceNorm2d(C, eps=eps)(x)
        if C % groups:
            group_mask("GroupNorm", x.shape, 0, 0, groups)  # raises the plain message
        return nn.GroupNorm(groups, C, eps=eps)(x)


def figure_cubes(shape, n: int, c: int, groups: int) -> PlainFigure:
    """The (N, C, H·W) cube for each normalizer, the elements sharing statistics with (n, c) highlighted."""
    N, C, H, W = shape
    titles = [f"{k}{f' (G = {groups})' if k == 'GroupNorm' else ''}" for k in VARIANTS]
    width = (1 - 0.01 * 3) / 4
    nn_, cc, hh = np.meshgrid(np.arange(N), np.arange(C), np.arange(H * W), indexing="ij")
    scene = {"xaxis": {"title": {"text": "C"}, "showticklabels": False},
             "yaxis": {"title": {"text": "H·W"}, "showticklabels": False},
             "zaxis": {"title": {"text": "N"}, "showticklabels": False},
             "camera": {"eye": {"x": 1.6, "y": -1.6, "z": 1.0}}, "aspectmode": "cube"}
    data, layout, notes = [], {}, []
    for j, kind in enumerate(VARIANTS):
        name = "scene" if j == 0 else f"scene{j + 1}"
        x0 = j * (width + 0.01)
        layout[name] = scene | {"domain": {"x": [x0, x0 + width], "y": [0, 1]}}
        notes.append({"text": titles[j], "x": x0 + width / 2, "y": 1, "xref": "paper", "yref": "paper",
                      "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 15}})
        m = group_mask(kind, shape, n, c, groups).reshape(N, C, H * W).numpy()
        for on, col, size, label in ((False, "rgba(120,120,120,0.35)", 3, "other elements"),
                                     (True, PALETTE[1], 5, "share statistics with the chosen element")):
            sel = m == on
            data.append({"type": "scatter3d", "x": cc[sel], "y": hh[sel], "z": nn_[sel], "mode": "markers",
                         "name": label, "showlegend": j == 0, "legendgroup": str(on), "scene": name,
                         "marker": {"size": size, "color": col, "symbol": "square"}})
    layout |= {"annotations": notes, "legend": {"orientation": "h", "yanchor": "top", "y": -0.02, "x": 0},
               "margin": {"l": 0, "r": 0, "t": 80, "b": 40}}
    return plain(data, layout, f"Which elements share a mean and variance with sample {n}, channel {c}", height=430)


def variant_check(x: torch.Tensor, groups: int) -> list[dict]:
    """For each normalizer: max |difference| between the picture's definition and torch's module; plus the two
    identities GroupNorm(G=1) = LayerNorm and GroupNorm(G=C) = InstanceNorm."""
    C = x.shape[1]
    rows = []
    for kind in VARIANTS:
        d = (normalize_by_mask(x, kind, groups) - torch_norm(x, kind, groups)).abs().max()
        rows.append({"check": f"{kind}: definition vs torch.nn module", "max |difference|": float(d)})
    rows.append({"check": "GroupNorm(G = 1) vs LayerNorm", "max |difference|":
                 float((torch_norm(x, "GroupNorm", 1) - torch_norm(x, "LayerNorm")).abs().max())})
    rows.append({"check": f"GroupNorm(G = C = {C}) vs InstanceNorm", "max |difference|":
                 float((torch_norm(x, "GroupNorm", C) - torch_norm(x, "InstanceNorm")).abs().max())})
    return rows
