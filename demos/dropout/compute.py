"""Dropout step by step, over-fitting with and without it, weight decay vs AdamW, Monte-Carlo dropout.

Plain torch/numpy/plotly, no Gradio.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from demos.common.errors import UserInputError
from demos.common.params import Param
from demos.common.plotstyle import PALETTE, PlainFigure, log_ticks, plain, subplot_grid
from demos.common.rng import seeded
from demos.common.tasks import noisy_sine

SEEDS = (0, 1, 2)  # comparisons that train run from these seeds; their spread is the range over them
P_COLORS = {0.0: PALETTE[3], 0.2: PALETTE[0], 0.5: PALETTE[2]}


# The drop probability, declared once: torch accepts [0, 1] ('dropout probability has to be between 0 and 1')
DROP_P = Param("p", "drop probability p", 0, 1, 0.5, 0.01)


def check_p(p) -> float:
    """A drop probability in [0, 1], or UserInputError with the record's sentence."""
    return DROP_P.check(p)


def activations(size: int = 16) -> torch.Tensor:
    """A heatmap-like grid of positive activations (three bumps on a low floor)."""
    c = torch.arange(size, dtype=torch.float32) + 0.5
    out = torch.full((size, size), 0.1)
    for (x, y, h, s) in ((4.5, 5.0, 1.0, 2.0), (11.0, 10.5, 0.8, 2.5), (12.0, 3.0, 0.5, 1.5)):
        out += h * torch.exp(-((c[None] - x) ** 2 + (c[:, None] - y) ** 2) / (2 * s * s))
    return out


def step_through(x: torch.Tensor, p: float, seed: int) -> dict:
    """One dropout pass, reproduced by hand and by torch.nn.Dropout with the same seed.

    The keep mask is Bernoulli(1 - p); kept units are scaled by 1/(1 - p) so E[output] = input. p = 1 drops
    everything and torch returns zeros (it does not divide by 0)."""
    p = check_p(p)
    with seeded(seed):
        mask = F.dropout(torch.ones_like(x), p, training=True) != 0  # the same random draws as for x itself
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mine = x * mask * scale
    with seeded(seed):
        ref = nn.Dropout(p).train()(x)
    return {"x": x, "mask": mask, "zeroed": x * mask, "out": mine, "torch": ref, "scale": scale,
            "eval": nn.Dropout(p).eval()(x)}


def mask_average_error(x: torch.Tensor, p: float, max_masks: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Relative error |mean of M dropout outputs - x| / |x| for M = 1..max_masks, and the 1/sqrt(M) law."""
    p = check_p(p)
    if p == 1.0:
        raise UserInputError("With p = 1 every mask drops everything: the average is 0, never the input.")
    with seeded(seed):
        outs = F.dropout(x.expand(max_masks, *x.shape), p, training=True)
    running = outs.cumsum(0) / torch.arange(1, max_masks + 1).view(-1, *([1] * x.dim()))
    err = (running - x).flatten(1).norm(dim=1) / x.norm()
    theory = math.sqrt(p / (1 - p)) / np.sqrt(np.arange(1, max_masks + 1))  # each unit: var = x² p/(1-p) / M
    return err.numpy(), theory


def figure_steps(st: dict, p: float) -> PlainFigure:
    panels = [("input x", st["x"]), ("keep mask ~ Bernoulli(1 − p)", st["mask"].float()),
              ("zeroed: x · mask", st["zeroed"]), (f"output: x · mask / (1 − p) = ×{st['scale']:.3g}", st["out"]),
              ("eval mode: identity", st["eval"])]
    axes, layout = subplot_grid(1, 5, hspace=0.02, vspace=0.0, titles=[t for t, _ in panels], title_size=14)
    zmax = float(max(st["x"].max(), st["out"].max()))
    data = []
    for j, (t, v) in enumerate(panels):
        is_mask = j == 1
        xa, ya = axes[j]
        data.append({"type": "heatmap", "z": v.numpy(), "colorscale": "Greys" if is_mask else "Viridis",
                     "showscale": j == 3, "zmin": 0, "zmax": 1 if is_mask else zmax, "colorbar": {"thickness": 12},
                     "hovertemplate": "%{z:.3f}<extra></extra>", "xaxis": xa, "yaxis": ya})
        layout["xaxis" + xa[1:]] |= {"showticklabels": False, "showgrid": False, "ticks": ""}
        layout["yaxis" + ya[1:]] |= {"showticklabels": False, "showgrid": False, "ticks": "", "autorange": "reversed",
                                      "scaleanchor": xa}
    layout |= {"margin": {"l": 10, "r": 10, "t": 90, "b": 55}}
    return plain(data, layout, f"Dropout with p = {p:g} (training mode)", height=330)


def figure_average(err: np.ndarray, theory: np.ndarray, p: float) -> PlainFigure:
    M = np.arange(1, len(err) + 1)
    data = [{"type": "scatter", "x": M, "y": err, "name": "measured", "line": {"color": PALETTE[0], "width": 3}},
            {"type": "scatter", "x": M, "y": theory, "name": "√(p/(1−p)) / √M",
             "line": {"color": PALETTE[1], "dash": "dash"}}]
    layout = {"xaxis": {"type": "log", "title": {"text": "number of masks averaged M"}, "dtick": 1},
              "yaxis": {"type": "log", "title": {"text": "|average − x| / |x|"}, "dtick": 1, "exponentformat": "power"},
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0},
              "margin": {"l": 60, "r": 20, "t": 60, "b": 110}}
    return plain(data, layout, f"Averaging masks converges to the input (p = {p:g})", height=380)


# --- over-fitting --------------------------------------------------------------------------------------------
class MLP(nn.Module):
    def __init__(self, p: float = 0.0, width: int = 256, depth: int = 3, generator: torch.Generator | None = None):
        super().__init__()
        layers, d = [], 1
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.ReLU(), Dropout(p, generator)]
            d = width
        layers.append(nn.Linear(d, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class Dropout(nn.Module):
    """nn.Dropout's computation (keep with probability 1 - p, scale by 1/(1 - p)) with the masks drawn from the net's
    own generator when it has one: seeded runs stay reproducible while other requests draw random numbers."""

    def __init__(self, p: float, generator: torch.Generator | None = None):
        super().__init__()
        self.p, self.generator = p, generator

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.generator is None:
            return F.dropout(x, self.p, training=True)
        keep = torch.rand(x.shape, generator=self.generator, device=x.device) >= self.p
        return x * keep / (1 - self.p)


def overfit_stream(ps=(0.0, 0.2, 0.5), epochs: int = 500, n_train: int = 24, seeds=SEEDS, every: int = 50,
                   device="cpu"):
    """Full-batch Adam on a noisy sine with few points, one net per drop probability and seed (the seed sets the
    initial weights and the dropout masks; the data are the same). Yields (epoch, {p: {seed: (train losses,
    val losses)}}, {p: the first seed's model}). Validation is measured in eval mode (dropout off). The caller's
    records bound ``epochs``."""
    ps = [check_p(p) for p in ps]
    xt, yt = (t.to(device) for t in noisy_sine(n_train, 0))
    xv, yv = (t.to(device) for t in noisy_sine(400, 1))
    models, opts, hist = {}, {}, {p: {} for p in ps}
    for s in seeds:
        for p in ps:
            with seeded(s):
                models[p, s] = MLP(p, generator=torch.Generator(device=device).manual_seed(s)).to(device)
            opts[p, s] = torch.optim.Adam(models[p, s].parameters(), lr=1e-3)
            hist[p][s] = ([], [])
    for ep in range(1, epochs + 1):
        for (p, s), m in models.items():
            m.train()
            loss = F.mse_loss(m(xt), yt)
            opts[p, s].zero_grad()
            loss.backward()
            opts[p, s].step()
            if ep % every == 0 or ep == epochs:
                m.eval()
                with torch.no_grad():
                    hist[p][s][0].append((ep, float(F.mse_loss(m(xt), yt))))
                    hist[p][s][1].append((ep, float(F.mse_loss(m(xv), yv))))
        if ep % every == 0 or ep == epochs:
            yield ep, hist, {p: models[p, seeds[0]] for p in ps}


def figure_overfit(hist: dict) -> PlainFigure:
    """Mean over the seeds of each p's train (dashed) and validation (solid) loss; a band from the lowest to the
    highest seed's validation loss."""
    data = []
    for p, runs in hist.items():
        col = P_COLORS.get(p, PALETTE[4])
        va = [v for _, v in runs.values() if v]
        tr = [t for t, _ in runs.values() if t]
        if not va:
            continue
        e = [ep for ep, _ in va[0]]
        V = np.array([[x for _, x in v] for v in va])
        T = np.array([[x for _, x in t] for t in tr])
        data.append({"type": "scatter", "x": e + e[::-1], "y": np.r_[V.max(0), V.min(0)[::-1]], "fill": "toself",
                     "fillcolor": col, "opacity": 0.2, "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False})
        data.append({"type": "scatter", "x": e, "y": T.mean(0), "name": f"train, p = {p:g}",
                     "line": {"color": col, "width": 2, "dash": "dash"}})
        data.append({"type": "scatter", "x": e, "y": V.mean(0), "name": f"validation, p = {p:g}",
                     "line": {"color": col, "width": 4}})
    n = len(next(iter(hist.values()))) if hist else 0
    shown = [y for d in data for y in np.ravel(d["y"])]
    layout = {"xaxis": {"title": {"text": f"epoch (lines: mean of {n} seeds; band: lowest to highest)"}},
              "yaxis": {"title": {"text": "MSE"}, "type": "log"} | log_ticks(shown),
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
              "margin": {"l": 60, "r": 20, "t": 60, "b": 180}}
    return plain(data, layout, "Over-fitting 24 noisy points: train (dashed) vs validation (solid)", height=430)


def mc_dropout(model: MLP, samples: int = 50, device="cpu") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monte-Carlo dropout: keep dropout on at test time and average many passes: mean and std per x."""
    x = torch.linspace(-1.6, 1.6, 200, device=device).view(-1, 1)
    model.train()
    with torch.no_grad():
        ys = torch.stack([model(x) for _ in range(samples)])[..., 0]
    model.eval()
    return x[:, 0].cpu().numpy(), ys.mean(0).cpu().numpy(), ys.std(0).cpu().numpy()


def figure_mc(x, mean, std, p: float, n_train: int = 24, seed: int = 0) -> PlainFigure:
    xt, yt = noisy_sine(n_train, seed)
    shade = {"type": "rect", "xref": "x", "yref": "paper", "y0": 0, "y1": 1, "fillcolor": "#eee", "opacity": 0.5,
             "line": {"width": 0}, "layer": "below"}
    data = [{"type": "scatter", "x": np.r_[x, x[::-1]], "y": np.r_[mean + 2 * std, (mean - 2 * std)[::-1]],
             "fill": "toself", "fillcolor": "rgba(0,114,178,0.2)", "line": {"width": 0}, "name": "mean ± 2 std"},
            {"type": "scatter", "x": x, "y": mean, "name": "MC mean", "line": {"color": PALETTE[0], "width": 3}},
            {"type": "scatter", "x": x, "y": np.sin(3 * x), "name": "sin(3x)", "line": {"color": "#888", "dash": "dot"}},
            {"type": "scatter", "x": xt[:, 0].numpy(), "y": yt[:, 0].numpy(), "mode": "markers",
             "name": "training points", "marker": {"color": "black", "size": 8}}]
    layout = {"xaxis": {"title": {"text": "x (shaded: outside the training range)"}},
              "shapes": [shade | {"x0": 1.0, "x1": 1.6}, shade | {"x0": -1.6, "x1": -1.0}],
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
              "margin": {"l": 60, "r": 20, "t": 60, "b": 170}}
    return plain(data, layout, f"Monte-Carlo dropout (p = {p:g}): spread grows away from the data", height=430)


# --- weight decay ----------------------------------------------------------------------------------------------
def sgd_step_check(lr: float = 0.1, wd: float = 0.01, seed: int = 0) -> dict:
    """One SGD step three ways: torch's weight_decay (L2 gradient), an explicit (λ/2)|w|² penalty, and the
    decoupled shrink w ← (1 − lr·λ) w − lr·∇L. For plain SGD all three are equal."""
    g = torch.Generator().manual_seed(seed)
    w0 = torch.randn(5, generator=g)
    x = torch.randn(5, generator=g)

    def loss_of(w):
        return (w @ x - 1.0) ** 2

    w_a = w0.clone().requires_grad_()
    opt = torch.optim.SGD([w_a], lr=lr, weight_decay=wd)
    loss_of(w_a).backward()
    opt.step()
    w_b = w0.clone().requires_grad_()
    opt = torch.optim.SGD([w_b], lr=lr)
    (loss_of(w_b) + 0.5 * wd * w_b.pow(2).sum()).backward()
    opt.step()
    w_c = w0.clone().requires_grad_()
    loss_of(w_c).backward()
    with torch.no_grad():
        w_c_new = (1 - lr * wd) * w_c - lr * w_c.grad
    return {"weight_decay": w_a.detach(), "l2_penalty": w_b.detach(), "decoupled": w_c_new, "w0": w0}


def _train_adam(m: nn.Module, opt, xt, yt):
    loss = F.mse_loss(m(xt), yt)
    opt.zero_grad()
    loss.backward()
    opt.step()


def _weight_norm(m: nn.Module) -> float:
    return float(torch.sqrt(sum(p.pow(2).sum() for n_, p in m.named_parameters() if "weight" in n_)))


def adam_vs_adamw(wd: float = 0.05, epochs: int = 500, n_train: int = 24, seeds=SEEDS, every: int = 25,
                  device="cpu"):
    """Adam with an L2 term in the gradient (torch's Adam(weight_decay=λ)) vs AdamW (decoupled decay, same λ), from
    each seed (initial weights). Yields (epoch, {name: {seed: [(epoch, weight norm, val loss)]}} | {"decay": the
    first seed's Adam + L2 decay per weight}). The caller's records bound ``wd`` and ``epochs``."""
    xt, yt = (t.to(device) for t in noisy_sine(n_train, 0))
    xv, yv = (t.to(device) for t in noisy_sine(400, 1))
    runs = {}
    for name, cls in (("Adam + L2", torch.optim.Adam), ("AdamW", torch.optim.AdamW)):
        for s in seeds:
            with seeded(s):
                m = MLP(0.0).to(device)
            runs[name, s] = (m, cls(m.parameters(), lr=LR_ADAM, weight_decay=wd), [])
    for ep in range(1, epochs + 1):
        for m, opt, hist in runs.values():
            _train_adam(m, opt, xt, yt)
            if ep % every == 0 or ep == epochs:
                with torch.no_grad():
                    hist.append((ep, _weight_norm(m), float(F.mse_loss(m(xv), yv))))
        if ep % every == 0 or ep == epochs:
            out = {name: {s: runs[name, s][2] for s in seeds} for name in ("Adam + L2", "AdamW")}
            yield ep, out | {"decay": effective_decay(runs["Adam + L2", seeds[0]][1], wd)}


LR_ADAM = 1e-3  # both optimizers' learning rate


def l2_decay_median(wd: float, epochs: int, seed: int = 0, n_train: int = 24, device="cpu") -> float:
    """Train the first seed's net with Adam + L2 at ``wd`` for ``epochs`` epochs; the median over its weights of the
    decay per step lr·λ/(√v̂ + ε) it ends with."""
    xt, yt = (t.to(device) for t in noisy_sine(n_train, 0))
    with seeded(seed):
        m = MLP(0.0).to(device)
    opt = torch.optim.Adam(m.parameters(), lr=LR_ADAM, weight_decay=wd)
    for _ in range(epochs):
        _train_adam(m, opt, xt, yt)
    return float(np.median(effective_decay(opt, wd)["adam_l2"]))


MATCH_TOL = 0.1  # a λ "matches" AdamW's decay when Adam + L2's median decay is within 10 % of lr·λ
MATCH_RUNS = 4  # the search's runs, at most


def match_search(wd: float, median: float, epochs: int, runs: int = MATCH_RUNS, tol: float = MATCH_TOL,
                 device="cpu"):
    """Search the λ at which Adam + L2's median decay per step equals AdamW's lr·λ, after the same number of epochs:
    the first guess assumes the decay is linear in λ (λ·target/median), then a secant on log λ vs log decay through
    the last two points (the decay is not linear: λw is part of the gradient that v̂ averages). Yields each run's
    (λ, measured median decay); stops within ``tol`` or after ``runs`` runs."""
    target = LR_ADAM * wd
    pts = [(wd, median)]
    lam = wd * target / median
    for _ in range(runs):
        d = l2_decay_median(lam, epochs, device=device)
        pts.append((lam, d))
        yield lam, d
        if abs(d / target - 1) <= tol or d <= 0:
            return
        (l1, d1), (l2, d2) = pts[-2], pts[-1]
        slope = (math.log(d2) - math.log(d1)) / (math.log(l2) - math.log(l1)) if l1 != l2 and d1 > 0 else 1.0
        slope = min(2.0, max(0.2, slope))  # the decay grows with λ, at most ~linearly: keep the step sane
        lam = l2 * (target / d2) ** (1 / slope)


def effective_decay(opt: torch.optim.Adam, wd: float) -> dict:
    """Per weight, the decay Adam + L2 applies per step, read from the optimizer's own state.

    Adam + L2 adds λw to the gradient and Adam divides the update by sqrt(v̂) + ε, so its decay term moves a
    weight by lr·λ·w / (sqrt(v̂) + ε): a relative decay of lr·λ / (sqrt(v̂) + ε) per step, small where the gradient
    history v̂ is large. AdamW shrinks every weight by lr·λ per step (Loshchilov and Hutter 2019; docs/facts.md 4)."""
    g = opt.param_groups[0]
    lr, eps, b2 = g["lr"], g["eps"], g["betas"][1]
    rms = []
    for p in g["params"]:
        st = opt.state.get(p)
        if st and "exp_avg_sq" in st:
            step = float(st["step"])
            rms.append((st["exp_avg_sq"] / (1 - b2 ** step)).sqrt().flatten().cpu())
    rms = torch.cat(rms).double().numpy() if rms else np.zeros(0)
    return {"rms_grad": rms, "adam_l2": lr * wd / (rms + eps), "adamw": lr * wd, "lr": lr, "wd": wd}


def figure_decay(d: dict) -> PlainFigure:
    """Relative decay per step against each weight's gradient scale: Adam + L2 (one point per weight) vs AdamW."""
    rms, l2 = d["rms_grad"], d["adam_l2"]
    keep = (rms > 0) & (l2 > 0)  # log axes: λ = 0 leaves nothing to draw but AdamW's line
    rms, l2 = rms[keep], l2[keep]
    if len(rms) > 3000:  # every weight would be ~4400 points: a fixed, even subsample draws the same cloud
        idx = np.linspace(0, len(rms) - 1, 3000).astype(int)
        rms, l2 = rms[idx], l2[idx]
    lo, hi = (float(rms.min()), float(rms.max())) if len(rms) else (1e-6, 1.0)
    # above 1 the linearised decay means "the whole step is decay": Adam's normalised step (about lr) pulls that
    # weight to 0, so the plot caps it at 1
    data = [{"type": "scatter", "x": rms, "y": np.minimum(l2, 1.0), "mode": "markers",
             "name": "Adam + L2: lr·λ / (√v̂ + ε), one dot per weight (capped at 1)",
             "marker": {"color": PALETTE[3], "size": 5, "opacity": 0.5}},
            {"type": "scatter", "x": [lo, hi], "y": [d["adamw"] or None] * 2, "mode": "lines",
             "name": f"AdamW: lr·λ = {d['adamw']:.2g} for every weight", "line": {"color": PALETTE[0], "width": 4}}]
    layout = {"xaxis": {"type": "log", "title": {"text": "gradient scale √v̂ of the weight (Adam's own estimate)"},
                        "exponentformat": "power", "dtick": 1},
              "yaxis": {"type": "log", "title": {"text": "decay per step (fraction of w)", "standoff": 14}, "exponentformat": "power",
                        "dtick": 1},
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.34, "x": 0},
              "margin": {"l": 80, "r": 20, "t": 60, "b": 170}}
    return plain(data, layout, "Large-gradient weights are decayed less by Adam + L2", height=470)


def figure_wd(hist: dict, wd: float) -> PlainFigure:
    """Weight norm and validation MSE of both optimizers: the mean over the seeds, and a band from the lowest to the
    highest seed."""
    axes, layout = subplot_grid(1, 2, hspace=0.1, vspace=0.0, titles=["weight norm ‖W‖", "validation MSE"])
    data = []
    for name, col in (("Adam + L2", PALETTE[3]), ("AdamW", PALETTE[0])):
        runs = [h for h in hist.get(name, {}).values() if h]
        if not runs:
            continue
        e = [r[0] for r in runs[0]]
        for j, idx in enumerate((1, 2)):
            Y = np.array([[r[idx] for r in h] for h in runs])
            xa, ya = axes[j]
            data.append({"type": "scatter", "x": e + e[::-1], "y": np.r_[Y.max(0), Y.min(0)[::-1]], "fill": "toself",
                         "fillcolor": col, "opacity": 0.2, "line": {"width": 0}, "hoverinfo": "skip",
                         "showlegend": False, "xaxis": xa, "yaxis": ya})
            data.append({"type": "scatter", "x": e, "y": Y.mean(0), "name": f"{name} (mean of {len(runs)} seeds)",
                         "showlegend": j == 0, "legendgroup": name, "line": {"color": col, "width": 3},
                         "xaxis": xa, "yaxis": ya})
    layout["xaxis"] |= {"title": {"text": "epoch"}}
    layout["xaxis2"] |= {"title": {"text": "epoch"}}
    layout["yaxis2"] |= {"type": "log"} | log_ticks([y for d in data if d.get("yaxis") == "y2" for y in np.ravel(d["y"])])
    layout |= {"legend": {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
               "margin": {"l": 60, "r": 20, "t": 80, "b": 110}}
    return plain(data, layout, f"Same coefficient λ = {wd:g}: Adam + L2 vs AdamW", height=420)
