"""Reading user images safely: one helper for every tab that takes an image.

- honours EXIF orientation (``ImageOps.exif_transpose``);
- converts grayscale, grayscale+alpha, palette, RGBA, CMYK and 16-bit / 32-bit / float images to 8-bit RGB
  (transparent areas are composited over white, high bit depths are rescaled to their own range);
- refuses files that are not images, and images above :data:`MAX_PIXELS` before decoding them;
- accepts tiny images (1x1 included): the tabs resize them.
Errors are :class:`UserInputError` with a plain sentence.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import UserInputError

MAX_PIXELS = 40_000_000  # 40 megapixels, e.g. 8000 x 5000
MAX_BYTES = 25 * 1024 * 1024
# PIL warns above MAX_IMAGE_PIXELS and refuses above twice that (decompression bombs). Set it deliberately;
# load_image() itself refuses anything above MAX_PIXELS before decoding.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        finite = np.isfinite(a)
        if not finite.any():
            raise UserInputError("The image holds no finite pixel values.")
        lo, hi = a[finite].min(), a[finite].max()
        a = np.where(finite, a, lo)
        a = (a - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(a)
        img = Image.fromarray(a.round().astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba)
    return img.convert("RGB")


def load_image(source, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open ``source`` (a path, bytes, a PIL image or an (H, W[, C]) array) as an upright 8-bit RGB image."""
    if source is None:
        raise UserInputError("No image was given: upload one, draw one, or pick an example.")
    if isinstance(source, np.ndarray):
        arr = source
        if arr.ndim == 3 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)) or arr.size == 0:
            raise UserInputError(f"An image array must be (H, W), (H, W, 3) or (H, W, 4), got {arr.shape}.")
        if arr.shape[0] * arr.shape[1] > max_pixels:
            raise UserInputError(_too_big(arr.shape[1], arr.shape[0], max_pixels))
        if arr.dtype != np.uint8:
            a = arr.astype(np.float64)
            a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
            if a.max() <= 1.0 and a.min() >= 0.0:
                a = a * 255.0
            arr = np.clip(a, 0, 255).astype(np.uint8)
        return _to_rgb(Image.fromarray(arr))
    if isinstance(source, Image.Image):
        img = source
    else:
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if not path.is_file():
                raise UserInputError(f"The file {path.name!r} does not exist.")
            if path.stat().st_size > MAX_BYTES:
                raise UserInputError(f"The file is {path.stat().st_size / 2**20:.0f} MB; the limit is "
                                     f"{MAX_BYTES // 2**20} MB.")
            data = path.read_bytes()
            name = path.name
        elif isinstance(source, (bytes, bytearray)):
            data, name = bytes(source), "The upload"
        else:
            raise UserInputError(f"Cannot read an image from a {type(source).__name__}.")
        if not data:
            raise UserInputError(f"{name} is empty (0 bytes): pick the image file again, or another one.")
        kind = _unsupported_kind(data)
        if kind:
            raise UserInputError(f"{name} is {'an' if kind == 'AVIF' else 'a'} {kind} image, which this app cannot decode: save it as JPEG or PNG "
                                 "(any photo app can export it) and upload that.")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(io.BytesIO(data))
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
                SyntaxError, ValueError) as e:
            if isinstance(e, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
                raise UserInputError(f"{name} is too large to open safely (over {max_pixels / 1e6:.0f} megapixels).")
            raise UserInputError(f"{name} is not an image this app can read. Upload a PNG, JPEG, WebP, BMP, GIF "
                                 "or TIFF file.") from None
    w, h = img.size
    if w * h > max_pixels:
        raise UserInputError(_too_big(w, h, max_pixels))
    if w < 1 or h < 1:
        raise UserInputError("The image is empty (zero pixels).")
    try:
        img.load()
        img = ImageOps.exif_transpose(img)
        return _to_rgb(img)
    except UserInputError:
        raise
    except Exception:  # truncated or corrupt files fail on decoding, not on opening
        raise UserInputError("The image file is damaged or truncated and cannot be decoded.") from None


# ISO-BMFF brands (bytes 8-12 after "ftyp") of formats Pillow cannot read without plug-ins
_BRANDS = {b"heic": "HEIC", b"heix": "HEIC", b"hevc": "HEIC", b"heim": "HEIC", b"heis": "HEIC", b"mif1": "HEIC",
           b"msf1": "HEIC", b"avif": "AVIF", b"avis": "AVIF"}


def _unsupported_kind(data: bytes) -> str | None:
    if data[4:8] == b"ftyp":
        return _BRANDS.get(data[8:12], None)
    return None


def _too_big(w: int, h: int, limit: int) -> str:
    return (f"The image is {w} x {h} = {w * h / 1e6:.1f} megapixels; the limit is {limit / 1e6:.0f} megapixels. "
            "Please downscale it first.")
