"""Live training for the normalization tab: the same small CNN with BatchNorm, GroupNorm or no normalization."""

from __future__ import annotations

import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from demos.common.errors import UserInputError
from demos.common.rng import seeded
from demos.common.tasks import bars

NORMS = ("BatchNorm", "GroupNorm", "none")


def norm_layer(kind: str, c: int, groups: int = 4) -> nn.Module:
    if kind == "BatchNorm":
        return nn.BatchNorm2d(c)
    if kind == "GroupNorm":
        return nn.GroupNorm(min(groups, c), c)
    return nn.Identity()


class SmallCNN(nn.Module):
    """conv-norm-ReLU x 3 (16, 32, 32 channels), global pooling, linear: 4 classes of 16x16 bars."""

    def __init__(self, norm: str = "BatchNorm", width: int = 16):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1), norm_layer(norm, w), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, padding=1, stride=2), norm_layer(norm, 2 * w), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1, stride=2), norm_layer(norm, 2 * w), nn.ReLU(),
        )
        self.fc = nn.Linear(2 * w, 4)

    def forward(self, x):
        return self.fc(self.features(x).mean((2, 3)))


def train_stream(norms=NORMS, steps: int = 300, batch: int = 32, lr: float = 0.5, seed: int = 0, every: int = 10,
                 device="cpu"):
    """Train one SmallCNN per normalization with SGD at a high learning rate, interleaved step by step.
    Yields (step, {norm: [losses so far]}) every ``every`` steps; the loss is NaN-safe (a diverged run stays
    at its last finite value and is reported as diverged)."""
    if not 1 <= steps <= 3000 or not 2 <= batch <= 256:
        raise UserInputError("Steps must be in 1..3000 and the batch size in 2..256.")
    xs, ys = bars(4096, seed)
    xs, ys = xs.to(device), ys.to(device)
    models, opts, hist = {}, {}, {}
    for k in norms:
        with seeded(seed):
            models[k] = SmallCNN(k).to(device).train()
        opts[k] = torch.optim.SGD(models[k].parameters(), lr=lr, momentum=0.9)
        hist[k] = []
    g = torch.Generator().manual_seed(seed)
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(xs), (batch,), generator=g).to(device)
        for k in norms:
            if hist[k] and hist[k][-1] != hist[k][-1]:  # NaN: diverged, stop training it
                hist[k].append(float("nan"))
                continue
            loss = F.cross_entropy(models[k](xs[idx]), ys[idx])
            opts[k].zero_grad()
            loss.backward()
            opts[k].step()
            hist[k].append(float(loss.detach()) if torch.isfinite(loss) else float("nan"))
        if step % every == 0 or step == steps:
            yield step, hist


def evaluate(model: nn.Module, seed: int = 99, n: int = 1024, device="cpu") -> float:
    x, y = bars(n, seed)
    model.eval()
    with torch.no_grad():
        return float((model(x.to(device)).argmax(1).cpu() != y).float().mean())


def batch_size_experiment(batch_sizes=(2, 4, 8, 16, 32), steps: int = 1500, lr: float = 2e-3, seed: int = 0,
                          device="cpu"):
    """Wu & He's trend in small: train BatchNorm and GroupNorm nets for the same number of Adam steps at each
    batch size (so small batches see fewer images); yields (batch, norm, validation error in eval mode, seconds).
    BatchNorm's statistics over 2-4 images are noisy and its running averages disagree with them at test time."""
    xs, ys = bars(8192, seed)
    for b in batch_sizes:
        for k in ("BatchNorm", "GroupNorm"):
            t0 = time.perf_counter()
            with seeded(seed):
                m = SmallCNN(k).to(device).train()
            opt = torch.optim.Adam(m.parameters(), lr=lr)
            g = torch.Generator().manual_seed(seed)
            for _ in range(steps):
                idx = torch.randint(0, len(xs), (b,), generator=g)
                loss = F.cross_entropy(m(xs[idx].to(device)), ys[idx].to(device))
                opt.zero_grad()
                loss.backward()
                opt.step()
            yield b, k, evaluate(m, device=device), time.perf_counter() - t0
