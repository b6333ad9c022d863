"""Model cards (README.md with Hub metadata) for the bundled keypoint models."""

from __future__ import annotations

from pathlib import Path

from .decoders import DECODER_LABELS

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
- **Architecture**: ResNet-style encoder to stride 16 (basic blocks, BatchNorm) and a U-Net decoder with
  skip connections back to strides 8 and 4; head `{head}`{stride_note}.
- **Training**: `{command}` ({seconds:.0f} s on a 2-core CPU, AdamW, one-cycle schedule, seed {seed}).
- **Loss**: {loss}.
- **Weights**: `model.safetensors` (safetensors only), `config.json` holds the constructor arguments.

## Held-out results
Mean error in input pixels and PCK (fraction of visible joints within 5 % / 10 % of the image size, i.e.
6.4 / 12.8 px).

| decoder | mean error (px) | PCK@5% | PCK@10% | joints |
|---|---|---|---|---|
{rows}

## Use
```python
from demos.keypoints.hub import load_model
model = load_model("{name}")   # the Hub first, else this folder
out = model(images)            # images: (B, 3, 128, 128) floats in [0, 1]
out["coords"]                  # (B, 14, 2) keypoints in input pixels, pixel i spans [i, i+1)
```
"""

LOSS = {
    "regression": "L1 on coordinates normalised by the image size",
    "heatmap": "MSE to Gaussian targets (std {sigma} heatmap px) centred at the float keypoint position, "
    "cells weighted by 1 + 20 x target so the peaks are learnt within a CPU budget",
    "integral": "L1 on coordinates from soft-argmax (soft-max + expectation inside the model)",
}


def write_card(folder: Path, model, meta: dict) -> Path:
    folder = Path(folder)
    args = meta["args"]
    rows = "\n".join(
        f"| {DECODER_LABELS.get(r['decoder'], r['decoder'])} | {r['mean_px']:.2f} | {r['pck5']:.3f} | "
        f"{r['pck10']:.3f} | {r['n']} |" for r in meta["heldout"])
    weights = folder / "model.safetensors"
    text = CARD.format(
        name=folder.name, describe=model.describe(), params=meta["parameters"],
        mb=weights.stat().st_size / 1e6 if weights.exists() else 0.0, joints=", ".join(model.joint_names),
        n_train_minus_1=args["n_train"] - 1, variant=model.variant,
        variant_note=(": left and right limbs drawn alike, so left/right is ambiguous" if model.variant == "symmetric"
                      else ": left limbs warm-coloured, right limbs cool-coloured"),
        eval_n=args["eval_n"], head=model.head_type,
        stride_note="" if model.head_type == "regression" else f" at output stride {model.stride} "
        f"({model.heatmap_size}x{model.heatmap_size} maps)",
        command=meta["command"], seconds=meta["train_seconds"], seed=args["seed"],
        loss=LOSS[model.head_type].format(sigma=model.sigma), rows=rows)
    path = folder / "README.md"
    path.write_text(text)
    return path
