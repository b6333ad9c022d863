"""The dropout tab: p's slider covers exactly torch's valid range, and Resample changes the mask."""

from __future__ import annotations

from demos.dropout import views as V


def test_p_covers_torchs_valid_range():
    assert (V.P.lo, V.P.hi) == (0, 1)


def test_resampling_gives_another_mask():
    a, b = V.dropout_steps(0.5, 0, 100), V.dropout_steps(0.5, 1, 100)
    assert a["text"] != b["text"] or a["steps"].to_json() != b["steps"].to_json()
