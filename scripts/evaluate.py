#!/usr/bin/env python
"""Evaluate every bundled model x every decoder on the fixed held-out set; print one Markdown table.

    python scripts/evaluate.py [--n 500] [--json rows.json]
Columns: model, head, heatmap size, decoder, mean and median error (input px), PCK at 5 % and 10 % of the image size
(6.4 / 12.8 px at 128 px), and the number of visible joints scored. The symmetric model is scored on
symmetric-variant data, where left/right is ambiguous by construction.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from demos.keypoints import training  # noqa: E402
from demos.keypoints.decoders import DECODER_LABELS  # noqa: E402
from demos.keypoints.hub import bundled_names, load_model  # noqa: E402


def rows_for(name: str, n: int) -> list[dict]:
    model = load_model(name).model
    hs = model.heatmap_size
    out = []
    for r in training.evaluate_model(model, n):
        out.append({"model": name, "head": model.head_type, "heatmap_size": f"{hs}x{hs}" if hs else "-",
                    "decoder": r["decoder"], "mean_px": round(r["mean_px"], 3),
                    "median_px": round(r["median_px"], 3), "pck5": round(r["pck5"], 4),
                    "pck10": round(r["pck10"], 4), "n": r["n"]})
    return out


def markdown(rows: list[dict]) -> str:
    lines = ["| model | head | heatmap | decoder | mean error (px) | median (px) | PCK@5% | PCK@10% | n |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['head']} | {r['heatmap_size']} | "
                     f"{DECODER_LABELS.get(r['decoder'], r['decoder'])} | {r['mean_px']:.2f} | {r['median_px']:.2f} | {r['pck5']:.3f} | "
                     f"{r['pck10']:.3f} | {r['n']} |")
    return "\n".join(lines)


@torch.no_grad()
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500, help="held-out images (seeds 1,000,000 + i)")
    ap.add_argument("--models", nargs="*", default=None, help="bundled names (default: all)")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as a JSON list")
    a = ap.parse_args(argv)
    t0 = time.time()
    rows = []
    for name in a.models or bundled_names():
        rows += rows_for(name, a.n)
    print(markdown(rows))
    print(f"\n{a.n} held-out images per model, {time.time() - t0:.1f} s")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
