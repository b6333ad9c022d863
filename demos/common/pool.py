"""Quick views in a pool of worker processes, so a class's clicks use both cores of a small CPU.

Why: the server's own process runs Gradio, the HTTP server and every handler under one interpreter lock; a quick
view (numpy and plotly-as-dicts, mostly Python) holds that lock while it computes, so a class's clicks queued
behind one core while the other idled. Here a quick view runs in one of ``KPLAB_QUICK_WORKERS`` processes (on a
CPU; 0 turns the pool off): it decodes its inputs, computes, and serializes its figures to JSON there; the
server only checks the inputs against their records (before the call), passes bytes along and sends them.

- Same results: a worker runs the view's raw function with the arguments the records checked, and returns its
  outputs with each plotly figure as its JSON (:class:`FigureJSON`; the page receives the same text as from
  ``Figure.to_json()`` in the server).
- Same sentences: a ``UserInputError`` raised in a worker is raised again in the server with its sentence, so
  ``ui.friendly`` shows the same one-line warning; any other fault comes back as its traceback (logged by the
  server, which shows its fixed sentence).
- Session state stays consistent: an input that is a dict (the keypoints' ``gr.State``, which a view may fill in
  place, e.g. with a model's forward pass) is sent back with the result and written into the server's own dict,
  as if the view had run in the server; also when the view refuses (a refusal may note itself in the state).
- Nothing lost when a worker dies: its call is retried once on a fresh worker (the dead one is restarted); if that
  one dies too, the call raises :class:`WorkerLost`, which the page shows as one sentence.

On ZeroGPU (``spaces.GPU`` owns the device and its processes) and on a GPU machine, quick views stay in the
server's process: :func:`wanted` is False there.

On by default on a CPU with two or more cores (2 workers; ``KPLAB_QUICK_WORKERS=0`` turns it off). Measured in one
sitting on this 2-core machine while it was otherwise idle (``python -m bench classload``, 40 students + 2 long runs;
README's class-load section has the full table): quick clicks p50 0.12 s / p95 0.39 s with the pool against 0.34 s /
1.61 s without it, and opening the page 0.30 s against 7.26 s. On the same machine shared with other heavy work (load
average 15-20) the pool had been slower (p95 4.5 s vs 1.6 s): with no idle core to gain it only adds its transfers and
a second copy of every cache, so a machine that is already saturated by other tenants should turn it off.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from multiprocessing.connection import Connection
from pathlib import Path

from .errors import UserInputError

log = logging.getLogger("kplab")
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = float(os.environ.get("KPLAB_QUICK_TIMEOUT", "60"))  # a quick view that takes longer is stuck
LOST = ("The process computing this panel stopped before it finished, twice; it has been restarted. "
        "Try the control again.")


DEFAULT = "2" if (os.cpu_count() or 1) >= 2 else "0"  # one worker per core: the server process waits, they compute


def size() -> int:
    """How many quick workers: ``KPLAB_QUICK_WORKERS`` (default 2 where the CPU has two cores or more, see above), 0
    on ZeroGPU or a GPU."""
    import torch

    from . import gpu

    mps = getattr(torch.backends, "mps", None)
    if (gpu.ON_ZERO_GPU or getattr(gpu, "ZERO_GPU", False) or torch.cuda.is_available()
            or (mps is not None and mps.is_available())):
        return 0
    return max(0, int(os.environ.get("KPLAB_QUICK_WORKERS", DEFAULT)))


def wanted() -> bool:
    return size() > 0


_LOCKS: dict[int, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _state_lock(state: dict) -> threading.Lock:
    """One lock per session-state dict (by identity; the dict itself crosses to the workers, so the lock stays here).
    Bounded: locks nobody holds are dropped when there are more than 1,000."""
    with _LOCKS_GUARD:
        if len(_LOCKS) > 1000:
            for k in [k for k, v in _LOCKS.items() if not v.locked()]:
                del _LOCKS[k]
        return _LOCKS.setdefault(id(state), threading.Lock())


class WorkerLost(RuntimeError):
    """A quick view's worker died twice during the same call."""


class FigureJSON(str):
    """A plotly figure serialized in the worker (``Figure.to_json()``); the server turns it into Gradio's PlotData
    without decoding it."""


def _encode(value):
    import plotly.graph_objects as go

    from .plotstyle import PlainFigure

    if isinstance(value, (go.Figure, PlainFigure)):
        return FigureJSON(value.to_json())
    if isinstance(value, dict) and isinstance(value.get("value"), (go.Figure, PlainFigure)):  # an Update with one
        return type(value)({**value, "value": FigureJSON(value["value"].to_json())})
    return value


class _Proc:
    """One worker process and its two pipes."""

    def __init__(self, preload: tuple[str, ...]):
        to_child_r, to_child_w = os.pipe()
        to_parent_r, to_parent_w = os.pipe()
        self.proc = subprocess.Popen([sys.executable, "-m", "demos.common.pool", str(to_child_r), str(to_parent_w),
                                      ",".join(preload)], cwd=ROOT, pass_fds=(to_child_r, to_parent_w),
                                     env=os.environ.copy())
        os.close(to_child_r)
        os.close(to_parent_w)
        self.send, self.recv = Connection(to_child_w, readable=False), Connection(to_parent_r, writable=False)
        self.ready = False
        self.ready_lock = threading.Lock()

    def wait_ready(self, timeout: float = 300) -> bool:
        """Whether the worker has imported its modules and waits for calls (waiting up to ``timeout`` s for it)."""
        if self.ready:
            return True
        got = self.ready_lock.acquire(timeout=timeout) if timeout > 0 else self.ready_lock.acquire(blocking=False)
        if not got:
            return self.ready  # another thread is reading the worker's "ready"
        try:
            if not self.ready and self.recv.poll(timeout):
                if self.recv.recv() != ("ready",):
                    raise EOFError("the quick worker did not start")
                self.ready = True
        finally:
            self.ready_lock.release()
        return self.ready

    def call(self, module: str, name: str, kwargs: dict):
        if not self.wait_ready():
            raise EOFError("the quick worker did not start")
        self.send.send_bytes(pickle.dumps((module, name, kwargs), protocol=pickle.HIGHEST_PROTOCOL))
        if not self.recv.poll(TIMEOUT_S):
            raise EOFError(f"no answer within {TIMEOUT_S:.0f} s")
        return pickle.loads(self.recv.recv_bytes())

    def close(self, kill: bool = False):
        try:
            self.send.close()
        except OSError:
            pass
        if kill and self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.recv.close()

    @property
    def pid(self) -> int:
        return self.proc.pid


class Pool:
    """``n`` worker processes; a call takes an idle one (waiting when all are busy), so at most ``n`` quick views
    compute at once, each on its own core."""

    def __init__(self, n: int, preload: tuple[str, ...] = ()):
        self.n, self.preload = n, tuple(preload)
        self.idle: queue.Queue[_Proc] = queue.Queue()
        self.lock = threading.Lock()
        self.procs: list[_Proc] = []
        self.restarts = 0
        self.open = False  # views go to the workers once they are started and warmed (start(wait=True) or warm())

    def start(self, wait: bool = True):
        """Start the processes now (at app start-up: their imports then cost the first student nothing); with
        ``wait``, until each is ready."""
        with self.lock:
            while len(self.procs) < self.n:
                p = _Proc(self.preload)
                self.procs.append(p)
                self.idle.put(p)
        if wait:
            for p in list(self.procs):
                try:
                    p.wait_ready()
                except EOFError:
                    log.warning("a quick worker did not start; it is started again on its first call")
            self.open = True

    def ready(self) -> bool:
        """Every worker has started (until then, and while a dead one's replacement starts, views compute in the
        server's process instead of waiting for a worker's imports)."""
        procs = list(self.procs)
        try:
            return self.open and bool(procs) and all(p.wait_ready(0) for p in procs)
        except EOFError:
            return False

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def _replace(self, dead: _Proc) -> _Proc:
        dead.close(kill=True)
        fresh = _Proc(self.preload)
        with self.lock:
            self.procs = [fresh if p is dead else p for p in self.procs]
            self.restarts += 1
        log.warning("a quick worker (pid %d) stopped; started pid %d", dead.pid, fresh.pid)
        return fresh

    def run(self, fn, kwargs: dict) -> dict:
        """``fn.raw(**kwargs)`` computed in a worker: its dict of outputs, figures as :class:`FigureJSON`. Calls that
        carry the same session state run one after the other, as they read and write it (in the server's process
        they share the dict; here each worker gets a copy: a dropdown's two events of one choice both missed the
        note of the first one's refusal, and the page showed two toasts)."""
        states = [v for v in kwargs.values() if isinstance(v, dict)]
        if not states:
            return self._run(fn, kwargs)
        with _state_lock(states[0]):
            return self._run(fn, kwargs)

    def _run(self, fn, kwargs: dict) -> dict:
        if not self.procs:
            self.start()
        p = self.idle.get()
        try:
            for attempt in (1, 2):
                try:
                    kind, payload, states = p.call(fn.__module__, fn.__name__, kwargs)
                    break
                except (EOFError, OSError, pickle.UnpicklingError):
                    p = self._replace(p)
                    if attempt == 2:
                        raise WorkerLost(LOST) from None
        finally:
            self.idle.put(p)
        if kind != "error":
            for key, value in states.items():  # session state the view filled in place, written back in place (also
                kwargs[key].clear()            # when it refused: e.g. the keypoints' note of a refusal already shown)
                kwargs[key].update(value)
        if kind == "user_error":
            message, outputs = payload
            e = UserInputError(message)
            e.outputs = outputs  # what the page shows after the refusal (None: keep every output)
            raise e
        if kind == "error":
            raise RuntimeError(f"the quick view {fn.__name__} failed in a worker process:\n{payload}")
        return payload

    def warm(self, calls: list) -> None:
        """Run each ``(fn, kwargs)`` once in every worker (at start-up: a worker's own caches, e.g. a loaded model,
        are then filled before the class's first click). Failures are logged; the view reports them when called."""
        taken = [self.idle.get() for _ in range(len(self.procs))]
        try:
            for p in taken:
                for fn, kwargs in calls:
                    try:
                        kind, payload, _ = p.call(fn.__module__, fn.__name__, kwargs)
                        if kind == "error":
                            log.warning("warming %s in a quick worker failed:\n%s", fn.__name__, payload)
                    except (EOFError, OSError, pickle.UnpicklingError):
                        log.warning("a quick worker stopped while warming %s", fn.__name__)
                        break
        finally:
            for p in taken:
                self.idle.put(p)
            self.open = True

    def close(self):
        with self.lock:
            procs, self.procs = self.procs, []
        for p in procs:
            p.close()


_POOL: Pool | None = None
_POOL_LOCK = threading.Lock()


def get() -> Pool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = Pool(size(), preload=_preload())
        return _POOL


def _preload() -> tuple[str, ...]:
    """The view modules a worker imports before it says it is ready (``KPLAB_QUICK_PRELOAD``, comma-separated;
    the app sets it to its tabs' views)."""
    return tuple(m for m in os.environ.get("KPLAB_QUICK_PRELOAD", "").split(",") if m)


def run(fn, kwargs: dict) -> dict:
    return get().run(fn, kwargs)


def warm(calls: list) -> None:
    """Fill every worker's caches with these calls (:meth:`Pool.warm`), once the workers have started."""
    if _POOL is not None and _POOL.n and _POOL.procs:
        for p in list(_POOL.procs):
            p.wait_ready()
        _POOL.warm(calls)


def started() -> bool:
    """True once :func:`start` has run with a pool of at least one process and its workers are ready (the app
    starts it at start-up; handlers built in a test or a script compute in their own process)."""
    return _POOL is not None and _POOL.n > 0 and _POOL.ready()


def start(preload: tuple[str, ...] = (), wait: bool = False) -> None:
    """Start the app's pool (without waiting for the workers' imports unless ``wait``)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = Pool(size(), preload=preload or _preload())
    if _POOL.n:
        _POOL.start(wait=wait)


# -- the worker process ------------------------------------------------------------------------------------------

def _serve(inbox: Connection, outbox: Connection, preload: list[str]) -> None:
    from .device import configure_threads

    configure_threads()  # one torch thread: each worker has its core
    for module in preload:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - the call that needs it reports the fault
            traceback.print_exc()
    outbox.send(("ready",))
    while True:
        try:
            module, name, kwargs = pickle.loads(inbox.recv_bytes())
        except EOFError:  # the server has gone
            return
        dicts = [k for k, v in kwargs.items() if isinstance(v, dict)]
        try:
            fn = getattr(importlib.import_module(module), name)
            result = fn.raw(**kwargs)
            if isinstance(result, dict):
                result = {k: _encode(v) for k, v in result.items()}
            answer = ("ok", result, {k: kwargs[k] for k in dicts})
        except UserInputError as e:
            outputs = getattr(e, "outputs", None)
            if isinstance(outputs, dict):
                outputs = {k: _encode(v) for k, v in outputs.items()}
            answer = ("user_error", (str(e), outputs), {k: kwargs[k] for k in dicts})  # a refusal may note itself
        except Exception:  # noqa: BLE001 - reported to the server, which logs it and shows its sentence
            answer = ("error", traceback.format_exc(), {})
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an output that cannot cross processes: a fault of the view
            data = pickle.dumps(("error", traceback.format_exc(), {}), protocol=pickle.HIGHEST_PROTOCOL)
        outbox.send_bytes(data)


if __name__ == "__main__":
    from demos.common.pool import _serve  # this module by its name, so what it pickles (FigureJSON) unpickles

    _serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False),
           [m for m in (sys.argv[3] if len(sys.argv) > 3 else "").split(",") if m])
