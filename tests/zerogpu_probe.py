"""Run by tests/test_zerogpu.py in a process of its own: the lab's own handlers (``ui.handler``, exactly what the
page calls) under the real `spaces` package on an emulated ZeroGPU Space: SPACES_ZERO_GPU=true and
SPACES_ZERO_DEVICE_API_URL pointing at the test's stand-in device API on 127.0.0.1.

This machine has no GPU, so two steps of spaces' worker start-up are stood in: attaching the granted GPU
(``spaces.zero.torch.init``: CUDA_VISIBLE_DEVICES and a first CUDA tensor) and moving tensors to it
(``spaces.zero.torch.move``). Everything else is spaces' own code: asking /schedule with the duration, forking its
worker, /allow, running the function there, /release, and its refusals.

Before each phase it tells the stand-in the phase's name (POST /kplab/phase?name=...), which also says whether
the stand-in grants or refuses; the test counts the /schedule requests of each phase. Prints one line
``KPLAB-RESULT {json}``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request

T0 = time.perf_counter()

from demos.common import gpu  # first, as in app.py: imports spaces before torch

assert gpu.ZERO_GPU, "run with SPACES_ZERO_GPU=true and the spaces package installed"

import spaces.zero.torch as zero_torch  # noqa: E402

zero_torch.init = lambda nvidia_uuid: None  # no GPU to attach here (see the module docstring)
zero_torch.move = lambda callback=None: None

import torch  # noqa: E402

from demos.common import device, ui  # noqa: E402
from demos.keypoints import hub  # noqa: E402
from demos.keypoints import views as KV  # noqa: E402
from demos.normalization import views as NV  # noqa: E402

API = os.environ["SPACES_ZERO_DEVICE_API_URL"]


def phase(name: str) -> None:
    print(f"phase {name} at {time.perf_counter() - T0:.1f} s", file=sys.stderr, flush=True)
    urllib.request.urlopen(urllib.request.Request(f"{API}/kplab/phase?name={name}", method="POST"), timeout=5)


def handler(view, names):
    return ui.handler(view, names), names


def text_of(out, names):
    return out[names.index("text")] if isinstance(out, tuple) else out


image = str(KV.EXAMPLES / KV.DEFAULT_EXAMPLE)
kp_args = [image] + [r.default for r in KV.analyse_image.params[1:]]
kp_names = list(KV.analyse_image(*kp_args))  # its output names (a direct call, no handler, no GPU)
analyse, _ = handler(KV.analyse_image, kp_names)
bn_args = [r.default for r in NV.bn_steps.params]
bn_names = list(NV.bn_steps(*bn_args))
bn_steps, _ = handler(NV.bn_steps, bn_names)
train, train_names = handler(NV.norm_live_training, ["plot", "text"])
model = kp_args[1]
result = {"cuda_claimed": torch.cuda.is_available()}  # spaces' emulation: True outside a GPU call

phase("grant-quick")
for beta in (1.0, 2.0, 5.0):
    analyse(image, model, beta, kp_args[3], kp_args[4])
for _ in range(2):
    bn_steps(*bn_args)
result["quick_calls"] = 5
result["quick_device"] = device.get_device().type
result["quick_model_device"] = str(next(hub.get_model(model).parameters()).device)

phase("grant-long")
texts = [text_of(o, train_names) for o in train(0.1, 50)]
result["granted_texts"] = [texts[0], texts[-1]]

phase("refuse-long")
texts = [text_of(o, train_names) for o in train(0.1, 50)]
result["refused_texts"] = [texts[0], texts[-1]]
result["refused_yields"] = len(texts)

phase("refuse-quick")
bn_steps(*bn_args)
analyse(image, model, 3.0, kp_args[3], kp_args[4])

print("KPLAB-RESULT " + json.dumps(result), flush=True)
