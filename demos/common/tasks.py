"""Small generated tasks for the live-training panels (they train in seconds on a CPU), and the rule by which
those panels compare methods trained from several seeds."""

from __future__ import annotations

import math

import numpy as np
import torch


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


# -- comparing runs from several seeds ---------------------------------------------------------------------------
# A comparison that trains reports each method's values over the seeds and states an order only where the gap
# between the means exceeds the spread (the larger of the two ranges, max - min over the seeds); otherwise the two
# are "within noise".

def spread(values) -> float:
    """max - min of the finite values (0 for fewer than two)."""
    v = [x for x in values if math.isfinite(x)]
    return max(v) - min(v) if len(v) > 1 else 0.0


def summary(values, fmt: str = ".3f") -> str:
    """'0.215 (0.180–0.250 over 3 seeds)': the mean, then the range; diverged (NaN) seeds are counted."""
    v = [x for x in values if math.isfinite(x)]
    bad = len(values) - len(v)
    if not v:
        return f"diverged in all {len(values)} seeds"
    text = f"{np.mean(v):{fmt}} ({min(v):{fmt}}–{max(v):{fmt}} over {len(v)} seeds)"
    return text + (f", diverged in {bad} of {len(values)}" if bad else "")


def ordered(a, b) -> bool:
    """True when the gap between the means of a and b (finite values, all seeds) exceeds their larger range."""
    if not a or not b or not all(math.isfinite(x) for x in (*a, *b)):
        return False
    return abs(float(np.mean(a)) - float(np.mean(b))) > max(spread(a), spread(b))


def verdict(name_a: str, a, name_b: str, b, what: str = "", fmt: str = ".3f") -> str:
    """One sentence comparing two methods' values over seeds (lower first when ordered), by the rule above."""
    if not all(math.isfinite(x) for x in (*a, *b)):
        return f"{name_a} and {name_b}: no order (a run diverged)."
    gap = abs(float(np.mean(a)) - float(np.mean(b)))
    s = max(spread(a), spread(b))
    if ordered(a, b):
        lo, hi = (name_a, name_b) if np.mean(a) < np.mean(b) else (name_b, name_a)
        subject = f"{lo}'s {what}" if what else lo
        return f"{subject} is lower than {hi}'s: the gap {gap:{fmt}} exceeds the spread over seeds {s:{fmt}}."
    return f"{name_a} and {name_b} are within noise (gap {gap:{fmt}}, spread over seeds {s:{fmt}})."
