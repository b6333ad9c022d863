"""Tiny helpers shared by the benchmarks: timing and table printing."""

from __future__ import annotations

import statistics
import time


def timeit(fn, repeat: int = 7, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def table(title: str, rows: list[tuple[str, float]], baseline: str, unit: str = "ms", scale: float = 1e3) -> str:
    """Rows of (name, seconds); the ratio column divides by the baseline row measured in the same run."""
    base = dict(rows)[baseline]
    w = max(len(r[0]) for r in rows)
    lines = [f"## {title}", f"{'':<{w}}  {unit:>10}  {'x ' + baseline:>14}"]
    for name, v in rows:
        lines.append(f"{name:<{w}}  {v * scale:>10.1f}  {v / base:>14.2f}")
    return "\n".join(lines)


def median(xs):
    return statistics.median(xs)
