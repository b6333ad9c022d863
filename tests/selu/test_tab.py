"""The SELU tab: the deep-network sliders end where the worst case stays within the class budget."""

from __future__ import annotations

from demos.selu import compute as C
from demos.selu import views as V


def test_depth_and_width_end_at_the_measured_bounds():
    assert (V.DEPTH.hi, V.WIDTH.hi) == (C.MAX_DEPTH, C.MAX_WIDTH) == (64, 1024)


def test_deep_view_shows_relu_with_he_init():
    out = V.selu_deep(8, 64, 0.0, 1.0)
    assert "He init" in out["text"]
