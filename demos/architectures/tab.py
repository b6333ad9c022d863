"""Architectures tab (Gradio wiring only): model zoo, blocks, separable convolutions, skip connections,
compression."""

from __future__ import annotations

import functools

import gradio as gr
import pandas as pd

from demos.common.device import device_label, get_device
from demos.common.gpu import gpu
from demos.common.ui import HEAVY, friendly, number, show_on_load

from . import blocks as B
from . import compression as Q
from . import separable as S
from . import skip as K
from . import zoo as Z

TAB_ID = "architectures"
TITLE = "Architectures"
SUMMARY = ("The accuracy / parameters / operations / latency trade-off of a model zoo, the building blocks "
           "(ResNet, Inception, MobileNet, SqueezeNet, ResNeXt, ShuffleNet), separable convolutions, skip "
           "connections trained live, and pruning and quantization of a keypoint model.")


@functools.lru_cache(maxsize=1)
def _zoo_table():
    return Z.table()


def _with_latency(entries, lat):
    for e in entries:
        e.latency_ms = lat.get(e.name)
    return entries


@friendly
def zoo_static():
    dev = get_device()
    entries = _with_latency(_zoo_table(), Z.load_latency(dev))
    have = all(e.latency_ms is not None for e in entries)
    text = ("Parameters and operations are counted on the built torchvision modules (no weights downloaded); "
            "accuracy, multiply-adds and file size come from torchvision's weight metadata. FlopCounterMode counts "
            "a multiply-add as 2 FLOPs, so its column is exactly 2× the metadata's GMACs. (Inception-v3's metadata "
            "parameter count includes its auxiliary classifier, 3.3 M, which inference does not use.)")
    if have:
        text += "\n\n" + Z.latency_sentence(entries, device_label(dev)) + " (latencies cached for this device)"
    else:
        text += "\n\nPress **Measure latency** to time every model at batch 1 on this device."
    return (Z.bubble(entries, "ops"), Z.bubble(entries, "latency") if have else None,
            pd.DataFrame(Z.rows(entries)), text)


@friendly
@gpu
def zoo_measure(progress=gr.Progress()):
    dev = get_device()
    entries = _zoo_table()
    lat = Z.load_latency(dev)
    for i, e in enumerate(entries):
        progress(i / len(entries), desc=f"timing {e.label} on {dev.type}")
        if e.name not in lat:
            lat[e.name] = Z.measure_latency(e.name, e.input_size, dev)
    Z.save_latency(dev, lat)
    return zoo_static()


@friendly
@gpu
def blocks(c, size, groups):
    c = number(c, "channels", 4, B.MAX_CHANNELS, integer=True)
    size = number(size, "input size", 1, B.MAX_SIZE, integer=True)
    groups = number(groups, "cardinality", 1, 64, integer=True)
    rows = B.all_blocks(c, size, groups, get_device())
    df = pd.DataFrame(rows)
    ok = all(r["params (formula)"] == r["params (module)"] and r["MACs (formula)"] == r["MACs (FlopCounterMode / 2)"]
             for r in rows)
    text = (f"C = {c} channels on a {size}×{size} input. Formulas {'**equal**' if ok else '**differ from**'} the "
            "counts on the built modules for every block. Time: median of 5 runs at batch 1 on "
            f"{device_label()}.")
    return B.figure_blocks(rows), df, text


@friendly
def separable(kind, index, cin, cout, size):
    index = number(index, "kernel index", 0, 1000, integer=True)
    k = S.kernel(kind, index)
    r = S.rank1(k)
    cin = number(cin, "input channels", 1, 1024, integer=True)
    cout = number(cout, "output channels", 1, 1024, integer=True)
    size = number(size, "size", 1, 224, integer=True)
    cost = S.depthwise_cost(cin, cout, size, device=get_device())
    text = (f"**Separable kernel**: a {k.shape[0]}×{k.shape[1]} kernel has {r['weights_full']} weights; a column "
            f"filter then a row filter have {r['weights_sep']}. That is exactly a rank-1 kernel; the best rank-1 "
            f"approximation (SVD: s₁·u₁v₁ᵀ) keeps {100 * r['energy']:.1f} % of this kernel's energy — diagonals and "
            f"rings are what it cannot express.\n\n**Depthwise-separable 3×3**, {cin}→{cout} channels at "
            f"{size}×{size}: full conv {cost['full']['macs'] / 1e6:.1f} M MACs, separable "
            f"{cost['separable']['macs'] / 1e6:.1f} M: ratio {cost['ratio_counted']:.4f}, formula 1/N + 1/k² = "
            f"1/{cout} + 1/9 = {cost['ratio_formula']:.4f}. Measured time ratio on {device_label()}: "
            f"{cost['ratio_time']:.2f} ({cost['separable']['ms']:.2f} vs {cost['full']['ms']:.2f} ms) — fewer MACs, "
            "but depthwise convolutions use the hardware less efficiently.")
    return S.figure_rank1(k, r, kind), text


@friendly
@gpu
def skip_train(depth, steps, progress=gr.Progress()):
    depth = number(depth, "depth", 2, 100, integer=True)
    steps = number(steps, "steps", 10, 2000, integer=True)
    for step, losses, grads in K.train_stream(depth, steps, device=get_device(), every=max(10, steps // 20)):
        progress(step / steps, desc=f"step {step}/{steps}")
        p, r = losses["plain"][-20:], losses["residual"][-20:]
        text = (f"Step {step} of {steps}: loss plain {sum(p) / len(p):.3f}, residual {sum(r) / len(r):.3f}; "
                f"gradient norm at layer 1 vs layer {depth}: plain {grads['plain'][0]:.2e} vs {grads['plain'][-1]:.2e}, "
                f"residual {grads['residual'][0]:.2e} vs {grads['residual'][-1]:.2e}.")
        yield K.figure(losses, grads, depth), text


@functools.lru_cache(maxsize=2)
def _compression(n: int):
    return Q.sweep("heatmap-s4", n) + Q.dynamic_int8_regression(n)


@friendly
def compress(progress=gr.Progress()):
    progress(0.1, desc="pruning and quantizing (about 10 s)")
    rows = _compression(200)
    df = pd.DataFrame(rows)[["model", "method", "setting", "size_kb", "error_px"]].round(2)
    return Q.figure(rows), df


def build():
    gr.Markdown("### Model zoo: accuracy, operations, parameters, latency")
    zoo_text = gr.Markdown(elem_id="arch-zoo-text")
    with gr.Row():
        zoo_ops = gr.Plot(label="Accuracy vs operations", elem_id="arch-zoo-ops")
        zoo_lat = gr.Plot(label="Accuracy vs latency", elem_id="arch-zoo-latency")
    measure = gr.Button("Measure latency on this device (about a minute on a 2-core CPU, cached)", variant="primary",
                        elem_id="arch-zoo-measure")
    zoo_df = gr.Dataframe(label="Zoo (click a header to sort)", elem_id="arch-zoo-table", max_height=420)
    measure.click(zoo_measure, None, [zoo_ops, zoo_lat, zoo_df, zoo_text], api_name="zoo_latency", **HEAVY)

    gr.Markdown("### Building blocks: formula vs built module")
    with gr.Row():
        bc = gr.Slider(8, 512, 64, step=8, label="channels C")
        bs = gr.Slider(4, 112, 28, step=1, label="input size (px)")
        bg = gr.Slider(1, 64, 32, step=1, label="ResNeXt cardinality (groups)")
    gr.Plot(value=B.figure_shuffle(), label="Channel shuffle", elem_id="arch-shuffle")
    blocks_text = gr.Markdown(elem_id="arch-blocks-text")
    blocks_plot = gr.Plot(label="Blocks", elem_id="arch-blocks")
    blocks_df = gr.Dataframe(label="Blocks", elem_id="arch-blocks-table", wrap=True)
    gr.on([bc.release, bs.release, bg.release], blocks, [bc, bs, bg], [blocks_plot, blocks_df, blocks_text],
          api_name="blocks")

    gr.Markdown("### Separable and depthwise-separable convolutions")
    with gr.Row():
        kind = gr.Dropdown(list(S.KERNELS), value=S.KERNELS[3], label="kernel")
        kidx = gr.Slider(0, 23, 0, step=1, label="channel / seed (random and first-layer kernels)")
        cin = gr.Slider(8, 512, 64, step=8, label="input channels")
        cout = gr.Slider(8, 512, 128, step=8, label="output channels N")
        csz = gr.Slider(7, 112, 56, step=7, label="size (px)")
    sep_plot = gr.Plot(label="Rank-1 approximation", elem_id="arch-separable")
    sep_text = gr.Markdown(elem_id="arch-separable-text")
    s_in = [kind, kidx, cin, cout, csz]
    gr.on([kind.change, kidx.release, cin.release, cout.release, csz.release], separable, s_in, [sep_plot, sep_text],
          api_name="separable")

    gr.Markdown("### Skip connections, trained live")
    with gr.Row():
        depth = gr.Slider(4, 60, 30, step=1, label="depth (conv layers)")
        ksteps = gr.Slider(50, 1000, 300, step=10, label="steps")
        kgo = gr.Button("Train plain vs residual", variant="primary", elem_id="arch-skip-run")
        kstop = gr.Button("Stop", variant="stop")
    skip_text = gr.Markdown(elem_id="arch-skip-text")
    skip_plot = gr.Plot(label="Plain vs residual", elem_id="arch-skip")
    ev = kgo.click(skip_train, [depth, ksteps], [skip_plot, skip_text], api_name="skip_connections", **HEAVY)
    kstop.click(None, None, None, cancels=[ev])

    gr.Markdown("### Smaller models: pruning and quantization of a bundled keypoint model")
    cgo = gr.Button("Prune and quantize (about 10 s)", variant="primary", elem_id="arch-compress-run")
    comp_plot = gr.Plot(label="Size vs error", elem_id="arch-compress")
    comp_df = gr.Dataframe(label="Size and error", elem_id="arch-compress-table")
    cgo.click(compress, None, [comp_plot, comp_df], api_name="compression", **HEAVY)

    show_on_load(zoo_static, [], [zoo_ops, zoo_lat, zoo_df, zoo_text])
    show_on_load(blocks, [64, 28, 32], [blocks_plot, blocks_df, blocks_text])
    show_on_load(separable, [S.KERNELS[3], 0, 64, 128, 56], [sep_plot, sep_text])
