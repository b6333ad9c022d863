"""The gallery of real two-peak cases (plotly), built from the mined cases and the symmetric model."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from demos.common.plotstyle import PALETTE, style
import demos.keypoints as kp

MARKS = {"truth": ("labelled joint (truth)", "#000000", "x-thin"), "mirror": ("its mirror joint", "#777777", "x-thin"),
         "arg-max": ("arg-max", PALETTE[3], "square"), "integral": ("integral", PALETTE[0], "circle"),
         "windowed integral": ("windowed integral", PALETTE[2], "diamond")}


def figure_cases(res: dict, count: int = 6) -> go.Figure:
    cases = res["cases"][:count]
    model = kp.get_model(res["model"])
    imgs = np.stack([kp.render(c["seed"], variant="symmetric").image for c in cases])
    _, hms = kp.predict_heatmaps(model, imgs)
    cols = len(cases)
    titles = [f"{c['joint'].replace('_', ' ')}, score {c['score']:.2f}" for c in cases] + [""] * cols
    fig = make_subplots(2, cols, subplot_titles=titles, vertical_spacing=0.06, horizontal_spacing=0.015)
    S = model.input_size
    H = hms.shape[-1]
    for j, c in enumerate(cases):
        fig.add_trace(go.Image(z=imgs[j], x0=0.5, y0=0.5, hoverinfo="skip"), 1, j + 1)
        hm = hms[j, c["k"]].numpy()
        fig.add_trace(go.Heatmap(z=hm, x=(np.arange(H) + 0.5) * S / H, y=(np.arange(H) + 0.5) * S / H,
                                 coloraxis="coloraxis", hovertemplate="%{z:.2f}<extra></extra>"), 2, j + 1)
        pts = {"truth": c["truth"], "mirror": c["mirror"], "arg-max": c["pred"]["arg-max"],
               "integral": c["pred"]["integral"], "windowed integral": c["pred"]["windowed integral"]}
        for row in (1, 2):
            for name, xy in pts.items():
                label, colr, sym = MARKS[name]
                fig.add_trace(go.Scatter(x=[xy[0]], y=[xy[1]], mode="markers", name=label, legendgroup=name,
                                         showlegend=(j == 0 and row == 1),
                                         marker=dict(symbol=sym, size=13, color=colr,
                                                     line=dict(width=3 if "x" in sym else 1.5,
                                                               color=colr if "x" in sym else "white"))), row, j + 1)
    fig.update_xaxes(range=[0, S], showticklabels=False, ticks="", showgrid=False)
    fig.update_yaxes(range=[S, 0], showticklabels=False, ticks="", showgrid=False)
    for i in range(1, 2 * cols + 1):
        fig.update_yaxes(scaleanchor=f"x{i if i > 1 else ''}", row=(i - 1) // cols + 1, col=(i - 1) % cols + 1)
    fig.update_annotations(font_size=14)
    return style(fig, "The most two-peaked joints of the held-out set (by two-peak score): image (top), that joint's heatmap (bottom)", height=560,
                 coloraxis=dict(colorscale="Viridis", colorbar=dict(thickness=12)),
                 legend=dict(orientation="h", y=-0.05, x=0), margin=dict(l=10, r=10, t=80, b=40))


def histogram(res: dict) -> go.Figure:
    counts = res["score_histogram"]
    fig = go.Figure(go.Bar(x=[f"{i / 10:.1f}–{(i + 1) / 10:.1f}" for i in range(10)], y=counts,
                           marker_color=PALETTE[0]))
    fig.update_xaxes(title_text="two-peak score (second peak / first)")
    fig.update_yaxes(title_text="left/right joints")
    return style(fig, "How two-peaked the symmetric model's left/right heatmaps are", height=380)

