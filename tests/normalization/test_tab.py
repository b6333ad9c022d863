"""The normalization tab: GroupNorm's G offers only divisors of C, the momentum's help is torch's rule, and the long
runs declare costs that fit the class budget."""

from __future__ import annotations

import numpy as np

from demos.common import params
from demos.normalization import tab
from demos.normalization import views as V
from tests.tab_checks import build


def test_groupnorm_offers_only_divisors_of_the_channels():
    assert all(8 % g == 0 for g in V.GROUPS.values)
    demo = build(tab)
    dropdown = next(b for b in demo.blocks.values() if getattr(b, "label", None) == V.GROUPS.label)
    assert [v for _, v in dropdown.choices] == list(V.GROUPS.values)


def test_the_momentum_rule_in_the_help_is_what_torch_does():
    """The help shows running = (1 − m)·running + m·batch; the view checks torch against it for any m."""
    assert "(1 − m)·running + m·batch" in V.MOMENTUM.help
    for m in (V.MOMENTUM.lo, 0.37, V.MOMENTUM.hi):
        out = V.train_vs_eval("Gaussian", 4, 5, m, 0.0, 0)
        assert "**equal**" in out["text"]


def test_long_runs_fit_the_class_budget_at_their_worst_setting():
    assert V.norm_live_training.seconds(lr=V.LR.hi, steps=V.LIVE_STEPS.hi) <= 30
    assert V.norm_batch_size.seconds() <= 30


def test_quick_views_are_cached_and_plain():
    a = V.bn_steps(*params.defaults(V.bn_steps))
    assert V.bn_steps(*params.defaults(V.bn_steps)) is a  # the LRU answers the second call
    assert type(a["plot"]).__name__ == "PlainFigure" and isinstance(V.norm_variants(0, 2, 2)["cubes"], dict)
    x = np.asarray(a["plot"]["data"][0]["x"])
    assert x.size > 0
