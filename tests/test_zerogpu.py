"""ZeroGPU with the real `spaces` package and a stand-in for its device API on 127.0.0.1.

- Quick views never ask for a GPU slot (0 /schedule requests) and compute on the CPU, although `spaces` makes
  ``torch.cuda.is_available()`` answer True.
- A long run asks once, with the duration its declared cost gives; granted, it runs in spaces' worker (/allow,
  /release); refused (429 {left: 0, wait: 3600}), it completes on the CPU and says so in one sentence, with no
  spaces message.
- Every refusal spaces' client raises (quota, queue time-out, illegal duration, 503, an error status, an
  unreachable device API) becomes plain words; an error of the run itself is not a refusal.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.parse
from datetime import timedelta

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from demos.common import device, gpu, params
from tests.conftest import ROOT

spaces = pytest.importorskip("spaces")


class DeviceAPI:
    """ZeroGPU's device API as spaces/zero/api.py calls it: POST /schedule (grant: a GPU's index, UUID and allow
    token; refuse: 429 with the quota left and the wait), /allow, /release, /startup-report. Requests are
    recorded per phase (POST /kplab/phase?name=grant-... or refuse-..., sent by the probe)."""

    def __init__(self, schedule=None):
        self.phase = "grant"
        self.log: list[tuple[str, str, dict]] = []  # (phase, path, query)
        self.schedule = schedule  # (status, content type, body) for every /schedule, overriding the phase
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/kplab/phase":
                    api.phase = query["name"]
                    return self.answer(200, "application/json", b"{}")
                api.log.append((api.phase, url.path, query))
                if url.path != "/schedule":
                    return self.answer(200, "application/json", b"{}")
                if api.schedule:
                    return self.answer(*api.schedule)
                if api.phase.startswith("refuse"):
                    return self.answer(429, "application/json", json.dumps({"left": 0, "wait": 3600}).encode())
                n = sum(1 for _, p, _ in api.log if p == "/schedule")
                grant = {"idle": False, "nvidiaIndex": 0, "nvidiaUUID": "GPU-stand-in", "allowToken": f"token-{n}"}
                return self.answer(200, "application/json", json.dumps(grant).encode())

            def answer(self, status, ctype, body):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def requests(self, phase: str, path: str) -> list[dict]:
        return [q for p, r, q in self.log if p == phase and r == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def emulated(tmp_path_factory):
    """The probe (tests/zerogpu_probe.py) run once against one stand-in: (its result, the stand-in)."""
    api = DeviceAPI()
    cgroup = tmp_path_factory.mktemp("zero") / "cgroup"
    cgroup.write_text("0::/kplab-test\n")
    env = dict(os.environ, SPACES_ZERO_GPU="true", SPACES_ZERO_DEVICE_API_URL=api.url, SPACE_ID="me/lab",
               ZEROGPU_PROC_SELF_CGROUP_PATH=str(cgroup), ZEROGPU_OFFLOAD_DIR=str(cgroup.parent / "offload"),
               HF_HUB_OFFLINE="1", KPLAB_WORKER="0", PYTHONUNBUFFERED="1")
    r = subprocess.run([sys.executable, "-m", "tests.zerogpu_probe"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=900)  # about 60 s of CPU; far longer on a shared, loaded machine
    api.close()
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("KPLAB-RESULT ")]
    assert r.returncode == 0 and lines, (r.stdout[-1500:], r.stderr[-3000:])
    return json.loads(lines[-1].split(" ", 1)[1]), api, r.stdout + r.stderr


def test_quick_views_never_ask_for_a_gpu_and_compute_on_the_cpu(emulated):
    result, api, _ = emulated
    assert result["quick_calls"] == 5
    assert api.requests("grant-quick", "/schedule") == [] and api.requests("refuse-quick", "/schedule") == []
    assert result["cuda_claimed"] is True  # spaces says CUDA is there ...
    assert result["quick_device"] == "cpu" and result["quick_model_device"] == "cpu"  # ... quick views use the CPU


def test_a_granted_long_run_asks_once_for_its_declared_duration_and_runs_in_spaces_worker(emulated):
    from demos.normalization import views as NV

    result, api, _ = emulated
    asked = api.requests("grant-long", "/schedule")
    assert len(asked) == 1
    assert int(asked[0]["durationSeconds"]) == params.gpu_seconds(NV.norm_live_training, lr=0.1, steps=50)
    assert len(api.requests("grant-long", "/allow")) == 1  # spaces' worker process started and was allowed
    released = api.requests("grant-long", "/release")
    assert len(released) == 1 and released[0]["fail"] == "false"
    assert "step 50 of 50" in result["granted_texts"][-1] and "CPU" not in result["granted_texts"][-1]


def test_a_refused_long_run_completes_on_the_cpu_with_one_sentence(emulated):
    from demos.normalization import views as NV

    result, api, log = emulated
    assert len(api.requests("refuse-long", "/schedule")) == 1
    assert api.requests("refuse-long", "/allow") == []  # nothing ran on a GPU
    sentence = gpu.fallback_sentence("this Space has reached its GPU limit",
                                     params.about(NV.norm_live_training, lr=0.1, steps=50))
    first, last = result["refused_texts"]
    assert first.startswith(f"**{sentence}**") and last.startswith(f"**{sentence}**")
    assert "step 50 of 50" in last and result["refused_yields"] > 1
    for raw in ("Space app has reached", "Try re-running", "ZeroGPU quota exceeded", "GPU task aborted"):
        assert raw not in first and raw not in last
    print("emulation:", {k: result[k] for k in ("quick_calls", "granted_texts", "refused_texts")},
          {p: len(api.requests(p, "/schedule")) for p in ("grant-quick", "grant-long", "refuse-long", "refuse-quick")})


# -- every refusal spaces' client raises, in plain words (in this process: spaces' client only, no torch patch) --

SSE_FAILED = (200, "text/event-stream", b"event: failed\n\n")
CASES = [
    ((429, "application/json", b'{"left": 0, "wait": 3600}'), "this Space has reached its GPU limit"),
    ((429, "application/json", b'{"left": 0, "wait": -1}'), "this run needs more GPU time than ZeroGPU allows"),
    (SSE_FAILED, "no GPU came free within 60 s"),
    ((503, "application/json", b"{}"), "no GPU was available"),
    ((500, "application/json", b"{}"), "the GPU service answered with an error"),
]


@pytest.fixture
def client(monkeypatch):
    import spaces.zero.client as client
    from spaces.config import Config

    monkeypatch.setattr(client.utils, "self_cgroup_device_path", lambda: "/kplab-test")
    return client, Config


@pytest.mark.parametrize("answer,reason", CASES)
def test_each_refusal_of_spaces_client_becomes_plain_words(client, monkeypatch, answer, reason):
    client, config = client
    api = DeviceAPI(schedule=answer)
    monkeypatch.setattr(config, "zero_device_api_url", api.url)
    try:
        with pytest.raises(Exception) as e:
            client.schedule(task_id=1, duration=timedelta(seconds=20))
    finally:
        api.close()
    assert gpu.refusal(e.value) == reason and reason in gpu.REASONS


def test_an_unreachable_device_api_is_a_refusal_and_a_failed_run_is_not(client, monkeypatch):
    import socket

    client, config = client
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    monkeypatch.setattr(config, "zero_device_api_url", f"http://127.0.0.1:{port}")
    with pytest.raises(Exception) as e:
        client.schedule(task_id=1, duration=timedelta(seconds=20))
    assert gpu.refusal(e.value) == "the GPU service could not be reached"
    import gradio as gr

    try:
        raise gr.Error("You have exceeded your GPU quota", title="ZeroGPU quota exceeded")  # raised by the run
    except gr.Error as err:
        assert gpu.refusal(err) is None


@settings(max_examples=60, deadline=None)
@given(reason=st.sampled_from(gpu.REASONS), seconds=st.floats(0.0, 600.0))
def test_the_fallback_sentence_says_what_happened_and_the_declared_cpu_time(reason, seconds):
    view = params.takes(seconds=seconds)(lambda: None)
    cost = params.about(view)
    s = gpu.fallback_sentence(reason, cost)
    assert reason in s and s.endswith(f"it takes {cost}.") and "on the CPU" in s and "2-core CPU" in cost
    assert s.count(".") == 1 + cost.count(".")  # one sentence


# -- where quick views compute on ZeroGPU, and the models they get -------------------------------------------

def test_get_device_on_zerogpu_is_the_cpu_outside_a_gpu_call_and_cuda_inside(monkeypatch):
    monkeypatch.setattr(gpu, "ZERO_GPU", True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # what spaces makes it answer
    assert device.get_device().type == "cpu"
    token = gpu._IN_GPU_CALL.set(True)
    try:
        assert device.get_device().type == "cuda"
    finally:
        gpu._IN_GPU_CALL.reset(token)
    assert device.get_device().type == "cpu"
    monkeypatch.setattr(gpu, "ZERO_GPU", False)
    assert device.get_device() == device.attached()  # a local or dedicated GPU: always the attached device
    assert "quick views" not in device.where_label()


def test_models_are_cached_per_device(monkeypatch):
    import demos.keypoints as kp
    from demos.keypoints import hub

    def on(dev):
        for mod in (device, hub):
            monkeypatch.setattr(mod, "get_device", lambda: torch.device(dev), raising=False)
        return kp.get_loaded(name).model

    name = next(iter(kp.MODELS))
    on_gpu = on("meta")  # stands in for the GPU
    on_cpu = on("cpu")
    assert next(on_gpu.parameters()).device.type == "meta" and next(on_cpu.parameters()).device.type == "cpu"
    assert on("cpu") is on_cpu and on("meta") is on_gpu
