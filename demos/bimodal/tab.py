"""Two-peak heatmaps tab (Gradio wiring only)."""

from __future__ import annotations

import functools

import gradio as gr
import numpy as np

from demos.common.errors import UserInputError
from demos.common.ui import friendly, number, show_on_load

from . import compute, gallery, mining

TAB_ID = "bimodal"
TITLE = "Two-peak heatmaps"
SUMMARY = ("Why a heatmap with two peaks breaks integral regression, why soft-max needs the max-subtraction "
           "trick, and what the remedies cost on real left/right confusions.")
INTRO = """
**A heatmap with two peaks** — a left/right confusion, an occluded joint — is where integral regression
breaks: the expectation of a two-peaked distribution lies *between* the peaks, where there is no joint at
all. Arg-max stays on the higher peak and jumps when the peaks swap. Move the second peak's height past
the first and watch. For a probability map that *is* the mixture of peaks at x = 20 and x = 40 with weights
1 and w, the expectation is (20 + 40w)/(1 + w): 21.8, 24.6, 26.7, 29.5 for w = 0.1, 0.3, 0.5, 0.9 — while
arg-max stays at 20. Here the map is a heatmap and the weights come from softmax(β · heatmap).
"""
DEFAULTS = compute.Peaks()


def _peaks(x1, y1, h1, s1, x2, y2, h2, s2, noise):
    vals = []
    for v, name, lo, hi in ((x1, "x1", 0, 64), (y1, "y1", 0, 64), (h1, "height 1", 0, 100), (s1, "width 1", 0, 20),
                            (x2, "x2", 0, 64), (y2, "y2", 0, 64), (h2, "height 2", 0, 100), (s2, "width 2", 0, 20),
                            (noise, "noise", 0, 10)):
        vals.append(number(v, name, lo, hi))
    return compute.Peaks(*vals)


@friendly
def interactive(x1, y1, h1, s1, x2, y2, h2, s2, noise, beta, radius):
    p = _peaks(x1, y1, h1, s1, x2, y2, h2, s2, noise)
    beta = number(beta, "β", 0.01, 1e4)
    radius = number(radius, "window radius", 0, 32, integer=True)
    if p.h1 == 0 and p.h2 == 0 and p.noise == 0:
        raise UserInputError("Both peaks have height 0: the map is flat, every cell is equally likely and the "
                             "integral estimate is the map's centre. Give one peak some height.")
    m = compute.two_peak_map(p)
    est = compute.decode_all(m, beta, radius)
    hi = p.higher
    rows = []
    for meth, xy in est.items():
        d_hi = float(np.linalg.norm(xy - hi))
        d_other = float(np.linalg.norm(xy - (np.array([p.x2, p.y2]) if p.h1 >= p.h2 else np.array([p.x1, p.y1]))))
        rows.append(f"| {compute.LABELS[meth]} | ({xy[0]:.2f}, {xy[1]:.2f}) | {d_hi:.2f} | {d_other:.2f} |")
    tie = " (the peaks are equal: arg-max takes the first cell in scan order)" if p.h1 == p.h2 else ""
    table = ("| decoder | estimate (x, y) | distance to the higher peak | to the other peak |\n|---|---|---|---|\n"
             + "\n".join(rows) + f"\n\nHigher peak: ({hi[0]:.1f}, {hi[1]:.1f}){tie}.")
    return (compute.figure_maps(m, beta, est, p), compute.figure_slice(m, beta, est, p),
            compute.figure_sweep(p, beta, radius), table)


@friendly
def overflow(scale):
    scale = number(scale, "largest logit", 0.01, 1e4)
    return compute.figure_overflow(scale)


@functools.lru_cache(maxsize=1)
def _mined():
    res = mining.load_cached()
    source = (f"Computed once by `python scripts/mine_bimodal.py` on {res['created']} and read from "
              f"`pretrained/{mining.MODEL}/{mining.CACHE_NAME}`" if res else None)
    return res, source


@friendly
def real_cases():
    res, source = _mined()
    if res is None:
        try:
            res = mining.mine()
        except Exception as e:  # noqa: BLE001
            raise UserInputError(f"The symmetric model is not available to mine real cases ({e}).") from None
        source = f"Computed live just now ({res['seconds']} s); run scripts/mine_bimodal.py to cache it"
    head = (f"**{res['model']}** on {res['n_images']} held-out symmetric images ({res['joints_scored']} visible "
            f"left/right joints). {source}.\n\n" + mining.markdown_table(res) +
            "\n\n*Mean, worst and 95th-percentile error are to the labelled joint; since left and right look alike, "
            "the column 'to nearest of L/R' forgives a swap and shows which decoders land on **a** joint at all.*")
    return head, gallery.figure_cases(res), gallery.histogram(res)


@friendly
def remeasure(beta, radius, threshold, factor):
    """The remedy table recomputed live on the held-out set with the chosen settings (about a second)."""
    beta = number(beta, "β", 0.1, 1000)
    radius = number(radius, "window radius", 0, 16, integer=True)
    threshold = number(threshold, "fallback threshold", 0.0, 1.0)
    factor = number(factor, "β factor", 1.0, 100.0)
    try:
        res = mining.mine(remedy_set=mining.remedies(beta, radius, threshold, factor))
    except Exception as e:  # noqa: BLE001
        raise UserInputError(f"The symmetric model is not available to measure the remedies ({e}).") from None
    return (f"Measured live just now ({res['seconds']} s) on {res['n_images']} held-out symmetric images with "
            f"β = {beta:g}, window {2 * radius + 1}×{2 * radius + 1}, fallback above a two-peak score of "
            f"{threshold:g}, larger β = {factor:g}×β.\n\n" + mining.markdown_table(res))


def build():
    gr.Markdown(INTRO)
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            with gr.Group():
                gr.Markdown("**Peak 1**")
                x1 = gr.Slider(0, 64, DEFAULTS.x1, step=0.1, label="x₁")
                y1 = gr.Slider(0, 64, DEFAULTS.y1, step=0.1, label="y₁")
                h1 = gr.Slider(0, 2, DEFAULTS.h1, step=0.01, label="height₁")
                s1 = gr.Slider(0, 10, DEFAULTS.s1, step=0.1, label="width₁ (std, px)")
            with gr.Group():
                gr.Markdown("**Peak 2**")
                x2 = gr.Slider(0, 64, DEFAULTS.x2, step=0.1, label="x₂")
                y2 = gr.Slider(0, 64, DEFAULTS.y2, step=0.1, label="y₂")
                h2 = gr.Slider(0, 2, DEFAULTS.h2, step=0.01, label="height₂", elem_id="bm-h2")
                s2 = gr.Slider(0, 10, DEFAULTS.s2, step=0.1, label="width₂ (std, px)")
            noise = gr.Slider(0, 0.5, 0.0, step=0.01, label="noise (std)")
            beta = gr.Slider(0.1, 200, 10, step=0.1, label="β: soft-max temperature", elem_id="bm-beta")
            radius = gr.Slider(0, 10, 3, step=1, label="window radius (cells) for the windowed integral")
            with gr.Row():
                equal = gr.Button("Equal peaks", size="sm")
                swap = gr.Button("Peak 2 higher", size="sm")
        with gr.Column(scale=3):
            maps = gr.Plot(label="Heatmap and probability map", elem_id="bm-maps")
            dist = gr.Markdown(elem_id="bm-table")
            with gr.Row():
                slice_ = gr.Plot(label="Slice", elem_id="bm-slice")
                sweep = gr.Plot(label="Sweep", elem_id="bm-sweep")
    inputs = [x1, y1, h1, s1, x2, y2, h2, s2, noise, beta, radius]
    outs = [maps, slice_, sweep, dist]
    gr.on([c.release for c in inputs], interactive, inputs, outs,
          api_name="two_peaks", trigger_mode="always_last")
    equal.click(lambda h: h, h1, h2, api_visibility="private").then(interactive, inputs, outs,
                                                                   api_visibility="private")
    swap.click(lambda h: round(min(2.0, 1.1 * h), 2), h1, h2, api_visibility="private").then(interactive, inputs, outs,
                                                                                 api_visibility="private")

    gr.Markdown("### Exp-normalize: why soft-max subtracts the maximum\n"
                "In float32, exp(z) overflows to inf once z > 88.7; inf/inf is NaN. Since "
                "softmax(z) = softmax(z − max z), subtracting the max first gives the same probabilities with the "
                "largest term exactly exp(0) = 1 — finite for any logits.")
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            scale = gr.Slider(1, 300, 95, step=1, label="largest logit β·max(heatmap)", elem_id="bm-scale")
            over_text = gr.Markdown(elem_id="bm-overflow-text")
        over_plot = gr.Plot(label="Overflow", elem_id="bm-overflow")
    scale.release(overflow, scale, [over_plot, over_text], api_name="exp_normalize")

    gr.Markdown("### Real cases: left/right confusion in the symmetric model, and the remedies")
    real_btn = gr.Button("Show the mined cases and the remedy table", variant="primary", elem_id="bm-real")
    real_text = gr.Markdown(elem_id="bm-real-text")
    cases = gr.Plot(label="Cases", elem_id="bm-cases")
    hist = gr.Plot(label="Two-peak scores", elem_id="bm-hist")
    real_btn.click(real_cases, None, [real_text, cases, hist], api_name="real_cases")
    gr.Markdown("**Switch the remedies' settings and measure them again on the held-out set:**")
    with gr.Row():
        r_beta = gr.Slider(1, 100, mining.BETA, step=1, label="β for the integral")
        r_radius = gr.Slider(0, 8, mining.RADIUS, step=1, label="window radius (cells)")
        r_thr = gr.Slider(0, 1, mining.FALLBACK_SCORE, step=0.01, label="fallback: two-peak score above")
        r_factor = gr.Slider(1, 20, mining.LARGE_BETA_FACTOR, step=0.5, label="'larger β' = factor × β")
        r_btn = gr.Button("Measure", elem_id="bm-remeasure")
    r_text = gr.Markdown(elem_id="bm-remeasure-text")
    r_btn.click(remeasure, [r_beta, r_radius, r_thr, r_factor], r_text, api_name="remedies")

    d = DEFAULTS
    show_on_load(interactive, [d.x1, d.y1, d.h1, d.s1, d.x2, d.y2, d.h2, d.s2, 0.0, 10.0, 3], outs)
    show_on_load(overflow, [95], [over_plot, over_text])
