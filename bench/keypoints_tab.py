"""One full update of the keypoints tab for a bundled model on a 512x512 upload, server side.

Baseline: the model's forward pass alone on the letterboxed 128x128 input, measured in the same run.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
from PIL import Image

from .common import median, table, timeit


def run() -> str:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from demos.common.images import load_image
    from demos.keypoints import analysis, get_model
    from demos.keypoints import views as tab

    path = os.path.join(tempfile.mkdtemp(), "upload.png")
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((512, 512, 3)) * 255).astype(np.uint8)).save(path)
    out = []
    for name in ("heatmap-s4", "integral-s8"):
        model = get_model(name)
        img = load_image(path)
        x = torch.rand(1, 3, 128, 128)
        beta = tab.default_beta(name)
        with torch.no_grad():
            fwd = median(timeit(lambda: model(x)))
        load = median(timeit(lambda: load_image(path)))
        pred_t = median(timeit(lambda: analysis.predict(model, img, beta)))
        pred = analysis.predict(model, img, beta)
        figs = median(timeit(lambda: (analysis.overlay_figure(pred), analysis.grid_figure(pred, "heatmaps"),
                                      analysis.grid_figure(pred, "probs"), analysis.zoom_figure(pred, 6))))
        tbl = median(timeit(lambda: analysis.joint_table(pred)))
        full = median(timeit(lambda: tab.analyse_image(path, name, beta, ["argmax", "soft_argmax"], "l_wrist")))
        state = tab.analyse_image(path, name, beta, ["argmax", "soft_argmax"], "l_wrist")["state"]
        ctrl = median(timeit(lambda: tab.update(state, name, beta * 1.5, ["argmax", "soft_argmax"], "l_wrist")))

        def with_json(out):  # what the server sends: each figure as JSON (gr.Plot calls to_json)
            return [v.to_json() for v in out.values() if hasattr(v, "to_json")]
        full_json = median(timeit(lambda: with_json(tab.analyse_image(path, name, beta, ["argmax", "soft_argmax"],
                                                                      "l_wrist"))))
        ctrl_json = median(timeit(lambda: with_json(tab.update(state, name, beta * 1.5, ["argmax", "soft_argmax"],
                                                               "l_wrist"))))
        out.append(table(f"Keypoints tab, {name}, 512x512 upload (median of 7)", [
            ("model forward (128x128)", fwd), ("read + check image", load), ("predict: letterbox+forward+4 decoders",
                                                                             pred_t),
            ("4 plotly figures", figs), ("per-joint table", tbl), ("full update (handler)", full),
            ("control change (beta, decoder, joint)", ctrl),
            ("full update + figures as JSON (goal < 150 ms)", full_json),
            ("control change + figures as JSON (goal < 100 ms)", ctrl_json)],
            "model forward (128x128)"))
    return "\n\n".join(out)
