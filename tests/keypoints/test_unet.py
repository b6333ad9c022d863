"""Inside the U-Net: the backbone read by hooks, the skip ablation, and the tab's view."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import demos.keypoints as kp
from demos.common.errors import UserInputError
from demos.keypoints import data, unet
from demos.keypoints import views as V


def _x(model, n=3):
    images, _, _ = kp.dataset(kp.heldout_seeds(n), model.variant, model.input_size)
    return kp.to_tensor(images)


def test_trace_reads_every_level_of_the_module():
    m = kp.get_model("heatmap-s4")
    t = unet.trace(m, _x(m))
    w, s = m.backbone.channels[4], m.input_size
    assert tuple(t["enc4"].shape[1:]) == (w, s // 4, s // 4)
    assert tuple(t["enc8"].shape[1:]) == (2 * w, s // 8, s // 8)
    assert tuple(t["enc16"].shape[1:]) == (4 * w, s // 16, s // 16)
    assert tuple(t["dec8"].shape[1:]) == (2 * w, s // 8, s // 8) and tuple(t["dec4"].shape[1:]) == (w, s // 4, s // 4)
    # each skip's 1x1 conv maps encoder channels to the decoder's input width at the same resolution
    assert tuple(t["lat8"].shape[1:]) == (4 * w, s // 8, s // 8) and tuple(t["lat4"].shape[1:]) == (2 * w, s // 4, s // 4)
    assert torch.equal(t["output"]["heatmaps"], m(_x(m))["heatmaps"])  # hooks only read


def test_skip_means_are_the_per_channel_means_and_hooks_are_removed():
    m = kp.get_model("heatmap-s4")
    x = _x(m, unet.N_HELDOUT)
    t = unet.trace(m, x)
    means = unet.skip_means(m)
    assert torch.allclose(means[8], t["lat8"].mean(dim=(0, 2, 3), keepdim=True), atol=1e-5)
    before = m(x[:2])["heatmaps"]
    with unet.without_skips(m, (), means):
        assert torch.equal(m(x[:2])["heatmaps"], before)  # nothing removed: nothing changes
    with unet.without_skips(m, (8, 4), means):
        assert not torch.allclose(m(x[:2])["heatmaps"], before)
    assert torch.equal(m(x[:2])["heatmaps"], before)  # the hooks are gone after the block


def test_one_batched_pass_equals_one_pass_per_ablation():
    m = kp.get_model("integral-s4")
    x = _x(m, 1)
    means = unet.skip_means(m)
    removed = [levels for _, levels in unet.ABLATIONS]
    with unet.without_skips(m, removed, means):
        batched = m(x.expand(len(removed), -1, -1, -1))["heatmaps"]
    for i, levels in enumerate(removed):
        with unet.without_skips(m, levels, means):
            assert torch.allclose(batched[i], m(x)["heatmaps"][0], atol=1e-5)


def test_removing_the_skips_hurts_the_heatmaps():
    rows = {r["ablation"]: r for r in unet.ablation(kp.get_model("heatmap-s4"))}
    both, none = rows["with both skips"], rows["without either skip"]
    assert none["mean_px"] > 1.5 * both["mean_px"]  # measured: 4.9 -> 15.3 px
    assert none["peak"] < both["peak"]  # the map loses its peak (0.80 -> 0.25)


def test_ablation_of_unused_levels_changes_nothing():
    reg = unet.ablation(kp.get_model("regression"))
    assert len({r["mean_px"] for r in reg}) == 1 and all(r["peak"] is None for r in reg)
    s8 = {r["ablation"]: r["mean_px"] for r in unet.ablation(kp.get_model("integral-s8"))}
    assert s8["without the 1/4 skip"] == s8["with both skips"]  # a stride-8 head reads the 1/8 level
    assert s8["without the 1/8 skip"] > s8["with both skips"]


def test_the_view_draws_the_module_for_the_current_image():
    st = V.analyse_image(str(V.EXAMPLES / V.DEFAULT_EXAMPLE), "heatmap-s4", 20.0, ["argmax"], "l_wrist")["state"]
    out = V.inside_unet(st, "heatmap-s4", "l_ankle")
    labels = " ".join(a["text"] for a in out["unet"].to_dict()["layout"]["annotations"])
    assert "encoder 1/16: 96×8×8" in labels and "skip: 1×1 conv (96 ch), then +" in labels
    assert "head: l ankle (32×32)" in labels
    assert len(out["unet_ablation"].data) == len(unet.ABLATIONS)
    assert "| with both skips |" in out["unet_text"] and "concatenates" in out["unet_text"]
    reg = V.inside_unet(st, "regression", "l_wrist")
    assert "not used" in reg["unet_text"] and "(computed, not used)" in str(reg["unet"].to_dict()["layout"])


def test_the_view_needs_an_image_and_a_bundled_model():
    with pytest.raises(UserInputError, match="No image yet"):
        V.inside_unet(None, "heatmap-s4", "l_wrist")
    with pytest.raises(UserInputError, match="bundled models"):
        V.inside_unet({"image": None}, V.PHOTO, "l_wrist")
