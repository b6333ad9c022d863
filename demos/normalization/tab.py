"""Normalization tab (Gradio wiring only; views and parameter records in views.py): BatchNorm step by step,
train vs eval, the variants, live training."""

from __future__ import annotations

import gradio as gr

from demos.common import ui
from demos.common.params import about
from demos.common.plotstyle import placeholder

from . import views as V

TAB_ID = "normalization"
TITLE = "BatchNorm"
SUMMARY = ("BatchNorm step by step on a real mini-batch, running statistics at inference, and which slice of "
           "(N, C, H, W) LayerNorm, InstanceNorm and GroupNorm normalize; live training with and without it.")
INTRO = """
**Batch normalization** normalizes each channel with the mean and variance of the current mini-batch, then
applies a learned scale γ and offset β. At inference there is no batch: it uses running averages collected
during training. Its variants normalize other slices of the (N, C, H, W) tensor.
"""


def build():
    gr.Markdown(INTRO, elem_classes="kplab-intro")
    gr.Markdown("### 1. One BatchNorm layer, step by step")
    step = gr.State(0)
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            source = ui.widget(V.SOURCE)
            batch, channel, gamma, beta = (ui.widget(r) for r in (V.BATCH, V.CHANNEL, V.GAMMA, V.BETA))
            show_all = ui.widget(V.SHOW_ALL)
            nxt = gr.Button("Next step ▶", elem_id="bn-next")
        with gr.Column(scale=3):
            bn = {"plot": gr.Plot(label="BatchNorm steps", elem_id="bn-steps"),
                  "text": gr.Markdown(elem_id="bn-text", latex_delimiters=[{"left": "$", "right": "$",
                                                                             "display": False}])}
    ins = [source, batch, channel, gamma, beta, step, show_all]
    # show_all.input (not .change): "Next step" unticks it programmatically and then redraws once itself
    ui.on([source.change, batch.release, channel.release, gamma.release, beta.release, show_all.input], V.bn_steps,
          ins, bn, api_name="batchnorm_steps", trigger_mode="always_last")
    nxt.click(lambda s: (int(s) + 1) % 4, step, step, api_visibility="private").then(
        lambda: False, None, show_all, api_visibility="private").then(
        ui.handler(V.bn_steps, list(bn)), ins, list(bn.values()), api_visibility="private")

    gr.Markdown("### 2. Train vs eval: running statistics")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            te_in = [source] + [ui.widget(r) for r in (V.TRAIN_BATCH, V.TRAIN_STEPS, V.MOMENTUM, V.SHIFT)] + [channel]
            run_te = gr.Button("Run", variant="primary", elem_id="bn-te-run")
        with gr.Column(scale=3):
            te = {"text": gr.Markdown(elem_id="bn-te-text")}
            with gr.Row():
                te["running"] = gr.Plot(label="Running statistics", elem_id="bn-running")
                te["eval"] = gr.Plot(label="Inference", elem_id="bn-eval")
    ui.on([run_te.click], V.train_vs_eval, te_in, te, api_name="train_vs_eval")

    gr.Markdown("### 3. BatchNorm, LayerNorm, InstanceNorm, GroupNorm: who shares statistics")
    with gr.Row():
        v_in = [ui.widget(r) for r in (V.SAMPLE_N, V.CHANNEL_C, V.GROUPS)]
    var = {"cubes": gr.Plot(label="Cubes", elem_id="norm-cubes"),
           "checks": ui.table("Each definition checked against torch (a 4×8×3×3 tensor)", "norm-checks")}
    ui.on([v_in[0].release, v_in[1].release, v_in[2].change], V.norm_variants, v_in, var, api_name="norm_variants")

    gr.Markdown("### 4. Live training at a high learning rate, and batch size")
    with gr.Row():
        live_in = [ui.widget(V.LR), ui.widget(V.LIVE_STEPS)]
        go_btn, stop = ui.run_stop("Train BatchNorm / GroupNorm / none", "norm-train")
    live = ui.results("norm-live", "Loss curves", "Press <b>Train</b>: the same CNN with BatchNorm, GroupNorm and "
                      f"none,<br>{V.LIVE_STEPS.default} SGD steps each from {len(V.T.SEEDS)} seeds at lr "
                      f"{V.LR.default:g} ({about(V.norm_live_training)}).")
    ui.long_run(go_btn, stop, V.norm_live_training, live_in, live, api_name="norm_live_training")
    with gr.Row():
        bs_btn = gr.Button(f"Run the batch-size experiment ({about(V.norm_batch_size, where=False)})", elem_id="norm-bs")
        bs_stop = gr.Button("Stop", variant="stop")
    bs = {"text": gr.Markdown(elem_id="norm-bs-text"), "plot": gr.Plot(placeholder(
        "Press <b>Run the batch-size experiment</b>: BatchNorm vs GroupNorm at<br>batch "
        f"{min(V.T.BATCH_SIZES)} to {max(V.T.BATCH_SIZES)}, {V.T.BS_STEPS} Adam steps each, {len(V.T.SEEDS)} seeds "
        f"({about(V.norm_batch_size)})."),
                                          label="Batch size", elem_id="norm-bs-plot")}
    ui.long_run(bs_btn, bs_stop, V.norm_batch_size, [], bs, api_name="norm_batch_size")

    ui.first_view(V.bn_steps, bn)
    ui.first_view(V.train_vs_eval, te)
    ui.first_view(V.norm_variants, var)
