"""Dropout and weight-decay tab (Gradio wiring only; views and parameter records in views.py)."""

from __future__ import annotations

import gradio as gr

from demos.common import ui
from demos.common.params import about
from demos.common.plotstyle import placeholder

from . import views as V

TAB_ID = "dropout"
TITLE = "Dropout & decay"
SUMMARY = ("Dropout's mask and 1/(1−p) rescaling, train vs eval, over-fitting with p = 0, 0.2, 0.5, Monte-Carlo "
           "dropout, and why AdamW decouples weight decay.")
INTRO = """
**Dropout** zeroes each unit with probability p during training and scales the survivors by 1/(1 − p), so the
expected activation is unchanged; in eval mode it is the identity. **Weight decay** shrinks weights,
w ← (1 − τ) w; for plain SGD that is the same as an L2 penalty (λ/2)‖w‖², but with Adam the L2 gradient is
rescaled per weight — which is why **AdamW** applies the decay directly (decoupled).
"""


def build():
    gr.Markdown(INTRO, elem_classes="kplab-intro")
    gr.Markdown("### 1. One dropout pass")
    seed = gr.State(0)
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            p = ui.widget(V.P, elem_id="do-p")
            masks = ui.widget(V.MASKS)
            again = gr.Button("Resample mask", elem_id="do-resample")
            st_text = gr.Markdown(elem_id="do-text")
        with gr.Column(scale=3):
            st = {"steps": gr.Plot(label="Dropout steps", elem_id="do-steps"),
                  "average": gr.Plot(label="Mask average", elem_id="do-average"), "text": st_text}
    ui.on([p.release, masks.release], V.dropout_steps, [p, seed, masks], st, api_name="dropout_steps")
    again.click(lambda s: int(s) + 1, seed, seed, api_visibility="private").then(
        ui.handler(V.dropout_steps, list(st)), [p, seed, masks], list(st.values()), api_visibility="private")

    gr.Markdown("### 2. Over-fitting, live: p = 0, 0.2, 0.5 (and Monte-Carlo dropout)")
    with gr.Row():
        of_in = [ui.widget(V.EPOCHS), ui.widget(V.MC)]
        run, stop = ui.run_stop("Train", "do-train")
    of = {"text": gr.Markdown(elem_id="do-overfit-text")}
    with gr.Row():
        of["curves"] = gr.Plot(placeholder("Press <b>Train</b>: p = 0, 0.2 and 0.5 on 24 noisy points, each from "
                                           f"{len(V.C.SEEDS)} seeds,<br>{V.EPOCHS.default} epochs "
                                           f"({about(V.dropout_overfit)})."), label="Loss curves",
                               elem_id="do-overfit")
        of["mc"] = gr.Plot(placeholder("After training: Monte-Carlo dropout, the p = 0.2 net<br>run many times with dropout on."),
                           label="Monte-Carlo dropout", elem_id="do-mc")
    ui.long_run(run, stop, V.dropout_overfit, of_in, of, api_name="dropout_overfit")

    gr.Markdown("### 3. Weight decay: SGD vs Adam")
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            lr, wd = ui.widget(V.LR), ui.widget(V.WD)
            sgd = {"text": gr.Markdown(elem_id="do-sgd")}
        with gr.Column(scale=3):
            with gr.Row():
                wd_epochs = ui.widget(V.WD_EPOCHS)
                wd_run = gr.Button("Train Adam + L2 vs AdamW", variant="primary", elem_id="do-wd-run")
            wdc = {"text": gr.Markdown(elem_id="do-wd-text"), "plot": gr.Plot(placeholder(
                "Press <b>Train Adam + L2 vs AdamW</b>: weight norms and validation loss from "
                f"{len(V.C.SEEDS)} seeds,<br>{V.WD_EPOCHS.default} epochs, then a search for the λ at which Adam + L2 "
                f"decays like AdamW ({about(V.adam_vs_adamw)})."),
                                                    label="Adam vs AdamW", elem_id="do-wd"),
                   "decay": gr.Plot(placeholder("After the run: each weight's decay per step under Adam + L2<br>against "
                                                "its gradient scale, beside AdamW's lr·λ.", height=470),
                                    label="Decay per step", elem_id="do-wd-decay")}
    ui.on([lr.release, wd.release], V.sgd_weight_decay_step, [lr, wd], sgd, api_name="sgd_weight_decay_step")
    ui.long_run(wd_run, None, V.adam_vs_adamw, [wd, wd_epochs], wdc, api_name="adam_vs_adamw")

    ui.first_view(V.dropout_steps, st)
    ui.first_view(V.sgd_weight_decay_step, sgd)
