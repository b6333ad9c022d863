"""Heatmap decoders: from (B, K, H, W) heatmaps to (B, K, 2) keypoints.

Convention (the whole lab uses it): heatmap cell ``i`` covers ``[i, i + 1)`` and its centre is ``i + 0.5``.
Every decoder returns float ``(x, y)`` in heatmap pixels; :func:`to_input_pixels` maps them to the input
image (``x_in = x_hm * W_in / W_hm``; with output stride s that is ``x_hm * s``).

All functions are batched torch, device-agnostic, and keep the input's dtype for floating inputs.

- :func:`argmax`: centre of the best cell. No sub-pixel accuracy, not differentiable.
- :func:`argmax_quarter`: arg-max, then 0.25 px towards the larger neighbour (SimpleBaselines / HRNet).
- :func:`soft_argmax`: integral regression (Sun et al. 2018): soft-max over all H*W cells of ``beta`` times
  the map (beta: the inverse temperature, T = 1/beta), then the expected position. Max-subtracted, so finite
  for any finite logits; differentiable.
- :func:`soft_argmax_windowed`: the same, restricted to a window around the arg-max.
- :func:`dark`: DARK (Zhang et al. 2020): Gaussian blur, log, one Newton step from the arg-max.
- :func:`two_peak_score`: second-highest separated peak / highest peak, in [0, 1].
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from demos.common.plotstyle import PALETTE


@dataclass(frozen=True)
class Decoder:
    """One decoder, declared once: the UI's checkbox and legend, the plots' colour and marker, the cards'
    and README's table rows all read this record. ``in_lab``: offered on the keypoints tab and evaluated."""

    name: str
    label: str
    colour: str
    marker: str
    fn: Callable
    in_lab: bool = True
    roles: tuple[str, ...] = ()  # other panels that draw it: "occlusion_curve", "two_peaks" (decoders_for)

    def __call__(self, heatmaps: torch.Tensor, **options) -> torch.Tensor:
        wanted = inspect.signature(self.fn).parameters
        return self.fn(heatmaps, **{k: v for k, v in options.items() if k in wanted})


REGISTRY: dict[str, Decoder] = {}


def register(name: str, label: str, colour: str, marker: str, in_lab: bool = True, roles: tuple[str, ...] = ()):
    """Add a decoder to the lab: one record, and it appears in the UI, the evaluation and the README table.
    ``roles``: the other panels that draw it (:func:`decoders_for`). A name already registered is refused."""
    def deco(fn):
        if name in REGISTRY:
            raise ValueError(f"a decoder named {name!r} is already registered ({REGISTRY[name].fn.__name__})")
        REGISTRY[name] = Decoder(name, label, colour, marker, fn, in_lab, tuple(roles))
        return fn
    return deco


def decoders_for(role: str) -> tuple[str, ...]:
    """The names of the decoders a panel draws (``register(..., roles=...)``), in registry order."""
    return tuple(n for n, d in REGISTRY.items() if role in d.roles)


def _check(heatmaps: torch.Tensor) -> torch.Tensor:
    if heatmaps.dim() != 4:
        raise ValueError(f"heatmaps must be (B, K, H, W), got shape {tuple(heatmaps.shape)}")
    if not heatmaps.is_floating_point():
        heatmaps = heatmaps.float()
    return heatmaps


def _cell_centres(n: int, like: torch.Tensor) -> torch.Tensor:
    return torch.arange(n, device=like.device, dtype=like.dtype) + 0.5


def argmax_cells(heatmaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer (ix, iy) of the best cell, each (B, K). NaN counts as the maximum (torch's convention)."""
    h = _check(heatmaps)
    W = h.shape[-1]
    idx = h.flatten(2).argmax(-1)
    return idx % W, torch.div(idx, W, rounding_mode="floor")


@register("argmax", "arg-max", PALETTE[3], "square", roles=("occlusion_curve", "two_peaks"))
def argmax(heatmaps: torch.Tensor) -> torch.Tensor:
    """Centre of the highest cell: (ix + 0.5, iy + 0.5)."""
    h = _check(heatmaps)
    ix, iy = argmax_cells(h)
    return torch.stack([ix, iy], -1).to(h.dtype) + 0.5


@register("argmax_quarter", "arg-max + ¼ offset", PALETTE[1], "diamond")
def argmax_quarter(heatmaps: torch.Tensor) -> torch.Tensor:
    """Arg-max shifted 0.25 px towards the larger neighbour on each axis (no shift at a border or a tie)."""
    h = _check(heatmaps)
    B, K, H, W = h.shape
    ix, iy = argmax_cells(h)
    flat = h.flatten(2)

    def at(x, y):
        xc, yc = x.clamp(0, W - 1), y.clamp(0, H - 1)
        return flat.gather(-1, (yc * W + xc).unsqueeze(-1)).squeeze(-1)

    dx = torch.where((ix > 0) & (ix < W - 1), torch.sign(at(ix + 1, iy) - at(ix - 1, iy)), torch.zeros_like(h[..., 0, 0]))
    dy = torch.where((iy > 0) & (iy < H - 1), torch.sign(at(ix, iy + 1) - at(ix, iy - 1)), torch.zeros_like(h[..., 0, 0]))
    out = torch.stack([ix, iy], -1).to(h.dtype) + 0.5
    return out + 0.25 * torch.stack([dx, dy], -1).nan_to_num(0.0)


def softmax2d(heatmaps: torch.Tensor, beta: float | torch.Tensor = 1.0) -> torch.Tensor:
    """Soft-max over all H*W cells of ``beta * heatmaps`` with the max subtracted first (exp-normalize).

    Equal to the naive ``exp(z) / sum(exp(z))`` wherever that is finite, and finite wherever the logits are.
    """
    h = _check(heatmaps)
    B, K, H, W = h.shape
    z = (beta * h).flatten(2)
    z = z - z.amax(-1, keepdim=True)
    e = torch.exp(z)
    return (e / e.sum(-1, keepdim=True)).view(B, K, H, W)


def softmax2d_naive(heatmaps: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """The textbook soft-max without max-subtraction: overflows to inf/NaN once logits pass ~88 in float32.

    Kept only to demonstrate why :func:`softmax2d` subtracts the max.
    """
    h = _check(heatmaps)
    B, K, H, W = h.shape
    e = torch.exp((beta * h).flatten(2))
    return (e / e.sum(-1, keepdim=True)).view(B, K, H, W)


def expectation(prob: torch.Tensor) -> torch.Tensor:
    """Expected (x, y) of probability maps (B, K, H, W) in heatmap px (cell centres at i + 0.5)."""
    H, W = prob.shape[-2:]
    x = (prob.sum(-2) * _cell_centres(W, prob)).sum(-1)
    y = (prob.sum(-1) * _cell_centres(H, prob)).sum(-1)
    return torch.stack([x, y], -1)


@register("soft_argmax", "integral (soft-argmax)", PALETTE[0], "circle", roles=("occlusion_curve", "two_peaks"))
def soft_argmax(heatmaps: torch.Tensor, beta: float | torch.Tensor = 1.0) -> torch.Tensor:
    """Integral regression: expected position under softmax(beta * heatmap). Differentiable, sub-pixel."""
    return expectation(softmax2d(heatmaps, beta))


@register("soft_argmax_windowed", "windowed integral", PALETTE[2], "diamond-wide", in_lab=False,
          roles=("two_peaks",))
def soft_argmax_windowed(heatmaps: torch.Tensor, beta: float = 1.0, radius: int = 2) -> torch.Tensor:
    """Soft-argmax over the (2r+1)^2 window around the arg-max cell only (a remedy for two peaks)."""
    h = _check(heatmaps)
    H, W = h.shape[-2:]
    ix, iy = argmax_cells(h)
    xs = torch.arange(W, device=h.device)
    ys = torch.arange(H, device=h.device)
    mx = (xs.view(1, 1, W) - ix.unsqueeze(-1)).abs() <= radius  # (B, K, W)
    my = (ys.view(1, 1, H) - iy.unsqueeze(-1)).abs() <= radius
    mask = my.unsqueeze(-1) & mx.unsqueeze(-2)
    z = torch.where(mask, beta * h, torch.full_like(h, -math.inf))
    return soft_argmax(z, 1.0)


def _gaussian_kernel(sigma: float, device, dtype, kernel_size: int | None = None) -> torch.Tensor:
    r = max(1, int(math.ceil(3 * sigma))) if kernel_size is None else (kernel_size - 1) // 2
    t = torch.arange(-r, r + 1, device=device, dtype=dtype)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    return k / k.sum()


def cv2_sigma(kernel_size: int) -> float:
    """The std OpenCV's GaussianBlur uses for a kernel of this size when given none (sigma 0), as mmpose's DARK
    calls it: 0.3 * ((ksize - 1) / 2 - 1) + 0.8; 2.0 for mmpose's default kernel of 11."""
    return 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8


def gaussian_blur(heatmaps: torch.Tensor, sigma: float, padding: str = "replicate",
                  kernel_size: int | None = None) -> torch.Tensor:
    """Separable Gaussian blur per map. ``padding``: "replicate" (the border cells repeated) or "zeros" (as
    mmpose's DARK pads a heatmap before OpenCV's blur); ``kernel_size``: taps (odd), default 2 * ceil(3 sigma) + 1."""
    h = _check(heatmaps)
    if sigma <= 0:
        return h
    B, K, H, W = h.shape
    k = _gaussian_kernel(sigma, h.device, h.dtype, kernel_size)
    r = (k.numel() - 1) // 2
    x = h.reshape(B * K, 1, H, W)
    mode, fill = ("constant", 0.0) if padding == "zeros" else ("replicate", None)
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode=mode, value=fill), k.view(1, 1, 1, -1))
    x = F.conv2d(F.pad(x, (0, 0, r, r), mode=mode, value=fill), k.view(1, 1, -1, 1))
    return x.view(B, K, H, W)


@register("dark", "DARK", PALETTE[4], "cross", roles=("occlusion_curve", "two_peaks"))
def dark(heatmaps: torch.Tensor, sigma: float = 1.0, eps: float = 1e-10, log_domain: bool | None = None,
         kernel_size: int | None = None) -> torch.Tensor:
    """DARK: distribution-aware decoding (Zhang et al. 2020), as in mmpose's ``refine_keypoints_dark``.

    Start from the arg-max cell of the map as given; blur a copy with a Gaussian of std ``sigma`` (the
    modulation, rescaled to the original maximum; the map shifted to a minimum of 0 and padded with zeros, as
    mmpose pads it before OpenCV's blur; ``kernel_size=11`` with ``sigma=cv2_sigma(11)`` = 2 is mmpose's
    default blur exactly), take its log and take one Newton step
    ``mu = m - H^{-1} g`` with the gradient ``g`` and Hessian ``H`` by central differences. For a Gaussian
    peak the log is a quadratic, so the step is exact up to discretisation.

    Two guards. Logit maps (an integral model's, ``log_domain=True``; when not told, any map whose maximum is
    <= 0) are log-domain: the log-probability is the map itself, so the step uses the blurred map without a log; rescaling such a map
    after the blur would flip it and the step would go to the arg-min. Other maps are shifted to a minimum
    of 0 before the log. And, as in mmpose, a peak less than two cells from the border keeps the arg-max (the
    blur's padding skews the log-map there). Steps are limited to one cell; non-concave spots keep the arg-max.
    """
    h = _check(heatmaps)
    B, K, H, W = h.shape
    ix, iy = argmax_cells(h)
    if log_domain is None:  # not told: a map whose maximum is <= 0 cannot be a heatmap of Gaussians
        logits = (h.flatten(2).amax(-1) <= 0).view(B, K, 1, 1)
    else:
        logits = torch.full((B, K, 1, 1), bool(log_domain), device=h.device)
    pos = h - h.flatten(2).amin(-1).view(B, K, 1, 1)
    amax0 = pos.flatten(2).amax(-1).view(B, K, 1, 1)
    hb = gaussian_blur(pos, sigma, padding="zeros", kernel_size=kernel_size) if sigma > 0 else pos
    amax1 = hb.flatten(2).amax(-1).view(B, K, 1, 1)
    hb = hb * (amax0 / amax1.clamp_min(eps)).nan_to_num(1.0)
    L = torch.where(logits, gaussian_blur(h, sigma, kernel_size=kernel_size) if sigma > 0 else h,
                    torch.log(hb.clamp_min(eps)))
    flat = L.flatten(2)

    def at(dx, dy):
        x = (ix + dx).clamp(0, W - 1)
        y = (iy + dy).clamp(0, H - 1)
        return flat.gather(-1, (y * W + x).unsqueeze(-1)).squeeze(-1)

    c = at(0, 0)
    gx = 0.5 * (at(1, 0) - at(-1, 0))
    gy = 0.5 * (at(0, 1) - at(0, -1))
    hxx = at(1, 0) - 2 * c + at(-1, 0)
    hyy = at(0, 1) - 2 * c + at(0, -1)
    hxy = 0.25 * (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1))
    det = hxx * hyy - hxy**2
    inside = (ix > 1) & (ix < W - 2) & (iy > 1) & (iy < H - 2)
    ok = (det > 1e-12) & (hxx < 0) & inside & (amax0.view(B, K) > 0)
    safe = torch.where(ok, det, torch.ones_like(det))
    ox = -(hyy * gx - hxy * gy) / safe
    oy = -(-hxy * gx + hxx * gy) / safe
    off = torch.stack([ox, oy], -1)
    off = torch.where(ok.unsqueeze(-1), off.clamp(-1.0, 1.0), torch.zeros_like(off)).nan_to_num(0.0)
    return torch.stack([ix, iy], -1).to(h.dtype) + 0.5 + off


def two_peak_score(heatmaps: torch.Tensor, min_distance: int = 2, beta: float | None = None) -> torch.Tensor:
    """How two-peaked each map is: height of the best *separated* local maximum / height of the highest.

    Peaks are local maxima of a 3x3 window; the second must lie more than ``min_distance`` cells (Chebyshev)
    from the first. Heights are taken above the map's minimum (so the score does not depend on an offset),
    or on the soft-max probabilities when ``beta`` is given. 0 means one peak, 1 two equal peaks. (B, K).
    """
    h = _check(heatmaps)
    if beta is not None:
        h = softmax2d(h, beta)
    B, K, H, W = h.shape
    h = h - h.flatten(2).amin(-1).view(B, K, 1, 1)
    h = h.nan_to_num(0.0)
    pooled = F.max_pool2d(h.reshape(B * K, 1, H, W), 3, stride=1, padding=1).view(B, K, H, W)
    peaks = torch.where(h >= pooled, h, torch.zeros_like(h))
    ix, iy = argmax_cells(h)
    top = h.flatten(2).amax(-1)
    xs = torch.arange(W, device=h.device).view(1, 1, 1, W)
    ys = torch.arange(H, device=h.device).view(1, 1, H, 1)
    near = ((xs - ix.view(B, K, 1, 1)).abs() <= min_distance) & ((ys - iy.view(B, K, 1, 1)).abs() <= min_distance)
    second = torch.where(near, torch.zeros_like(peaks), peaks).flatten(2).amax(-1)
    return torch.where(top > 0, second / top.clamp_min(1e-12), torch.zeros_like(top))


def entropy(heatmaps: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Shannon entropy (nats) of softmax(beta * heatmap) per map, (B, K). log(H*W) for a flat map."""
    p = softmax2d(heatmaps, beta).flatten(2)
    return -(p * torch.log(p.clamp_min(1e-30))).sum(-1)


def to_input_pixels(coords: torch.Tensor, heatmap_size: tuple[int, int], input_size: tuple[int, int]) -> torch.Tensor:
    """Map (..., 2) heatmap-pixel coordinates to input-image pixels.

    Both grids span the same image, cell i = [i, i+1): x_in = x_hm * W_in / W_hm (and y likewise).
    ``heatmap_size`` and ``input_size`` are (H, W).
    """
    sy = input_size[0] / heatmap_size[0]
    sx = input_size[1] / heatmap_size[1]
    scale = torch.tensor([sx, sy], dtype=coords.dtype, device=coords.device)
    return coords * scale


def decode(heatmaps: torch.Tensor, method: str, beta: float = 1.0, sigma: float = 1.0, radius: int = 2,
           log_domain: bool | None = None) -> torch.Tensor:
    """Decode with the registered decoder ``method``; each takes the options it knows (beta, sigma, radius,
    log_domain: True when the maps are logits, as an integral model's)."""
    if method not in REGISTRY:
        raise ValueError(f"unknown decoder {method!r}; choose one of {tuple(REGISTRY)}")
    return REGISTRY[method](heatmaps, beta=beta, sigma=sigma, radius=radius, log_domain=log_domain)


@register("debias_ipr", "Debias-IPR", PALETTE[5], "triangle-up", roles=("two_peaks",))
def debias_ipr(heatmaps: torch.Tensor, beta: float | torch.Tensor = 1.0, log_domain: bool | None = None,
               eps: float = 1e-6) -> torch.Tensor:
    """Soft-argmax with its pull toward the map's centre removed (Gu, Yang and Yao, *Removing the Bias of
    Integral Pose Regression*, ICCV 2021).

    Derivation, under the paper's assumption that the map is 0 away from the joint. With logits z = beta * h over
    the C = H * W cells, Z = sum exp(z) (the soft-max's denominator) and the soft-argmax J = sum p exp(z) / Z,
    split every cell's exp(z) into 1 + (exp(z) - 1): the ones are a uniform map whose expectation is the map's
    centre c = (W/2, H/2), so

        J = (C / Z) * c + ((Z - C) / Z) * J_fg,     J_fg = sum p (exp(z) - 1) / sum (exp(z) - 1),

    a mixture of the centre (weight C / Z, known from the denominator) and the joint's own expectation J_fg,
    in which a cell with h = 0 has weight 0. Solving for J_fg gives the closed form

        J_d = Z / (Z - C) * J - C / (Z - C) * c

    (the paper's compensation, with its hw = C and its [w/2, h/2] = c). It is computed here as the weighted mean
    with weights exp(z - m) - exp(-m), m = max z (the same ratio, finite for any logits). Where the foreground
    weight sum (exp(z) - 1) is not positive (a flat or all-negative map: no foreground to recover) it returns the
    plain soft-argmax. ``log_domain`` maps (an integral model's logits) have no zero background: their per-map
    median is taken as the background level first (the soft-max does not change under a shift), an extension
    of the paper's assumption, not the paper. mmpose's ``IntegralRegressionHead(debias=True)`` applies the same
    correction in coordinates normalised to [0, 1].
    """
    h = _check(heatmaps)
    B, K, H, W = h.shape
    z = (beta * h).flatten(2)
    if log_domain:
        z = z - z.median(-1, keepdim=True).values
    m = z.amax(-1, keepdim=True)
    e = torch.exp(z - m)
    w = e - torch.exp(-m)  # (exp(z) - 1) * exp(-m): the foreground's share of each cell
    total = w.sum(-1)
    ok = total > eps * e.sum(-1)
    wn = (w / torch.where(ok, total, torch.ones_like(total)).unsqueeze(-1)).view(B, K, H, W)
    fg = expectation(wn)
    plain = expectation((e / e.sum(-1, keepdim=True)).view(B, K, H, W))
    return torch.where(ok.unsqueeze(-1), fg, plain)


# Derived views of the registry (read-only; add a decoder with @register, nowhere else).
DECODERS = tuple(n for n, d in REGISTRY.items() if d.in_lab)
DECODER_LABELS = {n: d.label for n, d in REGISTRY.items()}
