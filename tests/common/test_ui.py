"""The Gradio side of the framework: widgets carry their record's key, ``on`` refuses wrong wiring at build
time, ``pack`` maps named outputs, ``friendly`` is the one error path, ``long_run`` only takes long views."""

from __future__ import annotations

import gradio as gr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from gradio.context import LocalContext

from demos.common import params as P
from demos.common import ui
from demos.common.errors import UserInputError

A = P.Param("a", "alpha", 0, 10, 1, 0.5, unit="px", help="how far")
N = P.Param("n", "count", 1, 9, 3, integer=True)
C = P.Choice("c", "shape", (("Box", "box"), ("Bar", "bar")), "bar")
F = P.Flag("f", "show", True)
M = P.Many("m", "decoders", (("A", "a"), ("B", "b")), ("a",))
S = P.Opaque("state")


@P.takes(A, C)
def view(a, c):
    if c == "box" and a > 5:
        raise UserInputError("A box that large hides the figure.")
    return {"plot": a, "text": c}


@P.takes(A, seconds=20)
def slow(a):
    return {"text": a}


def test_widgets_are_built_from_their_records_and_keep_their_keys():
    with gr.Blocks():
        a, n, c, f, m = (ui.widget(r) for r in (A, N, C, F, M))
    assert (a.minimum, a.maximum, a.value, a.step, a.label) == (0, 10, 1, 0.5, "alpha")
    assert "how far" in a.info and "(px)" in a.info
    assert n.step == 1 and n.value == 3
    assert c.value == "bar" and [tuple(x) for x in c.choices] == [("Box", "box"), ("Bar", "bar")]
    assert f.value is True and m.value == ["a"]
    assert [w.kplab_key for w in (a, n, c, f, m)] == ["a", "n", "c", "f", "m"]
    with pytest.raises(TypeError, match="no widget"):
        ui.widget(S)


def test_the_slider_step_defaults_to_a_hundredth_of_the_range():
    with gr.Blocks():
        w = ui.widget(P.Param("k", "k", 0, 50, 1))
    assert w.step == 0.5


def test_wiring_with_too_few_or_too_many_inputs_fails_at_build_time():
    with gr.Blocks():
        a, c = ui.widget(A), ui.widget(C)
        ui.check_wiring(view, [a, c])
        with pytest.raises(TypeError, match=r"view takes 2 inputs \(a, c\); 1 are wired"):
            ui.check_wiring(view, [a])
        with pytest.raises(TypeError, match="3 are wired"):
            ui.on([a.release], view, [a, c, c], {"plot": gr.Number(), "text": gr.Textbox()})


def test_wiring_in_the_wrong_order_names_the_misplaced_widget():
    with gr.Blocks():
        a, c = ui.widget(A), ui.widget(C)
        with pytest.raises(TypeError, match="input 0 should be 'a', the widget wired there is 'c'"):
            ui.check_wiring(view, [c, a])


def test_widgets_not_built_from_a_record_are_counted_but_not_named():
    with gr.Blocks():
        ui.check_wiring(view, [gr.Number(), gr.Textbox()])


def test_on_registers_a_named_endpoint_with_the_records_as_parameters():
    with gr.Blocks() as demo:
        a, c = ui.widget(A), ui.widget(C)
        ui.on([a.release], view, [a, c], {"plot": gr.Number(), "text": gr.Textbox()}, api_name="my_view")
    fns = [f for f in demo.fns.values() if f.api_name == "my_view"]
    assert len(fns) == 1 and len(fns[0].inputs) == 2 and len(fns[0].outputs) == 2


def test_pack_orders_named_outputs_and_skips_the_missing_ones():
    assert ui.pack({"text": "t", "plot": 1}, ["plot", "text"]) == (1, "t")
    assert ui.pack({"plot": 1}, ["plot"]) == 1
    skipped = ui.pack({"text": "t"}, ["plot", "text"])
    assert skipped[1] == "t" and skipped[0] == gr.skip()
    assert ui.pack({"x": P.Update(value=3)}, ["x"]) == 3  # a value-only update is a plain value for API callers


def test_pack_refuses_unknown_outputs_and_non_dicts():
    with pytest.raises(KeyError, match=r"outputs \['oops'\] are not wired"):
        ui.pack({"oops": 1}, ["plot"])
    with pytest.raises(TypeError, match="dict of named outputs"):
        ui.pack([1, 2], ["plot"])
    assert ui.pack({"plot": 1, "progress": 0.5}, ["plot"]) == 1  # progress is the one name never wired


def test_the_handler_checks_values_and_answers_api_callers_with_the_sentence():
    h = ui.handler(view, ["plot", "text"])
    assert h(2, "box") == (2.0, "box")
    with pytest.raises(gr.Error, match=r"alpha must be a number from 0 to 10 px; got 11\."):
        h(11, "box")
    with pytest.raises(gr.Error, match="A box that large"):  # a view's own refusal takes the same path
        h(6, "box")
    assert [p for p in h.__signature__.parameters][:2] == ["a", "c"]


class _Request:
    def __init__(self, headers):
        self.headers = headers


def _as(headers):
    return LocalContext.request.set(_Request(headers))


def test_a_refusal_on_a_persons_page_is_a_warning_and_keeps_every_output():
    h = ui.handler(view, ["plot", "text"])
    token = _as({"x-gradio-user": "app"})
    try:
        assert ui.from_person()
        with pytest.warns(UserWarning, match="alpha must be"):  # gr.Warning outside a live page: a warning
            out = h(11, "box")
    finally:
        LocalContext.request.reset(token)
    assert out == (gr.skip(), gr.skip())


def test_only_the_page_counts_as_a_person():
    for headers in ({}, {"x-gradio-user": "api"}, None):
        token = _as(headers)
        try:
            assert not ui.from_person()
        finally:
            LocalContext.request.reset(token)
    assert not ui.from_person()  # a direct call


def test_internal_faults_become_one_fixed_sentence():
    @P.takes(A)
    def broken(a):
        raise ZeroDivisionError("a detail no student should see")

    with pytest.raises(gr.Error) as e:
        ui.handler(broken, ["text"])(1)
    assert e.value.message == ui.INTERNAL


def test_streaming_views_are_checked_before_they_start():
    @P.takes(A)
    def stream(a):
        yield {"text": a}
        yield {"text": 2 * a}

    h = ui.handler(stream, ["text"])
    assert list(h(1)) == [1.0, 2.0]
    with pytest.raises(gr.Error, match="alpha must be"):
        list(h(-1))


def test_long_run_refuses_a_quick_view_and_takes_a_long_one():
    with gr.Blocks() as demo:
        a = ui.widget(A)
        button, stop = ui.run_stop("Run", "run-it")
        with pytest.raises(TypeError, match="declare its cost"):
            ui.long_run(button, stop, view, [a, ui.widget(C)], {"plot": gr.Number(), "text": gr.Textbox()},
                        api_name="quick")
        ui.long_run(button, stop, slow, [a], {"text": gr.Textbox()}, api_name="slow")
    fn = next(f for f in demo.fns.values() if f.api_name == "slow")
    assert fn.concurrency_id == ui.HEAVY["concurrency_id"]


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-5, 1e4), st.floats(1.0, 1e5))
def test_log_ticks_label_at_least_two_values_inside_the_shown_range(lo, factor):
    """A log axis whose values span less than a decade still gets two labels (1-2-5 steps), all inside its range."""
    import math

    from demos.common.plotstyle import log_ticks

    t = log_ticks([lo, lo * factor])
    lo_r, hi_r = t.get("range", [math.log10(lo), math.log10(lo * factor)])  # plotly's range covers the data
    shown = [v for v in t["tickvals"] if lo_r <= math.log10(v) <= hi_r]
    assert len(shown) >= 2 and len(shown) == len(t["tickvals"])
    assert all(round(v / 10 ** math.floor(math.log10(v) + 1e-9), 6) in (1, 2, 5) for v in t["tickvals"])
