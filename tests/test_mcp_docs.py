"""Every view is an MCP tool (``launch(mcp_server=True)``) whose description is the view's docstring, read by
Gradio's own parser: each ``@takes`` view of every topic in ``app.TOPICS`` says what it computes and, under
"Returns:", what it returns. The topics are read from app.py without building the app."""

from __future__ import annotations

import importlib
import importlib.util

import pytest
from gradio.utils import get_function_description

from tests.tab_checks import app_topics

TOPICS = [t for t in app_topics() if importlib.util.find_spec(f"demos.{t}.views")]  # the overview has no views
VIEWS = [(t, name, f) for t in TOPICS for name, f in vars(importlib.import_module(f"demos.{t}.views")).items()
         if callable(f) and hasattr(f, "params")]


def test_every_topic_with_views_is_checked():
    assert {t for t, _, _ in VIEWS} == set(TOPICS)


@pytest.mark.parametrize("topic, name, fn", VIEWS, ids=[f"{t}.{n}" for t, n, _ in VIEWS])
def test_view_says_what_it_computes_and_returns(topic, name, fn):
    assert fn.__doc__ and "Returns:" in fn.__doc__, f"demos/{topic}/views.py: {name} has no 'Returns:' docstring"
    description, _, returns = get_function_description(fn)
    assert description, f"{topic}.{name}: no sentence before 'Returns:' (the MCP tool's description)"
    assert returns, f"{topic}.{name}: nothing listed under 'Returns:'"
