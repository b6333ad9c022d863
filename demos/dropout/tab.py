"""Dropout and weight-decay tab (Gradio wiring only)."""

from __future__ import annotations

import gradio as gr

from demos.common.device import get_device
from demos.common.gpu import gpu
from demos.common.ui import HEAVY, friendly, number, show_on_load

from . import compute as C

TAB_ID = "dropout"
TITLE = "Dropout & weight decay"
SUMMARY = ("Dropout's mask and 1/(1−p) rescaling, train vs eval, over-fitting with p = 0, 0.2, 0.5, Monte-Carlo "
           "dropout, and why AdamW decouples weight decay.")
INTRO = """
**Dropout** zeroes each unit with probability p during training and scales the survivors by 1/(1 − p), so the
expected activation is unchanged; in eval mode it is the identity. **Weight decay** shrinks weights,
w ← (1 − τ) w; for plain SGD that is the same as an L2 penalty (λ/2)‖w‖², but with Adam the L2 gradient is
rescaled per weight — which is why **AdamW** applies the decay directly (decoupled).
"""


@friendly
def steps(p, seed, masks):
    p = C.check_p(p)
    seed = number(seed, "seed", 0, 10**6, integer=True)
    masks = number(masks, "masks", 1, 5000, integer=True)
    x = C.activations()
    st = C.step_through(x, p, seed)
    same = bool((st["out"] == st["torch"]).all())
    kept = float(st["mask"].float().mean())
    text = (f"Kept {100 * kept:.1f} % of units (expected {100 * (1 - p):.0f} %). Mean of the input "
            f"{float(x.mean()):.4f}, of this output {float(st['out'].mean()):.4f}. Hand-made output "
            f"{'**equals**' if same else '**differs from**'} `torch.nn.Dropout(p={p:g})` with the same seed; in eval "
            "mode the layer returns its input unchanged.")
    if p == 1.0:
        text += " **p = 1 drops everything: torch returns zeros** (it does not divide by 1 − p = 0)."
        return C.figure_steps(st, p), None, text
    err, theory = C.mask_average_error(x, p, masks, seed)
    return C.figure_steps(st, p), C.figure_average(err, theory, p), text


def resample(seed):
    return int(seed) + 1


@friendly
@gpu
def overfit(epochs, mc_samples, progress=gr.Progress()):
    epochs = number(epochs, "epochs", 10, 5000, integer=True)
    mc_samples = number(mc_samples, "Monte-Carlo samples", 2, 1000, integer=True)
    dev = get_device()
    for ep, hist, models in C.overfit_stream(epochs=epochs, device=dev, every=max(10, epochs // 30)):
        progress(ep / epochs, desc=f"epoch {ep}/{epochs}")
        best = {p: min(v for _, v in h[1]) for p, h in hist.items()}
        last = {p: h[1][-1][1] for p, h in hist.items()}
        text = "Validation MSE now (best): " + ", ".join(f"p = {p:g}: {last[p]:.3f} ({best[p]:.3f})" for p in hist)
        yield C.figure_overfit(hist), None, text + f" — epoch {ep} of {epochs}."
    x, mean, std = C.mc_dropout(models[0.2], mc_samples, dev)
    yield C.figure_overfit(hist), C.figure_mc(x, mean, std, 0.2), text + (
        f" — done. Monte-Carlo dropout: {mc_samples} passes of the p = 0.2 net with dropout left on.")


@friendly
def sgd_check(lr, wd):
    lr = number(lr, "learning rate", 1e-6, 10)
    wd = number(wd, "λ", 0, 10)
    r = C.sgd_step_check(lr, wd)
    names = {"weight_decay": "SGD(weight_decay=λ)", "l2_penalty": "loss + (λ/2)‖w‖²",
             "decoupled": "(1 − lr·λ)w − lr·∇L"}
    rows = "\n".join(f"| {names[k]} | " + ", ".join(f"{v:.5f}" for v in r[k].tolist()[:3]) + ", … |"
                     for k in names)
    d = float(max((r["weight_decay"] - r["decoupled"]).abs().max(), (r["l2_penalty"] - r["decoupled"]).abs().max()))
    return (f"One SGD step from w₀ = ({', '.join(f'{v:.3f}' for v in r['w0'].tolist())}), lr = {lr:g}, λ = {wd:g}:\n\n"
            "| update | w₁ |\n|---|---|\n" + rows + f"\n\nLargest difference: **{d:.1e}** — for plain SGD, "
            "weight decay, an L2 penalty and the decoupled shrink (1 − lr·λ)w are the same update.")


@friendly
@gpu
def wd_compare(wd, epochs, progress=gr.Progress()):
    wd = number(wd, "λ", 0, 10)
    epochs = number(epochs, "epochs", 10, 5000, integer=True)
    for ep, hist in C.adam_vs_adamw(wd, epochs, device=get_device(), every=max(10, epochs // 40)):
        progress(ep / epochs, desc=f"epoch {ep}/{epochs}")
        a, w = hist["Adam + L2"][-1], hist["AdamW"][-1]
        yield C.figure_wd(hist, wd), (f"Epoch {ep}: ‖W‖ Adam + L2 {a[1]:.2f} vs AdamW {w[1]:.2f}; validation MSE "
                                      f"{a[2]:.3f} vs {w[2]:.3f}. Adam divides ∇L + λw by √v: where the loss gradient is small the decay "
                                      "term dominates and moves the weight at Adam's full step size, where it is large the decay is "
                                      "drowned out. AdamW shrinks every weight by the same factor (1 − lr·λ), independent of v.")


def build():
    gr.Markdown(INTRO)
    gr.Markdown("### 1. One dropout pass")
    seed = gr.State(0)
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            p = gr.Slider(0, 1, 0.5, step=0.01, label="drop probability p", elem_id="do-p")
            masks = gr.Slider(10, 2000, 1000, step=10, label="masks to average")
            again = gr.Button("Resample mask", elem_id="do-resample")
            st_text = gr.Markdown(elem_id="do-text")
        with gr.Column(scale=3):
            st_plot = gr.Plot(label="Dropout steps", elem_id="do-steps")
            avg_plot = gr.Plot(label="Mask average", elem_id="do-average")
    gr.on([p.release, masks.release], steps, [p, seed, masks], [st_plot, avg_plot, st_text], api_name="dropout_steps")
    again.click(resample, seed, seed, api_visibility="private").then(steps, [p, seed, masks],
                                                                    [st_plot, avg_plot, st_text],
                                                                    api_visibility="private")

    gr.Markdown("### 2. Over-fitting, live: p = 0, 0.2, 0.5 (and Monte-Carlo dropout)")
    with gr.Row():
        epochs = gr.Slider(100, 3000, 1500, step=100, label="epochs (full batch, Adam)")
        mc = gr.Slider(10, 500, 100, step=10, label="Monte-Carlo samples")
        run = gr.Button("Train", variant="primary", elem_id="do-train")
        stop = gr.Button("Stop", variant="stop")
    of_text = gr.Markdown(elem_id="do-overfit-text")
    with gr.Row():
        of_plot = gr.Plot(label="Loss curves", elem_id="do-overfit")
        mc_plot = gr.Plot(label="Monte-Carlo dropout", elem_id="do-mc")
    ev = run.click(overfit, [epochs, mc], [of_plot, mc_plot, of_text], api_name="dropout_overfit", **HEAVY)
    stop.click(None, None, None, cancels=[ev])

    gr.Markdown("### 3. Weight decay: SGD vs Adam")
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            lr = gr.Slider(0.001, 1, 0.1, step=0.001, label="SGD learning rate")
            wd = gr.Slider(0, 1, 0.05, step=0.005, label="λ (weight decay)")
            sgd_text = gr.Markdown(elem_id="do-sgd")
        with gr.Column(scale=3):
            with gr.Row():
                wd_epochs = gr.Slider(100, 3000, 1500, step=100, label="epochs")
                wd_run = gr.Button("Train Adam + L2 vs AdamW", variant="primary", elem_id="do-wd-run")
            wd_text = gr.Markdown(elem_id="do-wd-text")
            wd_plot = gr.Plot(label="Adam vs AdamW", elem_id="do-wd")
    gr.on([lr.release, wd.release], sgd_check, [lr, wd], sgd_text, api_name="sgd_weight_decay_step")
    wd_run.click(wd_compare, [wd, wd_epochs], [wd_plot, wd_text], api_name="adam_vs_adamw", **HEAVY)

    show_on_load(steps, [0.5, 0, 1000], [st_plot, avg_plot, st_text])
    show_on_load(sgd_check, [0.1, 0.05], sgd_text)


