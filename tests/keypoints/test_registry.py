"""Model and decoder records: labels come from head and stride, each panel finds its model(s) by role, and a
decoder name cannot be registered twice."""

from __future__ import annotations

import pytest
import torch

import demos.keypoints as kp
from demos.keypoints import decoders, registry

SINGLE_ROLES = ("default", "compression", "compression_fc", "two_peaks_mining", "features")


@pytest.mark.parametrize("rec", list(kp.MODELS.values()), ids=list(kp.MODELS))
def test_a_label_states_the_records_own_head_and_stride(rec):
    assert registry.HEAD_NAMES[rec.head] in rec.label
    assert (f"stride {rec.stride}" in rec.label) if rec.stride else "stride" not in rec.label
    assert ("symmetric" in rec.label) == (rec.variant == "symmetric")
    assert len(rec.label) <= 28  # shown whole by a dropdown in a narrow column on a projector (tests/test_browser.py)


def test_labels_change_with_the_stride_and_are_told_apart():
    a = registry.ModelRecord("a", "heatmap", 4)
    b = registry.ModelRecord("b", "heatmap", 8)
    assert "stride 4" in a.label and "stride 8" in b.label
    assert len({m.label for m in kp.MODELS.values()}) == len(kp.MODELS)


@pytest.mark.parametrize("role", SINGLE_ROLES)
def test_each_single_role_names_exactly_one_bundled_model(role):
    rec = kp.model_for(role)
    assert role in rec.roles and rec.name in kp.bundled_names()


def test_the_roles_fit_the_panels_that_use_them():
    assert kp.model_for("two_peaks_mining").variant == "symmetric"
    assert kp.model_for("compression_fc").head == "regression"  # the int8 rows quantize its Linear layers
    assert kp.model_for("features").stride is not None
    curve = kp.models_for("occlusion_curve")
    assert len({m.head for m in curve}) == len(curve) >= 2  # one curve per head
    for stride in (4, 8):  # the race's strides: one reference per head
        refs = [m for m in kp.models_for("race_reference") if m.stride in (None, stride)]
        assert len({m.head for m in refs}) == len(refs)


def test_an_unknown_role_is_refused_in_the_record_and_in_the_lookup():
    with pytest.raises(ValueError, match="unknown roles"):
        registry.ModelRecord("x", "heatmap", 4, roles=("favourite",))
    with pytest.raises(KeyError, match="unknown role"):
        kp.models_for("favourite")


def test_model_for_refuses_a_role_held_by_several_models():
    with pytest.raises(LookupError, match="exactly one"):
        kp.model_for("occlusion_curve")


def test_a_decoder_name_cannot_be_registered_twice():
    before = dict(decoders.REGISTRY)
    with pytest.raises(ValueError, match="already registered"):
        decoders.register("argmax", "another arg-max", "#000", "circle")(lambda h: h)
    assert decoders.REGISTRY == before


def test_a_registered_decoder_decodes_and_is_found_by_its_role():
    name = "test_centre"

    @decoders.register(name, "centre of the map", "#123456", "circle", in_lab=False, roles=("test_panel",))
    def centre(heatmaps):
        B, K, H, W = heatmaps.shape
        return torch.tensor([W / 2, H / 2]).expand(B, K, 2)

    try:
        assert decoders.decoders_for("test_panel") == (name,)
        assert kp.decode(torch.rand(1, 2, 8, 8), name).tolist() == [[[4.0, 4.0], [4.0, 4.0]]]
    finally:
        del decoders.REGISTRY[name]


def test_the_panels_decoders_come_from_the_registry():
    from demos.bimodal import compute as B
    from demos.keypoints import occlusion

    assert occlusion.CURVE_DECODERS == decoders.decoders_for("occlusion_curve")
    assert B.METHODS == decoders.decoders_for("two_peaks")
    assert occlusion.CURVE_MODELS == tuple(m.name for m in kp.models_for("occlusion_curve"))
