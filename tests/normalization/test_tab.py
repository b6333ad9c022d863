"""The normalization tab: GroupNorm's G offers only divisors of C, and the momentum's help shows the update rule."""

from __future__ import annotations

from demos.normalization import tab
from demos.normalization import views as V
from tests.tab_checks import build


def test_groupnorm_offers_only_divisors_of_the_channels():
    assert all(8 % g == 0 for g in V.GROUPS.values)
    demo = build(tab)
    dropdown = next(b for b in demo.blocks.values() if getattr(b, "label", None) == V.GROUPS.label)
    assert [v for _, v in dropdown.choices] == list(V.GROUPS.values)


def test_momentum_help_states_torchs_rule():
    assert "(1 − m)·running + m·batch" in V.MOMENTUM.help
