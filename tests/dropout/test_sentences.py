"""The dropout tab's sentences against the numbers beside them (synthetic numbers: fast)."""

from __future__ import annotations

import math
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from demos.common import tasks
from demos.dropout import compute as C
from demos.dropout import views as V

pos = st.floats(1e-9, 10.0)
seeds3 = st.lists(st.floats(0.0, 2.0), min_size=3, max_size=3)


def check_pairs(text: str, values: dict, what: str, fmt: str = ".3f") -> None:
    """The text holds every pair's verdict (ordered only beyond the spread: tests/normalization/test_sentences.py)
    and no other order."""
    names = list(values)
    ordered = 0
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert tasks.verdict(a, values[a], b, values[b], what, fmt) in text
            ordered += tasks.ordered(values[a], values[b])
    assert text.count("lower than") == ordered


@given(vals=st.fixed_dictionaries({p: st.lists(st.floats(0.01, 2.0), min_size=3, max_size=3) for p in (0.0, 0.2, 0.5)}),
       epoch=st.integers(1, 600))
@settings(max_examples=100, deadline=None)
def test_overfit_text_orders_only_beyond_the_seed_spread(vals, epoch):
    hist = {p: {s: ([(epoch, 0.1)], [(epoch, v + 0.5), (epoch, v)]) for s, v in enumerate(vs)} for p, vs in vals.items()}
    text = V.overfit_text(hist, epoch, 600)
    check_pairs(text, {f"p = {p:g}": vs for p, vs in vals.items()}, "validation MSE")
    for p, vs in vals.items():
        assert f"p = {p:g}: {np.mean(vs):.3f} (" in text


@given(a=seeds3, b=seeds3, va=seeds3, vb=seeds3, wd=st.floats(0.0, 1.0))
@settings(max_examples=100, deadline=None)
def test_wd_text_orders_only_beyond_the_seed_spread(a, b, va, vb, wd):
    hist = {"Adam + L2": {s: [(10, x, y)] for s, (x, y) in enumerate(zip(a, va))},
            "AdamW": {s: [(10, x, y)] for s, (x, y) in enumerate(zip(b, vb))}}
    text = V.wd_text(hist, wd, 10)
    if wd == 0:
        assert "lower than" not in text and "same Adam" in text
        return
    assert tasks.verdict("Adam + L2", a, "AdamW", b, "weight norm", ".2f") in text
    assert tasks.verdict("Adam + L2", va, "AdamW", vb, "validation MSE") in text
    assert text.count("lower than") == tasks.ordered(a, b) + tasks.ordered(va, vb)


@given(rms=st.lists(pos, min_size=20, max_size=200), wd=st.floats(1e-4, 1.0))
@settings(max_examples=100, deadline=None)
def test_decay_text_ranks_the_gradient_tenths_as_their_numbers_do(rms, wd):
    rms = np.array(rms)
    d = {"rms_grad": rms, "adam_l2": C.LR_ADAM * wd / (rms + 1e-8), "adamw": C.LR_ADAM * wd, "lr": C.LR_ADAM, "wd": wd}
    text = V.decay_text(d, wd)
    big = np.median(d["adam_l2"][rms >= np.quantile(rms, 0.9)])
    small = np.median(d["adam_l2"][rms <= np.quantile(rms, 0.1)])
    assert ("are decayed less than" in text) == (big < small)
    assert f"**{big:.2g}** per step" in text and f"**{small:.2g}**" in text
    # a number over 1 beside a figure capped at 1 is explained, and only then
    over = max(np.quantile(d["adam_l2"], 0.9), big, small) > 1
    assert ("Values over 1 are linearised" in text) == over


@given(wd=st.floats(1e-4, 1.0), ratios=st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=3),
       lams=st.lists(st.floats(1e-9, 1.0), min_size=3, max_size=3))
@settings(max_examples=200, deadline=None)
def test_match_text_claims_a_match_only_within_the_tolerance(wd, ratios, lams):
    target = C.LR_ADAM * wd
    probes = [(lam, r * target) for lam, r in zip(lams, ratios)]
    text = V.match_text(wd, 0.5, probes, 300)
    m = re.search(r"Adam \+ L2 at \*\*λ = ([0-9.e+-]+)\*\*", text)
    close = [p for p in probes if abs(p[1] / target - 1) <= C.MATCH_TOL]
    assert bool(m) == bool(close)
    if not close:
        assert "No λ tried came within" in text
    # the linear guess is called wrong only when its own measurement is off
    assert ("not linear" in text) == (abs(probes[0][1] / target - 1) > C.MATCH_TOL)


def test_adam_l2_at_the_linear_guess_does_not_match_adamw():
    """#24 item 7: "Adam + L2 would need λ × 0.00025" assumed the decay is linear in λ. Measured (short runs of the
    tab's own net): Adam + L2 at the linear guess decays the median weight far more than AdamW's lr·λ, so the
    text must not call it a match; the search's sentence reports what each run measured."""
    wd, epochs = 0.05, 100
    median = C.l2_decay_median(wd, epochs)
    target = C.LR_ADAM * wd
    guess = wd * target / median
    d = C.l2_decay_median(guess, epochs)
    assert d > 2 * target, (guess, d, target)  # 19x at the default 1000 epochs when the issue was filed
    probes = list(C.match_search(wd, median, epochs, runs=1))
    assert probes[0] == (guess, d)
    text = V.match_text(wd, median, probes, epochs)
    assert "not linear" in text and "Measured: Adam + L2 at" not in text
