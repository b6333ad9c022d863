"""Memory growth: 1,000 mixed quick calls after a warm-up, the server's resident memory before and after.

    python -m bench memory               # 1,000 calls from 4 simulated students
    python -m bench.memory --calls 300

Goal: growth under 50 MB (caches fill during the warm-up; what is left would be a leak). Loopback only, stops by
itself; the warm-up is 50 calls per student of the same mix, at once, so every view, cache and allocator arena
has been used before measuring.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from pathlib import Path

from bench.classload import EXAMPLE, quick_calls
from bench.student import Session
from demos.common.serve import start_app, stop


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return int(next(line.split()[1] for line in status if line.startswith("VmRSS"))) / 1024


def _calls(session: Session, n: int, seed: int, errors: list) -> None:
    rng = random.Random(seed)
    image = session.upload(str(EXAMPLE))
    for _ in range(n):
        endpoint, args = rng.choice(quick_calls())
        if endpoint == "/keypoints":
            endpoint, args = "/analyse_image", [image, "heatmap-s4", 20.0, ["argmax", "soft_argmax"], "l_wrist"]
        err = session.call(endpoint, args)
        if err:
            errors.append(f"{endpoint}: {err}")


def run(calls: int = 1000, students: int = 4) -> str:
    proc, url, _ = start_app(seconds=300)
    try:
        config = Session.fetch_config(url)
        sessions = [Session(url, config) for _ in range(students)]
        for s in sessions:
            s.open()
        errors: list[str] = []
        # warm-up, with the same students at once: every view and cache used, and the allocator's per-thread
        # arenas created (a single-threaded warm-up left ~60 MB of them to the first seconds of the measurement)
        warm = [threading.Thread(target=_calls, args=(s, 50, 100 + i, errors)) for i, s in enumerate(sessions)]
        for th in warm:
            th.start()
        for th in warm:
            th.join(900)
        time.sleep(1)
        before = _rss_mb(proc.pid)
        trace, done = [], threading.Event()

        def sample():  # the RSS every 10 s: a leak climbs steadily, allocator arenas level off
            while not done.wait(10):
                trace.append(_rss_mb(proc.pid))

        threading.Thread(target=sample, daemon=True).start()
        t = time.perf_counter()
        threads = [threading.Thread(target=_calls, args=(s, calls // students, i, errors)) for i, s in enumerate(sessions)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(1800)
        wall = time.perf_counter() - t
        done.set()
        time.sleep(1)
        after = _rss_mb(proc.pid)
        return (f"## Memory: {calls} mixed quick calls from {students} students after a {50 * students}-call warm-up, {wall:.0f} s, "
                f"{len(errors)} errors\nserver RSS {before:.0f} MB -> {after:.0f} MB: growth {after - before:+.0f} MB "
                f"(goal under 50 MB); every 10 s: {' '.join(f'{m:.0f}' for m in trace)}" + "".join(f"\nerror: {e}" for e in errors[:3]))
    finally:
        stop(proc)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--students", type=int, default=4)
    a = ap.parse_args()
    print(run(a.calls, a.students))
