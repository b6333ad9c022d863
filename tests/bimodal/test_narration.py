"""The two-peak tab's sentences against the numbers beside them (#24): property tests on random maps and
synthetic mined results, each claim re-derived here."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from demos.bimodal import compute, mining
from demos.bimodal import views as V

N = 60


@st.composite
def peaks(draw):
    pos = st.floats(0, 64)
    h1 = draw(st.sampled_from([0.0, 0.5, 1.0, draw(st.floats(0, 2))]))
    h2 = draw(st.sampled_from([h1, draw(st.floats(0, 2))]))
    noise = draw(st.sampled_from([0.0, 0.0, draw(st.floats(0, 0.5))]))
    if h1 == 0 and h2 == 0 and noise == 0:
        h1 = 1.0
    return compute.Peaks(draw(pos), draw(pos), h1, draw(st.floats(0, 10)), draw(pos), draw(pos), h2,
                         draw(st.floats(0, 10)), noise)


def cell(x, y):
    return min(63, int(y)), min(63, int(x))


@settings(max_examples=N, deadline=None)
@given(peaks(), st.floats(0.1, 200), st.integers(0, 10))
@example(compute.Peaks(0.0, 1.0, 1.0, 0.015625, 0.0, 2.0, 0.0, 0.0), 1.0, 0)  # all-zero map: arg-max at (0, 0)
def test_two_peak_note_claims_hold(p, beta, radius):
    m = compute.two_peak_map(p)
    est = compute.decode_all(m, beta, radius)
    pull = compute.centre_pull(beta)
    text = V.two_peak_note(p, est, m.numpy(), beta, pull)
    mm = m.numpy()
    p1, p2 = np.array([p.x1, p.y1]), np.array([p.x2, p.y2])
    for meth, xy in est.items():  # the table's distances are the estimates'
        row = f"| {compute.LABELS[meth]} | ({xy[0]:.2f}, {xy[1]:.2f}) | {np.linalg.norm(xy - p1):.2f} | " \
              f"{np.linalg.norm(xy - p2):.2f} |"
        assert row in text
    if p.h1 == p.h2:
        assert "equal heights" in text
    else:
        hi = 1 if p.h1 > p.h2 else 2
        assert f"Peak {hi} is the higher" in text
    am = est["argmax"]
    am_cell = cell(am[0] - 0.5, am[1] - 0.5)
    m_ = re.search(r"arg-max takes the cell under peak (\d)", text)
    if m_:
        assert am_cell == cell(*(p1 if m_.group(1) == "1" else p2))
        assert mm[am_cell] == mm.max()
    elif "first in scan order" in text:
        c1, c2 = cell(p.x1, p.y1), cell(p.x2, p.y2)
        assert c1 != c2 and mm[c1] == mm[c2] == mm.max() and am_cell == min(c1, c2)
        assert f"peak {1 if am_cell == c1 else 2}'s" in text
    else:
        assert "under neither peak's centre" in text
        assert am_cell not in (cell(p.x1, p.y1), cell(p.x2, p.y2))
    sa = est["soft_argmax"]
    d1, d2 = np.linalg.norm(sa - p1), np.linalg.norm(sa - p2)
    if "the integral lands at peak" in text:
        assert min(d1, d2) <= 2.0
    elif "between the peaks, on neither" in text:
        assert min(d1, d2) > 2.0 and float(np.dot(p1 - sa, p2 - sa)) < 0
    else:
        assert "the integral lands on neither peak" in text and min(d1, d2) > 2.0
    shown = [round(pull[h], 2) for h in sorted(pull)]
    shrinks = all(a >= b for a, b in zip(shown, shown[1:])) and shown[0] > shown[-1]
    assert ("the pull shrinks as the peak grows" in text) == shrinks
    for h in pull:
        assert f"{pull[h]:.2f} px off for height {h:g}" in text
    assert "at β = 1: about" not in text  # no number from another setting


@st.composite
def mined(draw):
    names = draw(st.lists(st.sampled_from(["integral", "arg-max", "windowed integral", "larger β",
                                           "fallback to arg-max"]), min_size=1, max_size=5, unique=True))
    f = st.floats(0, 60)
    rows = [{"remedy": n, "description": n, "mean_px": draw(f), "worst_px": draw(f), "p95_px": draw(f),
             "mean_nearest_px": draw(f), "far_from_both": draw(st.integers(0, 500)), "pairs": 500} for n in names]
    return {"model": "symmetric-heatmap-s4", "n_images": draw(st.integers(1, 500)),
            "joints_scored": draw(st.integers(0, 5000)), "far_px": 6.4, "remedies": rows,
            "cases": [{}] * draw(st.integers(0, 12)), "seconds": draw(st.floats(0, 30))}


def check_table(text, res):
    lines = [l for l in text.splitlines() if l.startswith("| ") and not l.startswith("| remedy")]
    assert len(lines) == len(res["remedies"])
    for line, r in zip(lines, res["remedies"]):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells == [r["remedy"], f"{r['mean_px']:.2f}", f"{r['worst_px']:.1f}", f"{r['p95_px']:.1f}",
                         f"{r['mean_nearest_px']:.2f}", f"{r['far_from_both']} / {r['pairs']}"]


@settings(max_examples=N, deadline=None)
@given(mined())
def test_real_cases_text_is_the_mined_numbers(res):
    text = V.real_cases_text(res, "Read from the cache")
    assert text.startswith(f"**{res['model']}** on {res['n_images']} held-out symmetric images "
                           f"({res['joints_scored']} visible left/right joints). Read from the cache.")
    check_table(text, res)
    assert f"The gallery shows the {min(6, len(res['cases']))} joints with the highest two-peak scores" in text
    # the last column's denominator is explained with the numbers it is made of
    pairs = res["remedies"][0]["pairs"]
    assert all(r["pairs"] == pairs for r in res["remedies"])
    assert (f"among the {pairs} of the {res['joints_scored']} joints whose left and right truths lie more than "
            f"{2 * res['far_px']:g} px apart") in text


@settings(max_examples=N, deadline=None)
@given(mined(), st.floats(1, 100), st.integers(0, 8), st.floats(0, 1), st.floats(1, 20))
def test_remedies_text_is_the_measured_numbers_and_settings(res, b, r, t, f):
    text = V.remedies_text(res, b, r, t, f)
    assert f"({res['seconds']} s) on {res['n_images']} held-out symmetric images" in text
    assert f"β = {b:g}, window {2 * r + 1}×{2 * r + 1}, fallback above a two-peak score of {t:g}, " \
           f"larger β = {f:g}×β" in text
    check_table(text, res)


def test_the_remedy_table_reads_the_rows_it_is_given():
    res = mining.load_cached()
    check_table(mining.markdown_table(res), res)
