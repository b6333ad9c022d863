"""Hub loading against local servers on 127.0.0.1: one that accepts connections and never answers, one that
answers 404 to everything. Nothing the Hub does may make a user wait more than 5 s or give a wrong reason."""

from __future__ import annotations

import hashlib
import socket
import time
from types import SimpleNamespace

import pytest
import torch

from demos.keypoints import hub, photo
from tests.conftest import http_server

LIMIT_S = 5.0


@pytest.fixture
def online(monkeypatch):
    """The tests run with HF_HUB_OFFLINE=1; these ones need huggingface_hub to try the (local) network."""
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub.constants, "HF_HUB_OFFLINE", False)
    hub.forget_failures()
    yield
    hub.forget_failures()


@pytest.fixture(scope="module")
def silent():
    """Accepts TCP connections (the kernel's backlog) and never sends a byte."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    yield f"http://127.0.0.1:{s.getsockname()[1]}"
    s.close()


@pytest.fixture(scope="module")
def missing():
    """Answers 404 to everything, as the Hub does for a repo that does not exist."""
    url, srv = http_server(404, b'{"error": "Repository not found"}', {"X-Error-Code": "RepoNotFound"})
    yield url
    srv.shutdown()


def timed(fn, *a, **k):
    t = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t


def test_silent_hub_falls_back_to_the_bundled_copy_within_5_s(online, silent, tmp_path):
    loaded, secs = timed(hub.load_model, "heatmap-s4", revision="main", cache_dir=tmp_path, endpoint=silent)
    assert secs < LIMIT_S, secs
    assert loaded.source == "local" and "did not answer" in loaded.note
    # the failure is remembered: the next student does not wait for the same dead endpoint
    loaded, secs = timed(hub.load_model, "heatmap-s4", revision="main", cache_dir=tmp_path, endpoint=silent)
    assert secs < 0.5 and "did not answer" in loaded.note


def test_a_failure_is_retried_after_a_while(online, silent, tmp_path, monkeypatch):
    hub.load_model("heatmap-s4", revision="main", cache_dir=tmp_path, endpoint=silent)
    monkeypatch.setattr(hub, "RETRY_AFTER_S", 0.0)
    _, secs = timed(hub.load_model, "heatmap-s4", revision="main", cache_dir=tmp_path, endpoint=silent)
    assert secs > 1.0  # asked the Hub again (and waited for it), instead of trusting the old failure


def test_missing_repo_says_not_found(online, missing, tmp_path):
    loaded, secs = timed(hub.load_model, "heatmap-s4", revision="main", cache_dir=tmp_path, endpoint=missing)
    assert secs < LIMIT_S
    assert loaded.source == "local" and "not found" in loaded.note and "unreachable" not in loaded.note
    with pytest.raises(hub.ModelLoadError, match="not found.*no local copy"):
        hub.load_model("someone/nothing", cache_dir=tmp_path, endpoint=missing)


def test_unpublished_models_never_ask_the_hub(online, silent, tmp_path):
    loaded, secs = timed(hub.load_model, "heatmap-s8", cache_dir=tmp_path, endpoint=silent)
    assert secs < 0.5 and loaded.source == "local" and "not published" in loaded.note


def test_photo_model_with_a_silent_hub_answers_within_5_s(online, silent, monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr(photo.KeypointRCNN_ResNet50_FPN_Weights.COCO_V1, "get_state_dict",
                        lambda **k: (_ for _ in ()).throw(OSError("no network")), raising=False)
    (model, why), secs = timed(photo._load_photo_model, endpoint=silent)
    assert model is None and secs < LIMIT_S
    assert "did not answer" in why and "Error" not in why


def test_torchvision_cache_is_trusted_only_when_its_hash_matches(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    (tmp_path / "checkpoints").mkdir()
    good = b"weights that match their name"
    prefix = hashlib.sha256(good).hexdigest()[:8]
    ok = SimpleNamespace(url=f"https://example.invalid/keypointrcnn-{prefix}.pth")
    (tmp_path / "checkpoints" / f"keypointrcnn-{prefix}.pth").write_bytes(good)
    assert photo._trusted_torchvision_file(ok) is not None
    (tmp_path / "checkpoints" / f"keypointrcnn-{prefix}.pth").write_bytes(b"tampered")
    assert photo._trusted_torchvision_file(ok) is None
