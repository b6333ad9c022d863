"""The time left that a long run's progress bar shows (ui.with_eta): the declared cost at first, then the rate."""

from __future__ import annotations

import pytest

from demos.common import ui
from demos.common.params import Param, takes

N = Param("n", "n", 1, 100, 10, integer=True)


@takes(N, seconds=lambda n, **_: 2.0 * n)
def _long(n):
    return {}


def test_before_a_tenth_is_done_the_estimate_is_the_declared_cost_minus_the_time_spent(monkeypatch):
    clock = iter([100.0, 103.0])
    monkeypatch.setattr("time.perf_counter", lambda: next(clock))
    seen = []
    report = ui.with_eta(_long, {"n": 10}, lambda f, desc="": seen.append(desc))
    report(0.05, "step 1/20")
    assert seen == ["step 1/20, about 17 s left"]  # 20 s declared, 3 s spent


def test_after_a_tenth_it_follows_the_measured_rate(monkeypatch):
    clock = iter([0.0, 30.0])
    monkeypatch.setattr("time.perf_counter", lambda: next(clock))
    seen = []
    report = ui.with_eta(_long, {"n": 10}, lambda f, desc="": seen.append((f, desc)))
    report(0.25, "")  # 30 s for a quarter: 90 s left, whatever was declared
    assert seen == [(0.25, "about 90 s left")]
    assert _long.seconds(n=10) == pytest.approx(20.0)
