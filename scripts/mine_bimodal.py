#!/usr/bin/env python
"""Mine the symmetric model's held-out predictions for two-peaked heatmaps and measure the remedies.

    python scripts/mine_bimodal.py [--n 300]
Writes pretrained/symmetric-heatmap-s4/two_peak_cases.json (read by the two-peak tab) and prints the
remedy table in Markdown.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from demos.bimodal import mining  # noqa: E402


@torch.no_grad()
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--model", default=mining.MODEL)
    a = ap.parse_args(argv)
    res = mining.mine(a.n, a.model)
    path = mining.cache_path(a.model)
    path.write_text(json.dumps(res, indent=1))
    print(mining.markdown_table(res))
    print(f"\n{res['joints_scored']} left/right joints on {a.n} images, {res['seconds']} s; wrote {path}")


if __name__ == "__main__":
    main()
