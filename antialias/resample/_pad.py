"""The export-safe path of :mod:`antialias.resample` (``impl="pad"``): extend the whole tensor
by ``pad_mode``, then one depthwise (transposed) conv, and crop by constants.

Why it exists: the fast paths (``_fast``) decide in Python, from the input's size, which
border rows to recompute, whether the column-blocked conv applies (``W % 16``) and how much
to crop. ``torch.jit.trace`` freezes those decisions at the traced size (silently wrong at
another), and ``torch.export`` with dynamic sizes records them as guards ("Constraints
violated"). Here every amount of padding and cropping depends on the taps, the factors and
the padding only, never on ``H`` or ``W``: the graph is the same at every size. It is what
:func:`antialias.resample.upfirdn2d` runs while tracing, exporting or compiling
(:func:`exporting`), whatever ``impl`` says; eager calls keep the fast path.

Per axis, with ``L`` taps and padding ``(p0, p1)``: extend ``x`` by ``E0 = ceil(p0 / up)``
samples before and ``E1 = ceil(p1 / up)`` after (all the input the definition reads, maybe
a sample more, which the crop drops); ``up = 1``: crop to fine positions ``[-p0, n + p1)``
and ``conv2d(stride=down)``; ``up > 1``: the full ``conv_transpose2d(stride=up)`` (zero-stuff
+ convolve) holds output ``j`` at ``j + L - 1 - p0 + up E0``, so crop ``L - 1 - p0 + up E0``
before and ``up (E1 - 1) + L - p1`` after (negative: zeros, the inserted samples), then keep
every ``down``-th. ``pad_mode="zeros"`` needs no extension: the constant crop pads zeros.

Private to the package.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from ._core import normalize_padding
from .borders import TORCH_PAD, extend


def exporting() -> bool:
    """Whether this call is being traced, exported or compiled (then only ``impl="pad"``
    gives a graph valid at every size)."""
    return torch.jit.is_tracing() or torch.compiler.is_compiling() or torch.onnx.is_in_onnx_export()


def static_shape(t: torch.Tensor) -> tuple[int, ...]:
    """The shape of taps or a kernel as Python ints. A trace records sizes as values; the
    taps' are fixed (a layer's buffer, a plan's checked shape), so freezing them is right, and
    the warning a trace gives for it is silenced here alone."""
    if not torch.jit.is_tracing():
        return tuple(t.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        return tuple(int(s) for s in t.shape)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _extend_whole(x: torch.Tensor, pads: tuple[int, int, int, int], mode: str) -> torch.Tensor:
    """``x`` extended by ``pads = (left, right, top, bottom)`` (``>= 0``) by ``mode``: one
    ``F.pad`` where it can (the traced case: its graph holds no size), else numpy.pad's
    semantics by index lists (small maps; frozen at the traced size, as any such table)."""
    if not any(pads):
        return x
    left, right, top, bottom = pads
    h, w = x.shape[-2], x.shape[-1]
    if mode == "reflect":
        fits = max(top, bottom) < h and max(left, right) < w
    elif mode == "circular":
        fits = max(top, bottom) <= h and max(left, right) <= w
    else:
        fits = True
    if fits:
        return F.pad(x, pads, mode=TORCH_PAD[mode])
    return extend(x, [(-top, h + bottom), (-left, w + right)], mode)


def upfirdn2d_pad(
    x: torch.Tensor,
    kernel: torch.Tensor,
    up: int,
    down: int,
    padding: object,
    pad_mode: str,
    torch_mode: str | None,
) -> torch.Tensor:
    """upfirdn2d of checked arguments with no size-dependent Python (module docstring).

    ``torch_mode``: the ``F.interpolate`` mode computing zeros + these taps (a plan's
    decision; None: none); used with ``pad_mode="replicate"`` and the default padding, where
    torch's kernel is exactly this operation and traces with the size symbolic.
    """
    kh, kw = static_shape(kernel)
    ph0, ph1, pw0, pw1 = normalize_padding(padding, kh, kw, up)
    default = all(
        p0 == (k + up - 2) // 2 and p1 == k - 1 - p0
        for k, p0, p1 in ((kh, ph0, ph1), (kw, pw0, pw1))
    )
    if torch_mode is not None and pad_mode == "replicate" and down == 1 and default:
        return F.interpolate(x, scale_factor=up, mode=torch_mode)
    channels = x.shape[1]
    if pad_mode == "zeros":
        eh0 = eh1 = ew0 = ew1 = 0  # the constant crop below pads the zeros itself
    else:
        eh0, eh1 = max(0, _ceil_div(ph0, up)), max(0, _ceil_div(ph1, up))
        ew0, ew1 = max(0, _ceil_div(pw0, up)), max(0, _ceil_div(pw1, up))
    xe = _extend_whole(x, (ew0, ew1, eh0, eh1), pad_mode)
    if up == 1:
        # fine positions [-p0, n + p1) of the extended signal (negative amounts crop)
        crop = (pw0 - ew0, pw1 - ew1, ph0 - eh0, ph1 - eh1)
        xz = F.pad(xe, crop) if any(crop) else xe
        weight = kernel.flip(0, 1).expand(channels, 1, kh, kw).contiguous()  # conv2d correlates
        return F.conv2d(xz, weight, stride=down, groups=channels)
    weight = kernel.expand(channels, 1, kh, kw).contiguous()
    full = F.conv_transpose2d(xe, weight, stride=up, groups=channels)
    crop = (
        -(kw - 1 - pw0 + up * ew0),
        -(up * (ew1 - 1) + kw - pw1),
        -(kh - 1 - ph0 + up * eh0),
        -(up * (eh1 - 1) + kh - ph1),
    )
    y = F.pad(full, crop) if any(crop) else full
    return y[..., ::down, ::down] if down > 1 else y
