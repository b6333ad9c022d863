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
