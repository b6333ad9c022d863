"""User-facing parameters, declared once: range, default, step, unit and help in one record.

Every slider, number and choice a person (or an API client) can set is a :class:`Param` or a :class:`Choice`
declared next to the compute function that uses it. From that one record come

- the widget (``demos.common.ui.widget`` builds the Gradio slider or dropdown from it),
- the check of a value from the UI or the API (:meth:`Param.check`: one plain sentence naming the parameter
  and its allowed range),
- the bounds the benchmarks sweep (``bench/``) and the numbers the tests use.

:func:`takes` attaches the records to a compute function, so the function checks its own arguments however
it is called (the app, gradio_client, a script) and the tab can read them to build its widgets.
No Gradio here: compute modules import this.
"""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import UserInputError


def _fmt(v: float) -> str:
    return f"{v:g}"


def _shown(value: Any) -> str:
    """A value as the sentence shows it: short, no object addresses or paths."""
    if value is None:
        return "nothing"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _fmt(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return f"a {type(value).__name__}"


@dataclass(frozen=True)
class Param:
    """A number in [lo, hi]. ``label`` is what the person reads; ``key`` is the API parameter's name."""

    key: str
    label: str
    lo: float
    hi: float
    default: float
    step: float = 0.0  # 0: any value; sliders use (hi - lo) / 100
    unit: str = ""
    help: str = ""
    integer: bool = False

    def __post_init__(self):
        if not self.lo <= self.default <= self.hi:
            raise ValueError(f"{self.key}: default {self.default} outside [{self.lo}, {self.hi}]")

    @property
    def range_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        kind = "a whole number" if self.integer else "a number"
        return f"{kind} from {_fmt(self.lo)} to {_fmt(self.hi)}{unit}"

    def check(self, value: Any) -> float | int:
        """The value as a float (int for integer parameters), or UserInputError with one plain sentence."""
        if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
            raise UserInputError(f"{self.label} must be {self.range_text}; got {_shown(value)}.")
        try:
            v = float(value)
        except (TypeError, ValueError, OverflowError):
            raise UserInputError(f"{self.label} must be {self.range_text}; got {_shown(value)}.") from None
        if not math.isfinite(v) or v < self.lo or v > self.hi:
            raise UserInputError(f"{self.label} must be {self.range_text}; got {_shown(v)}.")
        if self.integer:
            if abs(v - round(v)) > 1e-9:
                raise UserInputError(f"{self.label} must be {self.range_text}; got {_shown(v)}.")
            return int(round(v))
        return v


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of values; ``options`` are (label, value) pairs."""

    key: str
    label: str
    options: tuple[tuple[str, Any], ...]
    default: Any
    help: str = ""

    @property
    def values(self) -> tuple:
        return tuple(v for _, v in self.options)

    def check(self, value: Any):
        if value in self.values:
            return value
        allowed = ", ".join(repr(v) for v in self.values[:12]) + (", ..." if len(self.values) > 12 else "")
        raise UserInputError(f"{self.label} must be one of {allowed}; got {_shown(value)}.")


@dataclass(frozen=True)
class Flag:
    """True or False (a checkbox)."""

    key: str
    label: str
    default: bool
    help: str = ""

    def check(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if value in (0, 1, "true", "false", "True", "False"):
            return value in (1, "true", "True")
        raise UserInputError(f"{self.label} must be true or false; got {_shown(value)}.")


@dataclass(frozen=True)
class Many:
    """A subset of a fixed set of values (a checkbox group)."""

    key: str
    label: str
    options: tuple[tuple[str, Any], ...]
    default: tuple = ()
    help: str = ""

    def check(self, value: Any) -> list:
        if value is None:
            return []
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            value = [value]
        allowed = [v for _, v in self.options]
        bad = [v for v in value if v not in allowed]
        if bad:
            raise UserInputError(f"{self.label}: {_shown(bad[0])} is not one of {', '.join(map(repr, allowed))}.")
        return list(value)


@dataclass(frozen=True)
class Opaque:
    """An input that is not a user setting (session state, an image): passed through unchecked."""

    key: str
    default: Any = None

    def check(self, value: Any):
        return value


Record = Param | Choice | Flag | Many | Opaque


@dataclass
class Signature:
    records: tuple
    names: tuple = field(init=False)

    def __post_init__(self):
        self.names = tuple(r.key for r in self.records)

    def bind(self, args: tuple, kwargs: dict) -> dict:
        """Positional and keyword arguments to {key: checked value}; missing ones count as None."""
        if len(args) > len(self.records):
            raise UserInputError(f"Too many values: this takes {len(self.records)} ({', '.join(self.names)}).")
        values = dict(zip(self.names, args))
        for k, v in kwargs.items():
            if k not in self.names:
                raise UserInputError(f"Unknown parameter {k!r}; the parameters are {', '.join(self.names)}.")
            values[k] = v
        return {r.key: r.check(values.get(r.key)) for r in self.records}


# A view whose declared cost stays under this (seconds on a 2-core CPU) is a quick control: it runs where the
# server is, never asks ZeroGPU for a slot (asking costs more than the work and spends the class's shared quota),
# and never goes to the long-run worker.
QUICK_S = 0.3
CPU_NOTE = "on a 2-core CPU"


def takes(*records: Record, seconds: float | Callable[..., float] | None = None) -> Callable:
    """Declare a compute function's user-facing parameters, in its argument order, and its cost.

    The decorated function checks every argument against its record before it runs. ``fn.params`` holds the
    records (the tab builds its widgets from them), ``fn.checked(*args, **kw)`` only checks and returns
    ``{key: value}``, and ``fn.raw`` is the undecorated function (for ``spaces.GPU``: check first, then
    compute on the GPU).

    ``seconds``: what one call costs on the 2-core CPU the lab is sized for (measured by ``bench worst``), a number
    or a function of the checked arguments; omitted for quick views. ``fn.seconds(**checked)`` answers it,
    ``fn.quick`` says whether the view is quick at every setting, and the ZeroGPU duration, the "about N s" texts,
    the placeholders and the benchmark's list of long runs all read it (:func:`about`, ``ui.handler``).
    """
    sig = Signature(tuple(records))
    cost = seconds if callable(seconds) else (lambda **_: float(seconds or 0.0))

    def deco(fn):
        names = [p for p in inspect.signature(fn).parameters if p != "report"]
        reports = "report" in inspect.signature(fn).parameters
        if tuple(names[: len(sig.names)]) != sig.names:
            raise TypeError(f"{fn.__name__}: records {sig.names} do not match the arguments {tuple(names)}")

        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def wrapper(*args, report=None, **kw):
                yield from fn(**sig.bind(args, kw), **({"report": report} if reports and report else {}))
        else:
            @functools.wraps(fn)
            def wrapper(*args, report=None, **kw):
                return fn(**sig.bind(args, kw), **({"report": report} if reports and report else {}))

        wrapper.params = sig.records
        wrapper.checked = lambda *a, **k: sig.bind(a, k)
        wrapper.raw = fn
        wrapper.seconds = lambda **kw: float(cost(**{n: kw.get(n, r.default) for n, r in zip(sig.names, sig.records)}))
        wrapper.quick = seconds is None or (not callable(seconds) and seconds < QUICK_S)
        return wrapper

    return deco


def _seconds_text(s: float) -> str:
    if s < 1.5:
        return "about a second"
    if s < 10:
        return f"about {s:.0f} s"
    if s < 90:
        return f"about {5 * round(s / 5):.0f} s"
    return f"about {s / 60:.0f} minutes"


def about(fn, *args, where: bool = True, **kw) -> str:
    """"about 20 s on a 2-core CPU" for a call of ``fn`` (its declared cost, defaults for what is not given)."""
    checked = {r.key: r.default for r in fn.params} | dict(zip((r.key for r in fn.params), args)) | kw
    return _seconds_text(fn.seconds(**checked)) + (f" {CPU_NOTE}" if where else "")


def gpu_seconds(fn, **checked) -> int:
    """What ZeroGPU reserves for a call: its CPU cost covers a GPU run of the same work (these small nets are
    launch-bound on a GPU, never slower than a CPU core), plus 15 s to load models and move data."""
    return int(min(300, 15 + 1.2 * fn.seconds(**checked)))


class Update(dict):
    """An output that changes a widget's properties as well as its value, e.g.
    ``Update(choices=[...], value="l_wrist")`` for a dropdown (the tab turns it into ``gr.update``)."""


def defaults(fn) -> list:
    """The default value of each of ``fn``'s parameters, in order (first views, tests)."""
    return [r.default for r in fn.params]
