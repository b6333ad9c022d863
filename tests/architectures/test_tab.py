"""The architectures tab: a cardinality (or a ShuffleNet g) that does not fit C snaps to the nearest that does and
says so; the slider follows."""

from __future__ import annotations

from demos.architectures import views as V


def test_cardinality_snaps_to_a_divisor_and_the_slider_follows():
    out = V.blocks(64, 8, 3, 4)
    assert out["groups"] == {"value": 2} and out["g"] == {"value": 4}
    assert "Cardinality 3 does not divide the bottleneck width C/2 = 32; using the nearest divisor, 2." in out["text"]
    assert V.nearest_divisor(128, 32) == 32 and V.nearest_divisor(12, 5) == 4


def test_shuffle_g_snaps_and_says_so():
    out = V.blocks(64, 8, 32, 3)  # 64 is not divisible by 4 * 3
    assert out["g"] == {"value": 2}
    assert "ShuffleNet V1's g = 3 needs C divisible by 4g = 12; using the nearest g that fits, 2." in out["text"]


def test_resnext_default_is_the_slides_32x4d():
    assert (V.CHANNELS.default, V.GROUPS.default) == (256, 32)
    assert V.CHANNELS.default // 2 // V.GROUPS.default == 4
