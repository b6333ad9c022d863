"""Errors that carry a plain sentence for the person using the app (tabs show them in the UI)."""

import math


class UserInputError(ValueError):
    """Bad input from the UI or the API: the message is shown to the user as it is."""


def number(value, name: str, lo: float, hi: float, integer: bool = False):
    """Validate a numeric input from a slider or the API: a finite number within [lo, hi]."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise UserInputError(f"{name} must be a number, got {value!r}.") from None
    if not math.isfinite(v):
        raise UserInputError(f"{name} must be a finite number, got {value}.")
    if v < lo or v > hi:
        raise UserInputError(f"{name} must lie between {lo:g} and {hi:g}, got {v:g}.")
    return int(round(v)) if integer else v
