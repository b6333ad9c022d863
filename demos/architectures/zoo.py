"""Model zoo trade-offs (Canziani et al. 2016): accuracy, operations, parameters, and measured latency.

Models are built from torchvision without weights. Parameters and operations are counted on the built
module (on PyTorch's "meta" device: shapes only, instant, no memory); accuracy, operations and file size also
come from torchvision's weight metadata, available offline. ``meta["_ops"]`` counts multiply-adds (GMACs):
torch's FlopCounterMode counts a multiply-add as two FLOPs, so it reports exactly twice that.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import torch
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models import get_model, get_model_weights

from demos.common.device import device_label, time_forward
from demos.common.plotstyle import PALETTE, style

from . import labels as L

ZOO = (  # label, torchvision name, input size
    ("AlexNet", "alexnet", 224), ("VGG-16", "vgg16", 224), ("GoogLeNet", "googlenet", 224),
    ("Inception-v3", "inception_v3", 299), ("ResNet-18", "resnet18", 224), ("ResNet-50", "resnet50", 224),
    ("ResNeXt-50 32x4d", "resnext50_32x4d", 224), ("DenseNet-121", "densenet121", 224),
    ("SqueezeNet 1.1", "squeezenet1_1", 224), ("MobileNet-V2", "mobilenet_v2", 224),
    ("MobileNet-V3 large", "mobilenet_v3_large", 224), ("ShuffleNet-V2 x1.0", "shufflenet_v2_x1_0", 224),
)
FAMILY_COLORS = {"AlexNet": PALETTE[7], "VGG-16": PALETTE[7], "GoogLeNet": PALETTE[1], "Inception-v3": PALETTE[1],
                 "ResNet-18": PALETTE[0], "ResNet-50": PALETTE[0], "ResNeXt-50 32x4d": PALETTE[5],
                 "DenseNet-121": PALETTE[4], "SqueezeNet 1.1": PALETTE[3], "MobileNet-V2": PALETTE[2],
                 "MobileNet-V3 large": PALETTE[2], "ShuffleNet-V2 x1.0": PALETTE[6]}
CACHE = Path(os.environ.get("KPLAB_CACHE", Path.home() / ".cache" / "kplab"))


@dataclass
class Entry:
    label: str
    name: str
    input_size: int
    params: int  # counted on the built module
    params_meta: int  # torchvision's metadata
    gmacs_meta: float  # meta["_ops"]
    gflops_counted: float  # FlopCounterMode on the built module
    top1: float
    file_mb: float
    latency_ms: float | None = None


def build(name: str, device="cpu") -> torch.nn.Module:
    kw = dict(aux_logits=False, init_weights=False) if name in ("googlenet", "inception_v3") else {}
    with torch.device(device):
        return get_model(name, weights=None, **kw).eval()


def weights_meta(name: str) -> dict:
    return get_model_weights(name).IMAGENET1K_V1.meta


def count(name: str, size: int) -> tuple[int, float]:
    """(parameters, FLOPs) on the meta device: shapes only, so even VGG-16 takes milliseconds."""
    m = build(name, "meta")
    params = sum(p.numel() for p in m.parameters())
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        m(torch.empty(1, 3, size, size, device="meta"))
    return params, fc.get_total_flops()


COUNTS = Path(__file__).with_name("zoo_counts.json")  # written by scripts/zoo_counts.py


def counted(name: str, size: int) -> tuple[int, float]:
    """:func:`count`'s answer as ``scripts/zoo_counts.py`` wrote it (counting all 12 takes seconds of start-up;
    tests/architectures/test_zoo_counts.py checks the file against a fresh count), or counted now if it is not
    there."""
    try:
        row = json.loads(COUNTS.read_text())["models"][f"{name}@{size}"]
        return int(row["params"]), float(row["flops"])
    except (OSError, KeyError, ValueError):
        return count(name, size)


def table() -> list[Entry]:
    out = []
    for label, name, size in ZOO:
        meta = weights_meta(name)
        params, flops = counted(name, size)
        out.append(Entry(label, name, size, params, meta["num_params"], meta["_ops"], flops / 1e9,
                         meta["_metrics"]["ImageNet-1K"]["acc@1"], meta["_file_size"]))
    return out


def measure_latency(name: str, size: int, device, repeats: int = 5) -> float:
    """Median wall time (ms) of a batch-1 forward pass with random weights, after one warm-up."""
    return time_forward(build(name, "cpu").to(device), torch.randn(1, 3, size, size, device=device), repeats)


def latency_cache_path(device) -> Path:
    tag = "".join(ch if ch.isalnum() else "_" for ch in device_label(torch.device(device)))
    return CACHE / f"zoo_latency_{tag}_torch{torch.__version__.split('+')[0]}.json"


def load_latency(device) -> dict[str, float]:
    p = latency_cache_path(device)
    return json.loads(p.read_text()) if p.is_file() else {}


def save_latency(device, lat: dict[str, float]) -> None:
    p = latency_cache_path(device)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(lat, indent=1))


# The bubble chart's plotting area in px at presentation type (22 px at 1280x720, where the labels are placed for):
# half a row less its margins, measured in Chromium (494 x 351 at 1280x720; 760 x 607 at 1920x1080, 507 x 405 in
# 22 px type)
ZOO_W, ZOO_H = 490, 345


def label_layout(entries: list[Entry], x: str = "ops") -> dict:
    """The bubbles' positions, sizes and axis ranges, and each label's textposition (``labels.place``): the
    bubbles count as points of 0.6 of their diameter (their opaque core), so a label may touch a bubble's rim."""
    pmax = max(e.params for e in entries)
    shown = [e for e in entries if (e.gmacs_meta if x == "ops" else e.latency_ms) is not None]
    xv = [e.gmacs_meta if x == "ops" else e.latency_ms for e in shown]
    sizes = [12 + 70 * np.sqrt(e.params / pmax) for e in shown]
    x_range = L.padded(xv, True, 0.12)
    y_range = L.padded([e.top1 for e in shown], False, 0.12)
    pos = L.place(xv, [e.top1 for e in shown], [e.label for e in shown], log_x=True, width=ZOO_W, height=ZOO_H,
                  font=L.PRESENT_FONT, sizes=[0.6 * s for s in sizes], x_range=x_range, y_range=y_range)
    return {"shown": shown, "x": xv, "sizes": sizes, "pos": pos, "x_range": x_range, "y_range": y_range}


def bubble(entries: list[Entry], x: str = "ops") -> go.Figure:
    """Top-1 against operations (or measured latency); bubble area proportional to the parameters; each label
    placed beside its bubble where it overlaps no other label or bubble (the hover names every model)."""
    fig = go.Figure()
    lay = label_layout(entries, x)
    shown, xv, sizes, pos, x_range, y_range = (lay[k] for k in ("shown", "x", "sizes", "pos", "x_range", "y_range"))
    for e, v, size, p in zip(shown, xv, sizes, pos):
        fig.add_trace(go.Scatter(
            x=[v], y=[e.top1], mode="markers+text", name=e.label, text=[e.label if p else ""],
            textposition=p or "top center", textfont=dict(size=14), showlegend=not p,  # no room: in the legend
            marker=dict(size=size, color=FAMILY_COLORS.get(e.label, PALETTE[0]),
                        opacity=0.65, line=dict(color="black", width=1)),
            hovertemplate=(f"{e.label}<br>top-1 {e.top1:.1f} %<br>{e.gmacs_meta:.2f} GMACs<br>{e.params / 1e6:.1f} M "
                           f"params<br>" + (f"{e.latency_ms:.1f} ms" if e.latency_ms else "") + "<extra></extra>")))
    # titles of one line at presentation type: the plotting area keeps the height the labels are placed for
    if x == "ops":
        fig.update_xaxes(title_text="G multiply-adds per image (log)", type="log")
        title = "Top-1 vs operations (area ∝ params)"
    else:
        fig.update_xaxes(title_text="measured latency, batch 1 (ms, log)", type="log")
        title = "Top-1 vs latency on this device"
    fig.update_xaxes(range=L.plotly_range(x_range, True))
    fig.update_yaxes(title_text="ImageNet top-1 (%)", range=L.plotly_range(y_range, False))
    return style(fig, title, height=520, legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))


def rows(entries: list[Entry]) -> list[dict]:
    out = []
    for e in entries:
        out.append({"model": e.label, "top-1 %": round(e.top1, 2), "params (M, counted)": round(e.params / 1e6, 2),
                    "params (M, metadata)": round(e.params_meta / 1e6, 2), "GMACs (metadata)": e.gmacs_meta,
                    "GFLOPs (counted)": round(e.gflops_counted, 3), "file (MB)": round(e.file_mb, 1),
                    "latency (ms)": None if e.latency_ms is None else round(e.latency_ms, 1),
                    "input": e.input_size})
    return out


def latency_sentence(entries: list[Entry], device_name: str) -> str:
    by = {e.label: e for e in entries}
    a, b = by.get("ShuffleNet-V2 x1.0"), by.get("MobileNet-V2")
    if not a or not b or a.latency_ms is None or b.latency_ms is None:
        return ""
    ratio_ops = a.gmacs_meta / b.gmacs_meta
    ratio_t = a.latency_ms / b.latency_ms
    faster = "faster" if ratio_t < 1 else "slower"
    per = sorted((e.latency_ms / e.gmacs_meta, e.label) for e in entries if e.latency_ms)
    return (f"**Operations do not predict latency.** On {device_name}, ShuffleNet-V2 needs {ratio_ops:.2f}× "
            f"MobileNet-V2's multiply-adds and ran {a.latency_ms:.1f} ms vs {b.latency_ms:.1f} ms "
            f"({ratio_t:.2f}×, {faster}). Time per billion multiply-adds ranges from {per[0][0]:.0f} ms "
            f"({per[0][1]}) to {per[-1][0]:.0f} ms ({per[-1][1]}): memory traffic, channel shuffles, depthwise "
            "convolutions and per-layer overheads cost time that a MAC count does not see.")
