"""Smaller models: prune and quantize a bundled keypoint model, measure size against keypoint error.

- Pruning criteria, no fine-tuning, each through ``torch.nn.utils.prune``: *magnitude* (``global_unstructured``
  with L1: the smallest weights across all conv layers, Han et al. 2015), *random* (the same number of weights
  drawn uniformly, ``custom_from_mask`` with a seeded generator: the baseline a criterion must beat) and
  *structured by channel L1* (``ln_structured``, n = 1: whole output channels of every conv with the smallest
  L1 norm, Li et al. 2017). Sizes count the weights that remain; the output layer, one channel per joint, is left
  alone. (A pruned channel would also free the next layer's input weights; that is not counted here.)
- Quantization: fp16 weights, and int8 weights with one scale per output channel (symmetric, weight-only: the
  convolutions still compute in float). For the regression model, whose FC layers hold most parameters, torch's
  own dynamic int8 quantization of ``nn.Linear`` (``torch.ao.quantization.quantize_dynamic``).
- Deep Compression (Han, Mao and Dally 2016) as a pipeline: ``deep_compression`` below.
Errors are mean keypoint errors (input px) on the held-out set, arg-max decoding for heatmap models.
"""

from __future__ import annotations

import copy
import heapq
import io
import functools

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn as nn
import torch.nn.utils.prune as prune

from demos.common.plotstyle import PALETTE, figure as dict_figure, style, subplot_grid
import demos.keypoints as kp

SPARSITIES = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7)
CRITERIA = {"magnitude": "pruned weights: magnitude", "random": "pruned weights: random",
            "channel_l1": "pruned channels: L1 norm"}
RANDOM_SEED = 0


@functools.lru_cache(maxsize=8)
def _original_error(model_name: str, n: int) -> float:
    return _error(kp.get_model(model_name), n)


def _error(model, n: int) -> float:
    images, truth, vis = kp.dataset(kp.heldout_seeds(n), model.variant, model.input_size)
    coords, hms = kp.predict_heatmaps(model, images)
    if hms is not None:
        coords = kp.decode_all(model, hms, "argmax")
    return float((coords - torch.from_numpy(truth)).norm(dim=-1)[torch.from_numpy(vis)].mean())


def _params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _prunable(m) -> list[nn.Module]:
    """Every conv and linear layer except the output layer (its channels are the K joints: pruning one deletes a
    joint; for direct regression, the last Linear's 2K outputs)."""
    layers = [mod for mod in m.modules() if isinstance(mod, (nn.Conv2d, nn.Linear))]
    return [mod for mod in layers if mod is not layers[-1]]


def prune_model(model, amount: float, criterion: str = "channel_l1"):
    """A pruned copy of ``model`` (criterion: ``CRITERIA``) and its count of non-zero parameters."""
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {tuple(CRITERIA)}, got {criterion!r}")
    m = copy.deepcopy(model)
    layers = _prunable(m)
    if amount > 0:
        if criterion == "channel_l1":
            for mod in layers:
                prune.ln_structured(mod, "weight", amount=amount, n=1, dim=0)
        elif criterion == "magnitude":
            prune.global_unstructured([(mod, "weight") for mod in layers], prune.L1Unstructured, amount=amount)
        else:  # the same count as global magnitude pruning, drawn uniformly over all prunable weights
            sizes = [mod.weight.numel() for mod in layers]
            gen = torch.Generator().manual_seed(RANDOM_SEED)
            drop = torch.randperm(sum(sizes), generator=gen)[:round(amount * sum(sizes))]
            keep = torch.ones(sum(sizes))
            keep[drop] = 0
            for mod, mask in zip(layers, keep.split(sizes)):
                prune.custom_from_mask(mod, "weight", mask.view_as(mod.weight).to(mod.weight.device))
        for mod in layers:
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


def sweep(model_name: str = kp.model_for("compression").name, n: int = 200, progress=None) -> list[dict]:
    model = copy.deepcopy(kp.get_model(model_name)).cpu().eval()
    base = 4 * _params(model)
    rows = []
    total = len(CRITERIA) * (len(SPARSITIES) - 1) + 3
    rows.append({"model": model_name, "method": "fp32 (original)", "setting": "fp32", "size_kb": base / 1024,
                 "error_px": _error(model, n)})
    for criterion, label in CRITERIA.items():
        for s in SPARSITIES[1:]:
            m, nz = prune_model(model, s, criterion)
            rows.append({"model": model_name, "method": label, "setting": f"{int(100 * s)} %",
                         "size_kb": 4 * nz / 1024, "error_px": _error(m, n)})
            if progress:
                progress(len(rows) / total, desc=f"{label} {int(100 * s)} %")
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
    name = kp.model_for("compression_fc").name
    model = copy.deepcopy(kp.get_model(name)).cpu().eval()
    q = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {nn.Linear}, dtype=torch.qint8)
    out = []
    for method, short, m in (("fp32 (original)", "fp32", model), ("dynamic int8 Linear (torch.ao)", "int8 dynamic", q)):
        out.append({"model": name, "method": method, "setting": short, "size_kb": serialized_bytes(m) / 1024,
                    "error_px": _error(m, n)})
    return out


# -- Deep Compression (Han, Mao and Dally, ICLR 2016; docs/facts.md 6) ----------------------------------------
# Prune (magnitude), share weights (k-means, a codebook of 2^b centroids per layer), Huffman-code. Sparse layers
# are stored as in the paper: each kept weight with the gap to the previous one in p bits (8 for conv, 5 for FC
# layers); a gap over 2^p is bridged by a filler entry (a stored zero). Layers that are not pruned (the output
# layer, biases, BatchNorm) stay dense float32 in every stage. No fine-tuning (the paper retrains after pruning
# and fine-tunes the centroids), so the error here is an upper bound of what the pipeline costs.
INDEX_BITS = {nn.Conv2d: 8, nn.Linear: 5}
PAPER = (("AlexNet", 240, 6.9, 35), ("VGG-16", 552, 11.3, 49))  # MB before, MB after, ratio (Han et al. 2016)


def kmeans_1d(w: torch.Tensor, k: int, iters: int = 30) -> tuple[torch.Tensor, torch.Tensor]:
    """Centroids (k,) and each weight's index, by Lloyd's k-means on the values, initialised linearly between
    the smallest and largest weight (the initialisation Han et al. found best: it keeps the rare large weights)."""
    w = w.flatten().float()
    c = torch.linspace(float(w.min()), float(w.max()), k)
    for _ in range(iters):
        idx = torch.bucketize(w, (c[1:] + c[:-1]) / 2)  # nearest centroid: c stays sorted
        sums = torch.zeros(k).index_add_(0, idx, w)
        counts = torch.zeros(k).index_add_(0, idx, torch.ones_like(w))
        new = torch.where(counts > 0, sums / counts.clamp_min(1), c)  # an empty cluster keeps its centroid
        if torch.equal(new, c):
            break
        c = new
    return c, torch.bucketize(w, (c[1:] + c[:-1]) / 2)


def huffman_bits(symbols) -> int:
    """Total length in bits of the Huffman code of ``symbols`` (code lengths built from their own counts)."""
    counts = np.unique(np.asarray(symbols), return_counts=True)[1].tolist()
    if len(counts) <= 1:
        return sum(counts)  # one symbol: one bit each
    heap = [(n, i, 0) for i, n in enumerate(counts)]  # (count, tie-break, bits below this node)
    heapq.heapify(heap)
    total, nxt = 0, len(heap)
    while len(heap) > 1:  # merging two nodes adds one bit to every symbol beneath them: their total count
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        total += a[0] + b[0]
        heapq.heappush(heap, (a[0] + b[0], nxt, 0))
        nxt += 1
    return total


def sparse_entries(weight: torch.Tensor, index_bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The stored entries of a pruned layer: (values, gaps), fillers (value 0) included wherever a gap between
    kept weights exceeds 2^index_bits. Gap g means "g positions after the previous entry" (1 = adjacent)."""
    flat = weight.flatten()
    pos = torch.nonzero(flat).flatten()
    if pos.numel() == 0:
        return flat[:0], pos
    gaps = torch.diff(pos, prepend=torch.tensor([-1], device=pos.device))
    span = 2 ** index_bits
    fillers = (gaps - 1) // span  # entries needed before each kept weight to bridge its gap
    at = torch.cumsum(fillers + 1, 0) - 1  # where each kept weight lands among the stored entries
    values = torch.zeros(int(at[-1]) + 1, dtype=flat.dtype)
    steps = torch.full_like(values, span, dtype=torch.long)
    values[at] = flat[pos].cpu()
    steps[at] = (gaps - fillers * span).cpu()
    return values, steps


def deep_compression(model_name: str, sparsity: float, bits: int, n: int = 200) -> list[dict]:
    """The pipeline's stages: rows {stage, bits, size_kb, ratio, error_px}."""
    model = copy.deepcopy(kp.get_model(model_name)).cpu().eval()
    dense_bits = 32 * _params(model)
    pruned, _ = prune_model(model, sparsity, "magnitude")
    layers = _prunable(pruned)
    other = 32 * (_params(model) - sum(m.weight.numel() for m in layers))  # kept dense in every stage
    stored, quantized = 0, copy.deepcopy(pruned)
    q_bits = h_bits = 0
    for mod, qmod in zip(layers, _prunable(quantized)):
        p = INDEX_BITS[type(mod)]
        values, gaps = sparse_entries(mod.weight.detach(), p)
        stored += values.numel() * (32 + p)
        keep = mod.weight != 0
        if not keep.any():  # global magnitude pruning can empty a whole layer: nothing stored
            continue
        c, idx = kmeans_1d(mod.weight.detach()[keep], 2 ** bits)
        with torch.no_grad():
            qmod.weight[keep] = c[idx]  # every kept weight replaced by its centroid
        codes = torch.bucketize(values, (c[1:] + c[:-1]) / 2)  # fillers take the code nearest 0 (a stored zero)
        book = 32 * 2 ** bits
        q_bits += values.numel() * (bits + p) + book
        h_bits += huffman_bits(codes) + huffman_bits(gaps) + book
    errs = {"orig": _original_error(model_name, n), "pruned": _error(pruned, n), "quant": _error(quantized.eval(), n)}
    rows = [("original (float32)", dense_bits, errs["orig"]),
            (f"pruned {int(round(100 * sparsity))} % (sparse, {INDEX_BITS[nn.Conv2d]}-bit gaps)", stored + other,
             errs["pruned"]),
            (f"+ weight sharing (k-means, 2^{bits} = {2 ** bits} centroids)", q_bits + other, errs["quant"]),
            ("+ Huffman coding (lossless)", h_bits + other, errs["quant"])]
    return [{"stage": st, "bits": b, "size_kb": b / 8 / 1024, "ratio": dense_bits / b, "error_px": e}
            for st, b, e in rows]


def deep_compression_figure(rows: list[dict], model_name: str) -> go.Figure:
    """Left: size after each stage (log, × smaller in the bars) with the paper's 35× and 49× as dotted lines;
    right: the keypoint error after each stage."""
    names = ["original", "pruned", "k-means", "Huffman"]
    axes, layout = subplot_grid(1, 2, 0.1, 0.0, ("size after each stage (× smaller)", "mean keypoint error (px)"))
    (xa, ya), (xb, yb) = axes
    top = rows[0]["size_kb"]
    data = [{"type": "bar", "x": names, "y": [r["size_kb"] for r in rows], "xaxis": xa, "yaxis": ya,
             "marker": {"color": PALETTE[0]}, "text": [f"{r['ratio']:.1f}×" for r in rows], "textposition": "inside",
             "insidetextanchor": "end", "textfont": {"size": 18, "color": "white"}, "showlegend": False,
             "hovertemplate": "%{x}: %{y:.1f} KB<extra></extra>"},
            {"type": "scatter", "x": names, "y": [r["error_px"] for r in rows], "xaxis": xb, "yaxis": yb,
             "mode": "lines+markers+text", "text": [f"{r['error_px']:.1f}" for r in rows], "textposition": "top center",
             "marker": {"color": PALETTE[3], "size": 12}, "line": {"color": PALETTE[3]}, "showlegend": False}]
    layout["shapes"] = [{"type": "line", "xref": f"{xa} domain", "x0": 0, "x1": 1, "yref": ya, "y0": top / r,
                         "y1": top / r, "line": {"dash": "dot", "color": "#555", "width": 2}} for *_, r in PAPER]
    layout["annotations"] += [{"text": f"{r}× {name} (paper)", "xref": f"{xa} domain", "x": 0.01, "xanchor": "left",
                               "yref": ya, "y": float(np.log10(top / r)), "yanchor": "top" if i else "bottom",
                               "showarrow": False, "font": {"size": 14, "color": "#222"},
                               "bgcolor": "rgba(255,255,255,0.9)"} for i, (name, _, _, r) in enumerate(PAPER)]
    layout["yaxis"] |= {"type": "log", "title": {"text": "KB (log)"}, "dtick": 1,
                        "range": [float(np.log10(top / 80)), float(np.log10(top * 1.3))]}
    layout["yaxis2"] |= {"rangemode": "tozero", "range": [0, 1.25 * max(r["error_px"] for r in rows)]}
    layout["margin"] = {"t": 90, "b": 50}
    return dict_figure(data, layout, title=f"Deep Compression of {model_name}", height=440)


def deep_compression_text(rows: list[dict], bits: int) -> str:
    last, pruned = rows[-1], rows[1]
    paper = "; ".join(f"{n} {a} MB → {b} MB ({r}×)" for n, a, b, r in PAPER)
    return (f"**{last['ratio']:.1f}× smaller** ({rows[0]['size_kb']:.0f} KB → {last['size_kb']:.0f} KB); error "
            f"{rows[0]['error_px']:.1f} → {last['error_px']:.1f} px on 200 held-out renders. Pruning alone gives "
            f"{pruned['ratio']:.1f}× (each kept weight also stores its gap), {bits}-bit weight sharing "
            f"{rows[2]['ratio']:.1f}×, Huffman coding of the codes and gaps {last['ratio']:.1f}× (lossless: same "
            f"error). The paper (Han, Mao and Dally 2016), with retraining after pruning and fine-tuned centroids: "
            f"{paper}, without loss of accuracy. Its pruning alone kept 1/9 of AlexNet's weights and 1/13 of "
            "VGG-16's (Han et al. 2015), mostly from their large fully connected layers; this "
            f"{rows[0]['bits'] // 32 / 1000:.0f} k-parameter conv net has no such layers, and nothing is retrained "
            "here, so the error is what compression costs before fine-tuning.")


def figure(rows: list[dict]) -> go.Figure:
    fig = go.Figure()
    groups = {}
    for r in rows:
        key = (r["model"], r["method"] if r["method"].startswith("pruned") else "quantization / original")
        groups.setdefault(key, []).append(r)
    colors = [PALETTE[0], PALETTE[3], PALETTE[7], PALETTE[2], PALETTE[4]]
    for i, ((model, kind), rs) in enumerate(groups.items()):
        rs = sorted(rs, key=lambda r: -r["size_kb"])
        fig.add_trace(go.Scatter(x=[r["size_kb"] for r in rs], y=[r["error_px"] for r in rs],
                                 mode="lines+markers+text" if kind.startswith("pruned") else "markers+text",
                                 text=[r["setting"] for r in rs], textposition="top center",
                                 name=f"{model}: {kind}",
                                 marker=dict(size=12, color=colors[i % 5]), line=dict(color=colors[i % 5], width=3)))
    fig.update_xaxes(title_text="weights (KB)")
    fig.update_yaxes(title_text="mean keypoint error (input px, log)", type="log",
                     tickvals=[2, 5, 10, 20, 50, 100], ticktext=["2", "5", "10", "20", "50", "100"])
    return style(fig, "Size against keypoint error on the held-out set (no fine-tuning)", height=540,
                 legend=dict(orientation="h", yanchor="top", y=-0.3, x=0), margin=dict(b=170))

