"""A class at once: N students clicking quick controls (think time 1-3 s) while K more start a long run again and
again.

    python -m bench classload       # the protocol below; prints it and writes README.md's class-load section
    python -m bench.classload --students 40 --repeats 1 --seconds 20 --no-before   # one quick look, no README

The protocol (``run()``): the app with this round's mechanisms on ("after": 2 quick workers, the page cached), started once
on a free 127.0.0.1 port (offline); one long run alone (its time is the baseline of "long runs within 1.5x of
alone"); then 1 student, and 20, 40 and 60 students + 2 long runs, 3 repeats each, ``--seconds`` each. Then the
same app with the mechanisms of this round switched off ("before": ``KPLAB_QUICK_WORKERS=0 KPLAB_PAGE_CACHE=0``)
at 40 students + 2 long runs, once, in the same sitting.

Students speak plain HTTP as the page does (bench/student.py; ``--client gradio_client`` for the heavier
gradio_client): each opens the page and its first views at a random moment in the first 10 s, then clicks a quick
control every 1-3 s. Reported per run: p50 / p95 / max per endpoint, errors, the CPU of the whole process tree
(server, quick workers, long-run worker: cores busy on average, from /proc), and the tree's peak memory (the sum
of the processes' proportional set sizes, sampled every 0.5 s: a page shared by processes counts once).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
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
        ("/keypoints", None),  # an upload analysed (its state kept by the server for the session)
        ("/set_beta", ["heatmap-s4", round(5 + 30 * r(), 1), ["argmax", "soft_argmax"], "l_wrist"]),
    ]


LONG_RUN = "long, once started"
LONG = ("/norm_live_training", [0.1, 100])  # 100 steps: declared 6 s on 2 cores, so that runs end near their time


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
                t = time.perf_counter()
                if self._call(client, *LONG, label="long: " + LONG[0]) and self.kind == "light" and client.waited[0]:
                    # the run itself, from the moment it left the queue (where it waits for the other long run)
                    self.results.setdefault(LONG_RUN, []).append(time.perf_counter() - t - client.waited[0])
            return
        image = self._image(client)
        while time.time() < self.deadline:
            endpoint, args = self.rng.choice(quick_calls())
            if endpoint == "/keypoints":
                self._call(client, "/analyse_image", [image, "heatmap-s4", 20.0, ["argmax", "soft_argmax"], "l_wrist"])
            else:
                self._call(client, endpoint, args)
            time.sleep(self.rng.uniform(1.0, 3.0))



def _pss(pid: int) -> int:
    """Bytes of memory a process holds, with pages it shares (torch's libraries in every worker) divided among the
    processes that map them (PSS), so the tree's sum counts each page once; its RSS where PSS is not readable."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[21]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


class TreeMeter(threading.Thread):
    """CPU seconds and resident memory of a process and all its descendants, sampled every 0.5 s from /proc. CPU of
    a process that ends between two samples counts up to its last sample."""

    def __init__(self, pid: int, every: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.peak_mb = 0.0
        self.pids: set[int] = set()
        self.cmd: dict[int, str] = {}  # pid -> the module it runs (python -m demos.common.pool / .worker), or ""
        self.halt = threading.Event()

    def _tree(self) -> list[int]:
        out, todo = [], [self.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            try:
                for t in Path(f"/proc/{p}/task").iterdir():
                    todo += [int(c) for c in (t / "children").read_text().split()]
            except OSError:
                pass
        return out

    def sample(self, initial: bool = False):
        ticks = os.sysconf("SC_CLK_TCK")
        rss = 0
        for p in self._tree():
            try:
                fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            cpu = (int(fields[11]) + int(fields[12])) / ticks
            self.first.setdefault(p, cpu if initial else 0.0)  # a process born during the run: all of its CPU
            self.last[p] = cpu
            if p not in self.cmd:
                try:
                    args = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
                    self.cmd[p] = next((a.decode() for a in args if a.startswith(b"demos.common.")), "")
                except OSError:
                    self.cmd[p] = ""
            rss += _pss(p)
            self.pids.add(p)
        self.peak_mb = max(self.peak_mb, rss / 2**20)

    def run(self):
        while not self.halt.wait(self.every):
            self.sample()

    def start(self):
        self.t0 = time.time()
        self.sample(initial=True)
        super().start()

    def stop(self) -> tuple[float, float]:
        """(cores busy on average, peak MB of the tree) since start."""
        self.halt.set()
        self.join(5)
        self.sample()
        wall = time.time() - self.t0
        self.by_role: dict[str, float] = {}  # cores busy per kind of process: the server, quick workers, long runs
        for p in self.last:
            role = ROLES.get(self.cmd.get(p, ""), "server")
            self.by_role[role] = self.by_role.get(role, 0.0) + (self.last[p] - self.first.get(p, 0.0)) / wall
        cpu = sum(self.last[p] - self.first.get(p, 0.0) for p in self.last)
        return cpu / wall, self.peak_mb


ROLES = {"demos.common.pool": "quick workers", "demos.common.worker": "long-run worker"}


def run_load(url: str, pid: int, config: dict, students: int, long_runs: int, seconds: float,
             client: str = "light") -> dict:
    """One run against a started app: ``students`` clicking and ``long_runs`` long runs, ``seconds`` long."""
    meter = TreeMeter(pid)
    meter.start()
    client_cpu0 = time.process_time()  # this process: the simulated students' own work (HTTP, JSON decoding)
    t0 = time.time()
    results, errors = {}, []
    threads = [Student(url, t0 + seconds, results, errors, long_run=i < long_runs, seed=random.randrange(10**6),
                       client=client, config=config) for i in range(students + long_runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 180)
    wall = time.time() - t0
    cores, peak = meter.stop()
    return {"students": students, "long": long_runs, "results": results, "errors": errors, "cores": cores,
            "by_role": meter.by_role,
            "peak_mb": peak, "processes": len(meter.pids), "client_cores": (time.process_time() - client_cpu0) / wall,
            "wall": wall}


def long_alone(url: str, config: dict) -> float:
    """Seconds of one long run with nothing else running."""
    from bench.student import Session

    s = Session(url, config)
    s.open()
    t = time.perf_counter()
    err = s.call(*LONG)
    if err:
        raise RuntimeError(f"the long run failed alone: {err}")
    return time.perf_counter() - t


def _pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def quick(r: dict) -> list[float]:
    return [x for name, xs in r["results"].items() if not name.startswith(("long", "open")) for x in xs]  # LONG_RUN too


def by_role(r: dict) -> str:
    roles = r.get("by_role") or {}
    return ", ".join(f"{k} {roles[k]:.2f}" for k in ("server", "quick workers", "long-run worker") if k in roles)


def report(r: dict, baseline: float | None) -> str:
    n, k = r["students"], r["long"]
    lines = [f"## {n} student{'s' * (n != 1)} + {k} long runs, {r['wall']:.0f} s: {len(r['errors'])} errors, process "
             f"tree {r['cores']:.2f} cores busy ({by_role(r)}; {r['processes']} processes; the simulated students "
             f"{r['client_cores']:.2f} on the same machine), tree peak memory {r['peak_mb']:.0f} MB",
             f"{'endpoint':<28} {'calls':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'p50 / 1 student':>16}"]
    for name, xs in sorted(r["results"].items()):
        ratio = f"{statistics.median(xs) / baseline:.1f}" if baseline else "-"
        lines.append(f"{name:<28} {len(xs):>6} {statistics.median(xs):>7.2f} {_pct(xs, 0.95):>7.2f} {max(xs):>7.2f} "
                     f"{ratio:>16}")
    q = quick(r)
    if q:
        lines.append(f"{'all quick controls':<28} {len(q):>6} {statistics.median(q):>7.2f} {_pct(q, 0.95):>7.2f} "
                     f"{max(q):>7.2f}")
    for e in r["errors"][:5]:
        lines.append(f"error: {e}")
    return "\n".join(lines)


def stats(r: dict, alone: float | None = None) -> dict:
    """One run's numbers for the README row (also what ``--readme-from`` reads back)."""
    q = quick(r)
    opening = r["results"].get("open the app")
    long_runs = r["results"].get(LONG_RUN) or r["results"].get("long: " + LONG[0])
    queued = r["results"].get("long: " + LONG[0])  # from the click: its wait in the long-run slot included
    return {"students": r["students"], "long": r["long"], "errors": len(r["errors"]),
            "q50": _pct(q, 0.5) if q else None, "q95": _pct(q, 0.95) if q else None, "qmax": max(q) if q else None,
            "open50": statistics.median(opening) if opening else None, "cores": r["cores"], "peak_gb": r["peak_mb"] / 1024,
            "long_ratio": statistics.median(long_runs) / alone if long_runs and alone else None,
            "long_queued_ratio": statistics.median(queued) / alone if queued and alone else None,
            **{f"cores_{k}": v for k, v in (r.get("by_role") or {}).items()}}


def split(runs: list[dict]) -> str:
    """Median cores busy of the server / the quick workers / the long-run worker over the repeats."""
    def med(key):
        vals = [r[key] for r in runs if r.get(key) is not None]
        return f"{statistics.median(vals):.2f}" if vals else "-"
    return " / ".join(med(f"cores_{k}") for k in ("server", "quick workers", "long-run worker"))


def summary_row(label: str, runs: list[dict]) -> str:
    """One README row from runs' :func:`stats`: medians over the repeats, the highest repeat in brackets."""
    def stat(key, fmt):
        vals = [r[key] for r in runs if r.get(key) is not None]
        if not vals:
            return "-"
        med, worst = statistics.median(vals), max(vals)
        return fmt(med) if len(vals) == 1 else f"{fmt(med)} ({fmt(worst)})"

    n, k = runs[0]["students"], runs[0]["long"]
    load = f"{n} student{'s' * (n != 1)}" + (f" + {k} long runs" if k else "")
    s = lambda v: f"{v:.2f} s"  # noqa: E731
    return (f"| {label} | {load} | {len(runs)} | {sum(r['errors'] for r in runs)} | {stat('q50', s)} "
            f"| {stat('q95', s)} | {stat('qmax', s)} | {stat('open50', s)} | {stat('cores', lambda v: f'{v:.2f}')} | {split(runs)} "
            f"| {stat('peak_gb', lambda v: f'{v:.2f} GB')} | {stat('long_ratio', lambda v: f'{v:.2f}x')} "
            f"| {stat('long_queued_ratio', lambda v: f'{v:.2f}x')} |")


def from_reports(text: str) -> list[tuple[str, list[dict]]]:
    """Runs' :func:`stats` read back from this bench's printed reports (``report``), grouped as printed: for a
    sitting whose README step did not complete. The long-run ratio is not in the reports (left out)."""
    groups: list[tuple[str, list[dict]]] = []
    label = "after"
    for block in re.split(r"\n(?=## )", text):
        m = re.search(r"## (\d+) students? \+ (\d+) long runs, \d+ s: (\d+) errors, process tree ([\d.]+) cores "
                      r"busy .*?tree peak memory (\d+) MB", block)
        if not m:
            continue
        row = {"students": int(m[1]), "long": int(m[2]), "errors": int(m[3]), "cores": float(m[4]),
               "peak_gb": int(m[5]) / 1024, "long_ratio": None, "long_queued_ratio": None, "q50": None, "q95": None, "qmax": None, "open50": None}
        q = re.search(r"all quick controls\s+\d+\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", block)
        if q:
            row.update(q50=float(q[1]), q95=float(q[2]), qmax=float(q[3]))
        o = re.search(r"open the app\s+\d+\s+([\d.]+)", block)
        if o:
            row["open50"] = float(o[1])
        if label == "after" and any(k == ("after", row["students"]) for k, _ in groups[:-1]) and \
                groups and groups[-1][0] != ("after", row["students"]):
            label = "before"  # a load measured again after others: the "before" app (its header was not printed)
        key = (label, row["students"])
        if groups and groups[-1][0] == key:
            groups[-1][1].append(row)
        else:
            groups.append((key, [row]))
        if "# before:" in block:
            label = "before"
    return [(k[0], rows) for k, rows in groups]


TABLE_HEAD = ("| app | load | runs | errors | quick p50 | quick p95 | quick max | opening the app p50 | process tree "
              "cores busy | of which server / quick workers / long-run worker | tree peak memory | long run / alone, once started | long run / alone, from the click (with its wait "
              "for the one slot) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def run_config(label: str, env: dict, sizes, repeats: int, long_runs: int, seconds: float, client: str,
               out: list[str], rows: list[str]) -> None:
    from bench.student import Session

    proc, url, started = start_app(env=env, seconds=400)
    try:
        config = Session.fetch_config(url)
        warm = Session(url, config)  # one visit first: the first views are computed once per process, then cached
        warm.open()
        warm.call("/two_peaks", PEAKS)
        time.sleep(5)  # the workers' start-up imports end before the clock starts
        alone = long_alone(url, config) if long_runs else None
        out.append(f"# {label}: started in {started:.0f} s; one long run alone: "
                   f"{alone:.1f} s" if alone else f"# {label}: started in {started:.0f} s")
        print(out[-1], flush=True)
        baseline = None
        for n in sizes:
            k = long_runs if n > 1 else 0
            runs = []
            for i in range(repeats if n > 1 else 1):
                r = run_load(url, proc.pid, config, n, k, seconds, client)
                runs.append(stats(r, alone))
                if n == 1 and quick(r):
                    baseline = statistics.median(quick(r))
                out.append(report(r, baseline) + (f"\n(repeat {i + 1} of {repeats})" if n > 1 else ""))
                print(out[-1] + "\n", flush=True)
            rows.append((label, runs))
            SAVED.parent.mkdir(exist_ok=True)
            SAVED.write_text(json.dumps(rows, indent=1))  # kept after every load: a README from a partial sitting
    finally:
        stop(proc)


AFTER = {"KPLAB_QUICK_WORKERS": "2"}  # the pool is off by default (demos/common/pool.py says why): measured on
BEFORE = {"KPLAB_QUICK_WORKERS": "0", "KPLAB_PAGE_CACHE": "0"}
SAVED = Path(__file__).resolve().parents[1] / "artifacts" / "classload.json"
README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- classload:begin (python -m bench classload writes this) -->", "<!-- classload:end -->"


def run(sizes=(1, 20, 40, 60), repeats: int = 3, long_runs: int = 2, seconds: float = 30,
        before_sizes=(40,), before_repeats: int = 1, client: str = "light", readme: bool = True) -> str:
    out, rows = [], []
    t0, load_before = time.time(), os.getloadavg()[0]
    run_config("after", AFTER, sizes, repeats, long_runs, seconds, client, out, rows)
    if before_sizes:
        run_config("before", BEFORE, before_sizes, before_repeats, long_runs, seconds, client, out, rows)
    minutes = (time.time() - t0) / 60
    table = "\n".join([TABLE_HEAD] + [summary_row(label, runs) for label, runs in rows])
    text = "\n\n".join(out + [table])
    if readme:
        write_readme(table, seconds, repeats, minutes, load_before=load_before)
    return text


def write_readme(table: str, seconds: float, repeats: int, minutes: float, note: str = "", load_before=None) -> None:
    """``note``: what else the machine was doing; by default the load averages before the sitting (other tenants)
    and at its end (this bench's own app and students included)."""
    if not note:
        note = (f"load average {load_before:.1f} before the sitting, " if load_before is not None else "") + \
            f"{os.getloadavg()[0]:.1f} at its end with the bench's own app and students"
    body = (f"{BEGIN}\n`python -m bench classload` on {os.cpu_count()} cores ({note}; the simulated students run on "
            f"the same machine; rows measured in one sitting{f' of {minutes:.0f} minutes' if minutes == minutes else ''}), "
            f"{seconds:.0f} s per run, {repeats} repeats per load (medians, the "
            f"highest repeat in brackets). *after*: the app as it ships, 2 quick workers (`KPLAB_QUICK_WORKERS=2`, the "
            f"default on a CPU with 2 cores) and the page cache; *before*: the same code with both off (`KPLAB_QUICK_WORKERS=0 KPLAB_PAGE_CACHE=0`: quick views in the server's process, the "
            f"page rendered for every visitor). A long run \"once started\" is timed from the moment it leaves the "
            f"queue: the 2 long runs share one slot, so from the click one waits for the other.\n\n{table}\n{END}")
    text = README.read_text()
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: body, text, flags=re.S)
    else:
        raise RuntimeError(f"README.md has no {BEGIN} ... {END} markers")
    README.write_text(text)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, nargs="*", default=[1, 20, 40, 60])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--long", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--before", type=int, nargs="*", default=[40], help="loads measured with the mechanisms off")
    ap.add_argument("--no-before", action="store_true")
    ap.add_argument("--readme", action="store_true", help="write README.md's class-load section")
    ap.add_argument("--readme-from", metavar="REPORTS", nargs="+", help="write README.md's section from this bench's printed "
                    "reports (a sitting whose README step failed), with --seconds and --repeats as it ran")
    ap.add_argument("--note", default="", help="with --readme-from: what the machine was doing then")
    ap.add_argument("--client", choices=("light", "gradio_client"), default="light",
                    help="how the simulated students talk to the app (see bench/student.py)")
    a = ap.parse_args()
    if a.readme_from:
        groups = [(f"{label}, sitting {i + 1}" if len(a.readme_from) > 1 else label, runs)
                  for i, f in enumerate(a.readme_from) for label, runs in from_reports(Path(f).read_text())]
        table = "\n".join([TABLE_HEAD] + [summary_row(label, runs) for label, runs in groups])
        write_readme(table, a.seconds, a.repeats, float("nan"), a.note)
        print(table)
        raise SystemExit(0)
    print(run(tuple(a.students), a.repeats, a.long, a.seconds, () if a.no_before else tuple(a.before), 1, a.client,
              a.readme))
