"""SimCC: keypoints as coordinate classification (Li et al., ECCV 2022; docs/facts.md, "SimCC").

Instead of a 2-D heatmap per joint, SimCC predicts two 1-D distributions per joint, one over x and one over y,
each with ``k`` bins per input pixel (the paper's splitting factor; k = 2 here as in its main results). Bin ``i``
covers ``[i / k, (i + 1) / k)`` input px and its centre is ``(i + 0.5) / k``: the lab's pixel convention (a cell
covers [i, i + 1), centre i + 0.5) at 1/k of a pixel. Training targets are 1-D Gaussians centred at the float
keypoint (label smoothing, as the paper's SimCC*), normalised to sum to one; the loss is the cross-entropy
between them and the soft-max of the logits (the KL divergence up to a constant that does not depend on the
model).

This file is the codec (mmpose's habit: one codec a file, encode and decode): :func:`targets` encodes keypoints,
:func:`decode` turns logits back into input pixels by arg-max over the bins or by soft-argmax (the expectation
under the soft-max), and :func:`loss` is the training loss. The head itself lives in ``models.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SPLIT = 2  # k: bins per input pixel
SIGMA_PX = 2.0  # the targets' std in input px (SIGMA_PX * k bins)
DECODERS = ("argmax", "soft_argmax")  # what the evaluation table reports for a SimCC model, by the 2-D decoders' names


def bin_centres(n_bins: int, k: int = SPLIT, device=None, dtype=torch.float32) -> torch.Tensor:
    """Input-pixel position of each bin's centre: (i + 0.5) / k."""
    return (torch.arange(n_bins, device=device, dtype=dtype) + 0.5) / k


def targets(coord: torch.Tensor, n_bins: int, k: int = SPLIT, sigma_px: float = SIGMA_PX) -> torch.Tensor:
    """(..., ) input-px coordinates -> (..., n_bins) normalised 1-D Gaussians centred at the float coordinate."""
    c = bin_centres(n_bins, k, coord.device, coord.dtype)
    g = torch.exp(-((c - coord.unsqueeze(-1)) ** 2) / (2 * sigma_px ** 2))
    return g / g.sum(-1, keepdim=True).clamp_min(1e-12)


def decode(logits: torch.Tensor, how: str = "argmax", beta: float = 1.0, k: int = SPLIT) -> torch.Tensor:
    """(..., n_bins) logits -> (...) coordinates in input px: the best bin's centre, or the expectation under
    soft-max(beta * logits) (max-subtracted, so finite for any finite logits)."""
    if how == "argmax":
        return (logits.argmax(-1).to(logits.dtype if logits.is_floating_point() else torch.float32) + 0.5) / k
    if how == "soft_argmax":
        p = F.softmax(beta * logits, dim=-1)  # torch's soft-max subtracts the max
        return (p * bin_centres(logits.shape[-1], k, logits.device, p.dtype)).sum(-1)
    raise ValueError(f"SimCC decodes by {' or '.join(DECODERS)}, not {how!r}")


def decode_xy(x_logits: torch.Tensor, y_logits: torch.Tensor, how: str = "argmax", beta: float = 1.0,
              k: int = SPLIT) -> torch.Tensor:
    """(B, K, Wk) and (B, K, Hk) logits -> (B, K, 2) keypoints (x, y) in input px."""
    return torch.stack([decode(x_logits, how, beta, k), decode(y_logits, how, beta, k)], -1)


def loss(x_logits: torch.Tensor, y_logits: torch.Tensor, keypoints: torch.Tensor, k: int = SPLIT,
         sigma_px: float = SIGMA_PX) -> torch.Tensor:
    """Per-joint loss (B, K): cross-entropy of the x and y soft-maxes against the Gaussian targets, summed."""
    tx = targets(keypoints[..., 0], x_logits.shape[-1], k, sigma_px)
    ty = targets(keypoints[..., 1], y_logits.shape[-1], k, sigma_px)
    return -(tx * F.log_softmax(x_logits, -1)).sum(-1) - (ty * F.log_softmax(y_logits, -1)).sum(-1)
