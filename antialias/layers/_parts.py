"""Pieces shared by the layer modules: taps as buffers, the blur used inside layers, the conv
after a fixed up-sampler.

Filter *application* proper lives in :mod:`antialias.resample`; this module only adapts it to
the layers' conventions (taps normalised to a stated DC gain, padding split for even lengths).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from antialias.filters import as_taps
from antialias.resample import _AUTO, _interpolation_mode, _upfirdn2d

from ._common import check_int


def resolve_taps(
    taps: object,
    gain: float,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """1-D taps from an int length (binomial) or explicit values, scaled to sum to ``gain``.

    Raises:
        ValueError: taps not 1-D, empty, not finite, or summing to 0 (no DC gain to normalise).
    """
    t = as_taps(taps, dtype=torch.float64)
    total = float(t.sum())
    if total == 0.0:
        raise ValueError(f"expected taps with a non-zero sum (DC gain), got {t.tolist()}")
    t = t * (gain / total)
    return t.to(device=device, dtype=dtype or torch.get_default_dtype())


def pad_split(k: int, down: int, split: str) -> tuple[int, int]:
    """Padding ``(before, after)`` of a blur-pool with ``k`` taps along one axis.

    ``"adobe"``: ``((k-1)//2, k//2)`` as in antialiased-cnns and kornia; output
    ``ceil(size / down)``. ``"symmetric"``: ``((down-1) + (k-1)) // 2`` on both sides as in
    timm; output ``floor((size + 2 p - k) / down) + 1``. Both agree for odd ``k`` and
    ``down = 2``.
    """
    if split == "adobe":
        return (k - 1) // 2, k // 2
    p = ((down - 1) + (k - 1)) // 2
    return p, p


def blur_downsample(x: Tensor, taps: Tensor, down: int, pad_mode: str, split: str) -> Tensor:
    """Low-pass ``outer(taps, taps)`` then keep every ``down``-th sample from index 0.

    :func:`antialias.resample.downsample2d` with ``padding=pad_split(...)`` and the taps as
    given (its fast path: zero padding inside the conv, border strips recomputed, no
    full-tensor pad copy). The taps were validated once, when the layer resolved them, so
    this calls resample's core directly (no per-call validation, which would also stop
    ``torch.compile``'s graph at its data-dependent checks). The layers apply the taps as a
    correlation (``taps[m]`` weighs ``x[j down - before + m]``, as ``F.conv2d`` and
    antialiased-cnns do); resample convolves, hence the flip (a no-op for symmetric taps).

    Shape: see :func:`pad_split`.
    """
    padding = pad_split(taps.numel(), down, split)
    return _upfirdn2d(x, taps.flip(0), 1, down, padding, pad_mode, 1.0)


def blur2d(x: Tensor, taps: Tensor, pad_mode: str) -> Tensor:
    """Same-size separable blur ``outer(taps, taps)`` (even lengths: one more pad after)."""
    return blur_downsample(x, taps, 1, pad_mode, "adobe")


def blur_upsample(
    x: Tensor, taps: Tensor, up: int, pad_mode: str, torch_mode: str | None = _AUTO
) -> Tensor:
    """Zero insertion + separable FIR: :func:`antialias.resample.upsample2d`, taps as given
    (validated once by the layer, see :func:`blur_downsample`).

    The taps carry the gain (sum ``up`` per axis preserves a constant). Output ``j`` sits at
    input coordinate ``(j + 1/2)/up - 1/2`` when ``len(taps) + up`` is even, so
    ``taps = [1, 3, 3, 1] / 2`` with ``pad_mode="replicate"`` is
    ``F.interpolate(mode="bilinear", align_corners=False)`` exactly (and is computed by it).

    ``torch_mode``: :func:`interpolation_mode` of the taps if the caller decided it once
    (a module, at construction); by default resample compares the taps on every call.

    Shape: ``(B, C, H, W) -> (B, C, up H, up W)``.
    """
    return _upfirdn2d(x, taps, up, 1, None, pad_mode, 1.0, torch_mode)


def interpolation_mode(taps: Tensor, up: int) -> str | None:
    """The ``F.interpolate`` mode whose kernel resample uses for zeros + ``taps`` (summing to
    ``up``): ``"bilinear"`` for the triangle taps, also nearest and bicubic; else None."""
    return _interpolation_mode(taps, up)


def make_resize_conv(
    in_channels: int | None,
    out_channels: int | None,
    conv: bool | None,
    kernel_size: int,
    pad_mode: str,
    device: torch.device | str | None,
    dtype: torch.dtype | None,
) -> nn.Conv2d | None:
    """The conv after a fixed up-sampler: present when the channels differ or ``conv=True``."""
    if conv is not None and not isinstance(conv, bool):
        raise TypeError(f"expected conv to be True, False or None, got {conv!r}")
    want = (in_channels != out_channels) if conv is None else conv
    if not want:
        if in_channels != out_channels:
            raise ValueError(
                f"expected conv=True (or None) when in_channels ({in_channels}) != "
                f"out_channels ({out_channels}), got conv=False"
            )
        return None
    if in_channels is None or out_channels is None:
        raise ValueError(
            "expected in_channels and out_channels (ints) for the conv, got "
            f"in_channels={in_channels}, out_channels={out_channels}"
        )
    check_int("kernel_size", kernel_size, 1)
    return nn.Conv2d(
        in_channels,
        out_channels,
        kernel_size,
        padding="same",
        padding_mode=pad_mode,
        device=device,
        dtype=dtype,
    )
