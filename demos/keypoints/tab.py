"""Keypoints tab (Gradio wiring only): upload or draw an image, see heatmaps, compare the decoders."""

from __future__ import annotations

import functools
import hashlib
import re
import tempfile
from pathlib import Path

import gradio as gr
import numpy as np
import torch

from demos.common.device import get_device
from demos.common.errors import UserInputError
from demos.common.gpu import gpu
from demos.common.images import load_image
from demos.common.ui import friendly, number

from . import analysis, data, decoders, photo
from .hub import ModelLoadError, bundled_names, load_model
from .training import DEFAULT_HEATMAP_BETA

TAB_ID = "keypoints"
TITLE = "Keypoints"
SUMMARY = ("Direct regression vs heatmaps: upload or draw a figure, see every heatmap and probability map, and "
           "where arg-max and integral regression (soft-argmax) disagree.")
EXAMPLES = Path(__file__).parent / "examples"
PHOTO = "photo"
MODEL_LABELS = {
    "heatmap-s4": "Heatmap head, 32×32 maps (stride 4)",
    "heatmap-s8": "Heatmap head, 16×16 maps (stride 8)",
    "integral-s4": "Integral head, 32×32 maps (stride 4)",
    "integral-s8": "Integral head, 16×16 maps (stride 8)",
    "regression": "Direct regression (FC to 28 numbers)",
    "symmetric-heatmap-s4": "Heatmap head, symmetric data (left = right)",
}
SHOWN_CHOICES = [(decoders.DECODER_LABELS[d], d) for d in decoders.DECODERS]
INTRO = """
**Three ways to predict keypoints.** *Direct regression* maps the image to 2K numbers through FC layers.
*Heatmap* models predict one map per joint; **arg-max** picks the best cell (no sub-pixel accuracy, not
differentiable), **integral regression** takes the soft-max over all cells (temperature β) and then the
expected position (differentiable, sub-pixel). Pick an example (held-out renders with ground truth, or a
NASA photo for the photo model), upload an image, or draw a stick figure — left limbs in red, right limbs in
blue, as in the training data. All models are tiny and trained by this project on rendered figures.
"""


def model_choices() -> list[tuple[str, str]]:
    names = bundled_names()
    ordered = [n for n in MODEL_LABELS if n in names] + [n for n in names if n not in MODEL_LABELS]
    return [(MODEL_LABELS.get(n, n), n) for n in ordered] + [("Photo model: Keypoint R-CNN (COCO, 17 joints)", PHOTO)]


@functools.lru_cache(maxsize=16)
def _model(name: str):
    try:
        return load_model(name, device=get_device())
    except ModelLoadError as e:
        raise UserInputError(f"The model {name!r} cannot be loaded: {e}") from None


@functools.lru_cache(maxsize=1)
def _photo_model():
    return photo.load_photo_model(get_device())


def default_beta(name: str) -> float:
    if name == PHOTO:
        return 1.0
    m = _model(name).model
    return float(m.beta) if m.head_type == "integral" else DEFAULT_HEATMAP_BETA


TRUTH_NAME = re.compile(r"(default|symmetric)-(solid|stick|hand-drawn)-(\d+)")


def truth_for(path, img) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Ground truth for held-out renders: the file name gives variant, style and seed; the seed is re-rendered
    and used only if its pixels equal the image's, so a renamed photo never gets a false ground truth."""
    m = TRUTH_NAME.search(Path(str(path)).stem) if path else None
    if not m:
        return None, None
    s = data.render(int(m.group(3)), variant=m.group(1), style=m.group(2))
    if s.image.shape != np.asarray(img).shape or not np.array_equal(s.image, np.asarray(img)):
        return None, None
    return s.keypoints, s.visible


def _sketch_to_image(sketch):
    if sketch is None:
        raise UserInputError("The sketchpad is empty: draw a figure first.")
    comp = sketch.get("composite") if isinstance(sketch, dict) else sketch
    if comp is None:
        raise UserInputError("The sketchpad is empty: draw a figure first.")
    arr = np.asarray(comp)
    if arr.ndim == 3 and arr.shape[-1] == 4:
        if not (arr[..., 3] > 0).any():
            raise UserInputError("The sketchpad is empty: draw a figure first.")
    elif arr.size == 0 or arr.min() == arr.max():
        raise UserInputError("The sketchpad is empty: draw a figure first.")
    img = load_image(arr)
    # crop to the drawing (plus a margin) so the figure fills the model's view as in training
    g = np.asarray(img.convert("L"))
    ys, xs = np.nonzero(g < 245)
    if len(xs):
        pad = int(0.12 * max(np.ptp(xs) + 1, np.ptp(ys) + 1)) + 4
        x0, x1 = max(0, xs.min() - pad), min(g.shape[1], xs.max() + pad)
        y0, y1 = max(0, ys.min() - pad), min(g.shape[0], ys.max() + pad)
        img = img.crop((x0, y0, x1, y1))
    return img


@gpu
def compute(state, model_name, beta, shown, joint):
    """All outputs for the stored image and the current controls."""
    if state is None:
        raise UserInputError("No image yet: pick an example, upload an image or draw one, then press Analyse.")
    beta = number(beta, "β (soft-max temperature)", 0.01, 1000.0)
    img = state["image"]
    shown = list(shown or [])
    joint_name = joint
    if model_name == PHOTO:
        model, why = _photo_model()
        if model is None:
            raise UserInputError(why)
        arr, people = photo.detect(model, img, beta=beta)
        if not people:
            raise UserInputError("The photo model found no person in this image (score ≥ 0.7). Try a photo "
                                 "with a clearly visible person, or one of the bundled models for drawings.")
        p = people[0]
        probs = decoders.softmax2d(torch.from_numpy(p.logits)[None], beta)[0].numpy()
        pred = analysis.Prediction(arr, p.coords, p.logits, probs, beta,
            joint_names=photo.COCO_KEYPOINTS, skeleton=photo.COCO_SKELETON, stride=1.0, map_coords=p.map_coords)
        shown = shown + ["torchvision"]
        note = (f"Keypoint R-CNN found {len(people)} person(s); showing the best (score {p.score:.2f}). Its "
                "56×56 maps cover the person's box; torchvision decodes them by bicubic up-sampling and arg-max.")
    else:
        loaded = _model(model_name)
        truth, vis = state.get("truth"), state.get("visible")
        pred = analysis.predict(loaded.model, img, beta, truth=truth, visible=vis)
        note = (f"Model **{model_name}**: {loaded.model.describe()} — loaded from {loaded.source} "
                f"({loaded.where}){'; ' + loaded.note if loaded.note else ''}.")
        if truth is None:
            note += " No ground truth for this image."
        if pred.heatmaps is None:
            shown = ["direct"]
    names = list(pred.joint_names)
    k = names.index(joint_name) if joint_name in names else (0 if model_name == PHOTO else names.index("l_wrist"))
    overlay = analysis.overlay_figure(pred, shown)
    if pred.heatmaps is not None:
        grid_h = analysis.grid_figure(pred, "heatmaps")
        grid_p = analysis.grid_figure(pred, "probs")
        zoom = analysis.zoom_figure(pred, k)
    else:
        grid_h = grid_p = zoom = None
        note += " Direct regression has no heatmaps: it outputs the 28 numbers from FC layers."
    table = analysis.joint_table(pred)
    text_csv = table.to_csv(index=False)
    folder = Path(tempfile.gettempdir()) / "kplab-tables"  # one file per distinct table, not one per request
    folder.mkdir(exist_ok=True)
    csv = folder / f"keypoints-{hashlib.sha1(text_csv.encode()).hexdigest()[:12]}.csv"
    csv.write_text(text_csv)
    text = note + "\n\n" + analysis.summary_text(pred)
    return (overlay, grid_h, grid_p, zoom, table, str(csv), text,
            gr.Dropdown(choices=names, value=names[k]))


@friendly
def analyse_image(path, model_name, beta, shown, joint):
    img = load_image(path)
    truth, visible = truth_for(path, img)  # once per image, not on every control change
    state = {"image": img, "truth": truth, "visible": visible}
    return (*compute(state, model_name, beta, shown, joint), state)


def analyse_new_image(path, model_name, beta, shown, joint):
    """A new upload or example runs at once; clearing the image changes nothing."""
    if path is None:
        return (gr.skip(),) * 9
    return analyse_image(path, model_name, beta, shown, joint)


@friendly
def analyse_drawing(sketch, model_name, beta, shown, joint):
    img = _sketch_to_image(sketch)
    state = {"image": img, "truth": None, "visible": None}
    return (*compute(state, model_name, beta, shown, joint), state)


@friendly
def update(state, model_name, beta, shown, joint):
    if state is None:  # nothing analysed yet: controls alone change nothing
        return (gr.skip(),) * 8
    return compute(state, model_name, beta, shown, joint)


@friendly
def change_model(state, model_name, shown, joint):
    beta = default_beta(model_name)
    if state is None:
        return (gr.skip(),) * 8 + (beta,)
    return (*compute(state, model_name, beta, shown, joint), beta)


DEFAULT_EXAMPLE = "default-solid-1000003.png"


URL_JS = """(model, beta) => { const u = new URL(window.location); u.searchParams.set('model', model);
  u.searchParams.set('beta', beta); history.replaceState(null, '', u); }"""


@functools.lru_cache(maxsize=16)
def _first_view(model_name: str, beta: float):
    return analyse_image(str(EXAMPLES / DEFAULT_EXAMPLE), model_name, beta, ("argmax", "soft_argmax"), "l_wrist")


def open_with_settings(request: gr.Request = None):
    """The tab's first view: the default example, with ?model= and ?beta= from the link when given
    (e.g. ?tab=keypoints&model=integral-s8&beta=2). Computed once per setting and cached."""
    q = dict(request.query_params) if request is not None else {}
    names = [n for _, n in model_choices() if n != PHOTO]
    name = q.get("model") if q.get("model") in names else names[0]
    try:
        beta = float(q.get("beta", ""))
        if not 0.1 <= beta <= 200:
            raise ValueError
    except ValueError:
        beta = default_beta(name)
    return (*_first_view(name, beta), name, beta)


def build():
    gr.Markdown(INTRO)
    state = gr.State(None)
    choices = model_choices()
    first = choices[0][1]
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            with gr.Tabs():
                with gr.Tab("Upload or example"):
                    image = gr.Image(type="filepath", label="Image", sources=["upload", "clipboard"], height=260,
                                     elem_id="kp-image")
                    run_img = gr.Button("Analyse image", variant="primary", elem_id="kp-run")
                    ex_slot = gr.Column()
                with gr.Tab("Draw"):
                    sketch = gr.Sketchpad(label="Pick the brush (left), draw a stick figure: red = left limbs, blue = right",
                                          type="numpy", canvas_size=(384, 384), height=400,
                                          brush=gr.Brush(default_size=6, colors=["#111111", "#d62728", "#1f5fbf"],
                                                         color_mode="fixed"), elem_id="kp-sketch")
                    run_draw = gr.Button("Analyse drawing", variant="primary", elem_id="kp-run-draw")
        with gr.Column(scale=3):
            with gr.Row():
                model = gr.Dropdown(choices, value=first, label="Model", elem_id="kp-model", scale=2,
                                    info="The photo model needs torchvision's Keypoint R-CNN weights (226 MB) from the "
                                         "Hub or torchvision; offline it says so and the bundled models keep working.")
                beta = gr.Slider(0.1, 200, value=default_beta(first), step=0.1, label="β: soft-max temperature",
                                 info="probabilities = softmax(β · map); larger β, sharper", elem_id="kp-beta",
                                 scale=2)
            with gr.Row():
                shown = gr.CheckboxGroup(SHOWN_CHOICES, value=["argmax", "soft_argmax"], label="Decoders drawn",
                                         scale=3)
                joint = gr.Dropdown(list(data.JOINTS), value="l_wrist", label="Joint to zoom on", scale=1)
            summary = gr.Markdown(elem_id="kp-summary")
            with gr.Row():
                overlay = gr.Plot(label="Keypoints", elem_id="kp-overlay")
                zoom = gr.Plot(label="Zoom at heatmap resolution", elem_id="kp-zoom")
    with gr.Tabs():
        with gr.Tab("Probability maps"):
            grid_p = gr.Plot(label="Probability maps", elem_id="kp-grid-probs")
        with gr.Tab("Raw heatmaps"):
            grid_h = gr.Plot(label="Heatmaps", elem_id="kp-grid-heatmaps")
        with gr.Tab("Per-joint table"):
            table = gr.Dataframe(label="Per joint (input px)", elem_id="kp-table", max_height=520)
            csv = gr.DownloadButton("Download table as CSV", elem_id="kp-csv")
    outs = [overlay, grid_h, grid_p, zoom, table, csv, summary, joint]
    files = sorted(EXAMPLES.glob("*.png")) + sorted(EXAMPLES.glob("photo-*.jpg"))
    with ex_slot:
        gr.Examples([str(f) for f in files], inputs=image, examples_per_page=12, elem_id="kp-examples",
                    label="Examples: held-out renders (ground truth known) and a NASA photo")
    run_img.click(analyse_image, [image, model, beta, shown, joint], outs + [state], api_name="analyse_image")
    image.change(analyse_new_image, [image, model, beta, shown, joint], outs + [state], api_name="analyse_new_image")
    run_draw.click(analyse_drawing, [sketch, model, beta, shown, joint], outs + [state], api_name="analyse_drawing")
    model.input(change_model, [state, model, shown, joint], outs + [beta], api_name="change_model").then(
        None, [model, beta], None, js=URL_JS)
    beta.release(update, [state, model, beta, shown, joint], outs, api_name="set_beta").then(
        None, [model, beta], None, js=URL_JS)
    shown.change(update, [state, model, beta, shown, joint], outs, api_name="set_decoders")
    joint.input(update, [state, model, beta, shown, joint], outs, api_name="set_joint")
    gr.context.Context.root_block.load(open_with_settings, None, outs + [state, model, beta],
                                       api_visibility="private")
