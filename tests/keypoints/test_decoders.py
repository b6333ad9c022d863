"""Decoders against the numbers of docs/facts.md 1.1, on clean Gaussians at random sub-pixel positions."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from demos.keypoints import decoders as D


def gaussian_maps(mu: torch.Tensor, size: int, sigma: float, height: float = 1.0) -> torch.Tensor:
    """(N, 1, H, W) Gaussians at float centres mu (N, 2), cell centres at i + 0.5."""
    c = torch.arange(size, dtype=torch.float64) + 0.5
    gx = torch.exp(-((c[None] - mu[:, 0:1]) ** 2) / (2 * sigma**2))
    gy = torch.exp(-((c[None] - mu[:, 1:2]) ** 2) / (2 * sigma**2))
    return (height * gy[:, :, None] * gx[:, None, :])[:, None]


@pytest.fixture(scope="module")
def random_peaks():
    g = torch.Generator().manual_seed(0)
    mu = torch.rand(4000, 2, generator=g, dtype=torch.float64) * 16 + 8  # well inside a 32x32 map
    return mu, gaussian_maps(mu, 32, 1.5)


def err(pred, mu):
    return (pred[:, 0] - mu).norm(dim=-1)


def test_argmax_error_matches_uniform_quantisation(random_peaks):
    mu, h = random_peaks
    e = err(D.argmax(h), mu)
    # the mean distance from a uniform point in a unit cell to its centre is 0.3826
    assert e.mean().item() == pytest.approx(0.3826, abs=0.015)
    assert e.max().item() <= math.sqrt(0.5) + 1e-9
    assert e.max().item() > 0.65


def test_argmax_quarter_halves_the_error(random_peaks):
    mu, h = random_peaks
    e = err(D.argmax_quarter(h), mu)
    assert e.mean().item() == pytest.approx(0.2, abs=0.02)


def test_dark_is_essentially_exact_on_gaussians(random_peaks):
    mu, h = random_peaks
    assert err(D.dark(h, sigma=1.0), mu).mean().item() < 0.05


def test_soft_argmax_on_log_gaussian_logits_is_exact(random_peaks):
    mu, h = random_peaks
    logits = torch.log(h.clamp_min(1e-300))  # softmax of these is a discrete Gaussian
    assert err(D.soft_argmax(logits), mu).mean().item() < 0.05


@pytest.mark.parametrize("height,lo,hi", [(1.0, 15, 30), (10.0, 0.5, 3.0), (20.0, 0.0, 0.1)])
def test_soft_argmax_centre_bias_on_raw_gaussians(height, lo, hi):
    """docs/facts.md 1.1: on a 64x64 map, peak height 1 lands ~21 px off, height 10 ~1.3 px, height 20 < 0.1 px."""
    mu = torch.tensor([[16.0, 16.0]], dtype=torch.float64)
    e = err(D.soft_argmax(gaussian_maps(mu, 64, 2.0, height)), mu).item()
    assert lo <= e <= hi


def test_centre_pull_shrinks_as_height_grows():
    # at a cell centre, so what remains is the pull alone (a very sharp soft-max tends to arg-max, whose
    # quantisation error would otherwise reappear off-centre)
    mu = torch.tensor([[10.5, 50.5]], dtype=torch.float64)
    errs = [err(D.soft_argmax(gaussian_maps(mu, 64, 2.0, a)), mu).item() for a in (1, 3, 10, 20, 40)]
    assert all(a > b or b < 1e-4 for a, b in zip(errs, errs[1:]))
    assert errs[0] > 10 and errs[-1] < 1e-3
    # and the pull is toward the centre (32, 32)
    p = D.soft_argmax(gaussian_maps(mu, 64, 2.0, 1.0))[0, 0]
    assert p[0] > mu[0, 0] and p[1] < mu[0, 1]


@given(x=st.floats(6.0, 26.0), y=st.floats(6.0, 26.0))  # 4 sigma from the border
@settings(max_examples=60, deadline=None)
def test_decoders_agree_with_the_peak(x, y):
    mu = torch.tensor([[x, y]], dtype=torch.float64)
    h = gaussian_maps(mu, 32, 1.5)
    assert err(D.argmax(h), mu).item() <= math.sqrt(0.5) + 1e-9
    assert err(D.argmax_quarter(h), mu).item() <= 0.6
    assert err(D.dark(h), mu).item() < 0.05
    assert err(D.soft_argmax(torch.log(h.clamp_min(1e-300))), mu).item() < 0.05


def test_soft_argmax_is_finite_for_huge_logits():
    for v in (1e4, -1e4):
        h = torch.full((1, 2, 8, 8), v)
        h[0, 0, 2, 5] = v + 1.0  # one cell a little higher
        out = D.soft_argmax(h)
        assert torch.isfinite(out).all()
        assert out[0, 1].tolist() == pytest.approx([4.0, 4.0])  # a flat map gives the centre
    h = torch.zeros(1, 1, 8, 8)
    h[0, 0, 2, 5] = 1e4
    assert D.soft_argmax(h)[0, 0].tolist() == pytest.approx([5.5, 2.5])


def test_naive_softmax_overflows_where_stable_does_not():
    h = torch.zeros(1, 1, 4, 4)
    h[0, 0, 1, 1] = 89.0  # exp(89) = inf in float32
    assert torch.isnan(D.softmax2d_naive(h)).any()
    p = D.softmax2d(h)
    assert torch.isfinite(p).all() and p.sum().item() == pytest.approx(1.0)
    h2 = h.clone()
    h2[0, 0, 1, 1] = 80.0  # below the overflow both agree
    assert torch.allclose(D.softmax2d_naive(h2), D.softmax2d(h2), atol=1e-7)


def test_gradients_flow_through_soft_argmax():
    h = torch.randn(2, 3, 16, 16, requires_grad=True)
    D.soft_argmax(h, beta=2.0).sum().backward()
    assert h.grad is not None and torch.isfinite(h.grad).all() and h.grad.abs().sum() > 0


def test_batched_shapes_and_dtype():
    h = torch.rand(3, 5, 12, 20)
    for name in D.DECODERS + ("soft_argmax_windowed",):
        out = D.decode(h, name)
        assert out.shape == (3, 5, 2) and out.dtype == torch.float32
    assert D.argmax(h)[..., 0].max() < 20 and D.argmax(h)[..., 1].max() < 12
    t = h.transpose(0, 1)  # non-contiguous input works too
    for name in D.DECODERS:
        assert D.decode(t, name).shape == (5, 3, 2)
    assert D.two_peak_score(t).shape == (5, 3)


def test_to_input_pixels_uses_the_cell_convention():
    c = torch.tensor([[[0.5, 0.5], [31.5, 15.5]]])
    out = D.to_input_pixels(c, (16, 32), (64, 128))
    assert out.tolist() == [[[2.0, 2.0], [126.0, 62.0]]]


def test_windowed_soft_argmax_ignores_the_far_peak():
    mu = torch.tensor([[8.0, 16.0], [24.0, 16.0]], dtype=torch.float64)
    h = gaussian_maps(mu[:1], 32, 1.5) + 0.9 * gaussian_maps(mu[1:], 32, 1.5)
    logits = torch.log(h.clamp_min(1e-12))
    full = D.soft_argmax(logits * 1.0, beta=1.0)[0, 0]
    win = D.soft_argmax_windowed(logits, beta=1.0, radius=3)[0, 0]
    assert abs(win[0].item() - 8.0) < 0.1  # stays on the higher peak
    assert 9.0 < full[0].item() < 23.0  # the plain integral lands between the peaks


def test_two_peak_score():
    one = gaussian_maps(torch.tensor([[16.0, 16.0]]), 32, 1.5)
    two = one + 0.6 * gaussian_maps(torch.tensor([[6.0, 6.0]]), 32, 1.5)
    s1, s2 = D.two_peak_score(one).item(), D.two_peak_score(two).item()
    assert s1 < 0.05
    assert s2 == pytest.approx(0.6, abs=0.05)
    eq = gaussian_maps(torch.tensor([[8.0, 16.0]]), 32, 1.5) + gaussian_maps(torch.tensor([[24.0, 16.0]]), 32, 1.5)
    assert D.two_peak_score(eq).item() == pytest.approx(1.0, abs=0.01)


def test_entropy_of_flat_map_is_log_cells():
    assert D.entropy(torch.zeros(1, 1, 8, 4))[0, 0].item() == pytest.approx(math.log(32), rel=1e-5)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r"\(B, K, H, W\)"):
        D.argmax(torch.zeros(4, 4))
    with pytest.raises(ValueError, match="unknown decoder"):
        D.decode(torch.zeros(1, 1, 4, 4), "median")


def test_dark_on_logit_maps_finds_the_peak_not_the_trough():
    """An integral model's logits are often <= 0 everywhere. Rescaling such a map after the blur used to flip it
    and DARK returned the arg-min; it must land on the peak, as close as arg-max or closer."""
    g = torch.Generator().manual_seed(1)
    mu = torch.rand(500, 2, generator=g, dtype=torch.float64) * 16 + 8
    logits = torch.log(gaussian_maps(mu, 32, 1.5).clamp_min(1e-6)) - 5.0  # max about -5, log-Gaussian shape
    assert logits.amax().item() < 0
    for log_domain in (None, True):
        e = err(D.dark(logits, sigma=1.0, log_domain=log_domain), mu)
        assert e.max().item() < 1.0
        assert e.mean().item() <= err(D.argmax(logits), mu).mean().item()


def test_dark_is_no_worse_than_argmax_near_the_edge():
    """Within two cells of the border the blur's padding skews the log-map; DARK keeps the arg-max there (as
    mmpose does) instead of stepping the wrong way."""
    g = torch.Generator().manual_seed(2)
    n = 1000
    mu = torch.rand(n, 2, generator=g, dtype=torch.float64) * 2.0  # within 2 px of the top-left corner
    mu[n // 2:] = 32 - mu[n // 2:]  # and of the bottom-right corner
    h = gaussian_maps(mu, 32, 1.5)
    assert (err(D.dark(h), mu) <= err(D.argmax(h), mu) + 1e-9).all()


def test_every_registered_decoder_decodes_and_has_its_record():
    h = gaussian_maps(torch.tensor([[10.3, 12.7]], dtype=torch.float64), 32, 1.5)
    for name, rec in D.REGISTRY.items():
        assert rec.label and rec.colour.startswith("#") and rec.marker
        xy = D.decode(h, name, beta=20.0)[0, 0]
        assert (xy - torch.tensor([10.3, 12.7], dtype=torch.float64)).norm() < 0.75, name


def _mmpose_dark(hm, kernel_size: int = 11):
    """mmpose's ``refine_keypoints_dark`` on one map (numpy), started from the map's arg-max cell: the map padded
    with zeros by (ks - 1) / 2 cells, OpenCV's GaussianBlur with sigma 0 (kernel = getGaussianKernel(ks, 0)),
    rescaled to the map's maximum, clipped at 1e-10, log, one Newton step with its two-cell second differences.
    Cell centres at i + 0.5, as in this lab."""
    import numpy as np

    H, W = hm.shape
    b = (kernel_size - 1) // 2
    s = 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8  # OpenCV's sigma for sigma=0
    t = np.arange(kernel_size) - b
    k = np.exp(-t**2 / (2 * s * s))
    k /= k.sum()
    dr = np.pad(hm, b)
    dr = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, dr)
    dr = np.apply_along_axis(lambda c: np.convolve(c, k, mode="same"), 0, dr)
    g = dr[b:-b, b:-b] * hm.max() / dr[b:-b, b:-b].max()
    g = np.log(np.maximum(g, 1e-10))
    y, x = divmod(int(hm.argmax()), W)
    out = np.array([x + 0.5, y + 0.5])
    if 1 < x < W - 2 and 1 < y < H - 2:
        dx, dy = 0.5 * (g[y, x + 1] - g[y, x - 1]), 0.5 * (g[y + 1, x] - g[y - 1, x])
        dxx = 0.25 * (g[y, x + 2] - 2 * g[y, x] + g[y, x - 2])
        dyy = 0.25 * (g[y + 2, x] - 2 * g[y, x] + g[y - 2, x])
        dxy = 0.25 * (g[y + 1, x + 1] - g[y - 1, x + 1] - g[y + 1, x - 1] + g[y - 1, x - 1])
        if dxx * dyy - dxy**2 != 0:
            out = out - np.linalg.solve(np.array([[dxx, dxy], [dxy, dyy]]), np.array([dx, dy]))
    return out


@pytest.mark.parametrize("size,sigma", [(32, 2.0), (16, 1.0)])
def test_dark_blur_matches_mmpose_on_clean_maps(size, sigma):
    """docs/facts.md 1.1: with mmpose's blur (zeros around the map, kernel 11, OpenCV's sigma 2.0) DARK is as
    accurate as mmpose's on clean maps with peaks anywhere, border cells included; padding by repeating the
    border cells (this lab's blur before) cost 0.03-0.05 px here."""
    import numpy as np

    g = torch.Generator().manual_seed(1)
    mu = torch.rand(300, 2, generator=g, dtype=torch.float64) * size
    h = gaussian_maps(mu, size, sigma)
    mm = torch.from_numpy(np.stack([_mmpose_dark(m[0].numpy()) for m in h]))[:, None]
    ours = D.dark(h, sigma=D.cv2_sigma(11), kernel_size=11)
    assert D.cv2_sigma(11) == pytest.approx(2.0)
    assert (ours - mm).norm(dim=-1).max().item() < 0.01  # per point (the Hessian's step differs)
    assert err(ours, mu).mean().item() == pytest.approx(err(mm, mu).mean().item(), abs=0.001)
    assert err(D.dark(h, sigma=2.0), mu).mean().item() == pytest.approx(err(mm, mu).mean().item(), abs=0.001)
    replicate = D.gaussian_blur(h - h.amin((-1, -2), keepdim=True), 2.0, padding="replicate")
    assert not torch.allclose(replicate, D.gaussian_blur(h, 2.0, padding="zeros"))  # the padding is what differs


def test_blur_padding_and_kernel_size():
    h = torch.zeros(1, 1, 9, 9, dtype=torch.float64)
    h[0, 0, 0, 0] = 1.0  # a corner spike: zero padding loses mass over the edge, replicate padding gains it
    assert D.gaussian_blur(h, 1.0, padding="zeros").sum() < 1.0 < D.gaussian_blur(h, 1.0, padding="replicate").sum()
    k = D._gaussian_kernel(2.0, "cpu", torch.float64, kernel_size=11)
    assert k.numel() == 11 and k.sum().item() == pytest.approx(1.0)
