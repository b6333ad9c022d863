"""`spaces.GPU` where it exists (Hugging Face ZeroGPU Spaces), a no-op decorator elsewhere; on ZeroGPU, a refused
GPU run falls back to the CPU.

On a ZeroGPU Space the GPU is attached only inside functions decorated with ``spaces.GPU``, and ``spaces``
must be imported before anything initialises CUDA (Hugging Face's ZeroGPU documentation,
huggingface/hub-docs ``docs/hub/spaces-zerogpu.md``). This module is that one place: ``app.py`` imports it
first, before torch, and it imports ``spaces`` at once when the package is installed and the app runs on a
Space. Only long runs go through :func:`gpu` (``demos.common.ui.handler`` decides from a view's declared cost,
after the inputs are checked, so a bad value gets its plain sentence on the CPU side, not a generic ZeroGPU
worker error); quick views never ask for a GPU slot.

ZeroGPU can refuse a run: the visitor's (or, without a login, the network's) quota is spent, no GPU comes free
in time, or the duration asked for is more than allowed. ``spaces`` then raises a ``gr.Error`` from
``spaces/zero/client.py:schedule`` before anything ran. :func:`gpu` catches exactly those (the traceback passes
through ``schedule``), logs one line, and runs the same function on the CPU instead (``fallback``), so no
spaces message reaches the page raw. :func:`refusal` turns the refusal into plain words.

``in_gpu_call()`` is True inside a GPU call; ``demos.common.device.get_device`` answers "cpu" outside one on
ZeroGPU (where ``torch.cuda.is_available()`` is True everywhere, as ``spaces`` emulates CUDA until a GPU is
attached).
"""

from __future__ import annotations

import contextvars
import functools
import importlib.util
import inspect
import logging
import os

log = logging.getLogger("kplab")


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "t", "true", "yes")


ON_SPACE = bool(os.environ.get("SPACE_ID")) or _flag("SPACES_ZERO_GPU")
ON_ZERO_GPU = _flag("SPACES_ZERO_GPU")

spaces = None
if ON_SPACE and importlib.util.find_spec("spaces") is not None:
    import spaces  # noqa: F401  (before torch touches CUDA)

# spaces.GPU really asks the device API for a GPU (spaces' own test of the same variable, spaces/config.py)
ZERO_GPU = spaces is not None and bool(importlib.import_module("spaces.config").Config.zero_gpu)

_IN_GPU_CALL: contextvars.ContextVar[bool] = contextvars.ContextVar("kplab_in_gpu_call", default=False)


def in_gpu_call() -> bool:
    """True while a function decorated with :func:`gpu` runs on ZeroGPU's GPU (in spaces' worker process)."""
    return _IN_GPU_CALL.get()


# spaces' error titles (spaces/zero/client.py) -> what happened, in plain words
_BY_TITLE = {
    "ZeroGPU quota exceeded": "the GPU quota is spent",
    "ZeroGPU queue timeout": "no GPU came free in time",
    "ZeroGPU illegal duration": "this run needs more GPU time than ZeroGPU allows",
    "ZeroGPU pending credits exceeded": "too many GPU runs are already reserved",
    "ZeroGPU client error": "no GPU was available",
}
REASONS = tuple(sorted(set(_BY_TITLE.values()) | {
    "this Space has reached its GPU limit", "no GPU came free within 60 s",
    "the GPU service answered with an error", "the GPU service could not be reached"}))


def _asked_for_a_gpu(e: BaseException) -> bool:
    """The exception was raised while asking ZeroGPU for a GPU (spaces/zero/client.py's ``schedule``), i.e.
    before anything ran on it."""
    tb = e.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        path = code.co_filename.replace("\\", "/")
        if code.co_name == "schedule" and path.endswith(("spaces/zero/client.py", "spaces/zero/api.py")):
            return True
        tb = tb.tb_next
    return False


def refusal(e: BaseException) -> str | None:
    """What a ZeroGPU refusal means, in plain words (one of :data:`REASONS`); None when ``e`` is not a refusal
    (the run itself failed, or the visitor left while queueing)."""
    if not _asked_for_a_gpu(e):
        return None
    message = str(getattr(e, "message", e))
    if "closed by visitor" in message:
        return None
    title = getattr(e, "title", "")
    if title == "ZeroGPU quota exceeded":
        if message.startswith("No GPU was available after"):
            return "no GPU came free within 60 s"
        if message.startswith("Space app has reached its GPU limit"):
            return "this Space has reached its GPU limit"
    if title in _BY_TITLE:
        return _BY_TITLE[title]
    if type(e).__module__.startswith("httpx"):
        return "the GPU service could not be reached"
    return "the GPU service answered with an error"


def fallback_sentence(reason: str, cost: str) -> str:
    """The one sentence a refused run shows: what happened and how long the CPU run takes (``cost`` from
    ``params.about`` of the view's declared cost)."""
    return f"This run is on the CPU, not a GPU: ZeroGPU refused it ({reason}); it takes {cost}."


def _marked(f):
    """``f``, which knows it runs inside a GPU call (:func:`in_gpu_call`)."""
    if inspect.isgeneratorfunction(f):
        @functools.wraps(f)
        def gen(*a, **k):
            token = _IN_GPU_CALL.set(True)
            try:
                yield from f(*a, **k)
            finally:
                try:
                    _IN_GPU_CALL.reset(token)
                except ValueError:  # resumed in another context: that context never had the mark
                    pass

        return gen

    @functools.wraps(f)
    def one(*a, **k):
        token = _IN_GPU_CALL.set(True)
        try:
            return f(*a, **k)
        finally:
            _IN_GPU_CALL.reset(token)

    return one


def gpu(fn=None, *, duration=60, fallback=None):
    """Decorate a function that needs the GPU; ``@gpu``, ``@gpu(duration=120)`` or ``gpu(fn, duration=f)``.

    ``duration``: seconds ZeroGPU reserves, or a function of the call's arguments that returns them.
    ``fallback(reason, *args, **kwargs)``: what runs when ZeroGPU refuses (outside a GPU call, so on the CPU);
    ``reason`` is :func:`refusal`'s plain words. Default: ``fn`` itself. Only on ZeroGPU does anything change:
    elsewhere ``fn`` is returned as it is (a local or dedicated GPU runs everything on it).
    The arguments cross to spaces' worker process (pickled): pass values, not callbacks.
    """

    def wrap(f):
        if not ZERO_GPU:
            return f
        on_gpu = spaces.GPU(duration=duration)(_marked(f))
        cpu = fallback or (lambda reason, *a, **k: f(*a, **k))

        def refused(e):
            reason = refusal(e)
            if reason is None:
                return None
            log.warning("ZeroGPU refused %s (%s: %s); running it on the CPU", getattr(f, "__name__", f), reason,
                        str(getattr(e, "message", e))[:200])
            return reason

        if inspect.isgeneratorfunction(f):
            @functools.wraps(f)
            def gen(*a, **k):
                it = on_gpu(*a, **k)
                try:
                    first = next(it)
                except StopIteration:
                    return
                except Exception as e:  # noqa: BLE001 - a refusal runs on the CPU; anything else is re-raised
                    reason = refused(e)
                    if reason is None:
                        raise
                    yield from cpu(reason, *a, **k)
                    return
                try:
                    yield first
                    yield from it
                finally:
                    it.close()

            return gen

        @functools.wraps(f)
        def one(*a, **k):
            try:
                return on_gpu(*a, **k)
            except Exception as e:  # noqa: BLE001 - a refusal runs on the CPU; anything else is re-raised
                reason = refused(e)
                if reason is None:
                    raise
                return cpu(reason, *a, **k)

        return one

    return wrap(fn) if fn is not None else wrap
