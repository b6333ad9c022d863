"""The dropout and weight-decay tab's views: parameter records and the functions the tab wires (no Gradio)."""

from __future__ import annotations

import numpy as np

from demos.common.device import get_device
from demos.common.params import Opaque, Param, takes

from . import compute as C

P = C.DROP_P
SEED = Opaque("seed", 0)
MASKS = Param("masks", "masks to average", 10, 2000, 1000, 10, integer=True)
# bounds from `python -m bench worst` (3000 epochs: 38 s for the three nets, 44 s for Adam vs AdamW)
EPOCHS = Param("epochs", "epochs (full batch, Adam)", 100, 2000, 1500, 100, integer=True,
               help="2000 epochs take about 25 s on a 2-core CPU")
MC = Param("mc_samples", "Monte-Carlo samples", 10, 500, 100, 10, integer=True)
LR = Param("lr", "SGD learning rate", 0.001, 1, 0.1, 0.001)
WD = Param("wd", "λ (weight decay)", 0, 1, 0.05, 0.005)
WD_EPOCHS = Param("wd_epochs", "epochs", 100, 1500, 1000, 100, integer=True,
                  help="1500 epochs take about 22 s on a 2-core CPU")


@takes(P, SEED, MASKS)
def dropout_steps(p, seed, masks) -> dict:
    seed = int(seed or 0)
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
        return {"steps": C.figure_steps(st, p), "average": None, "text": text}
    err, theory = C.mask_average_error(x, p, masks, seed)
    return {"steps": C.figure_steps(st, p), "average": C.figure_average(err, theory, p), "text": text}


@takes(EPOCHS, MC, seconds=lambda epochs, **_: 1 + 22 * epochs / 1500)
def dropout_overfit(epochs, mc_samples, report=None):
    dev = get_device()
    for ep, hist, models in C.overfit_stream(epochs=epochs, device=dev, every=max(10, epochs // 30)):
        if report:
            report(ep / epochs, f"epoch {ep}/{epochs}")
        best = {p: min(v for _, v in h[1]) for p, h in hist.items()}
        last = {p: h[1][-1][1] for p, h in hist.items()}
        text = "Validation MSE now (best): " + ", ".join(f"p = {p:g}: {last[p]:.3f} ({best[p]:.3f})" for p in hist)
        yield {"curves": C.figure_overfit(hist), "text": text + f" — epoch {ep} of {epochs}."}
    x, mean, std = C.mc_dropout(models[0.2], mc_samples, dev)
    yield {"curves": C.figure_overfit(hist), "mc": C.figure_mc(x, mean, std, 0.2),
           "text": text + f" — done. Monte-Carlo dropout: {mc_samples} passes of the p = 0.2 net with dropout on."}


@takes(LR, WD)
def sgd_weight_decay_step(lr, wd) -> dict:
    r = C.sgd_step_check(lr, wd)
    names = {"weight_decay": "SGD(weight_decay=λ)", "l2_penalty": "loss + (λ/2)‖w‖²",
             "decoupled": "(1 − lr·λ)w − lr·∇L"}
    rows = "\n".join(f"| {names[k]} | " + ", ".join(f"{v:.5f}" for v in r[k].tolist()[:3]) + ", … |"
                     for k in names)
    d = float(max((r["weight_decay"] - r["decoupled"]).abs().max(), (r["l2_penalty"] - r["decoupled"]).abs().max()))
    return {"text": f"One SGD step from w₀ = ({', '.join(f'{v:.3f}' for v in r['w0'].tolist())}), lr = {lr:g}, "
                    f"λ = {wd:g}:\n\n| update | w₁ |\n|---|---|\n" + rows + f"\n\nLargest difference: **{d:.1e}** — for "
                    "plain SGD, weight decay, an L2 penalty and the decoupled shrink (1 − lr·λ)w are the same update."}


@takes(WD, WD_EPOCHS, seconds=lambda wd_epochs, **_: 1 + 25 * wd_epochs / 2000)
def adam_vs_adamw(wd, wd_epochs, report=None):
    for ep, hist in C.adam_vs_adamw(wd, wd_epochs, device=get_device(), every=max(10, wd_epochs // 40)):
        if report:
            report(ep / wd_epochs, f"epoch {ep}/{wd_epochs}")
        a, w = hist["Adam + L2"][-1], hist["AdamW"][-1]
        d = hist["decay"]
        rel = d["adam_l2"]
        q = np.quantile(rel, [0.1, 0.5, 0.9]) if len(rel) else np.zeros(3)
        rms = d["rms_grad"]
        big, small = (rel[rms >= np.quantile(rms, 0.9)], rel[rms <= np.quantile(rms, 0.1)]) if len(rms) else (rel, rel)
        if wd == 0:
            yield {"plot": C.figure_wd(hist, wd), "decay": C.figure_decay(d),
                   "text": (f"Epoch {ep}: with λ = 0 neither optimizer decays the weights (‖W‖ Adam {a[1]:.2f}, "
                            f"AdamW {w[1]:.2f}): the two runs are the same Adam. Set λ > 0 to compare them.")}
            continue
        yield {"plot": C.figure_wd(hist, wd), "decay": C.figure_decay(d),
               "text": (f"Epoch {ep}: ‖W‖ Adam + L2 {a[1]:.2f} vs AdamW {w[1]:.2f}; validation MSE {a[2]:.3f} vs "
                        f"{w[2]:.3f}. **Per step, with the same λ = {wd:g} and lr = {d['lr']:g}:** AdamW "
                        f"(Loshchilov & Hutter 2019) shrinks every weight by lr·λ = **{d['adamw']:.2g}**; Adam + L2 "
                        "adds λw to the gradient, which Adam then divides by √v̂, so its decay per step is "
                        f"lr·λ/(√v̂ + ε): **{q[0]:.2g} / {q[1]:.2g} / {q[2]:.2g}** (10th / 50th / 90th percentile "
                        f"over the weights). The 10 % of weights with the largest gradients are decayed "
                        f"**{np.median(big):.2g}** per step, the 10 % with the smallest **{np.median(small):.2g}**: "
                        "weights with a large gradient history are regularised less. (A value near or above 1 is a weight "
                        "whose gradient is mostly the L2 term itself: Adam's normalised step, about lr, then drives it "
                        "to zero.) To match AdamW's decay for the "
                        f"median weight, Adam + L2 would need λ × {d['adamw'] / q[1]:.2g} (and it would still "
                        "decay the other weights unevenly).")}
