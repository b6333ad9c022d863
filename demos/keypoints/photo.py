"""The photo model: torchvision's Keypoint R-CNN (ResNet-50 FPN, COCO, 17 keypoints).

Its keypoint head predicts, per detected person box, a 56x56 map of logits per keypoint, trained with a
soft-max cross-entropy over the 3136 positions: the soft-max of its output is a true probability map, the
lecture's P[u, v]. torchvision decodes it by bicubic up-sampling to the box size and arg-max; this module
captures the raw maps and decodes them with every decoder of the lab as well.

Weights: the Hub repo in :data:`PHOTO_REPO` (safetensors), else torchvision's own download (hash-checked);
offline with neither cached, :func:`load_photo_model` returns ``None`` and says why.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass

import numpy as np
import torch
from huggingface_hub import constants, hf_hub_download
from PIL import Image
from safetensors.torch import load_file
from torchvision.models.detection import KeypointRCNN_ResNet50_FPN_Weights, keypointrcnn_resnet50_fpn

from . import decoders, hub
from .registry import HUB_ORG

# The one config place for the photo model's Hub repo (safetensors weights of torchvision's COCO_V1) and its
# pinned revision (None: the newest, until scripts/publish.py has uploaded it and printed the commit).
PHOTO_REPO = os.environ.get("KPLAB_PHOTO_REPO", f"{HUB_ORG}/keypointrcnn-resnet50-fpn-coco")
PHOTO_REVISION: str | None = None
PHOTO_FILE = "model.safetensors"
COCO_KEYPOINTS = tuple(KeypointRCNN_ResNet50_FPN_Weights.COCO_V1.meta["keypoint_names"])  # torchvision's own list
COCO_SKELETON = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8),
                 (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6))
MAX_SIDE = 800  # the photo is downscaled to this longest side before detection


def build_model(**kw) -> torch.nn.Module:
    """Keypoint R-CNN with no weights loaded (no download)."""
    return keypointrcnn_resnet50_fpn(weights=None, weights_backbone=None, **kw)


def _trusted_torchvision_file(weights) -> str | None:
    """torchvision's cached checkpoint, only if its SHA-256 starts with the hash in its file name (torchvision
    checks that only when it downloads, not when it finds the file already there)."""
    name = os.path.basename(weights.url)
    path = os.path.join(torch.hub.get_dir(), "checkpoints", name)
    m = re.search(r"-([0-9a-f]{8,})\.", name)
    if not os.path.isfile(path) or not m:
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return path if h.hexdigest().startswith(m.group(1)) else None


_LOADED: dict[str, tuple[float, tuple]] = {}
RETRY_AFTER_S = 300.0


def load_photo_model(device=None) -> tuple[torch.nn.Module | None, str]:
    """(model, where it came from) or (None, why it is unavailable, in plain words).

    The Hub first (within hub.HUB_DEADLINE_S), then torchvision's cache (hash-checked) or its download when
    online. A success is kept for the process; a failure is tried again after RETRY_AFTER_S.
    """
    key = str(device)
    got = _LOADED.get(key)
    if got and (got[1][0] is not None or time.monotonic() - got[0] < RETRY_AFTER_S):
        return got[1]
    result = _load_photo_model(device)
    _LOADED[key] = (time.monotonic(), result)
    return result


def _load_photo_model(device=None, endpoint: str | None = None, weights=None) -> tuple[torch.nn.Module | None, str]:
    offline = bool(constants.HF_HUB_OFFLINE)
    reasons = []
    try:
        path = hub.bounded((PHOTO_REPO, PHOTO_REVISION, endpoint), hf_hub_download, PHOTO_REPO, PHOTO_FILE,
                           revision=PHOTO_REVISION, local_files_only=offline, etag_timeout=hub.HUB_DEADLINE_S,
                           endpoint=endpoint)
        hub.verify_file(path)  # the bytes hash to what the Hub declared at that revision
        model = build_model()
        model.load_state_dict(load_file(path))
        where = "Hub cache" if offline else "Hub"
        return model.eval().to(device or "cpu"), f"{where}: {PHOTO_REPO}@{PHOTO_REVISION or 'main'}"
    except Exception as e:  # noqa: BLE001
        reasons.append(f"the Hub copy: {hub.reason(e)}")
    weights = weights or KeypointRCNN_ResNet50_FPN_Weights.COCO_V1
    try:
        path = _trusted_torchvision_file(weights)
        if path is None and offline:
            raise FileNotFoundError
        state = (torch.load(path, map_location="cpu", weights_only=True) if path
                 else weights.get_state_dict(progress=False, check_hash=True))
        model = build_model()
        model.load_state_dict(state)
        return model.eval().to(device or "cpu"), "torchvision (COCO_V1)"
    except Exception:  # noqa: BLE001
        reasons.append("torchvision's copy: " + ("offline, and not in torch's cache" if offline
                                                 else "could not be downloaded"))
    return None, ("The photo model's weights (Keypoint R-CNN, 226 MB) are not available here: " + "; ".join(reasons) +
                  ". The bundled models keep working.")


@dataclass
class Person:
    box: np.ndarray  # (4,) x0, y0, x1, y1 in image px
    score: float
    logits: np.ndarray  # (17, 56, 56)
    map_coords: dict[str, np.ndarray]  # decoder -> (17, 2) in 56x56 map px
    coords: dict[str, np.ndarray]  # decoder -> (17, 2) in image px (plus "torchvision")


def map_to_image(c: torch.Tensor, boxes: torch.Tensor, map_size: int) -> torch.Tensor:
    """(N, K, 2) map px -> image px: the map spans the box, cell i = [i, i+1) of map_size cells."""
    x0, y0 = boxes[:, 0:1], boxes[:, 1:2]
    w = (boxes[:, 2:3] - boxes[:, 0:1]).clamp_min(1e-6)
    h = (boxes[:, 3:4] - boxes[:, 1:2]).clamp_min(1e-6)
    return torch.stack([x0 + c[..., 0] * w / map_size, y0 + c[..., 1] * h / map_size], -1)


@torch.no_grad()
def detect(model, image: Image.Image, beta: float = 1.0, score_thresh: float = 0.7, max_people: int = 5):
    """Detect people and decode each person's 56x56 keypoint logits with every decoder.

    Returns (resized image as uint8 array, list of Person), people sorted by score.
    """
    w, h = image.size
    s = min(1.0, MAX_SIDE / max(w, h))
    if s < 1.0:
        image = image.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR)
    arr = np.array(image)
    dev = next(model.parameters()).device
    captured = {}
    hook = model.roi_heads.keypoint_predictor.register_forward_hook(lambda m, i, o: captured.__setitem__("logits", o))
    try:
        x = torch.from_numpy(arr).permute(2, 0, 1).float().div(255).to(dev)
        out = model([x])[0]
    finally:
        hook.remove()
    keep = (out["scores"] >= score_thresh).nonzero().flatten()[:max_people]
    if keep.numel() == 0 or "logits" not in captured:
        return arr, []
    logits = captured["logits"][keep].float()  # (N, 17, 56, 56), same order as the detections
    boxes = out["boxes"][keep]
    M = logits.shape[-1]
    people = []
    mc = {d: decoders.decode(logits, d, beta=beta) for d in decoders.DECODERS}
    ic = {d: map_to_image(c, boxes, M) for d, c in mc.items()}
    ic["torchvision"] = out["keypoints"][keep][..., :2]
    for i in range(len(keep)):
        people.append(Person(boxes[i].cpu().numpy(), float(out["scores"][keep[i]]), logits[i].cpu().numpy(),
                             {d: c[i].cpu().numpy() for d, c in mc.items()},
                             {d: c[i].cpu().numpy() for d, c in ic.items()}))
    return arr, people
