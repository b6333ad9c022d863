"""The head race: its losses against torch, the arg-max floor against its integral, what makes the comparison fair
(same initial backbone and batches within a seed, other ones across seeds), the data path of a short run, the CPU
budget, and the spread rule behind every order it states. Nothing here asserts which head wins: that is the
outcome of a short training run, and it changes with the thread count and the processor."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import demos.keypoints as kp
from demos.common.errors import UserInputError
from demos.race import compute as C
from demos.race import views as V


def test_argmax_floor_is_the_mean_distance_to_a_cells_centre():
    # a point uniform in a cell of side s lies (sqrt(2) + asinh(1)) / 6 * s from its centre on average
    u = np.random.default_rng(0).uniform(-0.5, 0.5, (2_000_000, 2))
    assert np.linalg.norm(u, axis=1).mean() == pytest.approx(C.UNIFORM_CELL_MEAN, abs=5e-4)
    assert C.argmax_floor(8) == pytest.approx(8 * 0.3826, abs=1e-3)


def _net(head):
    return kp.KeypointNet(head=head, stride=4, width=8, input_size=64).eval()


def test_cross_entropy_over_cells_is_torchs_with_soft_targets():
    m = _net("heatmap")
    hm = torch.randn(2, 14, 16, 16)
    kps = torch.rand(2, 14, 2) * 64
    inside = torch.ones(2, 14, dtype=torch.bool)
    t = kp.gaussian_targets(kps, 16, 4, m.sigma).flatten(-2)
    t = t / t.sum(-1, keepdim=True)
    ref = F.cross_entropy(hm.flatten(-2).flatten(0, 1), t.flatten(0, 1))
    assert C.head_loss(m, {"heatmaps": hm}, kps, inside, "l1", "ce") == pytest.approx(float(ref), rel=1e-5)


def test_simcc_loss_is_torchs_cross_entropy_on_x_plus_y():
    m = _net("simcc")
    lx, ly = torch.randn(2, 14, 128), torch.randn(2, 14, 128)
    kps = torch.rand(2, 14, 2) * 64
    inside = torch.ones(2, 14, dtype=torch.bool)
    tx = kp.simcc.targets(kps[..., 0], 128)
    ty = kp.simcc.targets(kps[..., 1], 128)
    ref = (F.cross_entropy(lx.flatten(0, 1), tx.flatten(0, 1)) + F.cross_entropy(ly.flatten(0, 1), ty.flatten(0, 1)))
    got = C.head_loss(m, {"simcc_x": lx, "simcc_y": ly}, kps, inside, "l1", "mse")
    assert float(got) == pytest.approx(float(ref), rel=1e-5)


@pytest.mark.parametrize("loss", V.COORD_LOSS.values)
def test_coordinate_losses_are_l1_and_squared_l2_in_stride_units(loss):
    m = _net("integral")
    kps = torch.zeros(1, 14, 2)
    out = {"coords": torch.full((1, 14, 2), 4.0)}  # 4 px = one stride off in x and in y
    inside = torch.ones(1, 14, dtype=torch.bool)
    assert float(C.head_loss(m, out, kps, inside, loss, "mse")) == pytest.approx(2.0)  # |1| + |1| or 1² + 1²


def test_joints_outside_the_image_do_not_count():
    m = _net("regression")
    kps = torch.zeros(1, 14, 2)
    out = {"coords": torch.zeros(1, 14, 2)}
    out["coords"][0, 0] = 64.0  # wrong, but that joint is outside
    inside = torch.ones(1, 14, dtype=torch.bool)
    inside[0, 0] = False
    assert float(C.head_loss(m, out, kps, inside, "l1", "mse")) == 0.0


def test_within_a_seed_the_heads_start_from_the_same_backbone_and_across_seeds_they_do_not():
    cfg = C.Race(width=8)
    s0, s1 = C.build(cfg, "cpu", 0), C.build(cfg, "cpu", 1)
    ref = s0["regression"].backbone.state_dict()
    for h in C.HEADS[1:]:
        assert all(torch.equal(ref[k], v) for k, v in s0[h].backbone.state_dict().items())
    assert not torch.equal(ref["stem.0.weight"], s1["regression"].backbone.state_dict()["stem.0.weight"])


def test_within_a_seed_every_head_sees_the_same_batches(monkeypatch):
    seen = {}
    real = C.head_loss

    def spy(model, out, kps, inside, *a):
        seen.setdefault(model.head_type, []).append(kps.clone())
        return real(model, out, kps, inside, *a)

    monkeypatch.setattr(C, "head_loss", spy)
    cfg = C.Race(steps=3, evals=1, n_eval=4, pool=32, width=4, seeds=2)
    list(C.run(cfg))
    # per head: steps x seeds batches, in the order seed 0, seed 1 at each step
    for h in C.HEADS[1:]:
        assert all(torch.equal(a, b) for a, b in zip(seen["regression"], seen[h]))
    assert not torch.equal(seen["regression"][0], seen["regression"][1])  # seed 0's first batch is not seed 1's
    assert [list(b) for b in C.batches(cfg, 1)] == [list(b) for b in C.batches(cfg, 1)]  # and it is reproducible


def test_a_short_race_yields_snapshots_and_final_rows():
    cfg = C.Race(steps=12, evals=3, n_eval=8, pool=64, width=8, seeds=2)
    snaps = list(C.run(cfg))
    assert [s.step for s in snaps] == [0, 4, 8, 12]
    last = snaps[-1]
    assert all(len(last.loss[h]) == 12 and all(map(math.isfinite, last.loss[h])) for h in C.HEADS)
    assert all([st for st, _ in last.error[h]] == [0, 4, 8, 12] for h in C.HEADS)
    assert all(len(v) == 2 for h in C.HEADS for _, v in last.error[h])  # one error per seed
    assert {(r["head"], r["decoder"], r["seed"]) for r in last.final} == {
        (h, d, s) for s in (0, 1) for h, ds in (("regression", ("direct",)), ("heatmap", ("argmax", "soft_argmax")),
                                                ("integral", ("argmax", "soft_argmax")),
                                                ("simcc", ("argmax", "soft_argmax"))) for d in ds}
    assert last.maps["heatmap"].shape == (16, 16) and last.maps["integral"].sum() == pytest.approx(1, abs=1e-5)
    assert last.maps["simcc"].shape == (64, 64) and last.maps["simcc"].sum() == pytest.approx(1, abs=1e-4)
    assert last.parameters == {h: kp.count_parameters(C.build(cfg, "cpu")[h]) for h in C.HEADS}
    # each head's curve is its own decoding: the curve's last point equals the table's row, seed by seed
    for h in C.HEADS:
        rows = sorted((r for r in last.final if r["head"] == h and r["decoder"] == C.OWN[h]), key=lambda r: r["seed"])
        assert last.error[h][-1][1] == pytest.approx([r["mean_px"] for r in rows], rel=1e-4)


def test_a_stopped_race_ends_with_its_table():
    cfg = C.Race(steps=50, evals=5, n_eval=8, pool=64, width=8, seeds=1)
    calls = iter(range(100))
    snaps = list(C.run(cfg, should_stop=lambda: next(calls) >= 5))
    assert snaps[-1].step == 6 and snaps[-1].final


def test_runs_over_the_cpu_budget_are_refused_with_a_sentence(monkeypatch):
    monkeypatch.setattr(V, "get_device", lambda: torch.device("cpu"))
    with pytest.raises(UserInputError, match=r"128 px × 400 steps × 3 seeds would take about \d+ s; the limit here is "
                                             r"30 s"):
        next(V.race(128, 4, 400, 3, "l1", "mse"))
    assert C.estimate_seconds(64, V.STEPS.default, V.SEEDS.default) <= C.CPU_BUDGET_S  # the default always runs
    assert V.race.seconds(size=64, steps=V.STEPS.default, seeds=V.SEEDS.default) == C.estimate_seconds(
        64, V.STEPS.default, V.SEEDS.default)


def test_bundled_rows_come_from_the_evaluation_table():
    rows = V.bundled_rows(8)
    table = {(r["model"], r["decoder"]): r["mean_px"] for r in kp.evaluation.load_rows()}
    assert rows[("integral", "soft_argmax")]["mean_px"] == table[("integral-s8", "soft_argmax")]
    assert rows[("regression", "direct")]["mean_px"] == table[("regression", "direct")]


# -- the spread rule, on numbers -----------------------------------------------------------------------------

errors = st.lists(st.floats(0.5, 30, allow_nan=False), min_size=1, max_size=3)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3).flatmap(lambda n: st.fixed_dictionaries(
    {h: st.lists(st.floats(0.5, 30, allow_nan=False), min_size=n, max_size=n) for h in C.HEADS})))
def test_an_order_is_stated_only_where_the_gap_exceeds_the_spread(per_seed):
    groups, measured = C.verdict(per_seed)
    mean = {h: sum(v) / len(v) for h, v in per_seed.items()}
    flat = [h for g in groups for h in g]
    assert sorted(flat) == sorted(C.HEADS) and [mean[h] for h in flat] == sorted(mean[h] for h in flat)
    if not measured:
        assert len(groups) == 1  # one seed: nothing separated
    for g, nxt in zip(groups, groups[1:]):  # every "<" the text states
        a, b = g[-1], nxt[0]
        assert mean[b] - mean[a] > max(C.spread(per_seed[a]), C.spread(per_seed[b]))
    for g in groups:  # every "≈": neighbours whose gap does not exceed the larger range
        for a, b in zip(g, g[1:]):
            assert not measured or mean[b] - mean[a] <= max(C.spread(per_seed[a]), C.spread(per_seed[b]))
    text = V.verdict_text(per_seed)
    if measured and len(groups) > 1:
        shown = re.findall(r"Best to worst: (.*?) \(mean", text)[0]
        assert shown.count(" < ") == len(groups) - 1
    else:
        assert " < " not in text


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.1, 40, allow_nan=False), min_size=1, max_size=3), st.sampled_from([4, 8]))
def test_the_floor_sentence_says_training_limits_only_when_the_error_is_far_above_the_floor(values, stride):
    text = V.floor_text({"heatmap": values}, stride)
    e = sum(values) / len(values)
    assert ("limited by training" in text) == (e > 2 * C.argmax_floor(stride))
    assert f"{e:.2f} px" in text and f"{C.argmax_floor(stride):.2f} px" in text


def test_one_seed_states_no_order_and_says_why():
    text = V.verdict_text({h: [float(i)] for i, h in enumerate(C.HEADS)})
    assert "no order" in text and "<" not in text
