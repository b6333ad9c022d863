"""The dropout and weight-decay tab's views: parameter records and the functions the tab wires (no Gradio)."""

from __future__ import annotations

import functools
import math

import numpy as np

from demos.common.device import get_device
from demos.common import tasks
from demos.common.params import Opaque, Param, takes

from . import compute as C

P = C.DROP_P
SEED = Opaque("seed", 0)
MASKS = Param("masks", "masks to average", 10, 2000, 1000, 10, integer=True)
# Both long runs train every net from three seeds (C.SEEDS); their bounds keep the worst setting under 30 s.
EPOCHS = Param("epochs", "epochs (full batch, Adam)", 100, 600, 500, 50, integer=True)
MC = Param("mc_samples", "Monte-Carlo samples", 10, 500, 100, 10, integer=True)
LR = Param("lr", "SGD learning rate", 0.001, 1, 0.1, 0.001)
WD = Param("wd", "λ (weight decay)", 0, 1, 0.05, 0.005)
WD_EPOCHS = Param("wd_epochs", "epochs", 100, 400, 300, 50, integer=True)
# measured per-net-epoch costs on the 2-core CPU (see the commit that set them)
OVERFIT_S_PER_EPOCH = 0.022  # bench worst, idle, one torch thread: 500 epochs 11.8 s, 600 14.5 s  # nine nets: p = 0, 0.2, 0.5 from three seeds, with their validation passes
WD_S_PER_EPOCH = 0.0022  # bench worst, idle: 300 epochs 6.6 s, 400 epochs with lambda 1: 8.7 s  # one net; the comparison trains 2 x 3, the search up to C.MATCH_RUNS more


@takes(P, SEED, MASKS)
def dropout_steps(p, seed, masks) -> dict:
    """Inverted dropout with drop probability p, step by step on one activation vector (mask, zeroing, rescaling), against torch.nn.Dropout with the same seed.
    Returns:
        steps: a plotly figure of input, keep mask, zeroed, rescaled output and the eval-mode identity
        average: a plotly figure of the error of the average over M masks against M and the theory sqrt(p/(1-p))/sqrt(M) (None at p = 1)
        text: Markdown with the share kept, the means, and whether the hand-made output equals torch's
    """
    try:
        seed = int(seed or 0)
    except (TypeError, ValueError):
        seed = 0
    return _dropout_steps(p, seed, masks)


@functools.lru_cache(maxsize=128)  # pure: the same p, seed and masks give the same figures and numbers
def _dropout_steps(p, seed, masks) -> dict:
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


def overfit_text(hist: dict, epoch: int, epochs: int) -> str:
    """The over-fitting sentence: per p the final and the best validation MSE over the seeds, and orders between
    the p's only where the gap exceeds the spread over seeds."""
    last = {p: [runs[s][1][-1][1] for s in runs] for p, runs in hist.items()}
    best = {p: [min(v for _, v in runs[s][1]) for s in runs] for p, runs in hist.items()}
    ps = list(hist)
    parts = [f"p = {p:g}: {tasks.summary(last[p])}, best {tasks.summary(best[p])}" for p in ps]
    pairs = [tasks.verdict(f"p = {a:g}", last[a], f"p = {b:g}", last[b], "validation MSE")
             for i, a in enumerate(ps) for b in ps[i + 1:]]
    return ("Validation MSE now, and the best so far: " + "; ".join(parts) + ". " + " ".join(pairs)
            + f" — epoch {epoch} of {epochs}.")


@takes(EPOCHS, MC, seconds=lambda epochs, **_: 1 + OVERFIT_S_PER_EPOCH * epochs)
def dropout_overfit(epochs, mc_samples, report=None):
    """Trains small nets with dropout p = 0, 0.2 and 0.5 (three seeds each) on a few noisy sine points; yields a dict every few epochs.
    Returns:
        curves: a plotly figure of each p's train and validation loss (mean over seeds, band min-max)
        mc: (last update only) a plotly figure of Monte-Carlo dropout's mean and std over the given passes of the p = 0.2 net
        text: Markdown with each p's validation MSE now and best, and an order only beyond the spread over seeds
    """
    dev = get_device()
    for ep, hist, models in C.overfit_stream(epochs=epochs, device=dev, every=max(10, epochs // 30)):
        if report:
            report(ep / epochs, f"epoch {ep}/{epochs}")
        text = overfit_text(hist, ep, epochs)
        yield {"curves": C.figure_overfit(hist), "text": text}
    x, mean, std = C.mc_dropout(models[0.2], mc_samples, dev)
    yield {"curves": C.figure_overfit(hist), "mc": C.figure_mc(x, mean, std, 0.2),
           "text": text + f" Monte-Carlo dropout: {mc_samples} passes of the first seed's p = 0.2 net with dropout on."}


@takes(LR, WD)
@functools.lru_cache(maxsize=128)
def sgd_weight_decay_step(lr, wd) -> dict:
    """One plain SGD step from the same weights done three ways: weight_decay, an L2 penalty in the loss, and the decoupled shrink.
    Returns:
        text: Markdown, the first weights after each update (a list) and their largest difference
    """
    r = C.sgd_step_check(lr, wd)
    names = {"weight_decay": "SGD(weight_decay=λ)", "l2_penalty": "loss + (λ/2)‖w‖²",
             "decoupled": "(1 − lr·λ)w − lr·∇L"}
    rows = "\n".join(f"- {names[k]}: w₁ = (" + ", ".join(f"{v:.5f}" for v in r[k].tolist()[:3]) + ", …)"
                     for k in names)  # a list, not a table: it wraps in the narrow column a projector gives it
    d = float(max((r["weight_decay"] - r["decoupled"]).abs().max(), (r["l2_penalty"] - r["decoupled"]).abs().max()))
    return {"text": f"One SGD step from w₀ = ({', '.join(f'{v:.3f}' for v in r['w0'].tolist())}), lr = {lr:g}, "
                    f"λ = {wd:g}:\n\n" + rows + f"\n\nLargest difference: **{d:.1e}** — for "
                    "plain SGD, weight decay, an L2 penalty and the decoupled shrink (1 − lr·λ)w are the same update."}


def decay_text(d: dict, wd: float) -> str:
    """Adam + L2's decay per step (percentiles over the first seed's weights, the largest- and smallest-gradient
    tenths) beside AdamW's lr·λ."""
    rel, rms = d["adam_l2"], d["rms_grad"]
    q = np.quantile(rel, [0.1, 0.5, 0.9]) if len(rel) else np.zeros(3)
    big, small = (rel[rms >= np.quantile(rms, 0.9)], rel[rms <= np.quantile(rms, 0.1)]) if len(rms) else (rel, rel)
    big_m, small_m = float(np.median(big)), float(np.median(small))
    rank = ("decayed less than" if big_m < small_m else "decayed no less than")
    return (f"**Per step, with the same λ = {wd:g} and lr = {d['lr']:g}:** AdamW (Loshchilov & Hutter 2019) shrinks "
            f"every weight by lr·λ = **{d['adamw']:.2g}**; Adam + L2 adds λw to the gradient, which Adam then divides "
            f"by √v̂, so its decay per step is lr·λ/(√v̂ + ε): **{q[0]:.2g} / {q[1]:.2g} / {q[2]:.2g}** (10th / 50th / "
            f"90th percentile over the first seed's weights). The 10 % of weights with the largest gradients are "
            f"decayed **{big_m:.2g}** per step, the 10 % with the smallest **{small_m:.2g}**: here the large-gradient "
            f"weights are {rank} the small-gradient ones."
            + (" Values over 1 are linearised: such a step's decay is the whole step, which pulls the weight to 0 "
               "(the figure draws them at 1)." if max(q[2], big_m, small_m) > 1 else ""))


def match_text(wd: float, median: float, probes: list, epochs: int, tol: float = C.MATCH_TOL) -> str:
    """What the search for AdamW's decay found: each run's λ and measured median decay, and a match only where one
    came within ``tol`` of lr·λ."""
    target = C.LR_ADAM * wd
    if not probes:
        return ""
    tried = ", ".join(f"λ = {lam:.2g} → {d:.2g}" for lam, d in probes)
    lam0, d0 = probes[0]
    first = (f"The linear guess λ × {lam0 / wd:.2g} = {lam0:.2g} (it assumes the decay is proportional to λ) gives a "
             f"median decay of {d0:.2g} per step, {d0 / target:.2g} × AdamW's {target:.2g}: the decay is not linear "
             "in λ, because λw is part of the gradient that v̂ averages. " if abs(d0 / target - 1) > tol else "")
    best = min(probes, key=lambda p: abs(math.log(p[1] / target)) if p[1] > 0 else math.inf)
    if abs(best[1] / target - 1) <= tol:
        found = (f"Measured: Adam + L2 at **λ = {best[0]:.2g}** ({best[0] / wd:.2g} × λ) has a median decay of "
                 f"{best[1]:.2g} per step after {epochs} epochs, within {100 * tol:.0f} % of AdamW's lr·λ = {target:.2g} "
                 "(and it still decays the other weights unevenly).")
    else:
        found = (f"No λ tried came within {100 * tol:.0f} % of AdamW's lr·λ = {target:.2g}; the closest, "
                 f"λ = {best[0]:.2g}, gives {best[1]:.2g}.")
    return first + found + f" Runs of the search (median decay after {epochs} epochs): {tried}."


def wd_text(hist: dict, wd: float, ep: int) -> str:
    """Weight norms and validation MSE of both optimizers over the seeds, ordered only beyond their spread."""
    a = {k: [h[-1][1] for h in hist[k].values()] for k in ("Adam + L2", "AdamW")}
    v = {k: [h[-1][2] for h in hist[k].values()] for k in ("Adam + L2", "AdamW")}
    if wd == 0:
        return (f"Epoch {ep}: with λ = 0 neither optimizer decays the weights (‖W‖ Adam {tasks.summary(a['Adam + L2'], '.2f')}, "
                f"AdamW {tasks.summary(a['AdamW'], '.2f')}): the two runs are the same Adam. Set λ > 0 to compare them.")
    return (f"Epoch {ep}: ‖W‖ Adam + L2 {tasks.summary(a['Adam + L2'], '.2f')}, AdamW {tasks.summary(a['AdamW'], '.2f')}; "
            f"validation MSE Adam + L2 {tasks.summary(v['Adam + L2'])}, AdamW {tasks.summary(v['AdamW'])}. "
            + tasks.verdict("Adam + L2", a["Adam + L2"], "AdamW", a["AdamW"], "weight norm", ".2f") + " "
            + tasks.verdict("Adam + L2", v["Adam + L2"], "AdamW", v["AdamW"], "validation MSE"))


@takes(WD, WD_EPOCHS, seconds=lambda wd_epochs, wd, **_: 1 + WD_S_PER_EPOCH * wd_epochs * (
        2 * len(C.SEEDS) + (C.MATCH_RUNS if wd > 0 else 0)))
def adam_vs_adamw(wd, wd_epochs, report=None):
    """Trains with Adam + L2 and with AdamW at the same lambda (three seeds each), then (lambda > 0) searches the L2 lambda whose median decay matches AdamW's; yields a dict every few epochs.
    Returns:
        plot: a plotly figure of both optimizers' weight norm and validation MSE (mean over seeds, band min-max)
        decay: a plotly figure of each weight's decay per step against its gradient scale, Adam + L2 against AdamW's lr * lambda
        text: Markdown with the norms and MSEs (an order only beyond the spread), the decay percentiles and the search's runs
    """
    dev = get_device()
    total = wd_epochs * (2 * len(C.SEEDS) + (C.MATCH_RUNS if wd > 0 else 0))
    for ep, hist in C.adam_vs_adamw(wd, wd_epochs, device=dev, every=max(10, wd_epochs // 40)):
        if report:
            report(ep * 2 * len(C.SEEDS) / total, f"epoch {ep}/{wd_epochs}")
        d = hist.pop("decay")
        text = wd_text(hist, wd, ep)
        if wd > 0:
            text += "\n\n" + decay_text(d, wd)
        yield {"plot": C.figure_wd(hist, wd), "decay": C.figure_decay(d), "text": text}
    if wd == 0:
        return
    median = float(np.median(d["adam_l2"]))
    probes = []
    for lam, dm in C.match_search(wd, median, wd_epochs, device=dev):
        probes.append((lam, dm))
        if report:
            report((wd_epochs * (2 * len(C.SEEDS) + len(probes))) / total, f"search run {len(probes)}")
        yield {"text": text + "\n\n" + match_text(wd, median, probes, wd_epochs)}
