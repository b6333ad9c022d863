"""The head race: its losses against torch, the arg-max floor against its integral, the data path of a short
run, the CPU budget, and the default race's ranking against the bundled models' table."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

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
    t = kp.data.gaussian_targets(kps, 16, 4, m.sigma).flatten(-2)
    t = t / t.sum(-1, keepdim=True)
    ref = F.cross_entropy(hm.flatten(-2).flatten(0, 1), t.flatten(0, 1))
    assert C.head_loss(m, {"heatmaps": hm}, kps, inside, "l1", "ce") == pytest.approx(float(ref), rel=1e-5)


@pytest.mark.parametrize("loss", C.COORD_LOSSES)
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


def test_the_three_heads_start_from_the_same_backbone():
    models = C.build(C.Race(width=8), "cpu")
    ref = models["regression"].backbone.state_dict()
    for h in ("heatmap", "integral"):
        assert all(torch.equal(ref[k], v) for k, v in models[h].backbone.state_dict().items())


def test_a_short_race_yields_snapshots_and_final_rows():
    cfg = C.Race(steps=12, evals=3, n_eval=8, pool=64, width=8)
    snaps = list(C.run(cfg))
    assert [s.step for s in snaps] == [0, 4, 8, 12]
    last = snaps[-1]
    assert all(len(last.loss[h]) == 12 and all(map(math.isfinite, last.loss[h])) for h in C.HEADS)
    assert all([st for st, _ in last.error[h]] == [0, 4, 8, 12] for h in C.HEADS)
    assert {(r["head"], r["decoder"]) for r in last.final} == {
        ("regression", "direct"), ("heatmap", "argmax"), ("heatmap", "soft_argmax"), ("integral", "argmax"),
        ("integral", "soft_argmax")}
    assert last.maps["heatmap"].shape == (16, 16) and last.maps["integral"].sum() == pytest.approx(1, abs=1e-5)
    # the integral head's own coordinates are its soft-argmax: the curve's last point equals the table's row
    row = next(r for r in last.final if r["head"] == "integral" and r["decoder"] == "soft_argmax")
    assert last.error["integral"][-1][1] == pytest.approx(row["mean_px"], rel=1e-4)


def test_a_stopped_race_ends_with_its_table():
    cfg = C.Race(steps=50, evals=5, n_eval=8, pool=64, width=8)
    calls = iter(range(100))
    snaps = list(C.run(cfg, should_stop=lambda: next(calls) >= 5))
    assert snaps[-1].step == 6 and snaps[-1].final


def test_runs_over_the_cpu_budget_are_refused_with_a_sentence(monkeypatch):
    monkeypatch.setattr(V, "get_device", lambda: torch.device("cpu"))
    with pytest.raises(UserInputError, match=r"128 px × 400 steps would take about \d+ s; the limit here is 70 s"):
        next(V.race(128, 4, 400, "l1", "mse"))
    assert C.estimate_seconds(64, V.STEPS.default) < C.CPU_BUDGET_S  # the default always runs


def test_bundled_rows_come_from_the_evaluation_table():
    rows = V.bundled_rows(8)
    table = {(r["model"], r["decoder"]): r["mean_px"] for r in kp.evaluation.load_rows()}
    assert rows[("integral", "soft_argmax")]["mean_px"] == table[("integral-s8", "soft_argmax")]
    assert rows[("regression", "direct")]["mean_px"] == table[("regression", "direct")]


def test_the_default_race_ranks_the_heads_as_the_bundled_models_do():
    """About 30-40 s: the default settings, as the instructor presses Start."""
    last = None
    for last in V.race(*[r.default for r in V.race.params]):
        pass
    assert "**the same order**" in last["text"], last["text"]
