"""The figure renderer: deterministic, exact float keypoints, variants, and targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from demos.keypoints import data


def test_deterministic_from_seed():
    a, b = data.render(123), data.render(123)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.keypoints, b.keypoints)
    assert not np.array_equal(a.image, data.render(124).image)


def test_shapes_and_types():
    s = data.render(5)
    assert s.image.shape == (128, 128, 3) and s.image.dtype == np.uint8
    assert s.keypoints.shape == (data.NUM_JOINTS, 2) and s.keypoints.dtype == np.float32
    assert s.visible.shape == (data.NUM_JOINTS,) and s.visible.dtype == bool
    assert not np.allclose(s.keypoints, np.round(s.keypoints))  # float, not snapped to pixels


@pytest.mark.parametrize("style", data.STYLES)
def test_every_style_draws_limbs_at_the_keypoints(style):
    """The figure is drawn where its keypoints say: pixels at visible joints differ from the far background."""
    hits = []
    for seed in range(20):
        s = data.render(seed, style=style)
        bg = np.median(s.image[:4, :4].reshape(-1, 3), 0)
        for (x, y), v in zip(s.keypoints, s.visible):
            if v:
                px = s.image[int(y), int(x)].astype(float)
                hits.append(np.abs(px - bg).sum() > 30)
    assert np.mean(hits) > 0.8


def test_symmetric_variant_draws_left_and_right_alike():
    """In the default variant left limbs are warm and right limbs cool; the symmetric variant has no such cue."""
    def side_colour(s, joints):
        return np.mean([s.image[int(y), int(x)].astype(float) for (x, y) in s.keypoints[list(joints)]], 0)

    diffs = {v: [] for v in data.VARIANTS}
    for seed in range(30):
        for v in data.VARIANTS:
            s = data.render(seed, variant=v, style="solid")
            l, r = side_colour(s, (4, 10)), side_colour(s, (5, 11))  # elbows and knees
            diffs[v].append(l[0] - l[2] - (r[0] - r[2]))  # red-minus-blue, left vs right
    assert np.mean(diffs["default"]) > 60
    assert abs(np.mean(diffs["symmetric"])) < 25


def test_heldout_seeds_are_disjoint_from_training():
    assert min(data.heldout_seeds(10)) >= data.HELDOUT_SEED0 > 100_000


def test_gaussian_targets_peak_at_the_float_keypoint():
    kp = torch.tensor([[[13.7, 22.1]]])
    t = data.gaussian_targets(kp, 32, 4, sigma=1.0)[0, 0]
    # centre of mass of a narrow Gaussian target sits at kp / stride
    c = torch.arange(32) + 0.5
    x = (t.sum(0) * c).sum() / t.sum()
    y = (t.sum(1) * c).sum() / t.sum()
    assert x.item() == pytest.approx(13.7 / 4, abs=0.01) and y.item() == pytest.approx(22.1 / 4, abs=0.01)
    assert t.max().item() <= 1.0
