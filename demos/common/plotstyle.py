"""One plotly style for the whole lab, sized for a 1280x720 projector.

Fonts of 16-20 px, lines 3 px wide, markers 10 px, and the Okabe-Ito palette (distinguishable with the
common colour-vision deficiencies). Sequential maps use viridis (perceptually uniform, colour-blind safe).
Every figure leaves plotly's toolbar on, so any plot downloads as PNG.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
PALETTE = OKABE_ITO
SEQUENTIAL = "Viridis"
DIVERGING = "RdBu"
FONT_SIZE = 16
TITLE_SIZE = 20
LINE_WIDTH = 3
MARKER_SIZE = 10
TEMPLATE = "kplab"

_layout = go.Layout(
    font=dict(size=FONT_SIZE, family="Inter, Arial, sans-serif", color="#222"),
    title=dict(font=dict(size=TITLE_SIZE), x=0.02, xanchor="left"),
    colorway=list(PALETTE),
    paper_bgcolor="white",
    plot_bgcolor="white",
    legend=dict(font=dict(size=FONT_SIZE - 1), bgcolor="rgba(255,255,255,0.8)"),
    margin=dict(l=60, r=20, t=60, b=55),
    xaxis=dict(showgrid=True, gridcolor="#e5e5e5", zeroline=False, linecolor="#444", ticks="outside",
               title=dict(font=dict(size=FONT_SIZE + 1))),
    yaxis=dict(showgrid=True, gridcolor="#e5e5e5", zeroline=False, linecolor="#444", ticks="outside",
               title=dict(font=dict(size=FONT_SIZE + 1))),
    hoverlabel=dict(font=dict(size=FONT_SIZE - 1)),
    colorscale=dict(sequential=SEQUENTIAL, diverging=DIVERGING),
)
pio.templates[TEMPLATE] = go.layout.Template(
    layout=_layout,
    data=dict(
        scatter=[go.Scatter(line=dict(width=LINE_WIDTH), marker=dict(size=MARKER_SIZE))],
        heatmap=[go.Heatmap(colorscale=SEQUENTIAL)],
    ),
)

def style(fig: go.Figure, title: str | None = None, height: int | None = None, **layout) -> go.Figure:
    """Apply the lab's template (and optionally a title and height) to a figure, in place; returns it."""
    fig.update_layout(template=TEMPLATE, **layout)
    if title is not None:
        fig.update_layout(title_text=title)
    if height is not None:
        fig.update_layout(height=height)
    return fig


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]
