#!/usr/bin/env python
"""Evaluate every bundled model x every decoder on the fixed held-out set; write the one table everywhere.

    python scripts/evaluate.py [--n 500] [--check] [--models NAME ...] [--json rows.json]     (make evaluate)

Writes pretrained/evaluation.json, rewrites README.md's evaluation table between its markers and every model
card's table, and prints the table. Columns: model, head, heatmap size, decoder, mean and median error (input
px), PCK at 5 % and 10 % of the image size (6.4 / 12.8 px at 128 px), visible joints scored. The symmetric
model is scored on symmetric-variant data, where left/right is ambiguous by construction.
``--check`` only measures and says whether the stored table is still what the models give.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from demos.keypoints import MODELS, PRETRAINED, get_model  # noqa: E402
from demos.keypoints import cards, evaluation  # noqa: E402


@torch.no_grad()
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500, help="held-out images (seeds 1,000,000 + i)")
    ap.add_argument("--check", action="store_true", help="measure and compare only; write nothing")
    ap.add_argument("--models", nargs="*", default=None, choices=list(MODELS), help="only these (default: all)")
    ap.add_argument("--json", type=Path, default=None,
                    help="write the rows to this file only (README, cards and evaluation.json stay as they are)")
    a = ap.parse_args(argv)
    t0 = time.time()
    rows = evaluation.measure(a.n, a.models)
    print(evaluation.markdown(rows))
    print(f"\n{a.n} held-out images per model, {time.time() - t0:.1f} s")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1) + "\n")
        return 0
    if a.models:
        print("--models without --json: nothing written (the stored table covers every model)")
        return 0
    if a.check:
        same = rows == evaluation.load_rows()
        print("the stored table is up to date" if same else "the stored table differs: run make evaluate")
        return 0 if same else 1
    evaluation.ROWS_FILE.write_text(json.dumps(rows, indent=1) + "\n")
    evaluation.write_readme(rows)
    for name in MODELS:
        cards.write_card(PRETRAINED / name, get_model(name), rows=rows)
    print(f"wrote {evaluation.ROWS_FILE.relative_to(PRETRAINED.parent)}, README.md and {len(MODELS)} model cards")
    return 0


if __name__ == "__main__":
    sys.exit(main())
