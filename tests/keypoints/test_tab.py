"""Keypoints tab handlers, called directly and through gradio_client."""

from __future__ import annotations

import math
import shutil

import gradio as gr
import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from PIL import Image

from demos.keypoints import photo, tab

EX = tab.EXAMPLES / tab.DEFAULT_EXAMPLE
SHOWN = ["argmax", "soft_argmax"]


def test_example_gives_every_output():
    out = tab.analyse_image(str(EX), "heatmap-s4", 20.0, SHOWN, "l_wrist")
    overlay, grid_h, grid_p, zoom, table, csv, text, joint, state = out
    for f in (overlay, grid_h, grid_p, zoom):
        assert isinstance(f, go.Figure)
    assert len(grid_p.data) == 14 * 3  # a map, an arg-max marker and an integral marker per joint
    assert len(table) == 14
    assert {"argmax x", "soft_argmax y", "two-peak score", "error argmax px"} <= set(table.columns)
    assert "Mean error to ground truth" in text
    assert open(csv).read().startswith("joint,")
    # the arg-max sits on a cell centre (multiples of 4 px + 2 at stride 4); the integral need not
    am = table[["argmax x", "argmax y"]].to_numpy()
    assert np.allclose((am - 2.0) % 4.0, 0.0)


def test_regression_model_has_no_heatmaps():
    overlay, grid_h, grid_p, zoom, table, *_ = tab.analyse_image(str(EX), "regression", 1.0, SHOWN, "head")
    assert grid_h is None and grid_p is None and zoom is None
    assert "direct x" in table.columns


def test_ground_truth_needs_the_exact_render(tmp_path):
    fake = tmp_path / EX.name
    img = np.asarray(Image.open(EX)).copy()
    img[0, 0] ^= 1  # one pixel differs: not the render any more
    Image.fromarray(img).save(fake)
    *_, text, _joint, _state = tab.analyse_image(str(fake), "heatmap-s4", 20.0, SHOWN, "head")
    assert "No ground truth" in text


@pytest.mark.parametrize("beta", [float("nan"), 0.0, -1.0, 1e9])
def test_bad_beta_is_a_clear_error(beta):
    with pytest.raises(gr.Error, match="β"):
        tab.analyse_image(str(EX), "heatmap-s4", beta, SHOWN, "head")


def test_not_an_image(tmp_path):
    p = tmp_path / "x.png"
    p.write_text("no")
    with pytest.raises(gr.Error, match="not an image"):
        tab.analyse_image(str(p), "heatmap-s4", 20.0, SHOWN, "head")


def test_huge_image(tmp_path):
    p = tmp_path / "huge.png"
    Image.new("L", (9000, 5000)).save(p)
    with pytest.raises(gr.Error, match="megapixels"):
        tab.analyse_image(str(p), "heatmap-s4", 20.0, SHOWN, "head")


def test_grayscale_and_tiny_images(tmp_path):
    p = tmp_path / "g.png"
    Image.new("L", (3, 2), 100).save(p)
    out = tab.analyse_image(str(p), "heatmap-s4", 20.0, SHOWN, "head")
    assert len(out[4]) == 14


def test_empty_sketchpad():
    empty = {"background": None, "layers": [], "composite": np.zeros((64, 64, 4), np.uint8)}
    with pytest.raises(gr.Error, match="sketchpad is empty"):
        tab.analyse_drawing(empty, "heatmap-s4", 20.0, SHOWN, "head")
    with pytest.raises(gr.Error, match="sketchpad is empty"):
        tab.analyse_drawing(None, "heatmap-s4", 20.0, SHOWN, "head")


def test_a_drawing_is_analysed():
    canvas = np.zeros((200, 200, 4), np.uint8)
    canvas[40:160, 98:102] = (0, 0, 0, 255)  # a body
    canvas[60:64, 60:140] = (214, 39, 40, 255)  # arms
    out = tab.analyse_drawing({"composite": canvas}, "integral-s4", 1.0, SHOWN, "head")
    assert len(out[4]) == 14 and "No ground truth" in out[6]


def test_photo_model_offline_says_why():
    with pytest.raises(gr.Error, match="could not be fetched"):
        tab.analyse_image(str(EX), tab.PHOTO, 1.0, SHOWN, "nose")


def test_photo_model_with_no_person(monkeypatch):
    torch.manual_seed(0)
    model = photo.build_model(min_size=128, max_size=160).eval()
    monkeypatch.setattr(tab, "_photo_model", lambda: (model, "random weights"))
    monkeypatch.setattr(photo, "detect", lambda *a, **k: (np.zeros((8, 8, 3), np.uint8), []))
    with pytest.raises(gr.Error, match="found no person"):
        tab.analyse_image(str(EX), tab.PHOTO, 1.0, SHOWN, "nose")


def test_photo_model_outputs(monkeypatch):
    torch.manual_seed(0)
    model = photo.build_model(min_size=128, max_size=160, box_score_thresh=0.0).eval()
    real = photo.detect
    monkeypatch.setattr(tab, "_photo_model", lambda: (model, "random weights"))
    monkeypatch.setattr(photo, "detect", lambda m, img, beta=1.0: real(m, img, beta=beta, score_thresh=0.0))
    overlay, grid_h, grid_p, zoom, table, csv, text, joint, state = tab.analyse_image(
        str(EX), tab.PHOTO, 1.0, SHOWN, "nose")
    assert len(table) == 17 and "torchvision x" in table.columns
    assert "56×56" in text
    assert math.isclose(np.exp(grid_p.data[0].z).sum(), np.exp(grid_p.data[0].z).sum())  # maps are finite


def test_changing_model_resets_beta():
    out = tab.change_model(None, "integral-s8", SHOWN, "head")
    assert out[-1] == 1.0
    assert tab.change_model(None, "heatmap-s8", SHOWN, "head")[-1] == 20.0


def test_through_gradio_client(client, tmp_path):
    from gradio_client import handle_file

    shutil.copy(EX, tmp_path / EX.name)
    result = client.predict(handle_file(str(tmp_path / EX.name)), "integral-s8", 1.0, SHOWN, "l_wrist",
                            api_name="/analyse_image")
    text = result[6]
    assert "integral-s8" in text and "Mean error to ground truth" in text
    # gradio's Image component refuses a non-image itself, before the handler, naming the cause
    with pytest.raises(Exception, match="not an image|cannot identify image file"):
        bad = tmp_path / "bad.png"
        bad.write_text("x")
        client.predict(handle_file(str(bad)), "integral-s8", 1.0, SHOWN, "l_wrist", api_name="/analyse_image")


def test_link_settings_open_the_tab_with_that_model_and_beta():
    req = gr.Request(query_params={"model": "integral-s8", "beta": "2.5"})
    *outs, model, beta = tab.open_with_settings(req)
    assert model == "integral-s8" and beta == 2.5
    assert "integral-s8" in outs[6]
    *_, model, beta = tab.open_with_settings(gr.Request(query_params={"model": "nope", "beta": "nan"}))
    assert model == tab.model_choices()[0][1] and beta == tab.default_beta(model)
