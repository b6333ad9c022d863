"""Beyond the lecture tab (Gradio wiring only; views and their parameter records are in views.py)."""

from __future__ import annotations

import gradio as gr

from demos.common import ui
from demos.common.params import about
from demos.common.plotstyle import placeholder

from . import views as V

TAB_ID = "beyond"
TITLE = "Beyond"
SUMMARY = ("Debias-IPR removes soft-argmax's pull to the centre; jitter of each decoder on a figure moving 0.1 px "
           "per frame, and live from your webcam; bottom-up grouping against top-down crops as figures are added.")
INTRO = """
**Three questions students ask after this lecture, answered by measurement.** Soft-argmax is pulled toward the
map's centre: Gu et al. (ICCV 2021) remove the pull in closed form (Debias-IPR). A pose tool's joints shake on a
still video: where does jitter come from? And with several people in one image: find all joints first and group
them (bottom-up), or crop each person first (top-down)?
"""


def build():
    gr.Markdown(INTRO, elem_classes="kplab-intro")
    gr.Markdown("### Debias-IPR: the same maps, before and after the correction")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            d_in = [ui.widget(r) for r in (V.HEIGHT, V.BETA, V.PEAK_X, V.PEAK_Y)]
        with gr.Column(scale=3):
            with gr.Row():
                d_map = gr.Plot(label="Map", elem_id="by-debias-map")
                d_sweep = gr.Plot(label="Sweep", elem_id="by-debias-sweep")
            d_text = gr.Markdown(elem_id="by-debias-text")
    d_out = {"map": d_map, "sweep": d_sweep, "text": d_text}
    ui.on([c.release for c in d_in], V.debias, d_in, d_out, api_name="debias", trigger_mode="always_last")
    with gr.Row():
        m_model = ui.widget(V.MODEL)
        m_btn = gr.Button(f"Measure on the model's held-out maps ({about(V.debias_on_model)})", elem_id="by-model")
    m_text = gr.Markdown(elem_id="by-model-text")
    ui.long_run(m_btn, None, V.debias_on_model, [m_model], {"text": m_text}, api_name="debias_on_model")

    gr.Markdown("### Jitter: a figure moving a fraction of a pixel per frame")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            with gr.Row():
                j_go, j_stop = ui.run_stop(f"Move the figure ({about(V.jitter_run)})", "by-jitter-run")
            j_in = [ui.widget(r) for r in (V.J_MODEL, V.JOINT, V.SPEED, V.FRAMES, V.SEED)]
        with gr.Column(scale=3):
            j_tracks = gr.Plot(placeholder(f"Press <b>Move the figure</b>: each decoder's track of one joint against "
                                           f"the truth<br>({about(V.jitter_run)}).", height=470),
                               label="Tracks", elem_id="by-jitter-tracks")
            j_text = gr.Markdown(elem_id="by-jitter-text")
            j_frames = gr.Plot(placeholder("The first and last frame appear here.", height=300), label="Frames",
                               elem_id="by-jitter-frames")
    ui.long_run(j_go, j_stop, V.jitter_run, j_in, {"tracks": j_tracks, "frames": j_frames, "text": j_text},
                api_name="jitter")

    gr.Markdown(f"#### From your webcam, as a stream: a frame every {V.STREAM_EVERY:g} s, the last {V.jitter.KEEP} "
                "frames")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            cam = ui.WebcamFrame(sources=["webcam"], streaming=True, label="Webcam", elem_id="by-cam", height=240,
                                 webcam_options=gr.WebcamOptions(constraints=V.CAMERA))
            gr.Markdown("Press record under the picture, hold a printed or phone-displayed example figure (the "
                        "Keypoints tab's examples) upright in front of the camera, and move it slowly sideways "
                        f"({V.STREAM_LIMIT_S} s per recording; model and joint from the controls above).",
                        elem_id="by-cam-hint")
        with gr.Column(scale=3):
            w_tracks = gr.Plot(placeholder("Record from the webcam: each decoder's x and y of the joint, frame by "
                                           "frame.", height=470), label="Webcam tracks", elem_id="by-cam-tracks")
            w_text = gr.Markdown(elem_id="by-cam-text")
    w_hist = gr.State(None)
    # a stream is not an API endpoint: its input is the page's live camera and the session's history (see README)
    ui.on([cam.stream], V.jitter_webcam, [cam, j_in[0], j_in[1], w_hist],
          {"tracks": w_tracks, "text": w_text, "history": w_hist}, api_name="jitter_webcam", api_visibility="private",
          stream_every=V.STREAM_EVERY, time_limit=V.STREAM_LIMIT_S, concurrency_limit=V.STREAMS,
          concurrency_id="webcam", show_progress="hidden")

    gr.Markdown("### Several figures: bottom-up grouping against top-down crops")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            with gr.Row():
                g_go, g_stop = ui.run_stop(f"Measure 1, 2 and 3 figures ({about(V.grouping_run)})", "by-group-run")
            g_in = [ui.widget(r) for r in (V.G_MODEL, V.SCENES, V.THRESHOLD)]
        with gr.Column(scale=3):
            g_curves = gr.Plot(placeholder(f"Press <b>Measure</b>: accuracy and cost of both pipelines as figures "
                                           f"are added<br>({about(V.grouping_run)}).", height=470),
                               label="Accuracy and cost", elem_id="by-group-curves")
            g_scene = gr.Plot(placeholder("One two-figure scene with both pipelines' skeletons appears here.",
                                          height=330), label="Scene", elem_id="by-group-scene")
            g_text = gr.Markdown(elem_id="by-group-text")
    ui.long_run(g_go, g_stop, V.grouping_run, g_in, {"curves": g_curves, "scene": g_scene, "text": g_text},
                api_name="grouping")

    ui.first_view(V.debias, d_out)
