"""Hub loading against local servers on 127.0.0.1: one that accepts connections and never answers, one that
answers 404 to everything. Nothing the Hub does may make a user wait more than 5 s or give a wrong reason."""

from __future__ import annotations

import dataclasses
import hashlib
import socket
import sys
import time
from types import SimpleNamespace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import demos.keypoints as kp
from demos.keypoints import hub, photo
from tests.conftest import ROOT, http_server

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


# -- a Hub that answers: a stand-in on 127.0.0.1 (tests/hubserver.py) populated by scripts/publish.py's own code --

sys.path.insert(0, str(ROOT / "scripts"))
import publish  # noqa: E402

from demos.keypoints.registry import HUB_ORG  # noqa: E402
from tests.hubserver import StandInHub  # noqa: E402


@pytest.fixture(scope="module")
def published():
    """Every bundled model uploaded by ``publish.py models``' code to the stand-in: (the Hub, {repo: commit})."""
    srv = StandInHub()
    names = [n for n in kp.MODELS if n in hub.bundled_names()]  # a model added to the registry but not trained yet
    commits = publish.publish_models(names, HUB_ORG, dry_run=False, api=srv)
    yield srv, commits
    srv.close()


@pytest.fixture
def at(online, monkeypatch, tmp_path):
    """huggingface_hub pointed at an endpoint (HF_ENDPOINT) with an empty cache; the registry's records pinned to
    the given commits. Returns a function: at(url, commits)."""
    import huggingface_hub.constants as c

    def point(url: str, commits: dict) -> None:
        monkeypatch.setenv("HF_ENDPOINT", url)
        monkeypatch.setattr(c, "ENDPOINT", url)  # what HF_ENDPOINT sets when huggingface_hub is imported
        monkeypatch.setattr(c, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}")
        monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
        for name, rec in list(kp.MODELS.items()):
            monkeypatch.setitem(kp.MODELS, name, dataclasses.replace(rec, revision=commits.get(rec.repo_id)))

    return point


def weights(model) -> dict:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_every_model_loads_by_its_pinned_revision_then_from_the_cache_offline(published, at, monkeypatch):
    srv, commits = published
    at(srv.url, commits)
    bundled = [(n, r) for n, r in kp.MODELS.items() if n in hub.bundled_names()]
    assert bundled and set(commits) == {r.repo_id for _, r in bundled}
    for name, rec in bundled:
        loaded = hub.load_model(name)
        assert (loaded.source, loaded.where, loaded.note) == ("hub", f"{rec.repo_id}@{commits[rec.repo_id]}", "")
        copy = hub.load_model(str(hub.PRETRAINED / name)).model
        assert all(torch.equal(a, b) for a, b in zip(weights(loaded.model).values(), weights(copy).values()))
    asked = len(srv.requests)
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)  # a second start with HF_HUB_OFFLINE=1
    monkeypatch.setattr(hub.constants, "HF_HUB_OFFLINE", True)
    for name, rec in bundled:
        loaded = hub.load_model(name)
        assert (loaded.source, loaded.where) == ("hub-cache", f"{rec.repo_id}@{commits[rec.repo_id]}")
    assert len(srv.requests) == asked  # the cache alone


def test_a_changed_file_at_the_same_revision_is_refused_by_its_hash(published, at):
    srv, commits = published
    at(srv.url, commits)
    name = next(iter(kp.MODELS))
    repo = kp.MODELS[name].repo_id
    data = srv.repos[repo]["commits"][commits[repo]]["model.safetensors"]
    srv.tamper(repo, "model.safetensors", data[:-8] + bytes(8))  # same size: only the hash can tell
    try:
        loaded = hub.load_model(name)
    finally:
        srv.tampered.clear()
    assert loaded.source == "local" and "does not match the hash" in loaded.note, loaded.note
    hub.forget_failures()
    assert hub.load_model(name).source == "hub"  # the bad copy was not kept: the good one downloads again


def test_a_bare_404_says_the_hub_answered_404(at):
    url, srv = http_server(404, b"Not Found", {"Content-Type": "text/plain"})
    try:
        at(url, {m.repo_id: "0" * 40 for m in kp.MODELS.values()})
        loaded = hub.load_model(next(iter(kp.MODELS)))
    finally:
        srv.shutdown()
    assert loaded.source == "local" and loaded.note == "the Hub answered 404", loaded.note


def test_the_photo_model_converted_by_publish_loads_from_the_hub_and_draws_its_heatmaps(published, at, monkeypatch):
    """A randomly initialised Keypoint R-CNN (its real weights cannot be downloaded here; the path, not the
    quality), its person score's bias raised so that it detects someone in the bundled astronaut photo."""
    from demos.keypoints import views as V

    srv, commits = published
    torch.manual_seed(0)
    model = photo.build_model()
    with torch.no_grad():
        model.roi_heads.box_predictor.cls_score.bias.copy_(torch.tensor([-10.0, 10.0]))
    commit = publish.publish_photo(False, api=srv, state=model.state_dict())[photo.PHOTO_REPO]
    del model
    at(srv.url, commits)
    monkeypatch.setattr(photo, "PHOTO_REVISION", commit)
    monkeypatch.setattr(photo, "_LOADED", {})
    # A Space downloads it at build time (the card's preload_from_hub line, at the pinned revision): 226 MB do not
    # download within the app's 4 s Hub deadline, here or on most networks
    line = next(ln for ln in publish.card_block().splitlines() if photo.PHOTO_REPO in ln)
    assert line == f"- {photo.PHOTO_REPO}"  # listed in models:, not preloaded while its revision is not pinned here
    from huggingface_hub import hf_hub_download

    hf_hub_download(photo.PHOTO_REPO, photo.PHOTO_FILE, revision=commit)
    asked = len(srv.requests)
    out = V.analyse_image(str(V.EXAMPLES / "photo-astronaut-eileen-collins.jpg"), kp.PHOTO, 1.0,
                          ["argmax", "soft_argmax"], "nose")
    (_, (_, (loaded, where))), = photo._LOADED.items()  # {device: (time, (model, where))}
    assert loaded is not None and where == f"Hub: {photo.PHOTO_REPO}@{commit}"
    assert out["grid_h"] is not None and len(out["grid_h"].data) >= len(photo.COCO_KEYPOINTS)
    assert "Keypoint R-CNN found" in out["summary"]
    assert len(srv.requests) == asked  # the app found the pinned revision in the cache


@settings(max_examples=60, deadline=None)
@given(status=st.integers(400, 599), wrapped=st.booleans())
def test_the_reason_names_the_status_the_hub_answered(status, wrapped):
    """The note claims the Hub answered with a status: it is the response's status, whether huggingface_hub
    raises the answer itself or wraps it into "not in the local cache" (what a bare 404 of the file list gives)."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    answer = HfHubHTTPError("x", response=httpx2.Response(status, request=httpx2.Request("GET", "http://127.0.0.1/")))
    e = answer
    if wrapped:
        try:
            raise LocalEntryNotFoundError("cannot find the requested files in the local cache") from answer
        except LocalEntryNotFoundError as err:
            e = err
    with pytest.MonkeyPatch.context() as m:
        m.setattr(hub.constants, "HF_HUB_OFFLINE", False)  # online: an answer, not the offline cache
        assert hub.hub_reason(e) == f"the Hub answered {status}"
