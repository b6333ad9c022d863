"""The head race tab's trend sentence against the numbers it interprets, on random tables."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from demos.race import views as V

err = st.floats(0.5, 30, allow_nan=False)


def _points(h4, h8, s4, s8):
    return {("heatmap", "argmax"): {4: h4, 8: h8}, ("simcc", "argmax"): {4: s4, 8: s8}}


@settings(max_examples=100, deadline=None)
@given(st.tuples(err, err, err, err), st.tuples(err, err, err, err))
def test_the_trend_sentence_says_grows_only_when_simccs_gap_grows_with_the_stride(med, mean):
    text = V.trend_text(_points(*med), _points(*mean))
    for name, (h4, h8, s4, s8) in (("median", med), ("mean", mean)):
        part = text.split(f"; {name} " if name == "mean" else f": {name} ")[1].split(")")[0]
        grows = (h8 - s8) > (h4 - s4)
        assert ("does not grow" in part) == (not grows), (name, part)
        assert f"{h4 - s4:+.2f} px at stride 4" in part and f"{h8 - s8:+.2f} px at stride 8" in part
    assert "not a ranking" in text


def test_without_simcc_rows_the_trend_says_how_to_get_them():
    only = {("heatmap", "argmax"): {4: 4.5, 8: 6.0}}
    assert "make train" in V.trend_text(only, only)


def test_the_trend_reads_the_bundled_models_table():
    r = V.trend()
    assert "stride 4" in r["trend_text"] or "make train" in r["trend_text"]
    assert {t["name"] for t in r["trend"].to_dict()["data"]} <= set(V.TREND_LABELS.values())
