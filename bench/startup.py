"""Start-up: time from process start to the first page served, and import time split by module.

Baseline: `python -c pass` (the interpreter alone), measured in the same run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from demos.common.serve import start_app, stop

from .common import table

ROOT = Path(__file__).resolve().parents[1]


def first_page_seconds() -> float:
    proc, _, seconds = start_app(seconds=300)
    stop(proc)
    return seconds


def import_times() -> list[tuple[str, float]]:
    """Cumulative import time of each package app.py imports directly (python -X importtime)."""
    code = "import app; app.build_app()"
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, capture_output=True, text=True,
                       env=dict(os.environ, HF_HUB_OFFLINE="1"))
    tops: dict[str, float] = {}
    for line in r.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        # direct imports of app.py (one nesting level below it): gradio, torch, demos, ...
        if m and len(m.group(3)) == 3:
            name = m.group(4).split(".")[0]
            tops[name] = tops.get(name, 0.0) + int(m.group(2)) / 1e6
    return sorted(tops.items(), key=lambda kv: -kv[1])[:12]


def run() -> str:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    interp = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import app; app.build_app()"], cwd=ROOT, check=True,
                   env=dict(os.environ, HF_HUB_OFFLINE="1"), capture_output=True)
    build = time.perf_counter() - t0
    page = min(first_page_seconds() for _ in range(2))
    out = [table("Start-up (seconds, best of 2 for the page)",
                 [("python -c pass", interp), ("import app + build_app()", build), ("first page served", page)],
                 "python -c pass", unit="s", scale=1.0)]
    imps = import_times()
    total = sum(v for _, v in imps)
    out.append(table("Import time by top-level module (cumulative)", imps + [("(sum of these)", total)],
                     imps[0][0], unit="s", scale=1.0))
    return "\n\n".join(out)
