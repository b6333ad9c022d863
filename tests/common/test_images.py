"""The shared image-input helper: orientation, modes, bit depths, limits, plain errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from demos.common import images
from demos.common.errors import UserInputError


def save(img: Image.Image, tmp_path, name="x.png", **kw):
    p = tmp_path / name
    img.save(p, **kw)
    return p


def test_exif_orientation_is_honoured(tmp_path):
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (0, 0, 10, 20))  # blue strip on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    p = save(img, tmp_path, "r.jpg", exif=exif.tobytes(), quality=95)
    out = images.load_image(p)
    assert out.size == (20, 40)
    top = np.asarray(out)[:5].mean((0, 1))
    assert top[2] > 200 and top[0] < 60  # the blue strip is now on top


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "I;16", "I", "F", "1"])
def test_modes_become_rgb(tmp_path, mode):
    base = Image.linear_gradient("L").resize((32, 16))
    img = base.convert(mode) if mode not in ("I;16", "I", "F") else Image.fromarray(
        (np.asarray(base).astype(np.float32) * 200).astype({"I;16": np.uint16, "I": np.int32, "F": np.float32}[mode]))
    out = images.load_image(img)
    assert out.mode == "RGB" and out.size == (32, 16)


def test_16bit_png_uses_its_range(tmp_path):
    a = np.linspace(1000, 3000, 64 * 8, dtype=np.uint16).reshape(8, 64)
    p = save(Image.fromarray(a), tmp_path, "d.png")
    out = np.asarray(images.load_image(p))
    assert out.min() == 0 and out.max() == 255  # rescaled, not clipped to black


def test_rgba_transparency_becomes_white():
    img = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert np.asarray(images.load_image(img)).min() == 255


def test_one_pixel_image(tmp_path):
    out = images.load_image(save(Image.new("RGB", (1, 1), (1, 2, 3)), tmp_path))
    assert out.size == (1, 1)


def test_not_an_image(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    with pytest.raises(UserInputError, match="not an image"):
        images.load_image(p)


def test_truncated_file(tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), (9, 9, 9)).save(buf, "PNG")
    p = tmp_path / "cut.png"
    p.write_bytes(buf.getvalue()[:200])
    with pytest.raises(UserInputError, match="damaged|not an image"):
        images.load_image(p)


def test_too_many_pixels_refused_before_decoding(tmp_path):
    p = save(Image.new("L", (5000, 3000)), tmp_path, "big.png")
    with pytest.raises(UserInputError, match="megapixels"):
        images.load_image(p, max_pixels=10_000_000)


def test_pil_bomb_limit_is_set_deliberately():
    assert Image.MAX_IMAGE_PIXELS == images.MAX_PIXELS


def test_arrays_and_nan(tmp_path):
    a = np.full((4, 4, 3), np.nan)
    assert images.load_image(a).size == (4, 4)
    with pytest.raises(UserInputError, match="must be"):
        images.load_image(np.zeros((2, 2, 5)))
    with pytest.raises(UserInputError, match="No image"):
        images.load_image(None)
