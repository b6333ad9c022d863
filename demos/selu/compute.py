"""SELU and self-normalizing networks (Klambauer et al. 2017): the moment mapping g, its fixed point, deep
networks, AlphaDropout. Plain torch/numpy/plotly, no Gradio.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn as nn
import torch.nn.functional as F
from plotly.subplots import make_subplots

from demos.common.errors import UserInputError
from demos.common.plotstyle import PALETTE, PlainFigure, log_ticks, plain, style

# The SELU constants to full precision; torch.nn.SELU uses these values.
ALPHA = 1.6732632423543772848170429916717
LAMBDA = 1.0507009873554804934193349852946
ALPHA_PRIME = -LAMBDA * ALPHA  # where AlphaDropout sends dropped units: -1.7581
MAX_DEPTH = 64  # worst case (64 x 1024, every activation, dropout pair) measured in bench: < 30 s, < 1.5 GB
MAX_WIDTH = 1024
ACTIVATIONS = ("SELU", "ReLU", "ReLU (He init)", "tanh", "ReLU + BatchNorm")
# every network starts from LeCun normal (variance 1/n), except "ReLU (He init)": He/Kaiming, variance 2/n,
# which keeps the second moment of ReLU activations constant (the fair ReLU baseline; 1/n halves it per layer)


def _t(x):
    return torch.as_tensor(x, dtype=torch.float64)


def g(mu, nu, omega=0.0, tau=1.0):
    """Mean and variance of selu(z) for z ~ N(mu * omega, nu * tau), in closed form.

    The pre-activation of a unit with n inputs of mean mu and variance nu and weights summing to omega with
    squares summing to tau is (by the central limit theorem) N(mu*omega, nu*tau). Erfc-based expressions of
    Klambauer et al. (2017), eq. (4)-(5), written with the scaled erfcx so the exp*erfc products never overflow.
    Works on floats and broadcastable tensors (float64); differentiable.
    """
    mu, nu, omega, tau = map(_t, (mu, nu, omega, tau))
    m = mu * omega
    v = nu * tau
    if torch.any(v <= 0):
        raise UserInputError("The variance ν·τ must be positive (ν > 0 and τ > 0).")
    s = torch.sqrt(v)
    r2 = math.sqrt(2.0)
    erfc0 = torch.special.erfc(m / (r2 * s))
    gauss = torch.exp(-(m**2) / (2 * v))
    # exp(m + v/2) erfc((m + v)/sqrt(2v)) and exp(2(m + v)) erfc((m + 2v)/sqrt(2v)), both = gauss * erfcx(.):
    # the scaled form where the argument is large (exp would overflow, erfc underflow), the plain one below it
    # (where erfcx itself overflows and gauss underflows to 0)
    t1 = _exp_erfc(m + v / 2, (m + v) / (r2 * s), gauss)
    t2 = _exp_erfc(2 * (m + v), (m + 2 * v) / (r2 * s), gauss)
    mean = 0.5 * LAMBDA * (m * (2 - erfc0) + ALPHA * t1 - ALPHA * erfc0 + math.sqrt(2 / math.pi) * s * gauss)
    second = 0.5 * LAMBDA**2 * ((m**2 + v) * (2 - erfc0) + ALPHA**2 * (-2 * t1 + t2 + erfc0)
                                 + math.sqrt(2 / math.pi) * m * s * gauss)
    return mean, second - mean**2


def _exp_erfc(exponent: torch.Tensor, x: torch.Tensor, gauss: torch.Tensor) -> torch.Tensor:
    """exp(exponent)·erfc(x) where exponent = x² − m²/(2v): gauss·erfcx(x) for x ≥ 0, exp(exponent)·erfc(x) below."""
    pos = x >= 0
    scaled = gauss * torch.special.erfcx(torch.where(pos, x, torch.zeros_like(x)))
    plain = torch.exp(torch.where(pos, torch.zeros_like(exponent), exponent)) * torch.special.erfc(x)
    return torch.where(pos, scaled, plain)


def g_numeric(mu, nu, omega=0.0, tau=1.0, n: int = 200_001) -> tuple[float, float]:
    """The same moments by numerical integration on a fine grid (for checking the closed form)."""
    m, v = mu * omega, nu * tau
    s = math.sqrt(v)
    z = torch.linspace(m - 12 * s, m + 12 * s, n, dtype=torch.float64)
    p = torch.exp(-((z - m) ** 2) / (2 * v)) / math.sqrt(2 * math.pi * v)
    y = F.selu(z)
    dz = z[1] - z[0]
    mean = torch.trapezoid(y * p, dx=dz)
    second = torch.trapezoid(y * y * p, dx=dz)
    return float(mean), float(second - mean**2)


def _erfcx(x: float) -> float:
    """exp(x²)·erfc(x) for a float, without overflow for large x (asymptotic series beyond 25, where exp(x²) would
    overflow; its relative error there is below 1e-12)."""
    if x < 25.0:
        return math.exp(x * x) * math.erfc(x)
    x2 = 1.0 / (2.0 * x * x)
    return (1.0 - x2 + 3.0 * x2 * x2 - 15.0 * x2 ** 3 + 105.0 * x2 ** 4) / (x * math.sqrt(math.pi))


_R2 = math.sqrt(2.0)
_S2PI = math.sqrt(2 / math.pi)


def g_scalar(mu: float, nu: float, omega: float = 0.0, tau: float = 1.0) -> tuple[float, float]:
    """``g`` for plain floats, with the math module: the same formula, far faster per call than the tensor version
    (which pays torch's dispatch on every scalar operation). The fixed-point iteration calls it hundreds of times
    in a row."""
    m = mu * omega
    v = nu * tau
    if not v > 0:
        raise UserInputError("The variance ν·τ must be positive (ν > 0 and τ > 0).")
    s = math.sqrt(v)
    erfc0 = math.erfc(m / (_R2 * s))
    gauss = math.exp(-(m * m) / (2 * v))
    x1, x2 = (m + v) / (_R2 * s), (m + 2 * v) / (_R2 * s)  # as in g: scaled for x >= 0, plain below
    t1 = gauss * _erfcx(x1) if x1 >= 0 else math.exp(m + v / 2) * math.erfc(x1)
    t2 = gauss * _erfcx(x2) if x2 >= 0 else math.exp(2 * (m + v)) * math.erfc(x2)
    mean = 0.5 * LAMBDA * (m * (2 - erfc0) + ALPHA * t1 - ALPHA * erfc0 + _S2PI * s * gauss)
    second = 0.5 * LAMBDA ** 2 * ((m * m + v) * (2 - erfc0) + ALPHA ** 2 * (-2 * t1 + t2 + erfc0)
                                  + _S2PI * m * s * gauss)
    return mean, second - mean * mean


def jacobian(mu=0.0, nu=1.0, omega=0.0, tau=1.0) -> np.ndarray:
    """d(g_mean, g_var) / d(mu, nu) by autograd, float64."""
    def f(x):
        a, b = g(x[0], x[1], omega, tau)
        return torch.stack([a, b])

    return torch.autograd.functional.jacobian(f, _t([mu, nu])).numpy()


@functools.lru_cache(maxsize=256)
def largest_singular_value(mu=0.0, nu=1.0, omega=0.0, tau=1.0) -> float:
    return float(np.linalg.svd(jacobian(mu, nu, omega, tau), compute_uv=False)[0])


def iterate(mu0: float, nu0: float, omega: float, tau: float, steps: int = 30) -> np.ndarray:
    """The path (steps+1, 2) of (mu, nu) under repeated application of g (it stops where it leaves the floats)."""
    path = [(float(mu0), float(nu0))]
    mu, nu = float(mu0), float(nu0)
    for _ in range(steps):
        try:
            mu, nu = g_scalar(mu, max(nu, 1e-12), omega, tau)
        except OverflowError:
            break
        if not (math.isfinite(mu) and math.isfinite(nu)):
            break
        path.append((mu, nu))
    return np.array(path)


@functools.lru_cache(maxsize=256)
def fixed_point(omega: float, tau: float, start=(0.0, 1.0), steps: int = 500, tol: float = 1e-10):
    """Iterate g from ``start``; returns the fixed point, or None if it diverges or collapses (cached by ω, τ)."""
    p = iterate(*start, omega, tau, steps)
    if len(p) < steps + 1 or p[-1, 1] < 1e-6 or p[-1, 1] > 1e6:
        return None
    if np.abs(p[-1] - p[-2]).max() > 1e-6:
        return None
    return p[-1]


def figure_field(omega: float, tau: float, start=(0.5, 2.0), steps: int = 20) -> tuple[PlainFigure, str]:
    """Arrows g(mu, nu) - (mu, nu) over a grid, the fixed point, and the iteration path from ``start`` (the view's
    records check the values)."""
    if not (tau > 0 and start[1] > 0):
        raise UserInputError("The variance ν·τ must be positive (ν > 0 and τ > 0).")
    mus = np.linspace(-1.0, 1.0, 15)
    nus = np.linspace(0.3, 3.0, 15)
    M, N = np.meshgrid(mus, nus)
    gm, gv = g(_t(M), _t(N), omega, tau)
    U, V = gm.numpy() - M, gv.numpy() - N
    mag = np.hypot(U, V) + 1e-12
    scale = 0.09 / np.maximum(mag, 0.05)  # arrows of similar length, direction is what matters
    data = [_quiver(M, N, U * scale, V * scale, "g(μ, ν) − (μ, ν)")]
    path = iterate(*start, omega, tau, steps)
    data.append({"type": "scatter", "x": path[:, 0], "y": path[:, 1], "mode": "lines+markers",
                 "name": f"iterating g from {start}", "line": {"color": PALETTE[3], "width": 3}, "marker": {"size": 8}})
    fp = fixed_point(omega, tau)
    sv = None
    if fp is not None:
        data.append({"type": "scatter", "x": [float(fp[0])], "y": [float(fp[1])], "mode": "markers",
                     "name": f"fixed point ({fp[0]:.3f}, {fp[1]:.3f})",
                     "marker": {"symbol": "star", "size": 20, "color": PALETTE[1], "line": {"color": "black", "width": 1}}})
        sv = largest_singular_value(float(fp[0]), float(fp[1]), omega, tau)
    layout = {"xaxis": {"title": {"text": "mean μ"}, "range": [-1.1, 1.1]},
              "yaxis": {"title": {"text": "variance ν"}, "range": [0.2, 3.1]},
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
              "margin": {"l": 60, "r": 20, "t": 60, "b": 130}}
    return plain(data, layout, f"The moment mapping g for ω = {omega:g}, τ = {tau:g}", height=520), field_text(fp, sv)


def field_text(fp, sv) -> str:
    """The field's sentence: where the iteration from (0, 1) settled, and whether g contracts there (largest
    singular value of its Jacobian below 1)."""
    if fp is None:
        return "**No stable fixed point** is reached from (0, 1) for these ω, τ: the variance collapses or explodes."
    return (f"Fixed point at **(μ, ν) = ({fp[0]:.4f}, {fp[1]:.4f})**; the Jacobian of g there has largest "
            f"singular value **{sv:.4f}** {'< 1: it attracts' if sv < 1 else '≥ 1: not a contraction'}.")


def _quiver(x, y, u, v, name: str, head: float = 0.3, angle: float = math.radians(20)) -> dict:
    """Arrows from (x, y) along (u, v) as one line trace (shafts and two head strokes, None between arrows):
    plotly's figure_factory.create_quiver draws the same, at many times the cost."""
    x, y, u, v = (np.ravel(a) for a in (x, y, u, v))
    tx, ty = x + u, y + v
    ang = np.arctan2(v, u)
    L = head * np.hypot(u, v)
    lx, ly = tx - L * np.cos(ang + angle), ty - L * np.sin(ang + angle)
    rx, ry = tx - L * np.cos(ang - angle), ty - L * np.sin(ang - angle)
    nan = np.full_like(x, np.nan)
    xs = np.stack([x, tx, nan, lx, tx, rx, nan], 1).ravel()
    ys = np.stack([y, ty, nan, ly, ty, ry, nan], 1).ravel()
    return {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": name, "hoverinfo": "skip",
            "line": {"color": "#8a8a8a", "width": 1.5}, "connectgaps": False}


def figure_cos(x0: float = 1.0, steps: int = 15) -> PlainFigure:
    """The lecture's fixed-point iteration x <- cos(x), as a cobweb, converging to 0.739 (the Dottie number)."""
    xs = np.linspace(-0.2, max(1.6, x0 + 0.1), 300)
    px, py = [x0], [0.0]
    x = x0
    for _ in range(steps):
        y = math.cos(x)
        px += [x, y]
        py += [y, y]
        x = y
    data = [{"type": "scatter", "x": xs, "y": np.cos(xs), "name": "y = cos(x)", "line": {"color": PALETTE[0]}},
            {"type": "scatter", "x": xs, "y": xs, "name": "y = x", "line": {"color": "#888", "dash": "dash"}},
            {"type": "scatter", "x": px, "y": py, "name": "x ← cos(x)", "mode": "lines",
             "line": {"color": PALETTE[3], "width": 2}},
            {"type": "scatter", "x": [0.7390851332], "y": [0.7390851332], "mode": "markers", "name": "fixed point 0.7391",
             "marker": {"symbol": "star", "size": 18, "color": PALETTE[1], "line": {"color": "black", "width": 1}}}]
    # the legend sits well below the x title (at 720p the two overlapped)
    layout = {"xaxis": {"title": {"text": "x"}}, "yaxis": {"title": {"text": "y"}, "scaleanchor": "x"},
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0},
              "margin": {"l": 60, "r": 20, "t": 60, "b": 140}}
    return plain(data, layout, "The same idea in 1-D: iterate x ← cos(x)", height=520)


# --- deep networks ---------------------------------------------------------------------------------------
def lecun_normal_(w: torch.Tensor, generator=None) -> torch.Tensor:
    """N(0, 1/fan_in): torch's kaiming_normal_(w, nonlinearity='linear') (not nonlinearity='selu', whose gain
    3/4 gives std 0.75/sqrt(fan_in))."""
    with torch.no_grad():
        return w.normal_(0.0, 1.0 / math.sqrt(w.shape[1]), generator=generator)


class Dropout(nn.Module):
    """torch's dropout (keep with probability 1 - p, scale by 1/(1 - p)) drawing its masks from its own
    generator, so a long run never holds the process-wide seed lock (demos/common/rng.py)."""

    def __init__(self, p: float, generator: torch.Generator):
        super().__init__()
        self.p, self.generator = p, generator

    def mask(self, x):
        keep = torch.rand(x.shape, generator=self.generator) >= self.p
        return keep.to(x.device, x.dtype)

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        return x * self.mask(x) / (1 - self.p)


class AlphaDropout(Dropout):
    """torch's AlphaDropout with its own generator. As ATen's alpha dropout: dropped units are set to
    -lambda*alpha (SELU's saturation value), then a*x + b restores mean 0 and variance 1:
    a = ((1 - p)(1 + p alpha'^2))^(-1/2), b = a * alpha' * p, with alpha' = lambda*alpha = 1.7581."""

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        ap = ALPHA * LAMBDA
        keep = self.mask(x)
        a = 1.0 / math.sqrt((ap * ap * self.p + 1) * (1 - self.p))
        return x * keep * a + (keep - 1) * ap * a + ap * a * self.p


def build_net(activation: str, depth: int, width: int, dropout: str | None = None, p: float = 0.1,
              seed: int = 0, init: str = "lecun") -> nn.Sequential:
    """One block per layer; depth, width and the input's moments are bounded by the views' records."""
    gen = torch.Generator().manual_seed(seed)
    blocks = []
    for _ in range(depth):
        lin = nn.Linear(width, width, bias=False)
        if activation == "ReLU (He init)":
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu", generator=gen)
        elif init == "lecun":
            lecun_normal_(lin.weight, gen)
        elif init == "kaiming_selu":
            nn.init.kaiming_normal_(lin.weight, nonlinearity="selu", generator=gen)
        else:
            raise UserInputError(f"unknown init {init!r}")
        layers = [lin]
        if activation == "ReLU + BatchNorm":
            layers += [nn.BatchNorm1d(width), nn.ReLU()]
        else:
            layers.append({"SELU": nn.SELU(), "ReLU": nn.ReLU(), "ReLU (He init)": nn.ReLU(),
                           "tanh": nn.Tanh()}[activation])
        if dropout == "alpha":
            layers.append(AlphaDropout(p, gen))
        elif dropout == "standard":
            layers.append(Dropout(p, gen))
        blocks.append(nn.Sequential(*layers))
    return nn.Sequential(*blocks)  # one block per layer: Linear, [BatchNorm], activation, [dropout]


def layer_stats(net: nn.Sequential, x: torch.Tensor, keep_hist=(1,)) -> dict:
    """Per-layer mean and variance of the activations (each block's output), per-layer gradient norms of the
    weights for a fixed random linear read-out, and activation samples at the chosen depths (1-based)."""
    acts = []
    h = x
    for block in net:
        h = block(h)
        acts.append(h)
    readout = torch.randn(h.shape[1], generator=torch.Generator().manual_seed(1)).to(h) / math.sqrt(h.shape[1])
    (h @ readout).sum().backward()
    return {
        "mean": np.array([float(a.detach().mean()) for a in acts]),
        "var": np.array([float(a.detach().var()) for a in acts]),
        "grad": np.array([float(block[0].weight.grad.norm()) for block in net]),
        "hist": {d: acts[d - 1].detach().flatten()[:20000].cpu().numpy() for d in keep_hist if 1 <= d <= len(acts)},
    }


def run_deep(activations=ACTIVATIONS, depth: int = 32, width: int = 512, batch: int = 512, mean0: float = 0.5,
             var0: float = 4.0, dropout: str | None = None, p: float = 0.1, seed: int = 0, device="cpu") -> dict:
    """Per-activation layer statistics for an input drawn from N(mean0, var0), on ``device``."""
    gen = torch.Generator().manual_seed(seed)
    x = (mean0 + math.sqrt(var0) * torch.randn(batch, width, generator=gen)).to(device)
    depths = sorted({1, max(1, depth // 2), depth})
    out = {}
    for act in activations:
        net = build_net(act, depth, width, dropout if act == "SELU" else None, p, seed).to(device).train()
        out[act] = layer_stats(net, x, keep_hist=depths)  # dropout masks come from the net's own generator
    out["_depths"] = depths
    return out


COLORS = {"SELU": PALETTE[0], "ReLU": PALETTE[3], "ReLU (He init)": PALETTE[1], "tanh": PALETTE[2], "ReLU + BatchNorm": PALETTE[4],
          "SELU + AlphaDropout": PALETTE[0], "SELU + Dropout": PALETTE[3]}


def figure_deep(res: dict, title: str) -> go.Figure:
    fig = make_subplots(1, 3, subplot_titles=("mean of activations", "variance of activations",
                                              "gradient norm of layer weights"), horizontal_spacing=0.08)
    for name, r in res.items():
        if name.startswith("_"):
            continue
        L = np.arange(1, len(r["mean"]) + 1)
        kw = dict(line=dict(color=COLORS.get(name, "#444"), width=3), legendgroup=name)
        fig.add_trace(go.Scatter(x=L, y=r["mean"], name=name, **kw), 1, 1)
        fig.add_trace(go.Scatter(x=L, y=r["var"], name=name, showlegend=False, **kw), 1, 2)
        fig.add_trace(go.Scatter(x=np.arange(1, len(r["grad"]) + 1), y=r["grad"], name=name, showlegend=False,
                                 **kw), 1, 3)
    fig.add_hline(y=0, line=dict(color="#999", dash="dot"), row=1, col=1)
    fig.add_hline(y=1, line=dict(color="#999", dash="dot"), row=1, col=2)
    for col, key in ((2, "var"), (3, "grad")):  # under 1.5 decades (dropout's 1 to 1.6): 1-2-5 ticks, not one label
        vals = [float(v) for name, r in res.items() if not name.startswith("_") for v in r[key]]
        vals = [v for v in vals if v > 0 and np.isfinite(v)]
        narrow = bool(vals) and np.log10(max(vals) / min(vals)) < 1.5
        fig.update_yaxes(type="log", exponentformat="power", row=1, col=col,
                         **(log_ticks(vals) if narrow else {"dtick": 1}))
    fig.update_xaxes(title_text="layer")
    return style(fig, title, height=460, legend=dict(orientation="h", yanchor="top", y=-0.22, x=0),
                 margin=dict(t=80, b=110))


def figure_hists(res: dict) -> go.Figure:
    depths = res["_depths"]
    names = [n for n in res if not n.startswith("_")]
    fig = make_subplots(1, len(depths), subplot_titles=[f"layer {d}" for d in depths], horizontal_spacing=0.06)
    for j, d in enumerate(depths):
        for name in names:
            v = res[name]["hist"].get(d)
            if v is None:
                continue
            counts, edges = np.histogram(np.clip(v, -3, 4), bins=70, range=(-3, 4))
            fig.add_trace(go.Scatter(x=0.5 * (edges[1:] + edges[:-1]), y=counts / max(1, counts.sum()), name=name,
                                     legendgroup=name, showlegend=j == 0, mode="lines",
                                     line=dict(color=COLORS.get(name, "#444"), width=2.5, shape="hvh")), 1, j + 1)
    fig.update_xaxes(title_text="activation value (clipped to [-3, 4])", range=[-3, 4])
    fig.update_yaxes(type="log", dtick=1, exponentformat="power", range=[-5, 0])
    for j in range(2, len(depths) + 1):  # one scale for all panels: labelled once (the next panel's 10^-5 ran into "4")
        fig.update_yaxes(showticklabels=False, row=1, col=j)
    return style(fig, "Activation histograms at a few depths (fraction of units per bin, log scale)", height=420,
                 legend=dict(orientation="h", yanchor="top", y=-0.25, x=0), margin=dict(t=80, b=110))
