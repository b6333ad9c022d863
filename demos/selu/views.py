"""The SELU tab's views: parameter records and the functions the tab wires (no Gradio here)."""

from __future__ import annotations

import functools

from demos.common.device import get_device
from demos.common.params import Param, takes

from . import compute as C

OMEGA = Param("omega", "ω (sum of weights)", -1, 1, 0.0, 0.01)
TAU = Param("tau", "τ (sum of squared weights)", 0.1, 2, 1.0, 0.01)
MU0 = Param("mu0", "start μ", -1, 1, 0.5, 0.01)
NU0 = Param("nu0", "start ν", 0.3, 3, 2.0, 0.01)
STEPS = Param("steps", "iterations", 1, 50, 12, 1, integer=True)
X0 = Param("x0", "x₀ for x ← cos(x)", -1.5, 1.5, 1.0, 0.01)
DEPTH = Param("depth", "depth (layers)", 1, C.MAX_DEPTH, 32, 1, integer=True)
WIDTH = Param("width", "width (units)", 16, C.MAX_WIDTH, 512, 16, integer=True,
              help=f"worst case ({C.MAX_DEPTH} x {C.MAX_WIDTH}) under 30 s on a 2-core CPU")
MEAN0 = Param("mean0", "input mean", -2, 2, 0.5, 0.1)
VAR0 = Param("var0", "input variance", 0.1, 10, 4.0, 0.1)
P = Param("p", "drop probability p", 0, 0.5, 0.1, 0.01)


@takes(OMEGA, TAU, MU0, NU0, STEPS, X0)
@functools.lru_cache(maxsize=128)  # a pure view: the same checked values give the same figures (~50 kB each)
def selu_field(omega, tau, mu0, nu0, steps, x0) -> dict:
    """SELU's moment mapping g(mu, nu) for weights whose sum is omega and sum of squares tau, iterated from (mu0, nu0), beside the fixed-point iteration x <- cos(x).
    Returns:
        field: a plotly figure of the arrows g(mu, nu) - (mu, nu), the fixed point and the iteration's path
        text: Markdown with the fixed point and the largest singular value of g's Jacobian there (or that none is reached)
        cos: a plotly cobweb figure of x <- cos(x) from x0, converging to 0.739
    """
    fig, text = C.figure_field(omega, tau, (mu0, nu0), steps)
    return {"field": fig, "text": text, "cos": C.figure_cos(x0, steps)}


@takes(DEPTH, WIDTH, MEAN0, VAR0, seconds=lambda depth, width, **_: 1 + 14 * (depth / 64) * (width / 1024) ** 2)
def selu_deep(depth, width, mean0, var0, report=None) -> dict:
    """Activations through a deep fully connected net (SELU, ReLU with LeCun and He init, tanh, ReLU + BatchNorm) from an input of the given mean and variance.
    Returns:
        plot: a plotly figure of each activation's mean, variance and weight gradient norm per layer
        hists: a plotly figure of the activations' histograms at a few layers
        text: Markdown with each network's mean and variance after the last layer
    """
    dev = get_device()
    if report:
        report(0.1, f"{depth} layers x {width} units on {dev.type}")
    res = C.run_deep(depth=depth, width=width, mean0=mean0, var0=var0, device=dev)
    s = res["SELU"]
    he = res.get("ReLU (He init)")
    text = (f"After {depth} layers from an input of mean {mean0:g} and variance {var0:g}: **SELU** mean "
            f"{s['mean'][-1]:.3f}, variance {s['var'][-1]:.3f}; ReLU with LeCun init (variance 1/n) variance "
            f"{res['ReLU']['var'][-1]:.2e} (it halves at every layer)"
            + (f", ReLU with He init (variance 2/n, the fair baseline) variance {he['var'][-1]:.3f}" if he else "")
            + f"; tanh {res['tanh']['var'][-1]:.3f}, ReLU + BatchNorm mean {res['ReLU + BatchNorm']['mean'][-1]:.2f} "
            "(BatchNorm normalizes before the ReLU).")
    return {"plot": C.figure_deep(res, f"{depth}-layer, {width}-wide fully connected network"),
            "hists": C.figure_hists(res), "text": text}


# bench worst, two sittings: 64 x 1024 7.7 s and 6.7 s, 32 x 512 1.3 s and 1.0 s
@takes(P, DEPTH, WIDTH, seconds=lambda depth, width, **_: 0.3 + 6.9 * (depth / 64) * (width / 1024) ** 2)
def selu_dropout(p, depth, width) -> dict:
    """A deep SELU net in training mode with AlphaDropout against ordinary dropout at drop probability p (input mean 0, variance 1).
    Returns:
        plot: a plotly figure of both nets' activation mean, variance and weight gradient norm per layer
        text: Markdown with both nets' mean and variance after the last layer
    """
    dev = get_device()
    a = C.run_deep(["SELU"], depth=depth, width=width, mean0=0.0, var0=1.0, dropout="alpha", p=p, device=dev)
    d = C.run_deep(["SELU"], depth=depth, width=width, mean0=0.0, var0=1.0, dropout="standard", p=p, device=dev)
    res = {"SELU + AlphaDropout": a["SELU"], "SELU + Dropout": d["SELU"], "_depths": a["_depths"]}
    text = (f"Training mode, p = {p:g}. **AlphaDropout** sets dropped units to −λα = {C.ALPHA_PRIME:.4f} (SELU's "
            f"saturation value) and applies an affine map that restores mean and variance: after {depth} layers mean "
            f"{a['SELU']['mean'][-1]:.3f}, variance {a['SELU']['var'][-1]:.3f}. **Ordinary dropout** zeroes and "
            f"scales by 1/(1−p), which keeps the mean of a ReLU net but not SELU's variance: mean "
            f"{d['SELU']['mean'][-1]:.3f}, variance {d['SELU']['var'][-1]:.3f}.")
    return {"plot": C.figure_deep(res, "SELU network with AlphaDropout vs Dropout (mean 0, variance 1 input)"),
            "text": text}
