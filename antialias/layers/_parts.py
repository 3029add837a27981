"""Pieces shared by the layer modules: taps as buffers, the blur used inside layers, the conv
after a fixed up-sampler.

Filter *application* proper lives in :mod:`antialias.resample`; this module only adapts it to
the layers' conventions (taps normalised to a stated DC gain, padding split for even lengths).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from antialias.filters import as_taps

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


def depthwise_kernel(taps: Tensor, channels: int, dtype: torch.dtype) -> Tensor:
    """``(C, 1, k, k)`` view of the separable kernel ``outer(taps, taps)``, no copy per channel."""
    kernel = torch.outer(taps, taps).to(dtype)
    return kernel.expand(channels, 1, kernel.shape[0], kernel.shape[1])


def check_pad_fits(size_h: int, size_w: int, pad: int, pad_mode: str, op: str) -> None:
    """Reflect padding by ``pad`` needs ``pad < size``: say so instead of torch's message."""
    if pad_mode == "reflect" and pad > 0 and (size_h <= pad or size_w <= pad):
        raise ValueError(
            f"{op}: reflect padding by {pad} needs H and W > {pad}, got {size_h}x{size_w}; use "
            "pad_mode='replicate' (or 'zeros'/'circular') or fewer taps for maps this small"
        )


_TORCH_PAD = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}


def pad2d(x: Tensor, before: int, after: int, pad_mode: str) -> Tensor:
    """Pad H and W by ``before`` / ``after`` in one of our pad modes."""
    if before == 0 and after == 0:
        return x
    return F.pad(x, (before, after, before, after), mode=_TORCH_PAD[pad_mode])


def blur_downsample(x: Tensor, taps: Tensor, down: int, pad_mode: str, split: str) -> Tensor:
    """Low-pass ``outer(taps, taps)`` then keep every ``down``-th sample from index 0.

    Shape: see :func:`pad_split`.
    """
    k = taps.numel()
    before, after = pad_split(k, down, split)
    check_pad_fits(x.shape[-2], x.shape[-1], max(before, after), pad_mode, "blur-pool")
    if k == 1 and before == 0 and after == 0:
        return x[:, :, ::down, ::down]
    weight = depthwise_kernel(taps, x.shape[1], x.dtype)
    if pad_mode == "zeros" and before == after:
        # zero padding inside the conv: no padded copy of the input
        return F.conv2d(x, weight, stride=down, padding=before, groups=x.shape[1])
    return F.conv2d(pad2d(x, before, after, pad_mode), weight, stride=down, groups=x.shape[1])


def blur2d(x: Tensor, taps: Tensor, pad_mode: str) -> Tensor:
    """Same-size separable blur ``outer(taps, taps)`` (even lengths: one more pad after)."""
    return blur_downsample(x, taps, 1, pad_mode, "adobe")


def blur_upsample(x: Tensor, taps: Tensor, up: int, pad_mode: str) -> Tensor:
    """Insert ``up - 1`` zeros after each sample, then filter with ``outer(taps, taps)``.

    The taps carry the gain (sum ``up`` per axis preserves a constant). Alignment as in
    StyleGAN's ``upsample2d``: the zero-stuffed map is padded by ``(k + up - 1) // 2`` before,
    so that ``taps = [1, 3, 3, 1] / 2`` with ``pad_mode="replicate"`` reproduces
    ``F.interpolate(mode="bilinear", align_corners=False)`` exactly. The polyphase fast path
    is a depthwise ``conv_transpose2d`` (never materialises the zeros).

    Shape: ``(B, C, H, W) -> (B, C, up H, up W)``.
    """
    k = taps.numel()
    h, w = x.shape[-2], x.shape[-1]
    # low-resolution samples of context each side, enough for every output pixel's window
    q = 0 if pad_mode == "zeros" else -(-k // up)
    check_pad_fits(h, w, q, pad_mode, "blur-upsample")
    xp = pad2d(x, q, q, pad_mode)
    weight = depthwise_kernel(taps, x.shape[1], x.dtype)
    start = k - 1 - (k + up - 1) // 2 + q * up  # first kept index of the full transposed conv
    full_len = (h + 2 * q - 1) * up + k
    end_pad = start + up * h - full_len  # > 0: zeros needed after, < 0: crop
    sym = max(0, min(start, -end_pad, k - 1))  # symmetric crop done by the conv itself
    y = F.conv_transpose2d(xp, weight, stride=up, padding=sym, groups=x.shape[1])
    start, end_pad = start - sym, end_pad + sym
    if start == 0 and end_pad == 0:
        return y
    if start >= 0 and end_pad <= 0:
        return y[:, :, start : y.shape[-2] + end_pad, start : y.shape[-1] + end_pad]
    return F.pad(y, (-start, end_pad, -start, end_pad))


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


_ = F
