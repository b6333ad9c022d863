"""Spread over seeds, and the one rule for stating an order: only where the gap exceeds the spread.

A comparison that trains or samples is run over several seeds; each result is a list of values, one per seed. Two
results are *separated* when the gap between their means is larger than the range (max - min over seeds) of each;
only then does a sentence say which is lower. Otherwise it says "within noise".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    values: tuple[float, ...]

    def __init__(self, values):
        object.__setattr__(self, "values", tuple(float(v) for v in values))
        if not self.values:
            raise ValueError("a spread needs at least one value")

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def lo(self) -> float:
        return min(self.values)

    @property
    def hi(self) -> float:
        return max(self.values)

    @property
    def range(self) -> float:
        return self.hi - self.lo

    def text(self, fmt: str = ".3f") -> str:
        return f"{self.mean:{fmt}} ({self.lo:{fmt}}–{self.hi:{fmt}})"


def gap_and_spread(a, b) -> tuple[float, float]:
    """|mean(a) - mean(b)| and the larger of the two ranges over seeds."""
    a, b = Spread(a), Spread(b)
    return abs(a.mean - b.mean), max(a.range, b.range)


def separated(a, b) -> bool:
    gap, spread = gap_and_spread(a, b)
    return gap > spread


def order_sentence(groups: dict[str, list[float]], what: str, fmt: str = ".3f") -> str:
    """One sentence ordering ``groups`` (name -> one value per seed) by their mean ``what``, stating an order only
    between neighbours whose gap exceeds both spreads; "within noise" otherwise."""
    items = sorted(groups.items(), key=lambda kv: Spread(kv[1]).mean)
    n = min(len(v) for v in groups.values())
    if len(items) == 2:
        (a, va), (b, vb) = items
        gap, spread = gap_and_spread(va, vb)
        if gap > spread:
            return (f"{a.capitalize()} ends with the lower {what}: the gap ({gap:{fmt}}) is larger than the spread over "
                    f"{n} seeds ({spread:{fmt}}).")
        return (f"{a.capitalize()} and {b} are within noise on {what}: the gap ({gap:{fmt}}) is not larger than the "
                f"spread over {n} seeds ({spread:{fmt}}).")
    parts = [items[0][0]]
    for (_, va), (b, vb) in zip(items, items[1:]):
        parts.append(("<" if separated(va, vb) else "≈") + " " + b)
    return (f"{what.capitalize()}, lowest first: {' '.join(parts)} (“<”: a gap larger than the spread over {n} seeds "
            "of both; “≈”: within noise).")
