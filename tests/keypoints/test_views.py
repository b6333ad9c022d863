"""Keypoints tab views (compute side), called directly: named outputs, ground truth, bad input."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from PIL import Image

from demos.common.errors import UserInputError
from demos.keypoints import photo
from demos.keypoints import views as V

EX = V.EXAMPLES / V.DEFAULT_EXAMPLE
SHOWN = ["argmax", "soft_argmax"]


def test_example_gives_every_output():
    out = V.analyse_image(str(EX), "heatmap-s4", 20.0, SHOWN, "l_wrist")
    for k in ("overlay", "grid_h", "grid_p", "zoom"):
        assert isinstance(out[k], go.Figure)
    assert len(out["grid_p"].data) == 14 * 3  # a map, an arg-max marker and an integral marker per joint
    table = out["table"]
    assert len(table) == 14
    assert {"argmax x", "soft_argmax y", "two-peak score (soft-max)", "error argmax px"} <= set(table.columns)
    assert "Mean error to ground truth" in out["summary"]
    assert open(out["csv"]).read().startswith("joint,")
    assert out["joint"]["value"] == "l_wrist" and len(out["joint"]["choices"]) == 14
    # the arg-max sits on a cell centre (multiples of 4 px + 2 at stride 4); the integral need not
    am = table[["argmax x", "argmax y"]].to_numpy()
    assert np.allclose((am - 2.0) % 4.0, 0.0)


def test_regression_model_has_no_heatmaps():
    out = V.analyse_image(str(EX), "regression", 1.0, SHOWN, "head")
    assert out["grid_h"] is None and out["grid_p"] is None and out["zoom"] is None
    assert "direct x" in out["table"].columns


def test_ground_truth_needs_the_exact_render(tmp_path):
    fake = tmp_path / EX.name
    img = np.asarray(Image.open(EX)).copy()
    img[0, 0] ^= 1  # one pixel differs: not the render any more
    Image.fromarray(img).save(fake)
    assert "No ground truth" in V.analyse_image(str(fake), "heatmap-s4", 20.0, SHOWN, "head")["summary"]


@pytest.mark.parametrize("beta", [float("nan"), 0.0, -1.0, 1e9, "abc", None])
def test_bad_beta_names_the_parameter_and_its_range(beta):
    with pytest.raises(UserInputError, match=r"β: inverse temperature of the soft-max must be a number from 0.1 to 200"):
        V.analyse_image(str(EX), "heatmap-s4", beta, SHOWN, "head")


def test_unknown_model_and_decoder_are_refused():
    with pytest.raises(UserInputError, match="Model must be one of"):
        V.analyse_image(str(EX), "nope", 20.0, SHOWN, "head")
    with pytest.raises(UserInputError, match="Decoders drawn: 'median' is not one of"):
        V.analyse_image(str(EX), "heatmap-s4", 20.0, ["median"], "head")


def test_csv_files_are_removed_after_their_time(monkeypatch, tmp_path):
    monkeypatch.setattr(V, "TABLES", tmp_path)
    old = tmp_path / "keypoints-000000000000.csv"
    old.write_text("x")
    import os
    import time
    os.utime(old, (time.time() - 2 * V.TABLE_MAX_AGE_S,) * 2)
    path = V.write_table_csv("joint,x\n")
    assert not old.exists() and open(path).read() == "joint,x\n"


def test_grayscale_and_tiny_images(tmp_path):
    p = tmp_path / "g.png"
    Image.new("L", (3, 2), 100).save(p)
    assert len(V.analyse_image(str(p), "heatmap-s4", 20.0, SHOWN, "head")["table"]) == 14


def test_empty_sketchpad():
    empty = {"background": None, "layers": [], "composite": np.zeros((64, 64, 4), np.uint8)}
    with pytest.raises(UserInputError, match="sketchpad is empty"):
        V.analyse_drawing(empty, "heatmap-s4", 20.0, SHOWN, "head")
    with pytest.raises(UserInputError, match="sketchpad is empty"):
        V.analyse_drawing(None, "heatmap-s4", 20.0, SHOWN, "head")


def test_a_drawing_is_analysed():
    canvas = np.zeros((200, 200, 4), np.uint8)
    canvas[40:160, 98:102] = (0, 0, 0, 255)  # a body
    canvas[60:64, 60:140] = (214, 39, 40, 255)  # arms
    out = V.analyse_drawing({"composite": canvas}, "integral-s4", 1.0, SHOWN, "head")
    assert len(out["table"]) == 14 and "No ground truth" in out["summary"]


def test_photo_model_offline_says_why_in_plain_words():
    with pytest.raises(UserInputError, match="not available here") as e:
        V.analyse_image(str(EX), V.PHOTO, 1.0, SHOWN, "nose")
    assert "Error" not in str(e.value) and "/" not in str(e.value)


OFFLINE = "The photo model's weights (Keypoint R-CNN, 226 MB) are not available here: offline."


def test_photo_model_offline_keeps_the_page_consistent(monkeypatch):
    """#26 item 2: choosing the photo model offline is refused once (one sentence), the dropdown and beta go back
    to the bundled model the figure shows, and a new image with the photo model still selected is analysed by
    that bundled model, with a first sentence that says so."""
    monkeypatch.setattr(photo, "load_photo_model", lambda device=None: (None, OFFLINE))
    st_ = V.analyse_image(str(EX), "integral-s8", 1.0, SHOWN, "l_wrist")["state"]
    assert st_["model"] == "integral-s8"
    with pytest.raises(UserInputError, match="not available here") as e:
        V.change_model(st_, V.PHOTO, SHOWN, "l_wrist")
    out = e.value.outputs
    assert out["model"] == "integral-s8" and out["beta"] == 1.0 and out["state"]["model"] == "integral-s8"
    assert out["summary"].startswith("**Not the photo model**") and "integral-s8" in out["summary"]
    # the browser sends the same choice twice (select, then blur): the second one is not a second toast
    again = V.change_model(out["state"], V.PHOTO, SHOWN, "l_wrist")
    assert again["model"] == "integral-s8"
    # a new upload while the photo model is selected: that image, analysed by the model shown before
    with pytest.raises(UserInputError) as e:
        V.analyse_image(str(V.EXAMPLES / "default-stick-1000011.png"), V.PHOTO, 1.0, SHOWN, "l_wrist")
    out = e.value.outputs
    assert out["model"] in [n for _, n in V.MODEL.options if n != V.PHOTO]
    assert out["state"]["truth"] is not None  # the new image's ground truth: it is the new image
    assert "Mean error to ground truth" in out["summary"]


def test_a_refusal_updates_the_page_through_the_handler(monkeypatch):
    """ui.handler packs a refusal's outputs for a person's page (friendly shows them with one warning)."""
    from demos.common import ui

    monkeypatch.setattr(photo, "load_photo_model", lambda device=None: (None, OFFLINE))
    names = ["model", "beta", "state"]
    h = ui.handler(V.change_model, names)
    monkeypatch.setattr(ui, "from_person", lambda: True)
    warned = []
    monkeypatch.setattr(ui.gr, "Warning", lambda msg: warned.append(msg))
    model, beta, state = h({"model": "heatmap-s8"}, V.PHOTO, SHOWN, "l_wrist")
    assert model == "heatmap-s8" and beta == 20.0 and state["model"] == "heatmap-s8" and len(warned) == 1
    h(state, V.PHOTO, SHOWN, "l_wrist")  # the same click's second event
    assert len(warned) == 1


def test_photo_model_with_no_person(monkeypatch):
    torch.manual_seed(0)
    model = photo.build_model(min_size=128, max_size=160).eval()
    monkeypatch.setattr(photo, "load_photo_model", lambda device=None: (model, "random weights"))
    monkeypatch.setattr(photo, "detect", lambda *a, **k: (np.zeros((8, 8, 3), np.uint8), []))
    with pytest.raises(UserInputError, match="found no person"):
        V.analyse_image(str(EX), V.PHOTO, 1.0, SHOWN, "nose")


def test_photo_model_outputs(monkeypatch):
    torch.manual_seed(0)
    model = photo.build_model(min_size=128, max_size=160, box_score_thresh=0.0).eval()
    real = photo.detect
    monkeypatch.setattr(photo, "load_photo_model", lambda device=None: (model, "random weights"))
    monkeypatch.setattr(photo, "detect", lambda m, img, beta=1.0: real(m, img, beta=beta, score_thresh=0.0))
    out = V.analyse_image(str(EX), V.PHOTO, 1.0, SHOWN, "nose")
    assert len(out["table"]) == 17 and "torchvision x" in out["table"].columns
    assert "56×56" in out["summary"]
    assert np.isfinite(out["grid_p"].data[0].z).all()


def test_changing_model_resets_beta():
    assert V.change_model(None, "integral-s8", SHOWN, "head") == {"beta": 1.0, "state": {"model": "integral-s8"}}
    assert V.change_model(None, "heatmap-s8", SHOWN, "head")["beta"] == 20.0


def test_controls_before_any_image_change_nothing():
    assert V.update(None, "heatmap-s4", 20.0, SHOWN, "head") == {}
    assert V.analyse_new_image(None, "heatmap-s4", 20.0, SHOWN, "head") == {}


def test_link_settings_open_the_tab_with_that_model_and_beta():
    out = V.from_link({"model": "integral-s8", "beta": "2.5"})
    assert out["model"] == "integral-s8" and out["beta"] == 2.5 and "integral-s8" in out["summary"]
    out = V.from_link({"model": "nope", "beta": "nan"})
    assert out["model"] == V.MODEL.options[0][1] and out["beta"] == V.default_beta(out["model"])


def test_every_bundled_model_whose_head_the_tab_draws_is_offered():
    from demos.keypoints import MODELS
    drawn = [n for n, m in MODELS.items() if m.head in V.TAB_HEADS]
    assert [n for _, n in V.MODEL.options] == drawn + [V.PHOTO]
    assert {m.head for m in MODELS.values()} - set(V.TAB_HEADS) == {"simcc"}  # shown by the race and the table


def _example_state(model="heatmap-s4"):
    r = V.analyse_image(str(V.EXAMPLES / V.DEFAULT_EXAMPLE), model, 20.0, ["argmax", "soft_argmax"], "l_wrist")
    return r["state"]


def test_covering_a_joint_moves_its_estimate_and_says_how_each_decoder_responded():
    st = _example_state()
    out = V.occlude(st, "l_wrist", 40, "box", "heatmap-s4", 20.0, ["argmax", "soft_argmax"], "l_wrist")
    assert "A 40 px grey box covers the **l wrist**" in out["summary"]
    assert "Arg-max jumped" in out["summary"] and ("toward" in out["summary"] or "away from" in out["summary"])
    new = out["state"]
    assert new["visible"][V.data.JOINTS.index("l_wrist")] == np.False_ and new["base"] is st.get("base", st["image"])
    # "none" gives the image back: the same outputs as before the cover
    back = V.occlude(new, "none", 40, "box", "heatmap-s4", 20.0, ["argmax", "soft_argmax"], "l_wrist")
    assert np.array_equal(np.asarray(back["state"]["image"]), np.asarray(st["image"]))


def test_occlusion_response_numbers_match_the_decoders():
    m = V._model("heatmap-s4").model
    st = _example_state()
    before = V.analysis.forward(m, st["image"])[1]
    r = V.occlusion.response(before, before, 6, 20.0, 128)
    assert r["argmax_jump"] == 0 and r["integral_moved"] == 0 and r["peak"][0] == r["peak"][1]


def test_the_occluder_needs_a_bundled_model_and_an_image():
    with pytest.raises(UserInputError, match="No image yet"):
        V.occlude(None, "l_wrist", 20, "box", "heatmap-s4", 20.0, [], "l_wrist")
    with pytest.raises(UserInputError, match="works with the bundled models"):
        V.occlude(_example_state(), "l_wrist", 20, "box", V.PHOTO, 1.0, [], "l_wrist")


def test_two_figures_report_where_each_decoder_lands():
    out = V.two_figures(0, "heatmap-s4", 20.0, ["argmax", "soft_argmax"], "l_wrist")
    assert "Two figures, one single-person model" in out["summary"] and "Two-peak score" in out["summary"]
    assert "top-down" in out["summary"] and "bottom-up" in out["summary"]
    names = [t.get("name") for t in out["overlay"].to_plotly_json()["data"]]
    assert "ground truth, figure A" in names and "ground truth, figure B" in names
    # the model line agrees with the figure: the truth of both figures is drawn, no error column is computed
    assert "No ground truth" not in out["summary"] and "ground truth of every figure is drawn" in out["summary"]
    assert not [c for c in out["table"].columns if c.startswith("error")]
    # over 20 scenes the heatmap model's maps peak on both figures for the wrist: a high two-peak score of the
    # raw heatmap (what the summary reports for MSE heatmap models)
    scores = []
    for seed in range(20):
        st = V.two_figures(seed, "heatmap-s4", 20.0, [], "l_wrist")["state"]
        hm = st["outputs"]["heatmap-s4"][1]["heatmaps"][:, 6:7]
        scores.append(float(V.decoders.two_peak_score(hm)))
    assert np.median(scores) > 0.5


def test_occlusion_curve_grows_with_the_occluder():
    rows = V.occlusion.curve("l_wrist", "box", n=12, sizes=(0, 48), models=("heatmap-s4",))
    err = {(r["decoder"], r["size"]): r["mean_px"] for r in rows}
    assert all(err[(d, 48)] > err[(d, 0)] for d in V.occlusion.CURVE_DECODERS)
    assert {r["n"] for r in rows} == {12}
