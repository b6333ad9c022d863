"""`spaces.GPU` where it exists (Hugging Face ZeroGPU Spaces), a no-op decorator elsewhere.

On a ZeroGPU Space the GPU is attached only inside functions decorated with ``spaces.GPU``; every handler
that computes on the device is wrapped with :func:`gpu` so the same code runs there, on a local GPU, and
on a CPU-only laptop.
"""

from __future__ import annotations

import functools
import importlib.util
import os


def _spaces_gpu():
    if importlib.util.find_spec("spaces") is None or not os.environ.get("SPACE_ID"):
        return None
    import spaces  # type: ignore

    return spaces.GPU


def gpu(fn=None, *, duration: int = 60):
    """Decorate a handler that needs the GPU; usable as ``@gpu`` or ``@gpu(duration=120)``."""
    deco = _spaces_gpu()

    def wrap(f):
        if deco is None:
            return f
        wrapped = deco(duration=duration)(f)
        return functools.wraps(f)(wrapped)

    return wrap(fn) if fn is not None else wrap
