"""SELU: constants, the closed-form moment mapping, the fixed point and its Jacobian, deep networks."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from demos.common.errors import UserInputError
from demos.selu import compute as C


def test_constants_are_torchs_and_have_closed_forms():
    x = torch.tensor([-1.0, 2.0], dtype=torch.float64)
    expected = torch.where(x > 0, C.LAMBDA * x, C.LAMBDA * C.ALPHA * (torch.exp(x) - 1))
    assert torch.allclose(F.selu(x), expected, atol=1e-7)
    # closed forms (Klambauer et al. 2017): alpha01 = -sqrt(2/pi) / (erfc(1/sqrt2) exp(1/2) - 1)
    erfc = math.erfc(1 / math.sqrt(2))
    alpha = -math.sqrt(2 / math.pi) / (erfc * math.exp(0.5) - 1)
    lam = (1 - erfc * math.sqrt(math.e)) * math.sqrt(2 * math.pi) * (
        2 * math.erfc(math.sqrt(2)) * math.e**2 + math.pi * erfc**2 * math.e - 2 * (2 + math.pi) * erfc * math.sqrt(math.e)
        + math.pi + 2) ** -0.5
    assert C.ALPHA == pytest.approx(alpha, rel=1e-12)
    assert C.LAMBDA == pytest.approx(lam, rel=1e-12)
    assert C.ALPHA_PRIME == pytest.approx(-1.7580993408, abs=1e-9)


@given(mu=st.floats(-1.5, 1.5), nu=st.floats(0.2, 3.0), omega=st.floats(-1, 1), tau=st.floats(0.5, 1.5))
@settings(max_examples=40, deadline=None)
def test_closed_form_matches_numerical_integration(mu, nu, omega, tau):
    m, v = C.g(mu, nu, omega, tau)
    mn, vn = C.g_numeric(mu, nu, omega, tau)
    assert float(m) == pytest.approx(mn, abs=1e-7)
    assert float(v) == pytest.approx(vn, abs=1e-7)


def test_closed_form_matches_monte_carlo():
    gen = torch.Generator().manual_seed(0)
    mu, nu, omega, tau = 0.4, 1.6, 0.3, 1.2
    z = mu * omega + math.sqrt(nu * tau) * torch.randn(2_000_000, generator=gen, dtype=torch.float64)
    y = F.selu(z)
    m, v = C.g(mu, nu, omega, tau)
    assert float(m) == pytest.approx(float(y.mean()), abs=3e-3)
    assert float(v) == pytest.approx(float(y.var()), abs=5e-3)


def test_zero_one_is_a_fixed_point_and_attracts():
    m, v = C.g(0.0, 1.0, 0.0, 1.0)
    assert abs(float(m)) < 1e-12 and float(v) == pytest.approx(1.0, abs=1e-12)
    assert C.largest_singular_value() == pytest.approx(0.788, abs=0.001)
    path = C.iterate(0.8, 2.5, 0.0, 1.0, steps=40)
    assert np.abs(path[-1] - [0.0, 1.0]).max() < 1e-4


def test_fixed_point_moves_with_omega_and_tau():
    fp = C.fixed_point(0.1, 1.05)
    assert fp is not None and abs(fp[0]) > 0.01 and fp[1] != pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("nu,tau", [(0.0, 1.0), (1.0, 0.0), (-1.0, 1.0)])
def test_nonpositive_variance_is_refused(nu, tau):
    with pytest.raises(UserInputError, match="positive"):
        C.g(0.0, nu, 0.0, tau)
    with pytest.raises(UserInputError):
        C.figure_field(0.0, tau, (0.0, nu))


def test_deep_selu_network_self_normalizes():
    """docs/facts.md 5 (Klambauer et al. 2017): a 32-layer, 512-wide SELU net started at mean 0.5, variance 4 ends near (0, 1)."""
    res = C.run_deep(["SELU", "ReLU"], depth=32, width=512, mean0=0.5, var0=4.0)
    assert abs(res["SELU"]["mean"][-1]) < 0.1
    assert abs(res["SELU"]["var"][-1] - 1.0) < 0.1
    assert res["ReLU"]["var"][-1] < 1e-3  # LeCun weights halve ReLU's second moment per layer
    assert res["SELU"]["grad"].shape == (32,)


def test_alpha_dropout_keeps_the_fixed_point_and_dropout_does_not():
    a = C.run_deep(["SELU"], depth=32, width=512, mean0=0.0, var0=1.0, dropout="alpha", p=0.1)["SELU"]
    d = C.run_deep(["SELU"], depth=32, width=512, mean0=0.0, var0=1.0, dropout="standard", p=0.1)["SELU"]
    assert abs(a["mean"][-1]) < 0.1 and abs(a["var"][-1] - 1) < 0.1
    assert abs(d["var"][-1] - 1) > 0.3


def test_kaiming_selu_is_not_lecun():
    x = torch.randn(512, 256, generator=torch.Generator().manual_seed(0))
    lecun = C.layer_stats(C.build_net("SELU", 32, 256, init="lecun"), x)
    kaiming = C.layer_stats(C.build_net("SELU", 32, 256, init="kaiming_selu"), x)
    assert abs(lecun["var"][-1] - 1) < 0.15 and kaiming["var"][-1] < 0.3


@pytest.mark.parametrize("kw", [dict(depth=0), dict(depth=10_000), dict(width=1), dict(width=100_000),
                                dict(mean0=float("nan")), dict(var0=0.0)])
def test_limits_are_the_records(kw):
    """Ranges live in the records only (no second check in compute.py); the sentence is the record's."""
    from demos.selu import views as V

    (key, value), = kw.items()
    rec = next(r for r in V.selu_deep.params if r.key == key)
    with pytest.raises(UserInputError, match=re.escape(f"{rec.label} must be {rec.range_text}")):
        V.selu_deep.checked(**{"depth": 4, "width": 16, "mean0": 0.0, "var0": 1.0, **kw})


@given(mu=st.floats(-3, 3), nu=st.floats(0.05, 8.0), omega=st.floats(-1, 1), tau=st.floats(0.1, 2.0))
@settings(max_examples=200, deadline=None)
def test_scalar_g_is_the_tensor_g(mu, nu, omega, tau):
    """#29: the iteration's g (math module, one float at a time) gives the tensor version's numbers."""
    m, v = C.g(mu, nu, omega, tau)
    ms, vs = C.g_scalar(mu, nu, omega, tau)
    assert ms == pytest.approx(float(m), rel=1e-12, abs=1e-13)
    assert vs == pytest.approx(float(v), rel=1e-12, abs=1e-13)


def _iterate_torch(mu0, nu0, omega, tau, steps):
    """The former implementation: g on float64 tensors, one step at a time."""
    path = [(mu0, nu0)]
    mu, nu = torch.tensor(mu0, dtype=torch.float64), torch.tensor(nu0, dtype=torch.float64)
    for _ in range(steps):
        mu, nu = C.g(mu, nu.clamp_min(1e-12), omega, tau)
        if not (torch.isfinite(mu) and torch.isfinite(nu)):
            break
        path.append((float(mu), float(nu)))
    return np.array(path)


@pytest.mark.parametrize("omega,tau", [(0.0, 1.0), (0.3, 1.2), (-0.8, 0.4), (1.0, 2.0), (0.1, 1.05), (-1.0, 0.1)])
def test_iteration_and_fixed_point_match_the_tensor_iteration(omega, tau):
    fast = C.iterate(0.5, 2.0, omega, tau, 50)
    slow = _iterate_torch(0.5, 2.0, omega, tau, 50)
    assert fast.shape == slow.shape and np.allclose(fast, slow, rtol=1e-12, atol=1e-12)
    fp = C.fixed_point(omega, tau)
    ref = _iterate_torch(0.0, 1.0, omega, tau, 500)
    if fp is not None:
        assert np.allclose(fp, ref[-1], rtol=1e-12, atol=1e-12)


def test_the_default_field_is_the_papers_fixed_point():
    """docs/facts.md 5: (0, 1) is the fixed point for ω = 0, τ = 1, and the Jacobian's largest singular value is 0.788."""
    fp = C.fixed_point(0.0, 1.0)
    assert np.allclose(fp, [0.0, 1.0], atol=1e-10)
    fig, text = C.figure_field(0.0, 1.0)
    assert "(0.0000, 1.0000)" in text and "0.7877" in text and "attracts" in text


@given(mu=st.floats(-2, 2), nu=st.floats(0.01, 10), sv=st.floats(0, 3), none=st.booleans())
@settings(max_examples=100, deadline=None)
def test_field_text_says_attracts_only_below_one(mu, nu, sv, none):
    text = C.field_text(None if none else np.array([mu, nu]), None if none else sv)
    if none:
        assert "No stable fixed point" in text
        return
    assert ("it attracts" in text) == (sv < 1) and f"**{sv:.4f}**" in text


def test_plain_figures_are_the_same_picture():
    """The field and the cobweb are plain dicts (no go.Figure on the slider's path); a go.Figure made from them is the
    figure the former code built."""
    import json

    import plotly.graph_objects as go

    from demos.common.plotstyle import figure

    for fig in (C.figure_field(0.2, 1.1, (0.5, 2.0), 12)[0], C.figure_cos(0.3, 12)):
        assert not isinstance(fig, go.Figure)
        rebuilt = figure(fig["data"], {k: v for k, v in fig["layout"].items() if k != "template"})
        assert json.loads(go.Figure(dict(fig)).to_json()) == json.loads(rebuilt.to_json())


def test_own_generator_dropouts_match_torch_in_distribution():
    """The SELU tab's dropouts draw from their own generator (no global seed lock); their statistics equal
    torch's nn.Dropout / nn.AlphaDropout on the same input (docs/facts.md 5)."""
    import torch

    x = torch.randn(2000, 512, generator=torch.Generator().manual_seed(3))
    for mine, ref in ((C.AlphaDropout(0.2, torch.Generator().manual_seed(0)), torch.nn.AlphaDropout(0.2)),
                      (C.Dropout(0.2, torch.Generator().manual_seed(0)), torch.nn.Dropout(0.2))):
        a, b = mine.train()(x), ref.train()(x)
        assert abs(float(a.mean()) - float(b.mean())) < 0.01 and abs(float(a.var()) - float(b.var())) < 0.02
        assert torch.equal(mine.eval()(x), x)
    # dropped units of AlphaDropout sit at one value: a * (-lambda*alpha) + b
    ad = C.AlphaDropout(0.5, torch.Generator().manual_seed(1)).train()
    y = ad(torch.zeros(1, 10000) + 5.0)
    assert len(torch.unique(y.round(decimals=4))) == 2
