"""The head race: the lab's three keypoint heads trained side by side, from scratch, on the same data.

Three copies of the keypoint core's ``KeypointNet`` (same backbone, same initial backbone weights, one head
each: direct regression, heatmap + arg-max, integral regression) see the same mini-batches in the same
order. Every few steps each is evaluated on the same held-out renders, so the curves compare the heads and
nothing else. Smaller than the bundled models (64 px images, width 16, a few hundred steps) so that it runs
live on a 2-core CPU; on a GPU the larger settings fit the same time.

The losses (each head's own, chosen by the person):
- coordinates (regression, integral): L1 |ŷ − y| or L2 |ŷ − y|², in units of the output stride (integral) or
  the image size (regression), the photo-model-free analogue of the bundled models' training;
- heatmap: MSE to a Gaussian of σ = 1 cell (weighted up near the keypoint, as ``keypoints.training``), or
  cross-entropy between soft-max(map) over all cells and the normalised Gaussian (classification over cells).

Arg-max's quantisation floor: a keypoint uniform within its cell of side s (input px) lies on average
0.3826·s from the cell's centre, so a perfect arg-max decoder still errs by 0.38·stride px on average
(docs/facts.md 1.4).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

import demos.keypoints as kp
from demos.common.rng import seeded
from demos.keypoints.data import gaussian_targets

HEADS = ("regression", "heatmap", "integral")
HEAD_LABELS = {"regression": "direct regression", "heatmap": "heatmap + arg-max", "integral": "integral regression"}
COORD_LOSSES = ("l1", "l2")
HEATMAP_LOSSES = ("mse", "ce")
# mean distance of a point uniform in the unit square from its centre: (sqrt(2) + asinh(1)) / 6
UNIFORM_CELL_MEAN = (math.sqrt(2) + math.asinh(1)) / 6
FG_WEIGHT = 20.0
JOINT = kp.JOINTS.index("l_wrist")  # the joint whose maps the race shows


def argmax_floor(stride: int) -> float:
    """Mean error (input px) of a perfect arg-max decoder: the keypoint uniform in its stride x stride cell."""
    return UNIFORM_CELL_MEAN * stride


@dataclass
class Race:
    size: int = 64
    stride: int = 4
    steps: int = 200
    coord_loss: str = "l1"
    heatmap_loss: str = "mse"
    width: int = 16
    batch: int = 16
    lr: float = 3e-3
    pool: int = 800  # training renders (seeds 0..pool-1, disjoint from the held-out seeds)
    n_eval: int = 64  # held-out renders the error curves use
    seed: int = 0
    evals: int = 10  # evaluations over the run (plus one at step 0)


@dataclass
class Snapshot:
    step: int
    steps: int
    seconds: float
    loss: dict[str, list[float]]  # per head, one value per step (its own loss)
    error: dict[str, list[tuple[int, float]]]  # per head, (step, mean held-out error in input px)
    image: np.ndarray  # the held-out image shown (S, S, 3) uint8
    truth: np.ndarray  # its keypoints (K, 2)
    coords: dict[str, np.ndarray]  # per head, its prediction on that image (K, 2)
    maps: dict[str, np.ndarray]  # heatmap: raw map; integral: soft-max probabilities (for JOINT)
    n_eval: int = 0
    final: list[dict] = field(default_factory=list)  # at the end: rows per head and decoder


def head_loss(model, out: dict, kps: torch.Tensor, inside: torch.Tensor, coord_loss: str, heatmap_loss: str):
    w = inside.float()
    denom = w.sum().clamp_min(1.0)
    if model.head_type == "heatmap":
        hm = out["heatmaps"]
        tgt = gaussian_targets(kps, hm.shape[-1], model.stride, model.sigma)
        if heatmap_loss == "ce":  # classification over cells: cross-entropy to the normalised Gaussian
            t = tgt.flatten(-2)
            t = t / t.sum(-1, keepdim=True).clamp_min(1e-12)
            per = -(t * F.log_softmax(hm.flatten(-2), -1)).sum(-1)
        else:
            per = 100.0 * ((1.0 + FG_WEIGHT * tgt) * (hm - tgt) ** 2).mean((-1, -2))
        return (per * w).sum() / denom
    scale = model.stride if model.head_type == "integral" else float(model.input_size)
    d = (out["coords"] - kps) / scale
    per = d.abs().sum(-1) if coord_loss == "l1" else (d ** 2).sum(-1)
    return (per * w).sum() / denom


def data(cfg: Race):
    imgs, kps, _ = kp.dataset(range(cfg.pool), "default", cfg.size)
    h_imgs, h_kps, h_vis = kp.dataset(kp.heldout_seeds(cfg.n_eval), "default", cfg.size)
    return (kp.to_tensor(imgs), torch.from_numpy(kps).float(),
            (kp.to_tensor(h_imgs), torch.from_numpy(h_kps).float(), torch.from_numpy(h_vis)), h_imgs)


def build(cfg: Race, device) -> dict:
    models = {}
    for head in HEADS:
        with seeded(cfg.seed):  # the same initial backbone for all three
            models[head] = kp.KeypointNet(head=head, stride=cfg.stride, width=cfg.width, input_size=cfg.size).to(device)
    return models


@torch.no_grad()
def _evaluate(models, held, device, show: int):
    X, KP, VIS = held
    errors, coords, maps = {}, {}, {}
    for name, m in models.items():
        m.eval()
        out = m(X.to(device))
        c = out["coords"].cpu()
        errors[name] = float((c - KP).norm(dim=-1)[VIS].mean())
        coords[name] = c[show].numpy()
        if name == "heatmap":
            maps[name] = out["heatmaps"][show, JOINT].cpu().numpy()
        elif name == "integral":
            maps[name] = kp.softmax2d(out["heatmaps"][show:show + 1, JOINT:JOINT + 1].cpu(), m.beta)[0, 0].numpy()
        m.train()
    return errors, coords, maps


@torch.no_grad()
def final_rows(models, held, device) -> list[dict]:
    """Every head with its own decoding, and the heatmap heads with arg-max and soft-argmax both."""
    X, KP, VIS = held
    rows = []
    for name, m in models.items():
        m.eval()
        out = m(X.to(device))
        size = m.input_size
        if name == "regression":
            rows.append({"head": name, "decoder": "direct", **kp.metrics(out["coords"].cpu(), KP, VIS, size)})
            continue
        for dec in ("argmax", "soft_argmax"):
            pred = kp.decode_all(m, out["heatmaps"].cpu(), dec)
            rows.append({"head": name, "decoder": dec, **kp.metrics(pred, KP, VIS, size)})
    return rows


def run(cfg: Race, device="cpu", should_stop=lambda: False):
    """Train the three heads step by step; yields a ``Snapshot`` at step 0, every steps/evals steps and at the end
    (its ``final`` rows filled)."""
    X, KP, held, h_imgs = data(cfg)
    inside = ((KP >= 0) & (KP < cfg.size)).all(-1)
    X, KP, inside = X.to(device), KP.to(device), inside.to(device)
    models = build(cfg, device)
    opts = {h: torch.optim.AdamW(m.parameters(), lr=cfg.lr, weight_decay=1e-4) for h, m in models.items()}
    scheds = {h: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.15)
              for h, o in opts.items()}
    g = torch.Generator().manual_seed(cfg.seed)
    loss = {h: [] for h in HEADS}
    error = {h: [] for h in HEADS}
    show = 3  # held-out render shown (a figure with both wrists in the frame)
    every = max(1, cfg.steps // cfg.evals)
    t0 = time.perf_counter()

    def snapshot(step, final=False):
        errs, coords, maps = _evaluate(models, held, device, show)
        for h in HEADS:
            error[h].append((step, errs[h]))
        s = Snapshot(step, cfg.steps, time.perf_counter() - t0, loss, error, h_imgs[show], held[1][show].numpy(),
                     coords, maps, cfg.n_eval)
        if final:
            s.final = final_rows(models, held, device)
        return s

    yield snapshot(0)
    for step in range(1, cfg.steps + 1):
        idx = torch.randint(0, X.shape[0], (cfg.batch,), generator=g).to(device)
        x, y, ins = X[idx], KP[idx], inside[idx]
        for h, m in models.items():
            l = head_loss(m, m(x), y, ins, cfg.coord_loss, cfg.heatmap_loss)
            opts[h].zero_grad(set_to_none=True)
            l.backward()
            opts[h].step()
            scheds[h].step()
            loss[h].append(float(l.detach()))
        if step == cfg.steps or should_stop():
            yield snapshot(step, final=True)
            return
        if step % every == 0:
            yield snapshot(step)


# -- the time budget -------------------------------------------------------------------------------------------
# Measured in the app on the 2-core CPU this lab is built on (one torch thread per request, see
# demos/common/device.configure_threads): one step of all three heads at 64 px, width 16, batch 16 takes about
# 0.2 s; the cost grows with the image area.
CPU_SECONDS_PER_STEP_64 = 0.2
CPU_BUDGET_S = 70.0


def estimate_seconds(size: int, steps: int, device_type: str = "cpu") -> float:
    per_step = CPU_SECONDS_PER_STEP_64 * (size / 64) ** 2
    if device_type != "cpu":
        per_step /= 10  # a GPU runs these small nets at least ten times faster (launch-bound)
    return 3.0 + steps * per_step  # plus rendering and caching the data on a first run
