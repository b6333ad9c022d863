"""Torch threads in Gradio's worker threads: which setting uses a 2-core machine best?

Workload: a few training steps of the head race (three small KeypointNets, forward + backward). Each setting
runs in a fresh process (OpenMP state is per process), median of 3 repeats, the same run's
"main thread, torch default" as the baseline. "2 requests" runs two workloads at once in two threads, as two
students' requests in the queue's two slots; its time is for both.
"""

from __future__ import annotations

import json
import subprocess
import sys

from .common import table

CHILD = r"""
import json, statistics, sys, threading, time, torch
from demos.race import compute as C
where, threads, parallel = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if threads:
    torch.set_num_threads(threads)
cfg = C.Race(steps=12, evals=1, n_eval=16)
def work():
    for _ in C.run(cfg):
        pass
work()  # warm-up: renders cached, kernels loaded
times = []
for _ in range(3):
    t = time.perf_counter()
    if where == "main":
        work()
    else:
        ts = [threading.Thread(target=work) for _ in range(parallel)]
        [x.start() for x in ts]; [x.join() for x in ts]
    times.append(time.perf_counter() - t)
print(json.dumps(statistics.median(times)))
"""

SETTINGS = [  # (label, where, torch threads (0: default), requests at once)
    ("main thread, torch default", "main", 0, 1),
    ("worker thread, torch default", "worker", 0, 1),
    ("worker thread, 1 torch thread", "worker", 1, 1),
    ("2 requests at once, torch default", "worker", 0, 2),
    ("2 requests at once, 1 torch thread each", "worker", 1, 2),
]


def measure(where: str, threads: int, parallel: int) -> float:
    r = subprocess.run([sys.executable, "-c", CHILD, where, str(threads), str(parallel)], capture_output=True,
                       text=True, timeout=600)
    if r.returncode:
        raise RuntimeError(r.stderr[-800:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def run() -> str:
    rows = [(label, measure(w, t, p)) for label, w, t, p in SETTINGS]
    return table("Torch threads under Gradio: 12 race steps (3 heads); '2 requests' = both done", rows,
                 baseline=SETTINGS[0][0], unit="s", scale=1.0)


if __name__ == "__main__":
    print(run())
