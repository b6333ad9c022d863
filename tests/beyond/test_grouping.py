"""Bottom-up grouping on scenes with known assignment (heatmaps drawn from the true keypoints), peaks and
matching on hand-made cases, and the panel's sentences against the numbers beside them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import demos.keypoints as kp
from demos.beyond import grouping as G

STRIDE, CELLS = 4, 32


def true_maps(scene) -> torch.Tensor:
    """(K, 32, 32): every figure's Gaussian targets, the maximum over figures (what a perfect model would give)."""
    return kp.gaussian_targets(torch.from_numpy(scene.keypoints).float(), CELLS, STRIDE, 1.0).amax(0)


def separable(scene) -> bool:
    """True when no two figures have same-kind joints within NMS reach of each other (then every peak survives)."""
    p = scene.keypoints / STRIDE
    for a in range(len(p)):
        for b in range(a + 1, len(p)):
            if (np.abs(p[a] - p[b]).max(-1) <= G.NMS_CELLS + 1).any():
                return False
    return True


@pytest.mark.parametrize("figures", [1, 2, 3])
def test_grouping_recovers_the_known_assignment(figures):
    checked_complete = 0
    for seed in range(10):
        sc = kp.render_scene(seed, figures)
        pred = G.group(G.peaks(true_maps(sc), 0.5), G.MAX_BONE * CELLS) * STRIDE
        assert len(pred) == figures
        assign = G.match(pred, sc.keypoints)
        for t, p in enumerate(assign):
            assert p is not None
            for k in range(len(kp.JOINTS)):
                if np.isnan(pred[p, k, 0]):
                    continue
                # every joint found is grouped with its own figure, within the quarter rule's reach
                nearest = int(np.argmin(np.linalg.norm(sc.keypoints[:, k] - pred[p, k], axis=-1)))
                assert nearest == t, (seed, t, k)
                assert np.linalg.norm(pred[p, k] - sc.keypoints[t, k]) <= 0.5 * STRIDE * np.sqrt(2)
        if separable(sc):
            assert G.score(pred, sc.keypoints, sc.visible)["found"] == 1.0, seed
            checked_complete += 1
    assert checked_complete >= 5


def test_peaks_keep_separate_maxima_and_suppress_close_ones():
    hm = torch.zeros(1, 16, 16)
    hm[0, 4, 4], hm[0, 4, 12], hm[0, 5, 6] = 1.0, 0.8, 0.6  # (x, y) = (4, 4), (12, 4), (6, 5)
    c = G.peaks(hm, 0.5)[0]
    assert [tuple(r) for r in c[:, :2]] == [(4.5, 4.5), (12.5, 4.5)]  # (6, 5) is 2 cells from the highest
    assert G.peaks(hm, 0.9)[0].shape == (1, 3)


def test_group_takes_the_higher_candidate_within_reach():
    cands = [np.zeros((0, 3)) for _ in kp.JOINTS]
    cands[G.NECK] = np.array([[10.0, 10.0, 1.0]])
    cands[0] = np.array([[10.0, 8.0, 0.4], [10.0, 6.0, 0.9], [10.0, 30.0, 1.0]])  # head: near-weak, far-strong, out of reach
    figs = G.group(cands, max_bone=8.0)
    assert figs.shape == (1, len(kp.JOINTS), 2)
    assert figs[0, 0].tolist() == [10.0, 6.0]
    assert np.isnan(figs[0, 2, 0])


def test_match_pairs_figures_by_neck_and_score_counts_missing_joints_wrong():
    truth = np.zeros((2, len(kp.JOINTS), 2))
    truth[0, :, 0], truth[1, :, 0] = 10.0, 50.0
    truth[:, :, 1] = np.arange(len(kp.JOINTS))[None] * 3.0
    pred = truth[::-1].copy()
    pred[0, 5] = np.nan  # the second true figure's joint 5 is missing
    assert G.match(pred, truth) == [1, 0]
    s = G.score(pred, truth, np.ones(truth.shape[:2], bool))
    assert s["found"] == pytest.approx(27 / 28) and s["correct"] == pytest.approx(27 / 28) and s["mean_px"] == 0


# -- the panel's sentences ------------------------------------------------------------------------------------

agg_row = st.tuples(st.floats(0, 1), st.floats(0, 0.3), st.floats(0, 0.3), st.floats(1, 500), st.floats(0, 100),
                    st.floats(0, 100))


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(agg_row, agg_row), min_size=3, max_size=3))
def test_summary_states_an_order_only_beyond_the_spread(rows):
    agg = []
    for f, pair in zip((1, 2, 3), rows):
        for m, (c, dlo, dhi, ms, mlo, mhi) in zip(G.METHODS, pair):
            agg.append({"figures": f, "method": m, "correct": c, "correct_lo": max(0, c - dlo),
                        "correct_hi": min(1, c + dhi), "ms": ms, "ms_lo": max(0, ms - mlo), "ms_hi": ms + mhi,
                        "scenes": 5, "predicted_figures": f})
    text = G.summary(agg)
    for f, part in zip((1, 2, 3), text.split(" **")):
        bu = next(r for r in agg if r["figures"] == f and r["method"] == "bottom-up")
        td = next(r for r in agg if r["figures"] == f and r["method"] == "top-down")
        assert f"{100 * bu['correct']:.0f} % vs {100 * td['correct']:.0f} %" in part
        if "correct fraction is higher" in part:
            assert bu["correct_lo"] > td["correct_hi"]
        if "correct fraction is lower" in part:
            assert bu["correct_hi"] < td["correct_lo"]
        if "correct fractions overlap" in part:
            assert not (bu["correct_lo"] > td["correct_hi"] or bu["correct_hi"] < td["correct_lo"])
        if "cost is higher" in part:
            assert bu["ms_lo"] > td["ms_hi"]
        if "cost is lower" in part:
            assert bu["ms_hi"] < td["ms_lo"]
        if "costs overlap" in part:
            assert not (bu["ms_lo"] > td["ms_hi"] or bu["ms_hi"] < td["ms_lo"])


def test_measure_runs_both_pipelines_on_the_same_scenes():
    rows = G.measure("heatmap-s4", 1, 0.3, counts=(2,))
    assert [r["method"] for r in rows] == ["bottom-up", "top-down"]
    assert rows[0]["scene"] == rows[1]["scene"] and all(0 <= r["correct"] <= 1 and r["ms"] > 0 for r in rows)
    assert rows[1]["predicted_figures"] == 2  # one crop per true figure
