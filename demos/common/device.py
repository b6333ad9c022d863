"""The one device every tab computes on: CUDA, then Apple's MPS, then the CPU; on ZeroGPU, the GPU inside a GPU
call and the CPU outside one."""

from __future__ import annotations

import functools
import os

import torch

from . import gpu

CPU = torch.device("cpu")


@functools.lru_cache(maxsize=1)
def attached() -> torch.device:
    """The device this machine always has: CUDA, then MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return CPU


def get_device() -> torch.device:
    """Where to compute now. Locally and on a dedicated GPU: :func:`attached`, always. On ZeroGPU the GPU exists
    only inside a GPU call (``demos.common.gpu``), while ``spaces`` makes ``torch.cuda.is_available()`` answer
    True everywhere: outside a GPU call (quick views, a refused run's CPU fallback) this is the CPU; inside one,
    CUDA if the attached GPU really answers."""
    if not gpu.ZERO_GPU:
        return attached()
    if gpu.in_gpu_call() and torch.cuda.is_available():
        return torch.device("cuda")
    return CPU


def where_label() -> str:
    """The header's "computing on": the device, or on ZeroGPU where each kind of view runs."""
    if gpu.ZERO_GPU:
        return (f"{device_label(CPU)} for quick views; ZeroGPU for long runs (the CPU when ZeroGPU refuses, "
                "and the run says so)")
    return device_label()


def configure_threads() -> int:
    """One torch (OpenMP) thread per request, unless KPLAB_TORCH_THREADS says otherwise; returns the count.

    Gradio runs handlers in worker threads. Measured on the 2-core machine this lab is built on
    (bench/threads.py): a training run in a worker thread took 2-4x *longer* with torch's default of 2 threads
    than with 1 (each request thread gets its own OpenMP team, and the teams oversubscribe the cores), while in
    the main thread 2 threads were only ~20 % faster than 1. With one thread per request, two requests use
    both cores (the queue runs two at once) and none slows the other down.
    """
    n = int(os.environ.get("KPLAB_TORCH_THREADS", "1"))
    torch.set_num_threads(max(1, n))
    return torch.get_num_threads()


def device_label(device: torch.device | None = None) -> str:
    """A short human description, e.g. 'CUDA (NVIDIA H100)', 'MPS (Apple GPU)', 'CPU (2 threads)'."""
    d = device or get_device()
    if d.type == "cuda":
        try:
            return f"CUDA ({torch.cuda.get_device_name(d)})"
        except Exception:  # noqa: BLE001 - ZeroGPU: no device is attached outside a GPU call
            return "CUDA (ZeroGPU)"
    if d.type == "mps":
        return "MPS (Apple GPU)"
    cores = os.cpu_count() or 1
    return f"CPU ({cores} core{'s' * (cores != 1)})"


def synchronize(device: torch.device | None = None) -> None:
    """Wait for queued kernels, so wall-clock timings measure the work and not its launch."""
    d = torch.device(device) if device is not None else get_device()
    if d.type == "cuda":
        torch.cuda.synchronize(d)
    elif d.type == "mps":
        torch.mps.synchronize()


def time_forward(module, x, repeats: int = 5) -> float:
    """Median wall time in ms of ``module(x)`` under inference mode, after one warm-up, synchronizing the
    device around each run (module and x already on the device)."""
    import statistics
    import time

    device = x.device
    times = []
    with torch.inference_mode():
        module(x)
        synchronize(device)
        for _ in range(repeats):
            t = time.perf_counter()
            module(x)
            synchronize(device)
            times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)
