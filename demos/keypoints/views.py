"""The keypoints tab's views: parameter records and the functions the tab wires (no Gradio here).

The image a person picked is decoded once (``load_image``) and kept with its ground truth in the session
state; every control change recomputes from that state.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from demos.common.device import get_device
from demos.common.errors import UserInputError
from demos.common.files import prune
from demos.common.images import load_image
from demos.common.params import Choice, Many, Opaque, Param, Update, takes
from demos.common.plotstyle import placeholder

from . import analysis, data, decoders, occlusion, photo, unet
from .hub import ModelLoadError, bundled_names, get_loaded
from .registry import MODELS, PHOTO, PHOTO_LABEL, model_for
from .training import DEFAULT_HEATMAP_BETA

EXAMPLES = Path(__file__).parent / "examples"
DEFAULT_EXAMPLE = "default-solid-1000003.png"
TABLES = Path(tempfile.gettempdir()) / "kplab-tables"
TABLE_MAX_AGE_S = 600  # per-joint CSVs are removed ten minutes after they were written


def model_choices() -> tuple[tuple[str, str], ...]:
    names = bundled_names()
    listed = [(m.label, m.name) for m in MODELS.values() if m.name in names]
    return tuple(listed) + ((PHOTO_LABEL, PHOTO),)


MODEL = Choice("model", "Model", model_choices(), model_for("default").name,
               help="The photo model needs torchvision's Keypoint R-CNN weights (226 MB) from the Hub or torchvision; "
                    "offline it says so and the bundled models keep working.")
BETA = Param("beta", "β: inverse temperature of the soft-max", 0.1, 200, DEFAULT_HEATMAP_BETA, 0.1,
             help="probabilities = softmax(β · map), T = 1/β; small β pulls the integral point toward the map's centre")
SHOWN = Many("shown", "Decoders drawn", tuple((d.label, d.name) for d in decoders.REGISTRY.values() if d.in_lab),
             ("argmax", "soft_argmax"))
JOINT = Choice("joint", "Joint to zoom on", tuple((j, j) for j in dict.fromkeys(data.JOINTS + photo.COCO_KEYPOINTS)),
               "l_wrist")
OCC_JOINT = Choice("occ_joint", "Joint to cover", (("none (the image as it was)", "none"),) +
                   tuple((j.replace("_", " "), j) for j in data.JOINTS), "l_wrist")
OCC_SIZE = Param("occ_size", "Occluder size", 0, 64, 24, 2, unit="px of the 128 px input",
                 help="side of the box, or length of the bar")
OCC_SHAPE = Choice("occ_shape", "Occluder", (("grey box", "box"), ("limb-coloured bar (a distractor limb)", "bar")),
                   "box")
SCENE_SEED = Param("scene_seed", "Two-figure scene", 0, 99, 0, 1, integer=True,
                   help="a rendered scene with two figures side by side (seed)")
IMAGE = Opaque("image")
SKETCH = Opaque("sketch")
STATE = Opaque("state")


def _model(name: str):
    """The package's one cached copy of a bundled model (``get_loaded``, shared with the occlusion curve and the
    other topics), with a load failure as a sentence."""
    try:
        return get_loaded(name)
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
    prune(TABLES, TABLE_MAX_AGE_S, pattern="keypoints-*.csv")
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
        if state.get("figures") is not None:
            pred.extra["figures"] = state["figures"]
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


def _bundled(model: str, what: str):
    if model == PHOTO:
        raise UserInputError(f"{what} works with the bundled models (rendered figures): pick one of them in Model.")
    return _model(model).model


def _occlusion_note(model, before: dict, after: dict, j: int, beta: float, occ: dict) -> str:
    r = occlusion.response(before, after, j, beta, model.input_size)
    name = data.JOINTS[j].replace("_", " ")
    what = f"A {occ['size']:g} px {'grey box' if occ['shape'] == 'box' else 'limb-coloured bar'} covers the **{name}**"
    if "peak" in r:
        toward = r["toward_centre"]
        peak, which = (r["raw_peak"], "heatmap's peak") if model.head_type == "heatmap" else (r["peak"], "probability map's peak")
        return (f"{what}: its {which} {peak[0]:.2f} → **{peak[1]:.2f}** "
                f"({'flattens' if peak[1] < 0.8 * peak[0] else 'holds'}); two-peak score "
                f"{r['two_peak'][0]:.2f} → **{r['two_peak'][1]:.2f}** "
                f"({'splits' if r['two_peak'][1] > max(0.3, r['two_peak'][0] + 0.1) else 'one peak'}); arg-max jumped "
                f"**{r['argmax_jump']:.1f} px**; the integral estimate moved **{r['integral_moved']:.1f} px**, "
                f"{abs(toward):.1f} px {'toward' if toward >= 0 else 'away from'} the image centre (a flatter map "
                "averages over more of the image).")
    return (f"{what}: direct regression's estimate moved **{r['direct_moved']:.1f} px** (it has no map to flatten; "
            "it guesses from the rest of the figure).")


@takes(STATE, OCC_JOINT, OCC_SIZE, OCC_SHAPE, MODEL, BETA, SHOWN, JOINT)
def occlude(state, occ_joint, occ_size, occ_shape, model, beta, shown, joint) -> dict:
    """Cover one joint of the current image (at its true position when known, else where the model puts it)
    and show how every decoder responds; "none" or size 0 restores the image."""
    if not isinstance(state, dict) or "image" not in state:
        raise UserInputError("No image yet: pick an example, upload an image or draw one, then cover a joint.")
    m = _bundled(model, "The occluder")
    base = state.get("base", state["image"])
    arr = np.asarray(analysis.letterbox(base, m.input_size))
    base_img = Image.fromarray(arr)
    truth, vis = state.get("truth"), state.get("visible")
    if occ_joint == "none" or occ_size == 0:
        new = {"image": base_img, "base": base, "truth": truth, "visible": vis, "figures": state.get("figures")}
        return compute(new, model, beta, shown, joint) | {"state": new}
    j = data.JOINTS.index(occ_joint)
    before = analysis.forward(m, base_img)
    centre = truth[j] if truth is not None else before[1]["coords"][0, j].numpy()
    img = data.occlude(arr, centre, occ_size, occ_shape)
    if vis is not None and truth is not None:
        vis = vis.copy()
        vis[j] = False  # the covered joint is occluded; the table keeps its error, the mean over visible drops it
    new = {"image": Image.fromarray(img), "base": base, "truth": truth, "visible": vis, "figures": state.get("figures"),
           "occluder": {"joint": occ_joint, "size": occ_size, "shape": occ_shape}}
    out = compute(new, model, beta, shown, occ_joint)
    note = _occlusion_note(m, before[1], new["outputs"][model][1], j, beta,
                           new["occluder"])
    return out | {"state": new, "summary": note + "\n\n" + out["summary"]}


def _scene_note(pred, figures: np.ndarray, k: int, raw_map: bool) -> str:
    """Where each decoder lands for joint k when two figures share the image."""
    a, b = figures[0, k], figures[1, k]
    parts = []
    for d, c in pred.coords.items():
        p = c[k]
        da, db, dm = (float(np.linalg.norm(p - q)) for q in (a, b, (a + b) / 2))
        where = ("on figure A" if da < 6 else "on figure B" if db < 6 else
                 "between them" if dm < 0.5 * float(np.linalg.norm(a - b)) else "off both")
        parts.append(f"{analysis.LABELS.get(d, d)} **{where}** ({da:.0f} px from A, {db:.0f} from B)")
    name = pred.joint_names[k].replace("_", " ")
    note = f"Two figures, one single-person model. **{name}**: " + "; ".join(parts) + "."
    if pred.heatmaps is not None:
        # an MSE heatmap's own peaks (its height is the evidence); an integral model's probabilities
        tps = float(decoders.two_peak_score(torch.from_numpy(pred.heatmaps[k:k + 1])[None],
                                            beta=None if raw_map else pred.beta)[0, 0])
        note += f" Its {'heatmap' if raw_map else 'probability map'}'s two-peak score is **{tps:.2f}** (second separated peak / highest; 1: two equal peaks): "
        note += ("the map peaks on both figures; arg-max picks one, the soft-max average is pulled between them."
                 if tps >= 0.3 else "this time the map commits to one figure (try another scene or joint).")
    return (note + " The field's answers: *top-down* — detect each person, then one single-person estimate per crop "
            "(Keypoint R-CNN, the photo model here: its 56×56 maps cover one person's box; SimpleBaselines, HRNet) — "
            "or *bottom-up* — all joints first, then group them (part affinity fields in OpenPose, associative "
            "embedding).")


@takes(SCENE_SEED, MODEL, BETA, SHOWN, JOINT)
def two_figures(scene_seed, model, beta, shown, joint) -> dict:
    """A rendered scene with two figures: a single-person model's maps peak on both."""
    _bundled(model, "The two-figure scene")
    sc = data.render_scene(scene_seed, 2)
    state = {"image": Image.fromarray(sc.image), "truth": None, "visible": None, "figures": sc.keypoints}
    out = compute(state, model, beta, shown, joint)
    names = list(data.JOINTS)
    k = names.index(joint) if joint in names else names.index("l_wrist")
    m = _model(model).model
    pred = analysis.predict(m, state["image"], beta, forwarded=state["outputs"][model])
    out["summary"] = _scene_note(pred, sc.keypoints, k, m.head_type == "heatmap") + "\n\n" + out["summary"]
    return out | {"state": state}


OCC_CURVE_JOINT = Choice("curve_joint", "Covered joint", tuple((j.replace("_", " "), j) for j in data.JOINTS),
                         "l_wrist")


@takes(OCC_CURVE_JOINT, OCC_SHAPE, seconds=5.5)
def occlusion_curve(curve_joint, occ_shape) -> dict:
    """Error on one joint against the occluder's size, per head and decoder, on held-out renders."""
    rows = occlusion.curve(curve_joint, occ_shape)
    return {"curve": analysis.occlusion_figure(rows, curve_joint, occ_shape),
            "curve_text": analysis.occlusion_text(rows, curve_joint)}


@takes(STATE, MODEL, JOINT, seconds=2)
def inside_unet(state, model, joint) -> dict:
    """The backbone's U for the current image: every level's feature map, and the head's map of the zoomed joint
    with and without the skips (with the held-out ablation beside it)."""
    m = _bundled(model, "Inside the U-Net")
    if not isinstance(state, dict) or "image" not in state:
        raise UserInputError("No image yet: pick an example, upload an image or draw one, then press Analyse.")
    name = joint if joint in data.JOINTS else "l_wrist"
    arr = np.array(analysis.letterbox(state["image"], m.input_size))
    result = unet.image_maps(m, arr, data.JOINTS.index(name))
    rows = unet.ablation(m)
    ablated = (unet.ablation_figure(result, rows, name.replace("_", " ")) if result["heads"] else
               placeholder("Direct regression has no heatmaps: its FC head reads the encoder's 1/16 output,"
                           "<br>so the decoder and its skips are not used."))
    return {"unet": unet.diagram_figure(m, arr, result, name.replace("_", " ")), "unet_ablation": ablated,
            "unet_text": unet.ablation_text(m, rows)}


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
