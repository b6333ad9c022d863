"""The long-run worker process: same results as in-process, progress, sentences, Stop, and no orphan."""

from __future__ import annotations

import re

import pytest
import torch

from demos.architectures import views as AV
from demos.common.errors import UserInputError
from demos.common.worker import Worker


@pytest.fixture(scope="module")
def w():
    worker = Worker()
    worker.start()
    yield worker
    worker.send.close()
    worker.proc.wait(timeout=30)


def test_a_run_in_the_worker_equals_the_run_in_process(w):
    reports = []
    items = list(w.run(AV.skip_connections, {"depth": 6, "steps": AV.SKIP_STEPS.lo}, report=lambda f, t="": reports.append(f)))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the worker computes with one torch thread
    try:
        local = list(AV.skip_connections.raw(depth=6, steps=50))
    finally:
        torch.set_num_threads(threads)
    assert [i["text"] for i in items] == [i["text"] for i in local]
    assert reports and reports[-1] == 1.0  # the view's progress reports come back


def test_bad_input_comes_back_as_its_sentence(w):
    with pytest.raises(UserInputError) as e:
        AV.SKIP_STEPS.check(-5)
    with pytest.raises(UserInputError, match=re.escape(str(e.value))):  # the record's own sentence, from the worker
        list(w.run(AV.skip_connections, {"depth": 6, "steps": -5}))


def test_a_stopped_or_abandoned_run_does_not_block_the_next(w):
    g = w.run(AV.skip_connections, {"depth": 30, "steps": AV.SKIP_STEPS.hi})
    next(g)
    g.close()  # Stop: the worker ends the run between two of its yields
    assert len(list(w.run(AV.skip_connections, {"depth": 6, "steps": AV.SKIP_STEPS.lo}))) == 5
    g = w.run(AV.skip_connections, {"depth": 30, "steps": AV.SKIP_STEPS.hi})
    next(g)  # a page closed mid-run: never resumed, never closed
    assert len(list(w.run(AV.skip_connections, {"depth": 6, "steps": AV.SKIP_STEPS.lo}))) == 5


def test_the_worker_exits_with_the_server():
    worker = Worker()
    worker.start()
    worker.send.close()  # what the server's exit does to the pipe
    assert worker.proc.wait(timeout=30) == 0
