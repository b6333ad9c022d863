"""Gradio-side helpers shared by the tabs: widgets built from parameter records, one error path, events with
named outputs, cached first views and the long-run queue slot.

A tab wires a compute function (declared with ``demos.common.params.takes``) to widgets like this::

    x = ui.widget(compute.X)                       # slider with the record's range, default, step, help
    ui.on([x.release], compute.view, [x], {"plot": plot, "text": text}, api_name="view")

The compute function returns a dict of named outputs; names it leaves out keep what is on screen.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from typing import Any, Callable

import gradio as gr
import plotly.graph_objects as go
from gradio.context import LocalContext

from . import pool, worker
from .errors import UserInputError
from .gpu import fallback_sentence, gpu as gpu_decorator
from .params import Choice, Flag, Many, Opaque, Param, Update, about, gpu_seconds
from .plotstyle import PlainFigure, placeholder

log = logging.getLogger("kplab")

INTERNAL = ("This panel could not be computed because of an internal error (it is logged on the server). "
            "Try other settings, or reload the page.")


# -- components that hand the raw value to the project's own checks -----------------------------------------
# Gradio's own checks run before the handler and answer with developer messages ("Could not preprocess input
# component at index 0 ..."), and its errors blank the outputs. These subclasses skip them: the parameter
# records (demos/common/params.py) and the image helper (demos/common/images.py) check every value instead.

class _RawValue:
    """Hand the raw value to the handler (the records check it), and present the subclass to the page as its
    Gradio parent, so the browser uses the built-in frontend (a new block name would make Gradio look for a
    custom component's files)."""

    def preprocess(self, payload):
        return payload

    def get_block_name(self) -> str:
        return type(self).__mro__[2].__name__.lower()

    def get_block_class(self) -> str:
        return type(self).__mro__[2].__name__.lower()

    @classmethod
    def get_component_class_id(cls) -> str:
        return cls.__mro__[2].get_component_class_id()


class Slider(_RawValue, gr.Slider):
    pass


class Dropdown(_RawValue, gr.Dropdown):
    pass


class Checkbox(_RawValue, gr.Checkbox):
    pass


class CheckboxGroup(_RawValue, gr.CheckboxGroup):
    pass


class ImagePath(_RawValue, gr.Image):
    """An image upload whose handler receives the uploaded file's path (as Gradio's ``type="filepath"``, but
    without Gradio opening the file first), decoded later by ``load_image``. No ``__init__`` of its own: Gradio
    reads a component's properties from its constructor's signature."""

    def preprocess(self, payload):
        return None if payload is None else getattr(payload, "path", payload)


class WebcamFrame(_RawValue, gr.Image):
    """A streaming webcam image (``sources=["webcam"], streaming=True``) whose handler receives each frame as the page
    sent it: a ``data:`` URL (the page streams JPEG frames that way), else the file's path; the view decodes it with
    ``load_image``, so a frame Gradio could not decode gets the view's sentence instead of Gradio's error."""

    def preprocess(self, payload):
        if payload is None:
            return None
        url = payload.get("url") if isinstance(payload, dict) else getattr(payload, "url", None)
        if isinstance(url, str) and url.startswith("data:"):
            return url
        return payload.get("path") if isinstance(payload, dict) else getattr(payload, "path", payload)


def widget(rec, **kw):
    """The Gradio input for a parameter record: its label, range, default, step and help. The component keeps
    its record's key, so ``on`` can check that a view is wired to the inputs its records name."""
    comp = _widget(rec, **kw)
    comp.kplab_key = rec.key
    return comp


def _widget(rec, **kw):
    if isinstance(rec, Param):
        step = rec.step or (1 if rec.integer else (rec.hi - rec.lo) / 100)
        info = rec.help + (f" ({rec.unit})" if rec.unit and rec.unit not in rec.help else "")
        return Slider(rec.lo, rec.hi, value=rec.default, step=step, label=rec.label, info=info or None, **kw)
    if isinstance(rec, Choice):
        return Dropdown(list(rec.options), value=rec.default, label=rec.label, info=rec.help or None, **kw)
    if isinstance(rec, Flag):
        return Checkbox(value=rec.default, label=rec.label, info=rec.help or None, **kw)
    if isinstance(rec, Many):
        return CheckboxGroup(list(rec.options), value=list(rec.default), label=rec.label, info=rec.help or None, **kw)
    raise TypeError(f"no widget for {rec!r}")


# -- the one error path ----------------------------------------------------------------------------------------

def from_person() -> bool:
    """True for a person's page (Gradio's page marks its requests ``x-gradio-user: app``); False for
    gradio_client, MCP, hand-written HTTP calls and direct calls, which get a ``gr.Error`` they can read."""
    req = LocalContext.request.get(None)
    if req is None:
        return False
    try:
        return dict(req.headers).get("x-gradio-user") == "app"
    except Exception:  # noqa: BLE001 - a request object without headers: not a page
        return False


def friendly(fn: Callable, n_outputs: int = 1) -> Callable:
    """Turn failures of a handler into one plain sentence, the same for every tab.

    - Bad input (``UserInputError``): on a person's page a warning toast with the sentence, and every output
      keeps what it showed (``gr.skip()`` for each of the ``n_outputs``); for API clients a ``gr.Error`` with
      the sentence. Logged as one line, no traceback.
    - Anything else: a ``gr.Error`` with a fixed sentence; the traceback goes to the server log only.

    Works for functions and generators (streaming handlers). Stacking rule: ``friendly`` must be the
    *outermost* wrapper, outside ``spaces.GPU`` (``demos.common.gpu``), so that input checks and their sentences
    happen on the CPU side before a GPU is requested; ``ui.on`` applies it in that order for you.
    """
    name = getattr(fn, "__name__", "handler")
    skip = gr.skip() if n_outputs == 1 else tuple(gr.skip() for _ in range(n_outputs))

    def rejected(e: UserInputError):
        log.info("rejected input to %s: %s", name, e)
        if from_person():
            gr.Warning(str(e))
            packed = getattr(e, "packed", None)  # the view's outputs for the page after a refusal (see handler)
            return skip if packed is None else packed
        raise gr.Error(str(e), print_exception=False) from None

    def failed(e: Exception):
        if isinstance(e, gr.Error):
            raise e
        log.exception("handler %s failed", name)
        raise gr.Error(INTERNAL, print_exception=False) from None

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen(*a, **k):
            try:
                yield from fn(*a, **k)
            except UserInputError as e:
                yield rejected(e)
            except Exception as e:  # noqa: BLE001
                failed(e)

        return gen

    @functools.wraps(fn)
    def wrapper(*a, **k):
        try:
            return fn(*a, **k)
        except UserInputError as e:
            return rejected(e)
        except Exception as e:  # noqa: BLE001
            failed(e)

    return wrapper


# -- events with named outputs ---------------------------------------------------------------------------------

def _value(v: Any):
    if isinstance(v, Update):
        return v["value"] if set(v) == {"value"} else gr.update(**v)  # a plain value for API clients too
    return v


def pack(result: dict, names: list[str]):
    if not isinstance(result, dict):
        raise TypeError(f"a view must return a dict of named outputs, got {type(result).__name__}")
    unknown = set(result) - set(names) - {"progress"}
    if unknown:
        raise KeyError(f"outputs {sorted(unknown)} are not wired (wired: {names})")
    out = tuple(_value(result[n]) if n in result else gr.skip() for n in names)
    return out[0] if len(out) == 1 else out


def serialized(values):
    """``pack``'s values with every plotly figure turned into Gradio's PlotData once (its JSON): for outputs that
    are cached and sent again and again (first views), so each page open does not serialize the figures anew.
    ``gr.Plot`` passes PlotData through unchanged."""
    from gradio.components.plot import PlotData

    def one(v):
        return PlotData(type="plotly", plot=v.to_json()) if isinstance(v, (go.Figure, PlainFigure)) else v

    return tuple(one(v) for v in values) if isinstance(values, tuple) else one(values)


def handler(fn: Callable, output_names: list[str], *, in_worker: bool = False) -> Callable:
    """A Gradio handler for a compute function declared with ``params.takes``: check the inputs against their
    records, then run, and map the returned dict to the outputs.

    Where it runs comes from the view's declared cost (``takes(..., seconds=...)``): a quick view runs in the
    server's process (on ZeroGPU: on the CPU, never asking for a GPU slot); a long one inside ``spaces.GPU`` with
    the duration its cost gives (``params.gpu_seconds``), or, on a CPU, in the long-run worker process when
    ``in_worker`` (``demos.common.worker``). A streaming compute function (a generator) may take
    ``report(fraction, text)`` to drive Gradio's progress bar.
    """
    records = getattr(fn, "params", None)
    if records is None:
        raise TypeError(f"{fn.__name__} has no parameter records; declare them with params.takes")
    raw = fn.raw
    streams = inspect.isgeneratorfunction(raw)
    wants_report = "report" in inspect.signature(raw).parameters
    if fn.quick:
        run = _reporting(raw, wants_report)
        if not streams and not wants_report:  # in a quick worker process when the app has started them
            run = _pooled(fn, run)
    else:
        keys = [r.key for r in records]
        run = gpu_decorator(_reporting(raw, wants_report),
                            duration=lambda *a, **k: gpu_seconds(fn, **{n: k[n] for n in keys if n in k}),
                            fallback=_cpu_fallback(fn, _reporting(raw, wants_report), output_names))

    if in_worker and worker.wanted():
        def remote(kw, report):  # the same calls, made by the worker process
            return worker.run(fn, kw, report if wants_report else None)

        if streams:
            def call(*args, progress=gr.Progress()):
                kw = fn.checked(*args)
                for result in remote(kw, with_eta(fn, kw, progress)):
                    yield pack(result, output_names)
        else:
            def call(*args, progress=gr.Progress()):
                kw = fn.checked(*args)
                *_, result = remote(kw, with_eta(fn, kw, progress))
                return pack(result, output_names)
    elif streams:
        def call(*args, progress=gr.Progress()):
            for result in run(**fn.checked(*args)):  # report: made where it runs (_reporting)
                yield pack(result, output_names)
    else:
        def call(*args, progress=gr.Progress()):
            kw = fn.checked(*args)
            try:
                return pack(run(**kw), output_names)
            except UserInputError as e:
                if getattr(e, "outputs", None) is not None:
                    e.packed = pack(e.outputs, output_names)  # shown by ``friendly`` on a person's page
                raise

    params = [inspect.Parameter(r.key, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=r.default)
              for r in records]
    params.append(inspect.Parameter("progress", inspect.Parameter.KEYWORD_ONLY, default=gr.Progress()))
    call.__signature__ = inspect.Signature(params)
    call.__name__ = fn.__name__
    call.__doc__ = fn.__doc__
    return friendly(call, n_outputs=len(output_names))


def with_eta(fn: Callable, kw: dict, progress) -> Callable:
    """A long run's ``report(fraction, text)`` for Gradio's progress bar, with the time left: the view's declared
    cost minus the time spent until a tenth is done, then the measured rate (spent / fraction x what is left), so
    the estimate corrects itself on a busy machine."""
    import time

    t0, declared = time.perf_counter(), fn.seconds(**kw)

    def report(frac, text=""):
        spent = time.perf_counter() - t0
        left = max(0.0, declared - spent) if frac < 0.1 else spent / frac * (1 - frac)
        progress(frac, desc=f"{text}, about {left:.0f} s left" if text else f"about {left:.0f} s left")

    return report


def _pooled(fn: Callable, local: Callable) -> Callable:
    """A quick view computed in the quick worker processes (``demos.common.pool``) once the app has started them,
    in this process otherwise: the same outputs (figures arrive as their JSON and go out as they are), the same
    sentences (a ``UserInputError`` raised there is raised here again), session state written back in place."""

    def run(**kw):
        if not pool.started():
            return local(**kw)
        try:
            return _from_pool(pool.run(fn, kw))
        except UserInputError as e:
            if getattr(e, "outputs", None) is not None:
                e.outputs = _from_pool(e.outputs)
            raise
        except pool.WorkerLost as e:
            raise gr.Error(str(e), print_exception=False) from None

    return run


def _from_pool(result):
    """A worker's outputs for Gradio: each figure's JSON (``pool.FigureJSON``) as Gradio's PlotData."""
    from gradio.components.plot import PlotData

    def one(v):
        if isinstance(v, pool.FigureJSON):
            return PlotData(type="plotly", plot=str(v))
        if isinstance(v, Update) and isinstance(v.get("value"), pool.FigureJSON):
            return Update({**v, "value": one(v["value"])})
        return v

    return {k: one(v) for k, v in result.items()} if isinstance(result, dict) else result


def _reporting(raw: Callable, wants_report: bool) -> Callable:
    """``raw(**checked)`` with its ``report(fraction, text)`` driving Gradio's progress bar, made where it runs:
    inside a ZeroGPU call that is spaces' worker process, and what crosses to it must be values (a callback does
    not pickle)."""
    if not wants_report:
        return raw

    def report_here():
        progress = gr.Progress()
        return lambda frac, text="": progress(frac, desc=text)

    if inspect.isgeneratorfunction(raw):
        @functools.wraps(raw)
        def gen(**kw):
            yield from raw(**kw, report=report_here())

        return gen

    @functools.wraps(raw)
    def one(**kw):
        return raw(**kw, report=report_here())

    return one


def _cpu_fallback(fn: Callable, run: Callable, output_names: list[str]) -> Callable:
    """What a long run does when ZeroGPU refuses it (``demos.common.gpu``): the same run on the CPU, with one
    sentence (what happened, and how long the CPU takes: ``about`` of the view's declared cost) at the top of its
    text, or as a warning where it has no text output."""
    keys = [r.key for r in fn.params]

    def noted(result, sentence: str, first: bool):
        if "text" not in output_names or not isinstance(result, dict):
            return result
        if isinstance(result.get("text"), str) and result["text"]:
            return {**result, "text": f"**{sentence}**\n\n{result['text']}"}
        return {**result, "text": f"**{sentence}**"} if first else result

    def fallback(reason: str, **kw):
        sentence = fallback_sentence(reason, about(fn, **{n: kw[n] for n in keys if n in kw}))
        if "text" not in output_names:
            gr.Warning(sentence)
        if inspect.isgeneratorfunction(run):
            return (noted(r, sentence, i == 0) for i, r in enumerate(run(**kw)))
        return noted(run(**kw), sentence, True)

    return fallback


def check_wiring(fn: Callable, inputs: list) -> None:
    """At build time: a view is wired to as many inputs as it has records, and every widget built from a record
    (``widget``) sits where that record does."""
    keys = [r.key for r in fn.params]
    if len(inputs) != len(keys):
        raise TypeError(f"{fn.__name__} takes {len(keys)} inputs ({', '.join(keys)}); {len(inputs)} are wired")
    for i, (comp, key) in enumerate(zip(inputs, keys)):
        got = getattr(comp, "kplab_key", None)
        if got is not None and got != key:
            raise TypeError(f"{fn.__name__}: input {i} should be {key!r}, the widget wired there is {got!r}")


def on(triggers, fn: Callable, inputs: list, outputs: dict, *, in_worker: bool = False, **event_kw):
    """``gr.on`` for a compute function with records and named outputs (see :func:`handler`)."""
    check_wiring(fn, inputs)
    names = list(outputs)
    for name, comp in outputs.items():  # the API page names each output by its label ("value_43" without one)
        if getattr(comp, "label", "") is None:
            comp.label = name.replace("_", " ")
            if isinstance(comp, gr.Markdown) and comp.show_label is None:
                comp.show_label = False  # a text's label is for the API page only
    return gr.on(triggers, handler(fn, names, in_worker=in_worker), inputs, [outputs[n] for n in names], **event_kw)


class FirstView:
    """A section's first view: ``fn(*args)`` (default: every record's default) packed into ``outputs``, computed
    once per process and cached with its figures serialized, so opening the page costs no computation after the
    first visitor and no figure serialization at all."""

    def __init__(self, fn: Callable, outputs: dict, args: list | None = None):
        self.fn, self.outputs, self.names = fn, outputs, list(outputs)
        self.values = list(args) if args is not None else [r.default for r in fn.params]
        self.run = fn.raw if fn.quick else gpu_decorator(fn.raw, duration=gpu_seconds(fn, **fn.checked(*self.values)))
        self.lock = threading.Lock()  # the start-up warm-up and the first visitor must not both compute it

    @functools.cached_property
    def packed(self) -> tuple:
        result = self.run(**self.fn.checked(*self.values))
        if inspect.isgenerator(result):
            last = None
            for last in result:
                pass
            result = last
        packed = serialized(pack(result, self.names))
        return packed if isinstance(packed, tuple) else (packed,)

    def shown(self) -> tuple:
        """The cached values; if the view fails, its outputs keep their placeholders (and the fault is logged)."""
        try:
            with self.lock:
                return self.packed
        except Exception:  # noqa: BLE001 - one broken section must not blank the page
            log.exception("first view %s failed", getattr(self.fn, "__name__", self.fn))
            return tuple(gr.skip() for _ in self.names)


_FIRST_VIEWS: dict[int, list[FirstView]] = {}  # per Blocks (by id), in the order the tabs declared them


def first_view(fn: Callable, outputs: dict, args: list | None = None) -> None:
    """Declare a section's first view (see :class:`FirstView`). The page fills all of them in one load event
    (:func:`load_first_views`, called once by the app after its tabs)."""
    root = gr.context.Context.root_block
    _FIRST_VIEWS.setdefault(id(root), []).append(FirstView(fn, outputs, args))


def first_views(root=None) -> list[FirstView]:
    return _FIRST_VIEWS.get(id(root or gr.context.Context.root_block), [])


def load_first_views() -> None:
    """One page-load event that fills every declared first view: a class opening the page sends one event per
    student instead of one per section (16 before), and every value is sent as cached."""
    views = first_views()
    outputs = [v.outputs[n] for v in views for n in v.names]

    def show(request: gr.Request = None):
        if from_shared_link(request):  # the page shows the shared view's figures: keep them
            return tuple(gr.skip() for _ in outputs)
        return tuple(x for v in views for x in v.shown())

    # no concurrency limit: it sends cached values, and must not wait in line behind the class's clicks
    gr.context.Context.root_block.load(show, None, outputs, api_visibility="private", concurrency_limit=None)


_WARM: dict[int, list[Callable]] = {}


def warm_up(fn: Callable) -> None:
    """Run ``fn()`` when the app warms up (a tab's own cached first screen, e.g. the keypoints' linked view)."""
    _WARM.setdefault(id(gr.context.Context.root_block), []).append(fn)


def warm_first_views(root) -> None:
    """Compute every first view now (at start-up, in a background thread), so the first student does not wait."""
    for v in first_views(root):
        v.shown()
    for fn in _WARM.get(id(root), []):
        try:
            fn()
        except Exception:  # noqa: BLE001 - the page computes it again when asked, and reports it then
            log.exception("warming %s failed", fn)


def from_shared_link(request) -> bool:
    """True when the page was opened from "Share this view" (Gradio's ``?deep_link=``): its components
    already hold the shared values, which the first views must not overwrite."""
    try:
        return bool(request is not None and request.query_params.get("deep_link"))
    except Exception:  # noqa: BLE001 - no query string: a plain page load
        return False


def results(elem_id: str, label: str, waiting: str) -> dict:
    """The outputs of a long run: its text and its plot, which says what will appear and how long it takes
    until the run has been started (no empty frame)."""
    return {"text": gr.Markdown(elem_id=f"{elem_id}-text"),
            "plot": gr.Plot(placeholder(waiting), label=label, elem_id=elem_id)}


def table(label: str, elem_id: str, value=None, **kw) -> gr.Dataframe:
    """A table as a projector shows it: every row on screen (a sentence beside it quotes rows; a table that scrolls
    hides them) and its headers wrapped between words; ``column_widths`` where the columns must share 1280 px."""
    return gr.Dataframe(value, label=label, elem_id=elem_id, wrap=True, max_height=2000, **kw)


def run_stop(text: str, elem_id: str):
    """A primary button that starts a long run, and its Stop button beside it."""
    return gr.Button(text, variant="primary", elem_id=elem_id), gr.Button("Stop", variant="stop")


def long_run(button, stop, fn: Callable, inputs: list, outputs: dict, *, api_name: str):
    """A long run started by ``button``: in the shared long-run queue slot, on the GPU (ZeroGPU: for the duration
    its declared cost gives), in the worker process on a CPU (``demos.common.worker``), cancelled by ``stop``
    (a button, or None)."""
    if fn.quick:
        raise TypeError(f"{fn.__name__} is a long run: declare its cost with takes(..., seconds=...)")
    # marked for the page: the browser tests press every long run and measure the figures it draws
    classes = button.elem_classes
    button.elem_classes = [*([classes] if isinstance(classes, str) else classes or []), "kplab-long-run"]
    event = on([button.click], fn, inputs, outputs, api_name=api_name, in_worker=True, **HEAVY)
    if stop is not None:
        stop.click(None, None, None, cancels=[event])
    return event


# Long computations (training runs, timing the model zoo) share one queue slot, so on a small CPU one visitor's
# training cannot stall everyone's sliders; quick handlers keep the default concurrency.
HEAVY = dict(concurrency_id="heavy", concurrency_limit=1)

__all__ = ["widget", "table", "on", "handler", "friendly", "first_view", "load_first_views", "warm_first_views", "warm_up", "serialized", "HEAVY", "Slider", "Dropdown", "CheckboxGroup",
           "ImagePath", "WebcamFrame", "UserInputError", "Opaque"]
