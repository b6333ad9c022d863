"""The evaluation script's table and JSON."""

from __future__ import annotations

import json
import sys

from scripts import evaluate  # noqa: E402


def test_evaluate_writes_the_documented_json(tmp_path, capsys):
    out = tmp_path / "rows.json"
    evaluate.main(["--n", "20", "--models", "integral-s8", "regression", "--json", str(out)])
    rows = json.loads(out.read_text())
    assert len(rows) == 4 + 1  # four decoders for the heatmap model, one row for direct regression
    for r in rows:
        assert {"model", "head", "heatmap_size", "decoder", "mean_px", "pck5", "pck10", "n"} <= set(r)
        assert 0 <= r["pck5"] <= r["pck10"] <= 1 and r["mean_px"] > 0
    assert rows[0]["heatmap_size"] == "16x16" and rows[-1]["decoder"] == "direct"
    text = capsys.readouterr().out
    assert text.startswith("| model | head | heatmap | decoder | mean error (px)")
    assert "scripts" in sys.modules
