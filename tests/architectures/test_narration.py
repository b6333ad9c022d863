"""Every sentence the architectures tab prints says what its numbers say (property tests on synthetic numbers),
and the audit's cases (#24 items 3, 5, 8) as regression tests."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from hypothesis import given, settings, strategies as st

from demos.architectures import blocks as B
from demos.architectures import compression as Q
from demos.architectures import labels as L
from demos.architectures import skip as K
from demos.architectures import squeeze as SQ
from demos.architectures import views as V
from demos.architectures.spread import Spread, gap_and_spread, order_sentence

PROPS = settings(max_examples=60, deadline=None)
values = st.lists(st.floats(0.01, 100, allow_nan=False), min_size=3, max_size=5)


# -- the spread rule ------------------------------------------------------------------------------------------
@PROPS
@given(values, values)
def test_two_way_order_is_stated_only_beyond_the_spread(a, b):
    text = order_sentence({"plain": a, "residual": b}, "loss")
    gap, spread = gap_and_spread(a, b)
    lower = min(("plain", a), ("residual", b), key=lambda kv: Spread(kv[1]).mean)[0]
    if "within noise" in text:
        assert gap <= spread
    else:
        assert gap > spread and text.startswith(f"{lower.capitalize()} ends with the lower loss")
    assert f"({gap:.3f})" in text and f"({spread:.3f})" in text


@PROPS
@given(st.lists(values, min_size=3, max_size=4))
def test_many_way_order_marks_each_step_by_the_rule(groups):
    named = {f"c{i}": v for i, v in enumerate(groups)}
    text = order_sentence(named, "error", fmt=".1f")
    chain = text.split("lowest first: ")[1].split(" (")[0].split(" ")
    names, signs = chain[::2], chain[1::2]
    means = [Spread(named[n]).mean for n in names]
    assert means == sorted(means) and sorted(names) == sorted(named)
    for (a, b), sign in zip(zip(names, names[1:]), signs):
        gap, spread = gap_and_spread(named[a], named[b])
        assert sign == ("<" if gap > spread else "≈")


# -- skip connections -----------------------------------------------------------------------------------------
@PROPS
@given(values, values, st.integers(4, 30))
def test_skip_summary_states_what_the_seeds_show(plain, residual, depth):
    import numpy as np

    losses = {"plain": np.array([[v] * 20 for v in plain]), "residual": np.array([[v] * 20 for v in residual])}
    grads = {k: np.ones((len(v), depth)) for k, v in losses.items()}
    text = K.summary(20, 20, depth, losses, grads)
    assert Spread(plain).text() in text and Spread(residual).text() in text
    gap, spread = gap_and_spread(plain, residual)
    assert ("within noise" in text) == (gap <= spread)


def test_skip_text_describes_what_the_code_does():
    """#24 item 8: no "same initialization" while the residual branches are scaled by 1/sqrt(depth); the branch is
    relu(conv x) added after the ReLU."""
    import numpy as np

    text = K.summary(20, 20, 30, {"plain": np.ones((3, 20)), "residual": np.ones((3, 20))},
                     {"plain": np.ones((3, 30)), "residual": np.ones((3, 30))})
    fig = K.figure({"plain": np.ones((3, 20)), "residual": np.ones((3, 20))}, {"plain": np.ones((3, 30))}, 30)
    assert "same initialization" not in fig.layout.title.text and "1/√depth" in fig.layout.title.text
    assert "x + relu(conv x)" in text and "1/√depth" in text


def test_grouped_networks_train_as_they_would_alone():
    """Three seeds as one grouped network: each group computes what its own network computes, and its gradient is
    its own loss's gradient (no weight is shared), so the seeds are independent runs."""
    depth = 5
    nets = []
    for s in (0, 1):
        torch.manual_seed(s)
        nets.append(K.DeepCNN(depth))
    g = K.Grouped(nets, [False, True], depth)
    x = torch.randn(4, 2, 16, 16)
    out = g(x)
    for k, (net, res) in enumerate(zip(nets, (False, True))):
        h = net.stem(x[:, k:k + 1])
        for conv in net.convs:
            y = torch.relu(torch.nn.functional.conv2d(h, conv.weight * (depth ** -0.5 if res else 1.0), conv.bias,
                                                      padding=1))
            h = h + y if res else y
        ref = net.fc(h.mean((2, 3)))
        assert torch.allclose(out[:, k], ref, atol=1e-5)
    out[:, 0].sum().backward()
    assert g.grad_norms()[1].max() == 0 and g.grad_norms()[0].min() > 0  # network 1 gets nothing from network 0


def test_skip_run_yields_every_seed():
    *_, (step, losses, grads) = K.train_stream(depth=4, steps=50, every=50)
    assert step == 50 and losses["plain"].shape == (3, 50) and grads["residual"].shape == (3, 4)
    assert K.train_stream.__defaults__ is not None and len(K.SEEDS) >= 3


# -- SqueezeNet (#24 item 3) ----------------------------------------------------------------------------------
@PROPS
@given(st.integers(10 ** 8, 2 * 10 ** 9), st.integers(10 ** 8, 2 * 10 ** 9), st.floats(40, 80), st.floats(40, 80))
def test_squeezenet_versions_sentence_follows_its_numbers(m10, m11, a10, a11):
    text = SQ.versions_sentence(m10, m11, a10, a11)
    assert "other side" not in text
    if m10 >= m11:
        assert f"{m10 / m11:.2f}× fewer" in text
    else:
        assert f"{m11 / m10:.2f}× more" in text
    diff = a11 - a10
    if abs(diff) < SQ.SAME_ACCURACY:
        assert "about the same top-1" in text
    else:
        assert ("higher" if diff > 0 else "lower") + " top-1" in text
    assert ("not the accuracy-for-operations trade" in text) == (m10 > m11 and diff > -SQ.SAME_ACCURACY)


def test_squeezenet_regression_case():
    """#24 item 3: 1.1 has 2.35x fewer MACs at about equal accuracy (58.18 vs 58.09 %); 1.0's 0.73 GMACs (features
    only) and 0.819 (whole network) are labelled as different quantities."""
    s = SQ.summary()
    text = SQ.text(s)
    assert "2.35× fewer multiply-adds" in text and "about the same top-1 accuracy (58.18 vs 58.09 %" in text
    assert "took the other side" not in text
    assert "feature layers only (without the classifier's 1×1 conv)" in text and "0.73 GMACs" in text
    assert "whole networks, counted here, 0.349 vs 0.819 GMACs" in text


# -- compression (#24 item 5) ---------------------------------------------------------------------------------
PAPER_SHARES = {"AlexNet": (58_631_144, 61_100_840), "VGG-16": (123_642_856, 138_357_544)}


@PROPS
@given(st.integers(0, 10 ** 6), st.integers(1, 10 ** 6))
def test_fc_sentence_follows_the_counts(fc, rest):
    total = fc + rest
    text = Q.fc_sentence(fc, total, PAPER_SHARES)
    if fc == 0:
        assert "no fully connected layers" in text
    else:
        assert f"{fc:,} of its {total:,} parameters ({100 * fc / total:.0f} %)" in text
        assert "no fully connected" not in text
        lo = min(a / b for a, b in PAPER_SHARES.values())
        assert ("less than" in text) == (fc / total < lo)


def test_paper_fc_shares_are_counted():
    assert Q.paper_fc_shares() == PAPER_SHARES


def test_regression_model_fc_layers_are_counted_not_denied():
    """#24 item 5: the regression model holds 269,596 of its 710,468 parameters in nn.Linear (38 %)."""
    model = Q.kp.get_model("regression")
    fc, total = Q.fc_share(model)
    assert (fc, total) == (269_596, 710_468)
    text = Q.fc_sentence(fc, total, Q.paper_fc_shares())
    assert "269,596 of its 710,468 parameters (38 %)" in text and "no such layers" not in text


@PROPS
@given(st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_gap_label_names_the_gaps_used(conv_sparse, fc_sparse, conv_dense, fc_dense):
    formats = {("conv", "sparse"): int(conv_sparse), ("FC", "sparse"): int(fc_sparse),
               ("conv", "dense"): int(conv_dense), ("FC", "dense"): int(fc_dense)}
    text = Q.gap_label(formats)
    assert ("8-bit gaps (conv)" in text) == conv_sparse and ("5-bit gaps (FC)" in text) == fc_sparse
    assert ("dense" in text) == (not conv_sparse and not fc_sparse)


def test_regression_model_stage_label_says_5_bit_for_its_fc_layers():
    pruned = Q.prune_model(Q.kp.get_model("regression"), 0.5, "magnitude")
    assert Q.gap_label(Q.storage(pruned)["formats"]) == "8-bit gaps (conv), 5-bit gaps (FC)"


def test_one_storage_accounting_for_the_sweep_and_deep_compression():
    """#24 item 5: the pruning plot said 864 KB at 50 % (non-zeros only) and Deep Compression 1,078 KB for the same
    setting; both now come from ``storage``."""
    model = Q.kp.get_model("heatmap-s4")
    pruned = Q.prune_model(model, 0.5, "magnitude")
    dc = Q.deep_compression("heatmap-s4", 0.5, 6, n=9)
    assert Q.storage(pruned)["bits"] == dc[1]["bits"]
    nonzero_only = 32 * sum(int((p != 0).sum()) for p in pruned.parameters())
    assert dc[1]["bits"] > nonzero_only  # the gaps are counted


def test_layer_storage_picks_the_cheaper_format():
    w = torch.randn(8, 4, 3, 3)
    assert Q.layer_storage(w, 8)["format"] == "dense" and Q.layer_storage(w, 8)["bits"] == w.numel() * 32
    w[2] = 0  # a removed output channel: the dense block loses a row, plus one bit per row and column
    st_ = Q.layer_storage(w, 8)
    assert st_["format"] == "dense" and st_["bits"] == 7 * 4 * 9 * 32 + 8 + 4
    w = torch.eye(64)  # every row and column kept, 1 in 64 weights: sparse is cheaper
    st_ = Q.layer_storage(w, 5)
    assert st_["format"] == "sparse" and st_["bits"] == st_["values"].numel() * (32 + 5)


def test_channel_pruning_frees_the_next_layers_inputs():
    """#24 item 5: a removed channel (filter and BatchNorm channel) frees the weights that read it."""
    model = Q.kp.get_model("heatmap-s4")
    pruned = Q.prune_model(model, 0.5, "channel_l1")
    stem0, stem1 = pruned.backbone.stem[0], pruned.backbone.stem[3]  # conv - BN - ReLU - conv
    gone = (stem0.weight.flatten(1) == 0).all(1)
    assert int(gone.sum()) == round(0.5 * stem0.out_channels)
    assert (pruned.backbone.stem[1].weight[gone] == 0).all() and (pruned.backbone.stem[1].bias[gone] == 0).all()
    assert (stem1.weight[:, gone] == 0).all()  # the next conv's inputs from removed channels: freed
    x = torch.rand(2, 3, model.input_size, model.input_size)
    unfreed, _ = Q.prune_channels(model, 0.5)
    Q._finalize(unfreed)
    with torch.no_grad():
        assert torch.allclose(unfreed.eval()(x)["heatmaps"], pruned(x)["heatmaps"], atol=1e-5)  # inputs were zero
    assert Q.storage(pruned)["bits"] < Q.storage(unfreed)["bits"]


@PROPS
@given(st.lists(st.tuples(st.floats(1, 10), st.floats(0.1, 50)), min_size=2, max_size=5), st.floats(0.1, 50))
def test_ratio_at_equal_accuracy(points, target):
    pts = sorted(points)
    r, end = Q.ratio_at(pts, target)
    if end:
        assert all(e <= target for _, e in pts) and r == pts[-1][0]
    elif pts[0][1] > target:
        assert r == 0.0
    else:
        assert pts[0][0] <= r <= pts[-1][0]
        first_bad = next(i for i, (_, e) in enumerate(pts) if e > target)
        assert pts[first_bad - 1][0] <= r <= pts[first_bad][0]


@PROPS
@given(st.lists(st.floats(1, 30), min_size=3, max_size=3), st.lists(st.floats(1, 30), min_size=3, max_size=3),
       st.lists(st.floats(1, 30), min_size=3, max_size=3))
def test_fine_tuned_text_orders_only_beyond_the_spread(a, b, c):
    sm = {"target": 10.0, "ratio": {"taylor": [x / 10 for x in a], "l1": [x / 10 for x in b],
                                    "random": [x / 10 for x in c]},
          "capped": {k: [False] * 3 for k in ("taylor", "l1", "random")},
          "error": {0.25: {"taylor": a, "l1": b, "random": c}}, "ratio_at_level": {0.25: 1.5}}
    text = Q.fine_tuned_text(sm)
    size_part = text.split("**At equal size**")[1]
    chain = size_part.split("lowest first: ")[1].split(" (")[0].split(" ")
    errs = {"Taylor": a, "L1": b, "random": c}
    for x, sign, y in zip(chain[::2], chain[1::2], chain[2::2]):
        gap, spread = gap_and_spread(errs[x], errs[y])
        assert sign == ("<" if gap > spread else "≈") and Spread(errs[x]).mean <= Spread(errs[y]).mean


@PROPS
@given(st.lists(st.floats(1, 50), min_size=3, max_size=3), st.lists(st.floats(1, 50), min_size=3, max_size=3),
       st.lists(st.floats(1, 50), min_size=3, max_size=3))
def test_sweep_text_orders_only_beyond_the_spread(a, b, c):
    rows = [{"method": Q.CRITERIA[k], "setting": "30 %", "errors": v, "size_kb": 100.0}
            for k, v in zip(Q.CRITERIA, (a, b, c))]
    text = Q.sweep_text(rows)
    chain = text.split("lowest first: ")[1].split(" (")[0].split(" ")
    errs = {Q.SHORT[k]: v for k, v in zip(Q.CRITERIA, (a, b, c))}
    assert sorted(chain[::2]) == sorted(errs)
    for x, sign, y in zip(chain[::2], chain[1::2], chain[2::2]):
        gap, spread = gap_and_spread(errs[x], errs[y])
        assert sign == ("<" if gap > spread else "≈") and Spread(errs[x]).mean <= Spread(errs[y]).mean


# -- blocks (#25, #29) ----------------------------------------------------------------------------------------
def test_blocks_are_a_registry_that_refuses_a_duplicate_name():
    assert B.BLOCKS == tuple(B.REGISTRY) and len(B.BLOCKS) == 13
    with pytest.raises(ValueError, match="already registered"):
        B.block("ResNet basic")(lambda s: None)
    with pytest.raises(B.UserInputError, match="Unknown block"):
        B.make("no such block", B.Spec(64, 8))


def test_the_block_slider_view_never_times(monkeypatch):
    """#29: the slider's view is quick (no declared cost) and reads measured times from the cache only."""
    assert V.blocks.quick and not V.blocks_latency.quick
    monkeypatch.setattr(B, "time_block", lambda *a, **k: pytest.fail("timed inside the slider's view"))
    out = V.blocks(64, 8, 2, 2)
    assert "formula" not in out["table"].columns and out["formulas"].count("\n- **") == len(out["table"])


def test_block_latency_is_measured_once_and_kept_with_when_and_where(tmp_path, monkeypatch):
    monkeypatch.setattr(B, "CACHE", tmp_path)
    calls = []
    monkeypatch.setattr(B, "time_block", lambda kind, s, device="cpu", repeats=5: calls.append(kind) or 1.5)
    before = V.blocks(64, 8, 2, 2)
    assert "not measured for this setting yet" in before["text"]
    V.blocks_latency(64, 8, 2, 2)
    assert len(calls) == len(B.BLOCKS)
    after = V.blocks(64, 8, 2, 2)
    assert "measured for this setting on" in after["text"] and " UTC" in after["text"]
    assert list(after["table"]["time (ms)"]) == [1.5] * len(B.BLOCKS) and len(calls) == len(B.BLOCKS)
    assert "not measured" in V.blocks(64, 9, 2, 2)["text"]  # another setting: not measured


def test_shufflenet_v1_stride_2_unit_concatenates_an_average_pooled_shortcut():
    m = B.make("ShuffleNet-V1 unit, stride 2", B.Spec(48, 9, g=3), "cpu")[0]
    assert isinstance(m.shortcut, nn.AvgPool2d) and m.shortcut.stride == 2
    assert m.depthwise[0].stride == (2, 2) and m.depthwise[0].groups == m.depthwise[0].in_channels
    assert m.reduce[0].groups == 3 and m.expand[0].groups == 3
    x = torch.randn(1, 48, 9, 9)
    y = m.eval()(x)
    assert y.shape == (1, 96, 5, 5)  # C + C channels: concatenated, not added; ceil(9 / 2)
    assert torch.allclose(y[:, :48], torch.relu(nn.functional.avg_pool2d(x, 3, 2, 1)))


@PROPS
@given(st.sampled_from(range(8, 513, 8)), st.sampled_from(B.SHUFFLE_GROUPS))
def test_shuffle_g_snaps_to_a_g_that_fits(c, g):
    h = B.valid_shuffle_g(c, g)
    assert c % (4 * h) == 0 and all(abs(k - g) >= abs(h - g) for k in B.SHUFFLE_GROUPS if c % (4 * k) == 0)
    for kind in ("ShuffleNet-V1 unit", "ShuffleNet-V1 unit, stride 2"):
        r = B.count(kind, B.Spec(c, 5, 1, h))
        assert r["params (formula)"] == r["params (module)"] and r["MACs (formula)"] == r["MACs (module)"]


def test_resnext_template_counts_on_built_blocks():
    rows = B.resnext_template()
    assert [(r["cardinality C"], r["width d"]) for r in rows] == [(1, 64), (2, 40), (4, 24), (8, 14), (32, 4)]
    assert all(r["conv weights (module)"] == r["conv weights (formula)"] for r in rows)
    w = [r["conv weights (module)"] for r in rows]
    assert max(w) / min(w) - 1 < 0.03  # "about the same" (Xie et al. 2017, Table 2): within 3 % here
    text = B.template_text(rows)
    assert f"{min(w):,}" in text and f"{max(w):,}" in text and f"{100 * (max(w) / min(w) - 1):.1f} %" in text


# -- MobileNet ------------------------------------------------------------------------------------------------
def test_mobilenet_v1_counts_match_the_papers_table_2():
    from demos.architectures import mobilenet as M
    from torch.utils.flop_counter import FlopCounterMode

    c = M.counted(M.mobilenet_v1)
    sh = M.shares(c, None)
    assert sh["1×1 conv"]["macs"] == pytest.approx(94.86, abs=0.01)  # Howard et al. 2017, Table 2
    assert sh["1×1 conv"]["params"] == pytest.approx(74.59, abs=0.05)
    assert sh["FC"]["params"] == pytest.approx(24.33, abs=0.05)
    with torch.device("meta"):
        net = M.mobilenet_v1().eval()
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        net(torch.empty(1, 3, 224, 224, device="meta"))
    assert sum(v["macs"] for v in c.values()) == fc.get_total_flops() // 2 == 568_740_352  # the paper's 569 M


def test_mobilenet_profile_parts_add_up():
    from demos.architectures import mobilenet as M

    t = M.timed(M.mobilenet_v1, repeats=1)
    assert all(t[k] >= 0 for k in M.KINDS if k != "other") and t["total"] > 0
    assert sum(t[k] for k in M.KINDS) == pytest.approx(t["total"])


@PROPS
@given(st.floats(0, 100), st.floats(0, 100), st.floats(0, 100))
def test_mobilenet_sentence_reports_the_gap_it_measured(t1, dw, other):
    from demos.architectures import mobilenet as M

    sh = {k: {"macs": 10.0, "params": 10.0, "time": 0.0} for k in M.KINDS}
    sh["1×1 conv"]["time"], sh["depthwise 3×3"]["time"], sh["other"]["time"] = t1, dw, other
    text = M.sentence("MobileNet-V1 (paper's Table 1)", sh, 10.0, "CPU")
    gap = t1 - M.PAPER["time_1x1"]
    if abs(gap) >= 1:
        assert f"{abs(gap):.0f} points {'below' if gap < 0 else 'above'}" in text
    else:
        assert "matches the paper's" in text
    assert f"{t1:.0f} % of the forward time" in text


# -- labels ---------------------------------------------------------------------------------------------------
@PROPS
@given(st.lists(st.tuples(st.floats(0.1, 20), st.floats(50, 80), st.text("abcdefgh", min_size=3, max_size=14)),
                min_size=2, max_size=12))
def test_placed_labels_never_overlap_or_leave_the_plot(points):
    xs, ys, texts = zip(*points)
    xr, yr = L.padded(xs, True, 0.1), L.padded(ys, False, 0.1)
    pos = L.place(xs, ys, texts, log_x=True, width=640, height=380, x_range=xr, y_range=yr)
    bx = L.boxes(xs, ys, texts, pos, log_x=True, width=640, height=380, x_range=xr, y_range=yr)
    placed = [b for b in bx if b]
    for i, a in enumerate(placed):
        assert a[0] >= -1e-6 and a[1] >= -1e-6 and a[2] <= 640 + 1e-6 and a[3] <= 380 + 1e-6
        for b in placed[i + 1:]:
            assert L._overlap(a, b) == 0


def test_zoo_labels_do_not_overlap():
    """#26 item 6: ResNeXt-50 / Inception-v3 / ResNet-50, ResNet-18 / GoogLeNet, SqueezeNet / AlexNet overlapped,
    ShuffleNet-V2 x1.0 was clipped: every label is now placed (none given up) and no two boxes overlap."""
    from demos.architectures import zoo as Z

    es = Z.table()
    for e, ms in zip(es, range(5, 65, 5)):
        e.latency_ms = float(ms)
    for kind in ("ops", "latency"):
        lay = Z.label_layout(es, kind)
        if kind == "ops":  # placed for a projector's type in the plotting area it gets there (490 x 345 px): at
            # most three labels of the dense ResNet/ResNeXt/Inception cluster have no room (they go to the legend)
            assert sum(not p for p in lay["pos"]) <= 3
        texts = [e.label for e in lay["shown"]]
        bx = [b for b in L.boxes(lay["x"], [e.top1 for e in lay["shown"]], texts, lay["pos"], log_x=True,
                                 width=Z.ZOO_W, height=Z.ZOO_H, font=L.PRESENT_FONT, x_range=lay["x_range"],
                                 y_range=lay["y_range"], sizes=[0.6 * s for s in lay["sizes"]]) if b]
        for i, a in enumerate(bx):
            assert a[0] >= 0 and a[2] <= Z.ZOO_W and a[1] >= 0 and a[3] <= Z.ZOO_H  # not clipped
            assert all(L._overlap(a, b) == 0 for b in bx[i + 1:])
        fig = Z.bubble(es, kind)
        for t, p, name in zip(fig.data, lay["pos"], texts):  # a label with no room is named in the legend instead
            assert (t.text[0], t.showlegend) == ((name, False) if p else ("", True)) and t.name == name


# -- "about N s" from declared costs (#24 item 8, #25) --------------------------------------------------------
def test_no_typed_durations_in_the_tab():
    """Every "about N s" shown comes from ``params.about`` of a view's declared cost; no history in help text."""
    root = Path(V.__file__).parent
    for path in root.glob("*.py"):
        src = path.read_text()
        assert not re.search(r"about \d+ s|a few seconds|about a minute|\(at \d+ px it was", src), path.name
    for rec in (V.SIZE, V.DC_BITS, V.SKIP_STEPS):
        assert "it was" not in rec.help and not re.search(r"\d+ s\b", rec.help)


def test_long_views_declare_their_costs():
    for fn in (V.zoo_latency, V.blocks_latency, V.skip_connections, V.compression, V.pruning_fine_tuned,
               V.deep_compression, V.mobilenet_profile):
        assert not fn.quick and fn.seconds(**{r.key: r.hi if hasattr(r, "hi") else r.default for r in fn.params}) < 30
    assert all(fn.quick for fn in (V.blocks, V.zoo_static, V.resnext_template, V.mobilenet_counts, V.squeezenet))
    assert "seconds" not in inspect.signature(V.blocks.raw).parameters
