"""Dropout and weight decay against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from demos.common.errors import UserInputError
from demos.dropout import compute as C


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
def test_step_through_equals_torch_dropout(p):
    x = C.activations()
    st = C.step_through(x, p, seed=3)
    assert torch.equal(st["out"], st["torch"])
    assert torch.equal(st["eval"], x)
    kept = st["out"][st["mask"]]
    assert torch.allclose(kept, x[st["mask"]] / (1 - p))
    assert (st["out"][~st["mask"]] == 0).all()


def test_p_one_returns_zeros_like_torch():
    x = C.activations()
    st = C.step_through(x, 1.0, seed=0)
    assert (st["torch"] == 0).all() and (st["out"] == 0).all()


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "x"])
def test_bad_p(p):
    with pytest.raises(UserInputError):
        C.check_p(p)


def test_mask_average_converges_at_the_expected_rate():
    x = C.activations()
    err, theory = C.mask_average_error(x, 0.5, 1000)
    assert err[-1] < 0.05 and err[-1] < err[9] < err[0]
    assert err[-1] == pytest.approx(theory[-1], rel=0.3)


def test_expectation_is_unchanged():
    x = C.activations()
    outs = torch.stack([C.step_through(x, 0.3, s)["out"] for s in range(400)])
    assert torch.allclose(outs.mean(0), x, atol=0.08)


def test_sgd_weight_decay_equals_l2_and_decoupled():
    r = C.sgd_step_check(lr=0.1, wd=0.05)
    assert torch.allclose(r["weight_decay"], r["decoupled"], atol=1e-6)
    assert torch.allclose(r["l2_penalty"], r["decoupled"], atol=1e-6)


def test_adam_l2_and_adamw_differ():
    last = None
    for _, hist in C.adam_vs_adamw(0.05, epochs=200, every=50, seeds=(0,)):
        last = hist
    a, w = last["Adam + L2"][0][-1], last["AdamW"][0][-1]
    assert abs(a[1] - w[1]) / w[1] > 0.05  # different weight norms with the same coefficient


def test_adamw_is_torchs_decoupled_update_and_seeds_give_their_own_nets():
    """One step by hand: AdamW shrinks by (1 − lr·λ) then takes Adam's step; Adam + L2 adds λw to the gradient."""
    import torch.nn.functional as F

    (_, h1), = list(C.adam_vs_adamw(0.5, epochs=1, every=1, seeds=(0, 1)))
    assert h1["AdamW"][0][0][1] != h1["AdamW"][1][0][1]  # seed 1 has its own initial weights
    xt, yt = C.noisy_sine(24, 0)
    with C.seeded(0):
        m = C.MLP(0.0)
    w = [p.detach().clone() for p in m.parameters()]
    F.mse_loss(m(xt), yt).backward()
    lr, wd = C.LR_ADAM, 0.5
    by_hand = [((1 - lr * wd) * p - lr * p.grad / (p.grad.abs() + 1e-8)).detach() for p in m.parameters()]  # Adam's first step
    norm = float(torch.sqrt(sum(p.pow(2).sum() for (n, _), p in zip(m.named_parameters(), by_hand) if "weight" in n)))
    assert h1["AdamW"][0][0][1] == pytest.approx(norm, rel=1e-5)
    assert w[0].shape == by_hand[0].shape


def test_overfit_stream_and_mc_dropout():
    updates = list(C.overfit_stream(epochs=20, every=10))
    ep, hist, models = updates[-1]
    assert ep == 20 and set(hist) == {0.0, 0.2, 0.5} and all(set(h) == set(C.SEEDS) for h in hist.values())
    assert all(len(tr) == 2 and len(va) == 2 for h in hist.values() for tr, va in h.values())
    again = list(C.overfit_stream(epochs=20, every=10))[-1][1]
    assert again[0.5][1] == hist[0.5][1]  # dropout masks from the nets' own generators: a rerun is the same
    x, mean, std = C.mc_dropout(models[0.5], samples=20)
    assert x.shape == mean.shape == std.shape == (200,)
    assert (std > 0).all()
    x0, m0, s0 = C.mc_dropout(models[0.0], samples=5)
    assert np.allclose(s0, 0)  # no dropout, no spread


def test_adam_l2_decays_large_gradient_weights_less_than_adamw_decays_any():
    """Loshchilov and Hutter 2019 (docs/facts.md 4): Adam + L2's decay lr·λ/(√v̂ + ε) falls as the gradient
    scale grows; AdamW's is lr·λ for every weight. Read from torch's own optimizer state."""
    last = None
    for _, hist in C.adam_vs_adamw(0.05, epochs=200, every=100, seeds=(0,)):
        last = hist
    d = last["decay"]
    assert d["adamw"] == pytest.approx(1e-3 * 0.05)
    order = np.argsort(d["rms_grad"])
    assert np.all(np.diff(d["adam_l2"][order]) <= 1e-15)  # larger gradient scale -> smaller decay
    assert d["adam_l2"][order[-1]] < 0.1 * d["adam_l2"][order[0]]  # and the spread is large here
    assert np.allclose(d["adam_l2"], 1e-3 * 0.05 / (d["rms_grad"] + 1e-8))
