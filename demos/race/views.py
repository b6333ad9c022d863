"""The head race's views: parameter records and the run the tab wires (no Gradio here)."""

from __future__ import annotations

import numpy as np

import demos.keypoints as kp
from demos.common.device import get_device
from demos.common.errors import UserInputError
from demos.common.params import Choice, Param, takes
from demos.common.plotstyle import figure, subplot_grid

from . import compute as C

SIZE = Choice("size", "image size (px)", (("64 × 64", 64), ("96 × 96", 96), ("128 × 128 (GPU)", 128)), 64,
              help="the bundled models use 128 px; on a 2-core CPU only 64 px fits a one-minute run")
STRIDE = Choice("stride", "heatmap stride", (("4 (16×16 maps at 64 px)", 4), ("8 (8×8 maps at 64 px)", 8)), 4,
                help=f"arg-max cannot beat {C.UNIFORM_CELL_MEAN:.3f} × stride px on average (its cell's quantisation)")
STEPS = Param("steps", "training steps (each head)", 50, 400, 200, 10, integer=True,
              help=f"200 steps at 64 px take about 40 s on a 2-core CPU; runs estimated over {C.CPU_BUDGET_S:.0f} s are "
                   "refused there (a GPU takes them all)")
COORD_LOSS = Choice("coord_loss", "loss on coordinates (regression, integral)",
                    (("L1 |ŷ − y|", "l1"), ("L2 |ŷ − y|²", "l2")), "l1")
HEATMAP_LOSS = Choice("heatmap_loss", "loss of the heatmap head",
                      (("MSE to a Gaussian", "mse"), ("cross-entropy over cells", "ce")), "mse",
                      help="cross-entropy treats the map as a classification over its cells")

COLOURS = {"regression": kp.DECODER_COLORS["direct"], "heatmap": kp.DECODER_COLORS["argmax"],
           "integral": kp.DECODER_COLORS["soft_argmax"]}
SYMBOLS = {"regression": kp.DECODER_SYMBOLS["direct"], "heatmap": kp.DECODER_SYMBOLS["argmax"],
           "integral": kp.DECODER_SYMBOLS["soft_argmax"]}
WAITING = ("Press <b>Start the race</b>: three heads on the same backbone learn side by side from scratch,<br>"
           "200 steps on 64 px renders (about 40 s on a 2-core CPU, a few seconds on a GPU).")


def _smooth(y: list[float], w: int = 10) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    if len(y) < w:
        return np.arange(1, len(y) + 1), y
    return np.arange(w, len(y) + 1), np.convolve(y, np.ones(w) / w, mode="valid")


def curves_figure(s: C.Snapshot, stride: int):
    axes, layout = subplot_grid(1, 2, hspace=0.1, vspace=0.0,
                                titles=("training loss (each head's own; average of 10 steps)",
                                        f"held-out error: {s.n_eval} renders, visible joints"))
    data = []
    for h in C.HEADS:
        x, y = _smooth(s.loss[h])
        data.append({"type": "scatter", "x": x, "y": y, "mode": "lines", "name": C.HEAD_LABELS[h], "legendgroup": h,
                     "line": {"color": COLOURS[h], "width": 3}, "xaxis": "x", "yaxis": "y"})
        ex, ey = zip(*s.error[h])
        data.append({"type": "scatter", "x": ex, "y": ey, "mode": "lines+markers", "name": C.HEAD_LABELS[h],
                     "legendgroup": h, "showlegend": False, "xaxis": "x2", "yaxis": "y2",
                     "line": {"color": COLOURS[h], "width": 3},
                     "marker": {"symbol": SYMBOLS[h], "size": 9, "color": COLOURS[h]},
                     "hovertemplate": "step %{x}: %{y:.2f} px<extra>" + C.HEAD_LABELS[h] + "</extra>"})
    floor = C.argmax_floor(stride)
    data.append({"type": "scatter", "x": [0, s.steps], "y": [floor, floor], "mode": "lines", "xaxis": "x2",
                 "yaxis": "y2", "name": f"arg-max floor at stride {stride}: {floor:.2f} px",
                 "line": {"color": COLOURS["heatmap"], "width": 2, "dash": "dash"}})
    layout["xaxis"] |= {"title": {"text": "step"}, "range": [0, s.steps]}
    layout["yaxis"] |= {"type": "log", "dtick": 1, "title": {"text": "loss (log)"}}
    layout["xaxis2"] |= {"title": {"text": "step"}, "range": [0, s.steps]}
    layout["yaxis2"] |= {"title": {"text": "error (input px)"}, "rangemode": "tozero"}
    layout |= {"legend": {"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0},
               "margin": {"l": 70, "r": 20, "t": 70, "b": 120}}
    title = f"Three heads, one backbone: step {s.step} of {s.steps} ({s.seconds:.0f} s)"
    return figure(data, layout, title, height=430)


def maps_figure(s: C.Snapshot, stride: int):
    S = s.image.shape[0]
    joint = kp.JOINTS[C.JOINT].replace("_", " ")
    axes, layout = subplot_grid(1, 3, hspace=0.04, vspace=0.0,
                                titles=("held-out image: each head's joints", f"heatmap head: raw map, {joint}",
                                        f"integral head: soft-max, {joint}"))
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
    for i, h in ((2, "heatmap"), (3, "integral")):
        m = s.maps[h]
        n = m.shape[-1]
        data.append({"type": "heatmap", "z": m, "x": np.arange(n) + 0.5, "y": np.arange(n) + 0.5, "showscale": False,
                     "colorscale": "Viridis", "xaxis": f"x{i}", "yaxis": f"y{i}",
                     "hovertemplate": "cell (%{x}, %{y}): %{z:.3f}<extra></extra>"})
        data.append({"type": "scatter", "x": [t[C.JOINT, 0] / stride], "y": [t[C.JOINT, 1] / stride],
                     "mode": "markers", "showlegend": False, "xaxis": f"x{i}", "yaxis": f"y{i}",
                     "marker": {"color": "white", "size": 13, "symbol": "x-thin", "line": {"width": 3, "color": "white"}},
                     "hoverinfo": "skip"})
    layout["xaxis"] |= {"range": [0, S], "showgrid": False, "showticklabels": False, "constrain": "domain"}
    layout["yaxis"] |= {"range": [S, 0], "showgrid": False, "showticklabels": False, "scaleanchor": "x"}
    n = s.maps["heatmap"].shape[-1]
    for i in (2, 3):
        layout[f"xaxis{i}"] |= {"range": [0, n], "showgrid": False, "showticklabels": False, "constrain": "domain"}
        layout[f"yaxis{i}"] |= {"range": [n, 0], "showgrid": False, "showticklabels": False, "scaleanchor": f"x{i}"}
    layout |= {"legend": {"orientation": "h", "yanchor": "top", "y": -0.04, "x": 0},
               "margin": {"l": 10, "r": 10, "t": 60, "b": 40}}
    return figure(data, layout, f"The maps sharpen as the heads learn (step {s.step}); white × = ground truth",
                  height=380)


def bundled_rows(stride: int) -> dict[tuple[str, str], dict]:
    """The evaluation table's rows for the bundled models with the race's heads and stride, by (head, decoder)."""
    names = {"regression": "regression", "heatmap": f"heatmap-s{stride}", "integral": f"integral-s{stride}"}
    rows = {(r["model"], r["decoder"]): r for r in kp.evaluation.load_rows()}
    return {(h, d): rows[(m, d)] for h, m in names.items() for d in ("direct", "argmax", "soft_argmax")
            if (m, d) in rows}


OWN = {"regression": "direct", "heatmap": "argmax", "integral": "soft_argmax"}  # each head's own decoding


def final_table(s: C.Snapshot, stride: int, size: int) -> str:
    ref = bundled_rows(stride)
    lines = ["| head | decoder | mean error (px) | median (px) | PCK@10% | mean, % of image | bundled model, % of "
             "image |", "|---|---|---|---|---|---|---|"]
    for r in s.final:
        dec = kp.POINT_LABELS.get(r["decoder"], r["decoder"])
        b = ref.get((r["head"], r["decoder"]))
        bundled = f"{100 * b['mean_px'] / kp.DEFAULT_SIZE:.1f} %" if b else "-"
        lines.append(f"| {C.HEAD_LABELS[r['head']]} | {dec} | {r['mean_px']:.2f} | {r['median_px']:.2f} | "
                     f"{r['pck10']:.2f} | {100 * r['mean_px'] / size:.1f} % | {bundled} |")
    return "\n".join(lines)


def ranking(s: C.Snapshot, stride: int) -> str:
    """Whether the race ranks the heads (each with its own decoding) as the bundled models' table does."""
    ours = {r["head"]: r["mean_px"] for r in s.final if r["decoder"] == OWN[r["head"]]}
    ref = bundled_rows(stride)
    theirs = {h: ref[(h, d)]["mean_px"] for h, d in OWN.items() if (h, d) in ref}
    order = lambda d: [C.HEAD_LABELS[h] for h in sorted(d, key=d.get)]  # noqa: E731
    if len(theirs) < 3:
        return ""
    same = order(ours) == order(theirs)
    return (f"Best to worst here: {' < '.join(order(ours))}; the bundled models (128 px, 1500 steps, stride "
            f"{stride}, README's table): {' < '.join(order(theirs))}: "
            + ("**the same order**." if same else "**a different order** (a short run is noisy: try more steps)."))


def text(s: C.Snapshot, stride: int, size: int) -> str:
    now = ", ".join(f"{C.HEAD_LABELS[h]} **{s.error[h][-1][1]:.2f} px**" for h in C.HEADS)
    floor = C.argmax_floor(stride)
    out = (f"Step {s.step} of {s.steps}, {s.seconds:.0f} s. Held-out mean error: {now}. Arg-max's quantisation "
           f"floor at stride {stride} is {C.UNIFORM_CELL_MEAN:.3f} × {stride} = **{floor:.2f} px** "
           "(a keypoint uniform in its cell, decoded to the cell's centre).")
    if s.final:
        out += ("\n\n" + final_table(s, stride, size) + "\n\nSame backbone, same renders, same batches and steps for "
                "each head. " + ranking(s, stride))
    return out


def _budget(size: int, steps: int) -> str:
    dev = get_device()
    est = C.estimate_seconds(size, steps, dev.type)
    if dev.type == "cpu" and est > C.CPU_BUDGET_S:
        raise UserInputError(f"On this CPU, {size} px × {steps} steps would take about {est:.0f} s; the limit here is "
                             f"{C.CPU_BUDGET_S:.0f} s. Lower the steps or the image size (on a GPU both fit).")
    return dev


def duration(size, stride, steps, coord_loss, heatmap_loss) -> int:
    """Seconds ZeroGPU reserves for a race (its estimate on a GPU, with room to spare)."""
    return int(20 + 2 * C.estimate_seconds(size, steps, "cuda"))


@takes(SIZE, STRIDE, STEPS, COORD_LOSS, HEATMAP_LOSS, seconds=lambda size, steps, **_: C.estimate_seconds(size, steps))
def race(size, stride, steps, coord_loss, heatmap_loss, report=None):
    dev = _budget(size, steps)
    cfg = C.Race(size=size, stride=stride, steps=steps, coord_loss=coord_loss, heatmap_loss=heatmap_loss)
    for s in C.run(cfg, device=dev):
        if report:
            report(s.step / s.steps, f"step {s.step}/{s.steps}")
        yield {"curves": curves_figure(s, stride), "maps": maps_figure(s, stride), "text": text(s, stride, size)}
