"""Every long or heavy view with each parameter at the end of its range that costs most (from its records),
each in a fresh process: wall time and peak memory. Goal: under 30 s and 1.5 GB added, on 2 cores.

    python -m bench worst

Baseline for the memory column: the same process after importing the view's module (the app's own footprint).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = [  # (module, view, arguments at their costliest: None = the record's maximum)
    ("demos.normalization.views", "norm_live_training", None),
    ("demos.normalization.views", "norm_batch_size", None),
    ("demos.normalization.views", "train_vs_eval", ["conv activations (keypoint model, held-out figures)", 64, 200,
                                                    0.01, 5.0, 7]),
    ("demos.dropout.views", "dropout_overfit", None),
    ("demos.dropout.views", "adam_vs_adamw", None),
    ("demos.selu.views", "selu_deep", None),
    ("demos.selu.views", "selu_dropout", None),
    ("demos.architectures.views", "skip_connections", None),
    ("demos.architectures.views", "blocks", None),
    ("demos.architectures.views", "zoo_latency", None),
    ("demos.architectures.views", "compression", None),
    ("demos.architectures.views", "deep_compression", ["heatmap-s4", 0.0, 8]),  # nothing pruned, 256 centroids
    ("demos.bimodal.views", "remedies", None),
]
PROBE = """
import importlib, inspect, json, resource, sys, time
mod = importlib.import_module(sys.argv[1]); fn = getattr(mod, sys.argv[2]); args = json.loads(sys.argv[3])
if args is None:
    args = [r.hi if hasattr(r, "hi") else r.default for r in fn.params]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter(); out = fn(*args)
if inspect.isgenerator(out):
    for _ in out: pass
print(json.dumps({"s": time.perf_counter() - t, "base_mb": base / 1024,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "args": args}))
"""


def run() -> str:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    lines = ["## Worst case of every long view (each parameter at its costliest end), fresh process each",
             f"{'view':<22} {'seconds':>8} {'+MB':>7}  arguments"]
    for module, view, args in CASES:
        r = subprocess.run([sys.executable, "-c", PROBE, module, view, json.dumps(args)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=600)
        if r.returncode:
            last = (r.stderr.strip().splitlines() or ["killed"])[-1]
            lines.append(f"{view:<22} failed: {last[:100]}")
            print(lines[-1], flush=True)
            continue
        d = json.loads(r.stdout.strip().splitlines()[-1])
        ok = "" if d["s"] < 30 and d["peak_mb"] - d["base_mb"] < 1536 else "  OVER BUDGET"
        lines.append(f"{view:<22} {d['s']:>8.1f} {d['peak_mb'] - d['base_mb']:>7.0f}  {d['args']}{ok}")
        print(lines[-1], file=sys.stderr, flush=True)  # progress; the table is printed at the end
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
