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


def test_renders_are_unchanged_by_the_scene_refactor():
    """The held-out set, the cached datasets and the example files depend on every seed rendering the same:
    a digest of 200 renders taken before render() was split into _draw_figure()."""
    import hashlib

    h = hashlib.sha1()
    for v in data.VARIANTS:
        for size in (64, 128):
            im, k, vis = data.render_batch(list(range(60)) + list(range(1_000_000, 1_000_040)), size, v)
            h.update(im.tobytes()); h.update(k.tobytes()); h.update(vis.tobytes())  # noqa: E702
    assert h.hexdigest() == "8746cebb804080050ed6cffb1239104777e88616"


def test_a_two_figure_scene_has_one_figure_per_half():
    s = data.render_scene(4, 2)
    assert s.image.shape == (128, 128, 3) and s.keypoints.shape == (2, data.NUM_JOINTS, 2)
    a, b = s.keypoints
    assert a[:, 0].mean() < 64 < b[:, 0].mean()
    assert np.all((s.keypoints >= 0) & (s.keypoints < 128))
    assert np.array_equal(s.image, data.render_scene(4, 2).image)  # deterministic


@pytest.mark.parametrize("shape", data.OCCLUDERS)
def test_an_occluder_covers_its_centre_and_nothing_far_away(shape):
    s = data.render(1_000_003)
    x, y = s.keypoints[data.JOINTS.index("l_wrist")]
    out = data.occlude(s.image, (x, y), 24, shape)
    changed = np.abs(out.astype(int) - s.image.astype(int)).sum(-1) > 0
    ys, xs = np.nonzero(changed)
    assert changed.any() and np.all(np.abs(xs + 0.5 - x) <= 15) and np.all(np.abs(ys + 0.5 - y) <= 15)  # half a side + the bar's width
    if shape == "box":
        assert (out[int(y), int(x)] == 128).all()  # the grey box is on the joint
    assert np.array_equal(data.occlude(s.image, (x, y), 0, shape), s.image)
