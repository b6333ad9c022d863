"""Bad input from a student or a script, against the live server through gradio_client.

Every case must be refused with one plain sentence that says what is wrong (naming the parameter and its
range where there is one): no temporary path, no address or object repr, no exception name, no traceback;
and the server log gets one line per refusal, never a traceback. Readable-but-odd images (16-bit, CMYK,
animated, 1x1) must simply work.
"""

from __future__ import annotations

import io
import re
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from demos.keypoints import views as KV

EX = str(KV.EXAMPLES / KV.DEFAULT_EXAMPLE)
KP = ["heatmap-s4", 20.0, ["argmax"], "l_wrist"]
PEAKS = [20.5, 32.5, 1.0, 2.5, 40.5, 32.5, 0.9, 2.5, 0.0, 10.0, 3]
LEAKS = [
    (re.compile(r"(/tmp/|/var/|/root/|/home/|[A-Z]:\\)"), "a path"),
    (re.compile(r"0x[0-9a-f]{6,}"), "an address"),
    (re.compile(r"<[\w.]+ object"), "an object repr"),
    (re.compile(r"\b\w*(Error|Exception)\b(?!\s+toast)"), "an exception name"),
    (re.compile(r"Traceback|File \""), "a traceback"),
]


def _png_header(w: int, h: int) -> bytes:
    """A valid PNG signature and IHDR for a w x h RGB image, followed by a tiny IDAT (a 'bomb': kB on disk)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def _file(tmp, name, data: bytes) -> str:
    p = tmp / name
    p.write_bytes(data)
    return str(p)


def _image_bytes(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    t = tmp_path_factory.mktemp("bad")
    png = open(EX, "rb").read()
    rgb = Image.open(EX).convert("RGB")
    return {
        "empty": _file(t, "empty.png", b""),
        "text": _file(t, "notes.png", b"this is a text file, not a picture\n"),
        "heic": _file(t, "photo.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64),
        "avif": _file(t, "photo.avif", b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64),
        "truncated": _file(t, "cut.png", png[: len(png) // 2]),
        "bomb": _file(t, "bomb.png", _png_header(30000, 30000)),
        "svg": _file(t, "drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
        "pdf": _file(t, "paper.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"),
        "zeros": _file(t, "zeros.jpg", b"\x00" * 4096),
        "jpeg_header_only": _file(t, "half.jpg", _image_bytes(rgb, "JPEG")[:200]),
        "too_large": _file(t, "huge.png", png + b"\x00" * (26 * 2**20)),
        # readable, if odd: these must work
        "16bit": _file(t, "deep.png", _image_bytes(Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16)
                                                                    .astype(np.uint16)), "PNG")),
        "cmyk": _file(t, "print.jpg", _image_bytes(rgb.convert("CMYK"), "JPEG")),
        "animated": _file(t, "anim.gif", _image_bytes(rgb, "GIF", save_all=True,
                                                      append_images=[rgb.rotate(10)], duration=100)),
        "tiny": _file(t, "dot.png", _image_bytes(Image.new("RGB", (1, 1), "red"), "PNG")),
    }


UPLOADS = [  # (file key, words the sentence must contain)
    ("empty", "empty"), ("text", "not an image"), ("heic", "HEIC"), ("avif", "AVIF"),
    ("truncated", "damaged or truncated"), ("bomb", "megapixels"), ("svg", "not an image"),
    ("pdf", "not an image"), ("zeros", "not an image"), ("jpeg_header_only", "not an image"),
    ("too_large", "the limit is 25 MB"),
]

CALLS = [  # (api name, args, words the sentence must contain)
    ("/two_peaks", ["a"] + PEAKS[1:], "x₁ must be a number from 0 to 64"),
    ("/two_peaks", [None] + PEAKS[1:], "x₁ must be a number from 0 to 64"),
    ("/two_peaks", PEAKS[:9] + [1e9, 3], "β: inverse temperature must be a number from 0.1 to 200"),
    ("/two_peaks", PEAKS[:9] + ["nan", 3], "β: inverse temperature must be a number"),
    ("/two_peaks", PEAKS[:10] + [2.5], "window radius (cells) for the windowed integral must be a whole number"),
    ("/two_peaks", PEAKS[:10] + [-1], "window radius"),
    ("/two_peaks", PEAKS[:2] + [-1.0] + PEAKS[3:], "height₁ must be a number from 0 to 2"),
    ("/two_peaks", PEAKS[:2] + [True] + PEAKS[3:], "height₁"),
    ("/two_peaks", PEAKS[:2] + [[1, 2]] + PEAKS[3:], "height₁"),
    ("/two_peaks", PEAKS[:2] + [0.0] + PEAKS[3:6] + [0.0] + PEAKS[7:], "flat"),
    ("/exp_normalize", ["big"], "largest logit"),
    ("/exp_normalize", [1e6], "largest logit β·max(heatmap) must be a number from 1 to 300"),
    ("/batchnorm_steps", ["nope", 8, 1, 1.0, 0.0, True], "mini-batch must be one of"),
    ("/batchnorm_steps", ["Gaussian", 0, 1, 1.0, 0.0, True], "batch size N must be a whole number from 1 to 64"),
    ("/batchnorm_steps", ["Gaussian", 8, 9, 1.0, 0.0, True], "channel must be a whole number from 0 to 7"),
    ("/batchnorm_steps", ["Gaussian", 8, 1, 1.0, 0.0, "maybe"], "show all steps at once must be true or false"),
    ("/train_vs_eval", ["Gaussian", 4, 60, 0.0, 0.0, 0], "momentum m (torch's convention) must be a number from 0.01 to 1"),
    ("/train_vs_eval", ["Gaussian", 4, 10_000, 0.1, 0.0, 0], "training steps must be a whole number from 1 to 80"),
    ("/norm_variants", [0, 2, 3], "GroupNorm groups G (divides C = 8) must be one of"),
    ("/dropout_steps", [1.5, 1000], "drop probability p must be a number from 0 to 1"),
    ("/dropout_steps", [None, 1000], "drop probability p"),
    ("/sgd_weight_decay_step", [0.1, -1], "λ (weight decay) must be a number from 0 to 1"),
    ("/selu_field", [0.0, 0.0, 0.5, 2.0, 12, 1.0], "τ (sum of squared weights) must be a number from 0.1 to 2"),
    ("/selu_deep", [10_000, 512, 0.5, 4.0], "depth (layers) must be a whole number from 1 to 64"),
    ("/selu_deep", [32, 100_000, 0.5, 4.0], "width (units) must be a whole number from 16 to 1024"),
    ("/blocks", [7, 28, 32], "channels C must be a whole number from 8 to 512"),
    ("/blocks", [64, "x", 32], "input size (px) must be a whole number"),
    ("/separable", ["star 7×7", 0, 64, 128, 56], "kernel must be one of"),
    ("/skip_connections", [500, 300], "depth (conv layers) must be a whole number from 4 to 30"),
    ("/analyse_image", [EX, "no-such-model", 20.0, ["argmax"], "l_wrist"], "Model must be one of"),
    ("/analyse_image", [EX, "heatmap-s4", 0.0, ["argmax"], "l_wrist"], "β: inverse temperature of the soft-max must be"),
    ("/analyse_image", [EX, "heatmap-s4", 20.0, ["median"], "l_wrist"], "Decoders drawn: 'median' is not one of"),
    ("/analyse_image", [EX, "heatmap-s4", 20.0, ["argmax"], "elbow"], "Joint to zoom on must be one of"),
    ("/analyse_image", [None, "heatmap-s4", 20.0, ["argmax"], "l_wrist"], "No image was given"),
    ("/analyse_drawing", [None, "heatmap-s4", 20.0, ["argmax"], "l_wrist"], "sketchpad is empty"),
]


def check_sentence(message: str, must: str):
    assert must in message, f"{message!r} lacks {must!r}"
    for pattern, what in LEAKS:
        assert not pattern.search(message), f"{message!r} shows {what}"
    assert message.count("\n") <= 1 and len(message) < 400, message


def refused(client, *args, api_name) -> str:
    with pytest.raises(Exception) as e:
        client.predict(*args, api_name=api_name)
    return str(e.value)


@pytest.mark.parametrize("key,must", UPLOADS, ids=[k for k, _ in UPLOADS])
def test_unreadable_uploads(client, files, key, must):
    from gradio_client import handle_file

    check_sentence(refused(client, handle_file(files[key]), *KP, api_name="/analyse_image"), must)


@pytest.mark.parametrize("key", ["16bit", "cmyk", "animated", "tiny"])
def test_odd_but_readable_images_work(client, files, key):
    from gradio_client import handle_file

    result = client.predict(handle_file(files[key]), *KP, api_name="/analyse_image")
    assert "Model **heatmap-s4**" in result[6]


@pytest.mark.parametrize("api,args,must", CALLS, ids=[f"{a}-{i}" for i, (a, _, _) in enumerate(CALLS)])
def test_bad_api_calls(client, files, api, args, must):
    from gradio_client import handle_file

    args = [handle_file(a) if a == EX else a for a in args]
    check_sentence(refused(client, *args, api_name=api), must)


def test_a_raw_call_with_missing_values_is_told_what_it_takes(app_url):
    """A hand-written HTTP call (no gradio_client) with too few values: one sentence, no State repr."""
    import json
    import urllib.request

    req = urllib.request.Request(app_url + "gradio_api/call/set_beta", data=json.dumps({"data": [1.0]}).encode(),
                                 headers={"Content-Type": "application/json"})
    event = json.loads(urllib.request.urlopen(req, timeout=10).read())["event_id"]
    body = urllib.request.urlopen(app_url + f"gradio_api/call/set_beta/{event}", timeout=30).read().decode()
    assert "event: error" in body
    message = json.loads(body.split("data:", 2)[-1])["error"]
    check_sentence(message, "takes 5")


def test_at_least_forty_bad_inputs():
    assert len(UPLOADS) + len(CALLS) + 1 >= 40


def test_refusals_leave_no_traceback_in_the_log(client):
    """Runs after the cases above (file order): the server logged one line per refusal, no traceback."""
    from tests.conftest import ARTIFACTS

    log = (ARTIFACTS / "app-server.log").read_text()
    assert "rejected input" in log
    assert "Traceback" not in log, log[log.index("Traceback") - 200: log.index("Traceback") + 1500]
