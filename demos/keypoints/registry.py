"""The bundled keypoint models, one record each: what the UI lists, what loads from the Hub, what the cards
and the README's evaluation table say. Add a model by adding one record here and training it with
``scripts/train.py`` (the record's ``train_command``); nothing else needs to change.

Hub repos: ``<HUB_ORG>/<name>`` at ``revision``. A revision is pinned per model here and nowhere else;
``scripts/publish.py`` prints the commit to paste after an upload. Until a model is published its revision is
``None`` and the app loads the copy in ``pretrained/`` without asking the Hub.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .data import DEFAULT_SIZE, JOINTS

HUB_ORG = os.environ.get("KPLAB_HUB_ORG", "keypoint-architecture-lab")


# What each head is called in a model's label; the label's stride comes from the record. Labels stay short (about
# 20 characters): a dropdown in a narrow column shows its value whole on a projector.
HEAD_NAMES = {"heatmap": "Heatmap", "integral": "Integral", "regression": "Direct regression", "simcc": "SimCC"}

# Roles: which model a panel uses, declared on the model (``model_for(role)``), never typed in the panel.
ROLES = {
    "default": "the model a page opens with (keypoints tab, Deep Compression)",
    "occlusion_curve": "a curve of the occlusion panel (error against occluder size)",
    "race_reference": "the head race's reference row for its head and stride (README's evaluation table)",
    "compression": "the subject of the pruning and quantisation sweep",
    "compression_fc": "the fully connected subject of the int8 quantisation rows",
    "two_peaks_mining": "mined for two-peak heatmaps on symmetric data (two-peak tab)",
    "features": "its first convolution's filters and features (normalization, separable convolutions)",
}


@dataclass(frozen=True)
class ModelRecord:
    name: str  # folder under pretrained/, and the Hub repo's name
    head: str  # regression | heatmap | integral
    stride: int | None  # heatmap output stride (None for direct regression)
    variant: str = "default"  # data variant: default (left/right coloured) or symmetric
    revision: str | None = None  # pinned Hub commit; None: not published yet, use pretrained/
    steps: int = 1500
    roles: tuple[str, ...] = ()  # keys of ROLES: the panels that use this model
    input_size: int = DEFAULT_SIZE  # px of the square input image

    def __post_init__(self):
        unknown = set(self.roles) - set(ROLES)
        if unknown:
            raise ValueError(f"{self.name}: unknown roles {sorted(unknown)}; the roles are {sorted(ROLES)}")

    @property
    def label(self) -> str:
        """What the model dropdown shows, from the head, the stride and the data variant (its maps' size is on the
        figures, its card says the rest)."""
        head = HEAD_NAMES.get(self.head, f"{self.head} head")
        text = head if self.stride is None else f"{head}, stride {self.stride}"
        return text + (", symmetric" if self.variant == "symmetric" else "")

    @property
    def repo_id(self) -> str:
        return f"{HUB_ORG}/{self.name}"

    @property
    def train_command(self) -> str:
        stride = "" if self.stride is None else f" --stride {self.stride}"
        variant = "" if self.variant == "default" else f" --variant {self.variant}"
        return (f"python scripts/train.py --head {self.head}{stride}{variant} --steps {self.steps} --threads 1 "
                f"--out pretrained/{self.name}")


MODELS: dict[str, ModelRecord] = {m.name: m for m in (
    ModelRecord("heatmap-s4", "heatmap", 4,
                roles=("default", "occlusion_curve", "race_reference", "compression", "features")),
    ModelRecord("heatmap-s8", "heatmap", 8, roles=("race_reference",)),
    ModelRecord("integral-s4", "integral", 4, roles=("occlusion_curve", "race_reference")),
    ModelRecord("integral-s8", "integral", 8, roles=("race_reference",)),
    ModelRecord("regression", "regression", None, roles=("occlusion_curve", "race_reference", "compression_fc")),
    ModelRecord("simcc-s4", "simcc", 4, roles=("race_reference",)),
    ModelRecord("simcc-s8", "simcc", 8, roles=("race_reference",)),
    ModelRecord("symmetric-heatmap-s4", "heatmap", 4, variant="symmetric", roles=("two_peaks_mining",)),
)}


def models_for(role: str) -> list[ModelRecord]:
    """The models with ``role`` (a key of ROLES), in registry order."""
    if role not in ROLES:
        raise KeyError(f"unknown role {role!r}; the roles are {sorted(ROLES)}")
    return [m for m in MODELS.values() if role in m.roles]


def model_for(role: str) -> ModelRecord:
    """The one model with ``role``; an error if the registry gives it to none or to several."""
    found = models_for(role)
    if len(found) != 1:
        raise LookupError(f"role {role!r} needs exactly one model; {[m.name for m in found]} have it")
    return found[0]


# The photo model is not a KeypointNet: torchvision's Keypoint R-CNN (see photo.py), listed after these.
PHOTO = "photo"
PHOTO_LABEL = "Photo model: Keypoint R-CNN (COCO, 17 joints)"
