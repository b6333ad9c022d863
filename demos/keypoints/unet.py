"""Inside the bundled backbone: its encoder-decoder shape drawn from the module, the feature maps of every level
for one image, what its skip connections are worth (an ablation measured on held-out heatmaps), and a true U-Net
decoder step built beside it for comparison.

The backbone (``models.Backbone``) is a ResNet-style encoder to stride 16 (strided convolutions, no pooling) and a
decoder back to strides 8 and 4. It is *not* a U-Net: its skips bring encoder features of the same resolution to
the decoder, as U-Net's do (Ronneberger et al. 2015, docs/facts.md 6), but it projects them with a 1x1 convolution
(``lat8``, ``lat4``) and *adds* them to the up-sampled coarser map, as feature pyramid networks do (Lin et al.
2017); U-Net *concatenates* them after a 2x2 up-convolution. ``UNetUp`` builds U-Net's step with this backbone's
channel counts, and ``compare_skips`` counts both kinds' parameters on the built modules. Everything about the
backbone is read from the module with forward hooks, so the picture is the network that runs.

The ablation removes a skip at inference by replacing its 1x1 convolution's output with that output's mean per
channel over one set of held-out renders (``MEAN_SEEDS``; mean ablation: the decoder keeps the average signal and
loses the image's detail), and scores it on another (``SCORE_SEEDS``, disjoint), so the replacement never saw the
renders it is scored on. The network was trained with its skips, so this measures what it relies on them for, not
how well a network trained without them would do.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np
import torch
import torch.nn as nn

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
MEAN_SEEDS = tuple(data.heldout_seeds(N_HELDOUT))  # the renders whose mean replaces a removed skip
SCORE_SEEDS = tuple(data.heldout_seeds(2 * N_HELDOUT)[N_HELDOUT:])  # the renders the ablation is scored on
NOISE_SE = 2.0  # a change counts only beyond this many standard errors (over the scored renders)


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


def _heldout(model, seeds):
    images, truth, vis = dataset(list(seeds), model.variant, model.input_size)
    device = next(model.parameters()).device
    return to_tensor(images).to(device), torch.from_numpy(truth), torch.from_numpy(vis)


@functools.lru_cache(maxsize=8)
def skip_means(model, seeds: tuple[int, ...] = MEAN_SEEDS) -> dict[int, torch.Tensor]:
    """Each skip's output averaged over the held-out renders ``seeds``, per channel (1, C, 1, 1)."""
    x, _, _ = _heldout(model, seeds)
    t = trace(model, x)
    return {lv: t[name].mean(dim=(0, 2, 3), keepdim=True).cpu() for lv, name in SKIPS.items()}


def _peak(hm: torch.Tensor, integral: bool) -> torch.Tensor:
    """The height of each map's maximum: the raw map for MSE heatmaps, the soft-max probability for logits."""
    flat = hm.flatten(-2)
    return (flat.softmax(-1) if integral else flat).amax(-1)


@functools.lru_cache(maxsize=8)
def ablation(model, seeds: tuple[int, ...] = SCORE_SEEDS, mean_seeds: tuple[int, ...] = MEAN_SEEDS) -> tuple[dict, ...]:
    """Rows {ablation, removed, mean_px, delta_px, se_px, peak, n}: mean keypoint error on the held-out renders
    ``seeds`` (the model's own decoding: arg-max for MSE heatmaps, soft-argmax for integral heads), its change from
    the full model with the standard error of that change over the renders (per-render mean errors, paired), and
    the mean map peak, for every ablation. A removed skip carries its mean over ``mean_seeds`` (disjoint)."""
    if set(seeds) & set(mean_seeds):
        raise ValueError("the ablation must be scored on renders other than the ones its means come from")
    x, truth, vis = _heldout(model, seeds)
    means = skip_means(model, mean_seeds)
    rows, base = [], None
    for label, levels in ABLATIONS:
        with without_skips(model, levels, means), torch.no_grad():
            out = {k: v.cpu() for k, v in model(x).items()}
        e = (out["coords"] - truth).norm(dim=-1)
        per_image = (e * vis).sum(1) / vis.sum(1).clamp_min(1)  # each render's mean over its visible joints
        base = per_image if base is None else base
        diff = (per_image - base).double()
        peak = _peak(out["heatmaps"], model.head_type == "integral")[vis].mean() if "heatmaps" in out else None
        # the error is the mean of the per-render means, like the change, so error - full model's = change exactly
        rows.append({"ablation": label, "removed": levels, "mean_px": float(per_image.double().mean()),
                     "delta_px": float(diff.mean()), "se_px": float(diff.std() / len(diff) ** 0.5),
                     "peak": None if peak is None else float(peak), "n": len(seeds)})
    return tuple(rows)


# -- a true U-Net decoder step, for comparison ------------------------------------------------------------------
class UNetUp(nn.Module):
    """U-Net's expanding step (Ronneberger et al. 2015): a 2x2 up-convolution that halves the channels, the
    encoder's features of the same resolution *concatenated*, then two 3x3 convolutions with ReLU (no BatchNorm,
    as in the paper; padded, so no cropping)."""

    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cin // 2, 2, stride=2)
        self.conv = nn.Sequential(nn.Conv2d(cin // 2 + cskip, cout, 3, padding=1), nn.ReLU(inplace=True),
                                  nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([self.up(x), skip], 1))


def _params(*modules) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


@functools.lru_cache(maxsize=8)
def compare_skips(model) -> tuple[dict, ...]:
    """Per decoder level: this backbone's step (up-sample, 1x1-project the skip, add, a basic block) against a
    U-Net step (``UNetUp``) built with the same channel counts, both run on the backbone's own feature shapes.
    Rows {level, add_in, add_out, add_params, cat_in, cat_out, cat_params}: channels into the block that follows
    the merge, channels out, and parameters, all read from the built modules and one forward pass."""
    bb = model.backbone
    x = torch.zeros(1, 3, model.input_size, model.input_size, device=next(model.parameters()).device)
    t = trace(model, x)
    feats = {4: t["enc4"].cpu(), 8: t["enc8"].cpu()}
    coarse = {8: t["enc16"].cpu(), 4: t["dec8"].cpu()}  # what each level up-samples
    rows = []
    for lv, dec in ((8, "dec8"), (4, "dec4")):
        lat, block = getattr(bb, SKIPS[lv]), getattr(bb, dec)
        unet_up = UNetUp(coarse[lv].shape[1], feats[lv].shape[1], t[dec].shape[1])
        with torch.no_grad():
            merged = torch.cat([unet_up.up(coarse[lv]), feats[lv]], 1)
            out = unet_up(coarse[lv], feats[lv])
        rows.append({"level": lv, "add_in": int(t[SKIPS[lv]].shape[1]), "add_out": int(t[dec].shape[1]),
                     "add_params": _params(lat, block), "cat_in": int(merged.shape[1]), "cat_out": int(out.shape[1]),
                     "cat_params": _params(unet_up), "hw": tuple(out.shape[-2:])})
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
            label = f"input<br>3×{arr.shape[0]}×{arr.shape[1]}"
        elif name == "head":
            if regression:
                label = f"FC head → {2 * model.num_joints} numbers<br>(avg-pool to 4×4, two FC layers)"
            else:
                z = result["heads"][ABLATIONS[0][0]]
                traces.append(_map_trace(z, xa, ya, "Viridis"))
                label = f"head: {joint_name}<br>({z.shape[0]}×{z.shape[1]})"
        else:
            c, h, w = shapes[name]
            traces.append(_map_trace(result["maps"][name], xa, ya) | ({"opacity": 0.3} if name in unused else {}))
            # the two upper rows have a neighbour one column away: name and shape on two lines, so that neither
            # label reaches the next at presentation type (22 px on a 1280 px screen); the bottom row has none
            label = (f"{sides[name]} {_FRAC[lv]}:{'<br>' if lv < 16 else ' '}{c}×{h}×{w}"
                     + ("<br>(computed, not used)" if name in unused else ""))
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

    arrow("input", "enc4", "stem<br>÷4")
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


def verdict(delta: float, se: float) -> str:
    """'worse' / 'better' only where the change exceeds NOISE_SE standard errors; 'no change' when nothing moved."""
    if delta == 0 and se == 0:
        return "no change"
    if abs(delta) <= NOISE_SE * se:
        return "within noise"
    return "worse" if delta > 0 else "better"


def _seeds(seeds) -> str:
    first = data.heldout_seeds(1)[0]
    return f"{min(seeds) - first}–{max(seeds) - first}"


def ablation_text(model, rows: tuple[dict, ...], compare: tuple[dict, ...] | None = None) -> str:
    return skips_sentence(model.head_type, model.stride, rows, compare or compare_skips(model))


def skips_sentence(head_type: str, stride: int, rows, compare, score_seeds=SCORE_SEEDS, mean_seeds=MEAN_SEEDS) -> str:
    """The text beside the skip ablation and the add-vs-concatenate table, each word checked on the numbers it
    prints: an ablation is 'worse' or 'better' only beyond NOISE_SE standard errors of its paired change."""
    base = rows[0]
    same = all(r["mean_px"] == base["mean_px"] for r in rows)
    where = (f"scored on held-out renders {_seeds(score_seeds)}; a removed skip carries its mean per channel over "
             f"renders {_seeds(mean_seeds)}, a disjoint set")
    if head_type == "regression":
        return ("Direct regression reads the encoder's 1/16 output only (average-pooled into FC layers): the decoder "
                "and its skips are not used, " + (f"and removing them changes nothing (error {base['mean_px']:.2f} px "
                                                  "in every row, " if same else "yet the rows differ (")
                + where + "). Pick a heatmap or integral model to see what the skips carry.")
    peak = "peak of the raw map (target 1)" if head_type == "heatmap" else "peak soft-max probability"
    lines = [f"| {r['ablation']} | {r['mean_px']:.2f} | " +
             ("—" if i == 0 else f"{r['delta_px']:+.2f} ± {NOISE_SE * r['se_px']:.2f}") +
             f" | {'—' if i == 0 else verdict(r['delta_px'], r['se_px'])} | {r['peak']:.3f} |"
             for i, r in enumerate(rows)]
    quarter = [r for r in rows if 4 in r["removed"] and 8 not in r["removed"]]
    unused = (" At stride 8 the head reads the ⅛ decoder level, so the ¼ skip is unused (removing it changes "
              "nothing).") if stride == 8 and quarter and quarter[0]["delta_px"] == 0 else ""
    cmp = [f"| {_FRAC[c['level']]} ({c['hw'][0]}×{c['hw'][1]}) | {c['add_in']} → {c['add_out']} | "
           f"{c['add_params']:,} | {c['cat_in']} → {c['cat_out']} | {c['cat_params']:,} |" for c in compare]
    total_add, total_cat = sum(c["add_params"] for c in compare), sum(c["cat_params"] for c in compare)
    return (f"**Skip ablation** ({where}; mean keypoint error in input px over {base['n']} renders, its change "
            f"from the full model ± {NOISE_SE:g} standard errors of the paired per-render change, and the mean "
            f"{peak}):\n\n| | error (px) | change (px) | verdict | peak |\n|---|---|---|---|---|\n" + "\n".join(lines) +
            f"\n\n'worse' or 'better' only where the change exceeds {NOISE_SE:g} standard errors, 'within noise' "
            "otherwise. A removed skip leaves the decoder only the up-sampled coarse features: the detail that the "
            "encoder's strided convolutions gave up is gone. The network was trained with its skips, so this shows "
            "what it relies on them for, not how a network trained without them would do." + unused +
            "\n\n**Not a U-Net: this backbone adds its skips, U-Net concatenates them.** Each of its decoder steps "
            "up-samples the coarser map (nearest), projects the encoder's features of the same resolution with a 1×1 "
            "convolution and *adds* the two (as feature pyramid networks do, Lin et al. 2017), then a basic block. "
            "U-Net's step (Ronneberger et al. 2015) up-samples with a 2×2 up-convolution that halves the channels, "
            "*concatenates* the encoder's features, then two 3×3 convolutions. Both built here with this backbone's "
            "channel counts and run on its feature shapes (channels into the block after the merge → out, "
            "parameters counted on the modules):\n\n"
            "| level | add (this backbone): channels | parameters | concatenate (U-Net): channels | parameters |\n"
            "|---|---|---|---|---|\n" + "\n".join(cmp) +
            f"\n\nTogether: {total_add:,} parameters for this backbone's steps, {total_cat:,} for U-Net's "
            "(untrained: the U-Net step is built to compare shapes and sizes, not to predict).")
