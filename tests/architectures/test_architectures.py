"""Architectures: counts against formulas and torchvision's metadata, separable kernels, skip, compression."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from demos.architectures import blocks as B
from demos.architectures import compression as Q
from demos.architectures import separable as S
from demos.architectures import zoo as Z
from demos.common.errors import UserInputError


@pytest.fixture(scope="module")
def zoo():
    return Z.table()


def test_zoo_counts_match_torchvision_metadata(zoo):
    assert len(zoo) == 12
    for e in zoo:
        # FlopCounterMode counts a multiply-add as two FLOPs: exactly twice the metadata's GMACs (3 decimals)
        assert e.gflops_counted / 2 == pytest.approx(e.gmacs_meta, abs=6e-4), e.label
        if e.name != "inception_v3":
            assert e.params == e.params_meta, e.label


def test_inception_metadata_counts_the_auxiliary_classifier():
    from torchvision.models import inception_v3

    with torch.device("meta"):
        m = inception_v3(weights=None, aux_logits=True, init_weights=False)
    assert sum(p.numel() for p in m.parameters()) == Z.weights_meta("inception_v3")["num_params"]


def test_published_accuracies(zoo):
    top1 = {e.label: e.top1 for e in zoo}
    assert top1["ResNet-50"] == pytest.approx(76.13) and top1["AlexNet"] == pytest.approx(56.522)


def test_latency_of_a_small_model():
    assert 0 < Z.measure_latency("squeezenet1_1", 64, "cpu", repeats=2) < 5000


@pytest.mark.parametrize("kind", B.BLOCKS)
@pytest.mark.parametrize("c,size,g", [(64, 8, 4), (128, 5, 8), (48, 7, 3)])
def test_block_formulas_equal_the_built_modules(kind, c, size, g):
    r = B.count(kind, B.Spec(c, size, B.valid_cardinality(c, 16), g))
    assert r["params (formula)"] == r["params (module)"]
    assert r["MACs (formula)"] == r["MACs (module)"]


@pytest.mark.parametrize("c,groups", [(64, 3), (48, 5)])
def test_groups_must_divide_channels(c, groups):
    with pytest.raises(UserInputError, match="divide"):
        B.make("ResNeXt grouped bottleneck", B.Spec(c, 8, groups))


@pytest.mark.parametrize("args,record", [((2, 8, 32), B.CHANNELS), ((5000, 8, 32), B.CHANNELS), ((64, 0, 32), B.SIZE),
                                         ((64, 10_000, 32), B.SIZE), ((64, 8, 0), B.GROUPS)])
def test_absurd_settings_are_refused_by_the_records(args, record):
    """The compute module checks with the sliders' own records: one range, one sentence."""
    with pytest.raises(UserInputError) as e:
        B.spec(*args)
    assert str(e.value).startswith(f"{record.label} must be {record.range_text}")


def test_channel_shuffle_matches_torchvision():
    assert B.shuffle_order(3, 4) == np.arange(12).reshape(3, 4).T.flatten().tolist()


@pytest.mark.parametrize("name,separable", [("Gaussian 7×7", True), ("Sobel-like edge 7×7", True),
                                            ("box 7×7", True), ("diagonal line 7×7", False), ("ring 7×7", False)])
def test_rank1_approximation(name, separable):
    k = S.kernel(name)
    r = S.rank1(k)
    assert r["weights_full"] == 49 and r["weights_sep"] == 14
    if separable:
        assert np.allclose(r["approx"], k, atol=1e-10) and r["energy"] == pytest.approx(1.0)
    else:
        assert np.abs(r["resid"]).max() > 0.1
    assert r["energy"] == pytest.approx(r["s"][0] ** 2 / (r["s"] ** 2).sum())
    if name == "diagonal line 7×7":
        assert r["energy"] == pytest.approx(1 / 7)  # the identity has 7 equal singular values


def test_depthwise_separable_cost_formula():
    c = S.depthwise_cost(32, 64, 14, repeats=1)
    assert c["full"]["macs"] == c["formula_full"] and c["separable"]["macs"] == c["formula_sep"]
    assert c["ratio_counted"] == pytest.approx(1 / 64 + 1 / 9)


def test_pruning_and_quantization():
    model = Q.kp.get_model("heatmap-s4")
    m = Q.prune_model(model, 0.5, "magnitude")
    total = sum(p.numel() for p in model.parameters())
    assert sum(int((p != 0).sum()) for p in m.parameters()) < 0.6 * total
    layers = Q._prunable(m)
    zeros = sum(int((c.weight == 0).sum()) for c in layers)
    assert zeros == pytest.approx(0.5 * sum(c.weight.numel() for c in layers), rel=0.01)
    assert Q._prunable(m)[-1].out_channels != model.num_joints  # the output layer is never pruned
    m8 = Q.quantize_int8_weights(model)
    assert Q.storage(model, 8, scale_bits=32)["bits"] < 0.3 * 32 * total
    for p in m8.parameters():
        if p.dim() >= 2:
            w = p.view(p.shape[0], -1)
            steps = w / (w.abs().amax(1, keepdim=True) / 127)
            assert torch.allclose(steps, steps.round(), atol=1e-3)  # on the int8 grid


def test_pruning_criteria_remove_what_they_say():
    model = Q.kp.get_model("heatmap-s4")
    mag = Q.prune_model(model, 0.3, "magnitude")
    rnd = Q.prune_model(model, 0.3, "random")
    zeros = lambda m: sum(int((c.weight == 0).sum()) for c in Q._prunable(m))  # noqa: E731
    assert zeros(rnd) == zeros(mag)  # random removes as many weights as magnitude pruning, drawn uniformly
    again = Q.prune_model(model, 0.3, "random")
    assert all(torch.equal(a.weight, b.weight) for a, b in zip(Q._prunable(rnd), Q._prunable(again)))  # seeded
    # magnitude pruning removes exactly the smallest |w| across layers: every kept weight >= every removed one
    orig = torch.cat([c.weight.flatten().abs() for c in Q._prunable(model)])
    kept = torch.cat([c.weight.flatten() != 0 for c in Q._prunable(mag)])
    assert orig[kept].min() >= orig[~kept].max()
    ch = Q.prune_model(model, 0.3, "channel_l1")
    for before, after in zip(Q._prunable(model), Q._prunable(ch)):
        rows = after.weight.flatten(1)
        dead = (rows == 0).all(1)
        assert int(dead.sum()) == round(0.3 * before.out_channels)  # whole output channels
        l1 = before.weight.flatten(1).abs().sum(1)
        assert l1[~dead].min() >= l1[dead].max()  # the ones with the smallest L1 norm
    with pytest.raises(ValueError):
        Q.prune_model(model, 0.3, "largest")


def test_compression_sweep_shapes_and_the_criteria_ranking():
    rows = Q.sweep(n=20)
    assert rows[0]["method"] == "fp32 (original)" and rows[0]["size_ratio"] == pytest.approx(1.0)
    assert {r["method"] for r in rows} >= set(Q.CRITERIA.values()) | {"fp16 weights", "int8 weights (per channel)"}
    err = {(r["method"], r["setting"]): r["error_px"] for r in rows}
    # measured on 200 renders at 30 %: magnitude 4.7 px, random 45 px, channels 79 px
    assert err[(Q.CRITERIA["magnitude"], "30 %")] < err[(Q.CRITERIA["random"], "30 %")]


def test_kmeans_1d_is_lloyd_from_a_linear_init():
    c, idx = Q.kmeans_1d(torch.tensor([0.0, 0.0, 1.0, 1.0, 10.0]), 2)
    assert c.tolist() == [0.5, 10.0] and idx.tolist() == [0, 0, 0, 0, 1]
    w = torch.randn(5000, generator=torch.Generator().manual_seed(0))

    def sse(iters):
        c, idx = Q.kmeans_1d(w, 16, iters=iters)
        assert torch.equal(idx, (w[:, None] - c[None]).abs().argmin(1))  # each weight at its nearest centroid
        return float(((w - c[idx]) ** 2).sum())

    linear = torch.linspace(float(w.min()), float(w.max()), 16)
    sse0 = float(((w[:, None] - linear[None]) ** 2).min(1).values.sum())
    assert sse(30) < sse(3) < sse(1) < sse0  # Lloyd's steps only lower the squared error


def test_huffman_bits_match_the_code_lengths():
    # counts 5, 2, 1, 1: codes of 1, 2, 3, 3 bits -> 5 + 4 + 3 + 3 = 15 bits
    assert Q.huffman_bits([0] * 5 + [1] * 2 + [2, 3]) == 15
    assert Q.huffman_bits([7] * 10) == 10
    sym = torch.randint(0, 32, (4000,), generator=torch.Generator().manual_seed(1)) ** 2 % 37
    counts = torch.bincount(sym).float()
    p = counts[counts > 0] / counts.sum()
    entropy = float(-(p * p.log2()).sum()) * len(sym)
    assert entropy <= Q.huffman_bits(sym) < entropy + len(sym)  # Shannon: H <= L < H + 1 per symbol


def test_sparse_entries_store_gaps_with_fillers():
    w = torch.tensor([0.0, 1.5, 0, 0, 0, 0, 0, 2.0, 0, -1.0])
    values, gaps = Q.sparse_entries(w, 2)  # 2-bit gaps: at most 4 positions, so the gap of 6 needs a filler
    assert values.tolist() == [1.5, 0.0, 2.0, -1.0] and gaps.tolist() == [2, 4, 2, 2]
    w = torch.zeros(5000)
    w[torch.randperm(5000, generator=torch.Generator().manual_seed(2))[:300]] = 1.0
    values, gaps = Q.sparse_entries(w, 3)
    pos = torch.cumsum(gaps, 0) - 1  # decoding: every entry's position; the kept weights land where they were
    assert torch.equal(pos[values != 0], torch.nonzero(w).flatten()) and int(gaps.max()) <= 8


def test_deep_compression_stages():
    rows = Q.deep_compression("heatmap-s4", 0.5, 6, n=20)
    params = sum(p.numel() for p in Q.kp.get_model("heatmap-s4").parameters())
    assert rows[0]["bits"] == 32 * params and rows[0]["ratio"] == 1.0
    assert [r["ratio"] for r in rows] == sorted(r["ratio"] for r in rows)  # every stage smaller
    assert rows[3]["error_px"] == rows[2]["error_px"]  # Huffman coding is lossless
    assert rows[2]["bits"] < rows[1]["bits"] * (6 + 8) / (32 + 8) * 1.05  # codes of 6 bits instead of 32-bit floats
    quantized = Q.deep_compression("heatmap-s4", 0.0, 8, n=20)
    assert quantized[1]["ratio"] == 1.0  # nothing pruned: every layer is cheaper dense, stored as it was


def test_projection_shortcut_halves_the_map_and_doubles_the_channels():
    """He et al. 2016, option B (docs/facts.md 6): when the shape changes the shortcut is a 1x1 conv, stride 2."""
    r = B.count("ResNet projection shortcut (stride 2)", B.Spec(64, 8))
    assert r["output"] == "128×4×4"
    m = B.make("ResNet projection shortcut (stride 2)", B.Spec(64, 8), "cpu")[0]
    conv = m.downsample[0]
    assert conv.kernel_size == (1, 1) and conv.stride == (2, 2) and conv.weight.numel() == 64 * 128


def test_dense_block_concatenates_growth_rate_channels_per_layer():
    """Huang et al. 2017: with k0 input channels and growth rate k, L layers output k0 + L·k channels."""
    r = B.count("DenseNet dense block", B.Spec(64, 8))
    assert r["output"] == f"{64 + B.DENSE_LAYERS * B.GROWTH}×8×8"
    layers = list(B.make("DenseNet dense block", B.Spec(64, 8), "cpu")[0].values())
    assert [l.conv1.in_channels for l in layers] == [64 + i * B.GROWTH for i in range(B.DENSE_LAYERS)]


@pytest.mark.parametrize("kind,ratio", [("Inception-v3: 5×5 as two 3×3", 18 / 25),
                                        ("Inception-v3: 3×3 as 1×3 + 3×1", 6 / 9)])
def test_inception_v3_factorisations_save_what_the_paper_says(kind, ratio):
    """Szegedy et al. 2016: two 3x3 instead of 5x5 is 28 % fewer weights; 1x3 + 3x1 instead of 3x3 is 33 %."""
    c = 64
    full = 25 * c * c if "5×5" in kind else 9 * c * c
    r = B.count(kind, B.Spec(c, 8))
    assert r["params (module)"] / full == pytest.approx(ratio)
    assert r["output"] == "64×8×8"  # same receptive field, same shape


def test_shufflenet_v1_unit_groups_its_pointwise_convs_and_shuffles():
    m = B.make("ShuffleNet-V1 unit", B.Spec(64, 8, g=4), "cpu")[0]
    assert m.reduce[0].groups == 4 and m.expand[0].groups == 4 and m.depthwise[0].groups == 16
    assert B.valid_shuffle_g(24, 4) == 3 and B.valid_shuffle_g(64, 3) == 2  # C divisible by 4g
    with pytest.raises(UserInputError, match="divisible by 4g"):
        B.make("ShuffleNet-V1 unit", B.Spec(24, 8, g=4))


def test_squeezenet_strategies_by_formula_and_module():
    """Iandola et al. 2016 (docs/facts.md 6), counted on torchvision's SqueezeNet 1.0."""
    from demos.architectures import squeeze as SQ

    s = SQ.summary()
    for r in s["fires"]:
        assert r["strategies 1+2 (fire)"] == r["fire (module)"]
        assert r["strategies 1+2 (fire)"] < r["strategy 1 (1×1 filters)"] < r["plain 3×3 conv"]
        if r["expand 1×1"] == r["expand 3×3"]:  # half the filters 1x1: (1 + 9) / (9 + 9) of the weights
            assert r["strategy 1 (1×1 filters)"] / r["plain 3×3 conv"] == pytest.approx(10 / 18)
    assert 45 < s["alexnet_params"] / s["params"] < 55  # "50x fewer parameters"
    # the features' multiply-adds plus the classifier's 1x1 conv (512 -> 1000 on 13x13) are torchvision's _ops
    classifier = 512 * 1000 * 13 * 13
    assert (s["late"]["macs"] + classifier) / 1e9 == pytest.approx(s["meta"]["1.0"]["_ops"], abs=5e-4)
    assert s["late"]["sides"][-1] == s["early"]["sides"][-1] == 13 and s["early"]["macs"] < s["late"]["macs"] / 2
    assert "49× fewer" in SQ.text(s)
