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

from demos.architectures import views as AV
from demos.bimodal import views as BV
from demos.common.errors import UserInputError
from demos.common.params import Choice, Flag, Many, Param, defaults
from demos.dropout import views as DV
from demos.keypoints import views as KV
from demos.normalization import views as NV
from demos.selu import views as SV

EX = str(KV.EXAMPLES / KV.DEFAULT_EXAMPLE)
KP = [KV.MODEL.default, KV.BETA.default, ["argmax"], KV.JOINT.default]
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

CALLS = [  # (view, the values that differ from its defaults, what the sentence must say: None = the sentence of
           # the one changed value's record, built from the record; text = words of a check the view makes itself)
    (BV.two_peaks, {"x1": "a"}, None),
    (BV.two_peaks, {"x1": None}, None),
    (BV.two_peaks, {"beta": 1e9}, None),
    (BV.two_peaks, {"beta": "nan"}, None),
    (BV.two_peaks, {"radius": 2.5}, None),
    (BV.two_peaks, {"radius": -1}, None),
    (BV.two_peaks, {"h1": -1.0}, None),
    (BV.two_peaks, {"h1": True}, None),
    (BV.two_peaks, {"h1": [1, 2]}, None),
    (BV.two_peaks, {"h1": 0.0, "h2": 0.0, "noise": 0.0}, "flat"),
    (BV.exp_normalize, {"scale": "big"}, None),
    (BV.exp_normalize, {"scale": 1e6}, None),
    (NV.bn_steps, {"source": "nope"}, None),
    (NV.bn_steps, {"batch": 0}, None),
    (NV.bn_steps, {"channel": 9}, None),
    (NV.bn_steps, {"show_all": "maybe"}, None),
    (NV.train_vs_eval, {"momentum": 60}, None),
    (NV.train_vs_eval, {"train_steps": 10_000}, None),
    (NV.norm_variants, {"groups": 3}, None),
    (DV.dropout_steps, {"p": 1.5}, None),
    (DV.dropout_steps, {"p": None}, None),
    (DV.sgd_weight_decay_step, {"wd": -1}, None),
    (SV.selu_field, {"tau": 12}, None),
    (SV.selu_deep, {"depth": 10_000}, None),
    (SV.selu_deep, {"width": 100_000}, None),
    (AV.blocks, {"c": 7}, None),
    (AV.blocks, {"size": "x"}, None),
    (AV.separable, {"kind": "star 7×7"}, None),
    (AV.skip_connections, {"depth": 500}, None),
    (KV.analyse_image, {"image": EX, "model": "no-such-model"}, None),
    (KV.analyse_image, {"image": EX, "beta": 0.0}, None),
    (KV.analyse_image, {"image": EX, "shown": ["median"]}, None),
    (KV.analyse_image, {"image": EX, "joint": "elbow"}, None),
    (KV.analyse_image, {"image": None}, "No image was given"),
    (KV.analyse_drawing, {"sketch": None}, "sketchpad is empty"),
]


def args_of(view, changed: dict) -> list:
    """The view's default values with ``changed`` put in, in the order of its records (its API parameters)."""
    keys = [r.key for r in view.params]
    assert set(changed) <= set(keys), (view.__name__, changed)
    return [changed.get(k, d) for k, d in zip(keys, defaults(view))]


def record_sentence(rec) -> str:
    """The start of the sentence a record refuses a value with (demos/common/params.py)."""
    if isinstance(rec, Param):
        return f"{rec.label} must be {rec.range_text}; got "
    if isinstance(rec, Choice):
        return f"{rec.label} must be one of "
    if isinstance(rec, Flag):
        return f"{rec.label} must be true or false; got "
    assert isinstance(rec, Many), rec
    return f"{rec.label}: "


def must_say(view, changed: dict, must) -> str:
    if must is not None:
        return must
    (key,) = changed.keys() - {"image", "sketch"}
    return record_sentence(next(r for r in view.params if r.key == key))


@pytest.fixture(scope="module")
def endpoint():
    """{view name: its API name}, read from the tabs as the app builds them."""
    import importlib

    from tests.tab_checks import app_topics, build

    names = {}
    for topic in app_topics():
        for fn in build(importlib.import_module(f"demos.{topic}.tab")).fns.values():
            if fn.api_name:
                names.setdefault(getattr(fn.fn, "__name__", None), "/" + fn.api_name)
    return names


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
    assert f"Model **{KV.MODEL.default}**" in result[6]


IDS = [f"{v.__name__}-{i}" for i, (v, _, _) in enumerate(CALLS)]


@pytest.mark.parametrize("view,changed,must", CALLS, ids=IDS)
def test_bad_api_calls(client, files, endpoint, view, changed, must):
    from gradio_client import handle_file

    api = endpoint[view.__name__]
    sent = api_parameters(client, api)  # session state (gr.State) is not a parameter of the API
    args = [handle_file(a) if a == EX else a
            for r, a in zip(view.params, args_of(view, changed)) if r.key in sent]
    check_sentence(refused(client, *args, api_name=api), must_say(view, changed, must))


def api_parameters(client, api: str) -> set[str]:
    info = client.view_api(print_info=False, return_format="dict")["named_endpoints"][api]
    return {p["parameter_name"] for p in info["parameters"]}


@pytest.mark.parametrize("view,changed,must", [c for c in CALLS if c[2] is None],
                         ids=[i for i, c in zip(IDS, CALLS) if c[2] is None])
def test_each_record_refuses_its_bad_value_before_the_view_runs(view, changed, must):
    """The same cases without a server: the record's own check refuses the value, with the sentence above."""
    with pytest.raises(UserInputError) as e:
        view.checked(*args_of(view, changed))
    assert str(e.value).startswith(must_say(view, changed, must))


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
