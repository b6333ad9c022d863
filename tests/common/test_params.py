"""The parameter records and ``takes``: every value from the UI, the API or a script is checked against its
record, refused with one sentence that states the record's own range, and a view's declared cost gives its
"about N s" text, whether it is quick, and what ZeroGPU reserves for it."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demos.common import params as P
from demos.common.errors import UserInputError

SETTINGS = settings(max_examples=60, deadline=None)
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)


@st.composite
def params(draw, integer=None):
    lo = draw(st.integers(-100, 100) if integer else finite)
    span = draw(st.integers(0, 200) if integer else st.floats(0, 1e3))
    hi = lo + span
    default = draw(st.integers(lo, hi)) if integer else lo + span * draw(st.floats(0, 1))
    return P.Param("k", "the knob", lo, hi, min(max(default, lo), hi), unit=draw(st.sampled_from(["", "px"])),
                   integer=bool(integer))


def _refusal(rec, value) -> str:
    with pytest.raises(UserInputError) as e:
        rec.check(value)
    return str(e.value)


# -- Param ------------------------------------------------------------------------------------------------------

@SETTINGS
@given(params(), finite)
def test_a_param_accepts_exactly_its_range_and_its_sentence_states_it(rec, v):
    if rec.lo <= v <= rec.hi:
        assert rec.check(v) == v
    else:
        msg = _refusal(rec, v)
        # the sentence claims "<label> must be a number from lo to hi [unit]": lo and hi are the record's own
        assert msg.startswith(f"{rec.label} must be {rec.range_text}; got ")
        assert f"from {rec.lo:g} to {rec.hi:g}" in msg and not rec.lo <= v <= rec.hi


@SETTINGS
@given(params(integer=True), st.floats(-300, 300, allow_nan=False))
def test_an_integer_param_refuses_fractions_and_says_whole_number(rec, v):
    whole = abs(v - round(v)) <= 1e-9
    if rec.lo <= v <= rec.hi and whole:
        got = rec.check(v)
        assert isinstance(got, int) and got == round(v)
    else:
        msg = _refusal(rec, v)
        assert msg.startswith(f"{rec.label} must be a whole number from {rec.lo:g} to {rec.hi:g}")
        assert not (rec.lo <= v <= rec.hi and whole)


@pytest.mark.parametrize("bad", [None, "", "  ", "abc", True, False, [1, 2], {"a": 1}, float("nan"), float("inf"),
                                 "1e999"])
def test_non_numbers_get_the_same_sentence(bad):
    rec = P.Param("k", "the knob", 0, 10, 5)
    assert _refusal(rec, bad).startswith("the knob must be a number from 0 to 10; got ")


def test_numbers_as_text_are_read():
    assert P.Param("k", "the knob", 0, 10, 5).check("2.5") == 2.5


def test_a_refusal_shows_no_object_or_long_text():
    rec = P.Param("k", "the knob", 0, 10, 5)
    assert "0x" not in _refusal(rec, object()) and "<" not in _refusal(rec, object())
    assert len(_refusal(rec, "x" * 500)) < 120


def test_a_default_outside_the_range_is_a_programming_error():
    with pytest.raises(ValueError, match="outside"):
        P.Param("k", "the knob", 0, 1, 2)


def test_range_text_names_unit_and_kind():
    assert P.Param("k", "k", 1, 8, 2, unit="px", integer=True).range_text == "a whole number from 1 to 8 px"
    assert P.Param("k", "k", 0.1, 200, 1).range_text == "a number from 0.1 to 200"


# -- Choice, Flag, Many, Opaque -----------------------------------------------------------------------------------

CHOICE = P.Choice("c", "the shape", (("Box", "box"), ("Bar", "bar")), "box")


@SETTINGS
@given(st.one_of(st.sampled_from(["box", "bar"]), st.text(max_size=20), st.integers(), st.none()))
def test_a_choice_accepts_its_values_only_and_lists_them(v):
    if v in CHOICE.values:
        assert CHOICE.check(v) == v
    else:
        msg = _refusal(CHOICE, v)
        assert msg.startswith("the shape must be one of 'box', 'bar'; got ")


def test_a_long_choice_lists_twelve_values():
    rec = P.Choice("c", "c", tuple((str(i), i) for i in range(20)), 0)
    msg = _refusal(rec, 99)
    assert "11, ..." in msg and "12" not in msg.split("got")[0].replace("11", "")


@pytest.mark.parametrize("v,want", [(True, True), (False, False), (1, True), (0, False), ("true", True),
                                    ("False", False)])
def test_a_flag_reads_booleans(v, want):
    assert P.Flag("f", "the flag", False).check(v) is want


@pytest.mark.parametrize("v", ["yes", 2, None, [True]])
def test_a_flag_refuses_anything_else(v):
    assert _refusal(P.Flag("f", "the flag", False), v).startswith("the flag must be true or false; got ")


MANY = P.Many("m", "decoders", (("A", "a"), ("B", "b")), ("a",))


@SETTINGS
@given(st.lists(st.sampled_from(["a", "b", "c", "zz"]), max_size=4))
def test_many_accepts_subsets_and_names_the_first_stranger(vs):
    strangers = [v for v in vs if v not in ("a", "b")]
    if not strangers:
        assert MANY.check(vs) == vs
    else:
        assert _refusal(MANY, vs) == f"decoders: {strangers[0]!r} is not one of 'a', 'b'."


def test_many_reads_one_value_and_nothing():
    assert MANY.check("b") == ["b"] and MANY.check(None) == []


def test_opaque_passes_anything_through():
    thing = object()
    assert P.Opaque("state").check(thing) is thing


# -- takes: binding, order, errors ------------------------------------------------------------------------------

A = P.Param("a", "alpha", 0, 10, 1)
B = P.Choice("b", "beta", (("x", "x"), ("y", "y")), "x")


@P.takes(A, B)
def view(a, b):
    return {"a": a, "b": b}


def test_takes_checks_positional_and_keyword_values():
    assert view(2, "y") == {"a": 2.0, "b": "y"}
    assert view(b="y", a=3) == {"a": 3.0, "b": "y"}
    assert view.checked(4, "x") == {"a": 4.0, "b": "x"}
    assert view.params == (A, B) and view.raw(a=99, b="z") == {"a": 99, "b": "z"}  # raw: no checks
    assert P.defaults(view) == [1, "x"]


def test_a_missing_value_is_checked_as_none():
    with pytest.raises(UserInputError, match="^beta must be one of 'x', 'y'; got nothing"):
        view(2)


def test_too_many_values_and_unknown_names_are_refused_with_the_parameter_names():
    with pytest.raises(UserInputError, match=r"Too many values: this takes 2 \(a, b\)"):
        view(1, "x", 3)
    with pytest.raises(UserInputError, match=r"Unknown parameter 'c'; the parameters are a, b"):
        view(1, "x", c=3)


def test_the_first_bad_value_in_record_order_is_named():
    with pytest.raises(UserInputError, match="^alpha must be"):
        view(-1, "z")


def test_records_must_follow_the_argument_order():
    with pytest.raises(TypeError, match="do not match the arguments"):
        P.takes(B, A)(lambda a, b: None)
    with pytest.raises(TypeError, match="do not match the arguments"):
        P.takes(A)(lambda b: None)


def test_report_is_passed_only_when_the_function_takes_it():
    @P.takes(A)
    def reporting(a, report=None):
        return report

    def hook(*_):
        return None

    assert reporting(1, report=hook) is hook and reporting(1) is None
    assert view(1, "x", report=hook) == {"a": 1.0, "b": "x"}  # ignored, not an unknown parameter


def test_generators_are_checked_before_the_first_yield():
    @P.takes(A)
    def gen(a):
        yield {"a": a}

    assert list(gen(2)) == [{"a": 2.0}]
    with pytest.raises(UserInputError):
        next(gen(20))


# -- cost: seconds, quick, about, gpu_seconds ------------------------------------------------------------------

def test_a_view_without_a_cost_is_quick_and_costs_nothing():
    assert view.quick and view.seconds() == 0.0


def test_a_fixed_cost_below_the_quick_limit_is_still_quick():
    fast = P.takes(A, seconds=P.QUICK_S / 2)(lambda a: None)
    slow = P.takes(A, seconds=P.QUICK_S)(lambda a: None)
    assert fast.quick and not slow.quick and slow.seconds(a=3) == P.QUICK_S


def test_a_cost_function_gets_the_checked_values_and_defaults_for_the_rest():
    seen = []

    def cost(a, b):
        seen.append((a, b))
        return 2 * a

    fn = P.takes(A, B, seconds=cost)(lambda a, b: None)
    assert not fn.quick
    assert fn.seconds(a=5) == 10.0 and seen[-1] == (5, "x")
    assert fn.seconds() == 2.0 and seen[-1] == (1, "x")


@SETTINGS
@given(st.floats(0, 1000, allow_nan=False))
def test_about_says_a_rounded_cost_that_is_within_a_third_of_the_declared_one(s):
    fn = P.takes(A, seconds=lambda a: s)(lambda a: None)
    text = P.about(fn)
    assert text.endswith(" on a 2-core CPU") and P.about(fn, where=False) == text[: -len(" on a 2-core CPU")]
    words = text.split()
    if words[1] == "a":  # "about a second"
        assert s < 1.5
        return
    n = float(words[1])
    said = 60 * n if words[2] == "minutes" else n
    assert abs(said - s) <= max(0.5, s / 3), (s, text)


def test_about_reads_the_arguments_it_is_given():
    fn = P.takes(A, seconds=lambda a: 10 * a)(lambda a: None)
    assert P.about(fn) == "about 10 s on a 2-core CPU"
    assert P.about(fn, 4) == P.about(fn, a=4) == "about 40 s on a 2-core CPU"


@SETTINGS
@given(st.floats(0, 1e4, allow_nan=False))
def test_gpu_seconds_cover_the_cpu_cost_plus_loading_and_stay_under_five_minutes(s):
    fn = P.takes(A, seconds=lambda a: s)(lambda a: None)
    g = P.gpu_seconds(fn, a=1)
    assert isinstance(g, int) and g <= 300
    assert g >= min(300, math.floor(15 + s))
