"""Real two-peak failures: the symmetric model on its held-out set, ranked by two-peak score, plus remedies.

The symmetric data draw left and right limbs alike, so for every left/right joint the heatmap model learns
two peaks (one at each candidate). This module decodes those heatmaps with the plain integral, arg-max and
the lecture's remedies, and measures each on the held-out set. ``scripts/mine_bimodal.py`` runs it once and
writes ``pretrained/<model>/two_peak_cases.json``, which the tab reads.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
import demos.keypoints as kp


MODEL = kp.model_for("two_peaks_mining").name
CACHE_NAME = "two_peak_cases.json"
BETA = kp.DEFAULT_HEATMAP_BETA
FAR_PX = 6.4  # 5 % of the 128 px image: "far from both peaks"
FALLBACK_SCORE = 0.5
LARGE_BETA_FACTOR = 5
RADIUS = 2


def remedies(beta: float = BETA, radius: int = RADIUS, threshold: float = FALLBACK_SCORE,
             large_beta_factor: float = LARGE_BETA_FACTOR) -> dict:
    """name -> (decoder, beta, radius, description); "fallback@t" = arg-max where the two-peak score > t."""
    w = 2 * radius + 1
    return {
        "integral": ("soft_argmax", beta, radius, f"soft-argmax over the whole map, β = {beta:g}"),
        "arg-max": ("argmax", beta, radius, "best cell (no remedy, for reference)"),
        "windowed integral": ("soft_argmax_windowed", beta, radius,
                              f"soft-argmax in a {w}×{w} window around the arg-max, β = {beta:g}"),
        "larger β": ("soft_argmax", large_beta_factor * beta, radius,
                     f"soft-argmax over the whole map, β = {large_beta_factor * beta:g}"),
        "fallback to arg-max": (f"fallback@{threshold}", beta, radius,
                                f"integral, but arg-max where the two-peak score > {threshold:g}"),
    }


REMEDIES = remedies()
# the cached defaults also show a stricter fallback threshold
REMEDIES["fallback, score > 0.95"] = ("fallback@0.95", BETA, RADIUS,
                                      "integral, but arg-max where the two-peak score > 0.95")


def decode(hm: torch.Tensor, method: str, beta: float, score: torch.Tensor | None = None,
           radius: int = RADIUS) -> torch.Tensor:
    if method.startswith("fallback@"):
        threshold = float(method.split("@")[1])
        a = kp.argmax(hm)
        s = kp.soft_argmax(hm, beta)
        return torch.where((score > threshold).unsqueeze(-1), a, s)
    return kp.decode(hm, method, beta=beta, radius=radius)


def mine(n: int = 300, model_name: str = MODEL, top: int = 12, remedy_set: dict | None = None) -> dict:
    """Run the model over n held-out symmetric images; rank left/right joints by two-peak score and measure
    each remedy of ``remedy_set`` (default: REMEDIES)."""
    remedy_set = remedy_set or REMEDIES
    t0 = time.time()
    model = kp.get_model(model_name)
    images, truth, vis = kp.dataset(kp.heldout_seeds(n), "symmetric", model.input_size)
    _, hms = kp.predict_heatmaps(model, images)
    S, H = model.input_size, hms.shape[-1]
    scale = S / H
    score = kp.two_peak_score(hms)
    kp_t = torch.from_numpy(truth)
    mirror = kp_t[:, list(kp.FLIP)]
    sided = torch.zeros(len(kp.JOINTS), dtype=torch.bool)
    sided[list(kp.LEFT + kp.RIGHT)] = True
    mask = torch.from_numpy(vis) & sided[None]
    preds = {}
    for name, (method, beta, radius, _) in remedy_set.items():
        preds[name] = decode(hms, method, beta, score, radius) * scale
    rows = []
    for name, p in preds.items():
        e = (p - kp_t).norm(dim=-1)[mask]
        e_sym = torch.minimum((p - kp_t).norm(dim=-1), (p - mirror).norm(dim=-1))[mask]
        far = ((p - kp_t).norm(dim=-1) > FAR_PX) & ((p - mirror).norm(dim=-1) > FAR_PX)
        # "far from both" only means something where the two candidates are themselves apart
        apart = ((kp_t - mirror).norm(dim=-1) > 2 * FAR_PX) & mask
        rows.append({"remedy": name, "description": remedy_set[name][3], "mean_px": float(e.mean()),
                     "worst_px": float(e.max()), "p95_px": float(e.quantile(0.95)),
                     "mean_nearest_px": float(e_sym.mean()), "far_from_both": int((far & apart).sum()),
                     "pairs": int(apart.sum())})
    flat = torch.where(mask, score, torch.full_like(score, -1)).flatten()
    order = flat.argsort(descending=True)[:top]
    cases = []
    for idx in order.tolist():
        i, k = divmod(idx, len(kp.JOINTS))
        cases.append({
            "seed": kp.heldout_seeds(n)[i], "index": i, "joint": kp.JOINTS[k], "k": k,
            "score": float(score[i, k]), "truth": truth[i, k].tolist(), "mirror": mirror[i, k].tolist(),
            "pred": {name: p[i, k].tolist() for name, p in preds.items()},
        })
    return {"model": model_name, "n_images": n, "joints_scored": int(mask.sum()), "beta": BETA, "far_px": FAR_PX,
            "fallback_score": FALLBACK_SCORE, "remedies": rows, "cases": cases,
            "score_histogram": np.histogram(score[mask].numpy(), bins=10, range=(0, 1))[0].tolist(),
            "seconds": round(time.time() - t0, 1), "created": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def cache_path(model_name: str = MODEL) -> Path:
    return kp.PRETRAINED / model_name / CACHE_NAME


def load_cached(model_name: str = MODEL) -> dict | None:
    p = cache_path(model_name)
    if p.is_file():
        return json.loads(p.read_text())
    return None


def markdown_table(res: dict) -> str:
    lines = ["| remedy | mean error (px) | worst (px) | 95th pct (px) | error to nearest of L/R (px) | "
             f"far (> {res['far_px']} px) from both joints |", "|---|---|---|---|---|---|"]
    for r in res["remedies"]:
        lines.append(f"| {r['remedy']} | {r['mean_px']:.2f} | {r['worst_px']:.1f} | {r['p95_px']:.1f} | "
                     f"{r['mean_nearest_px']:.2f} | {r['far_from_both']} / {r['pairs']} |")
    return "\n".join(lines)
