"""Keypoints tab wiring: widgets come from the parameter records; the API refuses bad input in sentences."""

from __future__ import annotations

import shutil

import gradio as gr
import pytest

from demos.common import ui
from demos.keypoints import tab
from demos.keypoints import views as V

SHOWN = ["argmax", "soft_argmax"]


@pytest.fixture(scope="module")
def blocks():
    with gr.Blocks() as demo:
        tab.build()
    return demo


def _component(demo, elem_id):
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def test_widgets_come_from_the_records(blocks):
    beta = _component(blocks, "kp-beta")
    assert (beta.minimum, beta.maximum, beta.value, beta.label) == (V.BETA.lo, V.BETA.hi, V.BETA.default, V.BETA.label)
    model = _component(blocks, "kp-model")
    assert [tuple(c) for c in model.choices] == [tuple(c) for c in V.MODEL.options]


def test_named_endpoints(blocks):
    names = {fn.api_name for fn in blocks.fns.values()}
    assert {"analyse_image", "analyse_drawing", "change_model", "set_beta", "set_decoders", "set_joint"} <= names


def test_handler_maps_named_outputs_and_skips_the_rest():
    h = ui.handler(V.update, ["overlay", "summary"])
    assert all(isinstance(v, type(gr.skip())) for v in h(None, "heatmap-s4", 20.0, SHOWN, "head"))


def test_handler_turns_bad_input_into_an_error_sentence():
    h = ui.handler(V.update, ["overlay", "summary"])
    with pytest.raises(gr.Error, match="β: inverse temperature of the soft-max must be a number from 0.1 to 200"):
        h({"image": None}, "heatmap-s4", 1e9, SHOWN, "head")


def test_through_gradio_client(client, tmp_path):
    from gradio_client import handle_file

    ex = V.EXAMPLES / V.DEFAULT_EXAMPLE
    shutil.copy(ex, tmp_path / ex.name)
    result = client.predict(handle_file(str(tmp_path / ex.name)), "integral-s8", 1.0, SHOWN, "l_wrist",
                            api_name="/analyse_image")
    assert "integral-s8" in result[6] and "Mean error to ground truth" in result[6]
    bad = tmp_path / "bad.png"
    bad.write_text("x")
    with pytest.raises(Exception, match="bad.png is not an image this app can read"):
        client.predict(handle_file(str(bad)), "integral-s8", 1.0, SHOWN, "l_wrist", api_name="/analyse_image")
