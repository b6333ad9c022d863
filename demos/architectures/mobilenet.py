"""Where MobileNet spends its time: operations, parameters and measured time by layer type.

Howard et al. (2017, Table 2) report for MobileNet (V1, 1.0, 224): 1×1 convolutions hold 94.86 % of the
multiply-adds and 74.59 % of the parameters, and the text says they take about 95 % of the computation time.
Here MobileNet-V1 is built from the paper's Table 1 (torchvision has no V1), and torchvision's MobileNet-V2 beside
it. Multiply-adds and parameters are counted per layer on the built networks (meta device); time is measured per
layer with forward hooks and a timer around every convolution and linear layer (batch 1, random weights, inference
mode). What the hooks do not time (BatchNorm, ReLU, pooling, additions, the hooks' own overhead) is "other".
"""

from __future__ import annotations

import time

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode  # noqa: F401 - the tests check the hooks' counts against it
from torchvision.models import mobilenet_v2

from demos.common.plotstyle import PALETTE, figure

from .blocks import DepthwiseSeparable

INPUT = 224
KINDS = ("1×1 conv", "depthwise 3×3", "full 3×3 conv", "FC", "other")
PAPER = {"macs_1x1": 94.86, "params_1x1": 74.59, "time_1x1": 95, "params_fc": 24.33}  # Howard et al. 2017, Table 2
# MobileNet-V1, Table 1: conv 3x3/2 to 32, then depthwise-separable layers (output channels, stride)
V1_LAYERS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)) + ((512, 1),) * 5 + ((1024, 2), (1024, 1))


def mobilenet_v1(num_classes: int = 1000) -> nn.Sequential:
    layers = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU()]
    cin = 32
    for cout, stride in V1_LAYERS:
        layers.append(DepthwiseSeparable(cin, cout, stride))
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes)]
    return nn.Sequential(*layers)


NETS = {"MobileNet-V1 (paper's Table 1)": mobilenet_v1, "MobileNet-V2 (torchvision)": mobilenet_v2}


def kind(mod: nn.Module) -> str | None:
    if isinstance(mod, nn.Linear):
        return "FC"
    if isinstance(mod, nn.Conv2d):
        if mod.groups > 1 and mod.groups == mod.in_channels:
            return "depthwise 3×3"
        return "1×1 conv" if mod.kernel_size == (1, 1) else "full 3×3 conv"
    return None


def _macs(mod, out) -> int:
    if isinstance(mod, nn.Linear):
        return out.numel() * mod.in_features
    return out.numel() * mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]


def counted(build) -> dict:
    """{kind: {"macs": n, "params": n}} for one 224×224 image, on the meta device (shapes only)."""
    with torch.device("meta"):
        net = build().eval()
    out = {k: {"macs": 0, "params": 0} for k in KINDS}
    hooks = []
    for mod in net.modules():
        k = kind(mod)
        if k:
            out[k]["params"] += sum(p.numel() for p in mod.parameters())
            hooks.append(mod.register_forward_hook(lambda m, a, y, k=k: out[k].__setitem__("macs", out[k]["macs"] + _macs(m, y))))
    with torch.no_grad():
        net(torch.empty(1, 3, INPUT, INPUT, device="meta"))
    for h in hooks:
        h.remove()
    out["other"]["params"] = sum(p.numel() for p in net.parameters()) - sum(v["params"] for v in out.values())
    return out


def timed(build, repeats: int = 5, device="cpu") -> dict:
    """{kind: ms} summed over the layers of that kind, and "total" (ms of the whole forward), medians of
    ``repeats`` forwards after one warm-up."""
    torch.manual_seed(0)
    net = build().eval().to(device)
    x = torch.randn(1, 3, INPUT, INPUT, device=device)
    acc = {k: 0.0 for k in KINDS}
    start = {}

    def pre(mod, args):
        start[mod] = time.perf_counter()

    def post(mod, args, y, k):
        acc[k] += time.perf_counter() - start[mod]

    hooks = []
    for mod in net.modules():
        k = kind(mod)
        if k:
            hooks += [mod.register_forward_pre_hook(pre), mod.register_forward_hook(lambda m, a, y, k=k: post(m, a, y, k))]
    runs = []
    with torch.inference_mode():
        net(x)
        for _ in range(repeats):
            for k in acc:
                acc[k] = 0.0
            t = time.perf_counter()
            net(x)
            total = time.perf_counter() - t
            runs.append({**{k: 1e3 * v for k, v in acc.items()}, "total": 1e3 * total})
    for h in hooks:
        h.remove()
    med = sorted(runs, key=lambda r: r["total"])[len(runs) // 2]  # the median run, its parts together
    med["other"] = med["total"] - sum(med[k] for k in KINDS if k != "other")
    return med


def shares(c: dict, t: dict | None) -> dict:
    """Percent of multiply-adds, parameters (and time, when measured) per kind. Parameters are shared among the
    convolution and FC layers, as in the paper's table (BatchNorm's, "other", are left out)."""
    macs = sum(v["macs"] for v in c.values())
    params = sum(v["params"] for k, v in c.items() if k != "other")
    out = {k: {"macs": 100 * c[k]["macs"] / macs, "params": 100 * c[k]["params"] / params if k != "other" else 0.0}
           for k in KINDS}
    if t:
        for k in KINDS:
            out[k]["time"] = 100 * t[k] / t["total"]
    return out


def sentence(name: str, sh: dict, total_ms: float | None, where: str) -> str:
    """The 1×1 share of one network, measured, with the paper's numbers beside V1's."""
    s = sh["1×1 conv"]
    t = (f"{s['time']:.0f} % of the forward time ({total_ms:.1f} ms on {where})" if "time" in s
         else "time not measured yet")
    text = f"**{name}**: 1×1 convolutions hold {s['macs']:.1f} % of the multiply-adds, {s['params']:.1f} % of the parameters and {t}."
    if name.startswith("MobileNet-V1"):
        text += (f" The paper (Howard et al. 2017, Table 2): {PAPER['macs_1x1']} % of the multiply-adds, "
                 f"{PAPER['params_1x1']} % of the parameters, about {PAPER['time_1x1']} % of the time.")
        if "time" in s:
            gap = s["time"] - PAPER["time_1x1"]
            text += (f" Measured here the time share is {abs(gap):.0f} points {'below' if gap < 0 else 'above'} the "
                     "paper's" if abs(gap) >= 1 else " Measured here the time share matches the paper's")
            text += ("; depthwise layers do few multiply-adds but take "
                     f"{sh['depthwise 3×3']['time']:.0f} % of the time, and BatchNorm, ReLU and the rest "
                     f"{sh['other']['time']:.0f} %.")
    else:
        text += (" (V2's 1×1 layers are its expansions and linear projections; the paper's 95 % is V1's.)")
    return text


def figure_shares(results: dict) -> dict:
    """Stacked bars per network and measure (multiply-adds, parameters, time): the share of each layer kind."""
    colors = dict(zip(KINDS, (PALETTE[0], PALETTE[1], PALETTE[4], PALETTE[2], "#999999")))
    x = [[], []]
    for name, r in results.items():
        short = name.split(" (")[0]
        for m in ("multiply-adds", "parameters", "time"):
            x[0].append(short)
            x[1].append(m)
    data = []
    for k in KINDS:
        y = []
        for r in results.values():
            sh = r["shares"][k]
            y += [sh["macs"], sh["params"], sh.get("time")]
        data.append({"type": "bar", "x": x, "y": y, "name": k, "marker": {"color": colors[k]},
                     "hovertemplate": k + ": %{y:.1f} %<extra></extra>"})
    layout = {"barmode": "stack", "yaxis": {"title": {"text": "% of the network"}, "range": [0, 100]},
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0}, "margin": {"t": 70, "b": 110}}
    return figure(data, layout, "Where MobileNet's operations, parameters and time go", height=460)
