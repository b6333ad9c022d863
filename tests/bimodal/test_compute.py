"""Two-peak computations against closed forms (docs/facts.md 2)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from demos.bimodal import compute
from demos.common.errors import UserInputError
from demos.keypoints import decoders


@pytest.mark.parametrize("w,expected", [(0.1, 21.8), (0.3, 24.6), (0.5, 26.7), (0.9, 29.5)])
def test_mixture_expectation_matches_product(w, expected):
    """Peaks at x = 20 (weight 1) and x = 40 (weight w): the expectation of docs/facts.md 2, arg-max at 20."""
    g1 = compute.gaussian(20.0, 32.0, 2.0)
    g2 = compute.gaussian(40.0, 32.0, 2.0)
    p = g1 + w * g2
    p = (p / p.sum())[None, None]
    assert decoders.expectation(p)[0, 0, 0].item() == pytest.approx(expected, abs=0.05)
    assert compute.mixture_expectation(20, 40, w) == pytest.approx(expected, abs=0.05)
    assert abs(decoders.argmax(p)[0, 0, 0].item() - 20.0) <= 0.5  # a cell next to x = 20, whatever w


def test_equal_peaks_put_the_integral_at_the_midpoint():
    p = compute.Peaks(x1=16.5, y1=20.5, h1=1.0, x2=46.5, y2=40.5, h2=1.0, s1=2.5, s2=2.5)
    m = compute.two_peak_map(p)
    est = compute.decode_all(m, beta=10.0)
    assert est["soft_argmax"] == pytest.approx([31.5, 30.5], abs=0.05)
    # arg-max and the windowed integral sit on one of the peaks
    for meth in ("argmax", "soft_argmax_windowed", "dark"):
        d = min(np.hypot(*(est[meth] - [16.5, 20.5])), np.hypot(*(est[meth] - [46.5, 40.5])))
        assert d < 0.6


def test_argmax_jumps_while_integral_slides():
    p = compute.Peaks(x1=20.5, y1=32.5, x2=40.5, y2=32.5, h1=1.0, s1=2.5, s2=2.5)
    ratios, out = compute.sweep(p, beta=10.0)
    am, sa = out["argmax"], out["soft_argmax"]
    assert set(np.round(am, 6)) == {0.0, 20.0}  # only ever on a peak
    jump = ratios[np.argmax(am > 10)]
    assert 0.95 <= jump <= 1.06
    assert np.all(np.diff(sa) >= -1e-6)  # slides monotonically toward peak 2
    mid = np.argmin(np.abs(ratios - 1.0))
    assert 5 < sa[mid] < 15  # between the peaks, in neither
    assert sa[0] < 0.6 and sa[-1] > 19.4  # near a peak at either end (a little centre pull at beta = 10)


def test_stable_softmax_survives_where_naive_overflows():
    t = compute.overflow_table(np.array([50.0, 88.0, 89.0, 200.0, 1000.0]))
    assert np.isfinite(t["naive_x"][:2]).all()
    assert np.isnan(t["naive_x"][2:]).all()
    assert np.isfinite(t["stable_x"]).all()
    assert t["stable_x"][0] == pytest.approx(t["naive_x"][0], abs=1e-4)
    assert t["naive_sum"][3] == math.inf


@pytest.mark.parametrize("field,value", [("x1", float("nan")), ("x2", 70.0), ("h1", -1.0), ("s2", -0.5),
                                         ("noise", 11.0)])
def test_bad_values_are_refused(field, value):
    with pytest.raises(UserInputError):
        compute.two_peak_map(compute.Peaks(**{field: value}))


def test_zero_width_is_a_single_cell():
    m = compute.two_peak_map(compute.Peaks(s1=0.0, s2=0.0, x1=10.2, y1=10.7, x2=30.0, y2=30.0, h2=0.5))
    assert m[10, 10] == 1.0 and m[30, 30] == 0.5 and (m > 0).sum() == 2
    est = compute.decode_all(m, beta=10.0)
    assert np.isfinite(np.stack(list(est.values()))).all()


def test_bad_beta():
    with pytest.raises(UserInputError):
        compute.decode_all(torch.zeros(64, 64, dtype=torch.float64), float("nan"))


def test_centre_pull_follows_the_published_numbers():
    """docs/facts.md 1.1: 64x64 map, beta 1: height 1 about 21 px off, 10 about 1.3 px, 20 under 0.1 px; a larger
    beta shrinks the pull."""
    from demos.bimodal import compute as C

    pull = C.centre_pull(1.0)
    assert 18 < pull[1.0] < 25 and 0.9 < pull[10.0] < 1.7 and pull[20.0] < 0.1
    assert C.centre_pull(10.0)[1.0] < pull[1.0] / 5
