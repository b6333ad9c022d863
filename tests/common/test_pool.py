"""The quick-view pool (demos/common/pool.py): the same outputs and sentences as in the server's process, session
state written back, and nothing lost when a worker dies."""

from __future__ import annotations

import os
import signal

import gradio as gr
import plotly.graph_objects as go
import pytest
import torch

from demos.bimodal import views as BV
from demos.common import pool, ui
from demos.common.errors import UserInputError
from demos.common.plotstyle import PlainFigure
from demos.dropout import views as DV
from demos.normalization import views as NV
from demos.selu import views as SV
from tests.common import pool_views as T

VIEWS = [(BV.two_peaks, {}), (BV.exp_normalize, {"scale": 100}), (NV.norm_variants, {"n": 1, "c": 3, "groups": 2}),
         (DV.sgd_weight_decay_step, {"lr": 0.2, "wd": 0.1}), (SV.selu_field, {"mu0": -0.3, "steps": 20})]


@pytest.fixture(scope="module")
def p():
    workers = pool.Pool(2, preload=("demos.bimodal.views",))
    workers.start()
    yield workers
    workers.close()


def args(fn, kw):
    return fn.checked(**({r.key: r.default for r in fn.params} | kw))


def local(fn, kw):
    """The view in this process with one torch thread, as a worker computes it; figures as their JSON."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = fn.raw(**args(fn, kw))
    finally:
        torch.set_num_threads(threads)
    return {k: v.to_json() if isinstance(v, (go.Figure, PlainFigure)) else v for k, v in out.items()}


def _same(a, b):
    assert set(a) == set(b)
    for k in a:
        if hasattr(a[k], "equals"):  # a DataFrame
            assert a[k].equals(b[k]), k
        else:
            assert a[k] == b[k], k


@pytest.mark.parametrize("fn,kw", VIEWS, ids=[f.__name__ for f, _ in VIEWS])
def test_a_view_in_the_pool_returns_what_it_returns_in_process(p, fn, kw):
    remote = p.run(fn, args(fn, kw))
    assert any(isinstance(v, pool.FigureJSON) for v in remote.values()) or fn is DV.sgd_weight_decay_step
    _same(remote, local(fn, kw))


def test_bad_input_raised_in_a_worker_is_the_same_sentence(p):
    with pytest.raises(UserInputError) as here:
        T.refuse(4)
    with pytest.raises(UserInputError) as there:
        p.run(T.refuse, T.refuse.checked(4))
    assert str(there.value) == str(here.value) == "x of 4 is refused in the worker."


def test_a_refusal_brings_its_outputs_for_the_page(p):
    with pytest.raises(UserInputError) as there:
        p.run(T.refuse_with_outputs, {"x": 2})
    assert isinstance(there.value.outputs["plot"], pool.FigureJSON)
    assert there.value.outputs["plot"] == T.figure([{"type": "scatter", "x": [0, 1], "y": [2, 2]}], {}).to_json()


def test_session_state_noted_by_a_refusal_in_a_worker_is_written_back(p):
    state = {"image": "kept"}
    with pytest.raises(UserInputError, match="noted in the session"):
        p.run(T.note_and_refuse, {"state": state, "x": 3})
    assert state == {"image": "kept", "refused": 3}


def test_two_calls_of_one_session_at_once_both_count(p):
    """Two events of one session in two workers: the second sees what the first wrote (as in the server's process)."""
    import threading

    state = {}
    calls = [threading.Thread(target=p.run, args=(T.count, {"state": state, "x": 1})) for _ in range(2)]
    for t in calls:
        t.start()
    for t in calls:
        t.join(60)
    assert state == {"n": 2}


def test_session_state_filled_in_a_worker_is_written_back_in_place(p):
    state = {"image": "kept"}
    p.run(T.fill, {"state": state, "x": 1})
    out = p.run(T.fill, {"state": state, "x": 2})
    assert state == {"image": "kept", "outputs": {1: 2, 2: 4}}
    assert out["text"] == "2 kept"


def test_a_worker_that_dies_mid_call_is_restarted_and_the_call_retried(p, tmp_path):
    before = p.restarts
    out = p.run(T.die_once, {"flag": str(tmp_path / "flag"), "x": 3})
    assert out == {"text": "answered 3"}
    assert p.restarts == before + 1


def test_a_call_that_kills_every_worker_gets_a_sentence_and_the_pool_goes_on(p):
    with pytest.raises(pool.WorkerLost, match="stopped before it finished"):
        p.run(T.die, {"x": 1})
    assert len({p.run(T.pid, {"x": 1})["pid"] for _ in range(4)} - {os.getpid()}) >= 1
    assert all(q.proc.poll() is None for q in p.procs)


def test_a_worker_killed_between_calls_is_replaced(p):
    victim = p.procs[0].pid
    os.kill(victim, signal.SIGKILL)
    pids = {p.run(T.pid, {"x": 1})["pid"] for _ in range(4)}
    assert victim not in pids and victim not in p.pids()


@pytest.fixture
def app_pool(monkeypatch):
    """The pool as the app starts it, for handlers built by ui.handler."""
    workers = pool.Pool(1)
    workers.start()
    monkeypatch.setattr(pool, "_POOL", workers)
    yield workers
    workers.close()


def test_a_handler_answers_the_same_from_the_pool(app_pool):
    names = ["plot", "text"]
    call = ui.handler(BV.exp_normalize, names)
    assert pool.started()
    plot, text = call(80)
    expected = local(BV.exp_normalize, {"scale": 80})
    assert plot.plot == expected["plot"] and text == expected["text"]


def test_a_handler_turns_a_refusal_in_the_pool_into_the_same_gr_error(app_pool):
    call = ui.handler(T.refuse, ["text"])
    with pytest.raises(gr.Error, match="x of 4 is refused in the worker."):
        call(4)
    with pytest.raises(gr.Error, match="x must be a number from 0 to 10; got 11."):  # the records, before the pool
        call(11)


def test_a_handler_says_one_sentence_when_the_pool_loses_the_call(app_pool):
    call = ui.handler(T.die, ["text"])
    with pytest.raises(gr.Error, match="stopped before it finished, twice"):
        call(1)
