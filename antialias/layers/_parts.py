"""Pieces shared by the layer modules: taps as buffers, the blur used inside layers, the conv
after a fixed up-sampler.

Filter *application* proper lives in :mod:`antialias.resample`; this module only adapts it to
the layers' conventions (taps normalised to a stated DC gain, padding split for even lengths).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from antialias.filters import as_taps, linear_taps

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


_TORCH_PAD = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}


def pad2d(x: Tensor, before: int, after: int, pad_mode: str) -> Tensor:
    """Pad H and W by ``before`` / ``after`` in one of our pad modes, for any map size.

    Maps smaller than their padding (a 1x1 or 2x2 map deep in a U-Net; ``F.pad`` refuses
    reflect padding ``>= size`` and circular padding ``> size``) are extended periodically as
    ``numpy.pad`` does: reflect mirrors back and forth (a single sample extends as a constant),
    circular wraps around as often as needed.
    """
    if before == 0 and after == 0:
        return x
    h, w = x.shape[-2], x.shape[-1]
    limit = {"reflect": min(h, w) - 1, "circular": min(h, w)}.get(pad_mode)
    if limit is None or max(before, after) <= limit:
        return F.pad(x, (before, after, before, after), mode=_TORCH_PAD[pad_mode])
    x = _gather(x, 2, -before, h - 1 + after, pad_mode)
    return _gather(x, 3, -before, w - 1 + after, pad_mode)


def _gather(x: Tensor, dim: int, lo: int, hi: int, pad_mode: str) -> Tensor:
    """Samples ``lo..hi`` (inclusive) of ``x`` along ``dim`` (2 or 3), extended by ``pad_mode``.

    Built from narrow views plus a small pad or concatenation: never an index gather, which
    is slow across the whole tensor for a column strip.
    """
    n = x.shape[dim]
    a, b = max(lo, 0), min(hi, n - 1)
    before, after = a - lo, hi - b
    core = x.narrow(dim, a, b - a + 1)
    if before == 0 and after == 0:
        return core
    if pad_mode == "circular" and before <= n and after <= n:
        parts = [x.narrow(dim, n - before, before), core, x.narrow(dim, 0, after)]
        return torch.cat([p for p in parts if p.shape[dim] > 0], dim=dim)
    if pad_mode != "circular" and core.shape[dim] > max(before, after):
        # the padded side of `core` is the tensor's own edge, so padding the slice is exact
        pads = (before, after, 0, 0) if dim == 3 else (0, 0, before, after)
        return F.pad(core, pads, mode=_TORCH_PAD[pad_mode])
    # rare small cases (slice shorter than its padding): an index gather, any mode
    i = torch.arange(lo, hi + 1, device=x.device)
    if pad_mode == "circular":
        return x.index_select(dim, i.remainder(n))
    if pad_mode == "reflect":
        r = i.remainder(2 * n - 2) if n > 1 else torch.zeros_like(i)
        return x.index_select(dim, torch.where(r >= n, 2 * n - 2 - r, r))
    out = x.index_select(dim, i.clamp(0, n - 1))
    if pad_mode == "zeros":
        shape = [1] * x.dim()
        shape[dim] = i.numel()
        out = out * ((i >= 0) & (i < n)).to(x.dtype).view(shape)
    return out


def _blur_pool_block(
    x: Tensor,
    weight: Tensor,
    rows: tuple[int, int],
    cols: tuple[int, int],
    down: int,
    before: int,
    pad_mode: str,
) -> Tensor:
    """Outputs ``rows x cols`` of the padded blur-pool, from the few input rows/cols they read."""
    k = weight.shape[-1]
    order = ((2, rows), (3, cols))
    if cols[1] - cols[0] < rows[1] - rows[0]:
        order = order[::-1]  # narrow the short side first: never pad the whole tensor
    for dim, (j0, j1) in order:
        x = _gather(x, dim, j0 * down - before, (j1 - 1) * down - before + k - 1, pad_mode)
    return F.conv2d(x, weight, stride=down, groups=x.shape[1])


def blur_downsample(x: Tensor, taps: Tensor, down: int, pad_mode: str, split: str) -> Tensor:
    """Low-pass ``outer(taps, taps)`` then keep every ``down``-th sample from index 0.

    Fast path for non-zero padding: the depthwise conv runs with zero padding *inside* the
    conv (no padded copy of the input, the cost of ``F.pad`` + conv), then only the border
    rows/columns whose window leaves the input are recomputed from small gathered slices and
    written in (or appended, for the extra row of an even-length filter on an odd size).

    Shape: see :func:`pad_split`.
    """
    k = taps.numel()
    before, after = pad_split(k, down, split)
    h, w = x.shape[-2], x.shape[-1]
    if k == 1 and before == 0 and after == 0:
        return x[:, :, ::down, ::down]
    channels = x.shape[1]
    weight = depthwise_kernel(taps, channels, x.dtype)
    if pad_mode == "zeros" and before == after:
        return F.conv2d(x, weight, stride=down, padding=before, groups=channels)
    if pad_mode == "zeros" or min(h, w) < 2 * (k + down):
        # small maps (or asymmetric zero padding): the padded copy is cheap or unavoidable
        return F.conv2d(pad2d(x, before, after, pad_mode), weight, stride=down, groups=channels)
    if torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad):
        return _BorderFixedBlurPool.apply(x, weight, down, before, after, pad_mode)
    return _border_fixed_forward(x, weight, down, before, after, pad_mode)


def _border_fixed_forward(
    x: Tensor, weight: Tensor, down: int, before: int, after: int, pad_mode: str
) -> Tensor:
    h, w = x.shape[-2], x.shape[-1]
    k = weight.shape[-1]
    out_h = (h + before + after - k) // down + 1
    out_w = (w + before + after - k) // down + 1
    # outputs [0, head) read before the input, outputs [tail, out) read past its end
    head = -(-before // down)
    tail_h = (h - k + before) // down + 1
    tail_w = (w - k + before) // down + 1
    y = F.conv2d(x, weight, stride=down, padding=before, groups=x.shape[1])

    def block(rows: tuple[int, int], cols: tuple[int, int]) -> Tensor:
        return _blur_pool_block(x, weight, rows, cols, down, before, pad_mode)

    got_h = y.shape[-2]
    if y.shape[-1] < out_w:
        y = torch.cat([y[..., :tail_w], block((0, got_h), (tail_w, out_w))], dim=3)
    elif tail_w < out_w:
        y[..., tail_w:] = block((0, got_h), (tail_w, out_w))
    if got_h < out_h:
        y = torch.cat([y[..., :tail_h, :], block((tail_h, out_h), (0, out_w))], dim=2)
    elif tail_h < out_h:
        y[..., tail_h:, :] = block((tail_h, out_h), (0, out_w))
    if head > 0:
        y[..., :head, :] = block((0, head), (0, out_w))
        y[..., :, :head] = block((0, out_h), (0, head))
    return y


def _fold(g: Tensor, dim: int, n: int, before: int, after: int, pad_mode: str) -> None:
    """Add the gradient of the padding samples along ``dim`` into their sources, in place.

    ``g`` is indexed on the padded grid (input sample ``i`` at ``before + i``) and may stop
    short of its end (samples no output read). Adjoint of extending by ``pad_mode``.
    """
    length = g.shape[dim]
    a = max(0, min(after, length - (before + n)))
    if before:
        ring = g.narrow(dim, 0, before)
        if pad_mode == "reflect":  # padded before-1-r <- source 1+r
            g.narrow(dim, before + 1, before).add_(ring.flip(dim))
        elif pad_mode == "replicate":
            g.narrow(dim, before, 1).add_(ring.sum(dim, keepdim=True))
        else:  # circular: padded j <- source n-before+j
            g.narrow(dim, n, before).add_(ring)
    if a:
        ring = g.narrow(dim, before + n, a)
        if pad_mode == "reflect":  # padded before+n+j <- source n-2-j
            g.narrow(dim, before + n - 1 - a, a).add_(ring.flip(dim))
        elif pad_mode == "replicate":
            g.narrow(dim, before + n - 1, 1).add_(ring.sum(dim, keepdim=True))
        else:  # circular: padded before+n+j <- source j
            g.narrow(dim, before, a).add_(ring)


class _BorderFixedBlurPool(torch.autograd.Function):
    """The border-strip forward with a backward as cheap as a zero-padded conv's.

    Autograd through the strips would allocate a full-size gradient per strip (the adjoint
    of each slice) and add them up; here the backward is one transposed conv onto the padded
    grid, the padding ring folded into its sources (a few rows/cols), and a view of the
    interior returned (no copy).
    """

    @staticmethod
    def forward(ctx, x, weight, down, before, after, pad_mode):  # type: ignore[override]
        ctx.save_for_backward(weight)
        ctx.config = (x.shape, down, before, after, pad_mode)
        return _border_fixed_forward(x, weight, down, before, after, pad_mode)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):  # type: ignore[override]
        (weight,) = ctx.saved_tensors
        shape, down, before, after, pad_mode = ctx.config
        h, w = shape[-2], shape[-1]
        k = weight.shape[-1]
        # output_padding (< down) reaches the last input samples when no output read them
        extra = [
            max(0, before + n - ((m - 1) * down + k))
            for n, m in ((h, grad.shape[-2]), (w, grad.shape[-1]))
        ]
        g = F.conv_transpose2d(
            grad, weight.to(grad.dtype), stride=down, output_padding=tuple(extra), groups=shape[1]
        )
        _fold(g, 2, h, before, after, pad_mode)
        _fold(g, 3, w, before, after, pad_mode)
        return g[..., before : before + h, before : before + w], None, None, None, None, None


def blur2d(x: Tensor, taps: Tensor, pad_mode: str) -> Tensor:
    """Same-size separable blur ``outer(taps, taps)`` (even lengths: one more pad after)."""
    return blur_downsample(x, taps, 1, pad_mode, "adobe")


def is_linear_taps(taps: Tensor, up: int) -> bool:
    """Whether ``taps`` (summing to ``up``) are the triangle taps of bilinear interpolation."""
    ref = linear_taps(up)
    if taps.numel() != ref.numel():
        return False
    return bool(torch.allclose(taps.detach().double().cpu(), ref, rtol=1e-6, atol=1e-7))


def _linear_upsample(x: Tensor, taps: Tensor, up: int, pad_mode: str) -> Tensor:
    # zeros + triangle taps with replicate edges *is* torch's fused bilinear kernel (about 2x
    # faster than the depthwise transposed conv); other pad modes change only the outer `up`
    # rows/cols, recomputed from 3-sample slices that carry the true context.
    y = F.interpolate(x, scale_factor=float(up), mode="bilinear", align_corners=False)
    if pad_mode == "replicate":
        return y
    h, w = x.shape[-2], x.shape[-1]
    for dim, n in ((2, h), (3, w)):
        for first in (0, n - 1):
            part = _transposed_upsample(
                _gather(x, dim, first - 1, first + 1, pad_mode), taps, up, pad_mode
            )
            y.narrow(dim, up * first, up).copy_(part.narrow(dim, up, up))
    return y


def blur_upsample(
    x: Tensor, taps: Tensor, up: int, pad_mode: str, linear: bool | None = None
) -> Tensor:
    """Zero insertion + separable FIR, dispatching the triangle taps to ``F.interpolate``.

    ``linear``: whether ``taps`` are :func:`antialias.filters.linear_taps` (``None``: check).
    Shape: ``(B, C, H, W) -> (B, C, up H, up W)``.
    """
    if linear is None:
        linear = is_linear_taps(taps, up)
    if linear and min(x.shape[-2], x.shape[-1]) >= 3:
        return _linear_upsample(x, taps, up, pad_mode)
    return _transposed_upsample(x, taps, up, pad_mode)


def _transposed_upsample(x: Tensor, taps: Tensor, up: int, pad_mode: str) -> Tensor:
    """Insert ``up - 1`` zeros after each sample, then filter with ``outer(taps, taps)``.

    The taps carry the gain (sum ``up`` per axis preserves a constant). Alignment as
    :func:`antialias.resample.upsample2d`: the zero-stuffed map is padded by
    ``(k + up - 2) // 2`` before (the half-pixel grid when ``k + up`` is even), so that
    ``taps = [1, 3, 3, 1] / 2`` with ``pad_mode="replicate"`` reproduces
    ``F.interpolate(mode="bilinear", align_corners=False)`` exactly. The polyphase fast path
    is a depthwise ``conv_transpose2d`` (never materialises the zeros).

    Shape: ``(B, C, H, W) -> (B, C, up H, up W)``.
    """
    k = taps.numel()
    h = x.shape[-2]  # the crop arithmetic below does not depend on the size
    # padding of the zero-stuffed map before the first sample (antialias.resample convention)
    p0 = (k + up - 2) // 2
    # low-resolution samples of context each side: exactly what the outer outputs read
    qb, qa = (0, 0) if pad_mode == "zeros" else (p0 // up, (k + up - 2 - p0) // up)
    xp = pad2d(x, qb, qa, pad_mode)
    weight = depthwise_kernel(taps, x.shape[1], x.dtype)
    start = k - 1 - p0 + qb * up  # first kept index of the full transposed conv
    full_len = (h + qb + qa - 1) * up + k
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
