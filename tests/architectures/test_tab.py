"""The architectures tab: a cardinality that does not divide C/2 snaps to the nearest divisor and says so."""

from __future__ import annotations

from demos.architectures import views as V


def test_cardinality_snaps_to_a_divisor_and_the_slider_follows():
    out = V.blocks(64, 8, 3)
    assert out["groups"] == {"value": 2}
    assert "Cardinality 3 does not divide the bottleneck width C/2 = 32; using the nearest divisor, 2." in out["text"]
    assert V.nearest_divisor(128, 32) == 32 and V.nearest_divisor(12, 5) == 4


def test_resnext_default_is_the_slides_32x4d():
    assert (V.CHANNELS.default, V.GROUPS.default) == (256, 32)
    assert V.CHANNELS.default // 2 // V.GROUPS.default == 4
