"""The "Beyond the lecture" tab's views: parameter records and the functions the tab wires (no Gradio here).

Each view takes checked values (see ``demos.common.params``) and returns a dict of named outputs. The
docstrings are what an assistant reads when it calls these endpoints as MCP tools: each says what it returns.
"""

from __future__ import annotations

import base64

import demos.keypoints as kp
from demos.common.errors import UserInputError
from demos.common.images import load_image
from demos.common.params import Choice, Opaque, Param, takes

from . import bias, grouping, jitter

# -- Debias-IPR on synthetic maps ---------------------------------------------------------------------------------

HEIGHT = Param("height", "peak height", 0.1, 40, 1.0, 0.1, help="the Gaussian's maximum; the background is 0")
BETA = Param("beta", "β: inverse temperature", 0.1, 50, 1.0, 0.1, help="probabilities = softmax(β · map)")
PEAK_X = Param("peak_x", "peak x", 4, 60, 16, 0.5, "cells", "on a 64 × 64 map; its centre is (32, 32)")
PEAK_Y = Param("peak_y", "peak y", 4, 60, 16, 0.5, "cells")


@takes(HEIGHT, BETA, PEAK_X, PEAK_Y)
def debias(height, beta, peak_x, peak_y) -> dict:
    """Soft-argmax and Debias-IPR (Gu et al., ICCV 2021) on one Gaussian peak of a 64 x 64 map whose background is 0.

    Args:
        height: the peak's maximum
        beta: the soft-max's inverse temperature
        peak_x: the peak's x in cells (the map's centre is 32)
        peak_y: the peak's y in cells
    Returns:
        map: a plotly figure of softmax(beta * map) with the true peak, the map's centre and both estimates
        sweep: a plotly figure of both decoders' distance to the peak (cells) against the peak's height
        text: Markdown stating both distances and how far soft-argmax was pulled toward the centre
    """
    est = bias.estimates(peak_x, peak_y, height, beta)
    return {"map": bias.figure_map(peak_x, peak_y, height, beta, est),
            "sweep": bias.figure_sweep(peak_x, peak_y, height, beta),
            "text": bias.sentence(peak_x, peak_y, height, beta, est)}


MODEL = Choice("model", "model", tuple((kp.MODELS[n].label, n) for n in bias.heatmap_models()),
               bias.heatmap_models()[0], help="a bundled model with heatmaps (its held-out maps)")


@takes(MODEL, seconds=0.4)  # bench worst, fresh process: 0.2-0.3 s
def debias_on_model(model) -> dict:
    """Soft-argmax against Debias-IPR on one bundled model's heatmaps of 64 held-out images, at beta 1, 5 and 20.

    Args:
        model: the name of a bundled model with heatmaps
    Returns:
        text: Markdown, one line per beta (both decoders' mean error in input px on the same maps, and the share of joints soft-argmax puts nearer the image centre than the truth), then the table
    """
    rows = bias.model_rows(model)
    return {"text": bias.model_sentence(model, rows) + "\n\n" + bias.model_table(rows)}


# -- jitter over time -------------------------------------------------------------------------------------------

J_MODEL = Choice("j_model", "model", MODEL.options, MODEL.default)
JOINT = Choice("joint", "joint drawn", tuple((n.replace("_", " "), n) for n in kp.JOINTS), "l_wrist")
SPEED = Choice("speed", "speed (input px per frame)", tuple((f"{v:g} px", v) for v in (0.1, 0.2, 0.3, 0.5, 1.0)), 0.1,
               help=f"multiples of 1/{jitter.FACTOR} px: the figure is rendered {jitter.FACTOR}× larger and shifted by "
                    "whole pixels of that render")
FRAMES = Param("frames", "frames", 20, 60, 40, 1, integer=True)
SEED = Param("seed", "first figure", 0, 999, 0, 1, integer=True,
             help=f"{jitter.FIGURES} figures are measured (this seed and the next ones): the spread of the jitter")


def _jitter_seconds(frames, **_):
    # CPU seconds measured with one torch thread: 2.0-2.3 s at 40 frames, 2.8-3.3 s at 60 (3 figures)
    return jitter.FIGURES * (0.15 + 0.015 * frames)


@takes(J_MODEL, JOINT, SPEED, FRAMES, SEED, seconds=_jitter_seconds)
def jitter_run(j_model, joint, speed, frames, seed) -> dict:
    """A rendered figure moving sideways by a fraction of a pixel per frame, decoded frame by frame by every decoder.

    Args:
        j_model: the name of a bundled model with heatmaps
        joint: the joint whose track is drawn
        speed: input px per frame
        frames: number of frames
        seed: the first figure (three figures are measured: this one and the next two)
    Returns:
        tracks: a plotly figure of the joint's x over the frames, the truth and each decoder
        frames: a plotly image of the first and last frame
        text: Markdown with the jitter per decoder (RMS of the frame-to-frame velocity error, input px per frame; mean and min-max over the figures), the mean error, and arg-max's jumps
    """
    res = jitter.measure(j_model, kp.HELDOUT_SEED0 + seed, frames, speed)
    j = kp.JOINTS.index(joint)
    return {"tracks": jitter.figure_tracks(res, j), "frames": jitter.figure_frames(res, j),
            "text": jitter.summary(res, j) + "\n\n" + jitter.table(res)}


# -- jitter from the webcam, as a stream ------------------------------------------------------------------------

FRAME = Opaque("frame")
HISTORY = Opaque("history")
STREAM_EVERY = 0.25  # seconds between two frames the page sends (none while the last one is being computed)
STREAM_LIMIT_S = 30  # server time one recording may take (then press record again: a new history after a pause)
STREAMS = 4  # webcam streams computed at once (each about 0.25 of a core at 4 frames a second); more wait in line
CAMERA = {"video": {"width": {"ideal": 640}, "height": {"ideal": 480}}}  # the page asks the camera for this size
MAX_FRAME_PIXELS = 1920 * 1440  # larger frames are refused before decoding
NO_FRAME = "No camera frame arrived: allow this page to use the camera, then press the webcam's record button."
BROKEN_FRAME = "This camera frame could not be read as an image; the figures keep the frames before it."


def _camera_frame(frame):
    """The frame as an RGB image: a ``data:`` URL (what the page streams), a path, bytes or an array."""
    if frame is None:
        raise UserInputError(NO_FRAME, outputs={"text": NO_FRAME})
    if isinstance(frame, str) and frame.startswith("data:"):
        try:
            frame = base64.b64decode(frame.split(",", 1)[1], validate=True)
        except (IndexError, ValueError):
            raise UserInputError(BROKEN_FRAME, outputs={"text": BROKEN_FRAME}) from None
    try:
        return load_image(frame, max_pixels=MAX_FRAME_PIXELS)
    except UserInputError as e:
        raise UserInputError(f"{e} {BROKEN_FRAME}", outputs={"text": f"{e} {BROKEN_FRAME}"}) from None


# Seconds per frame with one torch thread, 640 x 480 JPEG frames as the page streams them, 60 frames of history:
# median 17-21 ms (heatmap-s4) and 19-23 ms (integral-s4), p90 21-36 ms, on a 2-core machine shared with other work;
# the forward pass alone was about half of it (9-11 ms). A quick view: never a ZeroGPU request.
@takes(FRAME, J_MODEL, JOINT, HISTORY, seconds=0.025)
def jitter_webcam(frame, j_model, joint, history) -> dict:
    """One webcam frame of a stream: the model runs once on it, every decoder reads its maps, and the frame joins the
    session's history (the last 60 frames); each decoder's jitter of one joint over that history, with no truth (the
    change of velocity from one frame to the next).

    Args:
        frame: the camera frame (a data: URL, an image path or an array)
        j_model: the name of a bundled model with heatmaps
        joint: the joint whose tracks are drawn
        history: the frames so far (the stream's state; None starts a new one)
    Returns:
        tracks: a plotly figure of the joint's x and y (camera px) over the last frames, one line per decoder
        text: Markdown stating the lowest jitter and arg-max against soft-argmax only beyond the spread over the two halves of the frames, arg-max's jumps in whole cells, whether the frame looks unlike the training renders, and the table of jitters
        history: the updated history, to send with the next frame
    """
    img = _camera_frame(frame)
    hist = jitter.camera_step(j_model, img, history)
    j = kp.JOINTS.index(joint)
    return {"tracks": jitter.figure_camera(hist, j), "text": jitter.camera_summary(hist, j), "history": hist}


# -- bottom-up against top-down ----------------------------------------------------------------------------------

G_MODELS = tuple(n for n, r in kp.MODELS.items() if r.head == "heatmap" and r.variant == "default")
G_MODEL = Choice("g_model", "model", tuple((kp.MODELS[n].label, n) for n in G_MODELS), G_MODELS[0],
                 help="a single-figure heatmap model: its peaks above the threshold are the candidates")
SCENES = Param("scenes", "scenes per figure count", 3, 10, 5, 1, integer=True,
               help="the spread over scenes decides whether an order is stated")
THRESHOLD = Param("threshold", "peak threshold", 0.1, 0.9, 0.3, 0.05,
                  help="a local maximum of a joint's map above this is a candidate (bottom-up)")


def _grouping_seconds(scenes, threshold, **_):
    # bench worst (one torch thread, fresh process) in two sittings: 5 scenes at threshold 0.3 1.5 s and 0.9 s,
    # 10 scenes at 0.1 (a low threshold finds more candidates to group) 3.4 s and 2.2 s
    return (0.4 + 0.16 * scenes) * (1 + 2 * max(0.0, 0.3 - threshold))


@takes(G_MODEL, SCENES, THRESHOLD, seconds=_grouping_seconds)
def grouping_run(g_model, scenes, threshold) -> dict:
    """Bottom-up (peaks, then greedy grouping along the skeleton) against top-down (one crop per figure, from its true
    box) on scenes of 1, 2 and 3 figures, with the same model and the same sub-cell rule.

    Args:
        g_model: the name of a single-figure heatmap model
        scenes: scenes per figure count
        threshold: a joint map's local maximum above this is a candidate (bottom-up)
    Returns:
        curves: a plotly figure of the share of joints correct and the milliseconds per image against the number of figures (range over scenes as bars)
        scene: a plotly image of one two-figure scene with both pipelines' skeletons
        text: Markdown, one sentence per figure count, then the table
    """
    rows = grouping.measure(g_model, scenes, threshold)
    agg = grouping.aggregate(rows)
    return {"curves": grouping.figure_curves(agg), "scene": grouping.figure_scene(g_model, 0, 2, threshold),
            "text": grouping.summary(agg) + "\n\n" + grouping.table(agg) +
            "\n\n*Top-down's boxes come from the true keypoints (a perfect detector, not timed); milliseconds are "
            f"the CPU time of the computing thread on this server, median of {grouping.REPEATS} runs per scene.*"}
