"""The SELU tab: the deep-network sliders end where the declared worst case fits the class budget; the field is a
cached, plain view."""

from __future__ import annotations

from demos.common import params
from demos.selu import views as V


def test_depth_and_width_end_where_the_worst_case_fits_the_budget():
    assert V.selu_deep.seconds(depth=V.DEPTH.hi, width=V.WIDTH.hi) <= 30
    assert V.selu_dropout.seconds(p=V.P.hi, depth=V.DEPTH.hi, width=V.WIDTH.hi) <= 30


def test_deep_view_shows_relu_with_he_init():
    out = V.selu_deep(8, 64, 0.0, 1.0)
    assert "He init" in out["text"]


def test_field_is_cached_by_its_inputs():
    a = V.selu_field(*params.defaults(V.selu_field))
    assert V.selu_field(*params.defaults(V.selu_field)) is a
    assert V.selu_field(0.1, 1.0, 0.5, 2.0, 12, 1.0) is not a
