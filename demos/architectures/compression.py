"""Smaller models: prune and quantize a bundled keypoint model, measure size against keypoint error.

- Pruning criteria, no fine-tuning, each through ``torch.nn.utils.prune``: *magnitude* (``global_unstructured``
  with L1: the smallest weights across all conv layers, Han et al. 2015), *random* (the same number of weights
  drawn uniformly, ``custom_from_mask`` with a seeded generator: the baseline a criterion must beat) and
  *structured by channel L1* (``ln_structured``, n = 1: whole output channels of every conv with the smallest
  L1 norm, Li et al. 2017). A pruned channel is removed whole: its filter, its BatchNorm channel (so it outputs
  exactly zero), and the next layer's weights that read it (input channels that are exactly zero on held-out
  renders after pruning). The output layer, one channel per joint, is not pruned.
- With a short fine-tune (:func:`criteria_fine_tuned`): channels ranked by the Taylor criterion of Molchanov et
  al. (ICLR 2017), |mean over the map of activation x gradient|, against channel L1 and random channels.
- Quantization: fp16 weights, and int8 weights with one scale per output channel (symmetric, weight-only: the
  convolutions still compute in float). For the regression model, whose FC layers hold most parameters, torch's
  own dynamic int8 quantization of ``nn.Linear`` (``torch.ao.quantization.quantize_dynamic``).
- Deep Compression (Han, Mao and Dally 2016) as a pipeline: ``deep_compression`` below.
- One storage accounting for every row and panel: :func:`storage` (each weight tensor in the cheaper of a compact
  dense block without its removed channels, or Deep Compression's sparse format with index gaps).
Errors are mean keypoint errors (input px) on the held-out set, arg-max decoding for heatmap models; the spread
is over three seeds: three disjoint thirds of the held-out renders (and, for random pruning, three masks).
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

from demos.common.params import Param
from demos.common.plotstyle import PALETTE, figure as dict_figure, style, subplot_grid
import demos.keypoints as kp

from . import labels as L
from .spread import Spread, order_sentence, separated

SPARSITIES = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7)
CRITERIA = {"magnitude": "pruned weights: magnitude", "random": "pruned weights: random",
            "channel_l1": "pruned channels: L1 norm"}
SEEDS = (0, 1, 2)
PROBE = 8  # held-out renders that show which input channels a channel pruning left at exactly zero
INDEX_BITS = {nn.Conv2d: 8, nn.Linear: 5}  # Deep Compression's gaps: 8 bits for conv, 5 for FC layers

DC_SPARSITY = Param("dc_sparsity", "pruned (fraction of weights)", 0.0, 0.95, 0.5, 0.05,
                    help="magnitude pruning across all layers but the output layer, no retraining")
DC_BITS = Param("dc_bits", "bits per shared weight (2^b centroids)", 1, 8, 6, 1, integer=True,
                help="the paper used 8 bits for conv layers and 5 for FC layers")


def _heldout(model, n: int, seed: int | None = None):
    """The held-out renders, or the ``seed``-th of three disjoint thirds of them."""
    seeds = kp.heldout_seeds(n)
    if seed is not None:
        seeds = seeds[seed::len(SEEDS)]
    return kp.dataset(seeds, model.variant, model.input_size)


@functools.lru_cache(maxsize=16)
def _original_error(model_name: str, n: int, seed: int | None = None) -> float:
    return _error(kp.get_model(model_name), n, seed)


def _error(model, n: int, seed: int | None = None) -> float:
    images, truth, vis = _heldout(model, n, seed)
    coords, hms = kp.predict_heatmaps(model, images)
    if hms is not None:
        coords = kp.decode_all(model, hms, "argmax")
    return float((coords - torch.from_numpy(truth)).norm(dim=-1)[torch.from_numpy(vis)].mean())


def _params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _layers(m) -> list[nn.Module]:
    return [mod for mod in m.modules() if isinstance(mod, (nn.Conv2d, nn.Linear))]


def _prunable(m) -> list[nn.Module]:
    """Every conv and linear layer except the output layer (its channels are the K joints: pruning one deletes a
    joint; for direct regression, the last Linear's 2K outputs)."""
    layers = _layers(m)
    return [mod for mod in layers if mod is not layers[-1]]


def fc_share(model) -> tuple[int, int]:
    """(parameters in nn.Linear layers, all parameters)."""
    fc = sum(p.numel() for mod in model.modules() if isinstance(mod, nn.Linear) for p in mod.parameters())
    return fc, _params(model)


@functools.lru_cache(maxsize=1)
def paper_fc_shares() -> dict[str, tuple[int, int]]:
    """AlexNet's and VGG-16's parameters in fully connected layers, counted on torchvision's built modules."""
    from torchvision.models import alexnet, vgg16

    with torch.device("meta"):
        return {"AlexNet": fc_share(alexnet()), "VGG-16": fc_share(vgg16())}


# -- channel pruning that removes whole channels ------------------------------------------------------------
def _following_bn(m) -> dict[nn.Module, nn.Module]:
    """Each conv's BatchNorm: the next leaf module in registration order when it normalises its output channels
    (conv then BN, as every block of the keypoint backbone declares them)."""
    leaves = [mod for mod in m.modules() if not list(mod.children())]
    return {a: b for a, b in zip(leaves, leaves[1:]) if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d)
            and b.num_features == a.out_channels}


def _mask_channels(layer: nn.Module, bn: nn.Module | None, keep: torch.Tensor) -> None:
    """Zero the output channels of ``layer`` where ``keep`` is False, and their BatchNorm channel (through
    ``torch.nn.utils.prune`` masks, so a fine-tune keeps them at zero)."""
    shape = (-1,) + (1,) * (layer.weight.dim() - 1)
    prune.custom_from_mask(layer, "weight", keep.view(shape).expand_as(layer.weight).float())
    if layer.bias is not None:
        prune.custom_from_mask(layer, "bias", keep.float())
    if bn is not None:
        prune.custom_from_mask(bn, "weight", keep.float())
        prune.custom_from_mask(bn, "bias", keep.float())


def _copy(m):
    """A deep copy of a model that may carry pruning masks: a masked weight computed in a training step is not a
    graph leaf (deepcopy refuses it), so it is recomputed without a graph first."""
    with torch.no_grad():
        for mod in m.modules():
            for name in ("weight", "bias"):
                if hasattr(mod, name + "_mask"):
                    setattr(mod, name, getattr(mod, name + "_orig").detach() * getattr(mod, name + "_mask"))
    return copy.deepcopy(m)


def _finalize(m) -> None:
    for mod in m.modules():
        for name in ("weight", "bias"):
            if prune.is_pruned(mod) and hasattr(mod, name + "_orig"):
                prune.remove(mod, name)


@torch.no_grad()
def free_dead_inputs(m) -> int:
    """Zero the weights that read a removed channel (a removed channel frees the next layer's weights for it).
    Returns their count. An input channel counts as removed when it is exactly zero on held-out renders and, in a
    second pass where every removed channel (a zero filter with zero bias, or a BatchNorm channel with zero γ and
    β) is given a bias of 1, exactly 1 everywhere: it comes from removed channels through per-channel operations
    only (ReLU, pooling, resizing), whatever the input; a channel that also mixes in a kept one is not freed."""
    images, _, _ = _heldout(m, PROBE)
    x = kp.to_tensor(images)
    x = torch.cat([x, torch.rand(4, *x.shape[1:], generator=torch.Generator().manual_seed(0))])  # and noise

    def inputs(net) -> list[torch.Tensor]:
        seen = []

        def hook(mod, args):
            a = args[0]
            seen.append(a.transpose(0, 1).reshape(a.shape[1], -1))
        hooks = [mod.register_forward_pre_hook(hook) for mod in _layers(net)]
        net.eval()(x)
        for h in hooks:
            h.remove()
        return seen

    marked = copy.deepcopy(m)
    for mod in marked.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)) and mod.bias is not None:
            gone = (mod.weight.flatten(1) == 0).all(1) & (mod.bias == 0)
            mod.bias[gone] = 1.0
        elif isinstance(mod, nn.BatchNorm2d):
            gone = (mod.weight == 0) & (mod.bias == 0)
            mod.bias[gone] = 1.0
    freed = 0
    for mod, plain, mark in zip(_layers(m), inputs(m), inputs(marked)):
        cols = (plain == 0).all(1) & (mark == 1).all(1)
        if cols.any():
            freed += int((mod.weight[:, cols] != 0).sum())
            mod.weight[:, cols] = 0
    return freed


def prune_channels(model, amount: float, scores: dict | None = None, keep: dict | None = None):
    """A copy of ``model`` with the fraction ``amount`` of every prunable layer's output channels removed: those
    with the lowest ``scores`` (default: L1 norm of the filter, Li et al. 2017), never one already removed in
    ``keep``. Returns the copy (masks still attached, for fine-tuning) and the new keep vectors."""
    m = _copy(model)
    bns = _following_bn(m)
    new_keep = {}
    for i, (src, layer) in enumerate(zip(_prunable(model), _prunable(m))):
        n = layer.weight.shape[0]
        score = (scores[i] if scores is not None else src.weight.detach().flatten(1).abs().sum(1)).clone().float()
        k = keep[i].clone() if keep is not None else torch.ones(n, dtype=torch.bool)
        score[~k] = -float("inf")  # already removed: counted first
        drop = torch.argsort(score)[:round(amount * n)]
        k[drop] = False
        new_keep[i] = k
        _mask_channels(layer, bns.get(layer), k)
    return m, new_keep


def prune_model(model, amount: float, criterion: str = "channel_l1", seed: int = 0):
    """A pruned copy of ``model`` (criterion: ``CRITERIA``; ``seed`` draws random pruning's mask), in eval mode,
    masks made permanent and, for channel pruning, the next layers' freed inputs zeroed."""
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {tuple(CRITERIA)}, got {criterion!r}")
    if criterion == "channel_l1":
        m, _ = prune_channels(model, amount)
        _finalize(m)
        free_dead_inputs(m)
        return m.eval()
    m = copy.deepcopy(model)
    layers = _prunable(m)
    if amount > 0:
        if criterion == "magnitude":
            prune.global_unstructured([(mod, "weight") for mod in layers], prune.L1Unstructured, amount=amount)
        else:  # the same count as global magnitude pruning, drawn uniformly over all prunable weights
            sizes = [mod.weight.numel() for mod in layers]
            gen = torch.Generator().manual_seed(seed)
            drop = torch.randperm(sum(sizes), generator=gen)[:round(amount * sum(sizes))]
            keep = torch.ones(sum(sizes))
            keep[drop] = 0
            for mod, mask in zip(layers, keep.split(sizes)):
                prune.custom_from_mask(mod, "weight", mask.view_as(mod.weight).to(mod.weight.device))
        _finalize(m)
    return m.eval()


# -- one storage accounting -----------------------------------------------------------------------------------
def layer_storage(weight: torch.Tensor, index_bits: int, value_bits: int = 32) -> dict:
    """How a weight tensor is stored, in the cheaper of two formats:
    - "dense": the block without its all-zero output channels (rows) and input channels (columns), each value in
      ``value_bits``, plus one bit per row and column saying which are kept (none when nothing is removed);
    - "sparse": Deep Compression's, every kept weight with its gap to the previous one in ``index_bits`` (filler
      entries bridge longer gaps), ``value_bits + index_bits`` per entry.
    Returns {format, values (what is stored), gaps (sparse only), bits}."""
    w = weight.detach().cpu()
    rows = (w.flatten(1) != 0).any(1)
    cols = (w.transpose(0, 1).flatten(1) != 0).any(1) if w.dim() > 1 else torch.ones(1, dtype=torch.bool)
    block = w[rows][:, cols] if w.dim() > 1 else w[rows]
    removed = bool((~rows).any() or (~cols).any())
    dense_bits = block.numel() * value_bits + (rows.numel() + cols.numel() if removed else 0)
    values, gaps = sparse_entries(w, index_bits)
    sparse_bits = values.numel() * (value_bits + index_bits)
    if sparse_bits < dense_bits:
        return {"format": "sparse", "values": values, "gaps": gaps, "bits": sparse_bits, "index_bits": index_bits}
    return {"format": "dense", "values": block.flatten(), "gaps": None, "bits": dense_bits, "index_bits": index_bits}


def storage(model, value_bits: int = 32, scale_bits: int = 0) -> dict:
    """The model's stored size: every conv and linear weight by :func:`layer_storage` (gaps of 8 bits in conv and
    5 in FC layers), plus ``scale_bits`` per output channel (quantization scales); biases and BatchNorm stay dense
    float32. Returns {bits, layers: [layer_storage...], other_bits, formats: {(kind, format): count}}."""
    layers, formats = [], {}
    for mod in _layers(model):
        st = layer_storage(mod.weight, INDEX_BITS[type(mod)], value_bits)
        st["bits"] += scale_bits * mod.weight.shape[0]
        st["kind"] = "FC" if isinstance(mod, nn.Linear) else "conv"
        layers.append(st)
        formats[(st["kind"], st["format"])] = formats.get((st["kind"], st["format"]), 0) + 1
    weights = sum(mod.weight.numel() for mod in _layers(model))
    other = 32 * (_params(model) - weights)
    return {"bits": sum(s["bits"] for s in layers) + other, "layers": layers, "other_bits": other, "formats": formats}


def gap_label(formats: dict) -> str:
    """Which index gaps a stored model uses: "8-bit gaps (conv), 5-bit (FC)", "dense", ..."""
    parts = [f"{INDEX_BITS[nn.Conv2d if kind == 'conv' else nn.Linear]}-bit gaps ({kind})"
             for kind in ("conv", "FC") if formats.get((kind, "sparse"))]
    return ", ".join(parts) if parts else "dense, no gaps needed"


def quantize_int8_weights(model):
    """Per-output-channel symmetric int8 weights (scale = max|w| / 127), dequantized for computing."""
    m = copy.deepcopy(model)
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() >= 2:
                w = p.view(p.shape[0], -1)
                scale = w.abs().amax(1, keepdim=True).clamp_min(1e-12) / 127
                q = torch.round(w / scale).clamp(-127, 127)
                p.copy_((q * scale).view_as(p))
    return m.eval()


def quantize_fp16(model):
    return copy.deepcopy(model).half().float().eval()  # fp16 storage, fp32 compute


def serialized_bytes(model) -> int:
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)  # size only: written to memory, never loaded
    return buf.tell()


def _row(model_name, method, setting, st_bits, errors) -> dict:
    sp = Spread(errors)
    return {"model": model_name, "method": method, "setting": setting, "size_kb": st_bits / 8 / 1024,
            "error_px": sp.mean, "error_lo": sp.lo, "error_hi": sp.hi, "errors": list(sp.values)}


def sweep(model_name: str = kp.model_for("compression").name, n: int = 200, progress=None) -> list[dict]:
    """Rows (model, method, setting, size_kb, error_px and its spread over the three seeds)."""
    model = copy.deepcopy(kp.get_model(model_name)).cpu().eval()
    base = storage(model)["bits"]
    total = len(CRITERIA) * (len(SPARSITIES) - 1) + 3
    rows = [_row(model_name, "fp32 (original)", "fp32", base, [_error(model, n, s) for s in SEEDS])]
    for criterion, label in CRITERIA.items():
        for amount in SPARSITIES[1:]:
            if criterion == "random":
                ms = [prune_model(model, amount, criterion, seed=s) for s in SEEDS]
            else:
                ms = [prune_model(model, amount, criterion)] * len(SEEDS)  # deterministic: one model
            rows.append(_row(model_name, label, f"{int(100 * amount)} %", storage(ms[0])["bits"],
                             [_error(m, n, s) for m, s in zip(ms, SEEDS)]))
            if progress:
                progress(len(rows) / total, f"{label} {int(100 * amount)} %")
    m = quantize_fp16(model)
    rows.append(_row(model_name, "fp16 weights", "fp16", storage(model, 16)["bits"], [_error(m, n, s) for s in SEEDS]))
    m = quantize_int8_weights(model)
    rows.append(_row(model_name, "int8 weights (per channel)", "int8", storage(model, 8, scale_bits=32)["bits"],
                     [_error(m, n, s) for s in SEEDS]))
    for r in rows:
        r["size_ratio"] = r["size_kb"] * 8 * 1024 / base
    return rows


def dynamic_int8_regression(n: int = 200) -> list[dict]:
    """torch's dynamic int8 quantization of the regression model's Linear layers (real int8 kernels on CPU); its
    size is the serialized state dict (what torch.ao stores), the same for the fp32 row beside it."""
    name = kp.model_for("compression_fc").name
    model = copy.deepcopy(kp.get_model(name)).cpu().eval()
    q = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {nn.Linear}, dtype=torch.qint8)
    out = []
    for method, short, m in (("fp32 (original, serialized)", "fp32", model),
                             ("dynamic int8 Linear (torch.ao, serialized)", "int8 dynamic", q)):
        out.append(_row(name, method, short, 8 * serialized_bytes(m), [_error(m, n, s) for s in SEEDS]))
    return out


SHORT = {"magnitude": "magnitude", "random": "random", "channel_l1": "channel-L1"}  # names in sentences


def sweep_text(rows: list[dict], levels=("30 %", "50 %")) -> str:
    """At each of ``levels``, the criteria ordered by error with the spread rule, and their stored sizes."""
    out = []
    for lv in levels:
        at = {SHORT[k]: r for k, label in CRITERIA.items() for r in rows
              if r["setting"] == lv and r["method"] == label}
        if len(at) < 2:
            continue
        sizes = ", ".join(f"{k} {r['size_kb']:.0f} KB" for k, r in at.items())
        out.append(f"**{lv} pruned** (stored: {sizes}). "
                   + order_sentence({k: r["errors"] for k, r in at.items()}, "keypoint error (px)", fmt=".1f"))
    return ("Error: mean over three seeds (three disjoint thirds of the held-out renders; random pruning also draws "
            "three masks); sizes from one storage accounting (the Deep Compression panel's). No fine-tuning.\n\n"
            + "\n\n".join(out))


# -- pruning criteria with a short fine-tune, compared at equal accuracy --------------------------------------
FT_LEVELS = (0.25, 0.5)  # fraction of every prunable layer's channels removed, in turn
FT_STEPS, FT_BATCH, FT_LR = 6, 4, 2e-4  # the short fine-tune after each pruning step (kp.train: AdamW, one cycle)
FT_POOL, FT_N = 256, 60  # training renders the fine-tune samples from; held-out renders scored (a third per seed)
FT_TARGET = 1.5  # equal accuracy: error at most this times the fine-tuned unpruned model's (mean over seeds)
FT_CRITERIA = {"taylor": "Taylor |activation × gradient| (Molchanov et al. 2017)", "l1": "filter L1 norm (Li et al. 2017)",
               "random": "random channels"}


FT_SHORT = {"taylor": "Taylor", "l1": "L1", "random": "random"}  # names in sentences


class Taylor:
    """Molchanov et al.'s criterion for every prunable layer's output channels, accumulated over training steps:
    per image, |mean over the map of activation × gradient| (the first-order change of the loss when the map is
    removed), averaged over images. The activation is the layer's output map."""

    def __init__(self, model):
        self.layers = _prunable(model)
        self.sums = [torch.zeros(layer.weight.shape[0]) for layer in self.layers]
        self.count = 0
        self.hooks = [layer.register_forward_hook(self._forward(i)) for i, layer in enumerate(self.layers)]

    def _forward(self, i):
        def hook(mod, args, z):
            if z.requires_grad:
                def grad(g, z=z.detach()):
                    prod = (z * g).flatten(2).mean(2) if z.dim() == 4 else z * g
                    self.sums[i] += prod.abs().sum(0).cpu()
                    if i == 0:
                        self.count += z.shape[0]
                z.register_hook(grad)
        return hook

    def scores(self) -> dict:
        return {i: s / max(self.count, 1) for i, s in enumerate(self.sums)}

    def close(self):
        for h in self.hooks:
            h.remove()


def _fine_tune(m, images, keypoints, seed: int) -> Taylor:
    """FT_STEPS steps of kp.train on ``m`` (pruning masks stay applied); returns the Taylor scores gathered."""
    t = Taylor(m)
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.momentum = 0.0  # batches of 4 would replace the running statistics with noise: keep them
    kp.train(m, images, keypoints, steps=FT_STEPS, batch=FT_BATCH, lr=FT_LR, seed=seed, progress=False)
    t.close()
    return t


def _measured(m, n: int, seed: int) -> tuple[float, float]:
    """(stored bits, error) of a fine-tuned, masked model: masks made permanent, freed inputs removed."""
    final = _copy(m)
    _finalize(final)
    free_dead_inputs(final)
    return storage(final.eval())["bits"], _error(final, n, seed)


def criteria_fine_tuned(model_name: str = kp.model_for("compression").name, seeds=SEEDS, n: int = FT_N,
                        progress=None) -> dict:
    """Channel pruning by each of ``FT_CRITERIA`` in steps (``FT_LEVELS``), each step followed by a short fine-tune,
    for every seed (seed: fine-tune batches, random channels, held-out third). Returns {"base": {seed: (bits,
    error)}, "runs": {criterion: {seed: [(level, bits, error), ...]}}, "dense_bits"}."""
    model = copy.deepcopy(kp.get_model(model_name)).cpu().eval()
    images, keypoints, _ = kp.dataset(range(FT_POOL), model.variant, model.input_size)
    dense = storage(model)["bits"]
    base, runs = {}, {c: {} for c in FT_CRITERIA}
    total, done = len(seeds) * (1 + len(FT_CRITERIA) * len(FT_LEVELS)), 0
    for seed in seeds:
        start = _copy(model)
        taylor0 = _fine_tune(start, images, keypoints, seed)  # every criterion starts from this fine-tuned model
        base[seed] = _measured(start, n, seed)
        done += 1
        for crit in FT_CRITERIA:
            m, keep, taylor, out = start, None, taylor0, []
            gen = torch.Generator().manual_seed(1000 + seed)
            for level in FT_LEVELS:
                if crit == "taylor":
                    scores = taylor.scores()
                elif crit == "random":
                    scores = {i: torch.rand(layer.weight.shape[0], generator=gen) for i, layer in enumerate(_prunable(m))}
                else:
                    scores = None  # prune_channels' default: the filters' L1 norm
                m, keep = prune_channels(m, level, scores, keep)
                taylor = _fine_tune(m, images, keypoints, seed)
                out.append((level, *_measured(m, n, seed)))
                done += 1
                if progress:
                    progress(done / total, f"seed {seed}: {crit} {int(100 * level)} %")
            runs[crit][seed] = out
    return {"base": base, "runs": runs, "dense_bits": dense}


def ratio_at(points: list[tuple[float, float]], target: float) -> tuple[float, bool]:
    """The largest compression ratio at which the error stays at most ``target``, along (ratio, error) points in
    order of ratio (linear between them). Returns (ratio, reached_end): reached_end when the last point is still
    within the target (the true ratio is at least that)."""
    if points[0][1] > target:
        return 0.0, False  # not even the first point is within the target
    best = points[0][0]
    for (r0, e0), (r1, e1) in zip(points, points[1:]):
        if e1 <= target:
            best = r1
            continue
        if e0 <= target:
            best = r0 + (r1 - r0) * (target - e0) / (e1 - e0)
        break
    else:
        return best, True  # every point within the target
    return best, False


def fine_tuned_summary(res: dict) -> dict:
    """Per criterion: the ratio at equal accuracy per seed, and the error per level per seed."""
    dense = res["dense_bits"]
    target = FT_TARGET * Spread([e for _, e in res["base"].values()]).mean
    out = {"target": target, "ratio": {}, "capped": {}, "error": {}, "ratio_at_level": {}}
    for crit, by_seed in res["runs"].items():
        ratios, capped = [], []
        for seed, pts in by_seed.items():
            b0, e0 = res["base"][seed]
            r, end = ratio_at([(dense / b0, e0)] + [(dense / b, e) for _, b, e in pts], target)
            ratios.append(r)
            capped.append(end)
        out["ratio"][crit], out["capped"][crit] = ratios, capped
        for i, lv in enumerate(FT_LEVELS):
            out["error"].setdefault(lv, {})[crit] = [pts[i][2] for pts in by_seed.values()]
            out["ratio_at_level"][lv] = Spread([dense / pts[i][1] for pts in by_seed.values()]).mean
    return out


def fine_tuned_text(sm: dict) -> str:
    """The comparison at equal accuracy, and at equal size, each order stated only beyond the seed spread."""
    short = FT_SHORT
    parts = []
    for crit, v in sm["ratio"].items():
        cap = " (still within it at the last step: at least this)" if any(sm["capped"][crit]) else ""
        parts.append(f"{short[crit]} {Spread(v).text('.2f')}×{cap}")
    # a higher ratio is better: order the negatives so that "lowest first" reads best first
    ratio_order = order_sentence({short[c]: [-x for x in v] for c, v in sm["ratio"].items()},
                                 "negated compression ratio", fmt=".2f")
    lines = [f"**At equal accuracy** (error at most {sm['target']:.2f} px, {FT_TARGET}× the fine-tuned unpruned "
             f"model's): compression ratio {', '.join(parts)} (mean, min–max over {len(next(iter(sm['ratio'].values())))} "
             f"seeds). {ratio_order.replace('Negated compression ratio, lowest first', 'Best first')}"]
    for lv, errs in sm["error"].items():
        lines.append(f"**At equal size** ({int(100 * lv)} % of the channels removed, {sm['ratio_at_level'][lv]:.2f}× "
                     f"smaller): " + order_sentence({short[c]: v for c, v in errs.items()}, "keypoint error (px)",
                                                    fmt=".2f"))
    return "\n\n".join(lines) + (f"\n\nEach pruning step removes a fraction of every layer's channels, then "
                                  f"{FT_STEPS} AdamW steps of {FT_BATCH} images fine-tune; the Taylor scores are "
                                  "gathered during the fine-tune before the step. Molchanov et al. (ICLR 2017) found "
                                  "the Taylor criterion ranks feature maps better than weight magnitude or random.")


# -- Deep Compression (Han, Mao and Dally, ICLR 2016; docs/facts.md 6) ----------------------------------------
# Prune (magnitude), share weights (k-means, a codebook of 2^b centroids per layer), Huffman-code. Every stage is
# counted by ``storage``: a sparse layer as in the paper, each kept weight with the gap to the previous one in p
# bits (8 for conv, 5 for FC layers), a gap over 2^p bridged by a filler entry (a stored zero); a layer that is
# cheaper dense (little pruned) as a dense block. Biases and BatchNorm stay float32 in every stage. No fine-tuning
# (the paper retrains after pruning and fine-tunes the centroids), so the error here is an upper bound of what the
# pipeline costs.
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


def _shared(values: torch.Tensor, kept: torch.Tensor, bits: int):
    """Codebook (2^bits centroids, k-means on the kept weights) and the code of every stored value. A stored zero
    (a filler, or a pruned weight inside a dense block) takes a centroid fixed at exactly 0 when the layer has any,
    so it stays zero; k-means then learns the other 2^bits - 1."""
    has_zero = bool((values == 0).any())
    k = 2 ** bits - int(has_zero)
    if k < 1 or kept.numel() == 0:
        c = torch.zeros(1)
    else:
        c, _ = kmeans_1d(kept, k)
        if has_zero:
            c = torch.sort(torch.cat([c, torch.zeros(1)])).values
    return c, nearest(values, c)


def nearest(values: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Each value's nearest centroid in the sorted codebook ``c`` (by the midpoints between neighbours)."""
    return torch.bucketize(values, (c[1:] + c[:-1]) / 2)


def deep_compression(model_name: str, sparsity: float, bits: int, n: int = 200) -> list[dict]:
    """The pipeline's stages: rows {stage, bits, size_kb, ratio, error_px}, every size from :func:`storage`."""
    sparsity, bits = DC_SPARSITY.check(sparsity), DC_BITS.check(bits)
    model = copy.deepcopy(kp.get_model(model_name)).cpu().eval()
    dense_bits = storage(model)["bits"]
    pruned = prune_model(model, sparsity, "magnitude")
    st = storage(pruned)
    quantized = copy.deepcopy(pruned)
    q_bits = h_bits = st["other_bits"]
    for mod, qmod, lay in zip(_layers(pruned), _layers(quantized), st["layers"]):
        w = mod.weight.detach()
        keep = w != 0
        c, codes = _shared(lay["values"], w[keep], bits)
        with torch.no_grad():
            qmod.weight[keep] = c[nearest(w[keep], c)]  # every kept weight -> its centroid
        book = 32 * c.numel()
        overhead = lay["bits"] - lay["values"].numel() * (32 + (lay["index_bits"] if lay["format"] == "sparse" else 0))
        if lay["format"] == "sparse":
            q_bits += lay["values"].numel() * (bits + lay["index_bits"]) + book
            h_bits += huffman_bits(codes) + huffman_bits(lay["gaps"]) + book
        else:  # a dense block: its codes, and the same kept-row/column bits as before
            q_bits += lay["values"].numel() * bits + book + overhead
            h_bits += huffman_bits(codes) + book + overhead
    errs = {"orig": _original_error(model_name, n), "pruned": _error(pruned, n), "quant": _error(quantized.eval(), n)}
    rows = [("original (float32)", dense_bits, errs["orig"]),
            (f"pruned {int(round(100 * sparsity))} % ({gap_label(st['formats'])})", st["bits"], errs["pruned"]),
            (f"+ weight sharing (k-means, 2^{bits} = {2 ** bits} centroids)", q_bits, errs["quant"]),
            ("+ Huffman coding (lossless)", h_bits, errs["quant"])]
    return [{"stage": name, "bits": b, "size_kb": b / 8 / 1024, "ratio": dense_bits / b, "error_px": e,
             "fc": fc_share(model)} for name, b, e in rows]


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


def fc_sentence(fc: int, total: int, paper: dict[str, tuple[int, int]]) -> str:
    """What the counts say about fully connected layers: this model's share of parameters in nn.Linear against
    AlexNet's and VGG-16's (counted on torchvision's built modules)."""
    theirs = ", ".join(f"{name} {100 * a / b:.0f} %" for name, (a, b) in paper.items())
    if fc == 0:
        return (f"This {total / 1000:.0f} k-parameter model has no fully connected layers (theirs hold {theirs} of "
                "the parameters).")
    lo = min(a / b for a, b in paper.values())
    than = "less than" if fc / total < lo else "as much as"
    return (f"This model keeps {fc:,} of its {total:,} parameters ({100 * fc / total:.0f} %) in fully connected "
            f"layers (nn.Linear), {than} AlexNet and VGG-16 ({theirs}).")


def deep_compression_text(rows: list[dict], bits: int, n: int = 200, paper: dict | None = None) -> str:
    last, pruned = rows[-1], rows[1]
    fc, total = rows[0]["fc"]
    paper_txt = "; ".join(f"{name} {a} MB → {b} MB ({r}×)" for name, a, b, r in PAPER)
    change = last["error_px"] - rows[0]["error_px"]
    return (f"**{last['ratio']:.1f}× smaller** ({rows[0]['size_kb']:.0f} KB → {last['size_kb']:.0f} KB); error "
            f"{rows[0]['error_px']:.2f} → {last['error_px']:.2f} px ({change:+.2f} px) on {n} held-out renders. "
            f"Pruning alone gives {pruned['ratio']:.2f}× (a sparse layer also stores each kept weight's gap; a layer "
            f"that would cost more sparse stays dense), {bits}-bit weight sharing {rows[2]['ratio']:.1f}×, Huffman "
            f"coding of the codes and gaps {last['ratio']:.1f}× (lossless: same error). The paper (Han, Mao and Dally "
            f"2016), with retraining after pruning and fine-tuned centroids: {paper_txt}, without loss of accuracy. "
            "Its pruning alone kept 1/9 of AlexNet's weights and 1/13 of VGG-16's (Han et al. 2015), mostly from "
            f"their large fully connected layers. {fc_sentence(fc, total, paper or paper_fc_shares())} Nothing is "
            "retrained here, so the error is what compression costs before fine-tuning.")


# The pruning plot's plotting area in px at presentation type (22 px at 1280x720: a full row, 662 px high less its
# two-line title, axis and legend rows), for placing labels; in the lab's own 13 px type the same placement has room
PLOT_W, PLOT_H = 1050, 340


def figure(rows: list[dict]) -> dict:
    """Stored size against keypoint error: one line per pruning criterion (labels: the pruned fraction), the
    quantized models as points; bars show the spread over seeds; labels placed so that none overlap."""
    groups = {}
    for r in rows:
        key = (r["model"], r["method"] if r["method"].startswith("pruned") else "quantization / original")
        groups.setdefault(key, []).append(r)
    xs, ys = [r["size_kb"] for r in rows], [r["error_px"] for r in rows]
    x_range, y_range = L.padded(xs, False, 0.06), L.padded([max(y, 0.5) for y in ys], True, 0.12)
    texts = [r["setting"] for r in rows]
    pos = L.place(xs, [max(y, 0.5) for y in ys], texts, log_y=True, width=PLOT_W, height=PLOT_H, font=L.PRESENT_FONT,
                  x_range=x_range, y_range=y_range)
    where = {id(r): p for r, p in zip(rows, pos)}
    colors = [PALETTE[0], PALETTE[3], PALETTE[7], PALETTE[2], PALETTE[4]]
    data = []
    for i, ((model, kind), rs) in enumerate(groups.items()):
        rs = sorted(rs, key=lambda r: -r["size_kb"])
        c = colors[i % len(colors)]
        data.append({"type": "scatter", "x": [r["size_kb"] for r in rs], "y": [r["error_px"] for r in rs],
                     "mode": "lines+markers+text" if kind.startswith("pruned") else "markers+text",
                     "text": [r["setting"] if where[id(r)] else "" for r in rs],
                     "textposition": [where[id(r)] or "top center" for r in rs], "textfont": {"size": 13},
                     "error_y": {"type": "data", "array": [r["error_hi"] - r["error_px"] for r in rs],
                                 "arrayminus": [r["error_px"] - r["error_lo"] for r in rs], "color": c},
                     "name": f"{model}: {kind}", "marker": {"size": 12, "color": c}, "line": {"color": c, "width": 3},
                     "hovertemplate": "%{text} %{x:.0f} KB, %{y:.2f} px<extra>" + kind + "</extra>"})
    layout = {"xaxis": {"title": {"text": "stored size (KB): kept weights, their gaps or kept channels"},
                        "range": L.plotly_range(x_range, False)},
              "yaxis": {"title": {"text": "mean keypoint error (input px, log)"}, "type": "log",
                        "range": L.plotly_range(y_range, True),
                        "tickvals": [1, 2, 5, 10, 20, 50, 100], "ticktext": ["1", "2", "5", "10", "20", "50", "100"]},
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0}, "margin": {"b": 170}}
    return dict_figure(data, layout, "Size against keypoint error on the held-out set (no fine-tuning; bars: "
                       "min–max over 3 seeds)", height=540)
