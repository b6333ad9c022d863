"""SqueezeNet's three design strategies (Iandola et al. 2016, docs/facts.md 6), counted on torchvision's built
SqueezeNet 1.0 (random weights: only shapes and counts matter here, nothing is downloaded).

1. Replace 3x3 filters with 1x1 filters (a 1x1 has 9x fewer weights).
2. Decrease the number of input channels to the 3x3 filters (the fire module's *squeeze* layer).
3. Downsample late, so that convolution layers have large activation maps (the paper's argument: larger maps
   give higher accuracy, at the price of operations).

For every fire module the weights of three layers with the same input and output channels are counted: a plain
3x3 convolution, strategy 1 alone (the expand layer's 1x1 and 3x3 filters, fed all input channels), and the fire
module (strategies 1 and 2). Strategy 3 moves SqueezeNet 1.0's max-pooling layers earlier, keeping every other
layer, and counts the multiply-adds with torch's FlopCounterMode.
"""

from __future__ import annotations

import functools

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models import (AlexNet_Weights, SqueezeNet1_0_Weights, SqueezeNet1_1_Weights, alexnet, squeezenet1_0,
                                squeezenet1_1)
from torchvision.models.squeezenet import Fire

from demos.common.plotstyle import PALETTE, figure, subplot_grid

INPUT = 224
# where SqueezeNet 1.0 pools (torchvision's order: after conv1, fire4, fire8) and an early-downsampling variant
LATE = ("conv1", "fire4", "fire8")
EARLY = ("conv1", "fire2", "fire3")
PAPER = {"ratio_vs_alexnet": 50, "compressed_mb": 0.47, "compressed_ratio": 510}  # Iandola et al. 2016, abstract


def _squeezenet():
    """torchvision's SqueezeNet 1.0 built on the meta device: shapes and counts without allocating weights."""
    with torch.device("meta"):
        return squeezenet1_0()


def fire_rows() -> list[dict]:
    """Per fire module: its channels and the weights of a plain 3x3 conv, of strategy 1 alone and of the fire
    module, by formula, with the built module's count beside the fire formula."""
    rows = []
    fires = [m for m in _squeezenet().features if isinstance(m, Fire)]
    for i, f in enumerate(fires, start=2):
        cin, s = f.squeeze.in_channels, f.squeeze.out_channels
        e1, e3 = f.expand1x1.out_channels, f.expand3x3.out_channels
        rows.append({"fire": f"fire{i}", "in": cin, "squeeze": s, "expand 1×1": e1, "expand 3×3": e3,
                     "plain 3×3 conv": cin * (e1 + e3) * 9,
                     "strategy 1 (1×1 filters)": cin * e1 + cin * e3 * 9,
                     "strategies 1+2 (fire)": cin * s + s * e1 + s * e3 * 9,
                     "fire (module)": sum(p.numel() for p in f.parameters() if p.dim() > 1)})
    return rows


def _named_layers(model) -> list[tuple[str, nn.Module]]:
    """SqueezeNet 1.0's feature layers without its pools, named conv1, fire2 ... fire9."""
    out, fire = [], 2
    for m in model.features:
        if isinstance(m, nn.MaxPool2d):
            continue
        if isinstance(m, Fire):
            out.append((f"fire{fire}", m))
            fire += 1
        elif isinstance(m, nn.Conv2d):
            out.append(("conv1", m))
        else:
            out[-1] = (out[-1][0], nn.Sequential(out[-1][1], m))  # conv1's ReLU
    return out


def with_pools_after(pools: tuple[str, ...]) -> nn.Sequential:
    """SqueezeNet 1.0's features with its three max-pools moved after the named layers."""
    layers = []
    for name, m in _named_layers(_squeezenet()):
        layers.append(m)
        if name in pools:
            layers.append(nn.MaxPool2d(3, 2, ceil_mode=True))  # SqueezeNet's own pooling
    return nn.Sequential(*layers)


def downsampling(pools: tuple[str, ...]) -> dict:
    """Each layer's output side and the total multiply-adds (FlopCounterMode / 2) for one 224x224 image."""
    net = with_pools_after(pools).eval()
    sides, x = [], torch.zeros(1, 3, INPUT, INPUT, device="meta")
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        for m in net:
            x = m(x)
            if not isinstance(m, nn.MaxPool2d):
                sides.append(x.shape[-1])
    return {"sides": sides, "macs": fc.get_total_flops() // 2}


def whole_macs(build) -> int:
    """Multiply-adds of a whole network (features and classifier) for one 224x224 image, counted on the meta device."""
    with torch.device("meta"):
        net = build().eval()
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        net(torch.zeros(1, 3, INPUT, INPUT, device="meta"))
    return fc.get_total_flops() // 2


@functools.lru_cache(maxsize=1)
def summary() -> dict:
    sq = sum(p.numel() for p in _squeezenet().parameters())
    with torch.device("meta"):
        ax = sum(p.numel() for p in alexnet().parameters())
    meta = {k: w.meta for k, w in (("1.0", SqueezeNet1_0_Weights.IMAGENET1K_V1),
                                   ("1.1", SqueezeNet1_1_Weights.IMAGENET1K_V1),
                                   ("alexnet", AlexNet_Weights.IMAGENET1K_V1))}
    return {"fires": fire_rows(), "late": downsampling(LATE), "early": downsampling(EARLY),
            "params": sq, "alexnet_params": ax, "meta": meta,
            "whole": {"1.0": whole_macs(squeezenet1_0), "1.1": whole_macs(squeezenet1_1)},
            "names": [n for n, _ in _named_layers(_squeezenet())]}


def figure_strategies(s: dict):
    fires = s["fires"]
    axes, layout = subplot_grid(1, 2, 0.1, 0.0, ("Strategies 1 and 2: weights per fire module",
                                                 "Strategy 3: activation map side per layer"))
    (xa, ya), (xb, yb) = axes
    names = [r["fire"] for r in fires]
    keys = ("plain 3×3 conv", "strategy 1 (1×1 filters)", "strategies 1+2 (fire)")
    data = [{"type": "bar", "x": names, "y": [r[k] for r in fires], "name": k, "xaxis": xa, "yaxis": ya,
             "marker": {"color": PALETTE[i]}, "legendgroup": "a"} for i, k in enumerate(keys)]
    for i, (key, label) in enumerate((("late", "pools after conv1, fire4, fire8 (1.0: late)"),
                                      ("early", "pools after conv1, fire2, fire3 (early)"))):
        d = s[key]
        data.append({"type": "scatter", "x": s["names"], "y": d["sides"], "xaxis": xb, "yaxis": yb,
                     "mode": "lines+markers", "name": f"{label}: {d['macs'] / 1e9:.2f} GMACs (features only)",
                     "line": {"color": PALETTE[3 + i], "shape": "hv"}, "legendgroup": "b"})
    layout["yaxis"] |= {"type": "log", "title": {"text": "weights (log)"}}
    layout["yaxis2"] |= {"title": {"text": "map side (px)"}, "rangemode": "tozero"}
    layout["xaxis2"] |= {"tickangle": -45}
    layout["xaxis"] |= {"tickangle": -45}
    layout |= {"barmode": "group", "legend": {"orientation": "h", "yanchor": "top", "y": -0.28, "x": 0},
               "margin": {"t": 70, "b": 170}}
    return figure(data, layout, height=520)


SAME_ACCURACY = 0.5  # top-1 points: a smaller difference is called "about the same accuracy"


def versions_sentence(macs10: int, macs11: int, acc10: float, acc11: float) -> str:
    """SqueezeNet 1.1 against 1.0, saying what the numbers say: which needs fewer operations and whether its
    accuracy is higher, lower or about the same (within ``SAME_ACCURACY`` points)."""
    ratio = macs10 / macs11
    fewer = f"{ratio:.2f}× fewer" if ratio >= 1 else f"{1 / ratio:.2f}× more"
    diff = acc11 - acc10
    if abs(diff) < SAME_ACCURACY:
        acc = f"at about the same top-1 accuracy ({acc11:.2f} vs {acc10:.2f} %, {diff:+.2f} points)"
    else:
        acc = f"at {'higher' if diff > 0 else 'lower'} top-1 accuracy ({acc11:.2f} vs {acc10:.2f} %, {diff:+.2f} points)"
    verdict = ""
    if ratio > 1 and diff > -SAME_ACCURACY:
        loss = "no loss" if diff >= 0 else f"a loss of only {-diff:.2f} points"
        verdict = (f" For this pair, then, earlier downsampling came with {ratio:.2f}× fewer multiply-adds and {loss} in "
                   "the reported top-1 accuracy: not the accuracy-for-operations trade that strategy 3 describes.")
    return (f"torchvision's SqueezeNet 1.1 pools earlier (and has a 3×3 conv1): whole networks, counted here, "
            f"{macs11 / 1e9:.3f} vs {macs10 / 1e9:.3f} GMACs, {fewer} multiply-adds than 1.0, {acc}.{verdict}")


def text(s: dict) -> str:
    f, m = s["fires"][0], s["meta"]
    ratio = s["alexnet_params"] / s["params"]
    ok = all(r["strategies 1+2 (fire)"] == r["fire (module)"] for r in s["fires"])
    acc = {k: m[k]["_metrics"]["ImageNet-1K"]["acc@1"] for k in m}
    w = s["whole"]
    agree = all(abs(w[k] / 1e9 - m[k]["_ops"]) < 5e-4 for k in ("1.0", "1.1"))
    return (f"**Strategy 1** (1×1 instead of 3×3, 9× fewer weights each) and **strategy 2** (squeeze the input "
            f"channels first): fire2 takes {f['in']} channels to {f['expand 1×1']} + {f['expand 3×3']}; a plain 3×3 "
            f"convolution would need {f['plain 3×3 conv']:,} weights, strategy 1 alone "
            f"{f['strategy 1 (1×1 filters)']:,}, the fire module (squeeze to {f['squeeze']}) "
            f"{f['strategies 1+2 (fire)']:,} — the formula {'equals' if ok else 'differs from'} the built module for "
            f"every fire. Whole network: SqueezeNet 1.0 has {s['params']:,} parameters, AlexNet {s['alexnet_params']:,}: "
            f"**{ratio:.0f}× fewer** (counted on the built modules; the paper: {PAPER['ratio_vs_alexnet']}×, and "
            f"{PAPER['compressed_mb']} MB, {PAPER['compressed_ratio']}× smaller than AlexNet, after Deep "
            f"Compression).\n\n**Strategy 3** (downsample late), counted on SqueezeNet 1.0's feature layers only "
            f"(without the classifier's 1×1 conv): the same layers with the pools moved earlier cost "
            f"{s['early']['macs'] / 1e9:.2f} instead of {s['late']['macs'] / 1e9:.2f} GMACs "
            f"({s['late']['macs'] / s['early']['macs']:.1f}× fewer), with smaller maps from fire3 on; the paper keeps "
            f"them large for accuracy. {versions_sentence(w['1.0'], w['1.1'], acc['1.0'], acc['1.1'])} (AlexNet "
            f"{acc['alexnet']:.1f} %.) Accuracies are torchvision's weight metadata, not measured here; its operation "
            f"counts {'agree with' if agree else 'differ from'} the ones counted here.")
