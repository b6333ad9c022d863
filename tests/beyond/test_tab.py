"""The Beyond-the-lecture tab: widgets from the views' records, named endpoints, long runs cancellable and in
the heavy slot, and every "about N s" text from the views' declared costs."""

from __future__ import annotations

import gradio as gr

import app
from demos.beyond import tab
from demos.beyond import views as V
from demos.common.params import about
from tests.tab_checks import api_names, build, check_widgets_match_records, views_of


def test_widgets_are_built_from_the_records():
    demo = build(tab)
    assert check_widgets_match_records(demo, V) >= 12


def test_endpoints_are_named_and_long_runs_share_the_heavy_slot():
    demo = build(tab)
    assert {"debias", "debias_on_model", "jitter", "grouping"} <= api_names(demo)
    fns = {f.api_name: f for f in demo.fns.values()}
    for name in ("debias_on_model", "jitter", "grouping"):
        assert fns[name].concurrency_id == "heavy", name
    assert sum(bool(f.cancels) for f in demo.fns.values()) >= 2  # Stop for the jitter and the grouping runs


def test_about_texts_come_from_the_declared_costs():
    demo = build(tab)
    buttons = [b.value for b in demo.blocks.values() if isinstance(b, gr.Button)]
    for fn in (V.jitter_run, V.grouping_run, V.debias_on_model):
        assert not fn.quick
        assert any(about(fn) in str(v) for v in buttons), fn.__name__
    assert V.debias.quick


def test_declared_costs_stay_under_30_s_at_the_worst_settings():
    assert V.jitter_run.seconds(frames=V.FRAMES.hi) < 30
    assert V.grouping_run.seconds(scenes=V.SCENES.hi, threshold=V.THRESHOLD.lo) < 30


def test_every_view_says_what_it_returns():
    for fn in views_of(V):
        assert fn.__doc__ and "Returns:" in fn.__doc__, fn.__name__


def test_the_tab_is_a_topic_of_the_app():
    assert "beyond" in app.TOPICS


def test_the_webcam_stream_is_bounded_quick_and_kept_out_of_the_api():
    from demos.common import ui

    demo = build(tab)
    fns = {f.api_name: f for f in demo.fns.values()}
    f = fns["jitter_webcam"]
    assert f.connection == "stream" and f.stream_every == V.STREAM_EVERY and f.time_limit == V.STREAM_LIMIT_S
    assert f.concurrency_limit == V.STREAMS and f.api_visibility == "private"
    assert V.jitter_webcam.quick  # runs where the server is, never asks ZeroGPU for a slot
    cams = [b for b in demo.blocks.values() if isinstance(b, ui.WebcamFrame)]
    assert len(cams) == 1 and cams[0].streaming and cams[0].sources == ["webcam"]
    assert cams[0].webcam_options.constraints == V.CAMERA
    # model and joint come from the rendered jitter's own dropdowns: one record each, one widget each
    assert [getattr(c, "kplab_key", None) for c in f.inputs[1:3]] == ["j_model", "joint"]
