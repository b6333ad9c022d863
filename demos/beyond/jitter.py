"""Jitter over time: a figure moving by a fraction of a pixel per frame, decoded frame by frame.

The renderer draws a still figure (it has no translation), so a moving figure is made like this: render the
figure once at ``FACTOR`` times the input size (keypoints scale exactly with it), shift that large image by a
whole number of its pixels per frame (one large pixel = 1/FACTOR input px), and average each FACTOR x FACTOR
block down to the input size, then round to 8-bit as a camera would. The block average of a shifted image is
the exact area-sampled image at a sub-pixel offset: no interpolation kernel, so no frame-to-frame blur change
that a decoder could mistake for motion. The edge column is repeated into the uncovered strip.

Jitter number: the root-mean-square, over frames and visible joints, of the error of the velocity,
``(pred[t+1] - pred[t]) - (true[t+1] - true[t])`` in input px per frame: 0 for a decoder whose estimate moves
exactly as the figure does, whatever its constant offset.

Plain numpy/torch/plotly, no Gradio.
"""

from __future__ import annotations

import numpy as np
import torch

import demos.keypoints as kp
from demos.common.plotstyle import figure

FACTOR = 10  # the large render is FACTOR x the input size: steps of 1/FACTOR input px
FIGURES = 3  # figures per measurement: the spread the sentences compare against


def moving_frames(seed: int, frames: int, speed: float, size: int = kp.DEFAULT_SIZE, factor: int = FACTOR):
    """(images (T, S, S, 3) uint8, keypoints (T, K, 2) input px, visible (K,) bool over all frames, direction).

    The figure moves horizontally by ``speed`` input px per frame (a multiple of 1/factor) toward the image's
    centre line, so it stays in view."""
    step = int(round(speed * factor))
    if step < 1 or abs(step - speed * factor) > 1e-6:
        raise ValueError(f"speed must be a positive multiple of {1 / factor:g} px, got {speed}")
    big = kp.render(seed, size=size * factor)
    kp_big = big.keypoints.astype(np.float64)
    direction = 1 if float(np.mean(kp_big[:, 0])) < size * factor / 2 else -1
    total = step * (frames - 1)
    # rows first: the vertical block average does not depend on a horizontal shift, so it is done once
    rows = big.image.astype(np.float32).reshape(size, factor, size * factor, 3).mean(1)
    pad = np.pad(rows, ((0, 0), (total, total), (0, 0)), mode="edge")
    out = np.empty((frames, size, size, 3), np.uint8)
    truth = np.empty((frames, kp_big.shape[0], 2))
    for t in range(frames):
        s = direction * step * t  # content moves by s large px: new[x] = old[x - s]
        crop = pad[:, total - s: total - s + size * factor]
        out[t] = np.clip(np.rint(crop.reshape(size, size, factor, 3).mean(2)), 0, 255).astype(np.uint8)
        truth[t] = (kp_big + np.array([s, 0.0])) / factor
    visible = big.visible & np.all((truth >= 0) & (truth < size), axis=(0, 2))
    return out, truth, visible, direction


def jitter(pred: np.ndarray, truth: np.ndarray, visible: np.ndarray) -> float:
    """RMS over frames and visible joints of |(pred[t+1]-pred[t]) - (true[t+1]-true[t])| (px per frame)."""
    dv = np.diff(pred, axis=0) - np.diff(truth, axis=0)  # (T-1, K, 2)
    return float(np.sqrt((dv[:, visible] ** 2).sum(-1).mean()))


def mean_error(pred: np.ndarray, truth: np.ndarray, visible: np.ndarray) -> float:
    return float(np.linalg.norm(pred - truth, axis=-1)[:, visible].mean())


def decode_frames(model_name: str, images: np.ndarray) -> dict[str, np.ndarray]:
    """Every lab decoder's (T, K, 2) estimates in input px on the model's heatmaps of these frames."""
    model = kp.get_model(model_name)
    _, hms = kp.predict_heatmaps(model, images)
    return {d: kp.decode_all(model, hms, d).numpy().astype(np.float64) for d in kp.DECODERS}


def measure(model_name: str, seed: int, frames: int, speed: float, figures: int = FIGURES) -> dict:
    """Trajectories of the first figure, and per decoder the jitter and mean error on each of ``figures``
    figures (seeds seed, seed + 1, ...)."""
    runs = []
    for i in range(figures):
        images, truth, visible, direction = moving_frames(seed + i, frames, speed)
        preds = decode_frames(model_name, images)
        runs.append({"images": images, "truth": truth, "visible": visible, "preds": preds, "direction": direction})
    stats = {d: {"jitter": [jitter(r["preds"][d], r["truth"], r["visible"]) for r in runs],
                 "error": [mean_error(r["preds"][d], r["truth"], r["visible"]) for r in runs]} for d in kp.DECODERS}
    return {"runs": runs, "stats": stats, "stride": kp.get_model(model_name).stride, "model": model_name,
            "speed": speed, "frames": frames}


def steps(track: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """The nonzero frame-to-frame changes of a 1-D track."""
    d = np.diff(track)
    return d[np.abs(d) > tol]


def staircase(track: np.ndarray, stride: float) -> dict:
    """How an arg-max track moves: its nonzero steps and whether each is a whole number of strides."""
    s = steps(track)
    whole = bool(np.all(np.abs(s / stride - np.rint(s / stride)) < 1e-6)) if len(s) else True
    return {"n_steps": int(len(s)), "frames_still": int(len(track) - 1 - len(s)), "whole_strides": whole,
            "largest": float(np.abs(s).max()) if len(s) else 0.0}


def synthetic_track(speed: float, frames: int, size: int = 32, sigma: float = 1.0, start: float = 10.3,
                    decoders=None) -> dict[str, np.ndarray]:
    """x of each decoder on clean Gaussian heatmaps (height 1, beta of the lab's heatmap models) moving by
    ``speed`` cells per frame, and the truth: the arg-max staircase without any model."""
    xs = start + speed * np.arange(frames)
    mu = torch.tensor(np.stack([xs, np.full(frames, size / 2 + 0.3)], 1), dtype=torch.float32)
    maps = kp.gaussian_targets(mu[:, None], size, 1.0, sigma)  # (T, 1, H, W)
    out = {"truth": xs}
    for d in decoders or kp.DECODERS:
        out[d] = kp.decode(maps, d, beta=kp.DEFAULT_HEATMAP_BETA, sigma=sigma)[:, 0, 0].numpy().astype(np.float64)
    return out


def summary(res: dict, joint: int) -> str:
    """The jitter table's sentences, each checked against the numbers it interprets."""
    stats, stride = res["stats"], res["stride"]
    names = list(stats)
    mean = {d: float(np.mean(stats[d]["jitter"])) for d in names}
    lo = {d: float(np.min(stats[d]["jitter"])) for d in names}
    hi = {d: float(np.max(stats[d]["jitter"])) for d in names}
    best = min(names, key=lambda d: mean[d])
    rest = [d for d in names if d != best]
    parts = []
    if rest and all(hi[best] < lo[d] for d in rest):
        parts.append(f"Lowest jitter: **{kp.DECODER_LABELS[best]}** ({mean[best]:.2f} px/frame; its worst figure "
                     f"{hi[best]:.2f} is below every other decoder's best).")
    else:
        tied = [d for d in rest if lo[d] <= hi[best]]
        parts.append(f"Lowest mean jitter: {kp.DECODER_LABELS[best]} ({mean[best]:.2f} px/frame), within the spread "
                     f"over {len(stats[best]['jitter'])} figures of " + ", ".join(kp.DECODER_LABELS[d] for d in tied) + ".")
    if "argmax" in stats:
        run = res["runs"][0]
        track = run["preds"]["argmax"][:, joint, 0]
        st = staircase(track, stride)
        name = kp.JOINTS[joint].replace("_", " ")
        moved = abs(run["truth"][-1, joint, 0] - run["truth"][0, joint, 0])
        if st["n_steps"] == 0:
            parts.append(f"Arg-max did not move at all while the {name} moved {moved:.1f} px: "
                         f"it only moves in steps of one cell ({stride} px).")
        else:
            kind = f"every one a whole number of cells ({stride} px each)" if st["whole_strides"] else "not all whole cells"
            parts.append(f"Arg-max's {name} moved in {st['n_steps']} jumps ({kind}) and stood still in "
                         f"{st['frames_still']} of {len(track) - 1} frame steps, while the joint moved {moved:.1f} px "
                         "smoothly.")
    return " ".join(parts)


def table(res: dict) -> str:
    lines = ["| decoder | jitter (px/frame), mean | min–max over figures | mean error (px) |", "|---|---|---|---|"]
    for d, s in res["stats"].items():
        lines.append(f"| {kp.DECODER_LABELS[d]} | {np.mean(s['jitter']):.3f} | {np.min(s['jitter']):.3f}–"
                     f"{np.max(s['jitter']):.3f} | {np.mean(s['error']):.2f} |")
    return "\n".join(lines)


def figure_tracks(res: dict, joint: int):
    """x of one joint over the frames of the first figure: the truth and every decoder."""
    run = res["runs"][0]
    t = list(range(len(run["truth"])))
    reg = kp.DECODER_REGISTRY
    data = [{"type": "scatter", "x": t, "y": run["truth"][:, joint, 0].tolist(), "name": "truth", "mode": "lines",
             "line": {"color": "#000000", "width": 2, "dash": "dash"}}]
    for d, p in run["preds"].items():
        data.append({"type": "scatter", "x": t, "y": p[:, joint, 0].tolist(), "name": reg[d].label,
                     "mode": "lines+markers", "line": {"color": reg[d].colour, "width": 3,
                                                       "shape": "hv" if d == "argmax" else "linear"},
                     "marker": {"symbol": reg[d].marker, "size": 7}})
    layout = {"xaxis": {"title": {"text": "frame"}},
              "yaxis": {"title": {"text": f"x of the {kp.JOINTS[joint].replace('_', ' ')} (input px)"}},
              "legend": {"orientation": "h", "y": -0.2, "x": 0}, "margin": {"l": 70, "r": 20, "t": 50, "b": 40}}
    title = f"{kp.JOINTS[joint].replace('_', ' ')}, figure moving {res['speed']:g} px per frame ({res['model']})"
    return figure(data, layout, title, height=470)


def figure_frames(res: dict, joint: int):
    """The first and last frame of the first figure, with the joint's true track."""
    run = res["runs"][0]
    imgs = run["images"]
    both = np.concatenate([imgs[0], np.full((imgs.shape[1], 4, 3), 255, np.uint8), imgs[-1]], axis=1)
    S = imgs.shape[1]
    tr = run["truth"][:, joint]
    data = [{"type": "image", "z": both.tolist()},
            {"type": "scatter", "x": (tr[:, 0] - 0.5).tolist(), "y": (tr[:, 1] - 0.5).tolist(), "mode": "lines",
             "name": "true track", "line": {"color": "#ffffff", "width": 3}},
            {"type": "scatter", "x": (tr[-1:, 0] - 0.5 + S + 4).tolist(), "y": (tr[-1:, 1] - 0.5).tolist(),
             "mode": "markers", "name": kp.JOINTS[joint], "marker": {"symbol": "x-thin", "size": 14,
                                                                    "line": {"width": 3, "color": "#ffffff"}}}]
    layout = {"xaxis": {"visible": False}, "yaxis": {"visible": False, "scaleanchor": "x"}, "showlegend": False,
              "margin": {"l": 10, "r": 10, "t": 50, "b": 10}}
    return figure(data, layout, "first and last frame", height=300)
