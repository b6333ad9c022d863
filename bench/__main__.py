"""Run benchmarks: python -m bench [startup keypoints_tab data ...]"""

from __future__ import annotations

import importlib
import sys

import torch

ALL = ["startup", "keypoints_tab", "data", "threads", "classload", "memory"]


def main(names):
    from demos.common.device import device_label

    print(f"# Benchmarks on {device_label()}, torch {torch.__version__}\n")
    for name in names or ALL:
        mod = importlib.import_module(f"bench.{name}")
        print(mod.run(), "\n", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
