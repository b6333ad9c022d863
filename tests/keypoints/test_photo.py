"""Keypoint R-CNN with random weights (no download): shapes, box mapping, decoding."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.models.detection.roi_heads import heatmaps_to_keypoints

from demos.keypoints import decoders, photo


def test_map_to_image_spans_the_box():
    boxes = torch.tensor([[10.0, 20.0, 66.0, 132.0]])
    c = torch.tensor([[[0.0, 0.0], [56.0, 56.0], [28.0, 28.0]]])
    out = photo.map_to_image(c, boxes, 56)
    assert out.tolist() == [[[10.0, 20.0], [66.0, 132.0], [38.0, 76.0]]]


@pytest.mark.parametrize("peak", [(5, 40), (30, 12), (50, 50)])
def test_argmax_mapping_agrees_with_torchvision(peak):
    """A sharp peak decoded by arg-max and mapped to the box lands where torchvision's own decoding puts it."""
    px, py = peak
    logits = torch.full((1, 17, 56, 56), -10.0)
    logits[0, :, py, px] = 10.0
    boxes = torch.tensor([[100.0, 50.0, 212.0, 274.0]])  # 112 x 224 px: 2 x 4 px per map cell
    tv, _ = heatmaps_to_keypoints(logits, boxes)
    ours = photo.map_to_image(decoders.argmax(logits), boxes, 56)
    # torchvision up-samples bicubically before its arg-max, so it may sit anywhere in the peak's cell
    assert torch.allclose(ours[0], tv[0, :, :2], atol=4.0)


@pytest.fixture(scope="module")
def random_model():
    torch.manual_seed(0)
    return photo.build_model(min_size=160, max_size=240, box_score_thresh=0.0).eval()


def test_detect_with_random_weights(random_model):
    img = Image.fromarray((np.random.default_rng(0).random((150, 200, 3)) * 255).astype(np.uint8))
    arr, people = photo.detect(random_model, img, beta=1.0, score_thresh=0.0, max_people=2)
    assert arr.shape == (150, 200, 3)
    assert 1 <= len(people) <= 2
    p = people[0]
    assert p.logits.shape == (17, 56, 56)
    assert set(p.coords) == set(decoders.DECODERS) | {"torchvision"}
    for d in decoders.DECODERS:
        assert p.map_coords[d].shape == (17, 2)
        assert ((p.map_coords[d] >= 0) & (p.map_coords[d] <= 56)).all()
        x0, y0, x1, y1 = p.box
        c = p.coords[d]
        assert ((c[:, 0] >= x0 - 1e-3) & (c[:, 0] <= x1 + 1e-3) & (c[:, 1] >= y0 - 1e-3) & (c[:, 1] <= y1 + 1e-3)).all()


def test_no_person_gives_an_empty_list(random_model):
    img = Image.new("RGB", (120, 90), (128, 128, 128))
    _, people = photo.detect(random_model, img, score_thresh=1.01)
    assert people == []


def test_weights_unavailable_offline_says_why():
    model, why = photo.load_photo_model()
    assert model is None
    assert "not available here" in why and "bundled models keep working" in why
    assert "offline" in why and "Error" not in why
