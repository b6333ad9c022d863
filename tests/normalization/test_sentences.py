"""The normalization tab's sentences against the numbers beside them (synthetic numbers: fast), and the seed-spread
rule they use (demos/common/tasks.py)."""

from __future__ import annotations

import math
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from demos.common import tasks
from demos.normalization import training as T
from demos.normalization import views as V

loss = st.floats(0.0, 3.0, allow_nan=False)
seeds3 = st.lists(loss, min_size=3, max_size=3)


def check_pairs(text: str, values: dict, what: str, fmt: str = ".3f") -> None:
    """The text holds the verdict of every pair (tasks.verdict: ordered only beyond the spread, see the test above)
    and states no other order."""
    names = list(values)
    ordered = 0
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert tasks.verdict(a, values[a], b, values[b], what, fmt) in text
            ordered += tasks.ordered(values[a], values[b])
    assert text.count("lower than") == ordered


@given(a=seeds3, b=seeds3)
@settings(max_examples=200, deadline=None)
def test_verdict_orders_only_beyond_the_spread(a, b):
    text = tasks.verdict("A", a, "B", b, "loss")
    gap = abs(np.mean(a) - np.mean(b))
    spread = max(max(a) - min(a), max(b) - min(b))
    if "lower than" in text:
        assert gap > spread
        lo = "A" if np.mean(a) < np.mean(b) else "B"
        assert text.startswith(f"{lo}'s loss is lower than")
    else:
        assert "within noise" in text and gap <= spread


@given(finals=st.fixed_dictionaries({k: st.lists(st.one_of(loss, st.just(float("nan"))), min_size=3, max_size=3)
                                     for k in T.NORMS}),
       step=st.integers(1, 400), lr=st.floats(0.01, 1))
@settings(max_examples=100, deadline=None)
def test_live_text_states_only_orders_beyond_the_seed_spread(finals, step, lr):
    text = V.live_text(finals, step, 400, lr)
    check_pairs(text, finals, "final loss")
    for k in T.NORMS:  # every normalization's numbers are shown, its mean first
        v = [x for x in finals[k] if math.isfinite(x)]
        assert (f"**{k}** {np.mean(v):.3f}" in text) if v else ("diverged in all" in text)


@given(errs=st.dictionaries(st.sampled_from(T.BATCH_SIZES),
                            st.fixed_dictionaries({"BatchNorm": st.lists(st.floats(0, 1), min_size=3, max_size=3),
                                                   "GroupNorm": st.lists(st.floats(0, 1), min_size=3, max_size=3)}),
                            min_size=1))
@settings(max_examples=100, deadline=None)
def test_batch_size_text_follows_its_numbers_and_labels_the_papers(errs):
    text = V.bs_text(errs, 3 * 2 * len(errs), 12.0)
    for line in text.splitlines():
        m = re.match(r"- batch (\d+): ", line)
        if not m:
            continue
        e = errs[int(m.group(1))]
        bn, gn = [100 * x for x in e["BatchNorm"]], [100 * x for x in e["GroupNorm"]]
        assert f"BatchNorm {np.mean(bn):.1f} (" in line and f"GroupNorm {np.mean(gn):.1f} (" in line
        if "is lower than" in line:
            lo = "BatchNorm" if np.mean(bn) < np.mean(gn) else "GroupNorm"
            assert f"{lo}'s error is lower" in line and tasks.ordered(bn, gn)
        else:
            assert "within noise" in line and not tasks.ordered(bn, gn)
    # the paper's numbers appear only as the paper's, after the measured ones
    assert text.index("*The paper's numbers") > max(text.find("- batch"), 0) and "24.1 %" in text


def test_the_old_batch_size_text_is_gone():
    """#24 item 9: the text quoted the paper's "GroupNorm stays at 24.1 %" as if it described the figure."""
    errs = {2: {"BatchNorm": [0.75, 0.74, 0.76], "GroupNorm": [0.75, 0.74, 0.76]}}
    text = V.bs_text(errs, 6, 1.0)
    assert "within noise" in text and "while GroupNorm stays at 24.1 %" in text.split("*The paper's numbers")[1]
