"""Shared parts of the 1-D and 3-D layers (``blurpool_nd.py``, ``upsample_nd.py``): input and
argument checks with one wording, taps resolution, periodic extension.

Nothing here is a layer; what lives here is what both layer files need.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from antialias._checks import check_int
from antialias.upfirdn import MAX_FACTOR

# One definition of the taps, the pad split and its names for the 2-D and the N-D layers.
from ._parts import pad_split as pad_split_of
from ._parts import resolve_taps
from .blurpool import PAD_SPLITS

__all__ = [
    "PAD_SPLITS",
    "check_input_nd",
    "filtered_axes",
    "fit_periodic_nd",
    "optional_channels",
    "pad_split_of",
    "per_axis_factors",
    "resolve_taps_nd",
    "taps_repr",
    "wrap_nd",
]

TapsLike = int | Tensor | list[float] | tuple[float, ...]
Factor = int | tuple[int, ...]
_SHAPES = {1: "(B, C, L)", 2: "(B, C, H, W)", 3: "(B, C, D, H, W)"}


def check_input_nd(x: object, op: str, dims: int, channels: int | None = None) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(x).__name__}")
    if x.dim() != dims + 2:
        raise ValueError(f"{op}: expected input of shape {_SHAPES[dims]}, got {tuple(x.shape)}")
    if not torch.is_floating_point(x):
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(
            f"{op}: expected input with {channels} channels (the layer's channels), "
            f"got {x.shape[1]} (input shape {tuple(x.shape)})"
        )
    return x


def per_axis_factors(
    name: str, value: object, dims: int, minimum: int = 1, maximum: int | None = MAX_FACTOR
) -> tuple[int, ...]:
    """An int or one int per spatial axis (checked), as a tuple of ``dims`` ints."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != dims:
            raise ValueError(
                f"expected {name} to be an integer or {dims} integers (one per spatial axis), "
                f"got {value!r}"
            )
        return tuple(check_int(name, v, minimum=minimum, maximum=maximum) for v in value)
    return (check_int(name, value, minimum=minimum, maximum=maximum),) * dims


def optional_channels(value: object) -> int | None:
    return None if value is None else check_int("channels", value, minimum=1)


def resolve_taps_nd(
    taps: object, gain: float, device: torch.device | str | None, dtype: torch.dtype | None
) -> Tensor:
    """1-D taps from a binomial length or explicit values, scaled to sum to ``gain``: the 2-D
    layers' :func:`~antialias.layers._parts.resolve_taps` (one definition)."""
    return resolve_taps(taps, gain, device=device, dtype=dtype)


def filtered_axes(factors: tuple[int, ...]) -> list[bool]:
    """Which axes get the filter: those with a factor > 1, or all when every factor is 1."""
    if all(f == 1 for f in factors):
        return [True] * len(factors)
    return [f > 1 for f in factors]


def wrap_nd(x: Tensor, pads: Sequence[tuple[int, int]]) -> Tensor:
    """Periodic extension by ``(before, after)`` per spatial axis (any length, as numpy wrap)."""
    for d, (before, after) in enumerate(pads):
        n = x.shape[2 + d]
        if before or after:
            index = torch.arange(-before, n + after, device=x.device) % n
            x = x.index_select(2 + d, index)
    return x


def fit_periodic_nd(y: Tensor, sizes: Sequence[int]) -> Tensor:
    """Crop ``y`` to ``sizes``, or extend it periodically where it is shorter."""
    y = wrap_nd(y, [(0, max(0, s - n)) for s, n in zip(sizes, y.shape[2:])])
    return y[(..., *(slice(0, s) for s in sizes))]


def taps_repr(taps: Tensor) -> str:
    return f"{taps.numel()} [{', '.join(f'{v:.4g}' for v in taps.tolist())}]"
