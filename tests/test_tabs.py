"""Checks every tab gets (tests/<topic>/test_tab.py add the topic's own): its widgets are built from the
parameter records of its views, every view has a named endpoint, and a value past a record's end is refused
through the real handler with the record's sentence, before anything is computed."""

from __future__ import annotations

import importlib
import importlib.util

import gradio as gr
import pytest

from demos.common import ui
from demos.common.params import Param
from tests.tab_checks import ROOT, app_topics, build, check_widgets_match_records, views_of

ALL_TOPICS = app_topics()  # app.TOPICS: a new tab gets every check below without an edit here
TOPICS = [t for t in ALL_TOPICS if importlib.util.find_spec(f"demos.{t}.views")]  # the overview has no views
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
    served = {getattr(fn.fn, "__name__", None) for fn in demo.fns.values() if fn.api_name}  # the view each serves
    served |= {v.fn.__name__ for v in ui.first_views(demo)}  # a first view needs no endpoint of its own
    missing = [f.__name__ for f in views if f.__name__ not in served]
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


@pytest.mark.parametrize("name", ALL_TOPICS)
def test_every_topic_has_a_tab_and_its_own_test_tab(name):
    tab = importlib.import_module(f"demos.{name}.tab")
    assert tab.TAB_ID and tab.TITLE and tab.SUMMARY and callable(tab.build)
    assert (ROOT / "tests" / name / "test_tab.py").is_file(), f"tests/{name}/test_tab.py is missing"


def test_every_package_with_a_tab_is_a_topic_of_the_app():
    tabs = sorted(p.parent.name for p in (ROOT / "demos").glob("*/tab.py"))
    assert tabs == sorted(ALL_TOPICS), "add the package to app.TOPICS (or remove its tab.py)"


def test_no_typed_durations_in_any_string():
    """Every "about N s" a page shows is written by ``params.about`` from a view's declared cost (measured by
    ``python -m bench worst``); no other string in demos/ types a duration that would drift from the code."""
    import io
    import re
    import tokenize

    typed = re.compile(r"about (\d+(\.\d+)?|a|half a|one) (s|sec|seconds?|minutes?)\b|a few seconds|takes? \d+ s\b")
    found = []
    for path in sorted((ROOT / "demos").rglob("*.py")):
        if path == ROOT / "demos" / "common" / "params.py":  # where the texts are made
            continue
        for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
            if tok.type in (tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", -1)) and typed.search(tok.string):
                found.append(f"{path.relative_to(ROOT)}:{tok.start[0]}: {tok.string[:80]}")
    assert not found, found
