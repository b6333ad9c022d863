"""Small generated tasks for the live-training panels (they train in seconds on a CPU)."""

from __future__ import annotations

import numpy as np
import torch

BAR_CLASSES = ("horizontal", "vertical", "diagonal \\", "diagonal /")


def bars(n: int, seed: int, size: int = 16, noise: float = 0.6, jitter: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 1, size, size) images of one short bar in a random place plus Gaussian noise; label = orientation.
    With ``jitter`` each image also gets its own contrast (x0.5 to x2) and brightness offset (std 0.5), as photos do:
    per-sample normalizers (GroupNorm) shrug that off, BatchNorm's batch statistics have to average it."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, noise, (n, size, size)).astype(np.float32)
    y = rng.integers(0, 4, n)
    length = rng.integers(5, 9, n)
    r0 = rng.integers(0, size, n)
    c0 = rng.integers(0, size, n)
    for i in range(n):
        for t in range(length[i]):
            dr, dc = ((0, 1), (1, 0), (1, 1), (1, -1))[y[i]]
            r, c = (r0[i] + dr * t) % size, (c0[i] + dc * t) % size
            x[i, r, c] += 1.5
    if jitter:
        x = x * rng.uniform(0.5, 2.0, (n, 1, 1)).astype(np.float32) + rng.normal(0, 0.5, (n, 1, 1)).astype(np.float32)
    return torch.from_numpy(x[:, None]), torch.from_numpy(y).long()


def noisy_sine(n: int, seed: int, noise: float = 0.3) -> tuple[torch.Tensor, torch.Tensor]:
    """1-D regression: y = sin(3x) + noise on x in [-1, 1] — few points, easy to over-fit."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g) * 2 - 1
    y = torch.sin(3 * x) + noise * torch.randn(n, 1, generator=g)
    return x, y
