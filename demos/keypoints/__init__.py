"""The keypoint core of the lab: rendered data, one backbone with four heads, decoders, Hub loading, training.

This ``__init__`` is its public API; other topics, scripts and benchmarks import from here only::

    from demos.keypoints import get_model, decode, render, DECODERS, MODELS

- ``render(seed, variant=..., style=...)``: one procedurally rendered figure with exact float keypoints.
- ``get_model(name)``: a bundled model (``MODELS``), loaded once per process, in eval mode, on the lab's device.
- ``decode(heatmaps, how, beta=...)``: any registered decoder (``DECODERS``, records in ``DECODER_REGISTRY``).
- ``model_for(role)`` / ``models_for(role)``: the model(s) a panel uses (``ModelRecord.roles``), never a typed name.
- ``predict_heatmaps``, ``evaluate_model``, ``dataset``, ``to_tensor``: batched inference and evaluation.
- ``train``, ``gaussian_targets``, ``write_card``: training a model and writing its card (``scripts/train.py``).
"""

from __future__ import annotations

from .data import (DEFAULT_SIZE, FLIP, HELDOUT_SEED0, JOINTS, LEFT, RIGHT, SKELETON, STYLES, VARIANTS, gaussian_targets,
                   heldout_seeds, render, render_batch, render_scene)
from .decoders import (DECODER_LABELS, DECODERS, REGISTRY as DECODER_REGISTRY, argmax, decode, decoders_for, expectation,
                       soft_argmax, softmax2d, softmax2d_naive, two_peak_score)
from .analysis import DECODER_COLORS, DECODER_SYMBOLS, LABELS as POINT_LABELS
from .hub import PRETRAINED, Loaded, ModelLoadError, bundled_names, get_loaded, get_model, load_model
from .models import HEADS, KeypointNet, count_parameters
from . import analysis, cards, evaluation, hub, photo, simcc
from .cards import write_card
from .photo import PHOTO_REPO
from .registry import HUB_ORG, MODELS, PHOTO, PHOTO_LABEL, ModelRecord, model_for, models_for
from .training import (DEFAULT_HEATMAP_BETA, dataset, decode_all, evaluate_model, metrics, predict_heatmaps, to_tensor,
                       train)


__all__ = ["DEFAULT_SIZE", "JOINTS", "SKELETON", "VARIANTS", "render", "render_batch", "heldout_seeds", "DECODERS", "DECODER_LABELS",
           "DECODER_REGISTRY", "decode", "softmax2d", "MODELS", "ModelRecord", "PHOTO", "PHOTO_LABEL", "get_model",
           "get_loaded", "load_model", "ModelLoadError", "bundled_names", "KeypointNet", "count_parameters",
           "dataset", "evaluate_model", "predict_heatmaps", "to_tensor", "FLIP", "LEFT", "RIGHT", "HELDOUT_SEED0",
           "argmax", "soft_argmax", "expectation", "softmax2d_naive", "two_peak_score", "PRETRAINED",
           "DEFAULT_HEATMAP_BETA", "decode_all", "metrics", "cards", "evaluation", "DECODER_COLORS", "DECODER_SYMBOLS",
           "POINT_LABELS", "gaussian_targets", "train", "write_card", "HEADS", "HUB_ORG", "PHOTO_REPO", "analysis",
           "model_for", "models_for", "decoders_for", "simcc", "render_scene", "STYLES", "hub", "photo"]
