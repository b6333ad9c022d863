"""Live training for the normalization tab: the same small CNN with BatchNorm, GroupNorm or no normalization,
each trained from several seeds so the panels can show how much of a difference is noise."""

from __future__ import annotations

import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from demos.common.rng import seeded
from demos.common.tasks import bars

NORMS = ("BatchNorm", "GroupNorm", "none")
SEEDS = (0, 1, 2)  # every comparison is run from these seeds; its spread is their range
# GroupNorm's groups. Wu and He's default G = 32 gives ResNet-50's first stage (64 channels) 2 channels per group;
# this net has 16 and 32 channels, so G = 16 gives it 1 and 2 channels per group. With G = 4 (4 and 8 channels per
# group) it stayed at chance on this task (loss 1.39 = ln 4 after 300 steps at lr 0.1, 75 % error at batch 2, seed 0);
# tests/normalization/test_compute.py checks that it learns with G = 16.
GROUPS = 16
# The bars' pixel noise for these panels (the bar adds 1.5 to its pixels). At 0.6 a net sees too few images at
# batch 2 in the batch-size experiment's steps to learn anything with either normalizer; at 0.3 GroupNorm learns
# there and BatchNorm's small-batch problem is what remains.
NOISE = 0.3
BATCH = 16  # the live training's batch size
BS_STEPS = 300  # Adam steps per run in the batch-size experiment
BS_LR = 5e-3
BATCH_SIZES = (2, 4, 8, 32)


def norm_layer(kind: str, c: int, groups: int = GROUPS) -> nn.Module:
    if kind == "BatchNorm":
        return nn.BatchNorm2d(c)
    if kind == "GroupNorm":
        return nn.GroupNorm(min(groups, c), c)
    return nn.Identity()


class SmallCNN(nn.Module):
    """conv-norm-ReLU x 3 (16, 32, 32 channels), global pooling, linear: 4 classes of 16x16 bars."""

    def __init__(self, norm: str = "BatchNorm", width: int = 16, groups: int = GROUPS):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1), norm_layer(norm, w, groups), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, padding=1, stride=2), norm_layer(norm, 2 * w, groups), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1, stride=2), norm_layer(norm, 2 * w, groups), nn.ReLU(),
        )
        self.fc = nn.Linear(2 * w, 4)

    def forward(self, x):
        return self.fc(self.features(x).mean((2, 3)))


def train_stream(norms=NORMS, steps: int = 300, lr: float = 0.1, seeds=SEEDS, every: int = 10, device="cpu",
                 groups: int = GROUPS, noise: float = NOISE):
    """Train one SmallCNN per normalization and seed with SGD (momentum 0.9), interleaved step by step; each seed
    has its own initial weights and batches, shared by the normalizations. Yields (step, {norm: {seed: [losses
    so far]}}) every ``every`` steps. A diverged run (NaN loss) stops training and records NaN from then on.
    The caller's records bound ``steps``."""
    xs, ys = bars(4096, 0, noise=noise)
    xs, ys = xs.to(device), ys.to(device)
    models, opts, gens = {}, {}, {}
    hist = {k: {s: [] for s in seeds} for k in norms}
    for s in seeds:
        gens[s] = torch.Generator().manual_seed(s)
        for k in norms:
            with seeded(s):
                models[k, s] = SmallCNN(k, groups=groups).to(device).train()
            opts[k, s] = torch.optim.SGD(models[k, s].parameters(), lr=lr, momentum=0.9)
    for step in range(1, steps + 1):
        for s in seeds:
            idx = torch.randint(0, len(xs), (BATCH,), generator=gens[s]).to(device)
            for k in norms:
                h = hist[k][s]
                if h and h[-1] != h[-1]:  # NaN: diverged, stop training it
                    h.append(float("nan"))
                    continue
                loss = F.cross_entropy(models[k, s](xs[idx]), ys[idx])
                opts[k, s].zero_grad()
                loss.backward()
                opts[k, s].step()
                h.append(float(loss.detach()) if torch.isfinite(loss) else float("nan"))
        if step % every == 0 or step == steps:
            yield step, hist


def evaluate(model: nn.Module, seed: int = 99, n: int = 1024, device="cpu", noise: float = NOISE) -> float:
    x, y = bars(n, seed, noise=noise)
    model.eval()
    with torch.no_grad():
        return float((model(x.to(device)).argmax(1).cpu() != y).float().mean())


def batch_size_experiment(batch_sizes=BATCH_SIZES, steps: int = BS_STEPS, lr: float = BS_LR, seeds=SEEDS,
                          device="cpu", groups: int = GROUPS, noise: float = NOISE):
    """Wu & He's trend in small: train BatchNorm and GroupNorm nets for the same number of Adam steps at each
    batch size (so small batches see fewer images), from each seed; yields (batch, norm, seed, validation error in
    eval mode, seconds). BatchNorm's statistics over 2-4 images are noisy and its running averages disagree with
    them at test time."""
    xs, ys = bars(8192, 0, noise=noise)
    for b in batch_sizes:
        for k in ("BatchNorm", "GroupNorm"):
            for s in seeds:
                t0 = time.perf_counter()
                with seeded(s):
                    m = SmallCNN(k, groups=groups).to(device).train()
                opt = torch.optim.Adam(m.parameters(), lr=lr)
                g = torch.Generator().manual_seed(s)
                for _ in range(steps):
                    idx = torch.randint(0, len(xs), (b,), generator=g)
                    loss = F.cross_entropy(m(xs[idx].to(device)), ys[idx].to(device))
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                yield b, k, s, evaluate(m, device=device, noise=noise), time.perf_counter() - t0
