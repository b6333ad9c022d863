"""Head race tab (Gradio wiring only; views and parameter records in views.py): the three keypoint heads
trained side by side, live."""

from __future__ import annotations

import gradio as gr

from demos.common import ui
from demos.common.plotstyle import placeholder

from . import views as V

TAB_ID = "race"
TITLE = "Head race"
SUMMARY = ("Direct regression, heatmap + arg-max, integral regression and SimCC trained side by side from scratch "
           "over seeds, live: loss, held-out error with its spread, the maps sharpening, and an order stated only "
           "where it exceeds the spread.")
INTRO = """
**Which head learns keypoints best?** Four copies of the same small backbone start from the same weights and see
the same mini-batches; only the head differs: FC layers to 2K numbers, heatmaps decoded by arg-max, heatmaps
turned into coordinates by soft-max and expectation, or SimCC's two 1-D classifications (x and y, 2 bins per
pixel). Each seed repeats the race with other weights and batches, so the spread shows what is noise. Change the
stride to see arg-max's floor, or the loss to compare regression with classification over cells.
"""


def build():
    gr.Markdown(INTRO, elem_classes="kplab-intro")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            with gr.Row():  # the one button an instructor presses: first, above the settings
                start, stop = ui.run_stop("Start the race", "race-run")
            ins = [ui.widget(r) for r in (V.SIZE, V.STRIDE, V.STEPS, V.SEEDS, V.COORD_LOSS, V.HEATMAP_LOSS)]
        with gr.Column(scale=3):
            out = {"curves": gr.Plot(placeholder(V.WAITING, height=430), label="Loss and held-out error",
                                     elem_id="race-curves"),
                   "maps": gr.Plot(placeholder("The held-out image and three heads' maps of the left wrist "
                                               "appear here<br>and sharpen as the race goes.", height=340),
                                   label="Held-out image and maps", elem_id="race-maps"),
                   "text": gr.Markdown(elem_id="race-text"),
                   "details": gr.Markdown(elem_id="race-details")}
    ui.long_run(start, stop, V.race, ins, out, api_name="race")
    gr.Markdown("### The same heads at two map resolutions: the bundled models (128 px, 1500 steps)")
    trend = {"trend": gr.Plot(label="Error against map resolution", elem_id="race-trend"),
             "trend_text": gr.Markdown(elem_id="race-trend-text")}
    ui.first_view(V.trend, trend)
