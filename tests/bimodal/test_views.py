"""Two-peak tab views: bad input gives a plain sentence, every control's ends work, mined cases load."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demos.bimodal import mining
from demos.bimodal import views as V
from demos.common.errors import UserInputError

RECORDS = V.two_peaks.params
GOOD = [r.default for r in RECORDS]


@pytest.mark.parametrize("i,value", [(0, float("nan")), (2, -1.0), (3, -1.0), (9, 0.0), (10, 99), (10, 2.5),
                                     (0, "x"), (1, None)])
def test_bad_values_name_the_parameter_and_its_range(i, value):
    args = list(GOOD)
    args[i] = value
    r = RECORDS[i]
    with pytest.raises(UserInputError) as e:
        V.two_peaks(*args)
    assert str(e.value).startswith(f"{r.label} must be {r.range_text}; got ")


def test_range_text_reads_plainly():
    assert V.RADIUS.range_text == "a whole number from 0 to 10"
    assert V.X1.range_text == "a number from 0 to 64 heatmap px"


def test_flat_map_is_explained():
    args = list(GOOD)
    args[2] = args[6] = 0.0
    with pytest.raises(UserInputError, match="flat"):
        V.two_peaks(*args)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.booleans(), min_size=len(RECORDS), max_size=len(RECORDS)))
def test_every_control_at_either_end(ends):
    """Each slider at its minimum or maximum (both peaks on the map's edge included) gives a result or the
    one sentence for a flat map; never a crash."""
    args = [r.hi if hi else r.lo for r, hi in zip(RECORDS, ends)]
    try:
        out = V.two_peaks(*args)
    except UserInputError as e:
        assert "flat" in str(e)
        return
    assert set(out) == {"maps", "slice", "sweep", "table"} and "arg-max" in out["table"]


def test_both_peaks_on_the_far_edge():
    out = V.two_peaks(64, 64, 2, 10, 64, 64, 2, 10, 0.5, 200, 10)  # every slider at its maximum
    assert "arg-max" in out["table"]


def test_equal_peaks_integral_lands_between_them():
    out = V.two_peaks(20.5, 32.5, 1.0, 2.5, 40.5, 32.5, 1.0, 2.5, 0.0, 10.0, 3)
    assert "equal" in out["table"] and "| integral (soft-argmax) | (30.5" in out["table"]


def test_real_cases_come_from_the_cache():
    assert mining.load_cached() is not None
    out = V.real_cases()
    assert "scripts/mine_bimodal.py" in out["text"] and "windowed integral" in out["text"]
    assert len(out["cases"].data) > 6


def test_cached_remedy_table_shows_the_failure():
    res = mining.load_cached()
    r = {x["remedy"]: x for x in res["remedies"]}
    # the plain integral lands on neither joint far more often than arg-max
    assert r["integral"]["far_from_both"] > 2 * r["arg-max"]["far_from_both"]
    assert r["windowed integral"]["mean_nearest_px"] < r["integral"]["mean_nearest_px"]


def test_remedies_remeasured_live_follow_their_settings():
    strict = V.remedies(20, 2, 0.99, 5)["text"]
    loose = V.remedies(20, 2, 0.0, 5)["text"]
    assert "fallback above a two-peak score of 0.99" in strict

    def row(text, name):
        line = next(l for l in text.splitlines() if l.startswith(f"| {name} |"))
        return [c.strip() for c in line.strip("|").split("|")]

    # threshold 0 falls back everywhere: the same numbers as arg-max
    assert row(loose, "fallback to arg-max")[1:] == row(loose, "arg-max")[1:]
    assert row(strict, "fallback to arg-max")[1:] != row(strict, "arg-max")[1:]
    with pytest.raises(UserInputError, match="fallback: two-peak score above must be a number from 0 to 1"):
        V.remedies(20, 2, 1.5, 5)
