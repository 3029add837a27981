"""Argument checks of the layers: :mod:`antialias._checks` (one wording, "expected ..., got
...") plus the two the layers add (optional channel counts, feature-map inputs).

Nothing here touches tensors' values; it only validates configuration and input shapes.
"""

from __future__ import annotations

import torch
from torch import Tensor

# The one checker and list of pad modes (re-exported by antialias.layers).
from antialias._checks import PAD_MODES as PAD_MODES
from antialias._checks import check_choice as check_choice
from antialias._checks import check_int as check_int
from antialias._checks import check_pad_mode as check_pad_mode


def check_optional_channels(name: str, value: object) -> int | None:
    """``None`` (any channel count, decided at run time) or a positive int."""
    if value is None:
        return None
    return check_int(name, value, 1)


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
