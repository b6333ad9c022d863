"""Two-peak tab handlers: bad input gives a plain message, the mined cases load from the cache."""

from __future__ import annotations

import gradio as gr
import pytest

from demos.bimodal import mining, tab

GOOD = [20.5, 32.5, 1.0, 2.5, 40.5, 32.5, 0.9, 2.5, 0.0, 10.0, 3]


@pytest.mark.parametrize("i,value", [(0, float("nan")), (2, -1.0), (3, -1.0), (9, 0.0), (10, 99)])
def test_bad_values(i, value):
    args = list(GOOD)
    args[i] = value
    with pytest.raises(gr.Error):
        tab.interactive(*args)


def test_flat_map_is_explained():
    args = list(GOOD)
    args[2] = args[6] = 0.0
    with pytest.raises(gr.Error, match="flat"):
        tab.interactive(*args)


def test_extremes_and_zero_width_give_results():
    args = list(GOOD)
    args[0], args[3], args[7] = 0.0, 0.0, 0.0
    maps, slice_, sweep, table = tab.interactive(*args)
    assert "arg-max" in table


def test_real_cases_come_from_the_cache():
    assert mining.load_cached() is not None
    text, cases, hist = tab.real_cases()
    assert "scripts/mine_bimodal.py" in text and "windowed integral" in text
    assert len(cases.data) > 6


def test_cached_remedy_table_shows_the_failure():
    res = mining.load_cached()
    r = {x["remedy"]: x for x in res["remedies"]}
    # the plain integral lands on neither joint far more often than arg-max
    assert r["integral"]["far_from_both"] > 2 * r["arg-max"]["far_from_both"]
    assert r["windowed integral"]["mean_nearest_px"] < r["integral"]["mean_nearest_px"]


def test_remedies_remeasured_live_follow_their_settings():
    strict = tab.remeasure(20, 2, 0.99, 5)
    loose = tab.remeasure(20, 2, 0.0, 5)
    assert "fallback above a two-peak score of 0.99" in strict

    def row(text, name):
        line = next(l for l in text.splitlines() if l.startswith(f"| {name} |"))
        return [c.strip() for c in line.strip("|").split("|")]

    # threshold 0 falls back everywhere: the same numbers as arg-max
    assert row(loose, "fallback to arg-max")[1:] == row(loose, "arg-max")[1:]
    assert row(strict, "fallback to arg-max")[1:] != row(strict, "arg-max")[1:]
    with pytest.raises(gr.Error):
        tab.remeasure(20, 2, 1.5, 5)
