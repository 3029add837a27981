"""Argument checks shared by the layers: one wording for every "expected ..., got ..." error.

Nothing here touches tensors' values; it only validates configuration and input shapes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

# One list of pad modes for resample and the layers (re-exported by antialias.layers).
from antialias.resample import PAD_MODES as PAD_MODES


def check_int(name: str, value: object, minimum: int) -> int:
    """Return ``value`` if it is an ``int >= minimum`` (bool rejected), else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected {name} to be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"expected {name} >= {minimum}, got {value}")
    return value


def check_optional_channels(name: str, value: object) -> int | None:
    """``None`` (any channel count, decided at run time) or a positive int."""
    if value is None:
        return None
    return check_int(name, value, 1)


def check_pad_mode(pad_mode: object) -> str:
    """Return ``pad_mode`` if it is one of :data:`PAD_MODES`, else raise ``ValueError``."""
    if not isinstance(pad_mode, str) or pad_mode not in PAD_MODES:
        raise ValueError(f"expected pad_mode to be one of {list(PAD_MODES)}, got {pad_mode!r}")
    return pad_mode


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError`` listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"expected {name} to be one of {list(choices)}, got {value!r}")
    return value


def check_feature_map(x: object, op: str, channels: int | None = None) -> Tensor:
    """Check that ``x`` is a floating ``(B, C, H, W)`` tensor with ``C == channels`` if given."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(f"{op}: expected input of shape (B, C, H, W), got {tuple(x.shape)}")
    if not torch.is_floating_point(x):
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(
            f"{op}: expected input with {channels} channels (the layer's channels), "
            f"got {x.shape[1]} (input shape {tuple(x.shape)})"
        )
    return x
