"""The head race tab's trend sentence against the numbers it interprets, on random tables."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from demos.race import views as V

err = st.floats(0.5, 30, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(err, err, err, err)
def test_the_trend_sentence_says_grows_only_when_simccs_gap_grows_with_the_stride(h4, h8, s4, s8):
    points = {("heatmap", "argmax"): {4: h4, 8: h8}, ("simcc", "argmax"): {4: s4, 8: s8}}
    text = V.trend_text(points)
    grows = (h8 - s8) > (h4 - s4)
    assert ("does not grow" in text) == (not grows)
    assert f"{h4 - s4:+.2f} px at stride 4" in text and f"{h8 - s8:+.2f} px at stride 8" in text
    assert "not a ranking" in text


def test_without_simcc_rows_the_trend_says_how_to_get_them():
    assert "make train" in V.trend_text({("heatmap", "argmax"): {4: 4.5, 8: 6.0}})
