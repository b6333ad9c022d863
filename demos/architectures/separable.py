"""Separable convolutions: rank-1 kernels by SVD, and the cost of depthwise-separable convolutions."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from demos.common.device import time_forward
from demos.common.errors import UserInputError
from demos.common.params import Param
from demos.common.plotstyle import PALETTE, figure, subplot_grid
import demos.keypoints as kp

CIN = Param("cin", "input channels", 8, 512, 64, 8, integer=True)
COUT = Param("cout", "output channels N", 8, 512, 128, 8, integer=True)
CONV_SIZE = Param("conv_size", "size (px)", 7, 112, 56, 7, integer=True)
KERNELS = ("Gaussian 7×7", "Sobel-like edge 7×7", "box 7×7", "diagonal line 7×7", "ring 7×7", "random 7×7",
           "first layer of the keypoint model (3×3)")


def kernel(name: str, seed: int = 0) -> np.ndarray:
    t = np.arange(7) - 3.0
    if name == "Gaussian 7×7":
        g = np.exp(-t**2 / 4)
        return np.outer(g, g)
    if name == "Sobel-like edge 7×7":
        return np.outer(np.exp(-t**2 / 4), t)
    if name == "box 7×7":
        return np.ones((7, 7)) / 49
    if name == "diagonal line 7×7":
        return np.eye(7)
    if name == "ring 7×7":
        r = np.hypot(t[:, None], t[None, :])
        return np.exp(-(r - 2.5) ** 2)
    if name == "random 7×7":
        return np.random.default_rng(seed).normal(size=(7, 7))
    if name == "first layer of the keypoint model (3×3)":
        w = kp.get_model(kp.model_for("features").name).backbone.stem[0].weight.detach().cpu()
        k = int(seed) % w.shape[0]
        return w[k].mean(0).numpy().astype(np.float64)  # mean over the RGB inputs of output channel k
    raise UserInputError(f"Unknown kernel {name!r}; choose one of {KERNELS}.")


def rank1(k: np.ndarray) -> dict:
    """Best separable (rank-1) approximation in the Frobenius norm: s1 * u1 v1^T, i.e. a column filter then a
    row filter. Returns the factors, the approximation, the residual and the singular values."""
    if k.ndim != 2 or not np.isfinite(k).all():
        raise UserInputError("The kernel must be a finite 2-D array.")
    U, S, Vt = np.linalg.svd(k)
    col = U[:, 0] * np.sqrt(S[0])
    row = Vt[0] * np.sqrt(S[0])
    approx = np.outer(col, row)
    resid = k - approx
    energy = float(S[0] ** 2 / max((S**2).sum(), 1e-300))
    return {"col": col, "row": row, "approx": approx, "resid": resid, "s": S, "energy": energy,
            "weights_full": k.size, "weights_sep": k.shape[0] + k.shape[1]}


def figure_rank1(k: np.ndarray, r: dict, name: str) -> go.Figure:
    axes, layout = subplot_grid(1, 4, hspace=0.09, vspace=0.0, titles=(
        "kernel", "best separable (rank 1)", "residual: what it misses", "singular values"))
    bar_x = layout["xaxis3"]["domain"][1] + 0.004  # the colour bar right of the residual, in the gap before the bars
    vmax = float(np.abs(k).max()) or 1.0
    data = []
    for j, m in enumerate((k, r["approx"], r["resid"])):
        xa, ya = axes[j]
        data.append({"type": "heatmap", "z": m, "zmin": -vmax, "zmax": vmax, "colorscale": "RdBu", "reversescale": True,
                     "showscale": j == 2, "colorbar": {"thickness": 12, "x": bar_x, "xpad": 2},
                     "hovertemplate": "%{z:.3f}<extra></extra>", "xaxis": xa, "yaxis": ya})
        # the kernel's own rows and columns only: an equal-aspect panel widened on a wide screen shows no tick
        # outside the kernel (a "-2" ran into the panel titles at 1080p)
        ticks = [{"tickmode": "array", "tickvals": list(range(0, n, 1 if n <= 5 else 2))} for n in m.shape]
        layout["xaxis" + xa[1:]] |= {"showgrid": False} | ticks[1]
        layout["yaxis" + ya[1:]] |= {"autorange": "reversed", "scaleanchor": xa} | ticks[0]
    data.append({"type": "bar", "x": [f"s{i + 1}" for i in range(len(r["s"]))], "y": r["s"],
                 "marker": {"color": PALETTE[0]}, "showlegend": False, "xaxis": "x4", "yaxis": "y4"})
    layout["xaxis4"] |= {"showgrid": False}
    layout |= {"margin": {"l": 60, "r": 20, "t": 90, "b": 55}}
    return figure(data, layout, f"{name}: {r['weights_full']} weights vs {r['weights_sep']} separable; rank 1 keeps "
                                f"{100 * r['energy']:.1f} % of the energy", height=360)


def depthwise_cost(cin: int, cout: int, size: int, k: int = 3, device="cpu", repeats: int = 5) -> dict:
    """Full k×k conv vs depthwise k×k + pointwise 1×1: MACs by formula and by FlopCounterMode, and time."""
    cin, cout, size = CIN.check(cin), COUT.check(cout), CONV_SIZE.check(size)
    full = nn.Conv2d(cin, cout, k, padding=k // 2, bias=False)
    sep = nn.Sequential(nn.Conv2d(cin, cin, k, padding=k // 2, groups=cin, bias=False),
                        nn.Conv2d(cin, cout, 1, bias=False))
    x = torch.randn(1, cin, size, size)
    out = {}
    for name, m in (("full", full), ("separable", sep)):
        with FlopCounterMode(display=False) as fc, torch.no_grad():
            m(x)
        out[name] = {"macs": fc.get_total_flops() // 2, "ms": time_forward(m.to(device), x.to(device), repeats),
                     "params": sum(p.numel() for p in m.parameters())}
    hw = size * size
    out["formula_full"] = k * k * cin * cout * hw
    out["formula_sep"] = (k * k * cin + cin * cout) * hw
    out["ratio_formula"] = 1 / cout + 1 / (k * k)
    out["ratio_counted"] = out["separable"]["macs"] / out["full"]["macs"]
    out["ratio_time"] = out["separable"]["ms"] / out["full"]["ms"]
    return out
