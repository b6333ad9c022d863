"""One plotly style for the whole lab, sized for a 1280x720 projector.

Fonts of 16-20 px, lines 3 px wide, markers 10 px, and the Okabe-Ito palette (distinguishable with the
common colour-vision deficiencies). Sequential maps use viridis (perceptually uniform, colour-blind safe).
Every figure leaves plotly's toolbar on, so any plot downloads as PNG.
"""

from __future__ import annotations

import math

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


# -- fast construction ---------------------------------------------------------------------------------------
# Building a figure trace by trace through plotly's object API validates every property on every update; for
# the lab's many-panel figures that was 90 % of a click's server time (the keypoints grid: ~300 ms). Figures
# that are rebuilt on every control change are written as plain dicts instead and wrapped once, unvalidated,
# by `figure` (~12 ms for the same grid). The JSON, and so the picture, is the same.

def figure(data: list[dict], layout: dict, title: str | None = None, height: int | None = None) -> go.Figure:
    """A go.Figure from plain trace and layout dicts (each trace has a "type"), with the lab's template."""
    lay = {"template": pio.templates[TEMPLATE], **layout}
    if title is not None:
        lay["title"] = {"text": title}
    if height is not None:
        lay["height"] = height
    return go.Figure({"data": data, "layout": lay}, _validate=False)


class PlainFigure(dict):
    """A figure as plain data, ``{"data": [...], "layout": {...}}``, for views rebuilt on every control change: no
    go.Figure is made at all (its construction and the deep copy of ``Figure.to_json`` were most of such a view's
    time). ``gr.Plot`` serializes it through :meth:`to_json` (plotly's own JSON encoder): the same figure as a
    go.Figure of the same dicts, its arrays written as lists where go.Figure writes base64."""

    def to_json(self) -> str:
        return pio.json.to_json_plotly(self)

    @property
    def layout(self) -> dict:
        return self["layout"]

    @property
    def data(self) -> list:
        return self["data"]


_TEMPLATE_JSON: dict = {}


def plain(data: list[dict], layout: dict, title: str | None = None, height: int | None = None) -> PlainFigure:
    """``figure``'s plain-data twin: the same picture, without a go.Figure."""
    if not _TEMPLATE_JSON:
        _TEMPLATE_JSON.update(pio.templates[TEMPLATE].to_plotly_json())
    lay = {"template": _TEMPLATE_JSON, **layout}
    if title is not None:
        lay["title"] = {"text": title}
    if height is not None:
        lay["height"] = height
    return PlainFigure(data=data, layout=lay)


def subplot_grid(rows: int, cols: int, hspace: float, vspace: float, titles=(), title_size: int = 15):
    """Axes for a rows x cols grid, as make_subplots lays it out: returns (axes, layout) where axes[i] is the
    (xaxis, yaxis) pair of panel i in row-major order ("x", "y"), ("x2", "y2"), ... and layout holds their
    domains and the panel titles."""
    w = (1 - hspace * (cols - 1)) / cols
    h = (1 - vspace * (rows - 1)) / rows
    axes, layout, notes = [], {}, []
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        n = "" if i == 0 else str(i + 1)
        x0, y1 = c * (w + hspace), 1 - r * (h + vspace)
        layout[f"xaxis{n}"] = {"domain": [max(0.0, x0), min(1.0, x0 + w)], "anchor": f"y{n}"}
        layout[f"yaxis{n}"] = {"domain": [max(0.0, y1 - h), min(1.0, y1)], "anchor": f"x{n}"}
        axes.append((f"x{n}", f"y{n}"))
        if i < len(titles):
            notes.append({"text": titles[i], "x": x0 + w / 2, "y": y1, "xref": "paper", "yref": "paper",
                          "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": title_size}})
    layout["annotations"] = notes
    return axes, layout


def log_ticks(values, decades_only_from: float = 1.5) -> dict:
    """A log axis's ticks for these (positive) values: 1-2-5 in each decade where the values span less than
    ``decades_only_from`` decades (a decade alone would leave such an axis one label or none), the decades otherwise.
    Explicit values: presentation mode keeps them (it labels the decades only of an axis with automatic ticks)."""
    v = [float(x) for x in values if x is not None and float(x) > 0 and math.isfinite(float(x))]
    if not v:
        return {}
    lo, hi = math.floor(math.log10(min(v))), math.ceil(math.log10(max(v)))
    steps = (1,) if math.log10(max(v) / min(v)) >= decades_only_from else (1, 2, 5)
    ticks = [m * 10.0 ** e for e in range(lo, hi + 1) for m in steps]
    inside = [t for t in ticks if min(v) <= t <= max(v)]  # inside the data, so inside plotly's automatic range
    axis = {}
    if len(inside) < 2:  # the nearest tick on either side too, the range widened to show them: two labels at least
        below = max([t for t in ticks if t <= min(v)] or [ticks[0]])
        above = min([t for t in ticks if t > below and t >= max(v)] or [below * 2])
        inside = sorted(set(inside) | {below, above})
        axis["range"] = [math.log10(below) - 0.02, math.log10(above) + 0.02]
    text = [f"10<sup>{round(math.log10(t))}</sup>" if steps == (1,) else f"{t:g}" for t in inside]
    return axis | {"tickmode": "array", "tickvals": inside, "ticktext": text}


def placeholder(text: str, height: int = 320) -> go.Figure:
    """A figure that says what will appear here and how to get it (no empty frames before a button is pressed)."""
    return figure([], {"xaxis": {"visible": False}, "yaxis": {"visible": False},
                       "annotations": [{"text": text, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper",
                                        "showarrow": False, "font": {"size": 20, "color": "#555"}}],
                       "margin": {"l": 20, "r": 20, "t": 20, "b": 20}}, height=height)
