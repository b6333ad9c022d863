"""The dropout tab: p's slider covers exactly torch's valid range, Resample changes the mask, and the long runs
declare costs that fit the class budget."""

from __future__ import annotations

import re

import pytest
import torch

from demos.common.errors import UserInputError
from demos.dropout import views as V


def test_p_covers_torchs_valid_range():
    torch.nn.Dropout(V.P.lo), torch.nn.Dropout(V.P.hi)  # torch accepts both ends ...
    for outside in (V.P.lo - 0.01, V.P.hi + 0.01):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            torch.nn.Dropout(outside)  # ... and refuses beyond them, as the view does with the record's sentence
        with pytest.raises(UserInputError, match=re.escape(f"{V.P.label} must be {V.P.range_text}")):
            V.dropout_steps(outside, 0, 100)


def test_resampling_gives_another_mask():
    a, b = V.dropout_steps(0.5, 0, 100), V.dropout_steps(0.5, 1, 100)
    assert a["text"] != b["text"] or a["steps"].to_json() != b["steps"].to_json()
    assert V.dropout_steps(0.5, 1, 100) is b  # a pure view: cached by its inputs


def test_long_runs_fit_the_class_budget_at_their_worst_setting():
    assert V.dropout_overfit.seconds(epochs=V.EPOCHS.hi, mc_samples=V.MC.hi) <= 30
    assert V.adam_vs_adamw.seconds(wd=V.WD.hi, wd_epochs=V.WD_EPOCHS.hi) <= 30
