"""Inside the bundled backbone: its U-Net shape drawn from the module, the feature maps of every level for one
image, and what its skip connections are worth (an ablation measured on the heatmaps).

The backbone (``models.Backbone``) is a ResNet-style encoder to stride 16 and a decoder back to strides 8 and 4.
Like U-Net (Ronneberger et al. 2015, docs/facts.md 6) its skips bring encoder features of the same resolution to
the decoder; unlike U-Net, which concatenates them, this backbone *adds* them after a 1x1 convolution (``lat8``,
``lat4``), as feature pyramid networks do. Everything here is read from the module with forward hooks, so the
picture is the network that runs.

The ablation removes a skip at inference by replacing its 1x1 convolution's output with that output's mean per
channel over held-out renders (mean ablation: the decoder keeps the average signal and loses the image's
detail). The network was trained with its skips, so this measures what it relies on them for, not how well a
network trained without them would do.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np
import torch

from demos.common.plotstyle import figure, subplot_grid

from . import data, decoders
from .training import dataset, to_tensor

# the backbone's children in data-flow order, which is also their column in the U: (attribute, label, stride)
NODES = (("enc4", "encoder", 4), ("enc8", "encoder", 8), ("enc16", "encoder", 16), ("dec8", "decoder", 8),
         ("dec4", "decoder", 4))
SKIPS = {8: "lat8", 4: "lat4"}  # the decoder level each skip feeds -> its 1x1 convolution
ABLATIONS = (("with both skips", ()), ("without the 1/8 skip", (8,)), ("without the 1/4 skip", (4,)),
             ("without either skip", (8, 4)))
N_HELDOUT = 64


def trace(model, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every node's output (and each skip's 1x1 output) for the batch ``x``, read by forward hooks."""
    out, handles = {}, []
    bb = model.backbone
    for name in [n for n, *_ in NODES] + list(SKIPS.values()):
        handles.append(getattr(bb, name).register_forward_hook(
            lambda _m, _i, o, name=name: out.__setitem__(name, o.detach())))
    try:
        with torch.no_grad():
            out["output"] = model(x)
    finally:
        for h in handles:
            h.remove()
    return out


@contextlib.contextmanager
def without_skips(model, removed, means: dict[int, torch.Tensor]):
    """Inside the block, the skips into the decoder levels in ``removed`` carry only their held-out mean per
    channel. ``removed`` is a tuple of levels for the whole batch, or a list of such tuples, one per batch row
    (so all the ablations of one image run in one forward pass)."""
    def hook(_m, _i, o, lv):
        rows = [removed] * o.shape[0] if isinstance(removed, tuple) else removed
        drop = torch.tensor([lv in r for r in rows], device=o.device).view(-1, 1, 1, 1)
        return torch.where(drop, means[lv].to(o.device, o.dtype), o)

    handles = [getattr(model.backbone, name).register_forward_hook(functools.partial(hook, lv=lv))
               for lv, name in SKIPS.items()]
    try:
        yield model
    finally:
        for h in handles:
            h.remove()


def _heldout(model, n: int):
    images, truth, vis = dataset(data.heldout_seeds(n), model.variant, model.input_size)
    device = next(model.parameters()).device
    return to_tensor(images).to(device), torch.from_numpy(truth), torch.from_numpy(vis)


@functools.lru_cache(maxsize=8)
def skip_means(model) -> dict[int, torch.Tensor]:
    """Each skip's output averaged over held-out renders, per channel (1, C, 1, 1)."""
    x, _, _ = _heldout(model, N_HELDOUT)
    t = trace(model, x)
    return {lv: t[name].mean(dim=(0, 2, 3), keepdim=True).cpu() for lv, name in SKIPS.items()}


def _peak(hm: torch.Tensor, integral: bool) -> torch.Tensor:
    """The height of each map's maximum: the raw map for MSE heatmaps, the soft-max probability for logits."""
    flat = hm.flatten(-2)
    return (flat.softmax(-1) if integral else flat).amax(-1)


@functools.lru_cache(maxsize=8)
def ablation(model, n: int = N_HELDOUT) -> tuple[dict, ...]:
    """Rows {ablation, removed, mean_px, peak, uses_decoder}: held-out mean keypoint error (the model's own
    decoding: arg-max for MSE heatmaps, soft-argmax for integral heads) and mean map peak, for every ablation."""
    x, truth, vis = _heldout(model, n)
    means = skip_means(model)
    uses = model.head_type != "regression"
    rows = []
    for label, levels in ABLATIONS:
        with without_skips(model, levels, means), torch.no_grad():
            out = {k: v.cpu() for k, v in model(x).items()}
        err = (out["coords"] - truth).norm(dim=-1)[vis].mean()
        peak = _peak(out["heatmaps"], model.head_type == "integral")[vis].mean() if "heatmaps" in out else None
        rows.append({"ablation": label, "removed": levels, "mean_px": float(err),
                     "peak": None if peak is None else float(peak), "uses_decoder": uses})
    return tuple(rows)


def image_maps(model, arr: np.ndarray, joint: int) -> dict:
    """For one letterboxed input (S, S, 3 uint8): every node's mean |activation| map, the head's map of
    ``joint`` with and without the skips, and the shapes (C, H, W) of every node."""
    x = to_tensor(arr[None]).to(next(model.parameters()).device)
    x = x.expand(len(ABLATIONS), -1, -1, -1)  # one row per ablation; row 0 keeps both skips
    with without_skips(model, [levels for _, levels in ABLATIONS], skip_means(model)):
        t = trace(model, x)
    maps = {name: t[name][0].abs().mean(0).cpu().numpy() for name, *_ in NODES}
    shapes = {name: tuple(t[name].shape[1:]) for name in [n for n, *_ in NODES] + list(SKIPS.values())}
    heads = {}
    if "heatmaps" in t["output"]:
        hm = t["output"]["heatmaps"][:, joint].float().cpu()
        if model.head_type == "integral":
            hm = decoders.softmax2d(hm[:, None], float(model.beta))[:, 0]
        heads = {label: hm[i].numpy() for i, (label, _) in enumerate(ABLATIONS)}
    return {"maps": maps, "shapes": shapes, "heads": heads}


# -- figures ---------------------------------------------------------------------------------------------------
_FRAC = {4: "¼", 8: "⅛", 16: "1/16"}


def _map_trace(z, xa, ya, scale="Cividis"):  # feature maps; the heads' maps in Viridis, as on the tab
    return {"type": "heatmap", "z": z, "xaxis": xa, "yaxis": ya, "colorscale": scale,
            "showscale": False, "hovertemplate": "%{z:.3f}<extra></extra>"}


def diagram_figure(model, arr: np.ndarray, result: dict, joint_name: str):
    """The U: input, encoder levels going down, decoder levels coming up, the head's map; each node shows its
    feature map (mean |activation| over channels) for this image, labelled with its shape from the module;
    the skips are drawn as arrows across the U."""
    colw, gap = 0.095, 0.049  # seven columns across the width, each about as wide as a row is high
    rows_y = {4: (0.66, 0.92), 8: (0.37, 0.63), 16: (0.08, 0.34)}  # y domains per resolution level
    regression = model.head_type == "regression"
    cells = {"input": (0, 4)} | {name: (i + 1, lv) for i, (name, _, lv) in enumerate(NODES)}  # (column, stride)
    cells["head"] = (5, 16) if regression else (6, model.stride)
    sides = {name: side for name, side, _ in NODES}
    boxes = {}  # name -> (x0, y0, y1) in paper coordinates, for the arrows
    # levels the head never reads: the whole decoder for direct regression, the 1/4 level at stride 8
    unused = {"dec8", "dec4"} if regression else ({"dec4"} if model.stride == 8 else set())
    layout, traces, notes = {}, [], []
    shapes = result["shapes"]
    for i, (name, (col, lv)) in enumerate(cells.items()):
        n = "" if i == 0 else str(i + 1)
        x0 = 0.02 + col * (colw + gap)
        y0, y1 = rows_y[lv]
        layout[f"xaxis{n}"] = {"domain": [x0, x0 + colw], "anchor": f"y{n}", "visible": False}
        layout[f"yaxis{n}"] = {"domain": [y0, y1], "anchor": f"x{n}", "visible": False,
                              "autorange": "reversed"}  # row 0 at the top, as in the image
        xa, ya = f"x{n}", f"y{n}"
        if name == "input":
            traces.append({"type": "image", "z": arr, "xaxis": xa, "yaxis": ya,
                           "hoverinfo": "skip"})
            label = f"input 3×{arr.shape[0]}×{arr.shape[1]}"
        elif name == "head":
            if regression:
                label = f"FC head → {2 * model.num_joints} numbers<br>(avg-pool to 4×4, two FC layers)"
            else:
                z = result["heads"][ABLATIONS[0][0]]
                traces.append(_map_trace(z, xa, ya, "Viridis"))
                label = f"head: {joint_name} ({z.shape[0]}×{z.shape[1]})"
        else:
            c, h, w = shapes[name]
            traces.append(_map_trace(result["maps"][name], xa, ya) | ({"opacity": 0.3} if name in unused else {}))
            label = f"{sides[name]} {_FRAC[lv]}: {c}×{h}×{w}" + ("<br>(computed, not used)" if name in unused else "")
        notes.append({"text": label, "x": x0 + colw / 2, "y": y0 - 0.01, "xref": "paper", "yref": "paper",
                      "xanchor": "center", "yanchor": "top", "showarrow": False, "font": {"size": 13}})
        boxes[name] = (x0, y0, y1)

    # arrows from node to node need an axis for their tails (plotly has no paper-coordinate tails): an invisible
    # axis pair spanning the figure, ranged [0, 1], so its coordinates are the paper's
    ov = str(len(cells) + 1)
    layout[f"xaxis{ov}"] = {"domain": [0, 1], "range": [0, 1], "visible": False, "anchor": f"y{ov}", "fixedrange": True}
    layout[f"yaxis{ov}"] = {"domain": [0, 1], "range": [0, 1], "visible": False, "anchor": f"x{ov}", "fixedrange": True}

    def arrow(a, b, text="", color="#444"):
        (ax0, ay0, ay1), (bx0, by0, by1) = boxes[a], boxes[b]
        same_row = abs(ay0 - by0) < 1e-6
        start = (ax0 + colw, (ay0 + ay1) / 2) if bx0 > ax0 else (ax0, (ay0 + ay1) / 2)
        end = (bx0, (by0 + by1) / 2) if bx0 > ax0 else (bx0 + colw, (by0 + by1) / 2)
        notes.append({"x": end[0], "y": end[1], "ax": start[0], "ay": start[1], "xref": f"x{ov}", "yref": f"y{ov}",
                      "axref": f"x{ov}", "ayref": f"y{ov}", "showarrow": True, "arrowhead": 3, "arrowwidth": 2.5,
                      "arrowcolor": color, "text": ""})
        if text:
            notes.append({"text": text, "x": (start[0] + end[0]) / 2, "y": start[1] + (0.035 if same_row else 0),
                          "xref": "paper", "yref": "paper", "showarrow": False, "font": {"size": 13, "color": color},
                          "bgcolor": "rgba(255,255,255,0.85)"})

    arrow("input", "enc4", "stem ÷4")
    arrow("enc4", "enc8", "")
    arrow("enc8", "enc16", "")
    if regression:
        arrow("enc16", "head")
    else:
        arrow("enc16", "dec8", "")
        arrow("enc8", "dec8", f"skip: 1×1 conv ({shapes['lat8'][0]} ch), then +", color="#D55E00")
        if model.stride == 4:
            arrow("dec8", "dec4", "")
            arrow("enc4", "dec4", f"skip: 1×1 conv ({shapes['lat4'][0]} ch), then +", color="#D55E00")
            arrow("dec4", "head", "")
        else:
            arrow("dec8", "head", "")
    layout["annotations"] = notes
    layout["margin"] = {"l": 10, "r": 10, "t": 50, "b": 10}
    layout["plot_bgcolor"] = "rgba(0,0,0,0)"  # the arrows' full-figure axis must not paint over the maps
    return figure(traces, layout, title="The backbone as a U: each level's feature map (mean |activation|) for "
                  "this image", height=470)


def ablation_figure(result: dict, rows: tuple[dict, ...], joint_name: str):
    """The head's map of one joint for this image with and without the skips (held-out error in each title)."""
    heads = result["heads"]
    err = {r["ablation"]: r["mean_px"] for r in rows}
    titles = [f"{label}<br>held-out error {err[label]:.1f} px" for label, _ in ABLATIONS]
    axes, layout = subplot_grid(1, len(ABLATIONS), 0.03, 0.0, titles)
    traces = []
    zmax = max(float(np.max(h)) for h in heads.values())
    for (label, _), (xa, ya) in zip(ABLATIONS, axes):
        t = _map_trace(heads[label], xa, ya, "Viridis")
        t |= {"zmin": 0.0, "zmax": zmax}
        traces.append(t)
        n = xa[1:]
        layout[f"xaxis{n}"] |= {"visible": False}
        layout[f"yaxis{n}"] |= {"visible": False, "scaleanchor": xa, "autorange": "reversed"}
    layout["margin"] = {"l": 10, "r": 10, "t": 110, "b": 10}
    return figure(traces, layout, title=f"What the skips are worth: the {joint_name} map (same colour scale)",
                  height=380)


def ablation_text(model, rows: tuple[dict, ...]) -> str:
    base = rows[0]
    if model.head_type == "regression":
        return ("Direct regression reads the encoder's 1/16 output only (average-pooled into FC layers): the decoder "
                f"and its skips are not used, so removing them changes nothing (held-out error {base['mean_px']:.1f} "
                "px in every row). Pick a heatmap or integral model to see what the skips carry.")
    peak = "peak of the raw map (target 1)" if model.head_type == "heatmap" else "peak soft-max probability"
    lines = [f"| {r['ablation']} | {r['mean_px']:.2f} | {r['peak']:.3f} |" for r in rows]
    unused = (" At stride 8 the head reads the ⅛ decoder level, so the ¼ skip is unused (its rows equal the "
              "others).") if model.stride == 8 else ""
    return ("**Skip ablation** on the first " + str(N_HELDOUT) + " held-out renders (mean keypoint error in input "
            f"px, and the mean {peak}):\n\n| | error (px) | peak |\n|---|---|---|\n" + "\n".join(lines) +
            "\n\nA skip is removed by replacing its 1×1 convolution's output with its held-out mean per channel: the "
            "decoder keeps only the up-sampled coarse features, and the detail that pooling removed is gone. The "
            "network was trained with its skips, so this shows what it relies on them for, not how a network "
            "trained without them would do. This backbone *adds* its skips after a 1×1 convolution (as feature "
            "pyramid networks do); U-Net (Ronneberger et al. 2015) *concatenates* them — the same role." + unused)
