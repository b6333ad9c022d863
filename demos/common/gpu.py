"""`spaces.GPU` where it exists (Hugging Face ZeroGPU Spaces), a no-op decorator elsewhere.

On a ZeroGPU Space the GPU is attached only inside functions decorated with ``spaces.GPU``, and ``spaces``
must be imported before anything initialises CUDA (Hugging Face's ZeroGPU documentation,
huggingface/hub-docs ``docs/hub/spaces-zerogpu.md``). This module is that one place: ``app.py`` imports it
first, before torch, and it imports ``spaces`` at once when the package is installed and the app runs on a
Space. Every handler that computes on the device goes through :func:`gpu` (``demos.common.ui.on`` with
``on_gpu=True`` applies it after the inputs are checked, so a bad value gets its plain sentence on the CPU
side, not a generic ZeroGPU worker error).
"""

from __future__ import annotations

import functools
import importlib.util
import os


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "t", "true", "yes")


ON_SPACE = bool(os.environ.get("SPACE_ID")) or _flag("SPACES_ZERO_GPU")
ON_ZERO_GPU = _flag("SPACES_ZERO_GPU")

spaces = None
if ON_SPACE and importlib.util.find_spec("spaces") is not None:
    import spaces  # noqa: F401  (before torch touches CUDA)


def gpu(fn=None, *, duration=60):
    """Decorate a function that needs the GPU; ``@gpu``, ``@gpu(duration=120)`` or ``gpu(fn, duration=f)``.
    ``duration``: seconds ZeroGPU reserves, or a function of the call's arguments that returns them."""

    def wrap(f):
        if spaces is None:
            return f
        return functools.wraps(f)(spaces.GPU(duration=duration)(f))

    return wrap(fn) if fn is not None else wrap
