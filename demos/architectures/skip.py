"""Skip connections: a deep plain CNN and the same network with residual connections, trained live, over seeds.

Each layer computes ``relu(conv(x))`` (3x3, He-initialized, no normalization). The plain network passes that on;
the residual one adds it to the layer's input, ``x + relu(conv(x))`` (the ReLU sits inside the branch, before the
addition; He et al.'s block adds before its last ReLU), and its branch weights start scaled by 1/sqrt(depth) so
the sum's variance stays bounded. For each seed the two networks start from the same drawn weights (the
residual branches then scaled) and see the same batches.

All networks (plain and residual, every seed) train at once as one grouped network: one group of channels per
network (``groups=`` in every convolution), one Adam over all of them. Adam works per weight and the groups share
no weight, so every network trains exactly as it would alone; on a CPU the grouped network costs about what one
small network does, which is what makes three seeds fit in the time of one.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn as nn
import torch.nn.functional as F
from plotly.subplots import make_subplots

from demos.common.params import Param
from demos.common.plotstyle import PALETTE, style
from demos.common.rng import seeded
from demos.common.tasks import bars

from .spread import Spread, order_sentence

# Time grows as depth x steps. One seed at batch 32 took about 3.3 ms per layer and step on 2 cores (`python -m bench
# worst`: 40 x 300 in 39.5 s). Three seeds as one grouped network at batch 32 took 3.1x one seed's time (6 x 50
# steps, same sitting), so batches are 16 (0.66x in another sitting) and the steps end at 160: 30 x 160 is declared
# at about 4 ms per layer and step, 20 s (the view's cost).
DEPTH = Param("depth", "depth (conv layers)", 4, 30, 30, 1, integer=True)
STEPS = Param("steps", "steps", 50, 160, 150, 10, integer=True)
BATCH = 16
SEEDS = (0, 1, 2)
WIDTH = 8
KINDS = ("plain", "residual")


class DeepCNN(nn.Module):
    """One network: stem conv, ``depth`` 3x3 conv-ReLU layers (optionally x + relu(conv x)), mean pool, linear.
    Used to draw each seed's initial weights (``torch.manual_seed(seed)``, then PyTorch's and He's init)."""

    def __init__(self, depth: int = 30, width: int = WIDTH):
        super().__init__()
        self.stem = nn.Conv2d(1, width, 3, padding=1)
        self.convs = nn.ModuleList(nn.Conv2d(width, width, 3, padding=1) for _ in range(depth))
        for conv in self.convs:
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(conv.bias)
        self.fc = nn.Linear(width, 4)


class Grouped(nn.Module):
    """Several DeepCNNs side by side as one network: group k of every convolution is network k."""

    def __init__(self, nets: list[DeepCNN], residual: list[bool], depth: int):
        super().__init__()
        n, w = len(nets), WIDTH
        self.n, self.depth = n, depth
        self.stem = nn.Conv2d(n, n * w, 3, padding=1, groups=n)
        self.convs = nn.ModuleList(nn.Conv2d(n * w, n * w, 3, padding=1, groups=n) for _ in range(depth))
        self.fc_w = nn.Parameter(torch.stack([net.fc.weight.detach().t() for net in nets]))  # (n, w, 4)
        self.fc_b = nn.Parameter(torch.stack([net.fc.bias.detach() for net in nets]))  # (n, 4)
        scale = torch.tensor([depth ** -0.5 if r else 1.0 for r in residual])
        with torch.no_grad():
            self.stem.weight.copy_(torch.cat([net.stem.weight for net in nets]))
            self.stem.bias.copy_(torch.cat([net.stem.bias for net in nets]))
            for i, conv in enumerate(self.convs):
                conv.weight.copy_(torch.cat([net.convs[i].weight * s for net, s in zip(nets, scale)]))
                conv.bias.copy_(torch.cat([net.convs[i].bias for net in nets]))
        self.register_buffer("mask", torch.tensor(residual, dtype=torch.float32).repeat_interleave(w).view(1, -1, 1, 1))

    def forward(self, x):  # x: (B, n, H, W), one image channel per network -> logits (B, n, 4)
        x = self.stem(x)
        for conv in self.convs:
            x = F.relu(conv(x)) + self.mask * x  # plain: relu(conv x); residual: x + relu(conv x)
        pooled = x.mean((2, 3)).view(x.shape[0], self.n, WIDTH)
        return torch.einsum("bnw,nwo->bno", pooled, self.fc_w) + self.fc_b

    def grad_norms(self) -> np.ndarray:
        """(n, depth): each network's gradient norm at each layer's weights."""
        return np.array([[float(g.norm()) for g in conv.weight.grad.view(self.n, -1).unbind(0)]
                         for conv in self.convs]).T


def train_stream(depth: int = 30, steps: int = 150, batch: int = BATCH, lr: float = 1e-3, seeds=SEEDS,
                 every: int = 10, device="cpu"):
    """Train the plain and the residual network for every seed (seed s: initial weights and batches from s, Adam).
    Yields (step, losses {kind: (seeds, steps so far) array}, grads {kind: (seeds, depth) array}) every ``every``
    steps and at the end."""
    depth, steps = DEPTH.check(depth), STEPS.check(steps)
    data = [bars(4096, s, jitter=False) for s in seeds]
    xs = torch.stack([d[0][:, 0] for d in data], 1).to(device)  # (4096, seeds, 16, 16)
    ys = torch.stack([d[1] for d in data], 1).to(device)
    nets, residual = [], []
    for kind in KINDS:
        for s in seeds:
            with seeded(s):
                nets.append(DeepCNN(depth))
            residual.append(kind == "residual")
    model = Grouped(nets, residual, depth).to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    n = len(seeds)
    hist = []
    for step in range(1, steps + 1):
        idx = torch.stack([torch.randint(0, len(xs), (batch,), generator=g) for g in gens], 1).to(device)  # (B, n)
        cols = torch.arange(n, device=device)
        x = xs[idx, cols]  # (B, n, 16, 16): seed k's batch in channel k
        y = ys[idx, cols]
        x, y = torch.cat([x, x], 1), torch.cat([y, y], 1)  # plain networks first, then residual: same batches
        logits = model(x)
        per = F.cross_entropy(logits.permute(0, 2, 1), y, reduction="none").mean(0)  # (2n,) each network's loss
        opt.zero_grad()
        per.sum().backward()  # disjoint weights: each network gets its own loss's gradient
        opt.step()
        hist.append(per.detach().cpu().numpy())
        if step % every == 0 or step == steps:
            h = np.array(hist).T  # (2n, steps)
            g = model.grad_norms()
            yield step, {k: h[i * n:(i + 1) * n] for i, k in enumerate(KINDS)}, {k: g[i * n:(i + 1) * n]
                                                                                 for i, k in enumerate(KINDS)}


def final_losses(losses: dict, last: int = 20) -> dict[str, list[float]]:
    """Each seed's mean training loss over its last ``last`` steps, per kind."""
    return {k: [float(np.mean(row[-last:])) for row in v] for k, v in losses.items()}


def summary(step: int, steps: int, depth: int, losses: dict, grads: dict) -> str:
    """The text beside the figure: final losses per seed, their spread, and an order only beyond it."""
    fin = final_losses(losses)
    sp = {k: Spread(v) for k, v in fin.items()}
    g = {k: np.median(v, 0) for k, v in grads.items()}
    return (f"Step {step} of {steps}, {len(fin['plain'])} seeds. Training loss over the last 20 steps: plain "
            f"{sp['plain'].text()}, residual {sp['residual'].text()} (mean, min–max over seeds). "
            + order_sentence({"plain": fin["plain"], "residual": fin["residual"]}, "training loss")
            + f" Gradient norm at layer 1 vs layer {depth} (median over seeds, latest step): plain "
            f"{g['plain'][0]:.2e} vs {g['plain'][-1]:.2e}, residual {g['residual'][0]:.2e} vs {g['residual'][-1]:.2e}. "
            "Each layer is relu(conv x): the plain net passes it on, the residual net adds it to x (x + relu(conv x)), "
            "with its branch weights scaled by 1/√depth at the start; no normalization layers, He init.")


def figure(losses: dict, grads: dict, depth: int) -> go.Figure:
    fig = make_subplots(1, 2, subplot_titles=("training loss (moving average of 10; band: min–max over seeds)",
                                              "gradient norm per layer (latest step, median over seeds)"),
                        horizontal_spacing=0.1)
    colors = {"plain": PALETTE[3], "residual": PALETTE[0]}
    fills = {"plain": "rgba(213,94,0,0.2)", "residual": "rgba(0,114,178,0.2)"}
    for name, v in losses.items():
        v = np.asarray(v)
        w = min(10, v.shape[1])
        sm = np.array([np.convolve(row, np.ones(w) / w, mode="valid") for row in v])
        x = np.arange(w, v.shape[1] + 1)
        fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([sm.max(0), sm.min(0)[::-1]]),
                                 fill="toself", fillcolor=fills[name], line=dict(width=0), hoverinfo="skip",
                                 showlegend=False), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=sm.mean(0), name=f"{name} ({depth} layers, mean of {len(v)} seeds)",
                                 line=dict(color=colors[name], width=3)), 1, 1)
        if name in grads:
            gm = np.median(np.asarray(grads[name]), 0)
            fig.add_trace(go.Scatter(x=np.arange(1, len(gm) + 1), y=gm, showlegend=False,
                                     mode="lines+markers", line=dict(color=colors[name], width=3)), 1, 2)
    fig.update_xaxes(title_text="step", row=1, col=1)
    fig.update_xaxes(title_text="layer (1 = nearest the input)", row=1, col=2)
    fig.update_yaxes(type="log", dtick=1, exponentformat="power", row=1, col=2)
    return style(fig, "Plain vs residual: same seeds and batches, residual branches scaled by 1/√depth", height=430,
                 legend=dict(orientation="h", yanchor="top", y=-0.25, x=0), margin=dict(t=90, b=110))
