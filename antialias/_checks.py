"""Argument checks: one wording ("expected <name> to be ..., got <value>"), one place.

Every public entry point of the library calls these once on user input; internal helpers trust
their callers. ``TypeError`` for a wrong kind of value, ``ValueError`` for a wrong value. No
``assert``: checks must survive ``python -O``.

What does not live here: command-line policy (:mod:`antialias._cli`) and file I/O
(:mod:`antialias.files`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any

__all__ = [
    "PAD_MODES",
    "check_choice",
    "check_finite_tensor",
    "check_float",
    "check_int",
    "check_pad_mode",
]

#: Border handling of every resampler, with the meaning of ``torch.nn.functional.pad``
#: (``zeros`` = constant 0). The one list; everything else imports it.
PAD_MODES: tuple[str, ...] = ("zeros", "reflect", "replicate", "circular")


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" in [{minimum}, {maximum}]"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def check_int(
    name: str, value: object, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return ``value`` as an ``int`` if it is an integer in ``[minimum, maximum]``.

    ``bool`` is refused although it is an ``int`` subclass: a factor of ``True`` is a bug.

    >>> check_int("up", 2, minimum=1)
    2
    >>> check_int("up", 0, minimum=1)
    Traceback (most recent call last):
    ValueError: expected up to be an integer >= 1, got 0
    """
    what = f"expected {name} to be an integer{_bounds(minimum, maximum)}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(what)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(what)
    return int(value)


def check_float(
    name: str,
    value: object,
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    finite: bool = True,
) -> float:
    """Return ``value`` as a ``float`` if it is a real number (finite unless told otherwise).

    >>> check_float("cutoff", 0.25, minimum=0.0, maximum=0.5)
    0.25
    >>> check_float("lr", float("inf"))
    Traceback (most recent call last):
    ValueError: expected lr to be a finite real number, got inf
    """
    kind = "a finite real number" if finite else "a real number"
    what = f"expected {name} to be {kind}{_bounds(minimum, maximum)}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(what)
    value = float(value)
    if math.isnan(value) or (finite and math.isinf(value)):
        raise ValueError(what)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(what)
    return value


def check_choice(name: str, value: object, choices: Collection[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``.

    >>> check_choice("impl", "fast", ("auto", "reference"))
    Traceback (most recent call last):
    ValueError: expected impl to be one of 'auto', 'reference', got 'fast'
    """
    try:
        ok = value in choices
    except TypeError:  # unhashable value against a set
        ok = False
    if not ok:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"expected {name} to be one of {listed}, got {value!r}")
    return value


def check_pad_mode(value: object, name: str = "pad_mode") -> str:
    """Return ``value`` if it is one of :data:`PAD_MODES`."""
    return check_choice(name, value, PAD_MODES)


def check_finite_tensor(name: str, tensor: Any) -> Any:
    """Return ``tensor`` (torch or numpy) if every element is finite.

    Non-finite data would otherwise pass as perfect: ``argmax`` of NaN is 0 everywhere, so a
    NaN image agrees with itself under every shift.
    """
    import numpy as np

    if hasattr(tensor, "detach"):  # torch, without importing it here
        import torch

        if tensor.is_floating_point() or tensor.is_complex():
            bad = int((~torch.isfinite(tensor)).sum())
        else:
            bad = 0
        total = tensor.numel()
    else:
        arr = np.asarray(tensor)
        bad = int((~np.isfinite(arr)).sum()) if arr.dtype.kind in "fc" else 0
        total = arr.size
    if bad:
        raise ValueError(f"expected {name} to be finite, got {bad} non-finite of {total} values")
    return tensor
