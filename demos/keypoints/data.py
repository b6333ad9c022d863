"""Procedural articulated 2D figures with exact float keypoints.

No public keypoint data set can be fetched where this lab is built, so it renders its own: a human-like
skeleton of 14 joints in a random pose, scale, rotation and limb thickness, in one of three line styles
("solid", "stick", "hand-drawn"), over a cluttered background, sometimes partly occluded.

Coordinate convention (the whole lab uses it): pixel ``i`` covers ``[i, i + 1)``, so its centre is
``i + 0.5``. Keypoints are float ``(x, y)`` in that convention, in input-image pixels.

Variants:
- ``"default"``: the figure's left limbs are drawn in warm colours (red/orange), its right limbs in cool
  colours (blue/cyan), so a model can tell left from right.
- ``"symmetric"``: both sides are drawn identically, and the figure is as often seen from the front as from
  the back, so left and right are truly ambiguous: a heatmap model learns two peaks for those joints.

Everything is a pure function of an integer seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

JOINTS = (
    "head", "neck",
    "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist",
    "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle",
)
NUM_JOINTS = len(JOINTS)
# Bones drawn as limbs (index pairs into JOINTS).
LIMBS = (
    (0, 1),
    (2, 4), (4, 6), (3, 5), (5, 7),
    (8, 10), (10, 12), (9, 11), (11, 13),
)
# The skeleton drawn over predictions (adds the torso outline).
SKELETON = LIMBS + ((1, 2), (1, 3), (2, 8), (3, 9), (8, 9))
# For each joint, its mirror partner (used by flips and by the two-peak analysis).
FLIP = (0, 1, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12)
LEFT = tuple(i for i, n in enumerate(JOINTS) if n.startswith("l_"))
RIGHT = tuple(i for i, n in enumerate(JOINTS) if n.startswith("r_"))

STYLES = ("solid", "stick", "hand-drawn")
VARIANTS = ("default", "symmetric")
DEFAULT_SIZE = 128
SUPERSAMPLE = 2
HELDOUT_SEED0 = 1_000_000  # held-out seeds are HELDOUT_SEED0 + i; training seeds stay below it


@dataclass
class Sample:
    image: np.ndarray  # (S, S, 3) uint8
    keypoints: np.ndarray  # (K, 2) float32, (x, y) in input pixels, pixel centres at i + 0.5
    visible: np.ndarray  # (K,) bool: inside the image and not hidden by an occluder
    seed: int
    variant: str
    style: str
    meta: dict = field(default_factory=dict)


def _hsv(rng: np.random.Generator, hue_lo: float, hue_hi: float, s=(0.55, 1.0), v=(0.55, 0.95)):
    import colorsys

    h = rng.uniform(hue_lo, hue_hi) % 1.0
    r, g, b = colorsys.hsv_to_rgb(h, rng.uniform(*s), rng.uniform(*v))
    return int(r * 255), int(g * 255), int(b * 255)


def sample_pose(rng: np.random.Generator, size: int = DEFAULT_SIZE) -> tuple[np.ndarray, dict]:
    """Random joint positions (K, 2) in input pixels, plus the pose parameters used."""
    sw = rng.uniform(0.32, 0.5)  # shoulder half-width, in torso lengths
    hw = rng.uniform(0.18, 0.3)  # hip half-width
    head_len = rng.uniform(0.35, 0.5)
    upper, fore = rng.uniform(0.6, 0.8), rng.uniform(0.55, 0.75)
    thigh, shin = rng.uniform(0.8, 1.0), rng.uniform(0.75, 0.95)
    p = np.zeros((NUM_JOINTS, 2))
    p[1] = (0.0, 0.0)
    p[0] = (rng.normal(0, 0.08), -head_len)
    lean = rng.normal(0, 0.12)
    p[2], p[3] = (sw, 0.0), (-sw, 0.0)  # the figure's left is at +x (seen from behind)
    p[8], p[9] = (hw + lean, 1.0), (-hw + lean, 1.0)

    def chain(start, a1, l1, a2, l2, side):
        # angles measured from straight down, positive = away from the body
        d1 = np.array([side * math.sin(a1), math.cos(a1)])
        j1 = start + l1 * d1
        a = a1 + a2
        d2 = np.array([side * math.sin(a), math.cos(a)])
        return j1, j1 + l2 * d2

    for s_idx, e_idx, w_idx, side in ((2, 4, 6, 1), (3, 5, 7, -1)):
        a1 = rng.uniform(math.radians(-25), math.radians(170))
        a2 = rng.uniform(math.radians(-20), math.radians(140)) * rng.choice((-1, 1))
        p[e_idx], p[w_idx] = chain(p[s_idx], a1, upper, a2, fore, side)
    for h_idx, k_idx, a_idx, side in ((8, 10, 12, 1), (9, 11, 13, -1)):
        a1 = rng.uniform(math.radians(-25), math.radians(75))
        a2 = -rng.uniform(math.radians(-5), math.radians(110)) * (1 if a1 > 0.3 else rng.choice((-1, 1)))
        p[k_idx], p[a_idx] = chain(p[h_idx], a1, thigh, a2, shin, side)

    facing_front = bool(rng.random() < 0.5)
    if facing_front:  # seen from the front: the figure's left appears on the image's right... mirrored
        p[:, 0] = -p[:, 0]
    rot = rng.normal(0, math.radians(12)) if rng.random() < 0.85 else rng.uniform(-math.pi, math.pi)
    c, s = math.cos(rot), math.sin(rot)
    p = p @ np.array([[c, s], [-s, c]])
    # scale: the figure's extent should cover 45-90% of the image
    extent = (p.max(0) - p.min(0)).max() + 1e-6
    scale = rng.uniform(0.45, 0.9) * size / extent
    p = p * scale
    lo, hi = p.min(0), p.max(0)
    margin = 0.04 * size
    off = np.array([rng.uniform(margin - lo[i], size - margin - hi[i]) if size - margin - hi[i] > margin - lo[i]
                    else (size - lo[i] - hi[i]) / 2 for i in range(2)])
    # now and then let a limb leave the frame
    if rng.random() < 0.1:
        off += rng.normal(0, 0.15 * size, 2)
    p = p + off
    return p.astype(np.float32), {"torso_px": float(scale), "facing_front": facing_front, "rotation": rot}


def _background(rng: np.random.Generator, size: int, style: str) -> Image.Image:
    if style == "hand-drawn":
        base = np.full((size, size, 3), rng.uniform(225, 250), dtype=np.float32)
        base += rng.normal(0, 4, (size, size, 1))
    else:
        c0 = np.array(_hsv(rng, 0, 1, s=(0, 0.5), v=(0.2, 0.95)), dtype=np.float32)
        c1 = np.array(_hsv(rng, 0, 1, s=(0, 0.5), v=(0.2, 0.95)), dtype=np.float32)
        t = np.linspace(0, 1, size, dtype=np.float32)
        ang = rng.uniform(0, 2 * math.pi)
        g = (np.cos(ang) * t[None, :] + np.sin(ang) * t[:, None])
        g = (g - g.min()) / (g.max() - g.min() + 1e-6)
        base = c0 * (1 - g[..., None]) + c1 * g[..., None]
        base += rng.normal(0, rng.uniform(0, 10), (size, size, 1))
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    for _ in range(rng.integers(2, 9) if style != "hand-drawn" else rng.integers(0, 4)):
        col = _hsv(rng, 0, 1, s=(0, 0.8), v=(0.2, 1.0)) if style != "hand-drawn" else (120, 120, 120)
        kind = rng.integers(0, 3)
        x0, y0 = rng.uniform(-0.2, 1.0, 2) * size
        w, h = rng.uniform(0.05, 0.4, 2) * size
        if kind == 0:
            d.ellipse([x0, y0, x0 + w, y0 + h], fill=col if style != "hand-drawn" else None, outline=col)
        elif kind == 1:
            d.rectangle([x0, y0, x0 + w, y0 + h], fill=col if style != "hand-drawn" else None, outline=col)
        else:  # stick-like distractor
            d.line([x0, y0, x0 + w, y0 + h], fill=col, width=int(rng.integers(1, max(2, size // 24))))
    return img


def _wobbly(rng, a, b, n=7, amp=0.8):
    """Points along a -> b with smooth perpendicular wobble (a hand-drawn stroke)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    t = np.linspace(0, 1, n)
    d = b - a
    normal = np.array([-d[1], d[0]]) / (np.linalg.norm(d) + 1e-9)
    wob = np.cumsum(rng.normal(0, amp, n))
    wob -= np.linspace(wob[0], wob[-1], n)  # end points stay on the joints
    pts = a[None] + t[:, None] * d[None] + wob[:, None] * normal[None]
    return [tuple(q) for q in pts]


def _draw_figure(rng: np.random.Generator, d: ImageDraw.ImageDraw, P: np.ndarray, torso_px: float, style: str,
                 variant: str) -> None:
    """Draw one figure with joints ``P`` (supersampled pixel coordinates) on ``d``."""
    if style == "solid":
        width = max(2, int(rng.uniform(0.12, 0.28) * torso_px))
    elif style == "stick":
        width = max(2, int(rng.uniform(0.05, 0.1) * torso_px))
    else:
        width = max(2, int(rng.uniform(0.04, 0.07) * torso_px))
    if style == "hand-drawn":
        pen = (int(rng.integers(0, 60)),) * 3
        left_col = right_col = body_col = pen
        if variant == "default":
            left_col, right_col = _hsv(rng, -0.03, 0.06, v=(0.6, 0.9)), _hsv(rng, 0.55, 0.68, v=(0.5, 0.9))
    else:
        body_col = _hsv(rng, 0, 1, s=(0.0, 0.35), v=(0.15, 0.95))
        if variant == "default":
            left_col, right_col = _hsv(rng, -0.04, 0.1), _hsv(rng, 0.5, 0.7)
        else:
            left_col = right_col = _hsv(rng, 0, 1, s=(0.3, 1.0))

    def stroke(a, b, col, w):
        if style == "hand-drawn":
            for _ in range(int(rng.integers(1, 3))):
                d.line(_wobbly(rng, a, b, amp=0.03 * torso_px), fill=col, width=w, joint="curve")
        else:
            d.line([tuple(a), tuple(b)], fill=col, width=w, joint="curve")
            r = w / 2
            for q in (a, b):
                d.ellipse([q[0] - r, q[1] - r, q[0] + r, q[1] + r], fill=col)

    # torso: a filled quad for solid figures, an outline otherwise
    quad = [tuple(P[2]), tuple(P[3]), tuple(P[9]), tuple(P[8])]
    if style == "solid":
        d.polygon(quad, fill=body_col)
    else:
        for a, b in ((2, 3), (3, 9), (9, 8), (8, 2)):
            stroke(P[a], P[b], body_col, width)
    stroke(P[1], P[0], body_col, width)
    side_col = {2: left_col, 4: left_col, 8: left_col, 10: left_col,
                3: right_col, 5: right_col, 9: right_col, 11: right_col}
    order = list(LIMBS[1:])
    rng.shuffle(order)
    for a, b in order:
        stroke(P[a], P[b], side_col[a], width)
    hr = max(3.0, 0.22 * torso_px * rng.uniform(0.8, 1.2))
    hc = P[0] + (P[0] - P[1]) / (np.linalg.norm(P[0] - P[1]) + 1e-9) * hr * 0.9
    if style == "hand-drawn":
        ang = np.linspace(0, 2 * math.pi, 14)
        rad = hr * (1 + rng.normal(0, 0.05, 14))
        pts = [(hc[0] + r * math.cos(t), hc[1] + r * math.sin(t)) for r, t in zip(rad, ang)]
        d.line(pts + [pts[0]], fill=body_col, width=width, joint="curve")
    else:
        d.ellipse([hc[0] - hr, hc[1] - hr, hc[0] + hr, hc[1] + hr], fill=body_col)


def _style(rng: np.random.Generator, style: str | None) -> str:
    style_draw = STYLES[int(rng.choice(3, p=[0.4, 0.3, 0.3]))]
    style = style or style_draw
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    return style


def render(seed: int, size: int = DEFAULT_SIZE, variant: str = "default", style: str | None = None) -> Sample:
    """Render one figure. Deterministic in (seed, size, variant, style)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    rng = np.random.default_rng([seed, 7919])
    style = _style(rng, style)
    kp, meta = sample_pose(rng, size)
    if variant == "symmetric":
        rng.random()  # a draw the first renderer made here; kept so every seed renders as before
    ss = SUPERSAMPLE
    img = _background(rng, size, style).resize((size * ss, size * ss), Image.BILINEAR)
    d = ImageDraw.Draw(img)
    P = kp * ss - 0.5  # PIL puts integer coordinates on pixel centres: shift so our centres line up
    torso_px = meta["torso_px"] * ss
    _draw_figure(rng, d, P, torso_px, style, variant)

    visible = np.ones(NUM_JOINTS, bool)
    # occluders: blobs of clutter over part of the figure
    if rng.random() < 0.3:
        for _ in range(int(rng.integers(1, 3))):
            j = int(rng.integers(0, NUM_JOINTS))
            c = P[j] + rng.normal(0, 0.3 * torso_px, 2)
            r = rng.uniform(0.25, 0.5) * torso_px
            col = _hsv(rng, 0, 1, s=(0, 0.6), v=(0.3, 1.0)) if style != "hand-drawn" else (235, 235, 230)
            d.rectangle([c[0] - r, c[1] - r, c[0] + r, c[1] + r], fill=col)
            inside = np.all(np.abs(P - c[None]) <= r, axis=1)
            visible &= ~inside
    img = img.resize((size, size), Image.LANCZOS if ss > 1 else Image.NEAREST)
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8)))
    inside = np.all((kp >= 0) & (kp < size), axis=1)
    visible &= inside
    meta.update(style=style)
    return Sample(np.asarray(img, dtype=np.uint8), kp, visible, seed, variant, style, meta)


@dataclass
class Scene:
    """Several figures on one background: ``keypoints`` (F, K, 2), ``visible`` (F, K)."""

    image: np.ndarray
    keypoints: np.ndarray
    visible: np.ndarray
    seed: int
    style: str


def render_scene(seed: int, figures: int = 2, size: int = DEFAULT_SIZE, style: str | None = None) -> Scene:
    """``figures`` figures side by side on one cluttered background (left/right coloured), each about
    1/figures of the image wide: the single-figure models' open question "several people in one image"."""
    if not 1 <= figures <= 3:
        raise ValueError(f"figures must be 1, 2 or 3, got {figures}")
    rng = np.random.default_rng([seed, 7919, figures])
    style = _style(rng, style)
    ss = SUPERSAMPLE
    img = _background(rng, size, style).resize((size * ss, size * ss), Image.BILINEAR)
    d = ImageDraw.Draw(img)
    slot = size / figures
    kps = []
    for i in range(figures):
        kp, meta = sample_pose(rng, size)
        lo, hi = kp.min(0), kp.max(0)
        f = 0.9 * slot / max(float((hi - lo).max()), 1e-6)  # the figure fills 90 % of its slot
        centre = np.array([(i + 0.5) * slot, size / 2 + rng.uniform(-0.1, 0.1) * size])
        kp = (kp - (lo + hi) / 2) * f + centre
        kps.append(kp.astype(np.float32))
        _draw_figure(rng, d, kp * ss - 0.5, meta["torso_px"] * f * ss, style, "default")
    img = img.resize((size, size), Image.LANCZOS)
    kps = np.stack(kps)
    visible = np.all((kps >= 0) & (kps < size), axis=-1)
    return Scene(np.asarray(img, dtype=np.uint8), kps, visible, seed, style)


OCCLUDERS = ("box", "bar")


def occlude(image: np.ndarray, centre, size_px: float, shape: str = "box", colour=None) -> np.ndarray:
    """The image with an occluder centred at ``centre`` (x, y input px): a grey ``box`` of side ``size_px``, or
    a limb-coloured ``bar`` (a distractor limb ``size_px`` long, as thick as a limb, in the colour found under
    the centre)."""
    if shape not in OCCLUDERS:
        raise ValueError(f"shape must be one of {OCCLUDERS}, got {shape!r}")
    if size_px <= 0:
        return image
    out = Image.fromarray(np.asarray(image, dtype=np.uint8)).convert("RGB")
    d = ImageDraw.Draw(out)
    x, y = (float(c) - 0.5 for c in centre)
    r = size_px / 2
    if shape == "box":
        d.rectangle([x - r, y - r, x + r, y + r], fill=colour or (128, 128, 128))
    else:
        h, w = np.asarray(image).shape[:2]
        under = tuple(int(v) for v in np.asarray(image)[int(np.clip(y, 0, h - 1)), int(np.clip(x, 0, w - 1))])
        d.line([(x - r, y + r / 2), (x + r, y - r / 2)], fill=colour or under, width=max(3, int(size_px / 5)))
    return np.asarray(out, dtype=np.uint8)


def heldout_seeds(n: int = 500) -> list[int]:
    """The fixed held-out set: seeds no training run uses."""
    return [HELDOUT_SEED0 + i for i in range(n)]


def render_batch(seeds, size: int = DEFAULT_SIZE, variant: str = "default"):
    """Stack samples: images (N, S, S, 3) uint8, keypoints (N, K, 2) float32, visible (N, K) bool."""
    samples = [render(int(s), size, variant) for s in seeds]
    return (np.stack([s.image for s in samples]), np.stack([s.keypoints for s in samples]),
            np.stack([s.visible for s in samples]))


def gaussian_targets(keypoints, heatmap_size: int, stride: float, sigma: float = 1.0):
    """Heatmap targets: a Gaussian of std ``sigma`` heatmap px centred at the float (unrounded) keypoint.

    ``keypoints``: (..., K, 2) torch tensor in input pixels. Returns (..., K, H, W) with cell centres at
    i + 0.5 (heatmap px), so a keypoint at input x maps to heatmap x / stride.
    """
    import torch

    kp = keypoints / stride
    c = torch.arange(heatmap_size, dtype=kp.dtype, device=kp.device) + 0.5
    gx = torch.exp(-((c - kp[..., 0:1]) ** 2) / (2 * sigma**2))  # (..., K, W)
    gy = torch.exp(-((c - kp[..., 1:2]) ** 2) / (2 * sigma**2))  # (..., K, H)
    return gy.unsqueeze(-1) * gx.unsqueeze(-2)
