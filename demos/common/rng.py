"""Reproducible randomness in a multi-threaded server.

Gradio runs handlers in threads, and torch's global generator is shared by all of them: a handler that seeds it
and then draws (dropout masks, weight initialization) can have its draws taken by another request in between.
``seeded(seed)`` holds one process-wide lock while it seeds and draws, so those sections stay reproducible.
Code that can pass an explicit ``torch.Generator`` should do that instead.
"""

from __future__ import annotations

import contextlib
import threading

import torch

SEED_LOCK = threading.RLock()


@contextlib.contextmanager
def seeded(seed: int):
    with SEED_LOCK:
        torch.manual_seed(seed)
        yield
