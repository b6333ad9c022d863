"""A class at once: N students clicking quick controls (think time 1-3 s) while K of them start a long run.

    python -m bench classload                 # N = 1, 20 and 40, K = 2, 40 s each
    python -m bench.classload --students 20 --long 2 --seconds 40

Starts the app on a free 127.0.0.1 port (offline), drives it with one thread per student (plain HTTP as the page
does it, bench/student.py; ``--client gradio_client`` for the heavier gradio_client), and stops by itself after
``--seconds`` (every thread finishes its current call, then stops). Opening the app counts the page and its
first views. Prints p50 / p95 / max per endpoint,
errors, the server's CPU use (cores busy, from /proc) and its peak memory (VmHWM). Baseline for the ratio
column: one student's median quick click, measured in the same run (N = 1).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time
from pathlib import Path

from demos.common.serve import start_app, stop

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "demos/keypoints/examples/default-solid-1000003.png"
PEAKS = [20.5, 32.5, 1.0, 2.5, 40.5, 32.5, 0.9, 2.5, 0.0, 10.0, 3]


def quick_calls():
    """(endpoint, args) of the quick controls a student touches, with jittered values."""
    r = random.random
    return [
        ("/two_peaks", PEAKS[:6] + [round(0.5 + r(), 2)] + PEAKS[7:]),
        ("/exp_normalize", [int(60 + 60 * r())]),
        ("/batchnorm_steps", ["Gaussian", int(4 + 28 * r()), 1, 1.0, 0.0, True]),
        ("/norm_variants", [int(4 * r()), int(8 * r()), 2]),
        ("/dropout_steps", [round(r(), 2), 500]),
        ("/sgd_weight_decay_step", [0.1, round(r() * 0.5, 3)]),
        ("/selu_field", [0.0, 1.0, round(r() - 0.5, 2), 2.0, 12, 1.0]),
        ("/separable", ["ring 7×7", 0, 64, 128, 56]),
        ("/keypoints", None),  # upload, then a beta change on it: see Student.keypoints
    ]


LONG = ("/norm_live_training", [0.1, 300])


def _proc_stat(pid: int) -> tuple[float, int]:
    """(CPU seconds used so far, peak resident memory in kB) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    hwm = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmHWM"))
    return cpu, hwm


class Student(threading.Thread):
    """One student: opens the app (as a browser: the page, then its first views), then clicks quick controls with
    1-3 s of thought between clicks, or (``long_run``) starts the long run again and again. ``client``: "light"
    (plain HTTP, bench/student.py) or "gradio_client" (heavier on this machine's CPU: see bench/student.py)."""

    def __init__(self, url, deadline, results, errors, long_run=False, seed=0, client="light", config=None):
        super().__init__(daemon=True)
        self.url, self.deadline, self.results, self.errors, self.long_run = url, deadline, results, errors, long_run
        self.rng = random.Random(seed)
        self.kind, self.config = client, config

    def _timed(self, label, fn, *args):
        t = time.perf_counter()
        try:
            err = fn(*args)
        except Exception as e:  # noqa: BLE001 - counted, the run goes on
            err = str(e)[:120] or type(e).__name__
        errs = [e for e in (err if isinstance(err, list) else [err]) if e]
        if errs:
            self.errors.append(f"{label}: {errs[0]}")
        else:
            self.results.setdefault(label, []).append(time.perf_counter() - t)
        return not errs

    def _open(self):
        if self.kind == "light":
            from bench.student import Session

            session = Session(self.url, self.config)
            if not self._timed("open the app", session.open):
                return None
            self.results.setdefault("open: the page alone", []).append(session.page_s)
            return session
        from gradio_client import Client

        box = []
        ok = self._timed("open the app", lambda: box.append(Client(self.url, verbose=False)))
        return box[0] if ok else None

    def _call(self, client, endpoint, args, label=None):
        if self.kind == "light":
            return self._timed(label or endpoint, client.call, endpoint, args)
        return self._timed(label or endpoint, lambda: client.predict(*args, api_name=endpoint) and None)

    def _image(self, client):
        if self.kind == "light":
            return client.upload(str(EXAMPLE))
        from gradio_client import handle_file

        return handle_file(str(EXAMPLE))

    def run(self):
        time.sleep(self.rng.uniform(0, 10))  # a class opens the page over ten seconds, not in one instant
        client = None
        while client is None and time.time() < self.deadline:
            client = self._open()
            if client is None:
                time.sleep(1.0)
        if client is None:
            return
        if self.long_run:
            while time.time() < self.deadline:
                self._call(client, *LONG, label="long: " + LONG[0])
            return
        image = self._image(client)
        while time.time() < self.deadline:
            endpoint, args = self.rng.choice(quick_calls())
            if endpoint == "/keypoints":
                self._call(client, "/analyse_image", [image, "heatmap-s4", 20.0, ["argmax", "soft_argmax"], "l_wrist"])
            else:
                self._call(client, endpoint, args)
            time.sleep(self.rng.uniform(1.0, 3.0))


def run_load(students: int, long_runs: int, seconds: float, env: dict | None = None, client: str = "light") -> dict:
    proc, url, _ = start_app(env=env, seconds=300)
    try:
        from bench.student import Session

        config = Session.fetch_config(url)
        warm = Session(url, config)  # one visit first: the first views are computed once per process, then cached
        warm.open()
        warm.call("/two_peaks", PEAKS)
        cpu0, _ = _proc_stat(proc.pid)
        client_cpu0 = time.process_time()  # this process: the simulated students' own work (HTTP, JSON decoding)
        t0 = time.time()
        results, errors = {}, []
        threads = [Student(url, t0 + seconds, results, errors, long_run=i < long_runs, seed=i, client=client,
                           config=config) for i in range(students + long_runs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 120)
        wall = time.time() - t0
        cpu1, hwm = _proc_stat(proc.pid)
        client_cores = (time.process_time() - client_cpu0) / wall
        rss = int(next(line.split()[1] for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                       if line.startswith("VmRSS")))
        children = [int(c) for t in Path(f"/proc/{proc.pid}/task").iterdir()
                    for c in (t / "children").read_text().split()]
        worker_mb = sum(_proc_stat(c)[1] for c in children) / 1024  # the long-run worker process, peak
        return {"results": results, "errors": errors, "cores_busy": (cpu1 - cpu0) / wall, "client_cores": client_cores,
                "peak_mb": hwm / 1024,
                "rss_mb": rss / 1024, "worker_mb": worker_mb, "wall": wall}
    finally:
        stop(proc)


def _pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def report(n: int, k: int, r: dict, baseline: float | None) -> str:
    lines = [f"## {n} students + {k} long runs, {r['wall']:.0f} s: {len(r['errors'])} errors, "
             f"server {r['cores_busy']:.2f} cores busy (the simulated students {r['client_cores']:.2f} on the same "
             f"machine), peak memory {r['peak_mb']:.0f} MB (RSS at the end {r['rss_mb']:.0f} MB; the long-run worker "
             f"{r['worker_mb']:.0f} MB)",
             f"{'endpoint':<28} {'calls':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'p50 / 1 student':>16}"]
    quick = []
    for name, xs in sorted(r["results"].items()):
        if not name.startswith(("long", "open")):
            quick += xs
        ratio = f"{statistics.median(xs) / baseline:.1f}" if baseline else "-"
        lines.append(f"{name:<28} {len(xs):>6} {statistics.median(xs):>7.2f} {_pct(xs, 0.95):>7.2f} {max(xs):>7.2f} "
                     f"{ratio:>16}")
    if quick:
        lines.append(f"{'all quick controls':<28} {len(quick):>6} {statistics.median(quick):>7.2f} "
                     f"{_pct(quick, 0.95):>7.2f} {max(quick):>7.2f}")
    for e in r["errors"][:5]:
        lines.append(f"error: {e}")
    return "\n".join(lines)


def run(sizes=(1, 20, 40), long_runs: int = 2, seconds: float = 40, threads: int | None = None,
        client: str = "light") -> str:
    out, baseline = [], None
    env = {"KPLAB_TORCH_THREADS": str(threads)} if threads else None
    for n in sizes:
        r = run_load(n, long_runs if n > 1 else 0, seconds, env, client)
        quick = [x for name, xs in r["results"].items() if not name.startswith(("long", "open")) for x in xs]
        if n == 1 and quick:
            baseline = statistics.median(quick)
        out.append(report(n, long_runs if n > 1 else 0, r, baseline))
    return "\n\n".join(out)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, nargs="*", default=[1, 20, 40])
    ap.add_argument("--long", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--threads", type=int, help="torch threads per request (default: the app's, 1)")
    ap.add_argument("--client", choices=("light", "gradio_client"), default="light",
                    help="how the simulated students talk to the app (see bench/student.py)")
    a = ap.parse_args()
    print(run(tuple(a.students), a.long, a.seconds, a.threads, a.client))
