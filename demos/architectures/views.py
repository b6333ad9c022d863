"""The architectures tab's views: parameter records and the functions the tab wires (no Gradio here).

Records used by a compute module are declared in that module (it checks its own arguments with them) and read
from there; the rest are declared here. Every "about N s" text comes from a view's declared cost (``about``).
"""

from __future__ import annotations

import functools

import pandas as pd

from demos.common.device import device_label, get_device
from demos.common.params import Choice, Param, Update, about, takes
import demos.keypoints as kp
from demos.common.plotstyle import placeholder

from . import blocks as building_blocks
from . import compression as pruning
from . import mobilenet
from . import separable as separable_convs
from . import skip as skip_nets
from . import squeeze
from . import zoo as model_zoo

CHANNELS, SIZE, GROUPS = building_blocks.CHANNELS, building_blocks.SIZE, building_blocks.GROUPS
SHUFFLE_G = building_blocks.SHUFFLE_G
KERNEL = Choice("kind", "kernel", tuple((k, k) for k in separable_convs.KERNELS), separable_convs.KERNELS[3])
KERNEL_INDEX = Param("index", "channel / seed (random and first-layer kernels)", 0, 23, 0, 1, integer=True)
CIN, COUT, CONV_SIZE = separable_convs.CIN, separable_convs.COUT, separable_convs.CONV_SIZE
DEPTH, SKIP_STEPS = skip_nets.DEPTH, skip_nets.STEPS

DC_MODEL = Choice("dc_model", "model", tuple((m.label, m.name) for m in kp.MODELS.values()
                                             if m.name in kp.bundled_names()
                                             and m.head in ("heatmap", "integral", "regression")),
                  kp.model_for("default").name)
DC_SPARSITY, DC_BITS = pruning.DC_SPARSITY, pruning.DC_BITS
COMPRESSION_COLUMNS = ["model", "method", "setting", "size_kb", "error_px", "error_lo", "error_hi"]
DC_COLUMNS = ["stage", "size_kb", "ratio", "error_px"]


@functools.lru_cache(maxsize=1)
def _zoo_table():
    return model_zoo.table()


def _zoo(entries_latency: dict) -> dict:
    dev = get_device()
    entries = _zoo_table()
    for e in entries:
        e.latency_ms = entries_latency.get(e.name)
    have = all(e.latency_ms is not None for e in entries)
    text = ("Parameters and operations are counted on the built torchvision modules (no weights downloaded); "
            "top-1 accuracy, multiply-adds and file size are read from torchvision's weight metadata, not measured "
            "here. Counted FLOPs come from torch's FlopCounterMode, which counts a multiply-add as 2 FLOPs: the "
            "GFLOPs (counted) column is 2× the metadata's GMACs (within the metadata's rounding to 3 decimals). "
            "(Inception-v3's metadata parameter count includes its auxiliary classifier, 3.3 M, which inference does "
            "not use; GoogLeNet is torchvision's Inception-v1 with BatchNorm.)")
    if have:
        text += "\n\n" + model_zoo.latency_sentence(entries, device_label(dev)) + " (latencies cached for this device)"
    else:
        text += "\n\nPress **Measure latency** to time every model at batch 1 on this device."
    waiting = placeholder("Press <b>Measure latency</b> below: every model timed at batch 1<br>on this device "
                          f"({about(zoo_latency)}, then cached).")
    return {"ops": model_zoo.bubble(entries, "ops"), "latency": model_zoo.bubble(entries, "latency") if have else waiting,
            "table": pd.DataFrame(model_zoo.rows(entries)), "text": text}


@takes()
def zoo_static() -> dict:
    """Compares torchvision's ImageNet classifiers: counted parameters and operations, with the latencies already cached for this device.
    Returns:
        ops: a plotly bubble chart of the torchvision models' top-1 accuracy against operations
        latency: a plotly bubble chart of accuracy against latency at batch 1 on this device (a placeholder until measured)
        table: a table of each model's parameters, operations, accuracy, file size and latency
        text: Markdown saying where each number comes from, and the latency sentence once every model is timed
    """
    return _zoo(model_zoo.load_latency(get_device()))


@takes(seconds=12)  # bench worst, empty cache: 13.8 s (at load 5-6) and 12.8 s (idle) in two sittings
def zoo_latency(report=None) -> dict:
    """Times every torchvision classifier at batch 1 on this device (cached), then compares them as zoo_static does.
    Returns:
        ops: a plotly bubble chart of the torchvision models' top-1 accuracy against operations
        latency: a plotly bubble chart of accuracy against latency at batch 1 on this device (a placeholder until measured)
        table: a table of each model's parameters, operations, accuracy, file size and latency
        text: Markdown saying where each number comes from, and the latency sentence once every model is timed
    """
    dev = get_device()
    entries = _zoo_table()
    lat = model_zoo.load_latency(dev)
    for i, e in enumerate(entries):
        if report:
            report(i / len(entries), f"timing {e.label} on {dev.type}")
        if e.name not in lat:
            lat[e.name] = model_zoo.measure_latency(e.name, e.input_size, dev)
    model_zoo.save_latency(dev, lat)
    return _zoo(lat)


def nearest_divisor(n: int, g: int) -> int:
    """The divisor of n closest to g (the smaller one on a tie)."""
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: (abs(d - g), d))


@functools.lru_cache(maxsize=512)
def _counted(s: building_blocks.Spec) -> tuple:
    return tuple(building_blocks.all_blocks(s))


def _blocks_out(s: building_blocks.Spec, asked_groups: int, asked_g: int, measured: dict | None) -> dict:
    rows = [dict(r) for r in _counted(s)]
    ok = all(r["params (formula)"] == r["params (module)"] and r["MACs (formula)"] == r["MACs (module)"]
             for r in rows)
    text = (f"C = {s.c} channels on a {s.size}×{s.size} input. Formulas {'**equal**' if ok else '**differ from**'} the "
            "counts on the built modules for every block (MACs counted by torch's FlopCounterMode, halved).")
    if measured:
        for r in rows:
            r["time (ms)"] = measured["ms"].get(r["block"])
        n = measured["threads"]
        text += (f" Time: median of 5 runs at batch 1, measured for this setting on {measured['where']} with "
                 f"{n} torch thread{'s' * (n != 1)} at {measured['when']}.")
    else:
        text += (" Time: not measured for this setting yet; press **Measure time** "
                 f"({about(blocks_latency, s.c, s.size)}, then kept for this setting).")
    notes = []
    if s.groups != asked_groups:
        notes.append(f"Cardinality {asked_groups} does not divide the bottleneck width C/2 = {s.c // 2}; using the "
                     f"nearest divisor, {s.groups}.")
    if s.g != asked_g:
        notes.append(f"ShuffleNet V1's g = {asked_g} needs C divisible by 4g = {4 * asked_g}; using the nearest g "
                     f"that fits, {s.g}.")
    if notes:
        text = "*" + " ".join(notes) + "* " + text
    # the formulas as a list under the table, not a column: a column of sentences made the table twice a
    # projector's width (or its numbers broke across lines)
    formulas = "\n".join(f"- **{r['block']}**: {r['formula']}" for r in rows)
    return {"plot": building_blocks.figure_blocks(rows, measured["ms"] if measured else None),
            "table": pd.DataFrame(rows).drop(columns="formula"),
            "formulas": "Formulas (C channels, H×W input):\n\n" + formulas, "text": text, "groups": Update(value=s.groups), "g": Update(value=s.g)}


def _spec(c, size, groups, g) -> building_blocks.Spec:
    return building_blocks.Spec(c, size, building_blocks.valid_cardinality(c, groups),
                                building_blocks.valid_shuffle_g(c, g))


@takes(CHANNELS, SIZE, GROUPS, SHUFFLE_G)
def blocks(c, size, groups, g) -> dict:
    """Counts the parameters and MACs of the building blocks (plain, bottleneck, ResNeXt, depthwise, ShuffleNet ...) for C channels on a size x size input, by formula and on the built modules (meta device, cached); times come from the cache that blocks_latency fills.
    Returns:
        plot: a plotly bar chart of each block's parameters and MACs (and measured time, where there is one)
        table: a table of each block's parameters and MACs by formula and counted on the built module, output shape (and time)
        formulas: Markdown, each block's formula as a list
        text: Markdown saying whether formulas and counts agree, and when and where the times were measured
        groups: the cardinality used (the nearest divisor of C/2 to the one asked)
        g: the ShuffleNet group count used (the nearest that fits C)
    """
    s = _spec(c, size, groups, g)
    return _blocks_out(s, groups, g, building_blocks.cached_latency(s, get_device()))



@takes(CHANNELS, SIZE, GROUPS, SHUFFLE_G,
       seconds=lambda c, size, **_: 0.3 + 7.4 * (c * size / (512 * 56)) ** 2)  # bench worst: 7.7 s at 512 x 56, 0.8 s at 256 x 28
def blocks_latency(c, size, groups, g, report=None) -> dict:
    """Times every building block at batch 1 on this device (median of 5 runs) for C channels on a size x size input, with its parameters and MACs.
    Returns:
        plot: a plotly bar chart of each block's parameters and MACs (and measured time, where there is one)
        table: a table of each block's parameters and MACs by formula and counted on the built module, output shape (and time)
        formulas: Markdown, each block's formula as a list
        text: Markdown saying whether formulas and counts agree, and when and where the times were measured
        groups: the cardinality used (the nearest divisor of C/2 to the one asked)
        g: the ShuffleNet group count used (the nearest that fits C)
    """
    s = _spec(c, size, groups, g)
    progress = (lambda f, t: report(f, f"timing {t}")) if report else None
    measured = building_blocks.measure_latency(s, get_device(), progress=progress)
    return _blocks_out(s, groups, g, measured)


@takes()
def resnext_template() -> dict:
    """x"
    Returns:
        table: a table of the template's stages
        text: Markdown explaining the template's rules, from its rows
    """
    rows = building_blocks.resnext_template()
    return {"table": pd.DataFrame(rows), "text": building_blocks.template_text(rows)}


@takes(KERNEL, KERNEL_INDEX, CIN, COUT, CONV_SIZE)
def separable(kind, index, cin, cout, conv_size) -> dict:
    """A kernel's rank-1 (separable) approximation by SVD, and a full 3x3 conv against a depthwise-separable one, counted and timed on this device.
    Returns:
        plot: a plotly figure of the kernel, its best rank-1 approximation, the residual and the singular values
        text: Markdown with the weights of both forms, the energy kept, and the MAC and measured time ratios of depthwise-separable to full conv
    """
    k = separable_convs.kernel(kind, index)
    r = separable_convs.rank1(k)
    cost = separable_convs.depthwise_cost(cin, cout, conv_size, device=get_device())
    text = (f"**Separable kernel**: a {k.shape[0]}×{k.shape[1]} kernel has {r['weights_full']} weights; a column "
            f"filter then a row filter have {r['weights_sep']}. That is exactly a rank-1 kernel; the best rank-1 "
            f"approximation (SVD: s₁·u₁v₁ᵀ) keeps {100 * r['energy']:.1f} % of this kernel's energy — diagonals and "
            f"rings are what it cannot express.\n\n**Depthwise-separable 3×3**, {cin}→{cout} channels at "
            f"{conv_size}×{conv_size}: full conv {cost['full']['macs'] / 1e6:.1f} M MACs, separable "
            f"{cost['separable']['macs'] / 1e6:.1f} M: ratio {cost['ratio_counted']:.4f}, formula 1/N + 1/k² = "
            f"1/{cout} + 1/9 = {cost['ratio_formula']:.4f}. Measured time ratio on {device_label()}: "
            f"{cost['ratio_time']:.2f} ({cost['separable']['ms']:.2f} vs {cost['full']['ms']:.2f} ms) — fewer MACs, "
            "but depthwise convolutions use the hardware less efficiently.")
    return {"plot": separable_convs.figure_rank1(k, r, kind), "text": text}


# three seeds as one grouped network at batch 16, against one seed at batch 32 (the old view, 3.3 ms per layer and
# step) in the same sittings: 0.66x (6 x 50 steps; 3.1x at batch 32), so about 4 ms per layer and step
@takes(DEPTH, SKIP_STEPS, seconds=lambda depth, steps, **_: 1 + 0.003 * depth * steps)  # bench worst: 30 x 160 14.8 s, 30 x 150 13.8 s
def skip_connections(depth, steps, report=None):
    """Trains a plain and a residual network of the given depth side by side (three seeds each); yields a dict every few steps.
    Returns:
        plot: a plotly figure of each network's training loss and per-layer gradient norm
        text: Markdown summarising the losses and gradients so far, step counted
    """
    for step, losses, grads in skip_nets.train_stream(depth, steps, device=get_device(), every=max(10, steps // 20)):
        if report:
            report(step / steps, f"step {step}/{steps}")
        yield {"plot": skip_nets.figure(losses, grads, depth), "text": skip_nets.summary(step, steps, depth, losses, grads)}


@functools.lru_cache(maxsize=2)
def _compression(n: int):
    return pruning.sweep(kp.model_for("compression").name, n) + pruning.dynamic_int8_regression(n)


@takes(seconds=17)  # python -m bench worst on the idle machine, one torch thread, fresh process: 17.5 s
def compression(report=None) -> dict:
    """Pruning by several criteria and sparsities, and quantization (with dynamic int8 of the regression model), scored on held-out images over three seeds.
    Returns:
        plot: a plotly figure of keypoint error (px) against stored size (kB): a line per pruning criterion, the quantized models as points, spread over seeds as bars
        text: Markdown comparing the methods from the measured rows
        table: a table of model, method, setting, size (kB) and error (px, with its spread)
    """
    if report:
        report(0.1, f"pruning and quantizing ({about(compression)})")
    rows = _compression(200)
    return {"plot": pruning.figure(rows), "text": pruning.sweep_text(rows),
            "table": pd.DataFrame(rows)[COMPRESSION_COLUMNS].round(2)}



@takes(seconds=16)  # python -m bench worst on the idle machine, one torch thread, fresh process: 16.0 s
def pruning_fine_tuned(report=None) -> dict:
    """Channel pruning by several criteria, each followed by fine-tuning, measured over seeds.
    Returns:
        text: Markdown comparing the criteria, stating an order only where the gap exceeds the spread
        table: a table of criterion, share of channels removed, size ratio and error in px (mean and min-max)
    """
    res = pruning.criteria_fine_tuned(progress=report)
    sm = pruning.fine_tuned_summary(res)
    rows = []
    for crit, label in pruning.FT_CRITERIA.items():
        for lv, errs in sm["error"].items():
            e = errs[crit]
            rows.append({"criterion": label, "channels removed": f"{int(100 * lv)} %",
                         "× smaller": round(sm["ratio_at_level"][lv], 2), "error px (mean)": round(sum(e) / len(e), 2),
                         "error px (min–max)": f"{min(e):.2f}–{max(e):.2f}"})
    return {"text": pruning.fine_tuned_text(sm), "table": pd.DataFrame(rows)}


# nothing pruned, 8 bits (its costliest): 0.70x and 0.70x the old pipeline's time in two sittings (2.9 s alone)
@takes(DC_MODEL, DC_SPARSITY, DC_BITS, seconds=3.2)  # bench worst, two sittings: 2.6-3.4 s and 3.8-3.9 s
def deep_compression(dc_model, dc_sparsity, dc_bits, report=None) -> dict:
    """Deep Compression (pruning, k-means weight sharing with the given bits, Huffman coding) of one bundled model, stage by stage.
    Returns:
        plot: a plotly figure of the size (x smaller) and the mean keypoint error after each stage
        text: Markdown about the sizes reached and the error at each stage
        table: a table of stage, size (kB), compression ratio and error (px)
    """
    if report:
        report(0.1, f"pruning, k-means, Huffman ({about(deep_compression, dc_model, dc_sparsity, dc_bits)})")
    rows = pruning.deep_compression(dc_model, dc_sparsity, dc_bits)
    table = pd.DataFrame(rows)[DC_COLUMNS].round(2)
    return {"plot": pruning.deep_compression_figure(rows, dc_model),
            "text": pruning.deep_compression_text(rows, dc_bits), "table": table}


@takes()
def squeezenet() -> dict:
    """SqueezeNet's three strategies (1x1 filters, fewer input channels to 3x3 filters, late downsampling), counted.
    Returns:
        plot: a plotly figure of the weights per fire module under each strategy and the activation map side per layer
        text: Markdown with the counted numbers
    """
    s = squeeze.summary()
    return {"plot": squeeze.figure_strategies(s), "text": squeeze.text(s)}


def _mobilenet(times: dict | None) -> dict:
    results, lines = {}, []
    where = device_label(get_device())
    for name, build in mobilenet.NETS.items():
        t = times.get(name) if times else None
        sh = mobilenet.shares(mobilenet.counted(build), t)
        results[name] = {"shares": sh}
        lines.append(mobilenet.sentence(name, sh, t["total"] if t else None, where))
    if not times:
        lines.append(f"Press **Profile** to time every layer of both networks ({about(mobilenet_profile)}).")
    return {"plot": mobilenet.figure_shares(results), "text": "\n\n".join(lines)}


@takes()
def mobilenet_counts() -> dict:
    """Counts where MobileNet V1 and V2 spend their parameters and MACs, by layer kind (no timing).
    Returns:
        plot: a plotly figure of each network's share of multiply-adds, parameters (and time) by layer kind
        text: Markdown, one sentence per network (MobileNet V1 / V2) about its shares
    """
    return _mobilenet(None)


# 11.3 s at a load factor of 10 to 16 (one torch thread): about a second alone
@takes(seconds=0.7)  # bench worst: 0.6 s
def mobilenet_profile(report=None) -> dict:
    """Times every layer of MobileNet V1 and V2 on this device and shows where the time goes beside the counts.
    Returns:
        plot: a plotly figure of each network's share of multiply-adds, parameters (and time) by layer kind
        text: Markdown, one sentence per network (MobileNet V1 / V2) about its shares
    """
    times = {}
    for i, (name, build) in enumerate(mobilenet.NETS.items()):
        if report:
            report(i / len(mobilenet.NETS), f"timing every layer of {name}")
        times[name] = mobilenet.timed(build, device=get_device())
    return _mobilenet(times)
