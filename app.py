"""Keypoint & Architecture Lab: a Gradio app with one tab per idea of the lecture.

This file only composes the tabs. Each topic lives in ``demos/<topic>/``: plain compute modules and one
``tab.py`` whose ``build()`` creates the tab. To add a topic, add one line to ``TOPICS``.
"""

from __future__ import annotations

from demos.common import gpu  # noqa: F401,I001  first: on ZeroGPU, `spaces` must be imported before CUDA is touched

import argparse
import importlib
import importlib.util
import inspect
import logging
import os
from pathlib import Path

# Gradio's queue rebuilds a pandas table of its last 10,000 events after every event, for its monitoring summary
# (read only by its /monitoring page): the cost of a click grew with every click of the class. A table of the last
# 1,000 events, rebuilt every 500 events, keeps that summary and bounds its cost (bench/classload.py, #29).
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "500")

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from demos.common import files, pool, sessions, ui, worker
from demos.common.gpu import ON_ZERO_GPU
from demos.common.device import configure_threads, where_label
from demos.common.images import MAX_BYTES

log = logging.getLogger("kplab")

TOPICS = [  # lecture order; each name is a package demos/<name>/ with a tab.py
    "overview",
    "keypoints",
    "race",
    "bimodal",
    "beyond",
    "normalization",
    "dropout",
    "selu",
    "architectures",
]

CSS = """
#kplab-header { display: flex; align-items: center; gap: 1.2rem; flex-wrap: wrap; }
#kplab-header .kplab-title { display: flex; align-items: center; gap: 1.2rem; flex-wrap: nowrap; }
.kplab-device { white-space: nowrap; }
#kplab-header h1 { margin: 0; font-size: 1.9rem; white-space: nowrap; }
.kplab-device { font-size: 1.05rem; padding: 0.2rem 0.7rem; border-radius: 0.5rem;
                background: #e8f1fb; color: #0b3d6e; border: 1px solid #9cc3e8; }
/* Tables never break a word across lines ("Keypoi nts"): a table wider than its box scrolls. */
.gradio-container table td, .gradio-container table th, .gradio-container table td *,
.gradio-container table th * { word-break: normal !important;
    overflow-wrap: normal !important; hyphens: manual !important; }
/* Presentation mode: no text under 3 % of the screen height (22 px at 720p, 33 px at 1080p; the plots' own type
   is set by demos/common/page.js from the same rule), and each tab's main figure on the first screen: a compact
   header, a tab's explanation in one line (hover or focus it for the rest), no help lines under widgets. */
body.kplab-present { --kp-t: round(up, 3vh, 1px); }
body.kplab-present .gradio-container { font-size: var(--kp-t);
    --text-xxs: var(--kp-t); --text-xs: var(--kp-t); --text-sm: var(--kp-t); --text-md: var(--kp-t);
    --text-lg: calc(1.1 * var(--kp-t)); --text-xl: calc(1.25 * var(--kp-t)); --text-xxl: calc(1.4 * var(--kp-t));
    --block-info-text-size: var(--kp-t); --block-label-text-size: var(--kp-t); --block-title-text-size: var(--kp-t);
    --body-text-size: var(--kp-t); --button-large-text-size: var(--kp-t); --button-medium-text-size: var(--kp-t);
    --button-small-text-size: var(--kp-t); --checkbox-label-text-size: var(--kp-t); --input-text-size: var(--kp-t);
    --prose-text-size: var(--kp-t); --section-header-text-size: var(--kp-t);
    --layout-gap: 6px; --block-padding: 4px 8px; --spacing-lg: 4px; --spacing-xl: 6px; --size-4: 8px; }
body.kplab-present .prose { font-size: var(--kp-t); }
body.kplab-present .gradio-container button, body.kplab-present .gradio-container input,
body.kplab-present .gradio-container label, body.kplab-present .gradio-container table { font-size: var(--kp-t); }
/* (Gradio repeats each rule of this sheet under its own container prefix, which outranks a plain
   body.kplab-present rule: presentation mode's overrides of the rules above are !important.) */
body.kplab-present #kplab-header { gap: 0.6rem !important; flex-wrap: nowrap !important; }
body.kplab-present #kplab-header > * { flex: 0 0 auto !important; min-width: 0 !important; white-space: nowrap; }
body.kplab-present #kplab-header > :first-child { flex: 1 1 auto !important; overflow: hidden; }
body.kplab-present #kplab-header label, body.kplab-present #kplab-header button { padding-top: 2px; padding-bottom: 2px; }
/* the title in the body's size (bold) and closer to the device badge: whole on one line at 1280 px */
body.kplab-present #kplab-header h1 { font-size: var(--kp-t) !important; }
body.kplab-present #kplab-header .kplab-title { min-width: 0; gap: 0.6rem !important; }
/* the title breaks between words (two balanced lines) where the header's row has no room for it on one */
body.kplab-present #kplab-header h1 { flex: 0 1 auto; min-width: 0; white-space: normal !important;
    text-wrap: balance; line-height: 1.1; }
body.kplab-present #kplab-device { flex: 0 0 auto; }
body.kplab-present #kplab-device { font-size: var(--kp-t) !important; padding: 0 0.4rem !important; }
/* a widget's label whole, broken between words where its column is narrow ("training steps (each mo..." was cut) */
body.kplab-present [data-testid=block-info] { white-space: normal !important; overflow-wrap: normal; line-height: 1.15;
    max-width: 100%; display: inline-block; vertical-align: bottom; }
body.kplab-present .kplab-intro { display: -webkit-box; -webkit-line-clamp: 1; -webkit-box-orient: vertical;
    overflow: hidden; cursor: help; }
body.kplab-present .kplab-intro:hover, body.kplab-present .kplab-intro:focus-within { display: block; }
body.kplab-present .kplab-intro p { display: inline; }
body.kplab-present .kplab-intro::after { content: ""; }
body.kplab-present .info-text { display: none; }
body.kplab-present .block.kplab-titled > label[data-testid=block-label] { display: none; }
/* a slider's number box as wide and as high as the digits it holds (Gradio's box is 24 px high and hides the rest) */
body.kplab-present input[data-testid=number-input] { height: auto !important; line-height: 1.3;
    field-sizing: content !important; min-width: 2.5ch !important; }
body.kplab-present .tab-like-container:has(> input[data-testid=number-input]) { height: auto !important; }
/* tables as compact as their type allows: a verdict's table fits the first screen */
body.kplab-present .prose table th, body.kplab-present .prose table td { padding: 2px 10px !important;
    line-height: 1.25 !important; }
/* the head race's verdict and table are its point: above its figures on a projector */
body.kplab-present #race-text { order: -1; }
/* a figure's toolbar shows when the pointer is on the toolbar itself (its top-right corner), not on the whole figure:
   pointing at a curve on a projector no longer covers the figure's title with icons */
body.kplab-present .js-plotly-plot .plotly:hover .modebar--hover .modebar-group { opacity: 0 !important; }
body.kplab-present .js-plotly-plot .plotly .modebar--hover:hover .modebar-group { opacity: 1 !important; }
"""

PRESENT_JS = """(on) => { if (window.kplab) window.kplab.setPresent(on); else document.body.classList.toggle('kplab-present', !!on);
  const u = new URL(window.location); if (on) u.searchParams.set('present', '1'); else u.searchParams.delete('present');
  history.replaceState(null, '', u); return on; }"""


# the page's own script (presentation mode's plot type and heights, the keyboard): demos/common/page.js
PAGE_JS = (Path(__file__).parent / "demos" / "common" / "page.js").read_text(encoding="utf-8")
HEAD = f"<script>window.kplabInitialQuery = window.location.search;</script>\n<script>{PAGE_JS}</script>"
INITIAL_QUERY_JS = """() => { const q = new URLSearchParams(window.kplabInitialQuery ?? window.location.search);
  return [q.get('tab') || '', q.get('present') || '']; }"""


def tab_js(tab_id: str) -> str:
    """Keep ?tab=<id> in the address bar in step with the open tab, so a link reopens it."""
    # only when that tab really is the open one: Gradio may report the first tab's selection late
    return ("() => { const b = document.getElementById('tab-%s-button'); "
            "if (b && b.getAttribute('aria-selected') !== 'true') return; "
            "const u = new URL(window.location); u.searchParams.set('tab', '%s'); "
            "history.replaceState(null, '', u); }" % (tab_id, tab_id))


def load_topics(names=TOPICS):
    return [importlib.import_module(f"demos.{name}.tab") for name in names]


def _parameters(block_fn) -> str:
    return ", ".join(str(getattr(b, "label", None) or b.get_block_name()) for b in block_fn.inputs)


class LabBlocks(gr.Blocks):
    """gr.Blocks whose own checks, made before a handler runs, answer in one plain sentence: too few values
    from an API call, or a value that does not fit its component (no component index, object repr or
    exception name). Everything the handlers receive is checked again by the parameter records."""

    def validate_inputs(self, block_fn, inputs):
        if len(inputs) < len(block_fn.inputs):
            log.info("rejected call to %s: %d of %d values", block_fn.api_name, len(inputs), len(block_fn.inputs))
            raise gr.Error(f"This call sent {len(inputs)} value{'s' * (len(inputs) != 1)}; "
                           f"/{block_fn.api_name or 'this event'} takes "
                           f"{len(block_fn.inputs)} ({_parameters(block_fn)}). See the API page for each one's "
                           "range.", print_exception=False)

    async def preprocess_data(self, block_fn, inputs, state, explicit_call=False):
        try:
            return await super().preprocess_data(block_fn, inputs, state, explicit_call)
        except gr.Error:
            raise
        except Exception:  # noqa: BLE001 - Gradio's own decoding of the values failed: say so in one line
            log.info("rejected values sent to %s", block_fn.api_name)
            raise gr.Error(f"The values sent to /{block_fn.api_name or 'this event'} do not fit its parameters "
                           f"({_parameters(block_fn)}): send a file as a file, numbers as numbers. See the API "
                           "page for each one's range.", print_exception=False) from None


def build_app(names=TOPICS) -> gr.Blocks:
    topics = load_topics(names)
    ids = [m.TAB_ID for m in topics]
    # delete_cache: uploads and generated files older than 10 min are removed every 5 min
    with LabBlocks(title="Keypoint & Architecture Lab", delete_cache=(300, 600)) as demo:
        with gr.Row(elem_id="kplab-header"):
            gr.HTML(
                "<div class='kplab-title'><h1>Keypoint &amp; Architecture Lab</h1>"
                f"<span class='kplab-device' id='kplab-device' title='{threads_note()}'>computing on: <b>{where_label()}</b>"
                "</span></div>",
                padding=False,
            )
            present = gr.Checkbox(label="Presentation mode", value=False, scale=0, min_width=200,
                                  elem_id="kplab-present")
            # A link to this page as it is now (every control and figure): Gradio saves the page's values under
            # deep_links/, which files.prune_deep_links keeps for a day (at most 200); files the values point to
            # (an uploaded image, a CSV) are in Gradio's cache, which delete_cache below empties after 10 minutes.
            # Works inside the Space page, whose address bar is not the app's. ?tab= links stay.
            gr.DeepLinkButton("Share this view", copied_value="Link copied", size="sm", scale=0, min_width=170)
        present.change(None, present, present, js=PRESENT_JS)
        with gr.Tabs(elem_id="kplab-tabs") as tabs:
            for mod in topics:
                with gr.Tab(mod.TITLE, id=mod.TAB_ID, elem_id=f"tab-{mod.TAB_ID}") as tab:
                    params = inspect.signature(mod.build).parameters
                    mod.build(topics=topics) if "topics" in params else mod.build()
                tab.select(None, js=tab_js(mod.TAB_ID))

        url_tab = gr.Textbox(visible=False)
        url_present = gr.Textbox(visible=False)

        def open_from_url(tab: str, present_flag: str, request: gr.Request = None):
            """Open the tab named by ?tab= (and presentation mode for ?present=1) when the page loads.

            Returns:
                the tab to select (unchanged when ?tab= names none), and whether presentation mode is on.
            """
            files.prune_deep_links()  # shared views older than a day (a directory listing: cheap)
            q = dict(request.query_params) if request is not None else {}
            tab = tab or q.get("tab", "")
            on = (present_flag or q.get("present", "")) in ("1", "true", "yes")
            # no (or an unknown) ?tab=: leave the selection alone, the user may already have clicked a tab
            return (gr.Tabs(selected=tab) if tab in ids else gr.skip()), on

        ui.load_first_views()  # every tab's first views in one page-load event

        # The page's own query string, read before any tab event rewrites the address bar.
        demo.load(open_from_url, [url_tab, url_present], [tabs, present], api_name="open_from_url",
                  js=INITIAL_QUERY_JS).then(None, present, present, js=PRESENT_JS)
    return demo


def threads_note() -> str:
    import torch

    n = torch.get_num_threads()
    return f"{n} torch thread{'s' * (n != 1)} per request; the queue runs two requests at once"


def launch_kwargs() -> dict:
    return dict(
        # system fonts only: the default theme fonts come from Google Fonts, which an offline classroom lacks
        theme=gr.themes.Soft(primary_hue="blue", neutral_hue="slate",
                             font=[gr.themes.Font("system-ui"), "Arial", "sans-serif"],
                             font_mono=[gr.themes.Font("ui-monospace"), "Consolas", "monospace"]),
        css=CSS,
        head=HEAD,
        # twice the image helper's own limit: files up to that reach load_image, which answers with a sentence
        max_file_size=2 * MAX_BYTES,
        show_error=True,  # handlers raise gr.Error with plain sentences; API clients see them too
        allowed_paths=[],  # nothing beyond the app's own temporary files is served
        footer_links=["api", "settings"],
        # the named endpoints are also MCP tools (/gradio_api/mcp/), described by their views' docstrings
        mcp_server=True,
        # the page, rendered once per origin and sent as it is (demos/common/sessions.py: it was half of the
        # server's time while a class of 40 opened it)
        app_kwargs={"middleware": [Middleware(sessions.PageCache)]},
    )


def make_demo() -> gr.Blocks:
    configure_threads()  # one torch thread per request: the queue's two slots use both cores
    sessions.share_session_template()  # a new session copies its component configs from one template
    demo = build_app()
    # max_size: a page open sends 3 events (first views, keypoints, ?tab=); 64 turned 17 of 40 students opening
    # within 10 s away with "503" (python -m bench classload), 256 leaves room for a class of 60 and its clicks
    # concurrency: with quick workers (demos/common/pool.py) a click's thread mostly waits for its worker, so two more
    # events than workers keep both workers busy while the server sends the results
    demo.queue(default_concurrency_limit=int(os.environ.get("KPLAB_CONCURRENCY", 2 + pool.size())), max_size=256)
    return demo


# Module level, so `gradio app.py` (reload mode) and the Spaces convention find it.
demo = make_demo()


def quick_modules(names=TOPICS) -> tuple[str, ...]:
    """The tabs' view modules, which each quick worker process imports before it takes its first call."""
    return tuple(f"demos.{n}.views" for n in names if importlib.util.find_spec(f"demos.{n}.views") is not None)


def warm_up(demo: gr.Blocks) -> None:
    """At start-up, before the class arrives: the quick worker processes (``KPLAB_QUICK_WORKERS``, 0 = none) and
    the long-run worker process, then every first view."""
    if pool.wanted():
        pool.start(quick_modules())
    if worker.wanted():
        worker.start()
    ui.warm_first_views(demo)
    if pool.wanted():  # each quick worker's own caches: the quick first views and the keypoints' default image
        from demos.keypoints import views as kp

        defaults = [str(kp.EXAMPLES / kp.DEFAULT_EXAMPLE)] + [r.default for r in kp.analyse_image.params[1:]]
        pool.warm([(v.fn, v.fn.checked(*v.values)) for v in ui.first_views(demo) if v.fn.quick]
                  + [(kp.analyse_image, kp.analyse_image.checked(*defaults))])


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run the Keypoint & Architecture Lab")
    ap.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log.setLevel(logging.INFO)  # one line per rejected input; tracebacks only for real faults
    # Warm up, then launch: the server accepts its first visitor with every first view computed and the quick
    # workers ready, so a class opening the page never competes with start-up work (a warm-up beside the server
    # also made launch's own 3 s check of the page fail on a busy 2-core machine, and the app exit).
    if not ON_ZERO_GPU:  # on ZeroGPU the first views compute inside GPU calls, which need a visitor's request
        warm_up(demo)
    demo.launch(server_name=a.host, server_port=a.port, **launch_kwargs())


if __name__ == "__main__":
    main()
