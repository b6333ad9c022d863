"""What opening the page costs (demos/common/sessions.py): the page sent from the cache is the page Gradio renders,
and a session's component configs copied from the template are the ones Gradio builds."""

from __future__ import annotations

import gzip

import gradio as gr
import pytest
from gradio import state_holder
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from demos.common import sessions


def _app(calls):
    def page(request):
        calls.append(str(request.url))
        return HTMLResponse(f"<html>{request.headers.get('host')} {'x' * 5000}</html>")

    return Starlette(routes=[Route("/", page, methods=["GET", "HEAD"])], middleware=[Middleware(sessions.PageCache)])


@pytest.fixture
def client():
    calls = []
    with TestClient(_app(calls)) as c:
        yield c, calls


def test_the_page_is_rendered_once_per_origin_and_sent_as_rendered(client):
    c, calls = client
    first = c.get("/", headers={"accept-encoding": "identity"})
    again = c.get("/?tab=keypoints&present=1", headers={"accept-encoding": "identity"})
    assert first.status_code == again.status_code == 200
    assert first.text == again.text and len(calls) == 1
    other = c.get("/", headers={"host": "elsewhere", "accept-encoding": "identity"})
    assert "elsewhere" in other.text and len(calls) == 2


def test_a_gzip_client_gets_the_same_page_compressed(client):
    c, _ = client
    plain = c.get("/", headers={"accept-encoding": "identity"}).content
    r = c.send(c.build_request("GET", "/", headers={"accept-encoding": "gzip"}), stream=True)
    raw = b"".join(r.iter_raw())
    assert r.headers["content-encoding"] == "gzip" and gzip.decompress(raw) == plain and len(raw) < len(plain)


def test_deep_links_and_other_pages_are_not_kept(client):
    c, calls = client
    c.get("/?deep_link=abc")
    c.get("/?deep_link=abc")
    c.get("/?page=other")
    assert len(calls) == 3


def test_head_answers_without_rendering(client):
    c, calls = client
    assert c.head("/").status_code == 200 and calls == []


def test_a_session_copies_the_configs_gradio_builds():
    with gr.Blocks() as demo:
        s = gr.Slider(0, 10, value=3, label="x")
        gr.Plot()
        gr.State({"a": 1})
        gr.Markdown("text")
    original = state_holder.SessionState.__dict__.get("_kplab_original_init", state_holder.SessionState.__init__)
    theirs = object.__new__(state_holder.SessionState)
    original(theirs, demo)
    assert sessions.share_session_template()
    ours, other = state_holder.SessionState(demo), state_holder.SessionState(demo)
    assert ours.config_values == theirs.config_values
    assert set(vars(ours)) == set(vars(theirs))
    ours._update_value_in_config(s._id, 7)  # a session's change stays in that session
    assert other.config_values[s._id]["props"]["value"] == 3
