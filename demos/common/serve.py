"""Start the app in a child process on a free loopback port and wait until it serves its page.

Used by the tests, the benchmarks and ``scripts/screenshots.py`` (one copy of the start-and-wait loop).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int | None = None, env: dict | None = None, log=subprocess.DEVNULL, seconds: float = 120):
    """(process, url, seconds until the page answered) for ``python app.py`` on 127.0.0.1, offline by default.
    Raises RuntimeError when it exits or does not serve within ``seconds``."""
    port = port or free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1",
           **(env or {})}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    while time.perf_counter() - t0 < seconds:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode} before serving its page")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return proc, url, time.perf_counter() - t0
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"the app did not serve its page within {seconds:.0f} s")


def stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
