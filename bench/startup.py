"""Start-up: time from process start to the first page served, and import time split by module.

Baseline: `python -c pass` (the interpreter alone), measured in the same run.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .common import table

ROOT = Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_page_seconds() -> float:
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - t0
            except OSError:
                if p.poll() is not None:
                    raise RuntimeError("app exited")
                time.sleep(0.05)
    finally:
        p.terminate()
        p.wait(10)


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
