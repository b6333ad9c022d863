"""Skip connections: a deep plain CNN and the same network with residual connections, trained live."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn as nn
import torch.nn.functional as F
from plotly.subplots import make_subplots

from demos.common.errors import UserInputError
from demos.common.plotstyle import PALETTE, style
from demos.common.rng import seeded
from demos.common.tasks import bars


class Layer(nn.Module):
    """3x3 conv + ReLU, He-initialized, no normalization. The residual version adds its input back,
    x + f(x), with the branch's weights scaled by 1/sqrt(depth) so the sum's variance stays bounded."""

    def __init__(self, c: int, residual: bool, depth: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
        nn.init.zeros_(self.conv.bias)
        self.residual = residual
        if residual:
            with torch.no_grad():
                self.conv.weight.mul_(depth ** -0.5)

    def forward(self, x):
        y = F.relu(self.conv(x))
        return x + y if self.residual else y


class DeepCNN(nn.Module):
    """stem conv, ``depth`` identical 3x3 conv-ReLU layers (optionally x + f(x)), pooling, linear."""

    def __init__(self, depth: int = 30, width: int = 8, residual: bool = False):
        super().__init__()
        self.stem = nn.Conv2d(1, width, 3, padding=1)
        self.layers = nn.ModuleList(Layer(width, residual, depth) for _ in range(depth))
        self.fc = nn.Linear(width, 4)

    def forward(self, x):
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x)
        return self.fc(x.mean((2, 3)))


def train_stream(depth: int = 30, steps: int = 300, batch: int = 32, lr: float = 1e-3, seed: int = 0,
                 every: int = 10, device="cpu"):
    """Train the plain and the residual network side by side (same init seed, same batches, Adam).
    Yields (step, losses {name: [...]}, grad norms {name: per-layer list} of the latest step)."""
    if not 2 <= depth <= 100:
        raise UserInputError(f"Depth must be between 2 and 100 layers, got {depth}.")
    if not 1 <= steps <= 3000:
        raise UserInputError(f"Steps must be between 1 and 3000, got {steps}.")
    xs, ys = bars(4096, seed, jitter=False)
    xs, ys = xs.to(device), ys.to(device)
    nets, opts, losses, grads = {}, {}, {}, {}
    for name, res in (("plain", False), ("residual", True)):
        with seeded(seed):
            nets[name] = DeepCNN(depth, residual=res).to(device).train()
        opts[name] = torch.optim.Adam(nets[name].parameters(), lr=lr)
        losses[name] = []
    g = torch.Generator().manual_seed(seed)
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(xs), (batch,), generator=g).to(device)
        for name, net in nets.items():
            loss = F.cross_entropy(net(xs[idx]), ys[idx])
            opts[name].zero_grad()
            loss.backward()
            grads[name] = [float(layer.conv.weight.grad.norm()) for layer in net.layers]
            opts[name].step()
            losses[name].append(float(loss.detach()))
        if step % every == 0 or step == steps:
            yield step, losses, grads


def figure(losses: dict, grads: dict, depth: int) -> go.Figure:
    fig = make_subplots(1, 2, subplot_titles=("training loss (moving average of 10)",
                                              "gradient norm per layer (latest step)"), horizontal_spacing=0.1)
    colors = {"plain": PALETTE[3], "residual": PALETTE[0]}
    for name, v in losses.items():
        y = np.array(v)
        w = min(10, len(y))
        sm = np.convolve(y, np.ones(w) / w, mode="valid")
        fig.add_trace(go.Scatter(x=np.arange(w, len(y) + 1), y=sm, name=f"{name} ({depth} layers)",
                                 line=dict(color=colors[name], width=3)), 1, 1)
        if name in grads:
            fig.add_trace(go.Scatter(x=np.arange(1, len(grads[name]) + 1), y=grads[name], showlegend=False,
                                     mode="lines+markers", line=dict(color=colors[name], width=3)), 1, 2)
    fig.update_xaxes(title_text="step", row=1, col=1)
    fig.update_xaxes(title_text="layer (1 = nearest the input)", row=1, col=2)
    fig.update_yaxes(type="log", dtick=1, exponentformat="power", row=1, col=2)
    return style(fig, "Plain vs residual, same initialization and batches", height=430,
                 legend=dict(orientation="h", yanchor="bottom", y=1.1, x=0), margin=dict(t=120))
