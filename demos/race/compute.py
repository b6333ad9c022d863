"""The head race: the lab's four keypoint heads trained side by side, from scratch, on the same data, over seeds.

For each seed, four copies of the keypoint core's ``KeypointNet`` (the same backbone with the same initial
weights, one head each: direct regression, heatmap + arg-max, integral regression, SimCC) see the same
mini-batches in the same order, so within a seed the heads differ in nothing but the head. Across seeds the
initial weights and the order of the batches change: the spread over seeds is how much a head's result moves
for reasons that have nothing to do with the head, and the race states an order between two heads only where
the gap between them exceeds that spread (:func:`verdict`). Every few steps each model is evaluated on the same
held-out renders. Smaller than the bundled models (64 px images, width 8, a few hundred steps) so that it runs
live on a 2-core CPU.

The losses (each head's own, chosen by the person):
- coordinates (regression, integral): L1 |ŷ − y| or L2 |ŷ − y|², in units of the output stride (integral) or
  the image size (regression), as the bundled models' training;
- heatmap: the bundled models' weighted MSE to a Gaussian of σ = 1 cell, 100 · mean((1 + 20·t)(h − t)²) (the
  cells near the keypoint weighted up), or cross-entropy between soft-max(map) over all cells and the
  normalised Gaussian (classification over cells);
- SimCC: cross-entropy of its x and y bin soft-maxes against 1-D Gaussians (``demos.keypoints.simcc``).

Arg-max's quantisation floor: a keypoint uniform within its cell of side s (input px) lies on average
0.3826·s from the cell's centre, so a perfect arg-max decoder still errs by 0.38·stride px on average
(docs/facts.md 1.4).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

import demos.keypoints as kp
from demos.common.rng import seeded
from demos.keypoints import gaussian_targets, simcc

HEADS = ("regression", "heatmap", "integral", "simcc")
HEAD_LABELS = {"regression": "direct regression", "heatmap": "heatmap + arg-max", "integral": "integral regression",
               "simcc": "SimCC (1-D bins)"}
OWN = {"regression": "direct", "heatmap": "argmax", "integral": "soft_argmax", "simcc": "argmax"}  # own decoding
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
    steps: int = 100
    seeds: int = 3
    coord_loss: str = "l1"
    heatmap_loss: str = "mse"
    width: int = 8
    batch: int = 16
    lr: float = 3e-3
    pool: int = 800  # training renders (seeds 0..pool-1, disjoint from the held-out seeds)
    n_eval: int = 64  # held-out renders the error curves use
    evals: int = 6  # evaluations over the run (plus one at step 0)


@dataclass
class Snapshot:
    step: int
    steps: int
    seconds: float
    seeds: int
    loss: dict[str, list[float]]  # per head, seed 0's loss at every step (its own loss)
    error: dict[str, list[tuple[int, list[float]]]]  # per head, (step, held-out error per seed, input px)
    image: np.ndarray  # the held-out image shown (S, S, 3) uint8
    truth: np.ndarray  # its keypoints (K, 2)
    coords: dict[str, np.ndarray]  # per head, seed 0's prediction on that image (K, 2)
    maps: dict[str, np.ndarray]  # seed 0's maps of JOINT: heatmap raw, integral soft-max, SimCC's x ⊗ y soft-max
    parameters: dict[str, int]  # per head
    n_eval: int = 0
    final: list[dict] = field(default_factory=list)  # at the end: one row per head, decoder and seed


def head_loss(model, out: dict, kps: torch.Tensor, inside: torch.Tensor, coord_loss: str, heatmap_loss: str):
    w = inside.float()
    denom = w.sum().clamp_min(1.0)
    if model.head_type == "simcc":
        return (simcc.loss(out["simcc_x"], out["simcc_y"], kps) * w).sum() / denom
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


def build(cfg: Race, device, seed: int = 0) -> dict:
    """One model per head; the backbones start from the same weights (drawn from ``seed``)."""
    models = {}
    for head in HEADS:
        with seeded(seed):
            models[head] = kp.KeypointNet(head=head, stride=cfg.stride, width=cfg.width, input_size=cfg.size).to(device)
    return models


def batches(cfg: Race, seed: int):
    """The mini-batch indices of one seed, step by step: every head of that seed trains on these."""
    g = torch.Generator().manual_seed(seed)
    for _ in range(cfg.steps):
        yield torch.randint(0, cfg.pool, (cfg.batch,), generator=g)


def decode(name: str, m, out: dict, decoder: str) -> torch.Tensor:
    """A head's output decoded by ``decoder`` (its own, or arg-max / soft-argmax for the map and bin heads)."""
    if name == "regression":
        return out["coords"].cpu()
    if name == "simcc":
        return simcc.decode_xy(out["simcc_x"].cpu(), out["simcc_y"].cpu(), decoder)
    return kp.decode_all(m, out["heatmaps"].cpu(), decoder)


def shown_map(name: str, m, out: dict, show: int) -> np.ndarray | None:
    """Seed 0's map of JOINT for the held-out image shown."""
    if name == "heatmap":
        return out["heatmaps"][show, JOINT].cpu().numpy()
    if name == "integral":
        return kp.softmax2d(out["heatmaps"][show:show + 1, JOINT:JOINT + 1].cpu(), m.beta)[0, 0].numpy()
    if name == "simcc":  # the 2-D distribution SimCC implies: the product of its x and y soft-maxes, k bins summed
        k = simcc.SPLIT
        px = F.softmax(out["simcc_x"][show, JOINT].cpu(), -1).view(-1, k).sum(-1)
        py = F.softmax(out["simcc_y"][show, JOINT].cpu(), -1).view(-1, k).sum(-1)
        return torch.outer(py, px).numpy()
    return None


@torch.no_grad()
def evaluate(runs: list[dict], held, device, show: int, final: bool = False):
    """Held-out error of every model (each head with its own decoding), seed 0's coordinates and maps on the
    image shown, and at the end the rows of every head x decoder x seed."""
    X, KP, VIS = held
    errors = {h: [] for h in HEADS}
    coords, maps, rows = {}, {}, []
    for seed, models in enumerate(runs):
        for name, m in models.items():
            m.eval()
            out = m(X.to(device))
            errors[name].append(float((out["coords"].cpu() - KP).norm(dim=-1)[VIS].mean()))
            if seed == 0:
                coords[name] = out["coords"][show].cpu().numpy()
                mp = shown_map(name, m, out, show)
                if mp is not None:
                    maps[name] = mp
            if final:
                for dec in (("direct",) if name == "regression" else ("argmax", "soft_argmax")):
                    rows.append({"head": name, "decoder": dec, "seed": seed,
                                 **kp.metrics(decode(name, m, out, dec), KP, VIS, m.input_size)})
            m.train()
    return errors, coords, maps, rows


def run(cfg: Race, device="cpu", should_stop=lambda: False):
    """Train the four heads for each seed, step by step (all seeds advance together); yields a ``Snapshot`` at
    step 0, every steps/evals steps and at the end (its ``final`` rows filled)."""
    X, KP, held, h_imgs = data(cfg)
    inside = ((KP >= 0) & (KP < cfg.size)).all(-1)
    X, KP, inside = X.to(device), KP.to(device), inside.to(device)
    runs = [build(cfg, device, seed) for seed in range(cfg.seeds)]
    opts = [{h: torch.optim.AdamW(m.parameters(), lr=cfg.lr, weight_decay=1e-4, foreach=True)
             for h, m in models.items()} for models in runs]
    scheds = [{h: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.15)
               for h, o in seed_opts.items()} for seed_opts in opts]
    order = [batches(cfg, seed) for seed in range(cfg.seeds)]
    params = {h: kp.count_parameters(m) for h, m in runs[0].items()}
    loss = {h: [] for h in HEADS}
    error = {h: [] for h in HEADS}
    show = 3  # held-out render shown (a figure with both wrists in the frame)
    every = max(1, cfg.steps // cfg.evals)
    t0 = time.perf_counter()

    def snapshot(step, final=False):
        errs, coords, maps, rows = evaluate(runs, held, device, show, final)
        for h in HEADS:
            error[h].append((step, errs[h]))
        return Snapshot(step, cfg.steps, time.perf_counter() - t0, cfg.seeds, loss, error, h_imgs[show],
                        held[1][show].numpy(), coords, maps, params, cfg.n_eval, rows)

    yield snapshot(0)
    for step in range(1, cfg.steps + 1):
        for seed, models in enumerate(runs):
            idx = next(order[seed]).to(device)
            x, y, ins = X[idx], KP[idx], inside[idx]
            for h, m in models.items():
                l = head_loss(m, m(x), y, ins, cfg.coord_loss, cfg.heatmap_loss)
                opts[seed][h].zero_grad(set_to_none=True)
                l.backward()
                opts[seed][h].step()
                scheds[seed][h].step()
                if seed == 0:
                    loss[h].append(float(l.detach()))
        if step == cfg.steps or should_stop():
            yield snapshot(step, final=True)
            return
        if step % every == 0:
            yield snapshot(step)


# -- the spread rule ---------------------------------------------------------------------------------------------

def spread(values: list[float]) -> float:
    """The range (max − min) of one head's results over the seeds; 0 for one seed (no spread measured)."""
    return max(values) - min(values) if len(values) > 1 else 0.0


def verdict(per_seed: dict[str, list[float]]) -> tuple[list[list[str]], bool]:
    """Group the heads by mean error over the seeds, best first. Two neighbours in that order are separated
    only where the gap between their means exceeds the larger of their two ranges over the seeds; otherwise
    they share a group ("within noise"). With one seed no spread is measured, so nothing is separated.
    Returns (groups, measured)."""
    measured = all(len(v) > 1 for v in per_seed.values())
    means = {h: statistics.fmean(v) for h, v in per_seed.items()}
    ranked = sorted(means, key=means.get)
    groups = [[ranked[0]]] if ranked else []
    for a, b in zip(ranked, ranked[1:]):
        if measured and means[b] - means[a] > max(spread(per_seed[a]), spread(per_seed[b])):
            groups.append([b])
        else:
            groups[-1].append(b)
    return groups, measured


# -- the time budget -------------------------------------------------------------------------------------------
# bench/race.py measures one training step of one model (64 px, width 8, batch 16, one torch thread) on this
# 2-core CPU; the cost grows with the image area, and with heads x seeds models trained side by side.
CPU_SECONDS_PER_MODEL_STEP_64 = 0.02
CPU_BUDGET_S = 30.0


def estimate_seconds(size: int, steps: int, seeds: int, device_type: str = "cpu") -> float:
    per_step = CPU_SECONDS_PER_MODEL_STEP_64 * (size / 64) ** 2 * len(HEADS) * seeds
    if device_type != "cpu":
        per_step /= 10  # a GPU runs these small nets at least ten times faster (launch-bound)
    return 3.0 + steps * per_step  # plus rendering and caching the data on a first run
