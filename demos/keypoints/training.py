"""Training and evaluation of the lab's keypoint models (used by scripts/train.py and scripts/evaluate.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import torch

from . import data, decoders, simcc
from .models import KeypointNet

CACHE = Path(os.environ.get("KPLAB_CACHE", Path.home() / ".cache" / "kplab"))


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, S, S, 3) uint8 -> (N, 3, S, S) float in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)


def dataset(seeds, variant: str, size: int = data.DEFAULT_SIZE, cache: bool = True):
    """Rendered (images, keypoints, visible) for the seeds, cached on disk by (range, variant, size)."""
    seeds = list(seeds)
    key = f"{variant}_{size}_{seeds[0]}_{seeds[-1]}_{len(seeds)}.npz"
    path = CACHE / key
    if cache and path.exists():
        z = np.load(path)
        return z["images"], z["keypoints"], z["visible"]
    out = data.render_batch(seeds, size, variant)
    if cache:
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, images=out[0], keypoints=out[1], visible=out[2])
        os.replace(tmp, path)
    return out


FG_WEIGHT = 20.0
# MSE heatmaps peak near 1 over a background near 0: soft-max at beta=1 would be nearly flat (the
# centre pull of soft-argmax, docs/facts.md 1.1), so heatmap models are soft-argmax-decoded at this inverse temperature
# (beta multiplies the logits; T = 1/beta).
DEFAULT_HEATMAP_BETA = 20.0


def loss_fn(model: KeypointNet, out: dict, kp: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """Per-head loss over the joints that lie inside the image (occluded ones included)."""
    w = inside.float()
    denom = w.sum().clamp_min(1.0)
    if model.head_type == "simcc":  # cross-entropy against 1-D Gaussian targets along x and y (simcc.loss)
        per = simcc.loss(out["simcc_x"], out["simcc_y"], kp)
        return (per * w).sum() / denom
    if model.head_type == "heatmap":
        hs = out["heatmaps"].shape[-1]
        tgt = data.gaussian_targets(kp, hs, model.stride, model.sigma)
        # MSE, with the cells near the keypoint weighted up (1 + 20 * target): plain MSE on maps that are
        # 99 % background sits at the all-zero solution for hundreds of steps on a CPU budget.
        per = ((1.0 + FG_WEIGHT * tgt) * (out["heatmaps"] - tgt) ** 2).mean((-1, -2))
        return 100.0 * (per * w).sum() / denom
    scale = model.stride if model.head_type == "integral" else float(model.input_size)
    per = (out["coords"] - kp).abs().sum(-1) / scale
    return (per * w).sum() / denom


def train(model: KeypointNet, images, keypoints, steps: int = 1500, batch: int = 32, lr: float = 2e-3,
          weight_decay: float = 1e-4, seed: int = 0, progress: bool = True, log_every: int = 100):
    """AdamW + one-cycle cosine schedule on a fixed pool of rendered images (sampled with replacement)."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    X = to_tensor(images)
    KP = torch.from_numpy(keypoints).float()
    S = X.shape[-1]
    inside = ((KP >= 0) & (KP < S)).all(-1)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    model.train()
    hist = []
    t0 = time.time()
    for step in range(steps):
        idx = torch.randint(0, X.shape[0], (batch,), generator=g)
        x = X[idx]
        # photometric jitter: brightness/contrast, so models are less tied to the renderer's palette
        a = 1 + 0.2 * (torch.rand(batch, 1, 1, 1, generator=g) - 0.5)
        b = 0.1 * (torch.rand(batch, 1, 1, 1, generator=g) - 0.5)
        x = (x * a + b).clamp(0, 1)
        out = model(x)
        loss = loss_fn(model, out, KP[idx], inside[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        hist.append(loss.item())
        if progress and (step % log_every == 0 or step == steps - 1):
            print(f"train {model.head_type}/s{model.stride}: step {step + 1}/{steps}, loss {np.mean(hist[-20:]):.4f}, "
                  f"{time.time() - t0:.0f} s", flush=True)
    model.eval()
    return {"loss_history": hist, "seconds": time.time() - t0}


@torch.no_grad()
def predict_outputs(model: KeypointNet, images: np.ndarray, batch: int = 64) -> dict[str, torch.Tensor]:
    """Run the model on uint8 images in batches; every output it gives (see ``KeypointNet.forward``), on the CPU."""
    model.eval()
    device = next(model.parameters()).device
    parts: dict[str, list[torch.Tensor]] = {}
    for i in range(0, len(images), batch):
        for k, v in model(to_tensor(images[i:i + batch]).to(device)).items():
            parts.setdefault(k, []).append(v.cpu())
    return {k: torch.cat(v) for k, v in parts.items()}


def predict_heatmaps(model: KeypointNet, images: np.ndarray, batch: int = 64):
    """Run the model on uint8 images; returns (coords (N, K, 2) input px, heatmaps or None)."""
    out = predict_outputs(model, images, batch)
    return out["coords"], out.get("heatmaps")


def predict_simcc(model: KeypointNet, images: np.ndarray, batch: int = 64):
    """Run a SimCC model on uint8 images; returns its x and y bin logits, (N, K, W·k) and (N, K, H·k)."""
    out = predict_outputs(model, images, batch)
    return out["simcc_x"], out["simcc_y"]


def decode_all(model: KeypointNet, heatmaps: torch.Tensor, decoder: str, beta: float | None = None,
               input_size: tuple[int, int] | None = None, **kw) -> torch.Tensor:
    """Decode a model's heatmaps with any decoder, in input pixels.

    ``beta`` defaults to the model's own: 1 for integral models (their maps are logits), and for MSE heatmap
    models an inverse temperature (T = 1/beta) that turns a peak of height ~1 into a sharp distribution (see README).
    """
    if beta is None:
        beta = model.beta if model.head_type == "integral" else DEFAULT_HEATMAP_BETA
    kw.setdefault("log_domain", model.head_type == "integral")  # integral maps are logits (DARK needs to know)
    c = decoders.decode(heatmaps, decoder, beta=beta, sigma=model.sigma, **kw)
    size = input_size or (model.input_size, model.input_size)
    return decoders.to_input_pixels(c, heatmaps.shape[-2:], size)



def metrics(pred: torch.Tensor, kp: torch.Tensor, visible: torch.Tensor, size: int) -> dict:
    """Mean and median error (input px) and PCK at 5 % and 10 % of the image size, over visible joints."""
    err = (pred - kp).norm(dim=-1)[visible]
    return {
        "mean_px": float(err.mean()),
        "median_px": float(err.median()),
        "pck5": float((err <= 0.05 * size).float().mean()),
        "pck10": float((err <= 0.10 * size).float().mean()),
        "n": int(err.numel()),
    }


def evaluate_model(model: KeypointNet, n: int = 500, decoders_=None, variant: str | None = None) -> list[dict]:
    """Rows (decoder, mean_px, pck5, pck10, n) for one model on the fixed held-out set."""
    variant = variant or model.variant
    images, kp, vis = dataset(data.heldout_seeds(n), variant, model.input_size)
    kp_t, vis_t = torch.from_numpy(kp), torch.from_numpy(vis)
    if model.head_type == "simcc":
        lx, ly = predict_simcc(model, images)
        return [{"decoder": dec, **metrics(simcc.decode_xy(lx, ly, dec), kp_t, vis_t, model.input_size)}
                for dec in simcc.DECODERS]
    coords, hms = predict_heatmaps(model, images)
    rows = []
    if hms is None:
        rows.append({"decoder": "direct", **metrics(coords, kp_t, vis_t, model.input_size)})
        return rows
    for dec in decoders_ or decoders.DECODERS:
        pred = decode_all(model, hms, dec)
        rows.append({"decoder": dec, **metrics(pred, kp_t, vis_t, model.input_size)})
    return rows

