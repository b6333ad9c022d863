"""README's generated numbers (scripts/readme_numbers.py): not stale, and every sentence true of the numbers it
states (checked on synthetic results, so each branch is reached)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scripts import readme_numbers as R

NAMES = ("integral", "arg-max", "windowed integral", "larger β", "fallback to arg-max", "fallback, score > 0.95")


def test_readme_numbers_are_not_stale():
    text = R.README.read_text(encoding="utf-8")
    for begin, end in R.BLOCKS:
        assert begin in text and end in text, f"README.md lacks the markers {begin!r} ... {end!r}"
    assert R.readme_text(text) == text, "README.md is stale: run `python scripts/readme_numbers.py`"


@st.composite
def results(draw):
    pairs = draw(st.integers(1, 4000))
    rows = []
    for name in NAMES:
        desc = {"larger β": "soft-argmax over the whole map, β = 100",
                "fallback to arg-max": "integral, but arg-max where the two-peak score > 0.5",
                "fallback, score > 0.95": "integral, but arg-max where the two-peak score > 0.95"}.get(name, name)
        rows.append({"remedy": name, "description": desc, "mean_px": draw(st.floats(0.5, 40)),
                     "worst_px": 100.0, "p95_px": 50.0, "mean_nearest_px": draw(st.floats(0.5, 20)),
                     "far_from_both": draw(st.integers(0, pairs)), "pairs": pairs})
    if draw(st.booleans()):  # a fallback identical to arg-max, as in the cached result
        rows[4] = dict(rows[1], remedy=NAMES[4], description=rows[4]["description"])
    hist = draw(st.lists(st.integers(0, 500), min_size=10, max_size=10))
    return {"remedies": rows, "far_px": 6.4, "score_histogram": hist}


def _row(res, name):
    return next(r for r in res["remedies"] if r["remedy"] == name)


@settings(max_examples=80, deadline=None)
@given(results())
def test_every_remedies_sentence_holds_for_its_numbers(res):
    text = R.remedies_text(res)
    rows = res["remedies"]
    integral, argmax, window, big = (_row(res, n) for n in ("integral", "arg-max", "windowed integral", "larger β"))
    lo, hi = min(r["mean_px"] for r in rows), max(r["mean_px"] for r in rows)
    assert f"are {lo:.1f}-{hi:.1f} px on average for every remedy" in text
    nearer = next((s for s in text.split(". ") if "nearer a joint and less often on neither" in s), "")
    for label, r in (("Arg-max", argmax), ("windowed integral", window)):
        said = f"{label} ({R._pair(r)})" in nearer
        holds = r["mean_nearest_px"] < integral["mean_nearest_px"] and r["far_from_both"] < integral["far_from_both"]
        assert said == holds
    best = min(argmax["mean_nearest_px"], window["mean_nearest_px"])
    b, i = big["mean_nearest_px"], integral["mean_nearest_px"]
    if "lies between the integral and the best of those" in text:
        assert best < b < i
    if "does not come nearer than the integral" in text:
        assert b >= i
    if "comes as near as the best of those or nearer" in text:
        assert b <= best
    for name, t in ((NAMES[4], 0.5), (NAMES[5], 0.95)):
        r = _row(res, name)
        sentence = text.split(f"above a two-peak score of {t:g} gives ")[1].split(".")[0]
        if "as arg-max does" in sentence:
            assert abs(r["mean_nearest_px"] - argmax["mean_nearest_px"]) < 0.05
            assert r["far_from_both"] == argmax["far_from_both"]
            if "% of the scored" in sentence:
                share = int(sentence.split("(")[1].split(" %")[0])
                hist = res["score_histogram"]
                assert abs(share - 100 * sum(hist[round(10 * t):]) / sum(hist)) <= 0.5
        if "between arg-max and the integral" in sentence:
            a = argmax["mean_nearest_px"]
            assert min(a, i) < r["mean_nearest_px"] < max(a, i)


def test_a_share_is_only_read_off_a_bin_edge():
    assert R.share_at_least([1] * 10, 0.5) == 0.5
    assert R.share_at_least([1] * 10, 0.95) is None
    assert R.share_at_least([0] * 10, 0.5) is None
