"""The lab's keypoint models: one small ResNet-style backbone, four heads.

- ``regression``: conv trunk, pooling to 4x4, FC layers to 2K numbers (direct regression, L1 loss).
- ``heatmap``: K heatmaps at output stride 4 or 8, a weighted MSE to float-centred Gaussians
  (100 · mean((1 + 20·t)(h − t)²), ``training.loss_fn``), decoded afterwards.
- ``integral``: K heatmaps, soft-max + expectation inside the model (integral regression), L1 loss.
- ``simcc``: per joint, the stride-4 or stride-8 feature map flattened and classified into ``k`` bins per input
  pixel along x and along y (SimCC, Li et al. 2022; the codec is ``simcc.py``).

Models are ``PyTorchModelHubMixin`` modules: ``save_pretrained`` writes config.json + model.safetensors and
``from_pretrained`` reads them back (a local folder or a Hub repo id). Loading reads safetensors only; this
class never falls back to pickled ``pytorch_model.bin`` files.
"""

from __future__ import annotations

import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin, hf_hub_download

from . import decoders, simcc
from .data import DEFAULT_SIZE, JOINTS, SKELETON

HEADS = ("regression", "heatmap", "integral", "simcc")
SAFETENSORS = "model.safetensors"


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 convs with BatchNorm and an identity (or 1x1 projection) skip."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = (nn.Identity() if stride == 1 and cin == cout else
                     nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.skip(x))


class Backbone(nn.Module):
    """ResNet-style encoder to stride 16 and a top-down decoder back to strides 8 and 4. Its skips are projected
    by a 1x1 convolution and *added* to the up-sampled coarser map (FPN-style, Lin et al. 2017), where U-Net
    concatenates them (Ronneberger et al. 2015)."""

    def __init__(self, width: int = 24):
        super().__init__()
        w = width
        self.stem = nn.Sequential(
            nn.Conv2d(3, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),  # /2
            nn.Conv2d(w, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),  # /4
        )
        self.enc4 = BasicBlock(w, w)
        self.enc8 = BasicBlock(w, 2 * w, 2)
        self.enc16 = nn.Sequential(BasicBlock(2 * w, 4 * w, 2), BasicBlock(4 * w, 4 * w))
        self.lat8 = nn.Conv2d(2 * w, 4 * w, 1)
        self.dec8 = BasicBlock(4 * w, 2 * w)
        self.lat4 = nn.Conv2d(w, 2 * w, 1)
        self.dec4 = BasicBlock(2 * w, w)
        self.channels = {4: w, 8: 2 * w, 16: 4 * w}

    def forward(self, x) -> dict[int, torch.Tensor]:
        f4 = self.enc4(self.stem(x))
        f8 = self.enc8(f4)
        f16 = self.enc16(f8)
        d8 = self.dec8(F.interpolate(f16, size=f8.shape[-2:], mode="nearest") + self.lat8(f8))
        d4 = self.dec4(F.interpolate(d8, size=f4.shape[-2:], mode="nearest") + self.lat4(f4))
        return {4: d4, 8: d8, 16: f16}


class KeypointNet(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="keypoint-architecture-lab",
    tags=["keypoint-detection", "teaching"],
    license="mit",
    pipeline_tag="keypoint-detection",
):
    """Backbone + one head. ``forward`` returns a dict:

    - ``coords``: (B, K, 2) keypoints in input pixels (every head);
    - ``heatmaps``: (B, K, H, W) raw head output for heatmap/integral heads (MSE heatmaps or logits);
    - ``simcc_x``, ``simcc_y``: (B, K, W·k) and (B, K, H·k) bin logits for the SimCC head (its ``coords`` are the
      arg-max bins' centres, as the paper decodes).
    Inputs are float images (B, 3, S, S) in [0, 1].
    """

    def __init__(self, head: str = "heatmap", stride: int = 4, width: int = 24, num_joints: int = len(JOINTS),
                 input_size: int = DEFAULT_SIZE, sigma: float = 1.0, beta: float = 1.0, variant: str = "default",
                 joint_names: list[str] | None = None, skeleton: list[list[int]] | None = None):
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        if stride not in (4, 8):
            raise ValueError(f"stride must be 4 or 8, got {stride}")
        self.head_type, self.stride, self.num_joints = head, stride, num_joints
        self.input_size, self.sigma, self.beta, self.variant = input_size, sigma, beta, variant
        self.joint_names = list(joint_names or JOINTS)
        self.skeleton = [list(e) for e in (skeleton or SKELETON)]
        self.backbone = Backbone(width)
        c = self.backbone.channels
        if head == "regression":
            self.head = nn.Sequential(
                nn.Conv2d(c[16], 64, 1), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(4), nn.Flatten(),
                nn.Linear(64 * 16, 256), nn.ReLU(inplace=True), nn.Linear(256, 2 * num_joints),
            )
        elif head == "simcc":  # a 1x1 conv to one map per joint, then linear layers shared by the joints
            cin, cells = c[stride], (input_size // stride) ** 2
            self.head = nn.Sequential(nn.Conv2d(cin, cin, 3, 1, 1), nn.ReLU(inplace=True), nn.Conv2d(cin, num_joints, 1))
            self.to_x = nn.Linear(cells, input_size * simcc.SPLIT)
            self.to_y = nn.Linear(cells, input_size * simcc.SPLIT)
        else:
            cin = c[stride]
            self.head = nn.Sequential(nn.Conv2d(cin, cin, 3, 1, 1), nn.ReLU(inplace=True), nn.Conv2d(cin, num_joints, 1))

    @property
    def heatmap_size(self) -> int | None:
        return None if self.head_type == "regression" else self.input_size // self.stride

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = self.backbone(x)
        S = x.shape[-1]
        if self.head_type == "regression":
            out = self.head(feats[16]).view(-1, self.num_joints, 2)
            return {"coords": (out + 0.5) * S}
        hm = self.head(feats[self.stride])
        if self.head_type == "simcc":
            f = hm.flatten(-2)
            lx, ly = self.to_x(f), self.to_y(f)
            return {"simcc_x": lx, "simcc_y": ly, "coords": simcc.decode_xy(lx, ly, "argmax")}
        if self.head_type == "integral":
            c = decoders.soft_argmax(hm, self.beta)
        else:
            c = decoders.argmax(hm)
        return {"heatmaps": hm, "coords": decoders.to_input_pixels(c, hm.shape[-2:], x.shape[-2:])}

    # -- loading: safetensors only, strict -------------------------------------------------------------
    @classmethod
    def _from_pretrained(cls, *, model_id, revision, cache_dir, force_download, local_files_only, token,
                         map_location: str = "cpu", strict: bool = True, **model_kwargs):
        model = cls(**model_kwargs)
        if os.path.isdir(model_id):
            path = os.path.join(model_id, SAFETENSORS)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{path} is missing: the model folder has no weights")
        else:
            path = hf_hub_download(repo_id=model_id, filename=SAFETENSORS, revision=revision, cache_dir=cache_dir,
                                   force_download=force_download, token=token, local_files_only=local_files_only)
        return cls._load_as_safetensor(model, path, map_location, strict)

    def describe(self) -> str:
        if self.head_type == "regression":
            return "direct regression (FC to 2K numbers)"
        hs = self.heatmap_size
        if self.head_type == "simcc":
            return f"SimCC ({simcc.SPLIT} bins per px along x and y, from {hs}x{hs} features, stride {self.stride})"
        kind = "heatmap (MSE)" if self.head_type == "heatmap" else "integral (soft-argmax)"
        return f"{kind}, {hs}x{hs} maps (stride {self.stride})"


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
