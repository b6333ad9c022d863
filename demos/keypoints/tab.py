"""Keypoints tab (Gradio wiring only; views and parameter records in views.py): upload or draw an image, see
heatmaps, compare the decoders."""

from __future__ import annotations

import functools

import gradio as gr

from demos.common import ui
from demos.common.params import about
from demos.common.plotstyle import placeholder

from . import views as V

TAB_ID = "keypoints"
TITLE = "Keypoints"
SUMMARY = ("Direct regression vs heatmaps: upload or draw a figure, see every heatmap and probability map, and "
           "where arg-max and integral regression (soft-argmax) disagree.")
INTRO = """
**Three ways to predict keypoints.** *Direct regression* maps the image to 2K numbers through FC layers.
*Heatmap* models predict one map per joint; **arg-max** picks the best cell (no sub-pixel accuracy, not
differentiable), **integral regression** takes the soft-max over all cells (inverse temperature β, T = 1/β) and
then the expected position (differentiable, sub-pixel). Pick an example (held-out renders with ground truth, or
a NASA photo for the photo model), upload an image, take a webcam picture (a person, with the photo model; or a
stick figure drawn on paper and held up to the camera, with the bundled models), or draw one — left limbs in red,
right limbs in blue, as in the training data. *Occlude*: cover a joint and watch each decoder fail,
or put two figures in one image. All models are tiny and trained by this project on rendered figures.
"""

URL_JS = """(model, beta) => { const u = new URL(window.location); u.searchParams.set('model', model);
  u.searchParams.set('beta', beta); history.replaceState(null, '', u); }"""




@functools.lru_cache(maxsize=32)
def _first_screen(model, beta):
    """The packed first view for a link's ?model= and ?beta= (its figures serialized once, then sent as they are)."""
    return ui.serialized(ui.pack(V.from_link({"model": model, "beta": beta}), OUT_NAMES + ["state", "model", "beta"]))


def open_with_settings(request: gr.Request = None):
    """The first view, with ?model= and ?beta= from the link (cached per setting)."""
    if ui.from_shared_link(request):
        return ui.pack({}, OUT_NAMES + ["state", "model", "beta"])
    q = dict(request.query_params) if request is not None else {}
    values = list(_first_screen(q.get("model"), q.get("beta")))
    i = len(OUT_NAMES)  # the state: each session gets its own, so one's model cache is not another's
    if isinstance(values[i], dict):
        values[i] = {**values[i], "outputs": dict(values[i].get("outputs", {}))}
    return tuple(values)


OUT_NAMES = ["overlay", "grid_h", "grid_p", "zoom", "table", "csv", "summary", "joint"]


def build():
    gr.Markdown(INTRO, elem_classes="kplab-intro")
    state = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            with gr.Tabs():
                with gr.Tab("Image"):
                    # the image the first view analyses: shown in the input, and the API page's example for it
                    image = ui.ImagePath(str(V.EXAMPLES / V.DEFAULT_EXAMPLE), type="filepath", label="Image",
                                          sources=["upload", "webcam", "clipboard"],
                                          webcam_options=gr.WebcamOptions(mirror=False), height=260, elem_id="kp-image")
                    run_img = gr.Button("Analyse image", variant="primary", elem_id="kp-run")
                    ex_slot = gr.Column()
                with gr.Tab("Draw"):
                    # the hand-drawn training renders' colours (demos/keypoints/data.py): left limbs red (hue
                    # -0.03..0.06), right limbs blue (hue 0.55..0.68), head and torso a dark pen; red first, and the
                    # brush is picked when the canvas shows (demos/common/page.js)
                    gr.Markdown("Draw a stick figure: **red** = left limbs, **blue** = right limbs, dark = head and "
                                "torso (the colours the models learned).", elem_id="kp-sketch-help")
                    sketch = gr.Sketchpad(label="Drawing", show_label=False, type="numpy", canvas_size=(384, 384),
                                          height=400, elem_id="kp-sketch", elem_classes="kplab-brush",
                                          brush=gr.Brush(default_size=6, colors=["#d62728", "#1f5fbf", "#222222"],
                                                         default_color="#d62728", color_mode="fixed"))
                    run_draw = gr.Button("Analyse drawing", variant="primary", elem_id="kp-run-draw")
                with gr.Tab("Occlude", elem_id="kp-occlude-tab"):
                    occ = [ui.widget(r) for r in (V.OCC_JOINT, V.OCC_SIZE, V.OCC_SHAPE)]
                    cover = gr.Button("Cover the joint", variant="primary", elem_id="kp-cover")
                    scene_seed = ui.widget(V.SCENE_SEED)
                    two = gr.Button("Show two figures", elem_id="kp-two")
        with gr.Column(scale=3):
            with gr.Row():
                model = ui.widget(V.MODEL, elem_id="kp-model", scale=2)
                beta = ui.widget(V.BETA, elem_id="kp-beta", scale=2)
            with gr.Row():
                overlay = gr.Plot(label="Keypoints", elem_id="kp-overlay")
                zoom = gr.Plot(label="Zoom at heatmap resolution", elem_id="kp-zoom")
            with gr.Row():  # what the two figures show: right under them
                shown = ui.widget(V.SHOWN, scale=3)
                joint = ui.widget(V.JOINT, scale=1)
            summary = gr.Markdown(elem_id="kp-summary")  # below the figures, so they start on the first screen
    with gr.Tabs():
        with gr.Tab("Probability maps"):
            grid_p = gr.Plot(label="Probability maps", elem_id="kp-grid-probs")
        with gr.Tab("Raw heatmaps"):
            grid_h = gr.Plot(label="Heatmaps", elem_id="kp-grid-heatmaps")
        with gr.Tab("Per-joint table"):
            # the joint's name stays while the table (21 columns with the truth) scrolls sideways
            table = ui.table("Per joint (input px)", "kp-table", pinned_columns=1)
            csv = gr.DownloadButton("Download table as CSV", elem_id="kp-csv")
        with gr.Tab("Occlusion curve"):
            with gr.Row():
                curve_in = [ui.widget(V.OCC_CURVE_JOINT), ui.widget(V.OCC_SHAPE)]
                curve_btn, curve_stop = ui.run_stop("Measure error against occluder size", "kp-curve-run")
            curve = {"curve": gr.Plot(placeholder(f"Press <b>Measure</b>: one joint covered at 0-48 px on 48 held-out "
                                                  "renders,<br>every head and decoder ({about(V.occlusion_curve)}).",
                                                  height=460), label="Error against occluder size",
                                      elem_id="kp-curve"),
                     "curve_text": gr.Markdown(elem_id="kp-curve-text")}
        with gr.Tab("Inside the backbone (vs U-Net)"):
            unet_btn = gr.Button("Show the backbone's levels and skips for the current image "
                                 f"({about(V.inside_unet)} the first time per model)", variant="primary",
                                 elem_id="kp-unet-run")
            unet = {"unet": gr.Plot(placeholder("Press <b>Show the backbone's levels</b>: the encoder, the decoder "
                                                "and the skips<br>drawn from the model, with each level's feature "
                                                "map for the current image;<br>beside it, U-Net's concatenated skips "
                                                "against this backbone's added ones.", height=470),
                                    label="The backbone: encoder, decoder, skips", elem_id="kp-unet"),
                    "unet_ablation": gr.Plot(placeholder("The zoomed joint's map with and without the skips "
                                                         "appears here.", height=380),
                                             label="Skip ablation", elem_id="kp-unet-ablation"),
                    "unet_text": gr.Markdown(elem_id="kp-unet-text")}
    outs = dict(overlay=overlay, grid_h=grid_h, grid_p=grid_p, zoom=zoom, table=table, csv=csv, summary=summary,
                joint=joint)
    with ex_slot:
        gr.Examples(V.example_files(), inputs=image, examples_per_page=12, elem_id="kp-examples",
                    label="Examples: held-out renders (ground truth known) and a NASA photo")
    controls = [model, beta, shown, joint]
    # the views that may be refused the photo model (offline) send the dropdown, beta and state back to the
    # bundled model the figure shows (V.analysed)
    page = {"state": state, "model": model, "beta": beta}
    ui.on([run_img.click], V.analyse_image, [image] + controls, outs | page, api_name="analyse_image")
    ui.on([image.change], V.analyse_new_image, [image] + controls, outs | page, api_name="analyse_new_image")
    ui.on([run_draw.click], V.analyse_drawing, [sketch] + controls, outs | page, api_name="analyse_drawing")
    ui.on([cover.click, occ[1].release, occ[0].input, occ[2].input], V.occlude, [state] + occ + controls,
          outs | {"state": state}, api_name="occlude", trigger_mode="always_last")
    ui.on([two.click, scene_seed.release], V.two_figures, [scene_seed] + controls, outs | {"state": state},
          api_name="two_figures", trigger_mode="always_last")
    ui.on([unet_btn.click], V.inside_unet, [state, model, joint], unet, api_name="inside_unet")
    ui.long_run(curve_btn, curve_stop, V.occlusion_curve, curve_in, curve, api_name="occlusion_curve")
    ui.on([model.input], V.change_model, [state, model, shown, joint], outs | page,
          api_name="change_model").then(None, [model, beta], None, js=URL_JS)
    ui.on([beta.release], V.update, [state] + controls, outs | page, api_name="set_beta").then(
        None, [model, beta], None, js=URL_JS)
    ui.on([shown.change], V.update, [state] + controls, outs | page, api_name="set_decoders")
    ui.on([joint.input], V.update, [state] + controls, outs | page, api_name="set_joint")
    ui.warm_up(lambda: _first_screen(None, None))  # the plain link's first screen, computed at start-up
    gr.context.Context.root_block.load(open_with_settings, None, list(outs.values()) + [state, model, beta],
                                       api_visibility="private")
