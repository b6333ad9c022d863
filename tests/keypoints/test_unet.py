"""Inside the backbone: read by hooks, the skip ablation (scored on renders other than its means'), the U-Net step
built beside it, and the tab's view."""

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
    x = _x(m, unet.N_HELDOUT)  # the first N_HELDOUT held-out renders: MEAN_SEEDS
    assert list(unet.MEAN_SEEDS) == kp.heldout_seeds(unet.N_HELDOUT)
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


def test_ablation_error_and_change_agree():
    """The table prints each ablation's error and its change from the full model: the change is the error's
    difference (both are means over the same renders of each render's mean), not a second kind of mean."""
    rows = unet.ablation(kp.get_model("heatmap-s4"))
    for r in rows:
        assert r["mean_px"] - rows[0]["mean_px"] == pytest.approx(r["delta_px"], abs=1e-5), r["ablation"]


def test_ablation_of_unused_levels_changes_nothing():
    reg = unet.ablation(kp.get_model("regression"))
    assert len({r["mean_px"] for r in reg}) == 1 and all(r["peak"] is None for r in reg)
    s8 = {r["ablation"]: r["mean_px"] for r in unet.ablation(kp.get_model("integral-s8"))}
    assert s8["without the 1/4 skip"] == s8["with both skips"]  # a stride-8 head reads the 1/8 level
    assert s8["without the 1/8 skip"] > s8["with both skips"]


def test_the_view_draws_the_module_for_the_current_image():
    st = V.analyse_image(str(V.EXAMPLES / V.DEFAULT_EXAMPLE), "heatmap-s4", 20.0, ["argmax"], "l_wrist")["state"]
    out = V.inside_unet(st, "heatmap-s4", "l_ankle")
    labels = " ".join(a["text"].replace("<br>", " ") for a in out["unet"].to_dict()["layout"]["annotations"])
    assert "encoder 1/16: 96×8×8" in labels and "skip: 1×1 conv (96 ch), then +" in labels
    assert "head: l ankle (32×32)" in labels
    assert len(out["unet_ablation"].data) == len(unet.ABLATIONS)
    assert "| with both skips |" in out["unet_text"] and "U-Net concatenates" in out["unet_text"]
    assert "| ⅛ (16×16) | 96 → 48 |" in out["unet_text"]
    reg = V.inside_unet(st, "regression", "l_wrist")
    assert "not used" in reg["unet_text"] and "(computed, not used)" in str(reg["unet"].to_dict()["layout"])


def test_the_view_needs_an_image_and_a_bundled_model():
    with pytest.raises(UserInputError, match="No image yet"):
        V.inside_unet(None, "heatmap-s4", "l_wrist")
    with pytest.raises(UserInputError, match="bundled models"):
        V.inside_unet({"image": None}, V.PHOTO, "l_wrist")


def test_the_ablation_is_scored_on_renders_other_than_its_means(monkeypatch):
    """The means that replace a removed skip come from one set of held-out renders, the error from another."""
    assert not set(unet.MEAN_SEEDS) & set(unet.SCORE_SEEDS) and len(unet.SCORE_SEEDS) == unet.N_HELDOUT
    m = kp.get_model("integral-s8")
    seen = []
    real = unet.dataset
    monkeypatch.setattr(unet, "dataset", lambda seeds, *a: seen.append(tuple(seeds)) or real(seeds, *a))
    unet.skip_means.cache_clear()
    unet.ablation.cache_clear()
    rows = unet.ablation(m)
    assert seen == [unet.SCORE_SEEDS, unet.MEAN_SEEDS]  # scored on one set, the means from the other
    assert all(r["n"] == len(unet.SCORE_SEEDS) for r in rows)
    with pytest.raises(ValueError, match="other than"):
        unet.ablation(m, seeds=unet.MEAN_SEEDS[:4], mean_seeds=unet.MEAN_SEEDS)


def test_a_unet_step_concatenates_and_its_parameters_are_counted_on_the_module():
    m = kp.get_model("heatmap-s4")
    c = m.backbone.channels
    up = unet.UNetUp(c[16], c[8], c[8])
    out = up(torch.zeros(1, c[16], 8, 8), torch.zeros(1, c[8], 16, 16))
    assert tuple(out.shape) == (1, c[8], 16, 16)
    # 2x2 up-convolution (c16 -> c16/2, with bias), then 3x3 convolutions on the concatenation and on their output
    cat = c[16] // 2 + c[8]
    expected = (c[16] * (c[16] // 2) * 4 + c[16] // 2) + (cat * c[8] * 9 + c[8]) + (c[8] * c[8] * 9 + c[8])
    assert sum(p.numel() for p in up.parameters()) == expected
    rows = {r["level"]: r for r in unet.compare_skips(m)}
    assert rows[8]["cat_in"] == cat and rows[8]["cat_params"] == expected
    bb = m.backbone
    assert rows[8]["add_in"] == bb.lat8.out_channels == c[16]  # added: the 1x1 projection matches the coarse map
    assert rows[8]["add_params"] == sum(p.numel() for p in [*bb.lat8.parameters(), *bb.dec8.parameters()])
    assert rows[4]["add_out"] == c[4] and rows[4]["cat_out"] == c[4]
