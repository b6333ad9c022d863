"""Jitter over time: the moving figure is exactly shifted, arg-max moves in whole cells (on synthetic maps moving
0.1 cell per frame and with a model on a figure moving 0.1 px per frame), the jitter number on hand-made tracks,
and the panel's sentences against the numbers beside them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import demos.keypoints as kp
from demos.beyond import jitter as J


def test_argmax_moves_in_whole_cells_on_synthetic_maps_moving_a_tenth_of_a_cell():
    tr = J.synthetic_track(0.1, 60)
    assert np.allclose(np.diff(tr["truth"]), 0.1)
    st_ = J.staircase(tr["argmax"], 1.0)
    assert st_["whole_strides"] and st_["largest"] == 1.0
    assert st_["n_steps"] == 6 and st_["frames_still"] == 53  # 5.9 cells crossed: 6 jumps of one cell
    # DARK follows the Gaussian exactly: its velocity error is ~0 where arg-max's is large
    truth = tr["truth"][:, None, None].repeat(2, -1)
    vis = np.ones(1, bool)
    track = {d: np.stack([tr[d], tr["truth"]], -1)[:, None] for d in ("argmax", "dark")}
    assert J.jitter(track["dark"], truth, vis) < 0.01 < 0.2 < J.jitter(track["argmax"], truth, vis)


def test_jitter_is_the_rms_velocity_error():
    truth = np.zeros((5, 1, 2))
    truth[:, 0, 0] = np.arange(5) * 0.1
    assert J.jitter(truth + 3.0, truth, np.ones(1, bool)) < 1e-12  # a constant offset is not jitter
    steps = truth.copy()
    steps[:, 0, 0] = [0, 0, 0, 1, 1]  # one jump of 1 px: velocity errors -0.1, -0.1, 0.9, -0.1
    assert J.jitter(steps, truth, np.ones(1, bool)) == pytest.approx(np.sqrt((3 * 0.01 + 0.81) / 4))


@pytest.fixture(scope="module")
def moving():
    return J.moving_frames(kp.HELDOUT_SEED0, 21, 0.1)


def test_frames_are_the_figure_shifted_by_exact_fractions_of_a_pixel(moving):
    images, truth, visible, direction = moving
    assert np.allclose(np.diff(truth[..., 0], axis=0), 0.1 * direction) and np.allclose(np.diff(truth[..., 1], axis=0), 0)
    # ten steps of 0.1 px are one whole pixel: frame 10 is frame 0 moved by one column (away from the edges)
    a, b = images[0].astype(int), images[10].astype(int)
    if direction > 0:
        assert np.array_equal(b[:, 5:-5], a[:, 4:-6])
    else:
        assert np.array_equal(b[:, 5:-5], a[:, 6:-4])
    assert not np.array_equal(images[0], images[1])  # and a tenth of a pixel changes the pixels
    assert visible.sum() >= 10


def test_a_models_argmax_moves_in_steps_of_one_stride(moving):
    images, truth, visible, _ = moving
    res = J.decode_frames("heatmap-s4", images)
    stride = kp.get_model("heatmap-s4").stride
    n_steps = 0
    for k in np.flatnonzero(visible):
        st_ = J.staircase(res["argmax"][:, k, 0], stride)
        assert st_["whole_strides"], kp.JOINTS[k]
        n_steps += st_["n_steps"]
    assert n_steps >= 1  # over 2 px of motion, some joint crosses a cell border
    assert set(res) == set(kp.DECODERS)


# -- the panel's sentences ------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(jit=st.lists(st.lists(st.floats(0.01, 3), min_size=3, max_size=3), min_size=len(kp.DECODERS),
                    max_size=len(kp.DECODERS)),
       steps=st.lists(st.sampled_from([0.0, 4.0, -4.0]), min_size=10, max_size=10))
def test_summary_names_a_winner_only_beyond_the_spread(jit, steps):
    names = list(kp.DECODERS)
    track = np.cumsum([10.0] + steps)
    preds = {d: np.zeros((11, len(kp.JOINTS), 2)) for d in names}
    preds["argmax"][:, 6, 0] = track
    truth = np.zeros((11, len(kp.JOINTS), 2))
    truth[:, 6, 0] = 10 + 0.1 * np.arange(11)
    res = {"stats": {d: {"jitter": jit[i], "error": [1, 1, 1]} for i, d in enumerate(names)}, "stride": 4,
           "runs": [{"preds": preds, "truth": truth}], "speed": 0.1}
    text = J.summary(res, 6)
    mean = {d: np.mean(jit[i]) for i, d in enumerate(names)}
    best = min(names, key=mean.get)
    if text.startswith("Lowest jitter:"):
        assert all(max(jit[names.index(best)]) < min(jit[i]) for i, d in enumerate(names) if d != best)
    else:
        assert text.startswith("Lowest mean jitter:")
    n = sum(s != 0 for s in steps)
    if n == 0:
        assert "did not move at all" in text
        # a jitter above what a still estimate scores (the truth's 0.1 px/frame) is said to come from elsewhere
        assert ("one-cell jumps add up to" in text) == (mean["argmax"] > 0.15)
    else:
        assert f"moved in {n} jumps (every one a whole number of cells" in text
        assert f"stood still in {10 - n} of 10" in text
