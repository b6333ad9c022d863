"""Smaller models: prune and quantize a bundled keypoint model, measure size against keypoint error.

- Pruning, no fine-tuning: ``torch.nn.utils.prune.ln_structured`` removes whole output channels of every conv
  layer ranked by their L2 norm, and ``global_unstructured`` removes the smallest weights across all layers (the
  size counts the weights that remain; the output layer, one channel per joint, is left alone).
- Quantization: fp16 weights, and int8 weights with one scale per output channel (symmetric, weight-only: the
  convolutions still compute in float). For the regression model, whose FC layers hold most parameters, torch's
  own dynamic int8 quantization of ``nn.Linear`` (``torch.ao.quantization.quantize_dynamic``).
Errors are mean keypoint errors (input px) on the held-out set, arg-max decoding for heatmap models.
"""

from __future__ import annotations

import copy
import io

import plotly.graph_objects as go
import torch
import torch.nn as nn
import torch.nn.utils.prune as prune

from demos.common.plotstyle import PALETTE, style
import demos.keypoints as kp

SPARSITIES = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7)


def _error(model, n: int) -> float:
    images, truth, vis = kp.dataset(kp.heldout_seeds(n), model.variant, model.input_size)
    coords, hms = kp.predict_heatmaps(model, images)
    if hms is not None:
        coords = kp.decode_all(model, hms, "argmax")
    return float((coords - torch.from_numpy(truth)).norm(dim=-1)[torch.from_numpy(vis)].mean())


def _params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _prunable(m) -> list[nn.Conv2d]:
    """Every conv except the output layer (its channels are the K joints: pruning one deletes a joint)."""
    return [mod for mod in m.modules() if isinstance(mod, nn.Conv2d) and mod.out_channels != m.num_joints]


def prune_model(model, amount: float, structured: bool = True):
    """Structured: drop the output channels with the smallest L2 norm in each conv (ln_structured). Unstructured:
    drop the individual weights of smallest magnitude across all convs (global_unstructured, L1)."""
    m = copy.deepcopy(model)
    convs = _prunable(m)
    if amount > 0:
        if structured:
            for mod in convs:
                prune.ln_structured(mod, "weight", amount=amount, n=2, dim=0)
        else:
            prune.global_unstructured([(mod, "weight") for mod in convs], prune.L1Unstructured, amount=amount)
        for mod in convs:
            prune.remove(mod, "weight")  # make it permanent: zeros in the weight tensor
    nonzero = sum(int((p != 0).sum()) for p in m.parameters())
    return m.eval(), nonzero


def quantize_int8_weights(model):
    """Per-output-channel symmetric int8 weights (scale = max|w| / 127), dequantized for computing."""
    m = copy.deepcopy(model)
    nbytes = 0
    with torch.no_grad():
        for name, p in m.named_parameters():
            if p.dim() >= 2:
                w = p.view(p.shape[0], -1)
                scale = w.abs().amax(1, keepdim=True).clamp_min(1e-12) / 127
                q = torch.round(w / scale).clamp(-127, 127)
                p.copy_((q * scale).view_as(p))
                nbytes += p.numel() + 4 * p.shape[0]
            else:
                nbytes += 4 * p.numel()
    return m.eval(), nbytes


def quantize_fp16(model):
    m = copy.deepcopy(model).half().float()  # fp16 storage, fp32 compute
    return m.eval(), 2 * _params(model)


def serialized_bytes(model) -> int:
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)  # size only: written to memory, never loaded
    return buf.tell()


def sweep(model_name: str = "heatmap-s4", n: int = 200, progress=None) -> list[dict]:
    model = copy.deepcopy(kp.get_model(model_name)).cpu().eval()
    base = 4 * _params(model)
    rows = []
    total = 2 * len(SPARSITIES) + 1
    rows.append({"model": model_name, "method": "fp32 (original)", "setting": "fp32", "size_kb": base / 1024,
                 "error_px": _error(model, n)})
    for structured in (True, False):
        for i, s in enumerate(SPARSITIES[1:]):
            m, nz = prune_model(model, s, structured)
            rows.append({"model": model_name, "method": "pruned channels (L2)" if structured else "pruned weights (L1)",
                         "setting": f"{int(100 * s)} %", "size_kb": 4 * nz / 1024, "error_px": _error(m, n)})
            if progress:
                progress(len(rows) / total, desc=f"pruning {int(100 * s)} %")
    m, nb = quantize_fp16(model)
    rows.append({"model": model_name, "method": "fp16 weights", "setting": "fp16", "size_kb": nb / 1024,
                 "error_px": _error(m, n)})
    m, nb = quantize_int8_weights(model)
    rows.append({"model": model_name, "method": "int8 weights (per channel)", "setting": "int8", "size_kb": nb / 1024,
                 "error_px": _error(m, n)})
    for r in rows:
        r["size_ratio"] = r["size_kb"] * 1024 / base
    return rows


def dynamic_int8_regression(n: int = 200) -> list[dict]:
    """torch's dynamic int8 quantization of the regression model's Linear layers (real int8 kernels on CPU)."""
    model = copy.deepcopy(kp.get_model("regression")).cpu().eval()
    q = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {nn.Linear}, dtype=torch.qint8)
    out = []
    for name, short, m in (("fp32 (original)", "fp32", model), ("dynamic int8 Linear (torch.ao)", "int8 dynamic", q)):
        out.append({"model": "regression", "method": name, "setting": short, "size_kb": serialized_bytes(m) / 1024,
                    "error_px": _error(m, n)})
    return out


def figure(rows: list[dict]) -> go.Figure:
    fig = go.Figure()
    groups = {}
    for r in rows:
        key = (r["model"], r["method"] if r["method"].startswith("pruned") else "quantization / original")
        groups.setdefault(key, []).append(r)
    colors = [PALETTE[0], PALETTE[3], PALETTE[2], PALETTE[4]]
    for i, ((model, kind), rs) in enumerate(groups.items()):
        rs = sorted(rs, key=lambda r: -r["size_kb"])
        fig.add_trace(go.Scatter(x=[r["size_kb"] for r in rs], y=[r["error_px"] for r in rs],
                                 mode="lines+markers+text" if kind.startswith("pruned") else "markers+text",
                                 text=[r["setting"] for r in rs], textposition="top center",
                                 name=f"{model}: {kind}",
                                 marker=dict(size=12, color=colors[i % 4]), line=dict(color=colors[i % 4], width=3)))
    fig.update_xaxes(title_text="weights (KB)")
    fig.update_yaxes(title_text="mean keypoint error (input px, log)", type="log")
    return style(fig, "Size against keypoint error on the held-out set (no fine-tuning)", height=500,
                 legend=dict(orientation="h", yanchor="top", y=-0.2, x=0), margin=dict(b=140))

