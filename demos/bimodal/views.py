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


NEAR_PX = 2.0  # an estimate within this of a peak's centre is "at" it


def _cell(x: float, y: float) -> tuple[int, int]:
    return min(S - 1, int(y)), min(S - 1, int(x))


def two_peak_note(p: compute.Peaks, est: dict, m: np.ndarray, beta: float, pull: dict) -> str:
    """The table and sentences beside the two-peak figures, each checked against the numbers it prints: the
    estimates' distances to both peaks, which cell arg-max took (and whether the best cells tie), where the
    integral lands, and the centre pull measured at this β."""
    p1, p2 = np.array([p.x1, p.y1]), np.array([p.x2, p.y2])
    rows = [f"| {compute.LABELS[meth]} | ({xy[0]:.2f}, {xy[1]:.2f}) | {np.linalg.norm(xy - p1):.2f} | "
            f"{np.linalg.norm(xy - p2):.2f} |" for meth, xy in est.items()]
    text = ("| decoder | estimate (x, y) | distance to peak 1 | to peak 2 |\n|---|---|---|---|\n" + "\n".join(rows))
    c1, c2 = _cell(p.x1, p.y1), _cell(p.x2, p.y2)
    top = float(m.max())
    v1, v2 = float(m[c1]), float(m[c2])
    heights = ("Peak 1 and peak 2 have equal heights" if p.h1 == p.h2 else
               f"Peak {1 if p.h1 > p.h2 else 2} is the higher ({max(p.h1, p.h2):g} against {min(p.h1, p.h2):g})")
    am = est["argmax"]
    cell = _cell(am[0] - 0.5, am[1] - 0.5)
    if cell in (c1, c2) and c1 != c2 and v1 == v2 == top:
        where = (f"the cells under both peaks hold the map's maximum ({top:.3g}): arg-max takes the first in scan "
                 f"order (row by row from the top), peak {1 if cell == c1 else 2}'s")
    elif cell in (c1, c2):
        where = f"arg-max takes the cell under peak {1 if cell == c1 else 2} (value {float(m[cell]):.3g})"
    else:
        where = f"arg-max takes a cell under neither peak's centre (value {float(m[cell]):.3g})"
    sa = est["soft_argmax"]
    d1, d2 = float(np.linalg.norm(sa - p1)), float(np.linalg.norm(sa - p2))
    if min(d1, d2) <= NEAR_PX:
        lands = f"the integral lands at peak {1 if d1 <= d2 else 2} ({min(d1, d2):.2f} px, within {NEAR_PX:g})"
    elif float(np.dot(p1 - sa, p2 - sa)) < 0:
        lands = f"the integral lands between the peaks, on neither ({d1:.2f} px from peak 1, {d2:.2f} from peak 2)"
    else:
        lands = f"the integral lands on neither peak ({d1:.2f} px from peak 1, {d2:.2f} from peak 2)"
    text += f"\n\n{heights}; {where}; {lands}."
    hs = sorted(pull)
    shown = [round(pull[h], 2) for h in hs]  # the claim is checked on the numbers as printed
    shrinks = all(a >= b for a, b in zip(shown, shown[1:])) and shown[0] > shown[-1]
    text += (f"\n\n**Centre pull at β = {beta:g}** (one peak at (16, 16) on this 64×64 map): the integral lands "
             + ", ".join(f"{pull[h]:.2f} px off for height {h:g}" for h in hs)
             + ". Every background cell keeps weight exp(0)/Σ after the soft-max, and those weights pull the "
             "estimate toward the map's centre" + ("; here the pull shrinks as the peak grows." if shrinks else "."))
    return text


@takes(X1, Y1, H1, S1, X2, Y2, H2, S2, NOISE, BETA, RADIUS)
def two_peaks(x1, y1, h1, s1, x2, y2, h2, s2, noise, beta, radius) -> dict:
    """A synthetic heatmap with two Gaussian peaks (plus noise) decoded by every decoder of the tab (soft-max at inverse temperature beta, local window of the given radius).
    Returns:
        maps: a plotly figure of the heatmap and its probability map softmax(beta * map), with both true peaks and every estimate
        slice: a plotly figure of heatmap and probability along the line through both peaks, each estimate projected onto it
        sweep: a plotly figure of each decoder's estimate along that line (px) against the height ratio of peak 2 to peak 1
        table: Markdown, a table of each estimate's distance to both peaks and sentences checked against it (ties, centre pull at this beta)
    """
    p = compute.Peaks(x1, y1, h1, s1, x2, y2, h2, s2, noise)
    if p.h1 == 0 and p.h2 == 0 and p.noise == 0:
        raise UserInputError("Both peaks have height 0: the map is flat, every cell is equally likely and the "
                             "integral estimate is the map's centre. Give one peak some height.")
    m = compute.two_peak_map(p)
    est = compute.decode_all(m, beta, radius)
    table = two_peak_note(p, est, m.numpy(), beta, compute.centre_pull(beta))
    return {"maps": compute.figure_maps(m, beta, est, p), "slice": compute.figure_slice(m, beta, est, p),
            "sweep": compute.figure_sweep(p, beta, radius), "table": table}


@takes(SCALE)
def exp_normalize(scale) -> dict:
    """The soft-max decoded in float32 naively (exp / sum) and by exp-normalize (subtract the max first), against the largest logit.
    Returns:
        plot: a plotly figure of the decoded x of both against the largest logit beta * max(heatmap), NaN results marked
        text: Markdown with the sum of exp, the naive version's NaN cells and both decoded x at the chosen logit
    """
    fig, text = compute.figure_overflow(scale)
    return {"plot": fig, "text": text}


@functools.lru_cache(maxsize=1)
def _mined():
    res = mining.load_cached()
    source = (f"Computed once by `python scripts/mine_bimodal.py` on {res['created']} and read from "
              f"`pretrained/{mining.MODEL}/{mining.CACHE_NAME}`" if res else None)
    return res, source


def real_cases_text(res: dict, source: str) -> str:
    """The sentence and table above the mined cases: every number is read from ``res`` (``mining.mine``)."""
    return (f"**{res['model']}** on {res['n_images']} held-out symmetric images ({res['joints_scored']} visible "
            f"left/right joints). {source}.\n\n" + mining.markdown_table(res) +
            "\n\n*Mean, worst and 95th-percentile error are to the labelled joint; since left and right look alike, "
            "the column 'to nearest of L/R' forgives a swap and shows which decoders land on **a** joint at all. "
            + _far_note(res) + f" The gallery shows the {min(6, len(res['cases']))} joints with the highest two-peak "
            "scores.*")


def _far_note(res: dict) -> str:
    """Why the last column's count is out of fewer joints than the sentence above the table scores."""
    pairs = res["remedies"][0]["pairs"] if res["remedies"] else 0
    return (f"The last column counts estimates more than {res['far_px']:g} px from both the joint and its mirror, "
            f"among the {pairs} of the {res['joints_scored']} joints whose left and right truths lie more than "
            f"{2 * res['far_px']:g} px apart (where the two candidates are distinct).")


def remedies_text(res: dict, r_beta, r_radius, r_threshold, r_factor) -> str:
    """The live remedy table's sentence: the settings it ran with and the table of ``res``."""
    return (f"Measured live just now ({res['seconds']} s) on {res['n_images']} held-out symmetric images with "
            f"β = {r_beta:g}, window {2 * r_radius + 1}×{2 * r_radius + 1}, fallback above a two-peak score of "
            f"{r_threshold:g}, larger β = {r_factor:g}×β.\n\n" + mining.markdown_table(res) + f"\n\n*{_far_note(res)}*")


@takes(seconds=lambda **_: 0.3 if mining.cache_path().is_file() else 2)  # bench worst: 0.2-0.3 s reading the bundled cases
def real_cases() -> dict:
    """Two-peaked left/right heatmaps of the symmetric model on held-out symmetric images (cached, or mined live).
    Returns:
        text: Markdown saying where the numbers come from, then a table of each decoder's mean, worst and 95th-percentile error
        cases: a plotly figure of the joints with the highest two-peak scores: image, heatmap and each decoder's estimate
        hist: a plotly bar chart of the left/right joints' two-peak scores
    """
    res, source = _mined()
    if res is None:
        res = mining.mine()
        source = f"Computed live just now ({res['seconds']} s); run scripts/mine_bimodal.py to cache it"
    return {"text": real_cases_text(res, source), "cases": gallery.figure_cases(res), "hist": gallery.histogram(res)}


@takes(R_BETA, R_RADIUS, R_THRESHOLD, R_FACTOR, seconds=2)  # bench worst, two sittings: 1.6-1.9 s and 2.3-2.5 s
def remedies(r_beta, r_radius, r_threshold, r_factor) -> dict:
    """The remedy table recomputed live on the held-out symmetric images with the chosen beta, window, fallback threshold and beta factor.
    Returns:
        text: Markdown with the settings it ran with, then a table of each decoder's and remedy's errors
    """
    res = mining.mine(remedy_set=mining.remedies(r_beta, r_radius, r_threshold, r_factor))
    return {"text": remedies_text(res, r_beta, r_radius, r_threshold, r_factor)}
