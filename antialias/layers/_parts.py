"""Pieces shared by the layer modules: taps as buffers, the resampling plans the layers hold,
the conv after a fixed up-sampler, and circular borders for torch ops that do not wrap.

Filter *application* proper lives in :mod:`antialias.resample`; this module only adapts it to
the layers' conventions (taps normalised to a stated DC gain, padding split for even lengths,
taps in correlation order for the blur-pools), through its public entries
(:func:`~antialias.resample.prepare_upfirdn2d`, :func:`~antialias.resample.extend2d`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from antialias._checks import check_int
from antialias.filters import as_taps, interpolation_reach
from antialias.resample import UpFirDn2dPlan, extend2d, prepare_upfirdn2d


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


def blur_plan(taps: Tensor, down: int, pad_mode: str, split: str) -> UpFirDn2dPlan:
    """The plan of a blur-pool: low-pass ``outer(taps, taps)`` then keep every ``down``-th
    sample from index 0 (``down = 1``: a same-size blur; even lengths pad one more after).

    :func:`antialias.resample.downsample2d`'s fast path with ``padding=pad_split(...)`` and the
    taps as given (validated once, when the layer resolved them). The layers apply the taps
    as a *correlation* (``taps[m]`` weighs ``x[j down - before + m]``, as ``F.conv2d`` and
    antialiased-cnns do), hence ``flip_filter=True`` (a no-op for symmetric taps). Call the
    plan as ``plan(x, taps)``.

    Shape: ``(B, C, H, W) -> (B, C, blur_pool_size(H), blur_pool_size(W))``.
    """
    padding = pad_split(taps.numel(), down, split)
    return prepare_upfirdn2d(taps, 1, down, padding, pad_mode, flip_filter=True)


def upsample_plan(taps: Tensor, up: int, pad_mode: str) -> UpFirDn2dPlan:
    """The plan of the blur up-sampler: zeros + separable FIR, taps as given (convolution
    order, default padding), decided once (whether torch's kernel computes these taps).

    The taps carry the gain (sum ``up`` per axis preserves a constant). Output ``j`` sits at
    input coordinate ``(j + 1/2)/up - 1/2`` when ``len(taps) + up`` is even, so
    ``taps = [1, 3, 3, 1] / 2`` with ``pad_mode="replicate"`` is
    ``F.interpolate(mode="bilinear", align_corners=False)`` exactly (and is computed by it).
    With ``pad_mode="circular"`` resample wraps the input and crops, so the result commutes
    exactly with circular shifts.

    Shape: ``(B, C, H, W) -> (B, C, up H, up W)``.
    """
    return prepare_upfirdn2d(taps, up, 1, None, pad_mode)


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


# --- circular borders for torch ops that do not wrap -------------------------------------------
# F.interpolate clamps, ConvTranspose2d and max_pool2d pad with zeros / -inf. With
# pad_mode="circular" the layers pad the input periodically by the few samples the op reaches
# (resample's extend2d: any amount, unlike F.pad's circular mode), run the op without any
# border handling of its own, and crop: every kept output then sees exactly the periodic
# input, so the layer commutes with circular shifts (by multiples of its stride).


def wrap_pad(x: Tensor, top: int, bottom: int, left: int, right: int) -> Tensor:
    """Periodic extension of ``x`` by the given amounts (``>= 0``), rows first as the layers
    count them: :func:`antialias.resample.extend2d` with ``pad_mode="circular"``.

    Shape: ``(B, C, H, W) -> (B, C, top + H + bottom, left + W + right)``.
    """
    return extend2d(x, (left, right, top, bottom), "circular")


def interpolate_circular(x: Tensor, up: int, mode: str) -> Tensor:
    """``F.interpolate(x, scale_factor=up, mode=mode)`` of the periodic extension of ``x``.

    ``align_corners=False``: output ``j`` sits at input ``(j + 1/2)/up - 1/2``, so bilinear
    reaches 1 sample beyond each border and bicubic 2; padding by ``r`` shifts the output by
    ``up r``, which is cropped.

    Shape: ``(B, C, H, W) -> (B, C, up H, up W)``.
    """
    r = interpolation_reach(mode)
    h, w = x.shape[-2], x.shape[-1]
    if r == 0:
        return F.interpolate(x, scale_factor=float(up), mode=mode)
    xp = wrap_pad(x, r, r, r, r)
    y = F.interpolate(xp, scale_factor=float(up), mode=mode, align_corners=False)
    c = up * r
    return y[..., c : c + up * h, c : c + up * w]


def conv_transpose2d_circular(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: int,
    padding: int,
    output_padding: int,
    groups: int = 1,
) -> Tensor:
    """``F.conv_transpose2d`` of the periodic extension of ``x``, same output size.

    Output ``o`` of a transposed conv sums ``x[i] w[o + padding - i stride]``; with ``x``
    periodic, the inputs ``i`` reaching ``o in [0, stride H)`` lie in
    ``[-ceil(k / stride), H + ceil(k / stride))``. So pad ``q = ceil(k / stride)`` samples
    circularly on each side and crop ``q stride`` more output samples per side (torch's own
    ``padding`` crops, so that is ``padding + q stride``); the size formula is unchanged.

    Shape: ``(B, C_in, H, W) -> (B, C_out, (H-1) s - 2 p + k + op, ...)`` as the plain one.
    """
    kh, kw = weight.shape[-2], weight.shape[-1]
    qh, qw = -(-kh // stride), -(-kw // stride)
    xp = wrap_pad(x, qh, qh, qw, qw)
    return F.conv_transpose2d(
        xp,
        weight,
        bias,
        stride=stride,
        padding=(padding + qh * stride, padding + qw * stride),
        output_padding=output_padding,
        groups=groups,
    )


def max_pool_circular(x: Tensor, kernel_size: int, padding: int) -> Tensor:
    """Stride-1 max-pool of the periodic extension of ``x``: output ``i`` is the max of
    ``x[(i - padding + t) mod H]``, ``t < kernel_size``.

    Shape: ``(B, C, H, W) -> (B, C, H, W)`` (periodic, unlike torch's ``H + 2p - k + 1``).
    """
    after = kernel_size - 1 - padding  # >= 0 since padding <= kernel_size / 2
    xp = wrap_pad(x, padding, after, padding, after)
    return F.max_pool2d(xp, kernel_size, stride=1)


def fit_periodic(y: Tensor, height: int, width: int) -> Tensor:
    """Crop ``y`` to ``(height, width)``, or extend it periodically where it is shorter.

    Used where a circular layer's natural output (period ``H / down``) must keep the size
    the non-circular layer documents; both agree whenever ``down`` divides ``H`` and the
    stride-1 op before the decimation keeps ``H``.
    """
    eh, ew = height - y.shape[-2], width - y.shape[-1]
    if eh > 0 or ew > 0:
        y = wrap_pad(y, 0, max(0, eh), 0, max(0, ew))
    return y[..., :height, :width]


def blur_pool_size(n: int, k: int, down: int, split: str) -> int:
    """Output length of a blur-pool (:func:`blur_plan`) on ``n`` samples with ``k`` taps."""
    before, after = pad_split(k, down, split)
    return (n + before + after - k) // down + 1
