"""The keypoint core of the lab: rendered data, one backbone with three heads, decoders, Hub loading, training.

This ``__init__`` is its public API; other topics, scripts and benchmarks import from here only::

    from demos.keypoints import get_model, decode, render, DECODERS, MODELS

- ``render(seed, variant=..., style=...)``: one procedurally rendered figure with exact float keypoints.
- ``get_model(name)``: a bundled model (``MODELS``), loaded once per process, in eval mode, on the lab's device.
- ``decode(heatmaps, how, beta=...)``: any registered decoder (``DECODERS``, records in ``DECODER_REGISTRY``).
- ``predict_heatmaps``, ``evaluate_model``, ``dataset``, ``to_tensor``: batched inference and evaluation.
"""

from __future__ import annotations

import functools

from .data import DEFAULT_SIZE, FLIP, HELDOUT_SEED0, JOINTS, LEFT, RIGHT, SKELETON, VARIANTS, heldout_seeds, render, render_batch
from .decoders import (DECODER_LABELS, DECODERS, REGISTRY as DECODER_REGISTRY, argmax, decode, expectation,
                       soft_argmax, softmax2d, softmax2d_naive, two_peak_score)
from .analysis import DECODER_COLORS, DECODER_SYMBOLS, LABELS as POINT_LABELS
from .hub import PRETRAINED, Loaded, ModelLoadError, bundled_names, load_model
from .models import KeypointNet, count_parameters
from . import cards, evaluation
from .registry import MODELS, PHOTO, PHOTO_LABEL, ModelRecord
from .training import DEFAULT_HEATMAP_BETA, dataset, decode_all, evaluate_model, metrics, predict_heatmaps, to_tensor


def get_loaded(name: str) -> Loaded:
    """``load_model(name)`` once per process and device, on the device computing now (``get_device``: on
    ZeroGPU the CPU outside a GPU call, CUDA inside one), shared read-only by every topic. Kept per device, so a
    quick view on the CPU never receives a copy that lives on the GPU."""
    from demos.common.device import get_device

    return _loaded_on(name, str(get_device()))


@functools.lru_cache(maxsize=32)
def _loaded_on(name: str, device: str) -> Loaded:
    return load_model(name, device=device)


def get_model(name: str) -> KeypointNet:
    """The bundled model ``name`` (see ``MODELS``), cached per process, in eval mode. Do not train it in
    place: copy it (``copy.deepcopy``) first."""
    return get_loaded(name).model


__all__ = ["DEFAULT_SIZE", "JOINTS", "SKELETON", "VARIANTS", "render", "render_batch", "heldout_seeds", "DECODERS", "DECODER_LABELS",
           "DECODER_REGISTRY", "decode", "softmax2d", "MODELS", "ModelRecord", "PHOTO", "PHOTO_LABEL", "get_model",
           "get_loaded", "load_model", "ModelLoadError", "bundled_names", "KeypointNet", "count_parameters",
           "dataset", "evaluate_model", "predict_heatmaps", "to_tensor", "FLIP", "LEFT", "RIGHT", "HELDOUT_SEED0",
           "argmax", "soft_argmax", "expectation", "softmax2d_naive", "two_peak_score", "PRETRAINED",
           "DEFAULT_HEATMAP_BETA", "decode_all", "metrics", "cards", "evaluation", "DECODER_COLORS", "DECODER_SYMBOLS",
           "POINT_LABELS"]
