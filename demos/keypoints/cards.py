"""Model cards (README.md with Hub metadata) for the bundled keypoint models.

A card is generated, never edited by hand: its facts come from the model's registry record (name, training
command, Hub repo), its config, training.json (time, parameters) and the evaluation rows
(``pretrained/evaluation.json``). ``scripts/evaluate.py`` rewrites every card after measuring.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import evaluation
from .registry import MODELS
from .training import FG_WEIGHT

CARD = """---
library_name: keypoint-architecture-lab
license: mit
pipeline_tag: keypoint-detection
tags:
- keypoint-detection
- teaching
- pytorch_model_hub_mixin
---

# {name}: {describe}

A small teaching model of the *Keypoint & Architecture Lab* ({params:,} parameters, {mb:.2f} MB). It predicts
14 keypoints ({joints}) of procedurally rendered 2D figures (128x128 input).

- **Data**: `demos/keypoints/data.py`, a renderer of articulated figures with random pose, scale, rotation,
  limb thickness, colour, clutter, occlusion and three line styles (solid, stick, hand-drawn), rendered from
  seeds 0..{n_train_minus_1} (variant `{variant}`{variant_note}). Held-out set: seeds 1,000,000 + i, i < {eval_n}.
- **Architecture**: ResNet-style encoder to stride 16 (basic blocks, BatchNorm, strided convolutions instead of
  pooling) and a decoder back to strides 8 and 4 whose skip connections are projected by a 1x1 convolution and
  *added* to the up-sampled coarser map (FPN-style, Lin et al. 2017), not concatenated as in U-Net (Ronneberger
  et al. 2015); head `{head}`{stride_note}.
- **Training**: `{command}` ({seconds:.0f} s on a 2-core CPU, AdamW, one-cycle schedule, seed {seed}).
- **Loss**: {loss}.
- **Weights**: `model.safetensors` (safetensors only), `config.json` holds the constructor arguments.

## Held-out results
Mean error in input pixels and PCK (fraction of visible joints within 5 % / 10 % of the image size, i.e.
6.4 / 12.8 px).

| decoder | mean error (px) | median (px) | PCK@5% | PCK@10% | joints |
|---|---|---|---|---|---|
{rows}

## Use
From a checkout of the lab (`git clone` the Space, then `make run` once to install):
```python
import torch
from demos.keypoints import load_model, render

model = load_model("{name}").model                 # the Hub ({repo}) when published, else pretrained/{name}
sample = render(1_000_003)                         # a held-out figure with exact keypoints
images = torch.from_numpy(sample.image).permute(2, 0, 1)[None].float() / 255  # (1, 3, 128, 128) in [0, 1]
with torch.no_grad():
    out = model(images)
print(out["coords"].shape)                         # (1, 14, 2) keypoints in input pixels, pixel i spans [i, i+1)
```
"""

LOSS = {
    "regression": "L1 on coordinates normalised by the image size",
    "heatmap": "a weighted MSE to Gaussian targets t (std {sigma} heatmap px, centred at the float keypoint "
    "position), 100 x mean((1 + {fg:g} t)(h - t)^2): cells near the keypoint weigh up to {fg1:g} times the "
    "background, so the peaks are learnt within a CPU budget",
    "integral": "L1 on coordinates from soft-argmax (soft-max + expectation inside the model)",
    "simcc": "cross-entropy of its x and y bin soft-maxes (2 bins per input px) against 1-D Gaussian targets "
    "(std 2 input px, centred at the float keypoint position), as SimCC (Li et al., ECCV 2022)",
}


def write_card(folder: Path, model, meta: dict | None = None, rows: list[dict] | None = None) -> Path:
    """Write ``folder/README.md`` for ``model``; ``meta`` defaults to the folder's training.json and ``rows``
    to the evaluation file's rows for this model."""
    folder = Path(folder)
    meta = meta or json.loads((folder / "training.json").read_text())
    args = meta["args"]
    record = MODELS.get(folder.name)
    rows = evaluation.card_rows(rows if rows is not None else evaluation.load_rows(), folder.name)
    weights = folder / "model.safetensors"
    text = CARD.format(
        name=folder.name, describe=model.describe(), params=meta["parameters"],
        mb=weights.stat().st_size / 1e6 if weights.exists() else 0.0, joints=", ".join(model.joint_names),
        n_train_minus_1=args["n_train"] - 1, variant=model.variant,
        variant_note=(": left and right limbs drawn alike, so left/right is ambiguous" if model.variant == "symmetric"
                      else ": left limbs warm-coloured, right limbs cool-coloured"),
        eval_n=args["eval_n"], head=model.head_type,
        stride_note="" if model.head_type == "regression" else (
            f" reading the stride-{model.stride} features ({model.heatmap_size}x{model.heatmap_size})"
            if model.head_type == "simcc" else
            f" at output stride {model.stride} ({model.heatmap_size}x{model.heatmap_size} maps)"),
        command=record.train_command if record else meta["command"], seconds=meta["train_seconds"], seed=args["seed"],
        repo=record.repo_id if record else folder.name,
        loss=LOSS[model.head_type].format(sigma=model.sigma, fg=FG_WEIGHT, fg1=1 + FG_WEIGHT), rows=rows)
    path = folder / "README.md"
    path.write_text(text)
    return path
