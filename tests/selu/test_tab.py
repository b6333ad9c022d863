"""The selu tab's wiring: widgets from the views' parameter records, named endpoints, one error path."""

from __future__ import annotations

import gradio as gr
import pytest

from demos.selu import tab
from demos.selu import views as V
from demos.common import ui
from tests.tab_checks import api_names, build, check_widgets_match_records, views_of


@pytest.fixture(scope="module")
def demo():
    return build(tab)


def test_widgets_come_from_the_records(demo):
    assert check_widgets_match_records(demo, V) >= 2


PRIVATE = ()


def test_every_view_has_a_named_endpoint(demo):
    names = api_names(demo)
    missing = [f.__name__ for f in views_of(V) if f.__name__ not in names and f.__name__ not in PRIVATE]
    assert not missing


@pytest.mark.parametrize("view", views_of(V), ids=lambda f: f.__name__)
def test_out_of_range_values_get_the_records_sentence(view):
    """Through the same handler the app uses: each numeric parameter above its maximum is refused with a
    sentence naming it and its range, before anything is computed."""
    from demos.common.params import Param
    for i, rec in enumerate(view.params):
        if not isinstance(rec, Param):
            continue
        args = [r.default for r in view.params]
        args[i] = rec.hi + 1000
        h = ui.handler(view, ["x"])
        with pytest.raises(gr.Error, match=f"must be {rec.range_text}; got"):
            result = h(*args)
            if hasattr(result, "__next__"):
                next(result)
