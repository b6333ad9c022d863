"""Checks every tab's test_tab.py makes: its widgets are built from the parameter records of its views, and
its endpoints are the named ones (so the UI, the API checks and the benchmarks use the same ranges)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import gradio as gr

from demos.common.params import Choice, Param

ROOT = Path(__file__).resolve().parents[1]


def app_topics() -> list[str]:
    """``app.TOPICS``, read from app.py without building the app (importing app builds every tab)."""
    for node in ast.parse((ROOT / "app.py").read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "TOPICS" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError("app.py declares no TOPICS list")


def build(tab) -> gr.Blocks:
    with gr.Blocks() as demo:
        params = inspect.signature(tab.build).parameters
        tab.build(topics=[]) if "topics" in params else tab.build()
    return demo


def views_of(views) -> list:
    return [f for f in vars(views).values() if callable(f) and hasattr(f, "params") and hasattr(f, "raw")]


def check_widgets_match_records(demo: gr.Blocks, views) -> int:
    """Every Param / Choice of every view has a widget with its label, range/options and default."""
    by_label = {}
    for b in demo.blocks.values():
        if getattr(b, "label", None):
            by_label.setdefault(b.label, []).append(b)
    checked = 0
    for fn in views_of(views):
        for rec in fn.params:
            if not isinstance(rec, (Param, Choice)):
                continue
            widgets = by_label.get(rec.label, [])
            assert widgets, f"{fn.__name__}: no widget labelled {rec.label!r}"
            if isinstance(rec, Param):
                assert any((w.minimum, w.maximum, w.value) == (rec.lo, rec.hi, rec.default) for w in widgets), rec.key
            else:
                assert any([tuple(c) for c in w.choices] == [tuple(o) for o in rec.options] for w in widgets), rec.key
            checked += 1
    return checked


def api_names(demo: gr.Blocks) -> set[str]:
    return {fn.api_name for fn in demo.fns.values() if fn.api_name}
