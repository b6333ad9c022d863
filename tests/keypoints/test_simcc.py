"""SimCC's codec (demos/keypoints/simcc.py) against hand-computed cases and torch, and its head's shapes."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import demos.keypoints as kp
from demos.keypoints import simcc


def test_a_bin_covers_one_kth_of_a_pixel_and_its_centre_is_half_a_bin_in():
    assert simcc.bin_centres(4, k=2).tolist() == [0.25, 0.75, 1.25, 1.75]


def test_argmax_returns_the_best_bins_centre():
    logits = torch.zeros(1, 1, 128)
    logits[0, 0, 37] = 5.0
    assert float(simcc.decode(logits, "argmax")) == pytest.approx((37 + 0.5) / 2)


def test_soft_argmax_of_two_equal_bins_is_their_midpoint_and_of_flat_logits_the_axis_centre():
    logits = torch.full((128,), -1e4)
    logits[[10, 20]] = 0.0
    assert float(simcc.decode(logits, "soft_argmax")) == pytest.approx((10.5 + 20.5) / 2 / 2)
    assert float(simcc.decode(torch.zeros(128), "soft_argmax")) == pytest.approx(32.0)  # 128 bins = 64 px


def test_soft_argmax_is_finite_for_huge_logits_and_beta_sharpens_it():
    logits = torch.tensor([0.0, 1000.0, 999.0, 0.0])
    assert math.isfinite(float(simcc.decode(logits, "soft_argmax")))
    soft = torch.tensor([0.0, 1.0, 0.5, 0.0])
    far = abs(float(simcc.decode(soft, "soft_argmax", beta=1)) - 0.75)
    near = abs(float(simcc.decode(soft, "soft_argmax", beta=50)) - 0.75)
    assert near < far


def test_an_unknown_decoder_gets_a_sentence():
    with pytest.raises(ValueError, match="SimCC decodes by argmax or soft_argmax"):
        simcc.decode(torch.zeros(4), "dark")


@settings(max_examples=60, deadline=None)
@given(st.floats(8.0, 56.0))
def test_targets_are_normalised_gaussians_centred_at_the_float_coordinate(x):
    t = simcc.targets(torch.tensor([x]), 128)[0]
    assert float(t.sum()) == pytest.approx(1.0, abs=1e-6)
    assert float((t * simcc.bin_centres(128)).sum()) == pytest.approx(x, abs=1e-3)  # far from the borders
    # arg-max of the target is within half a bin of x: k = 2 bins per px resolve 0.25 px
    assert abs(float(simcc.decode(t.log(), "argmax")) - x) <= 0.25 + 1e-6


def test_the_loss_is_cross_entropy_with_soft_targets_on_x_plus_y():
    lx, ly = torch.randn(3, 14, 96), torch.randn(3, 14, 96)
    kps = torch.rand(3, 14, 2) * 48
    per = simcc.loss(lx, ly, kps)
    tx, ty = simcc.targets(kps[..., 0], 96), simcc.targets(kps[..., 1], 96)
    ref = (F.cross_entropy(lx.flatten(0, 1), tx.flatten(0, 1), reduction="none")
           + F.cross_entropy(ly.flatten(0, 1), ty.flatten(0, 1), reduction="none")).view(3, 14)
    assert torch.allclose(per, ref, atol=1e-5)


def test_the_loss_is_lowest_at_the_targets_own_log():
    kps = torch.tensor([[[20.3, 31.7]]])
    tx, ty = (simcc.targets(kps[..., i], 128).clamp_min(1e-30).log() for i in (0, 1))
    best = simcc.loss(tx, ty, kps)
    worse = simcc.loss(tx.roll(3, -1), ty, kps)
    assert float(best) < float(worse)


@pytest.mark.parametrize("stride", [4, 8])
def test_the_head_gives_k_bins_per_pixel_and_its_coords_are_their_argmax(stride):
    m = kp.KeypointNet(head="simcc", stride=stride, width=8, input_size=64).eval()
    with torch.no_grad():
        out = m(torch.rand(2, 3, 64, 64))
    assert out["simcc_x"].shape == (2, 14, 64 * simcc.SPLIT) and out["simcc_y"].shape == (2, 14, 64 * simcc.SPLIT)
    assert torch.equal(out["coords"], simcc.decode_xy(out["simcc_x"], out["simcc_y"], "argmax"))
    # one linear layer per axis from the flattened (64 / stride)^2 cells, shared by the joints
    assert m.to_x.in_features == (64 // stride) ** 2 and m.to_x.out_features == 64 * simcc.SPLIT
