"""The keypoints tab's views: parameter records and the functions the tab wires (no Gradio here).

The image a person picked is decoded once (``load_image``) and kept with its ground truth in the session
state; every control change recomputes from that state.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from demos.common.device import get_device
from demos.common.errors import UserInputError
from demos.common.images import load_image
from demos.common.params import Choice, Many, Opaque, Param, Update, takes

from . import analysis, data, decoders, photo
from .hub import ModelLoadError, bundled_names, load_model
from .registry import MODELS, PHOTO, PHOTO_LABEL
from .training import DEFAULT_HEATMAP_BETA

EXAMPLES = Path(__file__).parent / "examples"
DEFAULT_EXAMPLE = "default-solid-1000003.png"
TABLES = Path(tempfile.gettempdir()) / "kplab-tables"
TABLE_MAX_AGE_S = 600  # per-joint CSVs are removed ten minutes after they were written


def model_choices() -> tuple[tuple[str, str], ...]:
    names = bundled_names()
    listed = [(m.label, m.name) for m in MODELS.values() if m.name in names]
    return tuple(listed) + ((PHOTO_LABEL, PHOTO),)


MODEL = Choice("model", "Model", model_choices(), model_choices()[0][1],
               help="The photo model needs torchvision's Keypoint R-CNN weights (226 MB) from the Hub or torchvision; "
                    "offline it says so and the bundled models keep working.")
BETA = Param("beta", "β: inverse temperature of the soft-max", 0.1, 200, DEFAULT_HEATMAP_BETA, 0.1,
             help="probabilities = softmax(β · map), T = 1/β; small β pulls the integral point toward the map's centre")
SHOWN = Many("shown", "Decoders drawn", tuple((d.label, d.name) for d in decoders.REGISTRY.values() if d.in_lab),
             ("argmax", "soft_argmax"))
JOINT = Choice("joint", "Joint to zoom on", tuple((j, j) for j in dict.fromkeys(data.JOINTS + photo.COCO_KEYPOINTS)),
               "l_wrist")
IMAGE = Opaque("image")
SKETCH = Opaque("sketch")
STATE = Opaque("state")


@functools.lru_cache(maxsize=16)
def _model(name: str):
    try:
        return load_model(name, device=get_device())
    except ModelLoadError as e:
        raise UserInputError(f"The model {name!r} cannot be loaded: {e}") from None


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


def sketch_to_image(sketch):
    empty = "The sketchpad is empty: draw a figure first."
    comp = sketch.get("composite") if isinstance(sketch, dict) else sketch
    if comp is None:
        raise UserInputError(empty)
    arr = np.asarray(comp)
    if arr.dtype == object or arr.ndim not in (2, 3):
        raise UserInputError("The drawing could not be read: draw on the sketchpad and press Analyse drawing.")
    if arr.ndim == 3 and arr.shape[-1] == 4:
        if not (arr[..., 3] > 0).any():
            raise UserInputError(empty)
    elif arr.size == 0 or arr.min() == arr.max():
        raise UserInputError(empty)
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


def write_table_csv(text_csv: str) -> str:
    """One file per distinct table (content-addressed); files older than TABLE_MAX_AGE_S are removed."""
    TABLES.mkdir(exist_ok=True)
    now = time.time()
    for old in TABLES.glob("keypoints-*.csv"):
        try:
            if now - old.stat().st_mtime > TABLE_MAX_AGE_S:
                old.unlink()
        except OSError:
            pass
    csv = TABLES / f"keypoints-{hashlib.sha1(text_csv.encode()).hexdigest()[:12]}.csv"
    csv.write_text(text_csv)
    return str(csv)


def compute(state, model_name, beta, shown, joint) -> dict:
    """All outputs for the stored image and the current controls."""
    if not isinstance(state, dict) or "image" not in state:
        raise UserInputError("No image yet: pick an example, upload an image or draw one, then press Analyse.")
    img = state["image"]
    shown = list(shown or [])
    if model_name == PHOTO:
        model, why = photo.load_photo_model(get_device())
        if model is None:
            raise UserInputError(why)
        arr, people = photo.detect(model, img, beta=beta)
        if not people:
            raise UserInputError("The photo model found no person in this image (score ≥ 0.7). Try a photo "
                                 "with a clearly visible person, or one of the bundled models for drawings.")
        p = people[0]
        probs = decoders.softmax2d(torch.from_numpy(p.logits)[None], beta)[0].numpy()
        pred = analysis.Prediction(arr, p.coords, p.logits, probs, beta, joint_names=photo.COCO_KEYPOINTS,
                                   skeleton=photo.COCO_SKELETON, stride=1.0, map_coords=p.map_coords)
        shown = shown + ["torchvision"]
        note = (f"Keypoint R-CNN found {len(people)} person(s); showing the best (score {p.score:.2f}). Its "
                "56×56 maps cover the person's box; torchvision decodes them by bicubic up-sampling and arg-max.")
    else:
        loaded = _model(model_name)
        truth, vis = state.get("truth"), state.get("visible")
        # the forward pass depends on the image and model only: kept in the session for beta/decoder/joint changes
        outputs = state.setdefault("outputs", {})
        if model_name not in outputs:
            outputs.clear()
            outputs[model_name] = analysis.forward(loaded.model, img)
        pred = analysis.predict(loaded.model, img, beta, truth=truth, visible=vis, forwarded=outputs[model_name])
        note = (f"Model **{model_name}**: {loaded.model.describe()} — loaded from "
                f"{'the Hub' if loaded.source.startswith('hub') else 'the bundled copy'} ({loaded.where})"
                f"{'; ' + loaded.note if loaded.note else ''}.")
        if truth is None:
            note += " No ground truth for this image."
        if pred.heatmaps is None:
            shown = ["direct"]
    names = list(pred.joint_names)
    k = names.index(joint) if joint in names else (0 if model_name == PHOTO else names.index("l_wrist"))
    out = {"overlay": analysis.overlay_figure(pred, shown)}
    if pred.heatmaps is not None:
        out |= {"grid_h": analysis.grid_figure(pred, "heatmaps"), "grid_p": analysis.grid_figure(pred, "probs"),
                "zoom": analysis.zoom_figure(pred, k)}
    else:
        out |= {"grid_h": None, "grid_p": None, "zoom": None}
        note += " Direct regression has no heatmaps: it outputs the 28 numbers from FC layers."
    table = analysis.joint_table(pred)
    out |= {"table": table, "csv": write_table_csv(table.to_csv(index=False)),
            "summary": note + "\n\n" + analysis.summary_text(pred), "joint": Update(choices=names, value=names[k])}
    return out


@takes(IMAGE, MODEL, BETA, SHOWN, JOINT)
def analyse_image(image, model, beta, shown, joint) -> dict:
    img = load_image(image)
    truth, visible = truth_for(image, img)  # once per image, not on every control change
    state = {"image": img, "truth": truth, "visible": visible}
    return compute(state, model, beta, shown, joint) | {"state": state}


@takes(IMAGE, MODEL, BETA, SHOWN, JOINT)
def analyse_new_image(image, model, beta, shown, joint) -> dict:
    """A new upload or example runs at once; clearing the image changes nothing."""
    if image is None:
        return {}
    return analyse_image.raw(image, model, beta, shown, joint)


@takes(SKETCH, MODEL, BETA, SHOWN, JOINT)
def analyse_drawing(sketch, model, beta, shown, joint) -> dict:
    state = {"image": sketch_to_image(sketch), "truth": None, "visible": None}
    return compute(state, model, beta, shown, joint) | {"state": state}


@takes(STATE, MODEL, BETA, SHOWN, JOINT)
def update(state, model, beta, shown, joint) -> dict:
    if state is None:  # nothing analysed yet: controls alone change nothing
        return {}
    return compute(state, model, beta, shown, joint)


@takes(STATE, MODEL, SHOWN, JOINT)
def change_model(state, model, shown, joint) -> dict:
    beta = default_beta(model)
    if state is None:
        return {"beta": beta}
    return compute(state, model, beta, shown, joint) | {"beta": beta}


@functools.lru_cache(maxsize=16)
def first_view(model: str, beta: float) -> dict:
    """The tab's first view: the default example with these settings, computed once per setting."""
    return analyse_image(str(EXAMPLES / DEFAULT_EXAMPLE), model, beta, ("argmax", "soft_argmax"), "l_wrist")


def from_link(query: dict) -> dict:
    """The first view for ?model= and ?beta= from a link (e.g. ?tab=keypoints&model=integral-s8&beta=2);
    unknown or out-of-range values fall back to the defaults."""
    names = [n for _, n in MODEL.options if n != PHOTO]
    name = query.get("model") if query.get("model") in names else names[0]
    try:
        beta = BETA.check(query.get("beta"))
    except UserInputError:
        beta = default_beta(name)
    return first_view(name, beta) | {"model": name, "beta": beta}


def example_files() -> list[str]:
    return [str(f) for f in sorted(EXAMPLES.glob("*.png")) + sorted(EXAMPLES.glob("photo-*.jpg"))]
