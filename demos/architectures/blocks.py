"""Building blocks: parameters and multiply-adds by formula, next to the counts on the built module.

Each block is torchvision's own module where torchvision has one. Multiply-adds count convolutions and
linear layers only (what FlopCounterMode counts, halved); BatchNorm, ReLU, pooling and additions are left out,
as in the papers' tables. Parameters include BatchNorm's γ and β (not its running statistics, which are buffers).

Blocks are a registry: one function per block, decorated with ``@block("name")``, returning a :class:`Built`
(the module and its formulas). Counting builds every block on PyTorch's "meta" device (shapes only: instant at
any size); timing builds real modules and is measured once per configuration, in the long-run slot, and cached
with when and where it was measured (:func:`measure_latency`, :func:`cached_latency`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

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

from demos.common.device import device_label, time_forward
from demos.common.errors import UserInputError
from demos.common.params import Choice, Param
from demos.common.plotstyle import PALETTE, figure, style

from .zoo import CACHE

DENSE_LAYERS, GROWTH = 4, 32  # DenseNet-121's growth rate k = 32, bottleneck to 4k (Huang et al. 2017)
SHUFFLE_GROUPS = (1, 2, 3, 4, 8)  # g in ShuffleNet V1's 1x1 group convolutions (Zhang et al. 2018, Table 1)

# The block explorer's records: the view checks its inputs with them, and so does every function here.
CHANNELS = Param("c", "channels C", 8, 512, 256, 8, integer=True,
                 help="ResNeXt-50 32x4d's first stage: 256-d in, 32 paths of 4 channels")
SIZE = Param("size", "input size (px)", 4, 56, 28, 1, integer=True,
             help="counts are instant at any size; measured times come from the Measure button")
GROUPS = Param("groups", "ResNeXt cardinality (groups)", 1, 64, 32, 1, integer=True,
               help="snaps to the nearest divisor of C/2")
SHUFFLE_G = Choice("g", "ShuffleNet V1 groups g", tuple((str(g), g) for g in SHUFFLE_GROUPS), 4,
                   help="the 1×1 convolutions' groups; snaps to the nearest g with C divisible by 4g")


@dataclass(frozen=True)
class Spec:
    """One configuration of the explorer: C channels on a size × size input, ResNeXt cardinality, ShuffleNet g."""

    c: int
    size: int
    groups: int = 32
    g: int = 4

    @property
    def hw(self) -> int:
        return self.size * self.size

    @property
    def key(self) -> str:
        return f"C{self.c}_s{self.size}_card{self.groups}_g{self.g}"


@dataclass(frozen=True)
class Built:
    module: nn.Module
    params: int  # by formula
    macs: int  # by formula
    text: str


REGISTRY: dict[str, Callable[[Spec], Built]] = {}


def block(name: str):
    """Add a block to the explorer: its function builds the module and states its formulas (a :class:`Built`).
    A name can be registered once."""
    def deco(fn):
        if name in REGISTRY:
            raise ValueError(f"a block named {name!r} is already registered")
        REGISTRY[name] = fn
        return fn
    return deco


def valid_cardinality(c: int, groups: int) -> int:
    """The divisor of the bottleneck width C/2 closest to ``groups`` (the smaller one on a tie)."""
    w = c // 2
    return min((d for d in range(1, w + 1) if w % d == 0), key=lambda d: (abs(d - groups), d))


def valid_shuffle_g(c: int, g: int) -> int:
    """The g of ``SHUFFLE_GROUPS`` closest to ``g`` (the smaller on a tie) for which both ShuffleNet V1 units fit C
    channels: the stride-1 unit squeezes to C/4 in g groups, so C must be divisible by 4g."""
    return min((h for h in SHUFFLE_GROUPS if c % (4 * h) == 0), key=lambda h: (abs(h - g), h))


class DepthwiseSeparable(nn.Sequential):
    """MobileNet-V1 block: 3x3 depthwise conv (groups = C) + BN + ReLU, then 1x1 pointwise conv + BN + ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__(nn.Conv2d(cin, cin, 3, stride, padding=1, groups=cin, bias=False), nn.BatchNorm2d(cin),
                         nn.ReLU(), nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class ShuffleV1Unit(nn.Module):
    """ShuffleNet V1 unit (Zhang et al. 2018, Fig. 2b and 2c). Stride 1: 1x1 group conv C->C/4 (g groups) + BN +
    ReLU, channel shuffle, 3x3 depthwise + BN, 1x1 group conv C/4->C + BN, identity added, ReLU. Stride 2: the
    output has ``cout`` channels; the branch (bottleneck cout/4, depthwise with stride 2) makes cout - C of them
    and is concatenated with a 3x3 average-pooled (stride 2) shortcut, then ReLU."""

    def __init__(self, c: int, g: int, stride: int = 1, cout: int | None = None):
        super().__init__()
        cout = cout or c
        self.g, self.stride = g, stride
        m = cout // 4
        branch = cout - c if stride == 2 else cout
        self.reduce = nn.Sequential(nn.Conv2d(c, m, 1, groups=g, bias=False), nn.BatchNorm2d(m), nn.ReLU())
        self.depthwise = nn.Sequential(nn.Conv2d(m, m, 3, stride, padding=1, groups=m, bias=False), nn.BatchNorm2d(m))
        self.expand = nn.Sequential(nn.Conv2d(m, branch, 1, groups=g, bias=False), nn.BatchNorm2d(branch))
        self.shortcut = nn.AvgPool2d(3, 2, padding=1) if stride == 2 else nn.Identity()

    def forward(self, x):
        y = self.expand(self.depthwise(channel_shuffle(self.reduce(x), self.g)))
        if self.stride == 2:
            return torch.relu(torch.cat([self.shortcut(x), y], 1))
        return torch.relu(x + y)


class ResNeXtBlock(nn.Module):
    """ResNeXt bottleneck: 1x1 C->width, 3x3 grouped conv width->width with ``groups`` paths, 1x1 width->C,
    BatchNorm after each, identity skip. Cardinality = groups; each path has width/groups channels."""

    def __init__(self, c: int, groups: int, width: int | None = None):
        super().__init__()
        w = width or c // 2
        self.body = nn.Sequential(nn.Conv2d(c, w, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                                  nn.Conv2d(w, w, 3, padding=1, groups=groups, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                                  nn.Conv2d(w, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return torch.relu(x + self.body(x))


@block("ResNet basic")
def _resnet_basic(s: Spec) -> Built:
    c = s.c
    return Built(BasicBlock(c, c), 2 * 9 * c * c + 2 * 2 * c, 2 * 9 * c * c * s.hw,
                 "2 × (3·3·C·C) conv weights + 2 BN × 2C; MACs = 2·9C²·HW")


@block("ResNet projection shortcut (stride 2)")
def _resnet_projection(s: Spec) -> Built:
    c, o, h2 = s.c, 2 * s.c, (s.size + 1) // 2
    down = nn.Sequential(nn.Conv2d(c, o, 1, stride=2, bias=False), nn.BatchNorm2d(o))
    return Built(BasicBlock(c, o, stride=2, downsample=down), 9 * c * o + 9 * o * o + 2 * 2 * o + c * o + 2 * o,
                 (9 * c * o + 9 * o * o + c * o) * h2 * h2,
                 f"the shape changes (C→2C = {o}, stride 2), so the shortcut is a projection: a 1×1 conv with stride 2 "
                 f"(C·2C = {c * o} weights) + BN instead of the identity (He et al. 2016, option B)")


@block("ResNet bottleneck")
def _resnet_bottleneck(s: Spec) -> Built:
    c, w = s.c, s.c // 4  # C is a multiple of 8 (its record's step)
    return Built(Bottleneck(c, w), c * w + 9 * w * w + w * c + 2 * (w + w + c), (c * w + 9 * w * w + w * c) * s.hw,
                 "1×1 C→C/4, 3×3 C/4→C/4, 1×1 C/4→C (+ BN); MACs = (2·C·C/4 + 9·(C/4)²)·HW")


@block("DenseNet dense block")
def _dense_block(s: Spec) -> Built:
    c, k, n = s.c, GROWTH, DENSE_LAYERS
    ins = [c + i * k for i in range(n)]  # layer l sees k0 + (l-1)k channels: every earlier map, concatenated
    return Built(_DenseBlock(n, c, bn_size=4, growth_rate=k, drop_rate=0.0),
                 sum(2 * ci + ci * 4 * k + 2 * 4 * k + 9 * 4 * k * k for ci in ins),
                 sum(ci * 4 * k + 9 * 4 * k * k for ci in ins) * s.hw,
                 f"{n} layers, growth rate k = {k}: layer l sees k0 + (l−1)k = {', '.join(map(str, ins))} channels "
                 f"(concatenation), BN-ReLU-1×1 to 4k then BN-ReLU-3×3 to k; output k0 + {n}k = {c + n * k} channels")


@block("Inception module")
def _inception(s: Spec) -> Built:
    c = s.c
    b = max(4, c // 4)
    c1, c3r, c3, c5r, c5, pp = b, b // 2 or 1, b, b // 4 or 1, b // 2 or 1, b // 2 or 1
    convs = c * c1 + c * c3r + 9 * c3r * c3 + c * c5r + 9 * c5r * c5 + c * pp
    return Built(Inception(c, c1, c3r, c3, c5r, c5, pp), convs + 2 * (c1 + c3r + c3 + c5r + c5 + pp), convs * s.hw,
                 f"branches 1×1 ({c1}), 1×1→3×3 ({c3r}→{c3}), 1×1→'5×5' ({c5r}→{c5}), pool→1×1 ({pp}); torchvision's "
                 "'5×5' branch is really 3×3 (kept for its weights), so the formula uses 9")


@block("Inception-v3: 5×5 as two 3×3")
def _v3_five(s: Spec) -> Built:
    c = s.c
    m = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, bias=False), nn.Conv2d(c, c, 3, padding=1, bias=False))
    return Built(m, 18 * c * c, 18 * c * c * s.hw,
                 f"two 3×3 convs cover a 5×5 field with 18·C² weights instead of 25·C² = {25 * c * c} (28 % fewer; "
                 "Szegedy et al. 2016)")


@block("Inception-v3: 3×3 as 1×3 + 3×1")
def _v3_asym(s: Spec) -> Built:
    c = s.c
    m = nn.Sequential(nn.Conv2d(c, c, (1, 3), padding=(0, 1), bias=False),
                      nn.Conv2d(c, c, (3, 1), padding=(1, 0), bias=False))
    return Built(m, 6 * c * c, 6 * c * c * s.hw,
                 f"1×3 then 3×1: 6·C² weights instead of 9·C² = {9 * c * c} (33 % fewer; n×n → 1×n + n×1 saves 1 − 2/n)")


@block("Depthwise-separable (MobileNet)")
def _depthwise(s: Spec) -> Built:
    c = s.c
    return Built(DepthwiseSeparable(c, c), 9 * c + c * c + 2 * c + 2 * c, (9 * c + c * c) * s.hw,
                 "3×3 depthwise 9·C + 1×1 pointwise C·C (+ BN); a full 3×3 conv would need 9·C² — ratio 1/C + 1/9")


@block("Fire module (SqueezeNet)")
def _fire(s: Spec) -> Built:
    c, q, e = s.c, max(2, s.c // 8), s.c // 2
    return Built(Fire(c, q, e, e), c * q + q + q * e + e + 9 * q * e + e, (c * q + q * e + 9 * q * e) * s.hw,
                 f"squeeze 1×1 C→{q}, expand 1×1 {q}→{e} and 3×3 {q}→{e} (with biases); output {2 * e} channels")


@block("ResNeXt grouped bottleneck")
def _resnext(s: Spec) -> Built:
    c, w, n = s.c, s.c // 2, s.groups
    if w % n:
        raise UserInputError(f"The cardinality ({n}) must divide the bottleneck width C/2 = {w}: a grouped "
                             f"convolution splits the channels into equal groups; the nearest that does is "
                             f"{valid_cardinality(c, n)}.")
    return Built(ResNeXtBlock(c, n), c * w + 9 * w * w // n + w * c + 2 * (w + w + c),
                 (c * w + 9 * w * w // n + w * c) * s.hw,
                 f"1×1 C→{w}, 3×3 grouped conv with {n} paths of {w // n} channels (9·{w}²/{n} weights), "
                 f"1×1 {w}→C; the same width with groups = 1 would need 9·{w}² in the middle")


def _check_shuffle(s: Spec) -> None:
    if s.c % (4 * s.g):
        raise UserInputError(f"A ShuffleNet V1 unit squeezes C = {s.c} channels to C/4 in g = {s.g} groups, so C must "
                             f"be divisible by 4g = {4 * s.g}; the nearest g that fits is {valid_shuffle_g(s.c, s.g)}.")


@block("ShuffleNet-V1 unit")
def _shuffle_v1(s: Spec) -> Built:
    _check_shuffle(s)
    c, g, m = s.c, s.g, s.c // 4
    return Built(ShuffleV1Unit(c, g), c * m // g + 2 * m + 9 * m + 2 * m + m * c // g + 2 * c,
                 (c * m // g + 9 * m + m * c // g) * s.hw,
                 f"1×1 group conv C→{m} in g = {g} groups, channel shuffle, 3×3 depthwise, 1×1 group conv {m}→C "
                 f"(+ BN), identity added: the 1×1 convs hold 2·C·C/4/g = {2 * c * m // g} weights (g = 1: {2 * c * m})")


@block("ShuffleNet-V1 unit, stride 2")
def _shuffle_v1_down(s: Spec) -> Built:
    _check_shuffle(s)
    c, g = s.c, s.g
    o, m, h2 = 2 * c, c // 2, (s.size + 1) // 2  # output 2C; bottleneck = output / 4; branch makes 2C - C = C
    return Built(ShuffleV1Unit(c, g, stride=2, cout=o), c * m // g + 2 * m + 9 * m + 2 * m + m * c // g + 2 * c,
                 c * m // g * s.hw + (9 * m + m * c // g) * h2 * h2,
                 f"1×1 group conv C→{m} (g = {g}), shuffle, 3×3 depthwise with stride 2, 1×1 group conv {m}→{c}; "
                 f"the shortcut is a 3×3 average pool with stride 2, concatenated (not added): C + {c} = {o} channels "
                 f"at half the size")


@block("ShuffleNet-V2 unit")
def _shuffle_v2(s: Spec) -> Built:
    h = s.c // 2
    return Built(InvertedResidual(s.c, s.c, 1), h * h + 2 * h + 9 * h + 2 * h + h * h + 2 * h,
                 (h * h + 9 * h + h * h) * s.hw,
                 "split C in halves; one half: 1×1, 3×3 depthwise, 1×1 (+ BN); concatenate; channel shuffle")


BLOCKS = tuple(REGISTRY)


def spec(c: int, size: int, groups: int = 32, g: int = 4) -> Spec:
    """The configuration, each value checked by its record (the block explorer's sliders)."""
    return Spec(CHANNELS.check(c), SIZE.check(size), GROUPS.check(groups), SHUFFLE_G.check(g))


def make(kind: str, s: Spec, device="meta") -> tuple[nn.Module, Built]:
    """The block built on ``device`` (default: meta, shapes only), in eval mode, and its formulas."""
    if kind not in REGISTRY:
        raise UserInputError(f"Unknown block {kind!r}; choose one of {', '.join(BLOCKS)}.")
    with torch.device(device):
        built = REGISTRY[kind](s)
    return built.module.eval(), built


def count(kind: str, s: Spec) -> dict:
    """Parameters and multiply-adds by formula and on the built module (meta device: instant at any size)."""
    m, b = make(kind, s)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        y = m(torch.empty(1, s.c, s.size, s.size, device="meta"))
    return {"block": kind, "params (formula)": b.params, "params (module)": sum(q.numel() for q in m.parameters()),
            "MACs (formula)": b.macs, "MACs (module)": fc.get_total_flops() // 2,
            "output": "×".join(map(str, y.shape[1:])), "formula": b.text}


def all_blocks(s: Spec) -> list[dict]:
    return [count(k, s) for k in BLOCKS]


def time_block(kind: str, s: Spec, device="cpu", repeats: int = 5) -> float:
    """Median ms of a batch-1 forward of the block built with real (random) weights on ``device``."""
    m, _ = make(kind, s, "cpu")
    return time_forward(m.to(device), torch.randn(1, s.c, s.size, s.size, device=device), repeats)


# -- measured times: once per configuration and device, cached with when and where ------------------------------
def latency_path(device) -> Path:
    tag = "".join(ch if ch.isalnum() else "_" for ch in device_label(torch.device(device)))
    return CACHE / f"block_latency_{tag}_torch{torch.__version__.split('+')[0]}.json"


def _load(device) -> dict:
    p = latency_path(device)
    try:
        return json.loads(p.read_text()) if p.is_file() else {}
    except (OSError, ValueError):
        return {}  # an unreadable cache is measured again


def cached_latency(s: Spec, device) -> dict | None:
    """{"ms": {block: ms}, "when": ISO time, "where": device, "threads": n} measured for this configuration, or None."""
    return _load(device).get(s.key)


MAX_CACHED = 500  # configurations kept per device (a few hundred bytes each)


def measure_latency(s: Spec, device, progress=None) -> dict:
    """Time every block for this configuration and cache the result (the newest ``MAX_CACHED`` are kept)."""
    ms = {}
    for i, kind in enumerate(BLOCKS):
        if progress:
            progress(i / len(BLOCKS), kind)
        ms[kind] = round(time_block(kind, s, device), 3)
    entry = {"ms": ms, "when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
             "where": device_label(torch.device(device)), "threads": torch.get_num_threads()}
    data = _load(device)
    data.pop(s.key, None)
    data[s.key] = entry
    data = dict(list(data.items())[-MAX_CACHED:])
    p = latency_path(device)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f"{p.stem}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(p)
    return entry


# -- ResNeXt's equal-complexity template (Xie et al. 2017, Table 2) ---------------------------------------------
TEMPLATE = ((1, 64), (2, 40), (4, 24), (8, 14), (32, 4))  # (cardinality C, bottleneck width d) on a 256-d block
TEMPLATE_IN, TEMPLATE_SIZE = 256, 56  # conv2 of ResNet-50 / ResNeXt-50: 256-d input and output, 56 x 56


def resnext_template() -> list[dict]:
    """Each row of the template built as a block (meta device) and counted: conv weights (the paper's
    C·(256·d + 3·3·d·d + d·256)), all parameters with BatchNorm, and multiply-adds at 56 × 56."""
    rows = []
    for card, d in TEMPLATE:
        with torch.device("meta"):
            m = ResNeXtBlock(TEMPLATE_IN, card, card * d).eval()
        with FlopCounterMode(display=False) as fc, torch.no_grad():
            m(torch.empty(1, TEMPLATE_IN, TEMPLATE_SIZE, TEMPLATE_SIZE, device="meta"))
        conv = sum(q.numel() for q in m.parameters() if q.dim() == 4)
        rows.append({"cardinality C": card, "width d": d, "group conv width C·d": card * d,
                     "conv weights (module)": conv,
                     "conv weights (formula)": card * (TEMPLATE_IN * d + 9 * d * d + d * TEMPLATE_IN),
                     "params with BN": sum(q.numel() for q in m.parameters()),
                     "MMACs at 56×56": round(fc.get_total_flops() / 2 / 1e6, 1)})
    return rows


def template_text(rows: list[dict]) -> str:
    """What the counts say about "about the same complexity": the spread of weights and MACs across the rows."""
    w = [r["conv weights (module)"] for r in rows]
    macs = [r["MMACs at 56×56"] for r in rows]
    spread_w, spread_m = max(w) / min(w) - 1, max(macs) / min(macs) - 1
    lo, hi = rows[w.index(min(w))], rows[w.index(max(w))]
    ok = all(r["conv weights (module)"] == r["conv weights (formula)"] for r in rows)
    return (f"Counted on the five built blocks (256-d in and out, {TEMPLATE_SIZE}×{TEMPLATE_SIZE}): conv weights from "
            f"{min(w):,} (C = {lo['cardinality C']}) to {max(w):,} (C = {hi['cardinality C']}), "
            f"{100 * spread_w:.1f} % apart; multiply-adds {min(macs):.0f} to {max(macs):.0f} M, {100 * spread_m:.1f} % "
            f"apart. The formula C·(256·d + 9·d² + d·256) {'equals' if ok else 'differs from'} the built blocks. Xie et "
            "al. (2017, Table 2) chose d for each C to keep the parameters and FLOPs about the same as the ResNet-50 "
            "block (C = 1, d = 64); the group convolution gets wider (C·d = "
            f"{', '.join(str(r['group conv width C·d']) for r in rows)}) for the same budget.")


def figure_blocks(rows: list[dict], ms: dict | None = None) -> dict:
    """Parameters and multiply-adds per block (log bars); measured times (diamonds, right axis) when ``ms`` is given."""
    # one block a row (names on the y axis): at a projector's type, names side by side under bars overlapped
    names = [r["block"] for r in rows][::-1]
    rows = rows[::-1]
    data = [{"type": "bar", "orientation": "h", "y": names, "x": [r["params (module)"] / 1e3 for r in rows],
             "name": "parameters (k)", "marker": {"color": PALETTE[0]}},
            {"type": "bar", "orientation": "h", "y": names, "x": [r["MACs (module)"] / 1e6 for r in rows],
             "name": "M multiply-adds", "marker": {"color": PALETTE[1]}}]
    layout = {"barmode": "group", "xaxis": {"type": "log", "dtick": 1, "title": {"text": "count (log)"}},
              "yaxis": {"automargin": True},
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
              "margin": {"l": 220, "r": 20, "t": 60, "b": 120}}
    if ms:
        data.append({"type": "scatter", "y": names, "x": [ms.get(r["block"]) for r in rows], "name": "time (ms)",
                     "xaxis": "x2", "mode": "markers",
                     "marker": {"size": 16, "symbol": "diamond", "color": PALETTE[3]}})
        layout["xaxis2"] = {"overlaying": "x", "side": "top", "title": {"text": "ms"}, "showgrid": False,
                            "rangemode": "tozero"}
        layout["margin"]["t"] = 110
    return figure(data, layout, "Blocks on the same input: size, operations" + (", time" if ms else ""),
                  height=max(500, 60 + 34 * len(rows)))


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
