"""The two-peak tab's views: parameter records and the functions the tab wires (no Gradio here).

Each view takes checked values (see ``demos.common.params``) and returns a dict of named outputs.
"""

from __future__ import annotations

import functools

import numpy as np

from demos.common.errors import UserInputError
from demos.common.params import Param, takes

from . import compute, gallery, mining

D = compute.Peaks()
S = compute.SIZE
X1 = Param("x1", "x₁", 0, S, D.x1, 0.1, "heatmap px", "peak 1's centre")
Y1 = Param("y1", "y₁", 0, S, D.y1, 0.1, "heatmap px")
H1 = Param("h1", "height₁", 0, 2, D.h1, 0.01)
S1 = Param("s1", "width₁", 0, 10, D.s1, 0.1, "px", "standard deviation; 0 is a one-cell spike")
X2 = Param("x2", "x₂", 0, S, D.x2, 0.1, "heatmap px", "peak 2's centre")
Y2 = Param("y2", "y₂", 0, S, D.y2, 0.1, "heatmap px")
H2 = Param("h2", "height₂", 0, 2, D.h2, 0.01)
S2 = Param("s2", "width₂", 0, 10, D.s2, 0.1, "px", "standard deviation; 0 is a one-cell spike")
NOISE = Param("noise", "noise (std)", 0, 0.5, 0.0, 0.01)
BETA = Param("beta", "β: inverse temperature", 0.1, 200, 10.0, 0.1,
             help="probabilities = softmax(β · heatmap); T = 1/β. Small β pulls the integral to the map's centre.")
RADIUS = Param("radius", "window radius (cells) for the windowed integral", 0, 10, 3, 1, integer=True)
SCALE = Param("scale", "largest logit β·max(heatmap)", 1, 300, 95, 1)
R_BETA = Param("r_beta", "β for the integral", 1, 100, mining.BETA, 1)
R_RADIUS = Param("r_radius", "window radius (cells)", 0, 8, mining.RADIUS, 1, integer=True)
R_THRESHOLD = Param("r_threshold", "fallback: two-peak score above", 0, 1, mining.FALLBACK_SCORE, 0.01)
R_FACTOR = Param("r_factor", "'larger β' = factor × β", 1, 20, mining.LARGE_BETA_FACTOR, 0.5)


@takes(X1, Y1, H1, S1, X2, Y2, H2, S2, NOISE, BETA, RADIUS)
def two_peaks(x1, y1, h1, s1, x2, y2, h2, s2, noise, beta, radius) -> dict:
    p = compute.Peaks(x1, y1, h1, s1, x2, y2, h2, s2, noise)
    if p.h1 == 0 and p.h2 == 0 and p.noise == 0:
        raise UserInputError("Both peaks have height 0: the map is flat, every cell is equally likely and the "
                             "integral estimate is the map's centre. Give one peak some height.")
    m = compute.two_peak_map(p)
    est = compute.decode_all(m, beta, radius)
    hi = p.higher
    other = np.array([p.x2, p.y2]) if p.h1 >= p.h2 else np.array([p.x1, p.y1])
    rows = [f"| {compute.LABELS[meth]} | ({xy[0]:.2f}, {xy[1]:.2f}) | {np.linalg.norm(xy - hi):.2f} | "
            f"{np.linalg.norm(xy - other):.2f} |" for meth, xy in est.items()]
    tie = " (the peaks are equal: arg-max takes the first cell in scan order)" if p.h1 == p.h2 else ""
    pull = compute.centre_pull(beta)
    pull_text = (f"\n\n**Centre pull at β = {beta:g}** (one peak at (16, 16) on this 64×64 map): the integral lands "
                 + ", ".join(f"{d:.2f} px off for height {h:g}" for h, d in pull.items())
                 + ". Every background cell keeps weight exp(0)/Σ; small β (high temperature T = 1/β) lets them "
                 "pull the estimate toward the map's centre (at β = 1: about 21, 1.3 and under 0.1 px).")
    table = ("| decoder | estimate (x, y) | distance to the higher peak | to the other peak |\n|---|---|---|---|\n"
             + "\n".join(rows) + f"\n\nHigher peak: ({hi[0]:.1f}, {hi[1]:.1f}){tie}." + pull_text)
    return {"maps": compute.figure_maps(m, beta, est, p), "slice": compute.figure_slice(m, beta, est, p),
            "sweep": compute.figure_sweep(p, beta, radius), "table": table}


@takes(SCALE)
def exp_normalize(scale) -> dict:
    fig, text = compute.figure_overflow(scale)
    return {"plot": fig, "text": text}


@functools.lru_cache(maxsize=1)
def _mined():
    res = mining.load_cached()
    source = (f"Computed once by `python scripts/mine_bimodal.py` on {res['created']} and read from "
              f"`pretrained/{mining.MODEL}/{mining.CACHE_NAME}`" if res else None)
    return res, source


@takes(seconds=2)
def real_cases() -> dict:
    res, source = _mined()
    if res is None:
        res = mining.mine()
        source = f"Computed live just now ({res['seconds']} s); run scripts/mine_bimodal.py to cache it"
    head = (f"**{res['model']}** on {res['n_images']} held-out symmetric images ({res['joints_scored']} visible "
            f"left/right joints). {source}.\n\n" + mining.markdown_table(res) +
            "\n\n*Mean, worst and 95th-percentile error are to the labelled joint; since left and right look alike, "
            "the column 'to nearest of L/R' forgives a swap and shows which decoders land on **a** joint at all.*")
    return {"text": head, "cases": gallery.figure_cases(res), "hist": gallery.histogram(res)}


@takes(R_BETA, R_RADIUS, R_THRESHOLD, R_FACTOR, seconds=1.5)
def remedies(r_beta, r_radius, r_threshold, r_factor) -> dict:
    """The remedy table recomputed live on the held-out set with the chosen settings (about a second)."""
    res = mining.mine(remedy_set=mining.remedies(r_beta, r_radius, r_threshold, r_factor))
    return {"text": f"Measured live just now ({res['seconds']} s) on {res['n_images']} held-out symmetric images "
                    f"with β = {r_beta:g}, window {2 * r_radius + 1}×{2 * r_radius + 1}, fallback above a two-peak "
                    f"score of {r_threshold:g}, larger β = {r_factor:g}×β.\n\n" + mining.markdown_table(res)}
