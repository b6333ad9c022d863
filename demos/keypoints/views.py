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


# The heads this tab draws. SimCC's two 1-D distributions have no 2-D map to draw here: the head race, the
# evaluation table (and the race tab's trend) show it.
TAB_HEADS = ("regression", "heatmap", "integral")


def model_choices() -> tuple[tuple[str, str], ...]:
    names = bundled_names()
    listed = [(m.label, m.name) for m in MODELS.values() if m.name in names and m.head in TAB_HEADS]
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


class PhotoUnavailable(UserInputError):
    """The photo model's weights cannot be loaded here (offline): the sentence says why."""


def bundled_fallback(state) -> str:
    """The bundled model a page falls back to when the photo model is refused: the one its figure shows."""
    names = [n for _, n in MODEL.options if n != PHOTO]
    prev = state.get("model") if isinstance(state, dict) else None
    return prev if prev in names else names[0]


def compute(state, model_name, beta, shown, joint) -> dict:
    """All outputs for the stored image and the current controls; the state remembers the model shown."""
    if not isinstance(state, dict) or "image" not in state:
        raise UserInputError("No image yet: pick an example, upload an image or draw one, then press Analyse.")
    img = state["image"]
    shown = list(shown or [])
    if model_name == PHOTO:
        model, why = photo.load_photo_model(get_device())
        if model is None:
            raise PhotoUnavailable(why)
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
        if pred.heatmaps is not None:  # how peaked the maps are, against the held-out renders' (no extra pass)
            m = loaded.model
            warning = analysis.ood_sentence(analysis.peak_score(pred.heatmaps, m.head_type, float(m.beta)),
                                            analysis.ood_reference(m), m.head_type)
            if warning:
                pred.extra["warning"] = warning
        note = (f"Model **{model_name}**: {loaded.model.describe()} — loaded from "
                f"{'the Hub' if loaded.source.startswith('hub') else 'the bundled copy'} ({loaded.where})"
                f"{'; ' + loaded.note if loaded.note else ''}.")
        if state.get("figures") is not None:  # a scene of several figures: each one's truth is drawn
            note += (" The ground truth of every figure is drawn; the table has no error column: a single-person "
                     "estimate is not compared with any one figure.")
        elif truth is None:
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
    state["model"] = model_name
    if pred.extra.get("warning"):
        note = f"**{pred.extra['warning']}**\n\n" + note
    out |= {"table": table, "csv": write_table_csv(table.to_csv(index=False)),
            "summary": note + "\n\n" + analysis.summary_text(pred), "joint": Update(choices=names, value=names[k])}
    return out


def _bundled(model: str, what: str):
    if model == PHOTO:
        raise UserInputError(f"{what} works with the bundled models (rendered figures): pick one of them in Model.")
    return _model(model).model


# When a covered joint's map counts as flatter or sharper: its peak fell to at most FLAT_PEAK of what it was
# (rose to at least 1 / FLAT_PEAK), or the entropy of its probability map rose (fell) by at least FLAT_NATS.
FLAT_PEAK = 0.8
FLAT_NATS = 0.5
SPLIT_SCORE = 0.3  # a two-peak score above this, and 0.1 above the uncovered map's, counts as a split


def map_change(peak: tuple[float, float], entropy: tuple[float, float]) -> str:
    """'flattens', 'sharpens' or 'holds': how a map changed, by its peak height and its entropy (nats)."""
    (p0, p1), (e0, e1) = peak, entropy
    if p1 <= FLAT_PEAK * p0 or e1 >= e0 + FLAT_NATS:
        return "flattens"
    if p1 * FLAT_PEAK >= p0 or e1 <= e0 - FLAT_NATS:
        return "sharpens"
    return "holds"


def occlusion_sentence(what: str, head_type: str, r: dict) -> str:
    """The occlusion note from the measured response ``r`` (``occlusion.response``): each word is checked against
    the numbers it prints. The integral's move is put down to a flatter map only when the map flattened and the
    estimate moved toward the centre; to a moved peak only when arg-max jumped at least one cell."""
    if "peak" not in r:
        return (f"{what}: direct regression's estimate moved **{r['direct_moved']:.1f} px** (it has no map; it "
                "reads the covered joint from the rest of the image).")
    peak, which = (r["raw_peak"], "heatmap's peak") if head_type == "heatmap" else (r["peak"], "probability map's peak")
    ent, tp = r["entropy"], r["two_peak"]
    change = map_change(peak, ent)
    split = tp[1] > max(SPLIT_SCORE, tp[0] + 0.1)
    jump, moved, toward = r["argmax_jump"], r["integral_moved"], r["toward_centre"]
    jumped = jump >= 0.5 * r["stride"]  # arg-max moves in whole cells: any move is at least one
    text = (f"{what}: its {which} {peak[0]:.2f} → **{peak[1]:.2f}**, the entropy of its probability map "
            f"{ent[0]:.2f} → **{ent[1]:.2f} nats**: the map **{change}** (flattens: peak down to ≤ "
            f"{FLAT_PEAK:.0%} or entropy up ≥ {FLAT_NATS:g} nats); two-peak score {tp[0]:.2f} → **{tp[1]:.2f}** "
            f"({'splits' if split else 'no split'}). Arg-max jumped **{jump:.1f} px**; the integral estimate moved "
            f"**{moved:.1f} px**, {abs(toward):.1f} px {'toward' if toward >= 0 else 'away from'} the image centre.")
    causes = []
    if jumped:
        causes.append("the peak moved (arg-max jumped to another cell)")
    if change == "flattens" and toward > 0:
        causes.append("the map flattened, and a flatter map spreads the soft-max's weight over more of the "
                      "image, which pulls the average toward the centre")
    elif change == "flattens":
        causes.append("the map flattened")
    if causes:
        return text + " Here " + " and ".join(causes) + "."
    return text + " The peak stayed in its cell and the map neither flattened nor split."


def _occlusion_note(model, before: dict, after: dict, j: int, beta: float, occ: dict) -> str:
    r = occlusion.response(before, after, j, beta, model.input_size)
    name = data.JOINTS[j].replace("_", " ")
    what = f"A {occ['size']:g} px {'grey box' if occ['shape'] == 'box' else 'limb-coloured bar'} covers the **{name}**"
    return occlusion_sentence(what, model.head_type, r)


@takes(STATE, OCC_JOINT, OCC_SIZE, OCC_SHAPE, MODEL, BETA, SHOWN, JOINT)
def occlude(state, occ_joint, occ_size, occ_shape, model, beta, shown, joint) -> dict:
    """Covers one joint of the current image (at its true position when known, else where the model puts it) with a grey box or a limb-coloured bar and shows how every decoder responds (the summary starts with how its estimates moved); "none" or size 0 restores the image.
    Returns:
        overlay, zoom: plotly figures of the image with each shown decoder's keypoints (and the truth), and of the joint's map near its peak
        grid_h, grid_p: plotly figures of all joints' heatmaps and probability maps (None for direct regression)
        table, csv: a table per joint of each decoder's coordinates, peak, entropy, two-peak score and error, and its CSV file's path
        summary: Markdown about the model and what the numbers show; joint: the joint dropdown; state: the image and forward pass kept
    """
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


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    t = 0.0 if not ab.any() else float(np.clip(np.dot(p - a, ab) / np.dot(ab, ab), 0.0, 1.0))
    return float(np.linalg.norm(p - (a + t * ab)))


def place(p, figures: np.ndarray, skeleton, k: int, names, radius: float) -> dict:
    """Where point ``p`` (input px) lies in a scene of figures (F, K, 2): ``at`` figure f's joint k (within
    ``radius``), ``on`` figure f (within ``radius`` of one of its limbs; ``near`` its closest joint), ``between``
    (on no figure, and A's and B's joint k are on opposite sides of it: the angle A-p-B is obtuse), or ``off``."""
    p = np.asarray(p, dtype=float)
    dk = [float(np.linalg.norm(p - f[k])) for f in figures]
    f = int(np.argmin(dk))
    if dk[f] <= radius:
        return {"kind": "at", "figure": f, "joint": names[k], "d": dk[f], "dk": dk}
    limbs = [min([_segment_distance(p, fg[a], fg[b]) for a, b in skeleton] + [float(np.linalg.norm(p - q)) for q in fg]) for fg in figures]
    f = int(np.argmin(limbs))
    if limbs[f] <= radius:
        j = int(np.argmin(np.linalg.norm(figures[f] - p, axis=1)))
        return {"kind": "on", "figure": f, "joint": names[j], "d": float(np.linalg.norm(figures[f][j] - p)), "dk": dk}
    if len(figures) >= 2 and float(np.dot(figures[0][k] - p, figures[1][k] - p)) < 0:
        return {"kind": "between", "figure": None, "joint": None, "d": None, "dk": dk}
    return {"kind": "off", "figure": None, "joint": None, "d": min(limbs), "dk": dk}


def _where(pl: dict) -> str:
    fig = "AB"[pl["figure"]] if pl["figure"] is not None else ""
    return {"at": lambda: f"at {fig}'s {pl['joint'].replace('_', ' ')}",
            "on": lambda: f"on figure {fig}, {pl['d']:.0f} px from its {pl['joint'].replace('_', ' ')}",
            "between": lambda: "between the figures, on neither",
            "off": lambda: "on neither figure"}[pl["kind"]]()


def scene_radius(stride: float) -> float:
    """How close (input px) a point must be to a joint or a limb to count as on it: 6 px, or one heatmap cell."""
    return max(6.0, float(stride))


def scene_sentence(names, k: int, figures: np.ndarray, skeleton, coords: dict, peaks: list | None, score: float | None,
                   map_kind: str, stride: float) -> str:
    """The two-figure note, from the numbers it prints: where each decoder lands (``place``), where the map's
    strong peaks are (``analysis.map_peaks``: >= 0.3 of the highest) and, only from those, whether the map peaks on
    both figures or on one."""
    R = scene_radius(stride)
    name = names[k].replace("_", " ")
    parts = []
    for d, c in coords.items():
        pl = place(c[k], figures, skeleton, k, names, R)
        parts.append(f"{analysis.LABELS.get(d, d)} **{_where(pl)}** ({pl['dk'][0]:.0f} px from A's {name}, "
                     f"{pl['dk'][1]:.0f} from B's)")
    note = (f"Two figures, one single-person model. **{name}** (a point counts as on a joint or limb within "
            f"{R:g} px): " + "; ".join(parts) + ".")
    if peaks is None:
        return note
    pls = [place(np.array(pk[:2]), figures, skeleton, k, names, R) for pk in peaks]
    listed = "; ".join(f"({x:.0f}, {y:.0f}) height {h:.2f}, {_where(pl)}" for (x, y, h, _), pl in zip(peaks, pls))
    note += (f" Its {map_kind}'s peaks of at least 0.3 of the highest: {listed}. Two-peak score of the {map_kind} "
             f"**{score:.2f}** (second separated peak / highest). ")
    figs = [pl["figure"] for pl in pls]
    on = sorted({f for f in figs if f is not None})
    if len(on) == 2:
        first = figs[0]
        other = 1 - first if first is not None else None
        if first is None:
            note += "The map peaks on both figures, and its highest peak is on neither."
        else:
            second = next(pk for pk, f in zip(peaks, figs) if f == other)
            note += (f"The map peaks on both figures: its highest peak is on {'AB'[first]}, the highest on "
                     f"{'AB'[other]} is {second[3]:.2f} of it (heights above the map's minimum); arg-max takes the highest cell.")
    elif len(on) == 1:
        fig = "AB"[on[0]]
        if len(peaks) == 1:
            note += f"The map commits to one peak, on figure {fig}."
        elif all(f == on[0] for f in figs):
            note += (f"All of them are on figure {fig}: the map does not peak on figure {'AB'[1 - on[0]]}"
                     + (", and the two-peak score compares two peaks of the same figure." if score >= 0.3 else "."))
        else:
            note += f"Of the two figures, only {fig} has a peak; the others are on neither."
    else:
        note += "None of them is on a figure."
    return note


def _scene_note(pred, figures: np.ndarray, k: int, raw_map: bool) -> str:
    """Where each decoder lands for joint k when two figures share the image, and where the map's peaks are."""
    peaks = score = None
    if pred.heatmaps is not None:
        # an MSE heatmap's own peaks (its height is the evidence); an integral model's probabilities
        m = pred.heatmaps[k] if raw_map else pred.probs[k]
        peaks = analysis.map_peaks(m, pred.stride)
        score = float(decoders.two_peak_score(torch.from_numpy(pred.heatmaps[k:k + 1])[None],
                                              beta=None if raw_map else pred.beta)[0, 0])
    note = scene_sentence(pred.joint_names, k, figures, pred.skeleton, pred.coords, peaks, score,
                          "heatmap" if raw_map else "probability map", pred.stride)
    if raw_map and score is not None:  # the table's score is of the probabilities, another number for the same joint
        note = note.rstrip() + (f" (The per-joint table's two-peak score is of the soft-max probabilities at "
                                f"β = {pred.beta:g}, not of the heatmap's heights.)")
    return (note + " The field's answers: *top-down* — detect each person, then one single-person estimate per crop "
            "(Keypoint R-CNN, the photo model here: its 56×56 maps cover one person's box; SimpleBaselines, HRNet) — "
            "or *bottom-up* — all joints first, then group them (part affinity fields in OpenPose, associative "
            "embedding).")


@takes(SCENE_SEED, MODEL, BETA, SHOWN, JOINT)
def two_figures(scene_seed, model, beta, shown, joint) -> dict:
    """A rendered scene with two figures analysed by a single-person model: the summary starts with where each decoder lands for the chosen joint and where the map peaks, on which figure.
    Returns:
        overlay, zoom: plotly figures of the image with each shown decoder's keypoints (and the truth), and of the joint's map near its peak
        grid_h, grid_p: plotly figures of all joints' heatmaps and probability maps (None for direct regression)
        table, csv: a table per joint of each decoder's coordinates, peak, entropy, two-peak score and error, and its CSV file's path
        summary: Markdown about the model and what the numbers show; joint: the joint dropdown; state: the image and forward pass kept
    """
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
    """Error on one joint against the occluder's size, per head and decoder, on held-out renders.
    Returns:
        curve: a plotly figure of the mean error on the covered joint (px) against the occluder's size, per model and decoder
        curve_text: Markdown comparing the errors unoccluded and at the largest size
    """
    rows = occlusion.curve(curve_joint, occ_shape)
    return {"curve": analysis.occlusion_figure(rows, curve_joint, occ_shape),
            "curve_text": analysis.occlusion_text(rows, curve_joint)}


@takes(STATE, MODEL, JOINT, seconds=2)
def inside_unet(state, model, joint) -> dict:
    """The backbone's encoder and decoder for the current image: every level's feature map, the head's map of the joint with and without the skips, and its add-skips against a U-Net's concatenated ones.
    Returns:
        unet: a plotly diagram of the U with each level's feature map (mean |activation|) for this image
        unet_ablation: a plotly figure of the joint's map with and without the skips, held-out error in each title (a placeholder for direct regression)
        unet_text: Markdown on the held-out ablation of the skips and the add-vs-concatenate comparison
    """
    m = _bundled(model, "Inside the backbone")
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


def analysed(state: dict, model, beta, shown, joint) -> dict:
    """``compute`` plus the state; when the photo model is refused (offline), one ``UserInputError`` whose
    ``outputs`` keep the page consistent: the same image analysed by the bundled model shown before, the dropdown
    and beta sent back to it, and a first sentence that says so."""
    try:
        return compute(state, model, beta, shown, joint) | {"state": state}
    except PhotoUnavailable as e:
        fb = bundled_fallback(state)
        fb_beta = default_beta(fb)
        out = {"model": fb, "beta": fb_beta, "state": state}
        if "image" in state:
            out |= compute(state, fb, fb_beta, shown, joint)
            out["summary"] = (f"**Not the photo model**: its weights are not available here, so this is the bundled "
                              f"model **{fb}** on the image.\n\n" + out["summary"])
        else:
            state["model"] = fb
        return _refuse(state, f"{e} The app shows the bundled model {fb} instead.", out)


REPEAT_S = 3.0  # a browser's dropdown sends one choice as two events (select, then blur): one refusal, not two


def _refuse(state: dict, sentence: str, out: dict) -> dict:
    """Refuse a choice once: the first time a toast (``UserInputError`` with the page's outputs), and for the same
    sentence again within REPEAT_S seconds (the same click arriving twice) the outputs alone."""
    last = state.get("refused")
    state["refused"] = (sentence, time.monotonic())
    if last and last[0] == sentence and time.monotonic() - last[1] < REPEAT_S:
        return out
    raise UserInputError(sentence, outputs=out)


@takes(IMAGE, MODEL, BETA, SHOWN, JOINT)
def analyse_image(image, model, beta, shown, joint) -> dict:
    """Analyses an image (an example's path or an upload) with the chosen model: every joint decoded by each decoder, at inverse temperature beta.
    Returns:
        overlay, zoom: plotly figures of the image with each shown decoder's keypoints (and the truth), and of the joint's map near its peak
        grid_h, grid_p: plotly figures of all joints' heatmaps and probability maps (None for direct regression)
        table, csv: a table per joint of each decoder's coordinates, peak, entropy, two-peak score and error, and its CSV file's path
        summary: Markdown about the model and what the numbers show; joint: the joint dropdown; state: the image and forward pass kept
    """
    img = load_image(image)
    truth, visible = truth_for(image, img)  # once per image, not on every control change
    return analysed({"image": img, "truth": truth, "visible": visible}, model, beta, shown, joint)


@takes(IMAGE, MODEL, BETA, SHOWN, JOINT)
def analyse_new_image(image, model, beta, shown, joint) -> dict:
    """A new upload or example runs at once (as analyse_image); clearing the image changes nothing (an empty dict).
    Returns:
        overlay, zoom: plotly figures of the image with each shown decoder's keypoints (and the truth), and of the joint's map near its peak
        grid_h, grid_p: plotly figures of all joints' heatmaps and probability maps (None for direct regression)
        table, csv: a table per joint of each decoder's coordinates, peak, entropy, two-peak score and error, and its CSV file's path
        summary: Markdown about the model and what the numbers show; joint: the joint dropdown; state: the image and forward pass kept
    """
    if image is None:
        return {}
    return analyse_image.raw(image, model, beta, shown, joint)


@takes(SKETCH, MODEL, BETA, SHOWN, JOINT)
def analyse_drawing(sketch, model, beta, shown, joint) -> dict:
    """Analyses a sketch drawn on the canvas with the chosen model, as analyse_image (no ground truth).
    Returns:
        overlay, zoom: plotly figures of the image with each shown decoder's keypoints (and the truth), and of the joint's map near its peak
        grid_h, grid_p: plotly figures of all joints' heatmaps and probability maps (None for direct regression)
        table, csv: a table per joint of each decoder's coordinates, peak, entropy, two-peak score and error, and its CSV file's path
        summary: Markdown about the model and what the numbers show; joint: the joint dropdown; state: the image and forward pass kept
    """
    return analysed({"image": sketch_to_image(sketch), "truth": None, "visible": None}, model, beta, shown, joint)


@takes(STATE, MODEL, BETA, SHOWN, JOINT)
def update(state, model, beta, shown, joint) -> dict:
    """Analyses the stored image again with the current model, beta, decoders shown and joint; nothing analysed yet gives an empty dict.
    Returns:
        overlay, zoom: plotly figures of the image with each shown decoder's keypoints (and the truth), and of the joint's map near its peak
        grid_h, grid_p: plotly figures of all joints' heatmaps and probability maps (None for direct regression)
        table, csv: a table per joint of each decoder's coordinates, peak, entropy, two-peak score and error, and its CSV file's path
        summary: Markdown about the model and what the numbers show; joint: the joint dropdown; state: the image and forward pass kept
    """
    if not isinstance(state, dict) or "image" not in state:  # nothing analysed yet: controls alone change nothing
        return {}
    return analysed(state, model, beta, shown, joint)


@takes(STATE, MODEL, SHOWN, JOINT)
def change_model(state, model, shown, joint) -> dict:
    """A new model: its own default beta and the stored image analysed again; the photo model refused (offline) sends the dropdown back to the model shown.
    Returns:
        overlay, zoom: plotly figures of the image with each shown decoder's keypoints (and the truth), and of the joint's map near its peak
        grid_h, grid_p: plotly figures of all joints' heatmaps and probability maps (None for direct regression)
        table, csv: a table per joint of each decoder's coordinates, peak, entropy, two-peak score and error, and its CSV file's path
        summary: Markdown about the model and what the numbers show; joint: the joint dropdown; state: the image and forward pass kept
        beta: the new model's default beta (with no image yet, only beta and state)
    """
    state = state if isinstance(state, dict) else {}
    if model == PHOTO and "image" not in state:  # nothing to analyse yet, but say now that it cannot load
        loaded, why = photo.load_photo_model(get_device())
        if loaded is None:
            fb = bundled_fallback(state)
            state["model"] = fb
            return _refuse(state, f"{why} The app shows the bundled model {fb} instead.",
                           {"model": fb, "beta": default_beta(fb), "state": state})
    beta = default_beta(model)
    if "image" not in state:
        state["model"] = model
        return {"beta": beta, "state": state}
    return analysed(state, model, beta, shown, joint) | {"beta": beta}


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
