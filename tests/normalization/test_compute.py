"""Normalization panels against torch's own modules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from demos.common.errors import UserInputError
from demos.normalization import compute as C
from demos.normalization import training as T


@pytest.mark.parametrize("source", C.SOURCES)
def test_step_through_equals_torch_batchnorm(source):
    x = C.make_batch(source, 6)
    steps = C.batchnorm_steps(x, gamma=1.7, beta=-0.3)
    ref = C.torch_batchnorm(x, 1.7, -0.3)
    assert torch.allclose(steps["y"], ref, atol=1e-4)
    assert torch.allclose(steps["xhat"].mean((0, 2, 3)), torch.zeros(x.shape[1]), atol=1e-5)
    v = steps["var"]  # the variance of x_hat is var / (var + eps): 1 up to eps
    assert torch.allclose(steps["xhat"].var((0, 2, 3), unbiased=False), v / (v + C.EPS), atol=1e-4)


def test_conv_activations_are_real_and_shaped():
    x = C.make_batch(C.SOURCES[0], 3)
    assert x.shape == (3, 8, 32, 32) and x.std() > 0


def test_batch_of_one_single_value_is_refused_like_torch():
    x = torch.randn(1, 2, 1, 1)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        torch.nn.BatchNorm2d(2).train()(x)
    with pytest.raises(UserInputError, match="more than one value per channel"):
        C.batchnorm_steps(x, 1.0, 0.0)


def test_running_statistics_follow_torchs_ema():
    res = C.running_stats("Gaussian", batch=4, steps=30, momentum=0.1)
    assert np.allclose(res["running_mean"], res["formula_mean"], atol=1e-5)
    assert np.allclose(res["running_var"], res["formula_var"], rtol=1e-4, atol=1e-5)
    # eval mode uses the running statistics: the result is not the image's own normalization
    assert (res["eval"] - res["own"]).abs().mean() > 0.01


def test_shifted_test_data_increases_the_mismatch():
    a = C.running_stats("Gaussian", batch=16, steps=50, momentum=0.1, shift=0.0)
    b = C.running_stats("Gaussian", batch=16, steps=50, momentum=0.1, shift=3.0)
    assert (b["eval"] - b["own"]).abs().mean() > 2 * (a["eval"] - a["own"]).abs().mean()


@pytest.mark.parametrize("groups", [1, 2, 4, 8])
def test_variants_match_torch_and_the_identities(groups):
    x = torch.randn(4, 8, 3, 3, generator=torch.Generator().manual_seed(1)) * 3 + 2
    rows = C.variant_check(x, groups)
    for r in rows:
        assert r["max |difference|"] < 1e-4, r


def test_group_mask_sizes():
    shape = (4, 8, 3, 3)
    assert C.group_mask("BatchNorm", shape, 0, 0).sum() == 4 * 9
    assert C.group_mask("LayerNorm", shape, 0, 0).sum() == 8 * 9
    assert C.group_mask("InstanceNorm", shape, 0, 0).sum() == 9
    assert C.group_mask("GroupNorm", shape, 0, 5, groups=2).sum() == 4 * 9


def test_groups_that_do_not_divide_channels():
    with pytest.raises(UserInputError, match="divide"):
        C.group_mask("GroupNorm", (4, 8, 3, 3), 0, 0, groups=3)


@pytest.mark.parametrize("bad", [dict(momentum=0.0), dict(momentum=float("nan")), dict(steps=0)])
def test_bad_controls(bad):
    with pytest.raises(UserInputError):
        C.running_stats("Gaussian", **{"batch": 4, "steps": 5, "momentum": 0.1, **bad})


def test_live_training_streams_and_batchnorm_learns_at_high_lr():
    updates = list(T.train_stream(steps=200, lr=0.1, every=50))  # SGD + momentum 0.9: effectively high
    assert [s for s, _ in updates] == [50, 100, 150, 200]
    hist = updates[-1][1]
    assert set(hist) == {"BatchNorm", "GroupNorm", "none"} and all(len(v) == 200 for v in hist.values())
    bn = np.nanmean(hist["BatchNorm"][-30:])
    none = np.nanmean(hist["none"][-30:])
    assert bn < 1.0 and bn < none  # chance level is ln 4 = 1.39


def test_batch_size_experiment_yields_both_norms_per_batch():
    rows = list(T.batch_size_experiment(batch_sizes=(2, 8), steps=5))
    assert [(b, k) for b, k, _, _ in rows] == [(2, "BatchNorm"), (2, "GroupNorm"), (8, "BatchNorm"), (8, "GroupNorm")]
    assert all(0 <= err <= 1 and sec > 0 for _, _, err, sec in rows)
