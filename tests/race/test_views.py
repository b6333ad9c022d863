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


def _final(errors: dict[tuple[str, str], list[float]]):
    """A finished race's snapshot with the given held-out error per (head, decoder), one value per seed."""
    import numpy as np

    from demos.race import compute as C

    seeds = len(next(iter(errors.values())))
    final = [{"head": h, "decoder": d, "seed": i, "mean_px": v, "pck10": 0.5}
             for (h, d), vs in errors.items() for i, v in enumerate(vs)]
    return C.Snapshot(step=100, steps=100, seconds=21.0, seeds=seeds, loss={}, error={}, image=np.zeros((1, 1, 3)),
                      truth=np.zeros((1, 2)), coords={}, maps={}, parameters={h: 1000 * (i + 1) for i, h in
                                                                              enumerate(C.HEADS)}, final=final)


def _rows(markdown: str) -> list[list[str]]:
    lines = [ln for ln in markdown.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]


def test_the_finished_race_puts_each_heads_own_decoder_in_the_verdicts_table_and_the_rest_below():
    """The verdict's table (first screen on a projector) holds one row per head, read by its own decoder, with the
    mean and range over the seeds; the other decoders' rows and the parameters go to the details below."""
    from demos.race import compute as C

    errors = {("regression", "direct"): [12.0, 12.4], ("heatmap", "argmax"): [18.0, 19.0],
              ("heatmap", "soft_argmax"): [15.0, 15.5], ("integral", "soft_argmax"): [11.0, 11.5],
              ("integral", "argmax"): [13.0, 13.5], ("simcc", "argmax"): [13.2, 13.4]}
    s = _final(errors)
    text, details = V.text(s, 4, 64), V.details(s, 4, 64)
    own = _rows(text)
    assert [r[0] for r in own] == [C.HEAD_LABELS[h] for h in C.HEADS]
    for r, h in zip(own, C.HEADS):
        v = errors[(h, C.OWN[h])]
        assert float(r[1]) == round(sum(v) / 2, 2) and float(r[2]) == round(max(v) - min(v), 2)
    other = _rows(details)
    assert {(r[0], r[1]) for r in other} == {("heatmap + arg-max", "integral (soft-argmax)"),
                                             ("integral regression", "arg-max")}
    assert all(f"{C.HEAD_LABELS[h]} {s.parameters[h]:,}" in details for h in C.HEADS)  # every head's, regression too
    assert "Best to worst" in text and "Step" not in text
    import dataclasses

    assert V.details(dataclasses.replace(s, final=[]), 4, 64) == ""  # nothing below the figures during the race
