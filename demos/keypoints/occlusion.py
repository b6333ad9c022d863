"""Occlusion, an open question of the lecture: cover one joint and measure how each head and decoder responds.

The occluder (``data.occlude``) is drawn over held-out renders at the joint's true position, at growing sizes;
every bundled model runs on the same images, so the curves compare heads and decoders on the same pixels.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from . import data, decoders
from .hub import get_model
from .registry import models_for
from .training import decode_all

SIZES = (0, 8, 16, 24, 32, 40, 48)  # occluder side, input px of the 128 px image
CURVE_MODELS = tuple(m.name for m in models_for("occlusion_curve"))
CURVE_DECODERS = decoders.decoders_for("occlusion_curve")
N_IMAGES = 48


@functools.lru_cache(maxsize=8)
def curve(joint: str, shape: str, n: int = N_IMAGES, sizes=SIZES, models=CURVE_MODELS) -> list[dict]:
    """Rows {model, decoder, size, mean_px, median_px, n}: the error on ``joint`` (input px) when an occluder of
    each size covers it, over the first ``n`` held-out renders where the joint is visible."""
    j = data.JOINTS.index(joint)
    samples = [s for s in (data.render(seed) for seed in data.heldout_seeds(3 * n)) if s.visible[j]][:n]
    truth = torch.from_numpy(np.stack([s.keypoints[j] for s in samples]))
    rows = []
    for name in models:
        m = get_model(name)
        device = next(m.parameters()).device
        for size in sizes:
            imgs = np.stack([data.occlude(s.image, s.keypoints[j], size, shape) for s in samples])
            x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float().div(255).to(device)
            with torch.no_grad():
                out = {k: v.cpu() for k, v in m(x).items()}
            if "heatmaps" not in out:
                preds = {"direct": out["coords"]}
            else:
                preds = {d: decode_all(m, out["heatmaps"], d) for d in CURVE_DECODERS}
            for d, p in preds.items():
                e = (p[:, j] - truth).norm(dim=-1)
                rows.append({"model": name, "decoder": d, "size": size, "mean_px": float(e.mean()),
                             "median_px": float(e.median()), "n": len(samples)})
    return rows


def response(before: dict, after: dict, j: int, beta: float, size: int) -> dict:
    """How one joint's output changed when it was covered: raw outputs ``before`` / ``after`` of one model."""
    centre = torch.tensor([size / 2, size / 2])
    out = {}
    if "heatmaps" in before:
        hb, ha = before["heatmaps"][:, j:j + 1].float(), after["heatmaps"][:, j:j + 1].float()
        pb, pa = decoders.softmax2d(hb, beta), decoders.softmax2d(ha, beta)
        out["peak"] = (float(pb.max()), float(pa.max()))  # of the probability map
        out["raw_peak"] = (float(hb.max()), float(ha.max()))  # of the map itself (an MSE heatmap's height)
        out["two_peak"] = (float(decoders.two_peak_score(hb, beta=beta)), float(decoders.two_peak_score(ha, beta=beta)))
        out["entropy"] = (float(decoders.entropy(hb, beta)), float(decoders.entropy(ha, beta)))  # nats
        s = size / hb.shape[-1]
        out["stride"] = float(s)  # input px per heatmap cell: arg-max moves in steps of this
        am_b = decoders.argmax(hb)[0, 0] * s
        am_a = decoders.argmax(ha)[0, 0] * s
        sa_b = decoders.soft_argmax(hb, beta)[0, 0] * s
        sa_a = decoders.soft_argmax(ha, beta)[0, 0] * s
        out["argmax_jump"] = float((am_a - am_b).norm())
        out["integral_moved"] = float((sa_a - sa_b).norm())
        out["toward_centre"] = float((sa_b - centre).norm() - (sa_a - centre).norm())
    else:
        cb, ca = before["coords"][0, j], after["coords"][0, j]
        out["direct_moved"] = float((ca - cb).norm())
        out["toward_centre"] = float((cb - centre).norm() - (ca - centre).norm())
    return out
