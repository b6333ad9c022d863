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

The webcam, as a stream (``camera_step`` and below): the same decoders on each frame, a bounded history, and with
no truth the jitter of a track against itself one frame late (its change of velocity), with the same function.

Plain numpy/torch/plotly, no Gradio.
"""

from __future__ import annotations

import time

import numpy as np
import torch

import demos.keypoints as kp
from demos.common.plotstyle import figure, plain, subplot_grid

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


def decode_maps(model, hms) -> dict[str, np.ndarray]:
    """Every lab decoder's (T, K, 2) estimates in input px on a model's heatmaps (T, K, H, W)."""
    return {d: kp.decode_all(model, hms, d).numpy().astype(np.float64) for d in kp.DECODERS}


def decode_frames(model_name: str, images: np.ndarray) -> dict[str, np.ndarray]:
    """Every lab decoder's (T, K, 2) estimates in input px on the model's heatmaps of these frames."""
    model = kp.get_model(model_name)
    _, hms = kp.predict_heatmaps(model, images)
    return decode_maps(model, hms)


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
            parts.append(f"On the track drawn (the {name}'s x, first figure) arg-max did not move at all while the "
                         f"joint moved {moved:.1f} px: it only moves in steps of one cell ({stride} px).")
            # still here, yet a jitter well above the truth's own motion (all a never-moving estimate can score):
            # its one-cell jumps happened on other joints or figures
            if mean["argmax"] > 1.5 * res.get("speed", np.inf):
                parts.append(f"The table counts every joint of every figure: there its one-cell jumps add up to "
                             f"{mean['argmax']:.2f} px/frame.")
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


# -- the webcam as a stream ---------------------------------------------------------------------------------------
# Each frame: the model runs once, every decoder reads its maps (``decode_maps``, as for the rendered figure), and
# the frame's estimates join a bounded history. With no truth, the jitter of a track is its velocity error against
# the previous frame's velocity (what a figure moving at constant velocity would show: none), i.e. the RMS second
# difference: ``jitter`` of the track against the same track one frame late. Everything is in camera px (the
# frame as the page sent it), so a cell of the map is ``stride`` x the frame's shrink factor wide.

KEEP = 60  # frames of history per session
GAP_S = 5.0  # a pause longer than this between two frames starts a new history (a jump is not jitter); frames of
# a stream came 0.1-1.2 s apart on a loaded 2-core machine
MIN_FRAMES = 6  # fewest frames for a jitter number and its spread (two halves of at least two second differences)
SHRINK = 2  # a frame is first shrunk by a whole factor to at most SHRINK x the model's input side (box average)


def jitter_no_truth(track: np.ndarray) -> float:
    """``jitter`` of a (T, K, 2) track against itself one frame late: the RMS over frames and joints of
    ``(x[t+2] - x[t+1]) - (x[t+1] - x[t])``, the change of velocity from one frame to the next (px per frame)."""
    return jitter(track[1:], track[:-1], np.ones(track.shape[1], bool))


def camera_input(img, size: int) -> tuple[np.ndarray, dict]:
    """(the model's input (size, size, 3) uint8, the geometry back to the frame's px) for a PIL frame: a whole-factor
    box shrink (``Image.reduce``) to at most SHRINK x size, then the keypoints tab's letterbox."""
    w, h = img.size
    k = max(1, max(w, h) // (SHRINK * size))
    small = img.reduce(k) if k > 1 else img
    ws, hs = small.size
    side = max(ws, hs)
    arr = np.array(kp.analysis.letterbox(small, size))  # writable: torch wraps it
    return arr, {"scale": side / size, "ox": (side - ws) // 2, "oy": (side - hs) // 2, "fx": w / ws, "fy": h / hs}


def to_camera(xy: np.ndarray, g: dict) -> np.ndarray:
    """(..., 2) model input px -> the frame's px (undo the letterbox's resize and padding, then the shrink)."""
    out = np.empty_like(xy, dtype=np.float64)
    out[..., 0] = (xy[..., 0] * g["scale"] - g["ox"]) * g["fx"]
    out[..., 1] = (xy[..., 1] * g["scale"] - g["oy"]) * g["fy"]
    return out


def camera_step(model_name: str, img, history: dict | None, clock=time.time) -> dict:
    """The history with this frame added (a new dict; at most KEEP frames). A new history starts when the model or the
    frame's size changed, or when this frame arrived more than GAP_S seconds after the last one was done."""
    arrived = clock()
    model = kp.get_model(model_name)
    arr, g = camera_input(img, model.input_size)
    _, hms = kp.predict_heatmaps(model, arr[None])
    coords = decode_maps(model, hms)  # {decoder: (1, K, 2)} input px
    score = kp.analysis.peak_score(hms[0].numpy(), model.head_type, float(model.beta))
    reference = np.asarray(kp.analysis.ood_reference(model))
    key = [model_name, int(img.size[0]), int(img.size[1])]
    names = tuple(coords)
    old = history if isinstance(history, dict) else None
    if old is None or old.get("key") != key or old.get("decoders") != names or arrived - old.get("time", -np.inf) > GAP_S:
        old = {"n": 0, "frame": np.zeros(0, int), "coords": np.zeros((0, len(names), len(kp.JOINTS), 2)),
               "peak": np.zeros(0), "share": np.zeros(0)}
    new = np.stack([to_camera(coords[d][0], g) for d in names])[None]  # (1, D, K, 2)
    cell = float(model.stride) * g["scale"]
    return {"key": key, "decoders": names, "time": float(clock()), "n": old["n"] + 1,
            "frame": np.append(old["frame"], old["n"])[-KEEP:],
            "coords": np.concatenate([old["coords"], new])[-KEEP:],
            "peak": np.append(old["peak"], score)[-KEEP:],
            "share": np.append(old["share"], float(np.mean(reference > score)))[-KEEP:],
            "cell": (cell * g["fx"], cell * g["fy"]), "head": model.head_type, "references": len(reference),
            "model": model_name}


def camera_tracks(history: dict, joint: int) -> dict[str, np.ndarray]:
    """Each decoder's (T, 2) track of one joint, in the frame's px."""
    return {d: history["coords"][:, i, joint] for i, d in enumerate(history["decoders"])}


def camera_stats(tracks: dict[str, np.ndarray]) -> dict:
    """Per decoder: the jitter over all frames, and over the first and over the second half of the frames' second
    differences (the spread the sentence compares against). Needs at least MIN_FRAMES frames."""
    out = {}
    for d, tr in tracks.items():
        p = np.asarray(tr, dtype=np.float64)[:, None, :]  # (T, 1, 2)
        m = (len(p) - 2) // 2  # second differences 0..m-1 in the first half, m..T-3 in the second
        out[d] = {"jitter": jitter_no_truth(p), "halves": (jitter_no_truth(p[:m + 2]), jitter_no_truth(p[m:]))}
    return out


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def order_sentence(stats: dict, frames: int) -> str:
    """Which decoder jitters least, and arg-max against soft-argmax: an order only where it holds in both halves of
    the frames (each decoder's better half above the other's worse half); "within the spread" otherwise."""
    lab = kp.DECODER_LABELS
    names = list(stats)
    j = {d: stats[d]["jitter"] for d in names}
    lo = {d: min(stats[d]["halves"]) for d in names}
    hi = {d: max(stats[d]["halves"]) for d in names}
    best = min(names, key=j.get)
    rest = [d for d in names if d != best]
    parts = [f"Over the last {frames} frames (spread: each decoder's jitter over the first and over the second half of "
             "them):"]
    if rest and all(hi[best] < lo[d] for d in rest):
        parts.append(f"**{lab[best]}** jitters least, {j[best]:.2f} px per frame; its jitter in either half "
                     f"({lo[best]:.2f}–{hi[best]:.2f}) is below every other decoder's in either half.")
    elif rest:
        tied = [d for d in rest if lo[d] <= hi[best]]
        parts.append(f"the lowest jitter is {lab[best]}'s, {j[best]:.2f} px per frame, within the spread of "
                     + ", ".join(lab[d] for d in tied) + ".")
    a, s = "argmax", "soft_argmax"
    if a in stats and s in stats:
        if lo[a] > hi[s]:
            parts.append(f"{_cap(lab[a])} jitters more than {lab[s]} in both halves.")
        elif hi[a] < lo[s]:
            parts.append(f"{_cap(lab[a])} jitters less than {lab[s]} in both halves.")
        else:
            parts.append(f"{_cap(lab[a])} and {lab[s]} are within the spread of each other.")
    return " ".join(parts)


def staircase_sentence(track: np.ndarray, cell: tuple[float, float], joint_name: str) -> str:
    """How arg-max's (T, 2) track moved: frame steps with a jump, and whether every jump is whole cells."""
    steps_ = len(track) - 1
    moved = int((np.abs(np.diff(track, axis=0)) > 1e-6).any(1).sum())
    size = f"{cell[0]:.3g}" if abs(cell[0] - cell[1]) < 0.05 * cell[0] else f"{cell[0]:.3g} × {cell[1]:.3g}"
    if moved == 0:
        return (f"Arg-max's {joint_name} did not move in {steps_} frame steps: it moves only in whole cells "
                f"({size} camera px here).")
    whole = staircase(track[:, 0], cell[0])["whole_strides"] and staircase(track[:, 1], cell[1])["whole_strides"]
    kind = "every jump a whole number of cells" if whole else "not every jump a whole number of cells"
    return (f"Arg-max's {joint_name} jumped in {moved} of {steps_} frame steps ({kind}; one cell is {size} camera px "
            f"here) and stood still in the other {steps_ - moved}.")


def unlike_sentence(history: dict) -> str:
    """One sentence when the last frame's maps peak lower than on at least the keypoints tab's OOD_SHARE of the
    held-out renders (its out-of-distribution score), with what works instead; "" otherwise."""
    share, limit = history["share"], kp.analysis.OOD_SHARE
    if share[-1] < limit:
        return ""
    what = "heatmap peaks" if history["head"] == "heatmap" else "peak probabilities"
    return (f"The last frame looks unlike the training renders ({what}, median over joints "
            f"{history['peak'][-1]:.2f}, lower than on {share[-1]:.0%} of {history['references']} held-out renders; "
            f"{int((share >= limit).sum())} of the last {len(share)} frames were), so these tracks may follow noise: "
            "hold a printed or phone-displayed example figure (the Keypoints tab's, demos/keypoints/examples/) upright "
            "in front of the camera, filling most of the picture.")


def camera_summary(history: dict, joint: int) -> str:
    """The webcam panel's text: the order (or "within the spread"), arg-max's jumps, the out-of-distribution
    sentence, and the table of jitters."""
    name = kp.JOINTS[joint].replace("_", " ")
    frames = len(history["frame"])
    unlike = unlike_sentence(history)
    if frames < MIN_FRAMES:
        text = f"{frames} of the {MIN_FRAMES} frames a jitter number and its spread need have arrived."
        return f"**{unlike}**\n\n{text}" if unlike else text
    tracks = camera_tracks(history, joint)
    stats = camera_stats(tracks)
    parts = [order_sentence(stats, frames)]
    if "argmax" in tracks:
        parts.append(staircase_sentence(tracks["argmax"], history["cell"], name))
    text = " ".join(parts)
    if unlike:
        text = f"**{unlike}**\n\n{text}"
    lines = [f"| decoder | jitter of the {name} (camera px per frame) | first half | second half |",
             "|---|---|---|---|"]
    for d, s in stats.items():
        lines.append(f"| {kp.DECODER_LABELS[d]} | {s['jitter']:.3f} | {s['halves'][0]:.3f} | {s['halves'][1]:.3f} |")
    return text + "\n\n" + "\n".join(lines)


def figure_camera(history: dict, joint: int):
    """x and y of one joint over the last frames, one line per decoder (plain data: rebuilt on every frame)."""
    t = history["frame"].tolist()
    reg = kp.DECODER_REGISTRY
    name = kp.JOINTS[joint].replace("_", " ")
    ((ax_x, ay_x), (ax_y, ay_y)), layout = subplot_grid(2, 1, 0.0, 0.12)
    data = []
    for d, tr in camera_tracks(history, joint).items():
        for axis, (xa, ya) in enumerate(((ax_x, ay_x), (ax_y, ay_y))):
            data.append({"type": "scatter", "x": t, "y": tr[:, axis].tolist(), "name": reg[d].label, "legendgroup": d,
                         "showlegend": axis == 0, "mode": "lines+markers", "xaxis": xa, "yaxis": ya,
                         "line": {"color": reg[d].colour, "width": 3, "shape": "hv" if d == "argmax" else "linear"},
                         "marker": {"symbol": reg[d].marker, "size": 6}})
    layout["xaxis"] |= {"showticklabels": False, "matches": "x2"}
    span = max(1, t[-1] - t[0]) if t else 1
    layout["xaxis2"] |= {"title": {"text": "frame"}, "tick0": 0, "dtick": max(1, int(np.ceil(span / 6)))}
    layout["yaxis"] |= {"title": {"text": "x (camera px)"}}
    layout["yaxis2"] |= {"title": {"text": "y (camera px)"}}
    layout |= {"legend": {"orientation": "h", "y": -0.22, "x": 0}, "margin": {"l": 70, "r": 20, "t": 50, "b": 40},
               "uirevision": "webcam"}
    title = f"{name} from the webcam, last {len(t)} frames ({history['model']})"
    return plain(data, layout, title, height=470)
