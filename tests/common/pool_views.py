"""Views for tests/common/test_pool.py, imported by the quick worker processes by module name."""

from __future__ import annotations

import os
from pathlib import Path

from demos.common.errors import UserInputError
from demos.common.params import Opaque, Param, takes
from demos.common.plotstyle import figure

X = Param("x", "x", 0, 10, 1)
STATE = Opaque("state")
FLAG = Opaque("flag")


@takes(X)
def refuse(x) -> dict:
    raise UserInputError(f"x of {x:g} is refused in the worker.")


@takes(X)
def refuse_with_outputs(x) -> dict:
    e = UserInputError("refused, with what the page shows instead.")
    e.outputs = {"plot": figure([{"type": "scatter", "x": [0, 1], "y": [x, x]}], {})}
    raise e


@takes(STATE, X)
def fill(state, x) -> dict:
    """Fills the session's state in place, as the keypoints' compute keeps its forward pass."""
    state.setdefault("outputs", {})[x] = x * 2
    return {"text": f"{len(state['outputs'])} kept", "pid": os.getpid()}


@takes(FLAG, X)
def die_once(flag, x) -> dict:
    """Kills its process the first time (the flag file does not exist yet), answers the second."""
    p = Path(flag)
    if not p.exists():
        p.write_text("died")
        os._exit(3)
    return {"text": f"answered {x:g}"}


@takes(X)
def die(x) -> dict:
    os._exit(3)


@takes(X)
def pid(x) -> dict:
    return {"pid": os.getpid()}


@takes(STATE, X)
def note_and_refuse(state, x) -> dict:
    """Notes the refusal in the session's state, then refuses (the keypoints' photo model, offline, does this so
    that the same choice arriving twice gets one toast)."""
    state["refused"] = x
    raise UserInputError("refused, and noted in the session.")


@takes(STATE, X)
def count(state, x) -> dict:
    """Counts its calls in the session's state, slowly enough that two calls at once overlap."""
    import time

    n = state.get("n", 0)
    time.sleep(0.3)
    state["n"] = n + 1
    return {"text": str(state["n"])}
