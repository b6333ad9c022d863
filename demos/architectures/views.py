"""The architectures tab's views: parameter records and the functions the tab wires (no Gradio here)."""

from __future__ import annotations

import functools

import pandas as pd

from demos.common.device import device_label, get_device
from demos.common.params import Choice, Param, Update, takes
import demos.keypoints as kp
from demos.common.plotstyle import placeholder

from . import blocks as B
from . import compression as Q
from . import separable as S
from . import skip as K
from . import squeeze as SQ
from . import zoo as Z

CHANNELS = Param("c", "channels C", 8, 512, 256, 8, integer=True,
                 help="ResNeXt-50 32x4d's first stage: 256-d in, 32 paths of 4 channels")
SIZE = Param("size", "input size (px)", 4, 56, 28, 1, integer=True,
             help="12 blocks at C 512 and 56 px take about 12 s on a 2-core CPU (at 112 px it was 47 s)")
GROUPS = Param("groups", "ResNeXt cardinality (groups)", 1, 64, 32, 1, integer=True,
               help="snaps to the nearest divisor of C/2")
KERNEL = Choice("kind", "kernel", tuple((k, k) for k in S.KERNELS), S.KERNELS[3])
KERNEL_INDEX = Param("index", "channel / seed (random and first-layer kernels)", 0, 23, 0, 1, integer=True)
CIN = Param("cin", "input channels", 8, 512, 64, 8, integer=True)
COUT = Param("cout", "output channels N", 8, 512, 128, 8, integer=True)
CONV_SIZE = Param("conv_size", "size (px)", 7, 112, 56, 7, integer=True)
# time grows as depth x steps, about 3.3 ms per layer and step on 2 cores (`python -m bench worst`: 40 x 300 took
# 39.5 s), so the longest run allowed, 30 x 250, takes about 25 s
DEPTH = Param("depth", "depth (conv layers)", 4, 30, 30, 1, integer=True)
SKIP_STEPS = Param("steps", "steps", 50, 250, 200, 10, integer=True,
                   help="the longest run (30 layers, 250 steps) takes about 25 s on a 2-core CPU")

DC_MODEL = Choice("dc_model", "model", tuple((m.label, m.name) for m in kp.MODELS.values()
                                             if m.name in kp.bundled_names()), kp.model_for("default").name)
DC_SPARSITY = Param("dc_sparsity", "pruned (fraction of weights)", 0.0, 0.95, 0.5, 0.05,
                    help="magnitude pruning across all layers but the output layer, no retraining")
DC_BITS = Param("dc_bits", "bits per shared weight (2^b centroids)", 1, 8, 6, 1, integer=True,
                help="the paper used 8 bits for conv layers and 5 for FC layers; the slowest setting takes about 6 s")
COMPRESSION_COLUMNS = ["model", "method", "setting", "size_kb", "error_px"]
DC_COLUMNS = ["stage", "size_kb", "ratio", "error_px"]


@functools.lru_cache(maxsize=1)
def _zoo_table():
    return Z.table()


def _zoo(entries_latency: dict) -> dict:
    dev = get_device()
    entries = _zoo_table()
    for e in entries:
        e.latency_ms = entries_latency.get(e.name)
    have = all(e.latency_ms is not None for e in entries)
    text = ("Parameters and operations are counted on the built torchvision modules (no weights downloaded); "
            "top-1 accuracy, multiply-adds and file size are read from torchvision's weight metadata, not measured "
            "here. FlopCounterMode counts a multiply-add as 2 FLOPs, so its column is exactly 2× the metadata's "
            "GMACs. (Inception-v3's metadata parameter count includes its auxiliary classifier, 3.3 M, which "
            "inference does not use; GoogLeNet is torchvision's Inception-v1 with BatchNorm.)")
    if have:
        text += "\n\n" + Z.latency_sentence(entries, device_label(dev)) + " (latencies cached for this device)"
    else:
        text += "\n\nPress **Measure latency** to time every model at batch 1 on this device."
    return {"ops": Z.bubble(entries, "ops"), "latency": Z.bubble(entries, "latency") if have else placeholder(
                "Press <b>Measure latency</b> below: every model timed at batch 1<br>on this device (about 10 s on a 2-core CPU, then cached)."),
            "table": pd.DataFrame(Z.rows(entries)), "text": text}


@takes()
def zoo_static() -> dict:
    return _zoo(Z.load_latency(get_device()))


@takes(seconds=16)
def zoo_latency(report=None) -> dict:
    dev = get_device()
    entries = _zoo_table()
    lat = Z.load_latency(dev)
    for i, e in enumerate(entries):
        if report:
            report(i / len(entries), f"timing {e.label} on {dev.type}")
        if e.name not in lat:
            lat[e.name] = Z.measure_latency(e.name, e.input_size, dev)
    Z.save_latency(dev, lat)
    return _zoo(lat)


def nearest_divisor(n: int, g: int) -> int:
    """The divisor of n closest to g (the smaller one on a tie)."""
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: (abs(d - g), d))


@takes(CHANNELS, SIZE, GROUPS)
def blocks(c, size, groups) -> dict:
    w = c // 2
    snapped = nearest_divisor(w, groups)
    rows = B.all_blocks(c, size, snapped, get_device())
    ok = all(r["params (formula)"] == r["params (module)"] and r["MACs (formula)"] == r["MACs (FlopCounterMode / 2)"]
             for r in rows)
    text = (f"C = {c} channels on a {size}×{size} input. Formulas {'**equal**' if ok else '**differ from**'} the "
            "counts on the built modules for every block. Time: median of 5 runs at batch 1 on "
            f"{device_label()}.")
    if snapped != groups:
        text = (f"*Cardinality {groups} does not divide the bottleneck width C/2 = {w}; using the nearest divisor, "
                f"{snapped}.* " + text)
    return {"plot": B.figure_blocks(rows), "table": pd.DataFrame(rows), "text": text, "groups": Update(value=snapped)}


@takes(KERNEL, KERNEL_INDEX, CIN, COUT, CONV_SIZE)
def separable(kind, index, cin, cout, conv_size) -> dict:
    k = S.kernel(kind, index)
    r = S.rank1(k)
    cost = S.depthwise_cost(cin, cout, conv_size, device=get_device())
    text = (f"**Separable kernel**: a {k.shape[0]}×{k.shape[1]} kernel has {r['weights_full']} weights; a column "
            f"filter then a row filter have {r['weights_sep']}. That is exactly a rank-1 kernel; the best rank-1 "
            f"approximation (SVD: s₁·u₁v₁ᵀ) keeps {100 * r['energy']:.1f} % of this kernel's energy — diagonals and "
            f"rings are what it cannot express.\n\n**Depthwise-separable 3×3**, {cin}→{cout} channels at "
            f"{conv_size}×{conv_size}: full conv {cost['full']['macs'] / 1e6:.1f} M MACs, separable "
            f"{cost['separable']['macs'] / 1e6:.1f} M: ratio {cost['ratio_counted']:.4f}, formula 1/N + 1/k² = "
            f"1/{cout} + 1/9 = {cost['ratio_formula']:.4f}. Measured time ratio on {device_label()}: "
            f"{cost['ratio_time']:.2f} ({cost['separable']['ms']:.2f} vs {cost['full']['ms']:.2f} ms) — fewer MACs, "
            "but depthwise convolutions use the hardware less efficiently.")
    return {"plot": S.figure_rank1(k, r, kind), "text": text}


@takes(DEPTH, SKIP_STEPS, seconds=lambda depth, steps, **_: 1 + 25 * depth * steps / (30 * 250))
def skip_connections(depth, steps, report=None):
    for step, losses, grads in K.train_stream(depth, steps, device=get_device(), every=max(10, steps // 20)):
        if report:
            report(step / steps, f"step {step}/{steps}")
        p, r = losses["plain"][-20:], losses["residual"][-20:]
        text = (f"Step {step} of {steps}: loss plain {sum(p) / len(p):.3f}, residual {sum(r) / len(r):.3f}; "
                f"gradient norm at layer 1 vs layer {depth}: plain {grads['plain'][0]:.2e} vs {grads['plain'][-1]:.2e}, "
                f"residual {grads['residual'][0]:.2e} vs {grads['residual'][-1]:.2e}. Simplification: no "
                f"normalization layers, He init, and each residual branch scaled by 1/√depth so the sum stays bounded.")
        yield {"plot": K.figure(losses, grads, depth), "text": text}


@functools.lru_cache(maxsize=2)
def _compression(n: int):
    return Q.sweep(kp.model_for("compression").name, n) + Q.dynamic_int8_regression(n)


@takes(seconds=15)
def compression(report=None) -> dict:
    if report:
        report(0.1, "pruning and quantizing (about 15 s)")
    rows = _compression(200)
    return {"plot": Q.figure(rows),
            "table": pd.DataFrame(rows)[COMPRESSION_COLUMNS].round(2)}


@takes(DC_MODEL, DC_SPARSITY, DC_BITS, seconds=3)
def deep_compression(dc_model, dc_sparsity, dc_bits, report=None) -> dict:
    if report:
        report(0.1, "pruning, k-means, Huffman (a few seconds)")
    rows = Q.deep_compression(dc_model, dc_sparsity, dc_bits)
    table = pd.DataFrame(rows)[DC_COLUMNS].round(2)
    return {"plot": Q.deep_compression_figure(rows, dc_model), "text": Q.deep_compression_text(rows, dc_bits),
            "table": table}


@takes()
def squeezenet() -> dict:
    s = SQ.summary()
    return {"plot": SQ.figure_strategies(s), "text": SQ.text(s)}
