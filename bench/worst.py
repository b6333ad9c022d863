"""Every view with a declared cost, at the setting its declaration says costs most, each in a fresh process: wall
time and peak memory against the declared seconds. Goal: under 30 s and 1.5 GB added, on 2 cores, and within
1.5x of what the view declares (its "about N s" texts come from that declaration).

    python -m bench worst

Each runs with one torch thread, as the app's long-run worker does (``device.configure_threads``).
Baseline for the memory column: the same process after importing the view's module (the app's own footprint).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The views with a declared cost (``takes(..., seconds=...)``), found in every topic's views module, each at the
# setting its own declaration says is costliest: every number at whichever end of its range costs more, choices
# at their default. The list is never typed: a new long view is measured as soon as it declares its cost.
# Where a declaration is flat but the work is not, the costliest end measured once: Deep Compression clusters most
# weights with nothing pruned and 2^8 centroids.
MEASURED_WORST = {"deep_compression": {"dc_sparsity": 0.0, "dc_bits": 8}}


def costliest(fn) -> list:
    args = {r.key: r.default for r in fn.params}
    for r in fn.params:
        if hasattr(r, "hi"):
            lo, hi = (fn.seconds(**(args | {r.key: v})) for v in (r.lo, r.hi))
            args[r.key] = r.lo if lo > hi else r.hi
    args |= MEASURED_WORST.get(fn.__name__, {})
    # a run its view refuses on this CPU (over its own budget, e.g. the head race) is measured at the largest
    # setting it accepts: the numbers are lowered from their costliest end until the declared cost fits 30 s
    for r in fn.params:
        while hasattr(r, "hi") and fn.seconds(**args) > 30 and args[r.key] > r.lo:
            step = r.step or (r.hi - r.lo) / 10
            args[r.key] = max(r.lo, args[r.key] - step)
    return [args[r.key] for r in fn.params]


def default(fn) -> list:
    return [r.default for r in fn.params]


def cases() -> list[tuple[str, str, str, list]]:
    """(module, view, "worst" or "default", arguments): each long view at its costliest setting and at its defaults
    (what the page shows first, with its "about N s")."""
    import importlib

    sys.path.insert(0, str(ROOT))
    from app import TOPICS

    out = []
    for topic in TOPICS:
        try:
            mod = importlib.import_module(f"demos.{topic}.views")
        except ModuleNotFoundError:
            continue
        for name, fn in vars(mod).items():
            if callable(fn) and getattr(fn, "params", None) is not None and not fn.quick and fn.__module__ == mod.__name__:
                if any(getattr(r, "key", "") in ("state", "image", "sketch") for r in fn.params):
                    continue  # needs a session's image: measured by bench keypoints_tab
                out.append((mod.__name__, name, "worst", costliest(fn)))
                if default(fn) != costliest(fn):
                    out.append((mod.__name__, name, "default", default(fn)))
    return out


PROBE = """
import importlib, inspect, json, resource, sys, time
from demos.common.device import configure_threads
configure_threads()  # one torch thread, as in the app's long-run worker
mod = importlib.import_module(sys.argv[1]); fn = getattr(mod, sys.argv[2]); args = json.loads(sys.argv[3])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter(); out = fn(*args)
if inspect.isgenerator(out):
    for _ in out: pass
print(json.dumps({"s": time.perf_counter() - t, "base_mb": base / 1024,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "args": args}))
"""


LINE = re.compile(r"^(\w+)\s+(worst|default)\s+([\d.]+)\s+[\d.]+\s+(-?\d+)\s+(\[.*?\])")
README = ROOT / "README.md"
BEGIN, END = "<!-- worst:begin (python -m bench worst --readme writes this) -->", "<!-- worst:end -->"


def measure(module: str, view: str, args: list) -> dict | str:
    """The view run once in a fresh process with an empty cache (the first click's cost): {"s", "mb"}, or the
    last line of its error."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    with tempfile.TemporaryDirectory() as cache:  # an empty cache: the first click's cost (e.g. zoo latency)
        r = subprocess.run([sys.executable, "-c", PROBE, module, view, json.dumps(args)], cwd=ROOT,
                           env=dict(env, KPLAB_CACHE=cache), capture_output=True, text=True, timeout=600)
    if r.returncode:
        return (r.stderr.strip().splitlines() or ["killed"])[-1][:100]
    d = json.loads(r.stdout.strip().splitlines()[-1])
    return {"s": d["s"], "mb": d["peak_mb"] - d["base_mb"]}


def declared(module: str, view: str, args: list) -> float:
    fn = getattr(importlib.import_module(module), view)
    return fn.seconds(**{r.key: a for r, a in zip(fn.params, args)})


def line(view: str, kind: str, s: float, decl: float, mb: float, args: list) -> str:
    ok = "" if s < 30 and mb < 1536 else "  OVER BUDGET"
    ok += "" if decl / 1.5 <= s <= 1.5 * decl else "  DECLARED COST OFF BY MORE THAN 1.5x"
    return f"{view:<22} {kind:<8} {s:>8.1f} {decl:>8.1f} {mb:>7.0f}  {args}{ok}"


HEAD = ("## Every long view at its costliest setting (each parameter at its costliest end) and at its defaults, "
        f"fresh process each\n{'view':<22} {'setting':<8} {'seconds':>8} {'declared':>8} {'+MB':>7}  arguments")


def run(readme: bool = False, only: tuple[str, ...] = ()) -> str:
    lines = [HEAD]
    for module, view, kind, args in cases():
        if only and view not in only:
            continue
        m = measure(module, view, args)
        lines.append(f"{view:<22} {kind:<8} failed: {m}" if isinstance(m, str)
                     else line(view, kind, m["s"], declared(module, view, args), m["mb"], args))
        print(lines[-1], file=sys.stderr, flush=True)  # progress; the table is printed at the end
    text = "\n".join(lines)
    if readme:
        write_readme(text)
    return text


def write_readme(*reports: str, note: str = "") -> None:
    """README's table of long views from this bench's printed reports (a later report's row replaces an earlier
    one's: a view measured again). The declared column is read from the code as it is now."""
    where = {(view, kind): (module, args) for module, view, kind, args in cases()}
    rows = {}
    for text in reports:
        for ln in text.splitlines():
            m = LINE.match(ln)
            if m and (m[1], m[2]) in where:
                rows[m[1], m[2]] = (float(m[3]), float(m[4]))
    out = [f"{BEGIN}\n`python -m bench worst` on {os.cpu_count()} cores, each view in a fresh process with an empty cache "
           f"and one torch thread (as in the long-run worker){f' ({note})' if note else ''}: the costliest setting "
           "(every number at its costlier end) and the defaults. *Declared*: the cost the view declares with its inputs, "
           "from which its \"about N s\" texts come; the goal is within 1.5x of the measured time, under 30 s and "
           "1.5 GB.\n", "| view | setting | arguments | measured (s) | declared (s) | measured / declared | memory added |",
           "|---|---|---|---|---|---|---|"]
    for (view, kind), (module, args) in where.items():
        if (view, kind) not in rows:
            continue
        s, mb = rows[view, kind]
        fn = getattr(importlib.import_module(module), view)
        arg_text = ", ".join(f"{r.key} {a}" for r, a in zip(fn.params, args)) or "-"
        d = declared(module, view, args)
        out.append(f"| {view} | {kind} | {arg_text} | {s:.1f} | {d:.1f} | {s / d:.2f} | {max(mb, 0) / 1024:.2f} GB |")
    body = "\n".join(out) + f"\n{END}"
    text = README.read_text()
    if BEGIN not in text or END not in text:
        raise RuntimeError(f"README.md has no {BEGIN} ... {END} markers")
    README.write_text(re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: body, text, flags=re.S))


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--readme", action="store_true", help="write README.md's table of long views")
    ap.add_argument("--only", nargs="*", default=[], help="measure only these views")
    ap.add_argument("--readme-from", nargs="+", metavar="REPORT",
                    help="write README.md's table from this bench's printed reports (later ones replace earlier rows)")
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    if a.readme_from:
        write_readme(*(Path(f).read_text() for f in a.readme_from), note=a.note)
    else:
        print(run(a.readme, tuple(a.only)))
