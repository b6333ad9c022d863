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


from demos.keypoints.registry import ModelRecord  # noqa: E402

RECORDS = [ModelRecord("heatmap-s4", "heatmap", 4), ModelRecord("heatmap-s8", "heatmap", 8),
           ModelRecord("integral-s4", "integral", 4), ModelRecord("integral-s8", "integral", 8),
           ModelRecord("regression", "regression", None),
           ModelRecord("symmetric-heatmap-s4", "heatmap", 4, variant="symmetric")]
DECODERS = ("argmax", "soft_argmax", "dark")


@st.composite
def evaluations(draw):
    px = st.floats(0.5, 30)
    rows = []
    for m in RECORDS:
        for d in (("direct",) if m.head == "regression" else DECODERS):
            rows.append({"model": m.name, "decoder": d, "median_px": draw(px), "mean_px": draw(px),
                         "pck5": draw(st.floats(0, 1))})
    return rows


@settings(max_examples=80, deadline=None)
@given(evaluations())
def test_every_finding_holds_for_its_numbers(rows):
    text = R.findings_text(rows, RECORDS)
    med = {(r["model"], r["decoder"]): r for r in rows}
    a8, s8 = med[("integral-s8", "argmax")]["median_px"], med[("integral-s8", "soft_argmax")]["median_px"]
    ha8, hs8 = med[("heatmap-s8", "argmax")]["median_px"], med[("heatmap-s8", "soft_argmax")]["median_px"]
    a4, s4 = med[("integral-s4", "argmax")]["median_px"], med[("integral-s4", "soft_argmax")]["median_px"]
    assert ("arg-max loses sub-pixel accuracy" in text) == (s8 < a8 and hs8 < ha8)
    assert f"is {a8:.1f} px for arg-max on the integral model at stride 8 and {s8:.1f} px" in text
    assert ("a smaller gap" in text) == ((a4 - s4) < (a8 - s8) and s8 < a8)
    reg = med[("regression", "direct")]
    others = [r for r in rows if r["model"] not in ("regression", "symmetric-heatmap-s4")]
    trails = reg["median_px"] > max(r["median_px"] for r in others) and reg["pck5"] < min(r["pck5"] for r in others)
    assert ("trails every heatmap-type model" in text) == trails
    sym = [r for r in rows if r["model"] == "symmetric-heatmap-s4"]
    worse = min(r["mean_px"] for r in sym) > reg["mean_px"] and max(r["pck5"] for r in sym) < reg["pck5"]
    assert ("does worse than direct regression on both" in text) == worse
    k = sum(r["median_px"] < reg["median_px"] for r in sym)
    assert f"its median is lower for {k} of its {len(sym)} decoders" in text
    si, sa = med[("symmetric-heatmap-s4", "soft_argmax")]["median_px"], med[("symmetric-heatmap-s4", "argmax")]["median_px"]
    assert ("shows the two-peak failure" in text) == (si > sa)


def test_the_argmax_floor_is_the_mean_distance_from_a_cells_centre():
    import numpy as np

    u = np.random.default_rng(0).random((200_000, 2)) - 0.5
    assert abs(np.hypot(u[:, 0], u[:, 1]).mean() - R.UNIFORM_CELL_MEAN) < 2e-3


def test_readme_long_view_table_agrees_with_the_declared_costs():
    """README's table of long views (bench/worst.py --readme): every long view has a row at its costliest setting;
    each row's declared seconds are the code's declaration now (a changed declaration needs the bench rerun) and lie
    within 1.5x of the time measured, which is under the 30 s bound."""
    import re

    from bench import worst as W

    text = W.README.read_text(encoding="utf-8")
    block = text[text.index(W.BEGIN):text.index(W.END)]
    rows = {(m[1], m[2]): (float(m[3]), float(m[4])) for m in
            re.finditer(r"^\| (\w+) \| (worst|default) \| [^|]* \| ([\d.]+) \| ([\d.]+) \|", block, flags=re.M)}
    for module, view, kind, args in W.cases():
        if kind == "worst":
            assert (view, kind) in rows, f"README's long-view table lacks {view}: run python -m bench worst --readme"
        if (view, kind) not in rows:
            continue
        measured, declared = rows[view, kind]
        assert abs(declared - W.declared(module, view, args)) < 0.051, \
            f"{view} ({kind}) declares {W.declared(module, view, args):.1f} s; README's table says {declared}: rerun the bench"
        assert declared / 1.5 <= measured <= 1.5 * declared, f"{view} ({kind}): measured {measured} s, declared {declared} s"
        assert measured < 30, f"{view} ({kind}) took {measured} s"
