"""Two-peak heatmaps: where integral regression fails, the exp-normalize trick, and remedies.

Plain torch/numpy/plotly, no Gradio. Maps are (H, W) with cell i spanning [i, i+1), centre i + 0.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch

from demos.common.errors import UserInputError
from demos.common.plotstyle import PALETTE, figure, subplot_grid
import demos.keypoints as kp

SIZE = 64
METHODS = kp.decoders_for("two_peaks")
COLORS = {n: kp.DECODER_REGISTRY[n].colour for n in METHODS} | {"peak": "#000000"}
SYMBOLS = {n: kp.DECODER_REGISTRY[n].marker for n in METHODS}
LABELS = kp.DECODER_LABELS


@dataclass
class Peaks:
    x1: float = 20.5
    y1: float = 32.5
    h1: float = 1.0
    s1: float = 2.5
    x2: float = 40.5
    y2: float = 32.5
    h2: float = 0.9
    s2: float = 2.5
    noise: float = 0.0
    seed: int = 0

    def validate(self) -> "Peaks":
        for name in ("x1", "y1", "x2", "y2"):
            v = getattr(self, name)
            if not math.isfinite(v) or not 0 <= v <= SIZE:
                raise UserInputError(f"Peak position {name} must lie in the map [0, {SIZE}], got {v}.")
        for name in ("h1", "h2"):
            v = getattr(self, name)
            if not math.isfinite(v) or not 0 <= v <= 100:
                raise UserInputError(f"Peak height {name} must be between 0 and 100, got {v}.")
        for name in ("s1", "s2"):
            v = getattr(self, name)
            if not math.isfinite(v) or v < 0 or v > 20:
                raise UserInputError(f"Peak width {name} must be between 0 and 20 px, got {v}.")
        if not math.isfinite(self.noise) or not 0 <= self.noise <= 10:
            raise UserInputError(f"Noise must be between 0 and 10, got {self.noise}.")
        return self

    @property
    def higher(self) -> np.ndarray:
        return np.array([self.x1, self.y1]) if self.h1 >= self.h2 else np.array([self.x2, self.y2])


def gaussian(x: float, y: float, s: float, size: int = SIZE) -> torch.Tensor:
    """A unit-height Gaussian; width 0 is a single-cell spike at the cell holding (x, y)."""
    c = torch.arange(size, dtype=torch.float64) + 0.5
    if s <= 0:
        g = torch.zeros(size, size, dtype=torch.float64)
        g[min(size - 1, int(y)), min(size - 1, int(x))] = 1.0
        return g
    return torch.exp(-((c[:, None] - y) ** 2 + (c[None, :] - x) ** 2) / (2 * s * s))


def two_peak_map(p: Peaks, size: int = SIZE) -> torch.Tensor:
    """h1 * G1 + h2 * G2 + Gaussian noise (std ``noise``, fixed seed)."""
    p.validate()
    m = p.h1 * gaussian(p.x1, p.y1, p.s1, size) + p.h2 * gaussian(p.x2, p.y2, p.s2, size)
    if p.noise > 0:
        g = torch.Generator().manual_seed(int(p.seed))
        m = m + p.noise * torch.randn(size, size, generator=g, dtype=torch.float64)
    return m


def decode_all(m: torch.Tensor, beta: float, radius: int = 3) -> dict[str, np.ndarray]:
    if not math.isfinite(beta) or beta <= 0 or beta > 1e4:
        raise UserInputError(f"β must be a positive number up to 10000, got {beta}.")
    h = m[None, None]
    out = {}
    for meth in METHODS:
        out[meth] = kp.decode(h, meth, beta=beta, radius=radius, sigma=1.0)[0, 0].numpy()
    return out


def centre_pull(beta: float, heights=(1.0, 10.0, 20.0), at=(16.0, 16.0), sigma: float = 2.0) -> dict:
    """How far soft-argmax lands from a single Gaussian peak of each height on a SIZE x SIZE map at this beta."""
    maps = torch.stack([h * gaussian(at[0], at[1], sigma) for h in heights])[:, None]
    xy = kp.soft_argmax(maps, beta)[:, 0]
    d = (xy - torch.tensor(at, dtype=xy.dtype)).norm(dim=-1)
    return {h: float(v) for h, v in zip(heights, d)}


def mixture_expectation(x1: float, x2: float, w: float) -> float:
    """Expected x of a probability map that is the mixture (G1 + w G2) / (1 + w) of two equal-width peaks."""
    return (x1 + w * x2) / (1 + w)


def figure_maps(m: torch.Tensor, beta: float, est: dict, p: Peaks) -> go.Figure:
    """The heatmap and its probability map side by side, with every estimate and the two true peaks marked."""
    prob = kp.softmax2d(m[None, None], beta)[0, 0].numpy()
    axes, layout = subplot_grid(1, 2, hspace=0.16, vspace=0.0,
                                titles=("Heatmap", f"Probability map softmax(β·heatmap), β = {beta:g}"), title_size=16)
    bar_x = layout["xaxis"]["domain"][1] + 0.005  # right of the heatmap, clear of the next panel's y labels
    c = np.arange(m.shape[-1]) + 0.5
    data = [{"type": "heatmap", "z": m.numpy(), "x": c, "y": c, "colorscale": "Viridis", "xaxis": "x", "yaxis": "y",
             "colorbar": {"x": bar_x, "xpad": 2, "thickness": 12}, "hovertemplate": "(%{x}, %{y}): %{z:.3f}<extra></extra>"},
            {"type": "heatmap", "z": prob, "x": c, "y": c, "colorscale": "Viridis", "xaxis": "x2", "yaxis": "y2",
             "colorbar": {"x": 1.0, "thickness": 12}, "hovertemplate": "(%{x}, %{y}): p = %{z:.2e}<extra></extra>"}]
    for col, (xa, ya) in enumerate(axes, start=1):
        data.append({"type": "scatter", "x": [p.x1, p.x2], "y": [p.y1, p.y2], "mode": "markers", "name": "true peaks",
                     # white with a dark edge: seen on the dark maps and on the legend's white
                     "marker": {"symbol": "x", "size": 15, "color": "white", "line": {"width": 1.5, "color": "#222"}},
                     "showlegend": col == 1, "legendgroup": "peaks", "xaxis": xa, "yaxis": ya})
        for meth, xy in est.items():
            data.append({"type": "scatter", "x": [float(xy[0])], "y": [float(xy[1])], "mode": "markers",
                         "name": LABELS[meth], "legendgroup": meth, "showlegend": col == 1, "xaxis": xa, "yaxis": ya,
                         "marker": {"symbol": SYMBOLS[meth], "size": 14, "color": COLORS[meth],
                                    "line": {"color": "white", "width": 2}}})
    for i, (xa, ya) in enumerate(axes):
        n = "" if i == 0 else str(i + 1)
        layout[f"xaxis{n}"] |= {"range": [0, SIZE], "constrain": "domain", "showgrid": False}
        layout[f"yaxis{n}"] |= {"range": [SIZE, 0], "showgrid": False, "scaleanchor": xa}
    # a top margin deep enough that the panel titles sit below Gradio's label box
    layout |= {"legend": {"orientation": "h", "y": -0.12, "x": 0}, "margin": {"l": 60, "r": 20, "t": 75, "b": 40}}
    return figure(data, layout, None, height=490)


def figure_slice(m: torch.Tensor, beta: float, est: dict, p: Peaks) -> go.Figure:
    """Heatmap and probability along the line through both peaks, with each estimate projected onto it."""
    a, b = np.array([p.x1, p.y1]), np.array([p.x2, p.y2])
    d = b - a
    L = float(np.linalg.norm(d))
    u = d / L if L > 1e-9 else np.array([1.0, 0.0])
    t = np.linspace(-20, L + 20, 400)
    pts = a[None] + t[:, None] * u[None]
    ok = (pts >= 0).all(1) & (pts <= SIZE).all(1)  # inclusive: peaks may sit on the map's edge
    t, pts = t[ok], pts[ok]
    idx = np.clip(pts.astype(int), 0, SIZE - 1)
    prob = kp.softmax2d(m[None, None], beta)[0, 0].numpy()
    hm = m.numpy()[idx[:, 1], idx[:, 0]]
    pr = prob[idx[:, 1], idx[:, 0]]
    data = [{"type": "scatter", "x": t, "y": hm, "name": "heatmap", "line": {"color": "#555", "width": 3, "shape": "hv"}},
            {"type": "scatter", "x": t, "y": pr, "name": "probability", "yaxis": "y2",
             "line": {"color": PALETTE[5], "width": 3, "shape": "hv"}}]
    shapes = []
    top = float(np.nanmax(hm)) * 1.05
    for meth, xy in est.items():
        s_ = float(np.dot(xy - a, u))
        off = float(np.linalg.norm((xy - a) - s_ * u))
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": s_, "x1": s_, "y0": 0, "y1": 1,
                       "line": {"color": COLORS[meth], "width": 3, "dash": "dot" if meth != "soft_argmax" else "solid"}})
        data.append({"type": "scatter", "x": [s_], "y": [top], "mode": "markers", "name": LABELS[meth],
                     "marker": {"symbol": SYMBOLS[meth], "size": 14, "color": COLORS[meth]},
                     "hovertemplate": f"{LABELS[meth]}: %{{x:.2f}} px along the line, {off:.2f} px off it<extra></extra>"})
    layout = {"xaxis": {"title": {"text": "position along the line from peak 1 to peak 2 (px)"}},
              "yaxis": {"title": {"text": "heatmap"}},
              "yaxis2": {"title": {"text": "probability"}, "overlaying": "y", "side": "right", "showgrid": False},
              "shapes": shapes, "legend": {"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0},
              "margin": {"l": 60, "r": 80, "t": 60, "b": 200}}
    return figure(data, layout, "1-D slice through both peaks", height=520)


def sweep(p: Peaks, beta: float, radius: int = 3, n: int = 41) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Estimates along the peak-to-peak line as the second peak's height goes from 0 to 2x the first."""
    ratios = np.linspace(0, 2, n)
    maps = []
    for r in ratios:
        q = Peaks(**{**p.__dict__, "h2": p.h1 * r})
        maps.append(two_peak_map(q))
    h = torch.stack(maps)[:, None]
    a, b = np.array([p.x1, p.y1]), np.array([p.x2, p.y2])
    d = b - a
    u = d / (np.linalg.norm(d) + 1e-12)
    out = {}
    for meth in METHODS:
        xy = kp.decode(h, meth, beta=beta, radius=radius, sigma=1.0)[:, 0].numpy()
        out[meth] = (xy - a) @ u
    return ratios, out


def figure_sweep(p: Peaks, beta: float, radius: int = 3) -> go.Figure:
    ratios, out = sweep(p, beta, radius)
    L = float(np.hypot(p.x2 - p.x1, p.y2 - p.y1))
    data = [{"type": "scatter", "x": ratios, "y": v, "name": LABELS[meth],
             "line": {"color": COLORS[meth], "width": 3, "shape": "hv" if meth == "argmax" else "linear"}}
            for meth, v in out.items()]
    cur = min(p.h2 / p.h1 if p.h1 > 0 else 0, 2.0)
    guide = {"color": "#999", "dash": "dash"}
    shapes = [{"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": y, "y1": y, "line": guide}
              for y in (0, L)]
    shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": cur, "x1": cur, "y0": 0, "y1": 1,
                   "line": {"color": "#444", "width": 1}})
    notes = [{"text": "peak 1", "xref": "paper", "yref": "y", "x": 1, "y": 0, "xanchor": "right", "yanchor": "bottom",
              "showarrow": False},
             {"text": "peak 2", "xref": "paper", "yref": "y", "x": 1, "y": L, "xanchor": "right", "yanchor": "top",
              "showarrow": False}]
    layout = {"xaxis": {"title": {"text": "height of peak 2 / height of peak 1"}},
              "yaxis": {"title": {"text": "estimate along the line (px)"}}, "shapes": shapes, "annotations": notes,
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0},
              "margin": {"l": 60, "r": 20, "t": 60, "b": 200}}
    return figure(data, layout, "Arg-max jumps, the integral slides", height=520)


# --- exp-normalize -----------------------------------------------------------------------------------
def overflow_table(peak_logits: np.ndarray, size: int = 16) -> dict[str, np.ndarray]:
    """Decode a fixed two-peak shape scaled so its top logit is each value, with naive and stable soft-max in
    float32 (all values in one batch). Returns x estimates (NaN where the naive one broke) and the fraction of
    NaN cells."""
    base = two_peak_map(Peaks(x1=4.5, y1=8.5, h1=1.0, s1=1.5, x2=11.5, y2=8.5, h2=0.9, s2=1.5), size).float()
    base = base / base.max()
    z = base[None, None] * torch.as_tensor(np.asarray(peak_logits, dtype=np.float32)).view(-1, 1, 1, 1)
    pn, ps = kp.softmax2d_naive(z), kp.softmax2d(z)
    return {"naive_x": kp.expectation(pn)[:, 0, 0].double().numpy(),
            "stable_x": kp.expectation(ps)[:, 0, 0].double().numpy(),
            "naive_nan": torch.isnan(pn).flatten(1).sum(1).numpy(),
            "naive_sum": torch.exp(z.flatten(1)).sum(1).double().numpy()}


def figure_overflow(current: float) -> tuple[go.Figure, str]:
    if not math.isfinite(current) or current <= 0 or current > 1e4:
        raise UserInputError(f"The logit scale must be between 0 and 10000, got {current}.")
    grid = np.unique(np.concatenate([np.linspace(1, 150, 150), [current]]))
    t = overflow_table(grid)
    data = [{"type": "scatter", "x": grid, "y": t["stable_x"], "name": "max-subtracted (stable)",
             "line": {"color": PALETTE[0], "width": 5}},
            {"type": "scatter", "x": grid, "y": t["naive_x"], "name": "naive exp / sum",
             "line": {"color": PALETTE[3], "width": 3, "dash": "dash"}}]
    bad = np.isnan(t["naive_x"])
    if bad.any():
        data.append({"type": "scatter", "x": grid[bad], "y": np.full(bad.sum(), np.nanmin(t["stable_x"]) - 0.3),
                     "mode": "markers", "name": "naive result is NaN",
                     "marker": {"symbol": "x", "color": PALETTE[3], "size": 8}})
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1, "line": line}
              for x, line in ((88.72, {"color": "#666", "dash": "dot"}), (current, {"color": "#222", "width": 1}))]
    notes = [{"text": "exp(88.7) = float32 max", "xref": "x", "yref": "paper", "x": 88.72, "y": 1, "xanchor": "right",
              "yanchor": "bottom", "showarrow": False}]
    layout = {"xaxis": {"title": {"text": "largest logit β·max(heatmap)"}}, "yaxis": {"title": {"text": "decoded x (px)"}},
              "shapes": shapes, "annotations": notes, "legend": {"orientation": "h", "yanchor": "top", "y": -0.28, "x": 0},
              "margin": {"l": 60, "r": 20, "t": 60, "b": 140}}
    fig = figure(data, layout, "Soft-max in float32: naive vs exp-normalize", height=460)
    i = int(np.where(grid == current)[0][0])
    nx, sx = t["naive_x"][i], t["stable_x"][i]
    text = (f"At a largest logit of **{current:g}**: Σ exp(z) = **{t['naive_sum'][i]:.4g}** in float32, the naive "
            f"soft-max has **{t['naive_nan'][i]}** NaN cells of 256 and decodes x = **{nx:.3f}**; subtracting "
            f"the max first (exp(z − max z), the largest term is exactly 1) decodes x = **{sx:.3f}**.")
    return fig, text
