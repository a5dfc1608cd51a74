"""Validation of configuration fields and arguments: one clear error naming the bad value.

Every frozen configuration dataclass of the suite (``Experiment``, the toy configs, pruning)
and the library's functions check their inputs here, so a bad value stops with
"Owner.field = value is invalid: expected ..." (or "name must be ..., got value") instead of
a traceback from deep inside.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence

import numpy as np


class FieldChecks:
    """Checks for the fields of one configuration class; errors read 'Owner.field = value'."""

    def __init__(self, owner: str):
        self.owner = owner

    def fail(self, field: str, value: object, expected: str) -> None:
        raise ValueError(f"{self.owner}.{field} = {value!r} is invalid: expected {expected}")

    def integer(self, field: str, value: object, low: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            self.fail(field, value, f"an integer >= {low}")

    def number(self, field: str, value: object, low: float, high: float,
               bounds: str = "[]") -> None:
        """A real number between low and high; ``bounds`` marks each end closed '[' or open '('
        (e.g. "[)" for low <= value < high)."""
        ok = is_real(value)
        ok = ok and (low <= value if bounds[0] == "[" else low < value)
        ok = ok and (value <= high if bounds[1] == "]" else value < high)
        if not ok:
            self.fail(field, value, f"a number in {bounds[0]}{low}, {high}{bounds[1]}")

    def choice(self, field: str, value: object, allowed: Sequence[str]) -> None:
        if value not in allowed:
            self.fail(field, value, f"one of {', '.join(allowed)}")

    def flag(self, field: str, value: object) -> None:
        if not isinstance(value, bool):
            self.fail(field, value, "True or False")


def is_real(value: object) -> bool:
    """A finite int or float that is not a bool."""
    return (isinstance(value, int | float | np.integer | np.floating)
            and not isinstance(value, bool) and math.isfinite(value))


def choice(name: str, value: object, allowed: Sequence[str]) -> None:
    """Raise ValueError unless ``value`` is one of ``allowed`` (an argument, not a field)."""
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}: expected one of {', '.join(allowed)}")


def count(name: str, value: object, least: int = 0) -> int:
    """An integer argument >= ``least`` (numpy integers accepted), else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    return int(value)


def stable_key(data: object, length: int = 16) -> str:
    """Hex digits of sha256 over canonical JSON: the suite's one way to name content.

    Used for experiment keys, trial keys and cached results (never Python's ``hash``).
    """
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _plain(value: object):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot key {type(value).__name__}")
