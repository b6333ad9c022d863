"""What a Hugging Face Space needs (docs/facts.md 8): the card, LFS rules, ZeroGPU's rules, publishing, the
model cards' usage snippets, and `demo` at module level."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from demos.common.serve import start_app, stop
from tests.conftest import ROOT, http_server

sys.path.insert(0, str(ROOT / "scripts"))
import publish  # noqa: E402

# ZeroGPU's supported versions (Hugging Face, docs/hub/spaces-zerogpu.md)
ZERO_GPU_PYTHON = {"3.10", "3.10.13", "3.12", "3.12.12"}
ZERO_GPU_TORCH = {"2.8.0", "2.9.1", "2.10.0", "2.11.0"}


def card() -> dict:
    text = (ROOT / "README.md").read_text()
    return yaml.safe_load(text.split("---", 2)[1])


def test_card_asks_for_a_python_and_torch_that_zerogpu_offers():
    c = card()
    assert c["sdk"] == "gradio" and c["app_file"] == "app.py"
    assert str(c["python_version"]) in ZERO_GPU_PYTHON
    reqs = (ROOT / "requirements.txt").read_text()
    torch_pin = re.search(r"^torch==([\d.]+)$", reqs, flags=re.M)
    assert torch_pin and torch_pin.group(1) in ZERO_GPU_TORCH
    major, minor = str(c["python_version"]).split(".")[:2]
    assert sys.version_info[:2] == (int(major), int(minor)), \
        f"the suite runs under {sys.version_info[:2]}, the card asks for {c['python_version']}"


def test_card_hub_lines_are_generated_from_the_registry():
    """models: every repo the app loads; preload_from_hub: only those with a pinned revision, at it (a repo that
    does not exist would fail the Space's build)."""
    text = (ROOT / "README.md").read_text()
    assert publish.card_text(text) == text, "README's Hub lines are stale: python scripts/publish.py card"
    c = card()
    assert c["models"] == publish.hub_repos() == list(publish.pinned())
    pre = [line.split() for line in c.get("preload_from_hub") or []]
    assert [p[0] for p in pre] == [r for r, rev in publish.pinned().items() if rev]
    assert all(rev == publish.pinned()[repo] for repo, _, rev in pre)


def test_a_pinned_repo_is_preloaded_at_its_revision_and_only_it(monkeypatch):
    import dataclasses

    from demos.keypoints import hub, photo

    name, rec = next(iter(publish.MODELS.items()))
    monkeypatch.setitem(publish.MODELS, name, dataclasses.replace(rec, revision="a" * 40))
    c = yaml.safe_load(publish.card_block())
    assert c["models"] == publish.hub_repos()
    assert c["preload_from_hub"] == [f"{rec.repo_id} {','.join(hub.HUB_FILES)} {'a' * 40}"]
    monkeypatch.setattr(photo, "PHOTO_REVISION", "b" * 40)
    assert yaml.safe_load(publish.card_block())["preload_from_hub"][-1] == f"{photo.PHOTO_REPO} model.safetensors {'b' * 40}"


def test_space_refuses_while_a_repo_it_lists_is_unpublished(capsys, monkeypatch):
    import dataclasses

    from demos.keypoints import photo

    missing = publish.unpublished()
    assert missing, "every repo is pinned: this test needs an unpublished one (pin one to None below)"
    assert publish.main(["space", "me/lab", "--dry-run"]) == 1
    out = capsys.readouterr().out.strip().splitlines()[-1]
    assert out.startswith("Not publishing the Space: its card lists " + ", ".join(missing))
    names = [m.name for m in publish.MODELS.values() if m.repo_id in missing]
    if names:
        assert f"`python scripts/publish.py models {' '.join(names)}`" in out
    assert ("`python scripts/publish.py photo`" in out) == (photo.PHOTO_REPO in missing)
    for name, rec in list(publish.MODELS.items()):  # all published: the card must then be regenerated first
        monkeypatch.setitem(publish.MODELS, name, dataclasses.replace(rec, revision="c" * 40))
    monkeypatch.setattr(photo, "PHOTO_REVISION", "d" * 40)
    assert publish.space_refusal() == ("Not publishing the Space: README.md's Hub lines are stale; run "
                                       "`python scripts/publish.py card`.")


def test_every_tracked_binary_has_an_lfs_rule():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    binary = [f for f in files if b"\0" in (ROOT / f).read_bytes()[:8000]]
    assert binary, "expected the repo to ship some binaries (weights, images)"
    out = subprocess.run(["git", "check-attr", "filter", "--"] + binary, cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    missing = [line.split(":")[0] for line in out.splitlines() if not line.endswith("filter: lfs")]
    assert not missing, f"binary files without an LFS rule in .gitattributes: {missing}"


def test_publish_dry_run_lists_exactly_what_would_go_where(capsys):
    assert publish.main(["models", "--dry-run"]) == 0
    out = capsys.readouterr().out
    for name in publish.MODELS:
        if not (publish.PRETRAINED / name / "model.safetensors").is_file():  # in the registry, not trained yet
            assert f"keypoint-architecture-lab/{name}: not trained yet" in out
            continue
        for f in ("config.json", "model.safetensors", "README.md"):
            assert f"keypoint-architecture-lab/{name}  {f}  <- pretrained/{name}/{f}" in out
    assert "pytorch_model.bin" not in out
    assert publish.main(["space", "me/lab", "--zero-gpu", "--dry-run"]) == (1 if publish.space_refusal() else 0)
    out = capsys.readouterr().out
    assert "me/lab (space)  app.py  <- app.py" in out and "ZeroGPU" in out
    assert ".venv" not in out and "artifacts/" not in out


def test_model_card_snippets_run_as_written(tmp_path):
    for name in publish.MODELS:
        text = (ROOT / "pretrained" / name / "README.md").read_text()
        code = re.search(r"```python\n(.*?)```", text, flags=re.S).group(1)
        r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, HF_HUB_OFFLINE="1"))
        assert r.returncode == 0, f"{name}: {r.stderr[-800:]}"
        assert "torch.Size([1, 14, 2])" in r.stdout


def test_demo_is_exposed_at_module_level():
    r = subprocess.run([sys.executable, "-c", "import app, gradio; assert isinstance(app.demo, gradio.Blocks)"],
                       cwd=ROOT, capture_output=True, text=True, timeout=180, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert r.returncode == 0, r.stderr[-800:]


@pytest.fixture
def device_api():
    """A stand-in for ZeroGPU's device API: answers the start-up report, nothing else is needed here."""
    url, srv = http_server(200)
    yield url
    srv.shutdown()


def test_zerogpu_emulation_builds_serves_and_checks_inputs_before_the_gpu(device_api, tmp_path):
    """With the `spaces` package and SPACES_ZERO_GPU=true (what ZeroGPU hardware sets), `spaces` is imported
    before torch, the long runs are wrapped in spaces.GPU, the page is served, and a bad value to a GPU
    endpoint gets the same plain sentence as locally (it is checked before the GPU is asked for)."""
    pytest.importorskip("spaces")
    probe = ("import sys; from demos.common import gpu; assert gpu.spaces is not None; "
             "assert 'torch' not in sys.modules or not __import__('torch').cuda.is_initialized(); "
             "import app; import spaces.zero.decorator as d; "
             "names = {getattr(f, '__name__', '') for f in d.decorated_cache}; "
             "assert {'norm_live_training', 'selu_deep', 'skip_connections'} <= names, names; "
             "assert not {'update', 'analyse_image', 'blocks'} & names, names")  # quick views never ask
    env = dict(os.environ, SPACES_ZERO_GPU="true", SPACES_ZERO_DEVICE_API_URL=device_api, SPACE_ID="me/lab",
               HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    r = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-1500:]
    log = open(tmp_path / "zero.log", "w")
    try:
        proc, url, _ = start_app(env=env, log=log, seconds=120)
    except RuntimeError as e:
        pytest.fail(f"the ZeroGPU-emulated app: {e}: " + (tmp_path / "zero.log").read_text()[-1500:])
    try:
        from gradio_client import Client

        c = Client(url, verbose=False)
        with pytest.raises(Exception, match=r"depth \(conv layers\) must be a whole number from 4 to 30; got 500"):
            c.predict(500, 300, api_name="/skip_connections")
        assert "arg-max" in c.predict(*[20.5, 32.5, 1.0, 2.5, 40.5, 32.5, 1.0, 2.5, 0.0, 10.0, 3],
                                      api_name="/two_peaks")[3]
    finally:
        stop(proc)
        log.close()


def test_readme_lists_every_tab_with_its_screenshots():
    import readme_tabs

    text = (ROOT / "README.md").read_text()
    assert readme_tabs.section(text) == readme_tabs.table(), "README's table of tabs is stale: make screenshots"
    for line in readme_tabs.table().splitlines()[2:]:
        for shot in re.findall(r"\((docs/screenshots/[^)]+\.png)\)", line):
            assert (ROOT / shot).is_file(), f"{shot} is missing: make screenshots"
