"""Several figures in one image: bottom-up (all peaks, then group them) against top-down (one crop per figure).

Both use the same single-figure heatmap model and the same sub-cell rule (arg-max + a quarter cell toward the
larger neighbour, the lab's ``argmax_quarter``), so they differ only in how figures are separated.

- **Bottom-up**: the model runs once on the whole scene. Per joint, every local maximum of its map (3x3) above
  ``threshold`` is a candidate, after non-maximum suppression (a candidate within ``NMS_CELLS`` cells of a higher
  one is dropped). Grouping is greedy along the skeleton tree, rooted at the neck: every neck candidate starts a
  figure; for each bone (parent -> child) the (figure, child candidate) pairs no longer than ``MAX_BONE`` of the
  map's side are taken in order of the candidate's peak height (ties: the shorter bone first), each figure and
  candidate once. A reach limit and "the strongest joint of the next kind within reach is mine": no learned
  association (measured on 6 scenes per count, this order beat "the nearest candidate first" at every threshold
  tried, 0.2-0.4, for 1 and 2 figures).
- **Top-down**: each figure's box comes from its ground-truth keypoints (a perfect detector, whose own cost is
  not counted), squared and enlarged by ``BOX_MARGIN``, cropped, resized to the model's input and run as one
  batch; estimates are mapped back to the scene.

Accuracy: predicted figures are matched to true figures (the assignment with the least total neck distance);
a joint counts as correct within ``PCK`` of its figure's size (the longer side of its keypoints' box). Cost:
CPU milliseconds of each pipeline (see :func:`timed`; median of ``REPEATS`` runs per scene).

Plain numpy/torch/plotly, no Gradio.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import demos.keypoints as kp
from demos.common.plotstyle import PALETTE, figure

NECK = kp.JOINTS.index("neck")
# The skeleton as a tree rooted at the neck, (parent, child), parents before children.
TREE = ((1, 0), (1, 2), (1, 3), (2, 4), (4, 6), (3, 5), (5, 7), (2, 8), (3, 9), (8, 10), (10, 12), (9, 11),
        (11, 13))
NMS_CELLS = 2
MAX_BONE = 0.4
BOX_MARGIN = 0.15
PCK = 0.1
REPEATS = 3
FIGURE_COUNTS = (1, 2, 3)


# -- peaks ------------------------------------------------------------------------------------------------------

def peaks(hm: torch.Tensor, threshold: float, nms: int = NMS_CELLS) -> list[np.ndarray]:
    """Per joint, an (n, 3) array of candidates (x, y in heatmap cells, score), highest first.

    ``hm``: (K, H, W). Local maxima of a 3x3 window at or above ``threshold``; a candidate within ``nms`` cells
    (Chebyshev) of a higher kept one is dropped; each kept one moves 0.25 cell toward its larger neighbour on
    each axis (the ``argmax_quarter`` rule)."""
    K, H, W = hm.shape
    pooled = F.max_pool2d(hm[None], 3, stride=1, padding=1)[0]
    out = []
    for k in range(K):
        m = hm[k].detach()
        ys, xs = torch.nonzero((m >= pooled[k]) & (m >= threshold), as_tuple=True)
        order = torch.argsort(m[ys, xs], descending=True)
        kept = []
        for i in order.tolist():
            x, y = int(xs[i]), int(ys[i])
            if all(max(abs(x - a), abs(y - b)) > nms for a, b, _ in kept):
                kept.append((x, y, float(m[y, x])))
        rows = []
        for x, y, s in kept:
            dx = 0.0 if not 0 < x < W - 1 else 0.25 * float(np.sign(float(m[y, x + 1] - m[y, x - 1])))
            dy = 0.0 if not 0 < y < H - 1 else 0.25 * float(np.sign(float(m[y + 1, x] - m[y - 1, x])))
            rows.append((x + 0.5 + dx, y + 0.5 + dy, s))
        out.append(np.array(rows, dtype=np.float64).reshape(-1, 3))
    return out


def group(cands: list[np.ndarray], max_bone: float, key=None) -> np.ndarray:
    """Greedy grouping along ``TREE`` (see the module's docstring): (F, K, 2) with NaN for joints not found.
    ``key(height, length)``: the pairs' order (default: the higher candidate first, then the shorter bone)."""
    n_fig = len(cands[NECK])
    figs = np.full((n_fig, len(cands), 2), np.nan)
    if n_fig == 0:
        return figs
    figs[:, NECK] = cands[NECK][:, :2]
    for parent, child in TREE:
        c = cands[child]
        pairs = []
        for f in range(n_fig):
            if np.isnan(figs[f, parent, 0]):
                continue
            for j in range(len(c)):
                d = float(np.hypot(*(c[j, :2] - figs[f, parent])))
                if d <= max_bone:
                    pairs.append(((-c[j, 2], d) if key is None else key(c[j, 2], d), f, j))
        used_f, used_j = set(), set()
        for _, f, j in sorted(pairs):
            if f in used_f or j in used_j:
                continue
            figs[f, child] = c[j, :2]
            used_f.add(f)
            used_j.add(j)
    return figs


def bottom_up(model, image: np.ndarray, threshold: float) -> np.ndarray:
    """(F, K, 2) input px: one pass over the scene, peaks, greedy grouping."""
    out = model(kp.to_tensor(np.array(image[None])))
    hm = out["heatmaps"][0]
    cands = peaks(hm, threshold)
    s = model.input_size / hm.shape[-1]
    return group(cands, MAX_BONE * hm.shape[-1]) * s


def boxes(keypoints: np.ndarray, visible: np.ndarray, size: int) -> np.ndarray:
    """(F, 3): square boxes (x0, y0, side) around each figure's joints inside the image, enlarged by BOX_MARGIN."""
    out = []
    for p, v in zip(keypoints, visible):
        q = p[v] if v.any() else p
        lo, hi = q.min(0), q.max(0)
        side = float((hi - lo).max()) * (1 + 2 * BOX_MARGIN) + 4.0
        c = (lo + hi) / 2
        out.append((c[0] - side / 2, c[1] - side / 2, side))
    return np.array(out)


def top_down(model, image: np.ndarray, bxs: np.ndarray) -> np.ndarray:
    """(F, K, 2) input px: one crop per box, resized to the model's input, one batch, mapped back."""
    S = model.input_size
    pil = Image.fromarray(image)
    crops = [np.array(pil.transform((S, S), Image.EXTENT, (x0, y0, x0 + side, y0 + side), Image.BILINEAR))
             for x0, y0, side in bxs]
    out = model(kp.to_tensor(np.stack(crops)))
    pred = kp.decode_all(model, out["heatmaps"], "argmax_quarter").numpy().astype(np.float64)  # crop px
    scale = bxs[:, 2:3] / S
    return pred * scale[:, None] + bxs[:, None, :2]


# -- scoring ----------------------------------------------------------------------------------------------------

def match(pred: np.ndarray, truth: np.ndarray) -> list[int | None]:
    """For each true figure, the index of its predicted figure (or None): the assignment with the least total
    neck distance (a missing neck counts as the image side)."""
    n_t, n_p = len(truth), len(pred)
    far = 1e6

    def cost(t, p):
        d = np.linalg.norm(pred[p, NECK] - truth[t, NECK])
        return far if np.isnan(d) else float(d)

    best, best_c = [None] * n_t, np.inf
    for perm in itertools.permutations(list(range(n_p)) + [None] * n_t, n_t):
        c = sum(far if p is None else cost(t, p) for t, p in enumerate(perm))
        if c < best_c:
            best, best_c = list(perm), c
    return best


def score(pred: np.ndarray, truth: np.ndarray, visible: np.ndarray) -> dict:
    """{correct, found, mean_px, n}: over visible true joints; a joint not found counts as wrong."""
    assign = match(pred, truth)
    correct = found = n = 0
    errs = []
    for t, p in enumerate(assign):
        q = truth[t][visible[t]]
        size = float((q.max(0) - q.min(0)).max()) if len(q) else 1.0
        for k in np.flatnonzero(visible[t]):
            n += 1
            if p is None or np.isnan(pred[p, k, 0]):
                continue
            found += 1
            e = float(np.linalg.norm(pred[p, k] - truth[t, k]))
            errs.append(e)
            correct += e <= PCK * size
    return {"correct": correct / max(n, 1), "found": found / max(n, 1),
            "mean_px": float(np.mean(errs)) if errs else float("nan"), "n": n}


def timed(fn, repeats: int = REPEATS):
    """(result, median milliseconds) of ``fn()`` over ``repeats`` runs: the CPU time of the calling thread, which
    runs the whole pipeline when torch has one thread (as the lab's requests do), so other work on the machine
    does not inflate it; with more torch threads it counts only the caller's share."""
    ms = []
    for _ in range(repeats):
        t0 = time.thread_time()
        res = fn()
        ms.append(1000 * (time.thread_time() - t0))
    return res, float(np.median(ms))


@torch.no_grad()
def measure(model_name: str, scenes: int, threshold: float, counts=FIGURE_COUNTS, seed0: int = 0) -> list[dict]:
    """Rows {figures, method, correct, found, mean_px, ms} per scene: both pipelines on the same scenes."""
    model = kp.get_model(model_name)
    rows = []
    for f in counts:
        for i in range(scenes):
            sc = kp.render_scene(seed0 + i, f, size=model.input_size)
            bu, ms_bu = timed(lambda: bottom_up(model, sc.image, threshold))
            bx = boxes(sc.keypoints, sc.visible, model.input_size)
            td, ms_td = timed(lambda: top_down(model, sc.image, bx))
            for method, pred, ms in (("bottom-up", bu, ms_bu), ("top-down", td, ms_td)):
                rows.append({"figures": f, "scene": seed0 + i, "method": method, "ms": ms,
                             "predicted_figures": len(pred), **score(pred, sc.keypoints, sc.visible)})
    return rows


# -- what the panel says --------------------------------------------------------------------------------------

METHODS = ("bottom-up", "top-down")
COLOURS = {"bottom-up": PALETTE[1], "top-down": PALETTE[0]}


def aggregate(rows: list[dict]) -> list[dict]:
    """Per (figures, method): mean, min and max over scenes of the correct fraction and the milliseconds."""
    out = []
    for f in sorted({r["figures"] for r in rows}):
        for m in METHODS:
            rs = [r for r in rows if r["figures"] == f and r["method"] == m]
            c = np.array([r["correct"] for r in rs])
            ms = np.array([r["ms"] for r in rs])
            out.append({"figures": f, "method": m, "correct": float(c.mean()), "correct_lo": float(c.min()),
                        "correct_hi": float(c.max()), "ms": float(np.median(ms)), "ms_lo": float(ms.min()),
                        "ms_hi": float(ms.max()), "scenes": len(rs),
                        "predicted_figures": float(np.mean([r["predicted_figures"] for r in rs]))})
    return out


def compare(a: dict, b: dict, key: str, lo: str, hi: str) -> str:
    """'higher' / 'lower' when the ranges over scenes do not overlap, else 'within the spread'."""
    if a[lo] > b[hi]:
        return "higher"
    if a[hi] < b[lo]:
        return "lower"
    return "within the spread"


def summary(agg: list[dict]) -> str:
    """One sentence per figure count; an order only where the ranges over scenes do not overlap."""
    parts = []
    for f in sorted({r["figures"] for r in agg}):
        bu = next(r for r in agg if r["figures"] == f and r["method"] == "bottom-up")
        td = next(r for r in agg if r["figures"] == f and r["method"] == "top-down")
        acc = compare(bu, td, "correct", "correct_lo", "correct_hi")
        cost = compare(bu, td, "ms", "ms_lo", "ms_hi")
        acc_text = (f"bottom-up's correct fraction is {acc} than top-down's over every scene" if acc != "within the spread"
                    else "their correct fractions overlap over the scenes")
        cost_text = (f"bottom-up's cost is {cost} on every scene" if cost != "within the spread"
                     else "their costs overlap")
        parts.append(f"**{f} figure{'s' * (f > 1)}** ({bu['scenes']} scenes): {100 * bu['correct']:.0f} % vs "
                     f"{100 * td['correct']:.0f} % of joints correct, {bu['ms']:.0f} ms vs {td['ms']:.0f} ms "
                     f"(bottom-up vs top-down); {acc_text}, and {cost_text}.")
    return " ".join(parts)


def table(agg: list[dict]) -> str:
    lines = ["| figures | method | joints correct (mean, min–max over scenes) | figures found | ms (median, min–max) |",
             "|---|---|---|---|---|"]
    for r in agg:
        lines.append(f"| {r['figures']} | {r['method']} | {100 * r['correct']:.0f} % ({100 * r['correct_lo']:.0f}–"
                     f"{100 * r['correct_hi']:.0f}) | {r['predicted_figures']:.1f} | {r['ms']:.0f} "
                     f"({r['ms_lo']:.0f}–{r['ms_hi']:.0f}) |")
    return "\n".join(lines)


def figure_curves(agg: list[dict]):
    """Accuracy and cost against the number of figures, with the range over scenes as error bars."""
    data = []
    for m in METHODS:
        rs = [r for r in agg if r["method"] == m]
        x = [r["figures"] for r in rs]
        data.append({"type": "scatter", "x": x, "y": [100 * r["correct"] for r in rs], "name": f"{m}: joints correct",
                     "mode": "lines+markers", "line": {"color": COLOURS[m], "width": 3},
                     "error_y": {"type": "data", "symmetric": False,
                                 "array": [100 * (r["correct_hi"] - r["correct"]) for r in rs],
                                 "arrayminus": [100 * (r["correct"] - r["correct_lo"]) for r in rs]}})
        data.append({"type": "scatter", "x": x, "y": [r["ms"] for r in rs], "name": f"{m}: ms", "yaxis": "y2",
                     "mode": "lines+markers", "line": {"color": COLOURS[m], "width": 3, "dash": "dot"},
                     "marker": {"symbol": "square"},
                     "error_y": {"type": "data", "symmetric": False, "array": [r["ms_hi"] - r["ms"] for r in rs],
                                 "arrayminus": [r["ms"] - r["ms_lo"] for r in rs]}})
    layout = {"xaxis": {"title": {"text": "figures in the image"}, "tickvals": list(FIGURE_COUNTS)},
              "yaxis": {"title": {"text": f"joints correct (%, within {PCK:g} × figure size)"}, "range": [0, 105]},
              "yaxis2": {"title": {"text": "CPU ms per image (dotted)"}, "overlaying": "y", "side": "right",
                         "showgrid": False, "rangemode": "tozero"},
              "legend": {"orientation": "h", "y": -0.22, "x": 0}, "margin": {"l": 70, "r": 70, "t": 50, "b": 40}}
    return figure(data, layout, "Bottom-up vs top-down as figures are added", height=470)


def figure_scene(model_name: str, seed: int, figures: int, threshold: float):
    """One scene with both pipelines' skeletons: bottom-up's groups, each in its own colour, and top-down's."""
    model = kp.get_model(model_name)
    sc = kp.render_scene(seed, figures, size=model.input_size)
    with torch.no_grad():
        bu = bottom_up(model, sc.image, threshold)
        td = top_down(model, sc.image, boxes(sc.keypoints, sc.visible, model.input_size))
    S = model.input_size
    both = np.concatenate([sc.image, np.full((S, 4, 3), 255, np.uint8), sc.image], axis=1)
    data = [{"type": "image", "z": both.tolist()}]
    for off, pred, name in ((0, bu, "bottom-up"), (S + 4, td, "top-down")):
        for f, p in enumerate(pred):
            xs, ys = [], []
            for a, b in kp.SKELETON:
                if not (np.isnan(p[a, 0]) or np.isnan(p[b, 0])):
                    xs += [p[a, 0] - 0.5 + off, p[b, 0] - 0.5 + off, None]
                    ys += [p[a, 1] - 0.5, p[b, 1] - 0.5, None]
            data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": f"{name} figure {f + 1}",
                         "line": {"color": PALETTE[(f + 1) % 7 if name == "bottom-up" else 0], "width": 3}})
    layout = {"xaxis": {"visible": False}, "yaxis": {"visible": False, "scaleanchor": "x"}, "showlegend": False,
              "margin": {"l": 10, "r": 10, "t": 50, "b": 10}}
    found = f"{len(bu)} figure{'s' * (len(bu) != 1)}"
    return figure(data, layout, f"left: bottom-up, {found} found · right: top-down, {len(td)} boxes", height=330)
