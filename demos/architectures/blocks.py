"""Building blocks: parameters and multiply-adds by formula, next to the counts on the built module.

Each block is torchvision's own module where torchvision has one. Multiply-adds count convolutions and
linear layers only (what FlopCounterMode counts, halved); BatchNorm, ReLU and additions are left out, as in
the papers' tables. Parameters include BatchNorm's γ and β (not its running statistics, which are buffers).
"""

from __future__ import annotations

import textwrap

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models.densenet import _DenseBlock
from torchvision.models.googlenet import Inception
from torchvision.models.resnet import BasicBlock, Bottleneck
from torchvision.models.shufflenetv2 import InvertedResidual, channel_shuffle
from torchvision.models.squeezenet import Fire

from demos.common.device import time_forward
from demos.common.errors import UserInputError
from demos.common.plotstyle import PALETTE, figure, style

BLOCKS = ("ResNet basic", "ResNet projection shortcut (stride 2)", "ResNet bottleneck", "DenseNet dense block",
          "Inception module", "Inception-v3: 5×5 as two 3×3", "Inception-v3: 3×3 as 1×3 + 3×1",
          "Depthwise-separable (MobileNet)", "Fire module (SqueezeNet)", "ResNeXt grouped bottleneck",
          "ShuffleNet-V1 unit", "ShuffleNet-V2 unit")
DENSE_LAYERS, GROWTH = 4, 32  # DenseNet-121's growth rate k = 32, bottleneck to 4k (Huang et al. 2017)
SHUFFLE_V1_GROUPS = (4, 2)  # g in ShuffleNet V1's 1x1 group convs (the paper uses 1-8): the first dividing C/4
MAX_CHANNELS = 1024
MAX_SIZE = 224


def _check(c: int, size: int, groups: int = 1):
    if not 4 <= c <= MAX_CHANNELS:
        raise UserInputError(f"Channels must be between 4 and {MAX_CHANNELS}, got {c}.")
    if not 1 <= size <= MAX_SIZE:
        raise UserInputError(f"The input size must be between 1 and {MAX_SIZE} px, got {size}.")
    if groups < 1 or c % groups:
        raise UserInputError(f"The number of groups ({groups}) must divide the channels ({c}): a grouped "
                             f"convolution splits the channels into equal groups. Try one of "
                             f"{[g for g in (1, 2, 4, 8, 16, 32, 64) if c % g == 0]}.")


class DepthwiseSeparable(nn.Sequential):
    """MobileNet-V1 block: 3x3 depthwise conv (groups = C) + BN + ReLU, then 1x1 pointwise conv + BN + ReLU."""

    def __init__(self, cin: int, cout: int):
        super().__init__(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
                         nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class ShuffleV1Unit(nn.Module):
    """ShuffleNet V1 unit, stride 1 (Zhang et al. 2018, Fig. 2b): 1x1 group conv C->C/4 (g groups) + BN + ReLU,
    channel shuffle, 3x3 depthwise + BN, 1x1 group conv C/4->C + BN, identity added, ReLU."""

    def __init__(self, c: int, g: int):
        super().__init__()
        m = c // 4
        self.g = g
        self.reduce = nn.Sequential(nn.Conv2d(c, m, 1, groups=g, bias=False), nn.BatchNorm2d(m), nn.ReLU())
        self.depthwise = nn.Sequential(nn.Conv2d(m, m, 3, padding=1, groups=m, bias=False), nn.BatchNorm2d(m))
        self.expand = nn.Sequential(nn.Conv2d(m, c, 1, groups=g, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        y = channel_shuffle(self.reduce(x), self.g)
        return torch.relu(x + self.expand(self.depthwise(y)))


class ResNeXtBlock(nn.Module):
    """ResNeXt bottleneck (32x4d style): 1x1 C->C/2, 3x3 grouped conv C/2->C/2 with ``groups`` paths, 1x1 C/2->C,
    BatchNorm after each, identity skip. Cardinality = groups; each path has C/(2·groups) channels."""

    def __init__(self, c: int, groups: int):
        super().__init__()
        w = c // 2
        self.body = nn.Sequential(nn.Conv2d(c, w, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                                  nn.Conv2d(w, w, 3, padding=1, groups=groups, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                                  nn.Conv2d(w, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return torch.relu(x + self.body(x))


def make(kind: str, c: int, size: int, groups: int = 32):
    """(module, input tensor shape, formula params, formula MACs, formula text) for a block on c channels."""
    HW = size * size
    if kind == "ResNet basic":
        _check(c, size)
        m = BasicBlock(c, c)
        p = 2 * 9 * c * c + 2 * 2 * c
        macs = 2 * 9 * c * c * HW
        text = "2 × (3·3·C·C) conv weights + 2 BN × 2C; MACs = 2·9C²·HW"
    elif kind == "ResNet projection shortcut (stride 2)":
        _check(c, size)
        o, H2 = 2 * c, (size + 1) // 2
        down = nn.Sequential(nn.Conv2d(c, o, 1, stride=2, bias=False), nn.BatchNorm2d(o))
        m = BasicBlock(c, o, stride=2, downsample=down)
        p = 9 * c * o + 9 * o * o + 2 * 2 * o + c * o + 2 * o
        macs = (9 * c * o + 9 * o * o + c * o) * H2 * H2
        text = (f"the shape changes (C→2C = {o}, stride 2), so the shortcut is a projection: a 1×1 conv with stride 2 "
                f"(C·2C = {c * o} weights) + BN instead of the identity (He et al. 2016, option B)")
    elif kind == "DenseNet dense block":
        _check(c, size)
        k, L = GROWTH, DENSE_LAYERS
        m = _DenseBlock(L, c, bn_size=4, growth_rate=k, drop_rate=0.0)
        ins = [c + i * k for i in range(L)]  # layer l sees k0 + (l-1)k channels: every earlier map, concatenated
        p = sum(2 * ci + ci * 4 * k + 2 * 4 * k + 9 * 4 * k * k for ci in ins)
        macs = sum(ci * 4 * k + 9 * 4 * k * k for ci in ins) * HW
        text = (f"{L} layers, growth rate k = {k}: layer l sees k0 + (l−1)k = {', '.join(map(str, ins))} channels "
                f"(concatenation), BN-ReLU-1×1 to 4k then BN-ReLU-3×3 to k; output k0 + {L}k = {c + L * k} channels")
    elif kind == "Inception-v3: 5×5 as two 3×3":
        _check(c, size)
        m = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, bias=False), nn.Conv2d(c, c, 3, padding=1, bias=False))
        p = 18 * c * c
        macs = 18 * c * c * HW
        text = (f"two 3×3 convs cover a 5×5 field with 18·C² weights instead of 25·C² = {25 * c * c} (28 % fewer; "
                "Szegedy et al. 2016)")
    elif kind == "Inception-v3: 3×3 as 1×3 + 3×1":
        _check(c, size)
        m = nn.Sequential(nn.Conv2d(c, c, (1, 3), padding=(0, 1), bias=False),
                          nn.Conv2d(c, c, (3, 1), padding=(1, 0), bias=False))
        p = 6 * c * c
        macs = 6 * c * c * HW
        text = f"1×3 then 3×1: 6·C² weights instead of 9·C² = {9 * c * c} (33 % fewer; n×n → 1×n + n×1 saves 1 − 2/n)"
    elif kind == "ShuffleNet-V1 unit":
        _check(c, size)
        g = next((g for g in SHUFFLE_V1_GROUPS if c % (4 * g) == 0), None)
        if g is None:
            raise UserInputError(f"A ShuffleNet-V1 unit squeezes to C/4 in groups: C must be divisible by 8, got {c}.")
        mid = c // 4
        m = ShuffleV1Unit(c, g)
        p = c * mid // g + 2 * mid + 9 * mid + 2 * mid + mid * c // g + 2 * c
        macs = (c * mid // g + 9 * mid + mid * c // g) * HW
        text = (f"1×1 group conv C→{mid} in g = {g} groups, channel shuffle, 3×3 depthwise, 1×1 group conv {mid}→C "
                "(+ BN), identity added; V2 (next row) splits the channels instead of grouping the 1×1 convs")
    elif kind == "ResNet bottleneck":
        _check(c, size)
        if c % 4:
            raise UserInputError(f"A bottleneck block needs C divisible by 4 (it squeezes to C/4), got {c}.")
        w = c // 4
        m = Bottleneck(c, w)  # 1x1 C->w, 3x3 w->w, 1x1 w->4w = C
        p = c * w + 9 * w * w + w * c + 2 * (w + w + c)
        macs = (c * w + 9 * w * w + w * c) * HW
        text = "1×1 C→C/4, 3×3 C/4→C/4, 1×1 C/4→C (+ BN); MACs = (2·C·C/4 + 9·(C/4)²)·HW"
    elif kind == "Inception module":
        _check(c, size)
        b = max(4, c // 4)
        c1, c3r, c3, c5r, c5, pp = b, b // 2 or 1, b, b // 4 or 1, b // 2 or 1, b // 2 or 1
        m = Inception(c, c1, c3r, c3, c5r, c5, pp)
        convs = c * c1 + c * c3r + 9 * c3r * c3 + c * c5r + 9 * c5r * c5 + c * pp
        p = convs + 2 * (c1 + c3r + c3 + c5r + c5 + pp)
        macs = convs * HW
        text = (f"branches 1×1 ({c1}), 1×1→3×3 ({c3r}→{c3}), 1×1→'5×5' ({c5r}→{c5}), pool→1×1 ({pp}); torchvision's "
                "'5×5' branch is really 3×3 (kept for its weights), so the formula uses 9")
    elif kind == "Depthwise-separable (MobileNet)":
        _check(c, size)
        m = DepthwiseSeparable(c, c)
        p = 9 * c + c * c + 2 * c + 2 * c
        macs = (9 * c + c * c) * HW
        text = "3×3 depthwise 9·C + 1×1 pointwise C·C (+ BN); a full 3×3 conv would need 9·C² — ratio 1/C + 1/9"
    elif kind == "Fire module (SqueezeNet)":
        _check(c, size)
        s = max(2, c // 8)
        e = c // 2
        m = Fire(c, s, e, e)
        p = c * s + s + s * e + e + 9 * s * e + e
        macs = (c * s + s * e + 9 * s * e) * HW
        text = f"squeeze 1×1 C→{s}, expand 1×1 {s}→{e} and 3×3 {s}→{e} (with biases); output {2 * e} channels"
    elif kind == "ResNeXt grouped bottleneck":
        _check(c, size)
        if c % 2:
            raise UserInputError(f"The ResNeXt block halves the channels: C must be even, got {c}.")
        w = c // 2
        if groups < 1 or w % groups:
            raise UserInputError(f"The cardinality ({groups}) must divide the bottleneck width C/2 = {w}: a grouped "
                                 f"convolution splits the channels into equal groups. Try one of "
                                 f"{[g for g in (1, 2, 4, 8, 16, 32, 64) if w % g == 0]}.")
        m = ResNeXtBlock(c, groups)
        p = c * w + 9 * w * w // groups + w * c + 2 * (w + w + c)
        macs = (c * w + 9 * w * w // groups + w * c) * HW
        text = (f"1×1 C→{w}, 3×3 grouped conv with {groups} paths of {w // groups} channels (9·{w}²/{groups} weights), "
                f"1×1 {w}→C; the same width with groups = 1 would need 9·{w}² in the middle")
    elif kind == "ShuffleNet-V2 unit":
        _check(c, size)
        if c % 2:
            raise UserInputError(f"A ShuffleNet-V2 unit splits the channels in two halves: C must be even, got {c}.")
        h = c // 2
        m = InvertedResidual(c, c, 1)
        p = h * h + 2 * h + 9 * h + 2 * h + h * h + 2 * h
        macs = (h * h + 9 * h + h * h) * HW
        text = "split C in halves; one half: 1×1, 3×3 depthwise, 1×1 (+ BN); concatenate; channel shuffle"
    else:
        raise UserInputError(f"Unknown block {kind!r}; choose one of {BLOCKS}.")
    return m.eval(), (1, c, size, size), p, macs, text


def measure(kind: str, c: int, size: int, groups: int = 32, device="cpu", repeats: int = 5) -> dict:
    m, shape, p_formula, macs_formula, text = make(kind, c, size, groups)
    params = sum(q.numel() for q in m.parameters())
    x = torch.randn(*shape)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        y = m(x)
    macs = fc.get_total_flops() // 2
    ms = time_forward(m.to(device), x.to(device), repeats)
    return {"block": kind, "params (formula)": p_formula, "params (module)": params, "MACs (formula)": macs_formula,
            "MACs (FlopCounterMode / 2)": macs, "output": "×".join(map(str, y.shape[1:])),
            "time (ms)": round(ms, 3), "formula": text}


def all_blocks(c: int, size: int, groups: int = 32, device="cpu") -> list[dict]:
    return [measure(k, c, size, groups, device) for k in BLOCKS]


def figure_blocks(rows: list[dict]) -> go.Figure:
    # block names wrapped onto short lines, so twelve of them read horizontally on a projector
    names = ["<br>".join(textwrap.wrap(r["block"], 13)) for r in rows]
    data = [{"type": "bar", "x": names, "y": [r["params (module)"] / 1e3 for r in rows], "name": "parameters (k)",
             "marker": {"color": PALETTE[0]}},
            {"type": "bar", "x": names, "y": [r["MACs (FlopCounterMode / 2)"] / 1e6 for r in rows],
             "name": "M multiply-adds", "marker": {"color": PALETTE[1]}},
            {"type": "scatter", "x": names, "y": [r["time (ms)"] for r in rows], "name": "time (ms)", "yaxis": "y2",
             "mode": "markers", "marker": {"size": 16, "symbol": "diamond", "color": PALETTE[3]}}]
    layout = {"barmode": "group", "xaxis": {"tickangle": 0, "tickfont": {"size": 12}},
              "yaxis": {"type": "log", "dtick": 1, "title": {"text": "count (log)"}},
              "yaxis2": {"overlaying": "y", "side": "right", "title": {"text": "ms"}, "showgrid": False,
                         "rangemode": "tozero"},
              "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
              "margin": {"l": 60, "r": 70, "t": 100, "b": 120}}
    return figure(data, layout, "Blocks on the same input: size, operations, time", height=500)


def figure_shuffle(groups: int = 3, per_group: int = 4) -> go.Figure:
    """Channel shuffle: reshape (g, n) -> transpose -> flatten, drawn as lines from input to output channels."""
    C = groups * per_group
    order = np.arange(C).reshape(groups, per_group).T.flatten()  # output position j takes input channel order[j]
    fig = go.Figure()
    colors = [PALETTE[i % len(PALETTE)] for i in range(groups)]
    for j, src in enumerate(order):
        g = src // per_group
        fig.add_trace(go.Scatter(x=[0, 1], y=[src, j], mode="lines", line=dict(color=colors[g], width=3),
                                 showlegend=False, hoverinfo="skip"))
    for side, xs in ((0, 0), (1, 1)):
        for k in range(C):
            g = (k // per_group) if side == 0 else (order[k] // per_group)
            fig.add_trace(go.Scatter(x=[xs], y=[k], mode="markers", marker=dict(size=16, color=colors[g],
                                     line=dict(color="black", width=1)), showlegend=False,
                                     hovertemplate=f"channel {k}<extra></extra>"))
    fig.update_xaxes(tickvals=[0, 1], ticktext=["before shuffle (grouped)", "after shuffle"], range=[-0.3, 1.3],
                     showgrid=False)
    fig.update_yaxes(autorange="reversed", title_text="channel", showgrid=False)
    return style(fig, f"Channel shuffle, {groups} groups × {per_group} channels: reshape, transpose, flatten",
                 height=420)


def shuffle_order(groups: int, per_group: int) -> list[int]:
    """The permutation torchvision's channel_shuffle applies (checked in tests)."""
    x = torch.arange(groups * per_group, dtype=torch.float32).view(1, -1, 1, 1)
    return channel_shuffle(x, groups).flatten().long().tolist()
