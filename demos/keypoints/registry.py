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

HUB_ORG = os.environ.get("KPLAB_HUB_ORG", "keypoint-architecture-lab")


@dataclass(frozen=True)
class ModelRecord:
    name: str  # folder under pretrained/, and the Hub repo's name
    label: str  # what the model dropdown shows
    head: str  # regression | heatmap | integral
    stride: int | None  # heatmap output stride (None for direct regression)
    variant: str = "default"  # data variant: default (left/right coloured) or symmetric
    revision: str | None = None  # pinned Hub commit; None: not published yet, use pretrained/
    steps: int = 1500

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
    ModelRecord("heatmap-s4", "Heatmap head, 32×32 maps (stride 4)", "heatmap", 4),
    ModelRecord("heatmap-s8", "Heatmap head, 16×16 maps (stride 8)", "heatmap", 8),
    ModelRecord("integral-s4", "Integral head, 32×32 maps (stride 4)", "integral", 4),
    ModelRecord("integral-s8", "Integral head, 16×16 maps (stride 8)", "integral", 8),
    ModelRecord("regression", "Direct regression (FC to 28 numbers)", "regression", None),
    ModelRecord("symmetric-heatmap-s4", "Heatmap head, symmetric data (left = right)", "heatmap", 4,
                variant="symmetric"),
)}

# The photo model is not a KeypointNet: torchvision's Keypoint R-CNN (see photo.py), listed after these.
PHOTO = "photo"
PHOTO_LABEL = "Photo model: Keypoint R-CNN (COCO, 17 joints)"
