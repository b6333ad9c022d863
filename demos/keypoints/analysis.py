"""Keypoints tab computation: run a model on an image, decode its heatmaps every way, and draw it all.

Plain torch/numpy/plotly, no Gradio. Everything is in the model's input frame (a letterboxed 128x128 copy of
the image, what the model sees), pixel i spanning [i, i+1).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from PIL import Image

from demos.common.errors import UserInputError
from demos.common.plotstyle import PALETTE, figure, subplot_grid

from . import decoders
from .registry import MODELS
from .data import JOINTS, SKELETON

# Colours, markers and labels: the decoder registry's, plus the three point sets that are not decoders.
_EXTRA = {"direct": ("direct regression", PALETTE[2], "circle"),
          "torchvision": ("torchvision (bicubic + arg-max)", PALETTE[2], "triangle-up"),
          "truth": ("ground truth", "#000000", "x-thin")}
DECODER_COLORS = {n: d.colour for n, d in decoders.REGISTRY.items()} | {k: v[1] for k, v in _EXTRA.items()}
DECODER_SYMBOLS = {n: d.marker for n, d in decoders.REGISTRY.items()} | {k: v[2] for k, v in _EXTRA.items()}
LABELS = dict(decoders.DECODER_LABELS) | {k: v[0] for k, v in _EXTRA.items()}


def letterbox(img: Image.Image, size: int = 128, fill=None) -> Image.Image:
    """Pad to a square (with the border's mean colour) and resize to size x size, keeping the aspect ratio."""
    w, h = img.size
    if w < 1 or h < 1:
        raise UserInputError("The image is empty.")
    a = np.asarray(img)
    if fill is None:
        border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]]).reshape(-1, 3)
        fill = tuple(int(v) for v in border.mean(0))
    side = max(w, h)
    canvas = Image.new("RGB", (side, side), fill)
    canvas.paste(img, ((side - w) // 2, (side - h) // 2))
    if side == size:
        return canvas
    return canvas.resize((size, size), Image.LANCZOS if side > size else Image.BICUBIC)


@dataclass
class Prediction:
    image: np.ndarray  # (S, S, 3) uint8, the model's input
    coords: dict[str, np.ndarray]  # decoder -> (K, 2) input px
    heatmaps: np.ndarray | None = None  # (K, H, W) raw head output
    probs: np.ndarray | None = None  # (K, H, W) softmax(beta * heatmap)
    beta: float = 1.0
    truth: np.ndarray | None = None  # (K, 2) when known
    visible: np.ndarray | None = None
    joint_names: tuple[str, ...] = JOINTS
    skeleton: tuple = SKELETON
    stride: float = 1.0
    map_coords: dict[str, np.ndarray] = field(default_factory=dict)  # decoder -> (K, 2) in heatmap px
    extra: dict = field(default_factory=dict)

    def on_map(self, name: str) -> np.ndarray:
        return self.map_coords[name] if name in self.map_coords else self.coords[name] / self.stride


@torch.no_grad()
def forward(model, image: Image.Image, device=None) -> tuple[np.ndarray, dict]:
    """The model's input (a letterboxed copy of the image) and its raw output."""
    arr = np.array(letterbox(image, model.input_size))
    x = torch.from_numpy(arr).permute(2, 0, 1).float().div(255).unsqueeze(0)
    device = device or next(model.parameters()).device
    return arr, {k: v.cpu() for k, v in model(x.to(device)).items()}  # CPU: kept in session state


def predict(model, image: Image.Image, beta: float, device=None, truth=None, visible=None,
            forwarded: tuple | None = None) -> Prediction:
    """Run a KeypointNet on one image and decode with every decoder (heatmap models) or read its coords.
    ``forwarded``: the result of :func:`forward` for this model and image, to decode again without re-running it."""
    if not math.isfinite(beta) or beta <= 0:
        raise UserInputError(f"The soft-max inverse temperature beta (T = 1/beta) must be a positive number, got {beta}.")
    arr, out = forwarded or forward(model, image, device)
    if "heatmaps" not in out:
        return Prediction(arr, {"direct": out["coords"][0].cpu().numpy()}, truth=truth, visible=visible,
                          joint_names=tuple(model.joint_names))
    hm = out["heatmaps"].float()
    S = model.input_size
    coords = {}
    for d in decoders.DECODERS:
        c = decoders.decode(hm, d, beta=beta, sigma=model.sigma, log_domain=model.head_type == "integral")
        coords[d] = decoders.to_input_pixels(c, hm.shape[-2:], (S, S))[0].cpu().numpy()
    probs = decoders.softmax2d(hm, beta)
    return Prediction(arr, coords, hm[0].cpu().numpy(), probs[0].cpu().numpy(), beta, truth, visible,
                      tuple(model.joint_names), tuple(map(tuple, model.skeleton)), S / hm.shape[-1])


def map_peaks(m: np.ndarray, stride: float, rel: float = 0.3, min_distance: int = 2, most: int = 4) -> list[tuple]:
    """A map's separated peaks, highest first: [(x, y, height, relative)] with (x, y) the cell centre in input px,
    height the map's value and relative = (height - min) / (highest - min). Peaks are local maxima of a 3x3 window
    taken greedily, each more than ``min_distance`` cells (Chebyshev) from every higher one kept, as
    ``decoders.two_peak_score`` separates them; only those with relative >= ``rel`` (and at most ``most``)."""
    m = np.nan_to_num(np.asarray(m, dtype=np.float64), nan=-np.inf)
    H, W = m.shape
    lo = float(m[np.isfinite(m)].min()) if np.isfinite(m).any() else 0.0
    top = float(m.max()) - lo
    pad = np.pad(m, 1, constant_values=-np.inf)
    local = np.ones_like(m, bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            local &= m >= pad[1 + dy:1 + dy + H, 1 + dx:1 + dx + W]
    ys, xs = np.nonzero(local)
    kept = []
    for i in np.argsort(-m[ys, xs], kind="stable"):
        y, x = int(ys[i]), int(xs[i])
        r = (float(m[y, x]) - lo) / top if top > 0 else (1.0 if not kept else 0.0)
        if r < rel or len(kept) >= most:
            break
        if all(max(abs(x - kx), abs(y - ky)) > min_distance for kx, ky in kept):
            kept.append((x, y))
    return [((x + 0.5) * stride, (y + 0.5) * stride, float(m[y, x]),
             (float(m[y, x]) - lo) / top if top > 0 else 1.0) for x, y in kept]


# -- out of distribution: is this image like the renders the bundled models learned from? ----------------------
OOD_SHARE = 0.95  # flag an image whose maps peak lower than on at least this share of the held-out renders
OOD_SEEDS = tuple(range(1_000_200, 1_000_328))  # 128 held-out renders that set the reference (not the tests' ones)


def peak_score(heatmaps: np.ndarray, head_type: str, beta: float) -> float:
    """How peaked a model's maps (K, H, W) are: the median over joints of each map's peak, the raw map's for MSE
    heatmaps (target height 1), the soft-max probability's at the model's own beta for integral heads (their maps
    are logits). Read from the forward pass the tab already made: no extra one."""
    h = torch.as_tensor(np.asarray(heatmaps, dtype=np.float32))[None]
    peaks = decoders.softmax2d(h, beta).flatten(2).amax(-1) if head_type == "integral" else h.flatten(2).amax(-1)
    return float(peaks[0].median())


@functools.lru_cache(maxsize=16)
def ood_reference(model) -> tuple[float, ...]:
    """The model's peak scores on the held-out renders OOD_SEEDS, sorted: one batched pass the first time, then
    kept in memory and on disk (training.CACHE, keyed by the weights' checksum), so a process or a quick worker
    that starts later reads them instead of computing them again."""
    import hashlib
    import json
    import os

    from .training import CACHE, dataset, predict_heatmaps

    with torch.no_grad():
        digest = hashlib.sha1(b"".join(p.detach().cpu().numpy().tobytes() for p in model.parameters()))
    digest.update(repr((model.head_type, float(model.beta), OOD_SEEDS)).encode())
    path = CACHE / f"ood-{digest.hexdigest()[:16]}.json"
    try:
        return tuple(json.loads(path.read_text()))
    except (OSError, ValueError):
        pass
    images, _, _ = dataset(OOD_SEEDS, model.variant, model.input_size)
    _, hms = predict_heatmaps(model, images)
    scores = tuple(sorted(peak_score(h.numpy(), model.head_type, float(model.beta)) for h in hms))
    try:
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(scores))
        os.replace(tmp, path)
    except OSError:  # a read-only home: computed per process, as before
        pass
    return scores


def ood_sentence(score: float, reference, head_type: str) -> str:
    """One sentence when the maps peak lower than on at least OOD_SHARE of the held-out renders (else "")."""
    share = float(np.mean(np.asarray(reference) > score))
    if share < OOD_SHARE:
        return ""
    what = "heatmap peaks" if head_type == "heatmap" else "peak probabilities"
    return (f"This image looks unlike the training renders: its {what} (median over joints {score:.2f}) are lower "
            f"than on {share:.0%} of {len(reference)} held-out renders, so these keypoints may be nonsense; for a "
            "photo of a person, pick the photo model.")


def overlay_figure(pred: Prediction, shown=None, title: str = "Keypoints per decoder") -> go.Figure:
    """The image with each decoder's keypoints and skeleton in its own colour, plus ground truth."""
    S = pred.image.shape[0]
    data = [{"type": "image", "z": pred.image, "x0": 0.5, "y0": 0.5, "dx": 1, "dy": 1, "hoverinfo": "skip"}]
    sets = dict(pred.coords)
    if pred.truth is not None:
        sets["truth"] = pred.truth
    for i, t in enumerate(pred.extra.get("figures", ())):  # a scene of several figures: each one's truth
        sets[f"truth {'ABC'[i]}"] = t
    for name, c in sets.items():
        if shown is not None and name not in shown and not name.startswith("truth"):
            continue
        key = "truth" if name.startswith("truth") else name
        col = "#777777" if name == "truth B" else DECODER_COLORS.get(key, "#333")
        xs, ys = [], []
        for a, b in pred.skeleton:
            if a < len(c) and b < len(c):
                xs += [float(c[a, 0]), float(c[b, 0]), None]
                ys += [float(c[a, 1]), float(c[b, 1]), None]
        data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "legendgroup": name, "showlegend": False,
                     "hoverinfo": "skip", "line": {"color": col, "width": 2.5,
                                                   "dash": "dot" if name.startswith("truth") else "solid"}})
        # the legend's names short (one row under the image at 720p, so the image gets the rows' height), the hover's
        # in full; the photo model's one point set keeps its name whole
        full = LABELS.get(name) or f"ground truth, figure {name[-1]}"
        label = _short(name) if name in LABELS and name != "torchvision" else full
        data.append({"type": "scatter", "x": c[:, 0], "y": c[:, 1], "mode": "markers", "name": label,
                     "legendgroup": name, "text": list(pred.joint_names),
                     "hovertemplate": "%{text}: (%{x:.2f}, %{y:.2f})<extra>" + full + "</extra>",
                     "marker": {"color": col, "size": 11, "symbol": DECODER_SYMBOLS.get(key, "circle"),
                                "line": ({"color": "white", "width": 1.5} if not name.startswith("truth")
                                         else {"color": col, "width": 3})}})
    layout = {"xaxis": {"range": [0, S], "showgrid": False, "constrain": "domain", "title": {"text": "x (input px)"}},
              "yaxis": {"range": [S, 0], "showgrid": False, "scaleanchor": "x", "title": {"text": "y (input px)"}},
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0},
              "margin": {"l": 60, "r": 20, "t": 60, "b": 140}}
    warning = pred.extra.get("warning")
    if warning:  # on the figure itself, so it is seen wherever the figure is (presentation mode clamps text)
        layout["annotations"] = [{"text": "<br>".join(_wrap(warning, 70)), "xref": "paper", "yref": "paper",
                                  "x": 0.5, "y": 0.02, "xanchor": "center", "yanchor": "bottom", "showarrow": False,
                                  "align": "left", "bgcolor": "rgba(255,255,255,0.88)", "bordercolor": "#D55E00",
                                  "borderwidth": 2, "font": {"size": 14, "color": "#000000"}}]
    return figure(data, layout, title, height=600)


def _wrap(text: str, width: int) -> list[str]:
    lines, cur = [], ""
    for word in text.split():
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}".strip()
    return lines + ([cur] if cur else [])


def grid_figure(pred: Prediction, which: str = "heatmaps") -> go.Figure:
    """All K maps in one grid, one shared colour scale, joint names as titles, arg-max cell and integral point."""
    maps = pred.heatmaps if which == "heatmaps" else pred.probs
    K, H, W = maps.shape
    cols = 7
    rows = math.ceil(K / cols)
    names = [n.replace("_", " ") for n in pred.joint_names]
    axes, layout = subplot_grid(rows, cols, hspace=0.012, vspace=0.08, titles=names)
    zmin, zmax = float(np.nanmin(maps)), float(np.nanmax(maps))
    xc, yc = np.arange(W) + 0.5, np.arange(H) + 0.5
    am = pred.on_map("argmax")
    sa = pred.on_map("soft_argmax")
    data = []
    for k in range(K):
        xa, ya = axes[k]
        data.append({"type": "heatmap", "z": maps[k], "x": xc, "y": yc, "zmin": zmin, "zmax": zmax, "xaxis": xa,
                     "yaxis": ya, "coloraxis": "coloraxis", "hovertemplate": "(%{x}, %{y}): %{z:.3g}<extra></extra>"})
        data.append({"type": "scatter", "x": [am[k, 0]], "y": [am[k, 1]], "mode": "markers", "showlegend": k == 0,
                     "name": "arg-max cell", "legendgroup": "am", "xaxis": xa, "yaxis": ya,
                     "marker": {"symbol": "square-open", "size": 9, "color": DECODER_COLORS["argmax"],
                                "line": {"width": 2.5}}})
        data.append({"type": "scatter", "x": [sa[k, 0]], "y": [sa[k, 1]], "mode": "markers", "showlegend": k == 0,
                     "name": "integral point", "legendgroup": "sa", "xaxis": xa, "yaxis": ya,
                     "marker": {"symbol": "circle", "size": 8, "color": "white",
                                "line": {"color": DECODER_COLORS["soft_argmax"], "width": 2.5}}})
    for i, (xa, ya) in enumerate(axes):
        # no ticks: unlabelled tick marks said nothing (and hung below each map where its panel was widened)
        layout["xaxis" + xa[1:]].update(range=[0, W], showticklabels=False, ticks="", showgrid=False,
                                         constrain="domain")
        layout["yaxis" + ya[1:]].update(range=[H, 0], showticklabels=False, ticks="", showgrid=False,
                                         scaleanchor=xa)
    title = ("Heatmaps (raw head output)" if which == "heatmaps"
             else f"Probability maps: soft-max of β·heatmap over all {H}×{W} cells, β = {pred.beta:g}")
    layout |= {"coloraxis": {"colorscale": "Viridis", "colorbar": {"thickness": 14}},
               "legend": {"orientation": "h", "y": -0.06, "x": 0}, "margin": {"l": 10, "r": 10, "t": 70, "b": 40}}
    return figure(data, layout, title, height=150 + 170 * rows)


def zoom_figure(pred: Prediction, joint: int) -> go.Figure:
    """One joint's map at heatmap resolution with the cell grid: arg-max snaps to a cell centre, the integral
    estimate (and DARK) fall between cells. A window of 9x9 cells around the peak."""
    maps = pred.probs
    K, H, W = maps.shape
    if not 0 <= joint < K:
        raise UserInputError(f"Joint index must be in 0..{K - 1}, got {joint}.")
    m = maps[joint]
    st = pred.stride
    am = pred.on_map("argmax")[joint]
    cx, cy = int(am[0]), int(am[1])
    r = 4
    x0, x1 = max(0, cx - r), min(W, cx + r + 1)
    y0, y1 = max(0, cy - r), min(H, cy + r + 1)
    window = m[y0:y1, x0:x1]
    top = float(window.max()) if window.size else 1.0
    # the colour bar (two labels, at its ends) and the marks' legend share the right margin: the bar in its top
    # fifth, the legend (one short name a row) under it, so the zoomed map keeps the panel's height
    data = [{"type": "heatmap", "z": window, "x": np.arange(x0, x1) + 0.5, "y": np.arange(y0, y1) + 0.5,
             "colorscale": "Viridis", "zmin": 0.0, "zmax": top,
             "colorbar": {"thickness": 14, "tickmode": "array", "tickvals": [0.0, top],
                          "ticktext": ["p = 0", f"p = {top:.2g}"], "len": 0.2, "lenmode": "fraction",
                          "y": 1, "yanchor": "top", "x": 1.02, "xanchor": "left"},
             "hovertemplate": "cell (%{x}, %{y}): p = %{z:.3f}<extra></extra>"}]
    grid = {"color": "rgba(255,255,255,0.6)", "width": 1}
    shapes = ([{"type": "line", "x0": v, "x1": v, "y0": y0, "y1": y1, "line": grid} for v in range(x0, x1 + 1)] +
              [{"type": "line", "x0": x0, "x1": x1, "y0": v, "y1": v, "line": grid} for v in range(y0, y1 + 1)])
    marks = [(d, pred.on_map(d)[joint]) for d in decoders.DECODERS]
    if pred.truth is not None and not pred.map_coords:
        marks.append(("truth", pred.truth[joint] / st))
    for d, p in marks:
        data.append({"type": "scatter", "x": [float(p[0])], "y": [float(p[1])], "mode": "markers", "name": _short(d),
                     "hovertemplate": "(%{x:.2f}, %{y:.2f}) heatmap px<extra>" + LABELS[d] + "</extra>",
                     "marker": {"size": 16, "color": DECODER_COLORS[d], "symbol": DECODER_SYMBOLS[d],
                                "line": ({"color": "white", "width": 2} if d != "truth"
                                         else {"width": 3, "color": "black"})}})
    cell = f"heatmap px<br>(cell = {st:g}×{st:g} input px)" if not pred.map_coords else "cells of the 56×56 box map"
    layout = {"shapes": shapes,
              "xaxis": {"range": [x0, x1], "title": {"text": cell}, "showgrid": False,
                        "dtick": 1 if x1 - x0 <= 10 else 2},
              "yaxis": {"range": [y1, y0], "showgrid": False, "scaleanchor": "x", "dtick": 1 if y1 - y0 <= 10 else 2},
              "legend": {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 0, "yanchor": "bottom",
                         "tracegroupgap": 0},
              "margin": {"l": 40, "r": 20, "t": 60, "b": 60}}
    return figure(data, layout, f"Zoom on {pred.joint_names[joint].replace('_', ' ')}", height=520)


def _short(name: str) -> str:
    """A mark's name in the zoom's legend, short enough for one row beside the map (its hover names it in full):
    the label without its parenthesis ("integral (soft-argmax)" -> "integral")."""
    return {"argmax_quarter": "arg-max + ¼", "truth": "truth"}.get(name, LABELS[name].split(" (")[0])


def joint_table(pred: Prediction) -> pd.DataFrame:
    """Per joint: errors per decoder (when the truth is known), the map's shape (two-peak score, entropy, peak),
    the arg-max/integral distance, then every decoder's coordinates. What compares decoders comes first: a projector
    shows the table's first columns (the rest scroll, the CSV has them all)."""
    rows = []
    K = len(pred.joint_names)
    has_maps = pred.heatmaps is not None
    if has_maps:
        hm = torch.from_numpy(pred.heatmaps)[None]
        ent = decoders.entropy(hm, pred.beta)[0].numpy()
        tps = decoders.two_peak_score(hm, beta=pred.beta)[0].numpy()
        peak = pred.heatmaps.reshape(K, -1).max(1)
    for k in range(K):
        row = {"joint": pred.joint_names[k]}
        if pred.truth is not None:
            for d, c in pred.coords.items():
                row[f"error {d} px"] = round(float(np.linalg.norm(c[k] - pred.truth[k])), 2)
            if pred.visible is not None:
                row["visible"] = bool(pred.visible[k])
        if has_maps:
            row["two-peak score (soft-max)"] = round(float(tps[k]), 2)
            row["entropy (nats)"] = round(float(ent[k]), 2)
            row["peak"] = round(float(peak[k]), 3)
            row["|argmax - integral| px"] = round(float(np.linalg.norm(pred.coords["argmax"][k] -
                                                                       pred.coords["soft_argmax"][k])), 2)
        for d, c in pred.coords.items():
            row[f"{d} x"] = round(float(c[k, 0]), 2)
            row[f"{d} y"] = round(float(c[k, 1]), 2)
        rows.append(row)
    return pd.DataFrame(rows)


def summary_text(pred: Prediction) -> str:
    """A few sentences for the instructor: how far the decoders disagree, and errors when truth is known."""
    lines = []
    if "soft_argmax" in pred.coords:
        d = np.linalg.norm(pred.coords["argmax"] - pred.coords["soft_argmax"], axis=1)
        k = int(d.argmax())
        text = (f"arg-max and integral regression differ by **{d.mean():.2f} px** on average (input px); "
                f"most at **{pred.joint_names[k]}** ({d[k]:.2f} px).")
        cells = pred.on_map("argmax") - 0.5
        if pred.map_coords:  # the photo model: cells of a map over each person's box, not a grid of the image
            text += " Arg-max lands on a cell centre of the 56×56 map over the person's box."
        elif np.allclose(cells, np.round(cells), atol=1e-4):  # checked: every arg-max point is a cell centre
            text += (f" One heatmap cell is {pred.stride:g} px, so arg-max can only land on a grid of that pitch "
                     "(every arg-max point here is a cell centre).")
        lines.append(text)
    if pred.truth is not None:
        vis = pred.visible if pred.visible is not None else np.ones(len(pred.truth), bool)
        parts = []
        for dname, c in pred.coords.items():
            e = np.linalg.norm(c - pred.truth, axis=1)[vis]
            parts.append(f"{LABELS.get(dname, dname)} {e.mean():.2f} px")
        lines.append("Mean error to ground truth over visible joints: " + ", ".join(parts) + ".")
    return "\n\n".join(lines)


_MODEL_DASH = {m.name: {"regression": "dot", "integral": "dash"}.get(m.head, "solid") for m in MODELS.values()}


def occlusion_figure(rows: list[dict], joint: str, shape: str) -> go.Figure:
    """Mean error on the covered joint against the occluder's size: colour = decoder, line style = model."""
    data = []
    for (model, dec) in dict.fromkeys((r["model"], r["decoder"]) for r in rows):
        rs = [r for r in rows if r["model"] == model and r["decoder"] == dec]
        name = f"{model}: {LABELS.get(dec, dec)}"
        data.append({"type": "scatter", "x": [r["size"] for r in rs], "y": [r["mean_px"] for r in rs],
                     "mode": "lines+markers", "name": name,
                     "line": {"color": DECODER_COLORS.get(dec, "#333"), "width": 3, "dash": _MODEL_DASH.get(model, "solid")},
                     "marker": {"symbol": DECODER_SYMBOLS.get(dec, "circle"), "size": 9},
                     "hovertemplate": "%{x} px occluder: %{y:.2f} px<extra>" + name + "</extra>"})
    n = rows[0]["n"] if rows else 0
    what = "grey box" if shape == "box" else "limb-coloured bar"
    layout = {"xaxis": {"title": {"text": f"occluder size (px of the 128 px input; a {what} on the joint)"}},
              "yaxis": {"title": {"text": f"mean error on {joint.replace('_', ' ')} (px)"}, "rangemode": "tozero"},
              "legend": {"orientation": "v", "x": 1.02, "y": 1, "xanchor": "left"},
              "margin": {"l": 70, "r": 20, "t": 60, "b": 60}}
    return figure(data, layout, f"Covering the {joint.replace('_', ' ')}: {n} held-out renders, every bundled head",
                  height=460)


def occlusion_text(rows: list[dict], joint: str) -> str:
    worst = max(r["size"] for r in rows)
    clean = {(r["model"], r["decoder"]): r["mean_px"] for r in rows if r["size"] == 0}
    covered = {(r["model"], r["decoder"]): r["mean_px"] for r in rows if r["size"] == worst}
    parts = [f"{m} {LABELS.get(d, d)} {clean[(m, d)]:.1f} → **{covered[(m, d)]:.1f} px**" for (m, d) in clean]
    return (f"Mean error on the {joint.replace('_', ' ')} with no occluder → with a {worst} px occluder: "
            + "; ".join(parts) + f" ({rows[0]['n']} held-out renders where the joint is visible). A covered joint "
            "has no evidence under it: a heatmap head can only infer it from the limbs around it.")
