#!/usr/bin/env python
"""Write the keypoints tab's example images (held-out renders whose ground truth is known by seed).

    python scripts/make_examples.py
Files: demos/keypoints/examples/<variant>-<style>-<seed>.png; the tab re-renders the seed for ground truth.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from demos.keypoints import HELDOUT_SEED0, render  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "demos" / "keypoints" / "examples"
PICKS = [  # (variant, style, held-out index)
    ("default", "solid", 3), ("default", "stick", 11), ("default", "hand-drawn", 7), ("default", "solid", 21),
    ("default", "hand-drawn", 30), ("symmetric", "solid", 5), ("symmetric", "hand-drawn", 14),
]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for variant, style, i in PICKS:
        seed = HELDOUT_SEED0 + i
        s = render(seed, variant=variant, style=style)
        Image.fromarray(s.image).save(OUT / f"{variant}-{style}-{seed}.png", optimize=True)
    print(f"wrote {len(PICKS)} examples to {OUT}")


if __name__ == "__main__":
    main()
