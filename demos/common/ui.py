"""Gradio-side helpers shared by the tabs: friendly errors, cached first views, the heavy-work queue slot."""

from __future__ import annotations

import functools
import inspect
import logging

import gradio as gr
from gradio.context import LocalContext

from .errors import UserInputError, number  # noqa: F401  (number: the tabs' numeric-input check)

log = logging.getLogger("kplab")


def friendly(fn):
    """Bad input (UserInputError) becomes a warning toast with its sentence and leaves every output as it was,
    so a slip on the projector does not wipe the plots; any other failure becomes a short gr.Error.

    Works for plain functions and generators (streaming handlers). Tracebacks go to the server log, never to
    the page. Called directly (tests, scripts) or through gradio_client, it raises gr.Error for both.
    """

    def convert(e: Exception):
        if isinstance(e, gr.Error):
            return e
        if isinstance(e, UserInputError):
            return gr.Error(str(e))
        log.exception("handler %s failed", fn.__name__)
        return gr.Error(f"Something went wrong in {fn.__name__.replace('_', ' ')}: {type(e).__name__}: {e}")

    def in_app() -> bool:
        """A person's page (not gradio_client or MCP, which mark their requests and get an error back)."""
        req = LocalContext.request.get(None)
        if req is None:
            return False
        try:
            return dict(req.headers).get("x-gradio-user") not in ("api", "mcp")
        except Exception:  # noqa: BLE001
            return True

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen(*a, **k):
            try:
                yield from fn(*a, **k)
            except UserInputError as e:
                if not in_app():
                    raise convert(e) from None
                gr.Warning(str(e))
                yield gr.skip()
            except Exception as e:  # noqa: BLE001
                raise convert(e) from None

        return gen

    @functools.wraps(fn)
    def wrapper(*a, **k):
        try:
            return fn(*a, **k)
        except UserInputError as e:
            if not in_app():
                raise convert(e) from None
            gr.Warning(str(e))
            return gr.skip()
        except Exception as e:  # noqa: BLE001
            raise convert(e) from None

    return wrapper


def show_on_load(fn, args, outputs) -> None:
    """Fill ``outputs`` when a page opens with ``fn(*args)``, computed once per process and then cached, so a
    tab is never blank and opening the page costs no computation after the first visitor."""
    cached = functools.lru_cache(maxsize=1)(lambda: fn(*args))
    gr.context.Context.root_block.load(cached, None, outputs, api_visibility="private")


# Long computations (training runs, timing the model zoo) share one queue slot, so on a small CPU one visitor's
# training cannot stall everyone's sliders; quick handlers keep the default concurrency.
HEAVY = dict(concurrency_id="heavy", concurrency_limit=1)
