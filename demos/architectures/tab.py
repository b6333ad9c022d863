"""Architectures tab (Gradio wiring only; views and parameter records in views.py): model zoo, blocks,
separable convolutions, skip connections, compression."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from demos.common import ui
from demos.common.params import about
from demos.common.plotstyle import placeholder

from . import blocks as building_blocks
from . import views as V

TAB_ID = "architectures"
TITLE = "Architectures"
SUMMARY = ("The accuracy / parameters / operations / latency trade-off of a model zoo, the building blocks "
           "(ResNet with its projection shortcut, DenseNet, Inception v1 and v3's factorisations, MobileNet, "
           "SqueezeNet, ResNeXt, ShuffleNet V1 with its stride-2 unit, and V2) by formula vs built module, ResNeXt's "
           "equal-complexity template, where MobileNet's time goes, separable convolutions, skip connections trained "
           "live over seeds, SqueezeNet's three strategies, and pruning criteria (with a Taylor criterion and a short "
           "fine-tune), quantization and Deep Compression of a keypoint model.")


def build():
    gr.Markdown("### Model zoo: accuracy, operations, parameters, latency")
    zoo = {}
    with gr.Row():
        zoo["ops"] = gr.Plot(label="Accuracy vs operations", elem_id="arch-zoo-ops")
        zoo["latency"] = gr.Plot(label="Accuracy vs latency", elem_id="arch-zoo-latency")
    zoo["text"] = gr.Markdown(elem_id="arch-zoo-text")
    measure = gr.Button(f"Measure latency on this device ({about(V.zoo_latency)}, cached)", variant="primary",
                        elem_id="arch-zoo-measure")
    zoo["table"] = ui.table("Zoo (click a header to sort)", "arch-zoo-table")
    ui.long_run(measure, None, V.zoo_latency, [], zoo, api_name="zoo_latency")

    gr.Markdown("### Building blocks: formula vs built module")
    with gr.Row():
        b_in = [ui.widget(r) for r in (V.CHANNELS, V.SIZE, V.GROUPS, V.SHUFFLE_G)]
        b_time = gr.Button("Measure time for this setting (long-run slot, then kept)", elem_id="arch-blocks-measure")
    gr.Plot(value=building_blocks.figure_shuffle(), label="Channel shuffle", elem_id="arch-shuffle")
    blk = {"text": gr.Markdown(elem_id="arch-blocks-text"), "plot": gr.Plot(label="Blocks", elem_id="arch-blocks"),
           "table": ui.table("Blocks", "arch-blocks-table",  # fits 1280 px at type 3vh
                            column_widths=["22%", "12%", "12%", "14%", "14%", "14%", "12%"]),
           "formulas": gr.Markdown(elem_id="arch-blocks-formulas"), "groups": b_in[2], "g": b_in[3]}
    ui.on([c.release for c in b_in[:3]] + [b_in[3].change], V.blocks, b_in, blk, api_name="blocks")
    ui.long_run(b_time, None, V.blocks_latency, b_in, blk, api_name="blocks_latency")

    gr.Markdown("### ResNeXt's equal-complexity template: cardinality against width")
    rx = {"text": gr.Markdown(elem_id="arch-resnext-text"),
          "table": ui.table("ResNeXt template (Xie et al. 2017, Table 2), counted", "arch-resnext-table")}

    gr.Markdown("### MobileNet: where the operations, parameters and time go")
    mob = {"plot": gr.Plot(label="MobileNet by layer type", elem_id="arch-mobilenet"),
           "text": gr.Markdown(elem_id="arch-mobilenet-text")}
    mgo = gr.Button(f"Profile both networks layer by layer ({about(V.mobilenet_profile)})",
                    elem_id="arch-mobilenet-run")
    ui.long_run(mgo, None, V.mobilenet_profile, [], mob, api_name="mobilenet_profile")

    gr.Markdown("### SqueezeNet's three strategies, counted on the built network")
    sq = {"plot": gr.Plot(label="SqueezeNet's strategies", elem_id="arch-squeeze"),
          "text": gr.Markdown(elem_id="arch-squeeze-text")}

    gr.Markdown("### Separable and depthwise-separable convolutions")
    with gr.Row():
        s_in = [ui.widget(r) for r in (V.KERNEL, V.KERNEL_INDEX, V.CIN, V.COUT, V.CONV_SIZE)]
    sep = {"plot": gr.Plot(label="Rank-1 approximation", elem_id="arch-separable"),
           "text": gr.Markdown(elem_id="arch-separable-text")}
    ui.on([s_in[0].change] + [c.release for c in s_in[1:]], V.separable, s_in, sep, api_name="separable")

    gr.Markdown("### Skip connections, trained live over three seeds")
    with gr.Row():
        k_in = [ui.widget(V.DEPTH), ui.widget(V.SKIP_STEPS)]
        kgo, kstop = ui.run_stop("Train plain vs residual", "arch-skip-run")
    skip = ui.results("arch-skip", "Plain vs residual", f"Press <b>Train plain vs residual</b>: {V.DEPTH.default} conv "
                      f"layers, {V.SKIP_STEPS.default} Adam steps,<br>three seeds ({about(V.skip_connections)}).")
    ui.long_run(kgo, kstop, V.skip_connections, k_in, skip, api_name="skip_connections")

    gr.Markdown("### Smaller models: pruning criteria and quantization of a bundled keypoint model")
    cgo = gr.Button(f"Prune (three criteria) and quantize ({about(V.compression, where=False)})", variant="primary",
                    elem_id="arch-compress-run")
    comp = {"plot": gr.Plot(placeholder("Press <b>Prune and quantize</b>: model size against keypoint error for "
                                        "magnitude,<br>random and channel-L1 pruning, fp16 and int8 "
                                        f"({about(V.compression)})."), label="Size vs error",
                            elem_id="arch-compress"),
            "text": gr.Markdown(elem_id="arch-compress-text"),
            "table": ui.table("Size and error", "arch-compress-table", pd.DataFrame(columns=V.COMPRESSION_COLUMNS),
                              column_widths=["13%", "31%", "13%", "11%", "11%", "11%", "10%"])}
    ui.long_run(cgo, None, V.compression, [], comp, api_name="compression")

    gr.Markdown("### Pruning criteria with a short fine-tune: Taylor, L1, random, at equal accuracy")
    fgo = gr.Button(f"Prune channels and fine-tune, three seeds ({about(V.pruning_fine_tuned, where=False)})",
                    elem_id="arch-prune-ft-run")
    ft = {"text": gr.Markdown(elem_id="arch-prune-ft-text"),
          "table": ui.table("Channel pruning with fine-tuning", "arch-prune-ft-table",
                            column_widths=["26%", "18%", "16%", "18%", "22%"])}
    ui.long_run(fgo, None, V.pruning_fine_tuned, [], ft, api_name="pruning_fine_tuned")

    gr.Markdown("### Deep Compression: prune, share weights (k-means), Huffman-code")
    with gr.Row():
        d_in = [ui.widget(r) for r in (V.DC_MODEL, V.DC_SPARSITY, V.DC_BITS)]
        dgo = gr.Button(f"Compress ({about(V.deep_compression, where=False)})", variant="primary",
                        elem_id="arch-deepcomp-run")
    dc = {"plot": gr.Plot(placeholder("Press <b>Compress</b>: the model's size after pruning, weight sharing and "
                                      "Huffman coding,<br>and its keypoint error, beside the paper's 35× and 49×."),
                          label="Deep Compression", elem_id="arch-deepcomp"),
          "text": gr.Markdown(elem_id="arch-deepcomp-text"),
          "table": ui.table("Stages", "arch-deepcomp-table", pd.DataFrame(columns=V.DC_COLUMNS))}
    ui.long_run(dgo, None, V.deep_compression, d_in, dc, api_name="deep_compression")

    ui.first_view(V.zoo_static, zoo)
    ui.first_view(V.blocks, blk)
    ui.first_view(V.resnext_template, rx)
    ui.first_view(V.mobilenet_counts, mob)
    ui.first_view(V.separable, sep)
    ui.first_view(V.squeezenet, sq)
