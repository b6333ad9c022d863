"""Soft-argmax's pull toward the map's centre, and Debias-IPR's closed-form correction (Gu, Yang and Yao,
ICCV 2021), on the same maps: synthetic Gaussians of chosen height, and a bundled model's held-out heatmaps.

Plain torch/numpy/plotly, no Gradio. Maps use the lab's convention: cell i covers [i, i + 1).
"""

from __future__ import annotations

import functools

import numpy as np
import torch

import demos.keypoints as kp
from demos.common.plotstyle import PALETTE, figure, log_ticks, subplot_grid

SIZE = 64
SIGMA = 2.0
PAPER_HEIGHTS = (1.0, 10.0, 20.0)  # docs/facts.md 1.1: about 21 px, 1.3 px and under 0.1 px off at beta = 1
SWEEP_HEIGHTS = tuple(float(h) for h in np.geomspace(0.1, 40, 33))
PAIR = ("soft_argmax", "debias_ipr")


def gaussian_map(x: float, y: float, height: float, size: int = SIZE, sigma: float = SIGMA) -> torch.Tensor:
    """(1, 1, size, size) float64: a Gaussian of std ``sigma`` cells and peak ``height`` at (x, y), 0 elsewhere
    up to float precision (the background the paper assumes)."""
    c = torch.arange(size, dtype=torch.float64) + 0.5
    g = torch.exp(-((c[:, None] - y) ** 2 + (c[None, :] - x) ** 2) / (2 * sigma**2))
    return (height * g)[None, None]


def errors(x: float, y: float, heights, beta: float) -> dict[str, np.ndarray]:
    """Distance (cells) from the true peak to each decoder's estimate, one per height."""
    maps = torch.cat([gaussian_map(x, y, h) for h in heights])
    truth = torch.tensor([x, y], dtype=torch.float64)
    return {d: (kp.decode(maps, d, beta=beta)[:, 0] - truth).norm(dim=-1).numpy() for d in PAIR}


def estimates(x: float, y: float, height: float, beta: float) -> dict[str, np.ndarray]:
    m = gaussian_map(x, y, height)
    return {d: kp.decode(m, d, beta=beta)[0, 0].numpy() for d in PAIR}


def paper_table(beta: float = 1.0, at=(16.0, 16.0)) -> list[dict]:
    """Rows {height, soft_argmax, debias_ipr} (cells off the peak) for the heights of docs/facts.md 1.1."""
    e = errors(at[0], at[1], PAPER_HEIGHTS, beta)
    return [{"height": h, **{d: float(e[d][i]) for d in PAIR}} for i, h in enumerate(PAPER_HEIGHTS)]


def _px(v: float) -> str:
    return f"{v:.3f} px" if v >= 0.001 else "under 0.001 px"


def sentence(x: float, y: float, height: float, beta: float, est: dict) -> str:
    """What the map shows, each clause checked against the numbers it states."""
    truth = np.array([x, y])
    centre = np.array([SIZE / 2, SIZE / 2])
    e_soft = float(np.linalg.norm(est["soft_argmax"] - truth))
    e_deb = float(np.linalg.norm(est["debias_ipr"] - truth))
    parts = [f"Peak of height {height:g} at ({x:g}, {y:g}), β = {beta:g}: soft-argmax lands **{e_soft:.2f} px** from "
             f"the peak, Debias-IPR **{_px(e_deb)}**."]
    d_truth = float(np.linalg.norm(truth - centre))
    d_soft = float(np.linalg.norm(est["soft_argmax"] - centre))
    if e_soft > 0.01 and d_soft < d_truth:
        parts.append(f"Soft-argmax sits {d_truth - d_soft:.2f} px nearer the map's centre (32, 32) than the peak does: "
                     "the background cells' weight exp(0)/Σ pulls it there.")
    elif e_soft <= 0.01:
        parts.append("At this height and β the background's weight is too small to move soft-argmax by 0.01 px.")
    if e_soft > 0.01 and e_deb < 0.1 * e_soft:
        parts.append(f"The correction removes {100 * (1 - e_deb / e_soft):.1f} % of that error on this map.")
    elif e_soft > 0.01 and e_deb > e_soft:
        parts.append("Here the correction makes the estimate worse.")
    return " ".join(parts)


def figure_map(x: float, y: float, height: float, beta: float, est: dict):
    """The probability map softmax(β·h) with the truth, the centre and both estimates marked."""
    m = gaussian_map(x, y, height)
    prob = kp.softmax2d(m, beta)[0, 0].numpy()
    c = np.arange(SIZE) + 0.5
    reg = kp.DECODER_REGISTRY
    data = [{"type": "heatmap", "z": prob, "x": c, "y": c, "colorscale": "Viridis", "showscale": False,
             "hovertemplate": "(%{x}, %{y}): p = %{z:.2e}<extra></extra>"},
            {"type": "scatter", "x": [x], "y": [y], "mode": "markers", "name": "peak",
             "marker": {"symbol": "x-thin", "size": 18, "line": {"width": 3, "color": "white"}}},
            {"type": "scatter", "x": [SIZE / 2], "y": [SIZE / 2], "mode": "markers", "name": "centre",
             "marker": {"symbol": "circle-open", "size": 14, "color": "#bbbbbb", "line": {"width": 2}}}]
    for d in PAIR:
        data.append({"type": "scatter", "x": [float(est[d][0])], "y": [float(est[d][1])], "mode": "markers",
                     "name": reg[d].label, "marker": {"symbol": reg[d].marker, "size": 15, "color": reg[d].colour,
                                                       "line": {"color": "white", "width": 2}}})
    layout = {"xaxis": {"range": [0, SIZE], "constrain": "domain", "showgrid": False},
              "yaxis": {"range": [SIZE, 0], "scaleanchor": "x", "constrain": "domain", "showgrid": False},
              "showlegend": False,  # the estimates' colours and markers are the sweep's legend beside it
              "margin": {"l": 40, "r": 10, "t": 75, "b": 30}}
    return figure(data, layout, f"softmax(β·map), β = {beta:g}: × peak, ○ centre", height=470)


def figure_sweep(x: float, y: float, height: float, beta: float):
    """Error against peak height (log-log) for both decoders at this β and position."""
    e = errors(x, y, SWEEP_HEIGHTS, beta)
    reg = kp.DECODER_REGISTRY
    floor = 1e-4  # plotted floor (the title says so): errors below it (float round-off) are drawn at it
    data = [{"type": "scatter", "x": list(SWEEP_HEIGHTS), "y": np.maximum(e[d], floor).tolist(), "name": reg[d].label,
             "line": {"color": reg[d].colour, "width": 3}, "marker": {"symbol": reg[d].marker}, "mode": "lines+markers"}
            for d in PAIR]
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": height, "x1": height, "y0": 0, "y1": 1,
               "line": {"color": "#444", "width": 1, "dash": "dot"}}]
    layout = {"xaxis": {"type": "log", "title": {"text": "peak height"}},
              # decades as powers of ten, like the title's floor (plotly's own labels wrote 10^-4 as "100μ")
              "yaxis": {"type": "log", "title": {"text": "distance to the peak (cells)"}}
              | log_ticks([v for t in data for v in t["y"]]),
              "shapes": shapes, "legend": {"orientation": "h", "y": -0.2, "yanchor": "top", "x": 0},
              "margin": {"l": 70, "r": 10, "t": 75, "b": 40}}
    return figure(data, layout, "Error vs peak height (floor 10⁻⁴)", height=470)


# -- on a bundled model's held-out heatmaps ------------------------------------------------------------------

MODEL_BETAS = (1.0, 5.0, 20.0)
N_MODEL_IMAGES = 64


def heatmap_models() -> tuple[str, ...]:
    return tuple(n for n, r in kp.MODELS.items() if r.head in ("heatmap", "integral"))


@functools.lru_cache(maxsize=4)
def _model_maps(name: str, n: int):
    model = kp.get_model(name)
    images, keypoints, visible = kp.dataset(kp.heldout_seeds(n), model.variant, model.input_size)
    _, hms = kp.predict_heatmaps(model, images)
    return model, hms, torch.from_numpy(keypoints), torch.from_numpy(visible)


def model_rows(name: str, betas=MODEL_BETAS, n: int = N_MODEL_IMAGES) -> list[dict]:
    """Rows {beta, decoder, mean_px, median_px, toward_centre}: both decoders on the same held-out maps.
    ``toward_centre``: the fraction of visible joints whose estimate is nearer the image centre than the truth."""
    model, hms, truth, vis = _model_maps(name, n)
    centre = torch.tensor([model.input_size / 2] * 2)
    rows = []
    for b in betas:
        for d in PAIR:
            pred = kp.decode_all(model, hms, d, beta=b)
            err = (pred - truth).norm(dim=-1)[vis]
            nearer = ((pred - centre).norm(dim=-1) < (truth - centre).norm(dim=-1))[vis]
            rows.append({"beta": b, "decoder": d, "mean_px": float(err.mean()), "median_px": float(err.median()),
                         "toward_centre": float(nearer.float().mean()), "n": int(err.numel())})
    return rows


def model_sentence(name: str, rows: list[dict]) -> str:
    """Per β: which decoder has the lower mean error on these maps, and by how much (both are deterministic
    on the same maps, so no spread: the statement is about these n joints)."""
    out = []
    for b in sorted({r["beta"] for r in rows}):
        s = next(r for r in rows if r["beta"] == b and r["decoder"] == "soft_argmax")
        d = next(r for r in rows if r["beta"] == b and r["decoder"] == "debias_ipr")
        if abs(s["mean_px"] - d["mean_px"]) < 0.01:
            verdict = "the same to 0.01 px"
        elif d["mean_px"] < s["mean_px"]:
            verdict = f"Debias-IPR {s['mean_px'] - d['mean_px']:.2f} px lower"
        else:
            verdict = f"soft-argmax {d['mean_px'] - s['mean_px']:.2f} px lower"
        out.append(f"β = {b:g}: mean error {s['mean_px']:.2f} px (soft-argmax) vs {d['mean_px']:.2f} px (Debias-IPR), "
                   f"{verdict}; soft-argmax lands nearer the image centre than the truth for "
                   f"{100 * s['toward_centre']:.0f} % of joints.")
    return f"**{name}**, {rows[0]['n']} visible joints of {N_MODEL_IMAGES} held-out images, the same maps for both:\n\n- " + "\n- ".join(out)


def model_table(rows: list[dict]) -> str:
    lines = ["| β | decoder | mean error (px) | median (px) | nearer the centre than the truth |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['beta']:g} | {kp.DECODER_LABELS[r['decoder']]} | {r['mean_px']:.2f} | {r['median_px']:.2f} "
                     f"| {100 * r['toward_centre']:.0f} % |")
    return "\n".join(lines)
