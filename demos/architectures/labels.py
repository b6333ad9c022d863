"""Text labels beside scatter points, placed so that they do not overlap each other, the points or the plot's edge.

Plotly places every label at one ``textposition``; neighbours then overlap (the zoo's ResNeXt-50 / Inception-v3 /
ResNet-50) and labels near an edge are clipped. :func:`place` chooses each label's position greedily from eight
around its point, estimating label boxes in the plot's pixels (``width`` x ``height`` of the plotting area, text
``font`` px high, each character as wide as in Arial, the figures' type on this page), and gives up a label (``""``:
the hover still names it) only when every position collides.
"""

from __future__ import annotations

import math

PRESENT_FONT = 22  # px: presentation mode's type at 720p (3 % of the screen height); labels are placed for it

POSITIONS = {  # textposition -> where the label's box sits relative to the point (x sign, y sign)
    "top center": (0, 1), "bottom center": (0, -1), "middle right": (1, 0), "middle left": (-1, 0),
    "top right": (1, 1), "top left": (-1, 1), "bottom right": (1, -1), "bottom left": (-1, -1),
}


# Character widths in em of Arial (Liberation Sans, its metric twin, is what the page's "Inter, Arial, sans-serif"
# draws with here; measured in Chromium at 22 px: "ShuffleNet-V2 x1.0" 184 px, estimated 185); 0.6 em otherwise.
_EM = {c: w for cs, w in (("ijl", 0.222), (" !,./:;I[\\]ft|", 0.278), ("r-()`{}", 0.333), ("Jcksvxyz", 0.5),
                          ("0123456789abdeghnopqu$#_?", 0.556), ("FTZ", 0.611), ("ABEKPSVXY&", 0.667),
                          ("CDHNRUw", 0.722), ("GOQ", 0.778), ("Mm", 0.833), ("%", 0.889), ("W@", 0.944))
       for c in cs}


def text_width(text: str, font: float) -> float:
    """The width in px of ``text`` at ``font`` px."""
    return font * sum(_EM.get(c, 0.6) for c in text)


def _scale(v: list[float], log: bool, lo: float | None, hi: float | None) -> list[float]:
    t = [math.log10(x) if log else x for x in v]
    a = min(t) if lo is None else (math.log10(lo) if log else lo)
    b = max(t) if hi is None else (math.log10(hi) if log else hi)
    return [(x - a) / ((b - a) or 1.0) for x in t]


def boxes(xs, ys, texts, positions, *, log_x=False, log_y=False, width=900, height=400, font=14, marker=12,
          x_range=None, y_range=None, sizes=None) -> list[tuple[float, float, float, float] | None]:
    """Each label's box (x0, y0, x1, y1) in plot pixels for the given positions (None where the label is empty);
    ``sizes``: each point's marker size (default ``marker`` for all)."""
    px = [u * width for u in _scale(list(xs), log_x, *(x_range or (None, None)))]
    py = [u * height for u in _scale(list(ys), log_y, *(y_range or (None, None)))]
    out = []
    for x, y, t, pos, marker in zip(px, py, texts, positions, sizes if sizes is not None else [marker] * len(px)):
        if not t or not pos:
            out.append(None)
            continue
        w, h = text_width(t, font) + 0.4 * font, 1.2 * font  # a space's width each side: two labels never read as one
        sx, sy = POSITIONS[pos]
        gap = marker / 2 + 2
        cx = x + sx * (w / 2 + gap)
        cy = y + sy * (h / 2 + gap)
        out.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    return out


def _overlap(a, b) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def place(xs, ys, texts, *, log_x=False, log_y=False, width=900, height=400, font=14, marker=12, sizes=None,
          x_range=None, y_range=None) -> list[str]:
    """A textposition for every label (``""`` for one that fits nowhere), chosen so that no two label boxes
    overlap, no box covers a point (a marker of ``sizes[i]`` px, default ``marker``) and every box stays inside the
    ``width`` x ``height`` plotting area. Points are placed left to right."""
    n = len(xs)
    sizes = list(sizes) if sizes is not None else [marker] * n
    px = [u * width for u in _scale(list(xs), log_x, *(x_range or (None, None)))]
    py = [u * height for u in _scale(list(ys), log_y, *(y_range or (None, None)))]
    dots = [(x - s / 2, y - s / 2, x + s / 2, y + s / 2) for x, y, s in zip(px, py, sizes)]
    chosen: list[str] = [""] * n
    placed: list[tuple] = []
    for i in sorted(range(n), key=lambda k: (px[k], py[k])):
        best, best_cost = "", math.inf
        for pos in POSITIONS:
            (b,) = boxes([xs[i]], [ys[i]], [texts[i]], [pos], log_x=log_x, log_y=log_y, width=width, height=height,
                         font=font, marker=sizes[i], x_range=_range(xs, log_x, x_range), y_range=_range(ys, log_y, y_range))
            outside = (max(0, -b[0]) + max(0, b[2] - width)) * (b[3] - b[1]) + \
                (max(0, -b[1]) + max(0, b[3] - height)) * (b[2] - b[0])
            cost = outside + sum(_overlap(b, o) for o in placed) + sum(_overlap(b, d) for j, d in enumerate(dots) if j != i)
            if cost < best_cost:
                best, best_cost = pos, cost
            if cost == 0:
                break
        if best_cost == 0:
            chosen[i] = best
            (b,) = boxes([xs[i]], [ys[i]], [texts[i]], [best], log_x=log_x, log_y=log_y, width=width, height=height,
                         font=font, marker=sizes[i], x_range=_range(xs, log_x, x_range), y_range=_range(ys, log_y, y_range))
            placed.append(b)
    return chosen


def _range(v, log: bool, given):
    """The data range used for scaling (the given one, else the data's own), so single-point calls scale alike."""
    if given:
        return given
    return (min(v), max(v))


def padded(v, log: bool, pad: float = 0.08) -> tuple[float, float]:
    """An axis range (data units) around the data with ``pad`` of its span added each side (in log10 on a log
    axis): pass it to :func:`place` and, through :func:`plotly_range`, to the figure, so both agree."""
    t = [math.log10(x) if log else x for x in v]
    a, b = min(t), max(t)
    d = (b - a) or 1.0
    lo, hi = a - pad * d, b + pad * d
    return (10 ** lo, 10 ** hi) if log else (lo, hi)


def plotly_range(r: tuple[float, float], log: bool) -> list[float]:
    return [math.log10(r[0]), math.log10(r[1])] if log else [r[0], r[1]]
