"""Run benchmarks: python -m bench [startup keypoints_tab data ...] [--readme]

``--readme``: benchmarks that own a README section (between their markers) write it too."""

from __future__ import annotations

import importlib
import inspect
import sys

import torch

ALL = ["startup", "keypoints_tab", "data", "threads", "race", "classload", "memory"]


def main(names):
    from demos.common.device import device_label

    print(f"# Benchmarks on {device_label()}, torch {torch.__version__}\n")
    readme = "--readme" in names
    for name in [n for n in names if not n.startswith("--")] or ALL:
        mod = importlib.import_module(f"bench.{name}")
        kw = {"readme": True} if readme and "readme" in inspect.signature(mod.run).parameters else {}
        print(mod.run(**kw), "\n", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
