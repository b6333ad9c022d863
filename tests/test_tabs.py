"""Checks every tab gets (tests/<topic>/test_tab.py add the topic's own): its widgets are built from the
parameter records of its views, every view has a named endpoint, and a value past a record's end is refused
through the real handler with the record's sentence, before anything is computed."""

from __future__ import annotations

import importlib

import gradio as gr
import pytest

from demos.common import ui
from demos.common.params import Param
from tests.tab_checks import api_names, build, check_widgets_match_records, views_of

TOPICS = ["keypoints", "race", "bimodal", "normalization", "dropout", "selu", "architectures"]
FIRST_VIEW_ONLY = {"zoo_static", "squeezenet"}  # computed for the page's first view, not an endpoint of its own
ENDPOINT = {"update": "set_beta"}  # the keypoints' control view serves set_beta, set_decoders and set_joint
VIEWS = [(t, f) for t in TOPICS for f in views_of(importlib.import_module(f"demos.{t}.views"))]


@pytest.fixture(scope="module", params=TOPICS)
def topic(request):
    return request.param, build(importlib.import_module(f"demos.{request.param}.tab"))


def test_widgets_come_from_the_records(topic):
    name, demo = topic
    assert check_widgets_match_records(demo, importlib.import_module(f"demos.{name}.views")) >= 1


def test_every_view_has_a_named_endpoint(topic):
    name, demo = topic
    views = views_of(importlib.import_module(f"demos.{name}.views"))
    names = api_names(demo) | FIRST_VIEW_ONLY
    missing = [f.__name__ for f in views if ENDPOINT.get(f.__name__, f.__name__) not in names]
    assert not missing


@pytest.mark.parametrize("view", [f for _, f in VIEWS], ids=[f"{t}.{f.__name__}" for t, f in VIEWS])
def test_values_past_a_records_end_get_its_sentence(view):
    for i, rec in enumerate(view.params):
        if not isinstance(rec, Param):
            continue
        args = [r.default for r in view.params]
        args[i] = rec.hi + 1000
        with pytest.raises(gr.Error, match=f"must be {rec.range_text}; got"):
            result = ui.handler(view, ["x"])(*args)
            if hasattr(result, "__next__"):
                next(result)
