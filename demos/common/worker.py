"""Long runs in a second process, so a training run does not share the server's interpreter lock with the
class's quick controls.

Why (measured with `python -m bench classload`, 2-core machine): a long run is torch with one thread, but its
training loop is mostly Python around small tensor operations, so it holds the GIL much of the time, and every
quick handler and the server's event loop wait for it. In its own process it uses the second core and leaves the
first to the server.

One worker process (``python -m demos.common.worker``), started once and kept; tasks run one at a time (the long
runs already share one queue slot, ``ui.HEAVY``). A task names a view (module and function, declared with
``params.takes``) and its checked arguments; the worker runs the view's raw function and streams back what it
yields (or returns), its progress reports, and its error. A new task, or the caller closing the stream (Stop,
or a closed page), stops the one before between two of its yields.

Used on a CPU only: on ZeroGPU the long runs go through ``spaces.GPU``, whose own worker processes hold the GPU,
and on a dedicated GPU the run is GPU-bound anyway. ``KPLAB_WORKER=0`` turns it off.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import subprocess
import sys
import threading
import traceback
from multiprocessing.connection import Connection
from pathlib import Path

from .errors import UserInputError

log = logging.getLogger("kplab")
ROOT = Path(__file__).resolve().parents[2]
NICE = int(os.environ.get("KPLAB_WORKER_NICE", "10"))


def wanted() -> bool:
    from .device import get_device
    from .gpu import ON_ZERO_GPU

    return os.environ.get("KPLAB_WORKER", "1") != "0" and not ON_ZERO_GPU and get_device().type == "cpu"


class Worker:
    """The parent's handle on the worker process. Every message carries its task's number; a run reads only its
    own (what an abandoned run left in the pipe is skipped by the next)."""

    def __init__(self):
        self.proc = None
        self.lock = threading.Lock()  # starting the process, numbering tasks, writing to the pipe
        self.rlock = threading.Lock()  # one reader of the pipe at a time
        self.task = 0
        self.active = None

    def _ensure(self):
        if self.proc is not None and self.proc.poll() is None:
            return
        to_child_r, to_child_w = os.pipe()
        to_parent_r, to_parent_w = os.pipe()
        self.proc = subprocess.Popen([sys.executable, "-m", "demos.common.worker", str(to_child_r), str(to_parent_w)],
                                     cwd=ROOT, pass_fds=(to_child_r, to_parent_w), env=os.environ.copy())
        os.close(to_child_r)
        os.close(to_parent_w)
        self.send, self.recv = Connection(to_child_w, readable=False), Connection(to_parent_r, writable=False)
        if self.recv.recv() != (0, "ready"):
            raise RuntimeError("the long-run worker did not start")

    def start(self):
        """Start the process now (at app start-up, so the first long run does not wait for its imports)."""
        with self.lock:
            self._ensure()

    def _post(self, msg):
        with self.lock:
            self.send.send(msg)

    def run(self, fn, kwargs: dict, report=None):
        """Yield what ``fn.raw(**kwargs)`` yields (or the one value it returns), computed in the worker."""
        with self.lock:
            self._ensure()
            if self.active is not None:
                self.send.send(("stop", self.active))  # the slot is ours: the run before was abandoned
            self.task += 1
            tid = self.active = self.task
            self.send.send(("run", tid, fn.__module__, fn.__name__, kwargs))
        finished = False
        try:
            while self.active == tid:
                with self.rlock:
                    msg = self.recv.recv()
                if msg[0] != tid:
                    continue  # an earlier, abandoned run's
                kind, rest = msg[1], msg[2:]
                if kind == "progress":
                    if report:
                        report(*rest)
                elif kind == "item":
                    yield rest[0]
                else:
                    finished = True
                    if kind == "user_error":
                        raise UserInputError(rest[0])
                    if kind == "error":
                        raise RuntimeError(f"the long run failed in the worker process:\n{rest[0]}")
                    return  # done
        finally:
            if not finished:  # closed early (Stop, or a closed page): the worker stops between two yields
                self._post(("stop", tid))
            if self.active == tid:
                self.active = None


_WORKER = Worker()


def run(fn, kwargs: dict, report=None):
    return _WORKER.run(fn, kwargs, report)


def start() -> None:
    _WORKER.start()


# -- the worker process ------------------------------------------------------------------------------------------

def _serve(inbox: Connection, outbox: Connection) -> None:
    from .device import configure_threads

    configure_threads()  # one torch thread: the server keeps the other core
    os.nice(NICE)  # below the server: when the class clicks, its quick controls go first
    outbox.send((0, "ready"))
    pending = []
    while True:
        try:
            msg = pending.pop(0) if pending else inbox.recv()
        except EOFError:  # the server has gone
            return
        if msg[0] != "run":
            continue  # a stop for a run that has already ended
        _, tid, module, name, kwargs = msg
        try:
            fn = getattr(importlib.import_module(module), name)
            extra = {}
            if "report" in inspect.signature(fn.raw).parameters:
                extra["report"] = lambda frac, text="", tid=tid: outbox.send((tid, "progress", frac, text))
            result = fn(**kwargs, **extra)  # checked again against the records: the worker trusts no caller
            items = result if inspect.isgenerator(result) else iter([result])
            for item in items:
                outbox.send((tid, "item", item))
                stop = False
                while inbox.poll():
                    m = inbox.recv()
                    if m[0] == "stop" and m[1] == tid:
                        stop = True
                    elif m[0] == "run":
                        pending.append(m)  # the next task; the parent has sent its stop for this one first
                if stop:
                    break
            if inspect.isgenerator(result):
                result.close()
            outbox.send((tid, "done"))
        except UserInputError as e:
            outbox.send((tid, "user_error", str(e)))
        except Exception:  # noqa: BLE001 - reported to the server, which logs it and shows its sentence
            outbox.send((tid, "error", traceback.format_exc()))


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
