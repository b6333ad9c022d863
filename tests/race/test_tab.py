"""The race tab: Start comes first, and the stride choices name their map sizes."""

from __future__ import annotations

from demos.race import tab
from demos.race import views as V
from tests.tab_checks import build


def test_the_race_is_a_named_cancellable_endpoint():
    demo = build(tab)
    fns = {f.api_name: f for f in demo.fns.values()}
    assert "race" in fns and fns["race"].concurrency_id == "heavy"
    assert any(f.cancels for f in demo.fns.values())


def test_stride_labels_state_the_map_size_at_64_px():
    for label, s in V.STRIDE.options:
        assert f"{64 // s}×{64 // s} at 64 px" in label
