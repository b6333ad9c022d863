"""The head race's views: parameter records and the run the tab wires (no Gradio here)."""

from __future__ import annotations

import statistics

import numpy as np

import demos.keypoints as kp
from demos.common.device import get_device
from demos.common.errors import UserInputError
from demos.common.params import Choice, Param, about, takes
from demos.common.plotstyle import figure, subplot_grid

from . import compute as C

SIZE = Choice("size", "image size (px)", (("64 × 64", 64), ("96 × 96", 96), ("128 × 128 (GPU)", 128)), 64,
              help=f"the bundled models use 128 px; on a 2-core CPU runs estimated over {C.CPU_BUDGET_S:.0f} s are "
                   "refused (a GPU takes them all)")
STRIDE = Choice("stride", "heatmap stride", (("4 (16×16 at 64 px)", 4), ("8 (8×8 at 64 px)", 8)), 4,
                help=f"arg-max cannot beat {C.UNIFORM_CELL_MEAN:.3f} × stride px on average (its cell's quantisation)")
STEPS = Param("steps", "training steps (each model)", 30, 400, C.Race.steps, 10, integer=True)
SEEDS = Param("seeds", "seeds", 1, 3, C.Race.seeds, 1, integer=True,
              help="each seed draws other initial weights and batches; an order is stated only where the gap "
                   "between two heads exceeds their spread over the seeds")
COORD_LOSS = Choice("coord_loss", "loss on coordinates (regression, integral)",
                    (("L1 |ŷ − y|", "l1"), ("L2 |ŷ − y|²", "l2")), "l1")
HEATMAP_LOSS = Choice("heatmap_loss", "loss of the heatmap head",
                      (("weighted MSE", "mse"), ("cell cross-entropy", "ce")), "mse",
                      help="MSE to a Gaussian, weighted 1 + 20 × target near the keypoint, or a classification over "
                           "the cells (cross-entropy)")

COLOURS = {"regression": kp.DECODER_COLORS["direct"], "heatmap": kp.DECODER_COLORS["argmax"],
           "integral": kp.DECODER_COLORS["soft_argmax"], "simcc": "#CC79A7"}
SYMBOLS = {"regression": kp.DECODER_SYMBOLS["direct"], "heatmap": kp.DECODER_SYMBOLS["argmax"],
           "integral": kp.DECODER_SYMBOLS["soft_argmax"], "simcc": "star"}


def _seconds(size, steps, seeds, **_):
    return C.estimate_seconds(size, steps, seeds)


def _mean(values) -> float:
    return statistics.fmean(values)


def _smooth(y: list[float], w: int = 10) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    if len(y) < w:
        return np.arange(1, len(y) + 1), y
    return np.arange(w, len(y) + 1), np.convolve(y, np.ones(w) / w, mode="valid")


def curves_figure(s: C.Snapshot, stride: int):
    band = "mean of the seeds, band: their range" if s.seeds > 1 else "one seed"
    axes, layout = subplot_grid(1, 2, hspace=0.16, vspace=0.0,
                                titles=("training loss, seed 0 (each head's own)",
                                        f"held-out error in input px ({band})"))
    data = []
    for h in C.HEADS:
        x, y = _smooth(s.loss[h])
        data.append({"type": "scatter", "x": x, "y": y, "mode": "lines", "name": C.HEAD_LABELS[h], "legendgroup": h,
                     "line": {"color": COLOURS[h], "width": 3}, "xaxis": "x", "yaxis": "y"})
        steps = [st for st, _ in s.error[h]]
        if s.seeds > 1:
            lo = [min(v) for _, v in s.error[h]]
            hi = [max(v) for _, v in s.error[h]]
            data.append({"type": "scatter", "x": steps + steps[::-1], "y": hi + lo[::-1], "fill": "toself",
                         "fillcolor": COLOURS[h], "opacity": 0.18, "line": {"width": 0}, "hoverinfo": "skip",
                         "showlegend": False, "legendgroup": h, "xaxis": "x2", "yaxis": "y2"})
        data.append({"type": "scatter", "x": steps, "y": [_mean(v) for _, v in s.error[h]], "mode": "lines+markers",
                     "name": C.HEAD_LABELS[h], "legendgroup": h, "showlegend": False, "xaxis": "x2", "yaxis": "y2",
                     "line": {"color": COLOURS[h], "width": 3},
                     "marker": {"symbol": SYMBOLS[h], "size": 9, "color": COLOURS[h]},
                     "hovertemplate": "step %{x}: %{y:.2f} px<extra>" + C.HEAD_LABELS[h] + "</extra>"})
    floor = C.argmax_floor(stride)
    data.append({"type": "scatter", "x": [0, s.steps], "y": [floor, floor], "mode": "lines", "xaxis": "x2",
                 "yaxis": "y2", "name": f"arg-max floor, stride {stride}: {floor:.2f} px",
                 "line": {"color": COLOURS["heatmap"], "width": 2, "dash": "dash"}})
    layout["xaxis"] |= {"title": {"text": "step"}, "range": [0, s.steps]}
    layout["yaxis"] |= {"type": "log", "dtick": 1, "exponentformat": "power", "title": {"text": "loss (log)"}}
    layout["xaxis2"] |= {"title": {"text": "step"}, "range": [0, s.steps]}
    layout["yaxis2"] |= {"title": {"text": "error (px)"}, "rangemode": "tozero"}
    layout |= {"legend": {"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0},
               "margin": {"l": 70, "r": 20, "t": 70, "b": 120}}
    seeds = f"{s.seeds} seeds" if s.seeds > 1 else "1 seed"
    title = f"Four heads, one backbone, {seeds}: step {s.step} of {s.steps} ({s.seconds:.0f} s)"
    return figure(data, layout, title, height=430)


def maps_figure(s: C.Snapshot, stride: int):
    S = s.image.shape[0]
    joint = kp.JOINTS[C.JOINT].replace("_", " ")
    panels = [h for h in ("heatmap", "integral", "simcc") if h in s.maps]
    titles = {"heatmap": f"heatmap: raw map, {joint}", "integral": f"integral: soft-max, {joint}",
              "simcc": f"SimCC: x ⊗ y soft-max, {joint}"}
    axes, layout = subplot_grid(1, 1 + len(panels), hspace=0.03, vspace=0.0,
                                titles=["held-out image, seed 0"] + [titles[h] for h in panels])
    data = [{"type": "image", "z": s.image, "x0": 0.5, "y0": 0.5, "dx": 1, "dy": 1, "hoverinfo": "skip",
             "xaxis": "x", "yaxis": "y"}]
    for h in C.HEADS:
        c = s.coords[h]
        data.append({"type": "scatter", "x": c[:, 0], "y": c[:, 1], "mode": "markers", "name": C.HEAD_LABELS[h],
                     "showlegend": False, "text": list(kp.JOINTS), "xaxis": "x", "yaxis": "y",
                     "hovertemplate": "%{text}: (%{x:.1f}, %{y:.1f})<extra>" + C.HEAD_LABELS[h] + "</extra>",
                     "marker": {"color": COLOURS[h], "size": 9, "symbol": SYMBOLS[h],
                                "line": {"color": "white", "width": 1}}})
    t = s.truth
    data.append({"type": "scatter", "x": t[:, 0], "y": t[:, 1], "mode": "markers", "name": "ground truth",
                 "xaxis": "x", "yaxis": "y", "marker": {"color": "black", "size": 9, "symbol": "x-thin",
                                                         "line": {"width": 2.5, "color": "black"}}})
    layout["xaxis"] |= {"range": [0, S], "showgrid": False, "showticklabels": False, "ticks": "", "constrain": "domain"}
    layout["yaxis"] |= {"range": [S, 0], "showgrid": False, "showticklabels": False, "ticks": "", "scaleanchor": "x"}
    for i, h in enumerate(panels, start=2):
        m = s.maps[h]
        n = m.shape[-1]
        cell = S / n  # input px per map cell
        data.append({"type": "heatmap", "z": m, "x": (np.arange(n) + 0.5) * cell, "y": (np.arange(n) + 0.5) * cell,
                     "showscale": False, "colorscale": "Viridis", "xaxis": f"x{i}", "yaxis": f"y{i}",
                     "hovertemplate": "(%{x:.0f}, %{y:.0f}) px: %{z:.3f}<extra></extra>"})
        data.append({"type": "scatter", "x": [t[C.JOINT, 0]], "y": [t[C.JOINT, 1]], "mode": "markers",
                     "showlegend": False, "xaxis": f"x{i}", "yaxis": f"y{i}", "hoverinfo": "skip",
                     "marker": {"color": "white", "size": 13, "symbol": "x-thin", "line": {"width": 3, "color": "white"}}})
        layout[f"xaxis{i}"] |= {"range": [0, S], "showgrid": False, "showticklabels": False, "ticks": "", "constrain": "domain"}
        layout[f"yaxis{i}"] |= {"range": [S, 0], "showgrid": False, "showticklabels": False, "ticks": "", "scaleanchor": f"x{i}"}
    layout |= {"legend": {"orientation": "h", "yanchor": "top", "y": -0.04, "x": 0},
               "margin": {"l": 10, "r": 10, "t": 60, "b": 40}}
    return figure(data, layout, f"The maps sharpen as the heads learn (step {s.step}); white × = ground truth",
                  height=340)


def bundled_rows(stride: int) -> dict[tuple[str, str], dict]:
    """The evaluation table's rows for the bundled models with the race's heads and stride, by (head, decoder)."""
    names = {m.head: m.name for m in kp.models_for("race_reference") if m.stride in (None, stride)}
    rows = {(r["model"], r["decoder"]): r for r in kp.evaluation.load_rows()}
    return {(h, d): rows[(m, d)] for h, m in names.items() for d in ("direct", "argmax", "soft_argmax")
            if (m, d) in rows}


def per_seed(final: list[dict], key: str = "mean_px") -> dict[tuple[str, str], list[float]]:
    """The final rows' ``key`` per (head, decoder), one value per seed in seed order."""
    out: dict[tuple[str, str], list[float]] = {}
    for r in sorted(final, key=lambda r: r["seed"]):
        out.setdefault((r["head"], r["decoder"]), []).append(r[key])
    return out


def final_tables(s: C.Snapshot, stride: int, size: int) -> tuple[str, str]:
    """Two Markdown tables of the final held-out error: each head read by its own decoder (the verdict's table: short
    enough for a projector's first screen, beside the bundled 128 px model with that head), and the same maps read
    by the other decoder ("" where no head has another)."""
    ref = bundled_rows(stride)
    err, pck = per_seed(s.final), per_seed(s.final, "pck10")
    spread = "range (px)" if s.seeds > 1 else "range (one seed: none)"
    own = [f"| head | mean (px) | {spread} | PCK@10% | % of image | bundled, % of image |",
           "|---|---|---|---|---|---|"]
    other = [f"| head | decoder | mean (px) | {spread} | PCK@10% |", "|---|---|---|---|---|"]
    for (head, dec), v in err.items():
        if C.OWN[head] == dec:
            b = ref.get((head, dec))
            bundled = f"{100 * b['mean_px'] / kp.DEFAULT_SIZE:.1f} %" if b else "-"
            own.append(f"| {C.HEAD_LABELS[head]} | {_mean(v):.2f} | {C.spread(v):.2f} | "
                       f"{_mean(pck[(head, dec)]):.2f} | "
                       f"{100 * _mean(v) / size:.1f} % | {bundled} |")
        else:
            other.append(f"| {C.HEAD_LABELS[head]} | {kp.POINT_LABELS.get(dec, dec)} | {_mean(v):.2f} | "
                         f"{C.spread(v):.2f} | {_mean(pck[(head, dec)]):.2f} |")
    return "\n".join(own), "\n".join(other) if len(other) > 2 else ""


def verdict_text(errors: dict[str, list[float]]) -> str:
    """The order of the heads (each with its own decoding), stated only where the spread rule separates them."""
    groups, measured = C.verdict(errors)
    if not measured:
        return ("One seed: no spread was measured, so no order between the heads is stated. Run two or three seeds "
                "to see how far a head's error moves with the initial weights and the batches.")
    if len(groups) == 1:
        return (f"All four heads are **within noise** of each other: no gap between neighbours exceeds their range "
                f"over the {len(errors[C.HEADS[0]])} seeds. More steps (or a GPU) separate them, or show they are "
                "equal at this budget.")
    text = " < ".join(" ≈ ".join(C.HEAD_LABELS[h] for h in g) for g in groups)
    return (f"Best to worst: {text} (mean error over the seeds; **<** where the gap exceeds both heads' ranges over "
            "the seeds, **≈** where it does not: within noise).")


def floor_text(errors: dict[str, list[float]], stride: int) -> str:
    """Whether arg-max's quantisation floor is what limits the heatmap head at this point of training."""
    floor = C.argmax_floor(stride)
    e = _mean(errors["heatmap"])
    if e > 2 * floor:
        return (f"The heatmap head's error ({e:.2f} px) is {e / floor:.1f}× its arg-max floor ({floor:.2f} px): "
                "at this budget it is limited by training, not by the quantisation of its cells.")
    return (f"The heatmap head's error ({e:.2f} px) is within 2× of its arg-max floor ({floor:.2f} px): the "
            "quantisation of its cells is now a large part of what it can still lose.")


def floor_line(stride: int) -> str:
    return (f"Arg-max's quantisation floor at stride {stride} is {C.UNIFORM_CELL_MEAN:.3f} × {stride} = "
            f"**{C.argmax_floor(stride):.2f} px**.")


def text(s: C.Snapshot, stride: int, size: int) -> str:
    """The status line (each head's held-out error now), then at the end the verdict, the floor and the heads' table."""
    if not s.final:
        seeds = f"mean of {s.seeds} seeds" if s.seeds > 1 else "one seed"
        now = ", ".join(f"{C.HEAD_LABELS[h]} **{_mean(s.error[h][-1][1]):.2f} px**" for h in C.HEADS)
        return (f"Step {s.step} of {s.steps}, {s.seconds:.0f} s. Held-out mean error ({seeds}): {now}. "
                + floor_line(stride))
    own = {h: per_seed(s.final)[(h, C.OWN[h])] for h in C.HEADS}
    table = final_tables(s, stride, size)[0]
    return (f"{s.steps} steps × {s.seeds} seed{'s' * (s.seeds != 1)}, {s.seconds:.0f} s. " + verdict_text(own) + " "
            + floor_text(own, stride) + "\n\n" + table)


def details(s: C.Snapshot, stride: int, size: int) -> str:
    """At the end: the same maps read by the other decoder, the parameters, and how the race was run; "" before."""
    if not s.final:
        return ""
    other = final_tables(s, stride, size)[1]
    params = "; ".join(f"{C.HEAD_LABELS[h]} {s.parameters[h]:,}" for h in C.HEADS)
    return ("The table above: held-out error in input px, each head read by its own decoder, mean and range (max − "
            "min) over the seeds; bundled: the 128 px model with that head. " + floor_line(stride) + "\n\n"
            + (f"**The same maps read by the other decoder:**\n\n{other}\n\n" if other else "")
            + f"Parameters: {params}. Within a seed every head starts from the same backbone weights and sees "
            "the same batches. The bundled models (last column above) are 128 px models trained for 1500 steps: "
            "one run each, shown for scale, not ranked.")


def _device_within_budget(size: int, steps: int, seeds: int):
    """The device the race runs on; on a CPU, a run estimated over the budget is refused with a sentence."""
    dev = get_device()
    est = C.estimate_seconds(size, steps, seeds, dev.type)
    if dev.type == "cpu" and est > C.CPU_BUDGET_S:
        raise UserInputError(f"On this CPU, {size} px × {steps} steps × {seeds} seed{'s' * (seeds != 1)} would take "
                             f"about {est:.0f} s; the limit here is {C.CPU_BUDGET_S:.0f} s. Lower the steps, the "
                             "seeds or the image size (on a GPU they all fit).")
    return dev


@takes(SIZE, STRIDE, STEPS, SEEDS, COORD_LOSS, HEATMAP_LOSS, seconds=_seconds)
def race(size, stride, steps, seeds, coord_loss, heatmap_loss, report=None):
    """Trains the four keypoint heads (regression, heatmap, integral, SimCC) side by side from scratch on the same backbone and batches, over seeds; yields a dict every few steps (refused on a CPU when the estimate exceeds the budget).
    Returns:
        curves: a plotly figure of each head's training loss (seed 0) and held-out error in input px (mean of the seeds, band their range)
        maps: a plotly figure of a held-out image and each map head's map for one joint
        text: Markdown with each head's held-out error now and arg-max's quantisation floor; at the end an order only beyond the seed spread, and a table of each head read by its own decoder beside the bundled model
        details: Markdown, at the end: the same maps read by the other decoder, each head's parameters, and how the race was run ("" until then)
    """
    dev = _device_within_budget(size, steps, seeds)
    cfg = C.Race(size=size, stride=stride, steps=steps, seeds=seeds, coord_loss=coord_loss, heatmap_loss=heatmap_loss)
    for s in C.run(cfg, device=dev):
        if report:  # the time left is added by the long-run slot (ui.with_eta)
            report(s.step / s.steps, f"step {s.step}/{s.steps}")
        yield {"curves": curves_figure(s, stride), "maps": maps_figure(s, stride), "text": text(s, stride, size),
               "details": details(s, stride, size)}


WAITING = (f"Press <b>Start the race</b>: four heads on the same backbone learn side by side from scratch,<br>"
           f"{C.Race.seeds} seeds × {C.Race.steps} steps on {C.Race.size} px renders ({about(race)}).")


# -- the trend over map resolution, from the bundled models' evaluation table ------------------------------------

TREND = (("heatmap", "argmax"), ("heatmap", "dark"), ("integral", "soft_argmax"), ("simcc", "argmax"))
TREND_LABELS = {("heatmap", "argmax"): "heatmap + arg-max", ("heatmap", "dark"): "heatmap + DARK",
                ("integral", "soft_argmax"): "integral regression", ("simcc", "argmax"): "SimCC (arg-max over bins)"}


def trend_points(rows: list[dict], metric: str = "median_px") -> dict[tuple[str, str], dict[int, float]]:
    """``metric`` (input px) per (head, decoder) and stride, for the default-data bundled models."""
    out: dict[tuple[str, str], dict[int, float]] = {}
    for m in kp.MODELS.values():
        if m.variant != "default" or m.stride is None:
            continue
        for r in rows:
            if r["model"] == m.name and (m.head, r["decoder"]) in TREND:
                out.setdefault((m.head, r["decoder"]), {})[m.stride] = r[metric]
    return out


def _gaps(points) -> dict[int, float] | None:
    hm, sc = points.get(("heatmap", "argmax"), {}), points.get(("simcc", "argmax"), {})
    strides = sorted(set(hm) & set(sc))
    return {s: hm[s] - sc[s] for s in strides} if len(strides) >= 2 else None


def trend_text(median: dict[tuple[str, str], dict[int, float]], mean: dict[tuple[str, str], dict[int, float]]) -> str:
    """SimCC's gap to heatmap + arg-max at each stride, for the median and the mean error, and whether it grows as
    the maps get coarser (the SimCC paper's trend); one trained model per head and stride, so no seed spread."""
    parts = []
    for name, points in (("median", median), ("mean", mean)):
        gaps = _gaps(points)
        if gaps is None:
            return "The SimCC models are not in the evaluation table yet (`make train`, then `make evaluate`)."
        lo, hi = min(gaps), max(gaps)
        grows = "grows" if gaps[hi] > gaps[lo] else "does not grow"
        parts.append(f"{name} {', '.join(f'{gaps[s]:+.2f} px at stride {s}' for s in sorted(gaps))} ({grows} as the "
                     "maps get coarser)")
    return ("Heatmap + arg-max minus SimCC (positive: SimCC's error is lower): " + "; ".join(parts) + ". The median "
            "is the typical joint, where a cell's quantisation shows; the mean also carries the gross failures. The "
            "SimCC paper's trend is a gap that grows as the input and its maps shrink (COCO AP, 64x64 input: 56.4 vs "
            "45.8; 256x192: 75.3 vs 74.4). One trained model per head and stride: the seed spread of these numbers "
            "is not measured, so read them as one run, not a ranking.")


@takes()
def trend() -> dict:
    """The bundled models' error against heatmap stride per head and decoder, read from the evaluation table (pretrained/evaluation.json).
    Returns:
        trend: a plotly figure of each head and decoder's median error (input px) against the map resolution
        trend_text: Markdown with SimCC's median and mean gap to heatmap + arg-max at each stride and whether it grows as the maps get coarser (one run each)
    """
    rows = kp.evaluation.load_rows()
    points = trend_points(rows)
    data = []
    for i, key in enumerate(TREND):
        if key not in points:
            continue
        xs = sorted(points[key])
        head = key[0]
        colour = COLOURS[head] if key != ("heatmap", "dark") else kp.DECODER_COLORS.get("dark", COLOURS[head])
        data.append({"type": "scatter", "x": [f"stride {s} ({kp.DEFAULT_SIZE // s}×{kp.DEFAULT_SIZE // s})" for s in xs],
                     "y": [points[key][s] for s in xs], "mode": "lines+markers", "name": TREND_LABELS[key],
                     "line": {"color": colour, "width": 3, "dash": "dot" if key == ("heatmap", "dark") else "solid"},
                     "marker": {"size": 11, "symbol": SYMBOLS[head]},
                     "hovertemplate": "%{x}: %{y:.2f} px<extra>" + TREND_LABELS[key] + "</extra>"})
    layout = {"xaxis": {"title": {"text": "feature / heatmap resolution (128 px input)"}},
              "yaxis": {"title": {"text": "median error (input px)"}, "rangemode": "tozero"},
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
              "margin": {"l": 70, "r": 20, "t": 60, "b": 110}}
    fig = figure(data, layout, "Bundled models: median error against map resolution (held-out renders)", height=400)
    return {"trend": fig, "trend_text": trend_text(points, trend_points(rows, "mean_px"))}
