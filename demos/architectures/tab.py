"""Architectures tab (Gradio wiring only; views and parameter records in views.py): model zoo, blocks,
separable convolutions, skip connections, compression."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from demos.common import ui
from demos.common.plotstyle import placeholder

from . import blocks as B
from . import views as V

TAB_ID = "architectures"
TITLE = "Architectures"
SUMMARY = ("The accuracy / parameters / operations / latency trade-off of a model zoo, the building blocks "
           "(ResNet with its projection shortcut, DenseNet, Inception v1 and v3's factorisations, MobileNet, "
           "SqueezeNet, ResNeXt, ShuffleNet V1 and V2) by formula vs built module, separable convolutions, skip "
           "connections trained live, SqueezeNet's three strategies, and pruning criteria, quantization and Deep Compression of a "
           "keypoint model.")


def build():
    gr.Markdown("### Model zoo: accuracy, operations, parameters, latency")
    zoo = {}
    with gr.Row():
        zoo["ops"] = gr.Plot(label="Accuracy vs operations", elem_id="arch-zoo-ops")
        zoo["latency"] = gr.Plot(label="Accuracy vs latency", elem_id="arch-zoo-latency")
    zoo["text"] = gr.Markdown(elem_id="arch-zoo-text")
    measure = gr.Button("Measure latency on this device (about a minute on a 2-core CPU, cached)", variant="primary",
                        elem_id="arch-zoo-measure")
    zoo["table"] = gr.Dataframe(label="Zoo (click a header to sort)", elem_id="arch-zoo-table", max_height=420)
    ui.long_run(measure, None, V.zoo_latency, [], zoo, api_name="zoo_latency")

    gr.Markdown("### Building blocks: formula vs built module")
    with gr.Row():
        b_in = [ui.widget(r) for r in (V.CHANNELS, V.SIZE, V.GROUPS)]
    gr.Plot(value=B.figure_shuffle(), label="Channel shuffle", elem_id="arch-shuffle")
    blk = {"text": gr.Markdown(elem_id="arch-blocks-text"), "plot": gr.Plot(label="Blocks", elem_id="arch-blocks"),
           "table": gr.Dataframe(label="Blocks", elem_id="arch-blocks-table", wrap=True), "groups": b_in[2]}
    ui.on([c.release for c in b_in], V.blocks, b_in, blk, api_name="blocks")

    gr.Markdown("### SqueezeNet's three strategies, counted on the built network")
    sq = {"plot": gr.Plot(label="SqueezeNet's strategies", elem_id="arch-squeeze"),
          "text": gr.Markdown(elem_id="arch-squeeze-text")}

    gr.Markdown("### Separable and depthwise-separable convolutions")
    with gr.Row():
        s_in = [ui.widget(r) for r in (V.KERNEL, V.KERNEL_INDEX, V.CIN, V.COUT, V.CONV_SIZE)]
    sep = {"plot": gr.Plot(label="Rank-1 approximation", elem_id="arch-separable"),
           "text": gr.Markdown(elem_id="arch-separable-text")}
    ui.on([s_in[0].change] + [c.release for c in s_in[1:]], V.separable, s_in, sep, api_name="separable")

    gr.Markdown("### Skip connections, trained live")
    with gr.Row():
        k_in = [ui.widget(V.DEPTH), ui.widget(V.SKIP_STEPS)]
        kgo, kstop = ui.run_stop("Train plain vs residual", "arch-skip-run")
    skip = ui.results("arch-skip", "Plain vs residual", "Press <b>Train plain vs residual</b>: 30 conv layers, "
                      "200 Adam steps each<br>(about 20 s on a 2-core CPU).")
    ui.long_run(kgo, kstop, V.skip_connections, k_in, skip, api_name="skip_connections")

    gr.Markdown("### Smaller models: pruning criteria and quantization of a bundled keypoint model")
    cgo = gr.Button("Prune (three criteria) and quantize (about 15 s)", variant="primary", elem_id="arch-compress-run")
    comp = {"plot": gr.Plot(placeholder("Press <b>Prune and quantize</b>: model size against keypoint error for "
                                        "magnitude,<br>random and channel-L1 pruning, fp16 and int8 (about 15 s on a "
                                        "2-core CPU)."), label="Size vs error", elem_id="arch-compress"),
            "table": gr.Dataframe(pd.DataFrame(columns=V.COMPRESSION_COLUMNS), label="Size and error",
                                  elem_id="arch-compress-table")}
    ui.long_run(cgo, None, V.compression, [], comp, api_name="compression")

    gr.Markdown("### Deep Compression: prune, share weights (k-means), Huffman-code")
    with gr.Row():
        d_in = [ui.widget(r) for r in (V.DC_MODEL, V.DC_SPARSITY, V.DC_BITS)]
        dgo = gr.Button("Compress (a few seconds)", variant="primary", elem_id="arch-deepcomp-run")
    dc = {"plot": gr.Plot(placeholder("Press <b>Compress</b>: the model's size after pruning, weight sharing and "
                                      "Huffman coding,<br>and its keypoint error, beside the paper's 35× and 49×."),
                          label="Deep Compression", elem_id="arch-deepcomp"),
          "text": gr.Markdown(elem_id="arch-deepcomp-text"),
          "table": gr.Dataframe(pd.DataFrame(columns=V.DC_COLUMNS), label="Stages", elem_id="arch-deepcomp-table")}
    ui.long_run(dgo, None, V.deep_compression, d_in, dc, api_name="deep_compression")

    ui.first_view(V.zoo_static, zoo)
    ui.first_view(V.blocks, blk)
    ui.first_view(V.separable, sep)
    ui.first_view(V.squeezenet, sq)
