"""Debias-IPR against the closed form of Gu, Yang and Yao (ICCV 2021), hand-computed maps, and the centre-pull
numbers of docs/facts.md 1.1; the bias panel's sentences against the numbers beside them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import demos.keypoints as kp
from demos.beyond import bias as B
from demos.keypoints import decoders as D


def closed_form(h: torch.Tensor, beta: float) -> torch.Tensor:
    """J_d = Z/(Z - C) J - C/(Z - C) c: the paper's compensation, from the plain soft-argmax J (float64)."""
    B_, K, H, W = h.shape
    Z = torch.exp(beta * h).flatten(2).sum(-1, keepdim=True)
    C = H * W
    c = torch.tensor([W / 2, H / 2], dtype=h.dtype)
    J = D.soft_argmax(h, beta)
    return Z / (Z - C) * J - C / (Z - C) * c


@settings(max_examples=60, deadline=None)
@given(x=st.floats(3, 29), y=st.floats(3, 29), height=st.floats(0.2, 8), beta=st.floats(0.3, 3),
       sigma=st.floats(0.7, 3), noise=st.floats(0, 0.05), seed=st.integers(0, 10_000))
def test_matches_the_papers_closed_form(x, y, height, beta, sigma, noise, seed):
    c = torch.arange(32, dtype=torch.float64) + 0.5
    h = height * torch.exp(-((c[:, None] - y) ** 2 + (c[None, :] - x) ** 2) / (2 * sigma**2))
    h = (h + noise * torch.rand(32, 32, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))[None, None]
    got = D.debias_ipr(h, beta)
    assert torch.allclose(got, closed_form(h, beta), atol=1e-6, rtol=0)


def test_hand_computed_maps():
    # a 1 x 2 map [ln 3, 0]: weights exp(z) - 1 = [2, 0], so x = 0.5; soft-argmax (0.5*3 + 1.5*1)/4 = 0.75
    h = torch.tensor([[[[math.log(3.0), 0.0]]]], dtype=torch.float64)
    assert D.soft_argmax(h)[0, 0].tolist() == pytest.approx([0.75, 0.5])
    assert D.debias_ipr(h)[0, 0].tolist() == pytest.approx([0.5, 0.5])
    # a 2 x 2 map [[ln 2, ln 3], [0, 0]]: weights [1, 2, 0, 0] -> x = (0.5 + 3)/3, y = 0.5;
    # soft-argmax: exp = [2, 3, 1, 1], sum 7 -> x = 7.5/7, y = 5.5/7
    h = torch.tensor([[[[math.log(2.0), math.log(3.0)], [0.0, 0.0]]]], dtype=torch.float64)
    assert D.soft_argmax(h)[0, 0].tolist() == pytest.approx([7.5 / 7, 5.5 / 7])
    assert D.debias_ipr(h)[0, 0].tolist() == pytest.approx([3.5 / 3, 0.5])


def test_removes_the_centre_pull_of_facts_1_1():
    """docs/facts.md 1.1: soft-argmax lands ~21 px / ~1.3 px / < 0.1 px off at heights 1 / 10 / 20; Debias-IPR ~0."""
    rows = {r["height"]: r for r in B.paper_table(beta=1.0)}
    assert 15 < rows[1.0]["soft_argmax"] < 30 and 0.5 < rows[10.0]["soft_argmax"] < 3 and rows[20.0]["soft_argmax"] < 0.1
    assert all(r["debias_ipr"] < 1e-6 for r in rows.values())


def test_float32_and_huge_logits_stay_finite_and_exact():
    h = B.gaussian_map(20.3, 40.7, 1.0).float()
    assert (D.debias_ipr(h)[0, 0] - torch.tensor([20.3, 40.7])).norm() < 1e-3
    big = D.debias_ipr(B.gaussian_map(20.3, 40.7, 1000.0).float(), beta=10.0)
    assert torch.isfinite(big).all()


def test_flat_and_all_negative_maps_fall_back_to_soft_argmax():
    flat = torch.zeros(1, 1, 8, 8)
    assert D.debias_ipr(flat)[0, 0].tolist() == pytest.approx([4.0, 4.0])
    neg = -torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(D.debias_ipr(neg), D.soft_argmax(neg))


@settings(max_examples=50, deadline=None)
@given(shift=st.floats(-20, 20), seed=st.integers(0, 1000))
def test_log_domain_maps_do_not_depend_on_an_offset(shift, seed):
    z = torch.randn(1, 2, 16, 16, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    assert torch.allclose(D.debias_ipr(z, log_domain=True), D.debias_ipr(z + shift, log_domain=True), atol=1e-9)


def test_is_a_registered_lab_decoder_shown_on_the_two_peak_tab():
    assert "debias_ipr" in kp.DECODERS
    assert "two_peaks" in kp.DECODER_REGISTRY["debias_ipr"].roles


# -- the panel's sentences ------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(x=st.floats(4, 60), y=st.floats(4, 60), height=st.floats(0.1, 40), beta=st.floats(0.1, 50))
def test_sentence_states_what_the_numbers_show(x, y, height, beta):
    est = B.estimates(x, y, height, beta)
    text = B.sentence(x, y, height, beta, est)
    truth, centre = np.array([x, y]), np.array([32.0, 32.0])
    e_soft = np.linalg.norm(est["soft_argmax"] - truth)
    e_deb = np.linalg.norm(est["debias_ipr"] - truth)
    assert f"{e_soft:.2f} px" in text
    if "nearer the map's centre" in text:
        assert np.linalg.norm(est["soft_argmax"] - centre) < np.linalg.norm(truth - centre)
    if "removes" in text:
        assert e_deb < 0.1 * e_soft
        assert f"{100 * (1 - e_deb / e_soft):.1f} %" in text
    if "worse" in text:
        assert e_deb > e_soft


rows_st = st.lists(st.tuples(st.floats(0, 50), st.floats(0, 50), st.floats(0, 1)), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None)
@given(rows=rows_st)
def test_model_sentence_orders_only_what_differs(rows):
    table = []
    for b, (s, d, t) in zip((1.0, 5.0, 20.0), rows):
        table += [{"beta": b, "decoder": "soft_argmax", "mean_px": s, "median_px": s, "toward_centre": t, "n": 10},
                  {"beta": b, "decoder": "debias_ipr", "mean_px": d, "median_px": d, "toward_centre": t, "n": 10}]
    text = B.model_sentence("m", table)
    lines = text.split("\n- ")[1:]
    assert len(lines) == len(rows)
    for line, (s, d, _) in zip(lines, rows):
        verdict = line.split("(Debias-IPR), ", 1)[1].split(";")[0]
        if verdict.startswith("Debias-IPR"):
            assert d < s and verdict == f"Debias-IPR {s - d:.2f} px lower"
        elif verdict.startswith("soft-argmax"):
            assert s < d and verdict == f"soft-argmax {d - s:.2f} px lower"
        else:
            assert verdict == "the same to 0.01 px" and abs(s - d) < 0.01
