"""The evaluation script's table and JSON; the training script's choices come from the registry; scripts and
benchmarks reach the keypoint core through its public API only."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import demos.keypoints as kp
from scripts import evaluate, train  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_evaluate_writes_the_documented_json(tmp_path, capsys):
    out = tmp_path / "rows.json"
    evaluate.main(["--n", "20", "--models", "integral-s8", "regression", "--json", str(out)])
    rows = json.loads(out.read_text())
    assert len(rows) == len(kp.DECODERS) + 1  # every lab decoder for the heatmap model, one row for regression
    assert [r["decoder"] for r in rows[:-1]] == list(kp.DECODERS)
    for r in rows:
        assert {"model", "head", "heatmap_size", "decoder", "mean_px", "pck5", "pck10", "n"} <= set(r)
        assert 0 <= r["pck5"] <= r["pck10"] <= 1 and r["mean_px"] > 0
    assert rows[0]["heatmap_size"] == "16x16" and rows[-1]["decoder"] == "direct"
    text = capsys.readouterr().out
    assert text.startswith("| model | head | heatmap | decoder | mean error (px)")
    printed = [line for line in text.splitlines() if line.startswith("| integral-s8 ") or line.startswith("| regression ")]
    assert len(printed) == len(rows)  # one printed row per JSON row


def _choices(parser_main, flag):
    import argparse

    seen = {}
    real = argparse.ArgumentParser.parse_args

    def capture(self, *a, **k):
        seen.update({act.option_strings[0]: act.choices for act in self._actions if act.option_strings})
        raise SystemExit(0)

    argparse.ArgumentParser.parse_args = capture
    try:
        with pytest.raises(SystemExit):
            parser_main([])
    finally:
        argparse.ArgumentParser.parse_args = real
    return seen[flag]


def test_the_training_script_offers_the_registrys_models_heads_and_variants():
    assert list(_choices(train.main, "--model")) == list(kp.MODELS)
    assert tuple(_choices(train.main, "--head")) == tuple(kp.HEADS)
    assert tuple(_choices(train.main, "--variant")) == tuple(kp.VARIANTS)


def _keypoint_imports(path: Path):
    """(line, module, names) of every import of demos.keypoints or one of its modules in a file."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("demos.keypoints"):
            yield node.lineno, node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("demos.keypoints"):
                    yield node.lineno, a.name, []


FILES = sorted([*ROOT.glob("scripts/*.py"), *ROOT.glob("bench/*.py")])
ALLOWED_MODULES = {"demos.keypoints", "demos.keypoints.views"}  # the public API, and the tab's views


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_scripts_and_benchmarks_use_the_keypoint_cores_public_api(path):
    bad = []
    for line, module, names in _keypoint_imports(path):
        if module not in ALLOWED_MODULES:
            bad.append(f"line {line}: {module}")
        elif module == "demos.keypoints":
            bad += [f"line {line}: {n} is not in demos.keypoints.__all__" for n in names
                    if n not in kp.__all__ and n != "views"]
    assert not bad, bad
