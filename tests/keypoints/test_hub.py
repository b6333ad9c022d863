"""Model loading without network: bundled copies, a locally populated Hugging Face cache, bad files."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from demos.keypoints import hub
from demos.keypoints.models import KeypointNet


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    torch.manual_seed(0)
    m = KeypointNet(head="integral", stride=8, width=8)
    m.save_pretrained(d)
    return d, m


def test_save_writes_safetensors_and_config_only(tiny):
    d, _ = tiny
    names = sorted(p.name for p in d.iterdir())
    assert "model.safetensors" in names and "config.json" in names
    assert not any(n.endswith((".bin", ".pt", ".pth", ".pkl")) for n in names)
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["head"] == "integral" and cfg["stride"] == 8 and cfg["width"] == 8


def test_local_folder_round_trip(tiny):
    d, m = tiny
    loaded = hub.load_model(str(d))
    assert loaded.source == "local"
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        assert torch.allclose(loaded.model(x)["coords"], m.eval()(x)["coords"], atol=1e-5)


def test_hub_cache_is_used_offline(tiny, tmp_path, monkeypatch):
    """A repo in a locally populated HF cache loads by repo id with HF_HUB_OFFLINE=1 (set by conftest)."""
    d, m = tiny
    sha = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--someone--tiny-kp"
    snap = repo / "snapshots" / sha
    snap.mkdir(parents=True)
    for f in ("config.json", "model.safetensors"):
        shutil.copy(d / f, snap / f)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(sha)
    loaded = hub.load_model("someone/tiny-kp", cache_dir=tmp_path)
    assert loaded.source == "hub-cache" and loaded.where == "someone/tiny-kp@main"
    assert loaded.model.stride == 8


def test_bundled_name_falls_back_to_pretrained_offline():
    names = hub.bundled_names()
    assert names, "pretrained/ holds no models"
    loaded = hub.load_model(names[0])
    assert loaded.source == "local" and loaded.note


def test_unknown_repo_offline_is_a_clear_error(tmp_path):
    with pytest.raises(hub.ModelLoadError, match="no local copy"):
        hub.load_model("nobody/nothing", cache_dir=tmp_path)
    with pytest.raises(hub.ModelLoadError, match="Unknown model"):
        hub.load_model("no-such-model", cache_dir=tmp_path)


def test_missing_weights(tiny, tmp_path):
    d, _ = tiny
    shutil.copy(d / "config.json", tmp_path / "config.json")
    with pytest.raises(hub.ModelLoadError, match="weights are missing"):
        hub.load_model(str(tmp_path))


def test_corrupted_weights(tiny, tmp_path):
    d, _ = tiny
    shutil.copy(d / "config.json", tmp_path / "config.json")
    (tmp_path / "model.safetensors").write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(hub.ModelLoadError, match="corrupted"):
        hub.load_model(str(tmp_path))


def test_weights_that_do_not_fit_the_config(tiny, tmp_path):
    d, _ = tiny
    shutil.copy(d / "model.safetensors", tmp_path / "model.safetensors")
    cfg = json.loads((d / "config.json").read_text())
    cfg["width"] = 16
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(hub.ModelLoadError, match="do not fit|corrupted"):
        hub.load_model(str(tmp_path))


def test_no_pickle_fallback(tiny, tmp_path):
    """A folder with only a pickled pytorch_model.bin is refused, never torch.load-ed."""
    d, _ = tiny
    shutil.copy(d / "config.json", tmp_path / "config.json")
    (tmp_path / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(hub.ModelLoadError, match="weights are missing"):
        hub.load_model(str(tmp_path))
