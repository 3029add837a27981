"""Filter *application*: ``upfirdn2d`` (zero-stuff, pad, FIR, decimate) and its wrappers.

What lives here: the general resampling primitive :func:`upfirdn2d`, its slow and obvious
twin :func:`upfirdn2d_reference` (the definition, used by the tests), and the thin wrappers
:func:`upsample2d`, :func:`downsample2d`, :func:`filter2d`. Filter *design* lives in
:mod:`antialias.filters`; modules (``BlurPool2d``, ``Upsample2d``) live in
:mod:`antialias.layers`.

Definition (per axis; the 2-D operation applies it to H and W with the same ``up``/``down``).
Let ``x`` have ``n`` samples and the taps ``f`` have ``L`` entries. Extend ``x`` to all
integers by ``pad_mode`` (``zeros``: 0 outside; ``reflect``: mirror without repeating the
edge, as ``F.pad(mode='reflect')``; ``replicate``: clamp; ``circular``: periodic). Padding
longer than the input (small maps deep in a U-Net) goes on reflecting or wrapping, as
``numpy.pad`` does, where ``F.pad`` would refuse. Zero-stuff:
``z[up*i] = x[i]``, ``z = 0`` between. Filter (true convolution, not correlation) and keep
every ``down``-th sample::

    y[j] = sum_k f[k] * z[j*down + (L - 1 - p0) - k],     j = 0 .. out - 1,
    out  = (n*up + p0 + p1 - L) // down + 1.

``padding = (p0, p1)`` is the padding of the zero-stuffed signal, in fine-grid samples (as
StyleGAN3's ``upfirdn2d``). With ``pad_mode='zeros'`` this is exactly scipy's / StyleGAN3's
upfirdn; other modes extend ``x`` *before* zero-stuffing (the inserted samples stay zero).

Phase convention (which input position each output is centred on). Output ``j`` is centred
at fine-grid position ``j*down + (L - 1)/2 - p0``, i.e. at input coordinate
``(j*down + (L - 1)/2 - p0) / up`` (input sample ``i`` sits at coordinate ``i``). The default
padding is ``p0 = (L + up - 2) // 2``, ``p1 = L - 1 - p0``, which gives ``out = ceil(n*up/down)``
and:

- **up-sampling** (``down = 1``): output ``j`` is centred at ``(j + 1/2)/up - 1/2``, the
  half-pixel grid of ``F.interpolate(align_corners=False)``, whenever ``L + up`` is even (true
  for every interpolation filter in :mod:`antialias.filters`); when it is odd, half a
  fine-grid sample later. So ``upsample2d(x, linear_taps(2), pad_mode='replicate')`` equals
  ``F.interpolate(x, scale_factor=2, mode='bilinear')``.
- **down-sampling** (``up = 1``): output ``j`` is centred on input sample ``j*down`` for odd
  ``L`` (symmetric padding ``(L-1)//2``) and at ``j*down + 1/2`` for even ``L`` (padding
  ``((L-1)//2, L//2)``). This is the split of antialiased-cnns' ``BlurPool`` and of kornia
  0.9's ``blur_pool2d`` for every ``L`` (both checked in the tests); a symmetric split for
  even ``L`` is ``padding=p`` (e.g. ``padding=(L-1)//2``).

Fast path (what :func:`upfirdn2d` computes; equal to the reference up to rounding):

- ``up = 1``: one strided ``conv2d`` with the zero padding inside the conv.
- ``up > 1``: one ``conv_transpose2d`` with stride ``up``: each output phase is computed
  from its own polyphase sub-filter over the input samples, so the inserted zeros are never
  stored nor multiplied.
- Both as a *column-blocked* dense conv where it applies (float32, contiguous NCHW, width a
  multiple of the block, short filters): the tensor viewed as ``(N*C, B, H, W/B)`` is a
  channels_last tensor with ``B`` channels, so the op runs as an ordinary channels_last
  conv mapping ``B`` to ``B*up/down`` channels (oneDNN's fast kernels), with no copy in or
  out; elsewhere as a depthwise conv (see :func:`_blocked_conv`).
- Up-sampling with exactly the taps of ``F.interpolate``'s nearest, bilinear or bicubic
  modes (default padding): torch's own kernel for those taps computes the forward
  (replicate edges; other modes get their border strips recomputed as below).
- Non-zero ``pad_mode``: the conv runs with zero padding, then only the few border
  rows/columns whose support leaves the input are recomputed and written in: no
  full-tensor ``F.pad`` copy. Both borders of an axis come from one small conv over the
  input's first and last rows (or columns) put together and padded (:func:`_side_strips`).
  All on torch's thread pool as set: switching to one thread around these small ops (an
  earlier version did, against thread barriers on an oversubscribed machine) was slower in
  6 of 8 blur-pool cases on a quiet 2-core machine (benchmarks/bench_border_strips.py).
- Backward: the adjoint operator, again by this fast path (up and down swapped, kernel
  flipped: one conv), plus the few padding rows/columns (again both sides of an axis in
  one small conv) added back onto their sources.

All ops are differentiable (with respect to ``x`` and to tensor taps), keep channels_last
inputs channels_last, and run in float16/bfloat16/float32/float64 on CPU.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from antialias.filters import as_taps, binomial_taps, cubic_taps, linear_taps

__all__ = [
    "PAD_MODES",
    "downsample2d",
    "filter2d",
    "upfirdn2d",
    "upfirdn2d_reference",
    "upsample2d",
]

PAD_MODES = ("zeros", "reflect", "replicate", "circular")
_TORCH_PAD = {m: m for m in PAD_MODES} | {"zeros": "constant"}  # names in F.pad

Taps = int | torch.Tensor | Sequence[float] | Sequence[Sequence[float]] | np.ndarray
Padding = int | Sequence[int] | None

# Above this share of the output, recomputing border strips is no cheaper than one padded copy.
_STRIP_SHARE = 0.25


# --------------------------------------------------------------------------- validation


def _check_factor(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"expected {name} to be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"expected {name} to be a positive integer, got {value!r}")
    return int(value)


def _check_input(x: object) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected x to be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"expected x of shape (N, C, H, W), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"expected a floating-point x, got dtype {x.dtype}")
    if x.shape[-1] == 0 or x.shape[-2] == 0:
        raise ValueError(f"expected non-empty H and W, got shape {tuple(x.shape)}")
    return x


def _check_pad_mode(pad_mode: object) -> str:
    if pad_mode not in PAD_MODES:
        raise ValueError(f"expected pad_mode in {PAD_MODES}, got {pad_mode!r}")
    return str(pad_mode)


def _taps_tensor(taps: Taps) -> torch.Tensor:
    """Validated 1-D taps or 2-D kernel as a floating tensor (an int means binomial taps)."""
    is_2d = isinstance(taps, torch.Tensor | np.ndarray) and taps.ndim == 2
    if not is_2d and isinstance(taps, Sequence) and not isinstance(taps, str) and len(taps) > 0:
        is_2d = isinstance(taps[0], Sequence | np.ndarray | torch.Tensor)
    if isinstance(taps, numbers.Integral) and not isinstance(taps, bool) and taps >= 1:
        return _binomial(int(taps))
    if not is_2d:
        return as_taps(taps)  # validates: 1-D, non-empty, finite
    try:
        kernel = taps if isinstance(taps, torch.Tensor) else torch.as_tensor(np.asarray(taps))
    except (TypeError, ValueError) as err:
        raise TypeError(f"expected a 2-D kernel of real numbers, got {taps!r}") from err
    if kernel.is_complex() or kernel.dtype == torch.bool:
        raise TypeError(f"expected a real 2-D kernel, got dtype {kernel.dtype}")
    if kernel.ndim != 2 or kernel.numel() == 0:
        raise ValueError(f"expected a non-empty 2-D kernel, got shape {tuple(kernel.shape)}")
    if not kernel.is_floating_point():
        kernel = kernel.to(torch.float64)
    if not bool(torch.isfinite(kernel).all()):
        raise ValueError("expected a finite 2-D kernel, got non-finite entries")
    return kernel


@functools.lru_cache(maxsize=64)
def _binomial(n: int) -> torch.Tensor:
    # Cached: built per call otherwise (numpy round trip); callers never modify it in place.
    return binomial_taps(n)


def _as_kernel(t: torch.Tensor, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """2-D kernel (kh, kw) in x's dtype/device from validated taps: 1-D taps -> outer product."""
    if isinstance(gain, bool) or not isinstance(gain, numbers.Real):
        raise TypeError(f"expected gain to be a real number, got {gain!r}")
    if not math.isfinite(gain):
        raise ValueError(f"expected a finite gain, got {gain!r}")
    kernel = torch.outer(t, t) if t.ndim == 1 else t
    kernel = kernel.to(dtype=x.dtype, device=x.device)
    return kernel * gain if gain != 1.0 else kernel


def _padding(padding: Padding, kh: int, kw: int, up: int) -> tuple[int, int, int, int]:
    """(p0_h, p1_h, p0_w, p1_w) from None / int / (p0, p1) / (left, right, top, bottom)."""
    if padding is None:
        ph0, pw0 = (kh + up - 2) // 2, (kw + up - 2) // 2
        return ph0, kh - 1 - ph0, pw0, kw - 1 - pw0
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        p = int(padding)
        return p, p, p, p
    if isinstance(padding, Sequence) and len(padding) in (2, 4):
        if all(isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in padding):
            values = [int(p) for p in padding]
            if len(values) == 2:
                return values[0], values[1], values[0], values[1]
            left, right, top, bottom = values
            return top, bottom, left, right
    raise TypeError(
        "expected padding as None, an int, (p0, p1) or (left, right, top, bottom) ints, "
        f"got {padding!r}"
    )


# --------------------------------------------------------------------------- index arithmetic


@dataclass(frozen=True)
class _Axis:
    """Index arithmetic of one axis (see the module docstring for the definition)."""

    n: int
    up: int
    down: int
    taps: int
    p0: int
    p1: int

    @property
    def length(self) -> int:  # before decimation
        return self.n * self.up + self.p0 + self.p1 - self.taps + 1

    @property
    def out(self) -> int:
        return (self.length - 1) // self.down + 1

    def first(self, j: int) -> int:
        """First input index in the support of output j: ceil((j*down - p0) / up)."""
        return -((self.p0 - j * self.down) // self.up)

    def last(self, j: int) -> int:
        """Last input index in the support of output j: floor((j*down + L-1-p0) / up)."""
        return (j * self.down + self.taps - 1 - self.p0) // self.up

    def pad_before(self) -> int:
        return max(0, -self.first(0))

    def pad_after(self) -> int:
        return max(0, self.last(self.out - 1) - (self.n - 1))

    def head(self) -> int:
        """Outputs [0, head) reach before the input (index < 0)."""
        j = -((self.up - 1 - self.p0) // self.down)  # ceil((p0 - up + 1) / down)
        return min(max(j, 0), self.out)

    def tail(self) -> int:
        """Outputs [tail, out) reach past the input (index >= n): last(j) >= n."""
        j = -((self.taps - 1 - self.p0 - self.n * self.up) // self.down)
        return min(max(j, 0), self.out)


def _axes(
    x: torch.Tensor, kernel: torch.Tensor, up: int, down: int, padding: Padding, pad_mode: str
) -> tuple[_Axis, _Axis]:
    kh, kw = kernel.shape
    ph0, ph1, pw0, pw1 = _padding(padding, kh, kw, up)
    axes = (
        _Axis(x.shape[-2], up, down, kh, ph0, ph1),
        _Axis(x.shape[-1], up, down, kw, pw0, pw1),
    )
    for name, ax in zip("HW", axes):
        if ax.length < 1:
            raise ValueError(
                f"expected a non-empty output along {name} (n*up + p0 + p1 >= taps), got "
                f"n={ax.n}, up={up}, padding=({ax.p0}, {ax.p1}), taps={ax.taps}"
            )
    return axes


def _source(i: int, n: int, mode: str) -> int:
    """Input index that virtual position i reads under pad_mode (-1: a zero), for any i.

    As ``numpy.pad``: reflect (numpy 'reflect') mirrors back and forth, circular ('wrap')
    repeats, replicate ('edge') clamps; within F.pad's limits the same as F.pad.
    """
    if 0 <= i < n:
        return i
    if mode == "zeros":
        return -1
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    if mode == "circular":
        return i % n
    if n == 1:  # reflect of one sample (only reached with no reflect padding)
        return 0
    r = i % (2 * n - 2)
    return 2 * n - 2 - r if r >= n else r


def _gather(x: torch.Tensor, dim: int, start: int, stop: int, mode: str) -> torch.Tensor:
    """Virtual positions [start, stop) of x along dim (2 or 3), extended by pad_mode."""
    n = x.shape[dim]
    if start >= 0 and stop <= n:
        return x.narrow(dim, start, stop - start)
    if mode == "zeros":
        lo, hi = max(start, 0), min(stop, n)
        if hi <= lo:
            shape = list(x.shape)
            shape[dim] = stop - start
            return x.new_zeros(shape)
        pad = [0, 0, 0, 0]
        pad[2 * (3 - dim)], pad[2 * (3 - dim) + 1] = lo - start, stop - hi
        return F.pad(x.narrow(dim, lo, hi - lo), pad)
    src = [_source(i, n, mode) for i in range(start, stop)]
    return x.index_select(dim, torch.tensor(src, device=x.device))


def _extend(x: torch.Tensor, spans: list[tuple[int, int]], mode: str) -> torch.Tensor:
    """Virtual rows/cols spans[0] x spans[1] of x extended by mode, copying only that block."""
    view, pad = x, [0, 0, 0, 0]
    fits = True
    for d, (start, stop) in enumerate(spans):
        n = x.shape[2 + d]
        lo, hi = max(start, 0), min(stop, n)
        before, after = lo - start, stop - hi
        if hi <= lo:
            fits = False
            break
        view = view.narrow(2 + d, lo, hi - lo)
        pad[2 * (1 - d)], pad[2 * (1 - d) + 1] = before, after
        # F.pad of the narrowed view equals the extension of x when it reads only rows the
        # view holds: always for zeros/replicate; reflect needs pad < view size; circular
        # wraps within the view, so padding a side needs the view to reach the other end.
        if mode == "reflect":
            fits = fits and max(before, after) < hi - lo
        elif mode == "circular":
            fits = fits and (before == 0 or hi == n) and (after == 0 or lo == 0)
            fits = fits and max(before, after) <= hi - lo
    if fits:  # one F.pad of a small block: the common case, and the fewest ops
        return F.pad(view, pad, mode=_TORCH_PAD[mode]) if any(pad) else view
    # Gather the narrower side first, so that the second gather copies a small tensor.
    order = sorted((0, 1), key=lambda d: (spans[d][1] - spans[d][0]) / x.shape[2 + d])
    for d in order:
        x = _gather(x, 2 + d, *spans[d], mode)
    return x


def _fold(grad: torch.Tensor, band: torch.Tensor, dim: int, start: int, mode: str) -> torch.Tensor:
    """Adjoint of _gather: add band (virtual positions start.. along dim) into grad's sources."""
    n = grad.shape[dim]
    src = [_source(i, n, mode) for i in range(start, start + band.shape[dim])]
    keep = [k for k, s in enumerate(src) if s >= 0]
    if len(keep) < len(src):
        band = band.index_select(dim, torch.tensor(keep, device=band.device))
        src = [src[k] for k in keep]
    if not src:
        return grad
    # A run of consecutive sources (circular; reflect, reversed; replicate, one) is a narrow
    # add: much cheaper than index_add_ when the sources are columns of a large tensor.
    steps = {b - a for a, b in zip(src, src[1:])}
    if steps <= {1}:
        grad.narrow(dim, src[0], len(src)).add_(band)
    elif steps == {-1}:
        grad.narrow(dim, src[-1], len(src)).add_(band.flip(dim))
    elif steps == {0}:
        grad.narrow(dim, src[0], 1).add_(band.sum(dim, keepdim=True))
    else:
        grad.index_add_(dim, torch.tensor(src, device=grad.device), band)
    return grad


def _conv(x: torch.Tensor, kernel: torch.Tensor, axes: tuple[_Axis, _Axis]) -> torch.Tensor | None:
    """Zero-padded upfirdn via one (transposed) conv: the first rows/cols it reaches.

    Returns at most ``out`` rows/cols (possibly fewer at the end), or None where the conv
    cannot express the padding (negative padding and the like). The conv is the column-blocked
    dense one (:func:`_blocked_conv`) where it applies, else a depthwise one.
    """
    ah, aw = axes
    up, down, channels = ah.up, ah.down, x.shape[1]
    kh, kw = kernel.shape
    if up == 1:
        if ah.p0 < 0 or aw.p0 < 0 or ah.n + 2 * ah.p0 < kh or aw.n + 2 * aw.p0 < kw:
            return None
        y = _blocked_conv(x, kernel, axes, (ah.p0, 0))
        if y is None:
            # conv2d is a correlation: flip to get the convolution of the definition.
            weight = kernel.flip(0, 1).expand(channels, 1, kh, kw).contiguous()
            y = F.conv2d(x, weight, stride=down, padding=(ah.p0, aw.p0), groups=channels)
    else:
        # Transposed conv with stride up == zero-stuffing + convolution; its padding crops
        # L-1-p0 fine-grid samples from each side and output_padding (< up) extends the end.
        pad, extra = [], []
        for ax in axes:
            crop = ax.taps - 1 - ax.p0
            full = (ax.n - 1) * up - 2 * crop + ax.taps
            pad.append(crop)
            extra.append(min(up - 1, max(0, ax.length - full)))
            if crop < 0 or full + extra[-1] < 1:
                return None
        y = None if down > 1 else _blocked_conv(x, kernel, axes, (pad[0], extra[0]))
        if y is None:
            weight = kernel.expand(channels, 1, kh, kw).contiguous()
            y = F.conv_transpose2d(
                x,
                weight,
                stride=up,
                padding=tuple(pad),
                output_padding=tuple(extra),
                groups=channels,
            )
            if down > 1:
                y = y[..., ::down, ::down]
    if y.shape[-2] > ah.out or y.shape[-1] > aw.out:
        y = y[..., : ah.out, : aw.out]
    return y


# Column-blocked convolution (see _blocked_conv). The dense channel mixing multiplies the zeros
# of a sparse weight: beyond these multiply-adds per output block column and row (measured,
# 2 threads, float32: binomial 3 and 5 down by 2 and filters of 3 and 5 taps gain 10-40%,
# 7 taps down by 2 or 8 taps up by 2 lose), the depthwise conv is used instead.
_BLOCK = 8
_BLOCK_MAX_MACS = {False: 256, True: 144}  # conv2d, conv_transpose2d
_BLOCKED = True  # off only to time or test the depthwise path


@functools.lru_cache(maxsize=64)
def _block_index(
    bi: int, bo: int, up: int, down: int, taps: int, p0: int, transposed: bool
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Which tap of the W-axis filter links input column ``c`` of a block to output ``t``.

    Output column ``j = bo*q + t`` reads input ``i = bi*q' + c`` through tap
    ``k = j*down + taps - 1 - p0 - i*up``; with ``bo*down == bi*up`` that depends only on
    ``r = q' - q`` (a neighbouring block: ``|r| <= pad``). Returns ``(k, valid, pad)``, ``k``
    of shape ``(bo, bi, 2 pad + 1)`` (``(bi, bo, ...)`` for a transposed conv, whose last
    index runs over ``-r``), clamped to a valid tap where ``valid`` is False.
    """
    period = bi * up
    t = torch.arange(bo).view(bo, 1, 1)
    c = torch.arange(bi).view(1, bi, 1)
    base = t * down - c * up + taps - 1 - p0  # k for r = 0
    lo = -((taps - 1 - int(base.min())) // period)  # smallest r that reaches a tap (ceil)
    hi = int(base.max()) // period
    pad = max(-lo, hi, 0)
    r = torch.arange(-pad, pad + 1).view(1, 1, -1)
    if transposed:  # conv_transpose2d's kernel index along W is pad - r
        r = -r
    k = base - period * r
    valid = (k >= 0) & (k < taps)
    k = k.clamp(0, taps - 1)
    if transposed:
        k, valid = k.transpose(0, 1), valid.transpose(0, 1)
    return k.contiguous(), valid, pad


def _blocked_conv(
    x: torch.Tensor,
    kernel: torch.Tensor,
    axes: tuple[_Axis, _Axis],
    h_pad: tuple[int, int],
) -> torch.Tensor | None:
    """The zero-padded upfirdn as a dense conv over blocks of columns, or None.

    Depthwise convs (and torch's transposed ones above all) run far below the machine's
    speed on CPU. Viewed as ``(N*C, B, H, W/B)`` (column ``B*q + c`` -> channel ``c``, block
    ``q``), a contiguous NCHW tensor *is* a channels_last tensor with ``B`` channels, and the
    operation becomes an ordinary dense conv mapping ``B_in`` to ``B_out = B_in*up/down``
    channels along W (each output column reads its own and the neighbouring blocks) and the
    usual strided (transposed) conv along H: oneDNN's fast channels_last kernels, and the
    channels_last output *is* the NCHW result. No copy on the way in or out, zero padding
    exact. Only for float32, contiguous NCHW input, width a multiple of the block, one of
    up/down equal to 1, and filters short enough that the dense weight's zeros stay cheap.
    ``h_pad``: the H axis' (padding, output_padding) of the conv (output_padding: transposed).
    """
    ah, aw = axes
    up, down = ah.up, ah.down
    if not _BLOCKED or (up > 1 and down > 1) or x.dtype != torch.float32:
        return None
    bi, bo = _BLOCK * down, _BLOCK * up
    n, c, h, w = x.shape
    if w % bi or not x.is_contiguous() or torch.compiler.is_compiling():
        return None
    if not torch.backends.mkldnn.is_available() or kernel.device.type != "cpu":
        return None
    kh, kw = kernel.shape
    index, valid, pad = _block_index(bi, bo, up, down, kw, aw.p0, up > 1)
    if bi * kh * (2 * pad + 1) > _BLOCK_MAX_MACS[up > 1]:
        return None
    if up > 1:
        # weight (bi, bo, kh, 2 pad + 1): rows as the depthwise transposed conv uses them
        weight = kernel[:, index] * valid.to(kernel.dtype)  # (kh, bi, bo, k)
        weight = weight.permute(1, 2, 0, 3).contiguous()
    else:
        # weight (bo, bi, kh, 2 pad + 1): rows flipped (conv2d correlates)
        weight = kernel.flip(0)[:, index] * valid.to(kernel.dtype)
        weight = weight.permute(1, 2, 0, 3).contiguous()
    blocks = x.view(n * c, h, w // bi, bi).permute(0, 3, 1, 2)
    if up > 1:
        y = F.conv_transpose2d(
            blocks,
            weight,
            stride=(up, 1),
            padding=(h_pad[0], pad),
            output_padding=(h_pad[1], 0),
        )
    else:
        y = F.conv2d(blocks, weight, stride=(down, 1), padding=(h_pad[0], pad))
    # (N*C, bo, H', W/bi) -> (N, C, H', W*up/down): a view when y is channels_last
    return y.permute(0, 2, 3, 1).reshape(n, c, y.shape[2], y.shape[3] * bo)


# Use torch's own interpolation kernels where they compute exactly our filter (see
# _torch_interpolation). Off only to time the generic path (benchmarks/bench_resample.py).
_TORCH_KERNELS = True
_AUTO = "auto"  # _torch_interpolation: compare the kernel with torch's


@functools.lru_cache(maxsize=32)
def _interpolation_filters(up: int) -> tuple[tuple[str, torch.Tensor], ...]:
    # F.interpolate(align_corners=False) == zeros + these taps with replicate edges
    # (antialias.catalogue proves it in its tests). 'nearest-exact' rather than 'nearest':
    # the two agree for integer factors, and the former indexes exactly.
    return (
        ("nearest-exact", torch.ones(up, dtype=torch.float64)),
        ("bilinear", linear_taps(up)),
        ("bicubic", cubic_taps(up)),
    )


def _interpolation_mode(taps: torch.Tensor, up: int) -> str | None:
    """The F.interpolate mode computing zeros + ``taps`` (1-D, or a 2-D kernel), if any."""
    for mode, ref in _interpolation_filters(up):
        expected = ref if taps.ndim == 1 else torch.outer(ref, ref)
        if taps.shape == expected.shape:
            expected = expected.to(taps.dtype)
            tol = 4 * torch.finfo(taps.dtype).eps * float(expected.abs().max())
            if bool(((taps.detach().cpu() - expected).abs() <= tol).all()):
                return mode
    return None


def _torch_interpolation(
    kernel: torch.Tensor, axes: tuple[_Axis, _Axis], known: str | None = _AUTO
) -> str | None:
    """The F.interpolate mode that computes this up-sampling (replicate edges), if any.

    ``known``: the caller's answer for these taps (a layer decides once, at construction);
    by default the kernel is compared here, except while ``torch.compile`` traces (a
    data-dependent test it cannot follow): the generic path then runs, with equal results.
    """
    ah, aw = axes
    if not _TORCH_KERNELS or ah.up == 1 or ah.down != 1:
        return None
    for ax in axes:
        if ax.p0 != (ax.taps + ax.up - 2) // 2 or ax.p1 != ax.taps - 1 - ax.p0:
            return None
    if known != _AUTO:
        return known
    if torch.compiler.is_compiling():
        return None
    return _interpolation_mode(kernel, ah.up)


def _block(
    x: torch.Tensor,
    kernel: torch.Tensor,
    axes: tuple[_Axis, _Axis],
    rows: tuple[int, int],
    cols: tuple[int, int],
    pad_mode: str,
) -> torch.Tensor:
    """Output block [rows) x [cols), from the explicitly extended slice of x it depends on."""
    sub = []
    spans = [(ax.first(j0), ax.last(j1 - 1) + 1) for ax, (j0, j1) in zip(axes, (rows, cols))]
    if any(stop <= start for start, stop in spans):  # no input sample reaches the block
        return x.new_zeros(*x.shape[:2], rows[1] - rows[0], cols[1] - cols[0])
    x = _extend(x, spans, pad_mode)
    for ax, (j0, j1), (start, stop) in zip(axes, (rows, cols), spans):
        # Re-express the block as an upfirdn of the slice: output j0 becomes output 0.
        p0 = ax.p0 + ax.up * start - j0 * ax.down
        p1 = (j1 - j0 - 1) * ax.down + ax.taps - (stop - start) * ax.up - p0
        sub.append(_Axis(stop - start, ax.up, ax.down, ax.taps, p0, p1))
    y = _conv(x, kernel, (sub[0], sub[1]))
    if y is None or y.shape[-2] < rows[1] - rows[0] or y.shape[-1] < cols[1] - cols[0]:
        pads = (sub[1].p0, sub[1].p1, sub[0].p0, sub[0].p1)
        y = _reference(x, kernel, axes[0].up, axes[0].down, pads, "zeros")
    return y


def _sides(ax: _Axis, head: int, tail: int, end: int, mode: str) -> tuple[int, int] | None:
    """Input samples ``[0, a)`` and ``[s, n)`` from which outputs ``[0, head)`` and
    ``[tail, end)`` follow, extended by ``mode`` as if ``[a, s)`` were not there; or None.

    Dropping ``[a, s)`` shifts the later outputs by ``(s - a) * up / down`` places, so ``s``
    moves left until that is whole and leaves them after the first ones. F.pad of the
    shortened signal must read only what the full one would: reflect mirrors inside the
    near side, circular wraps to the far side.
    """
    n = ax.n
    a = min(max(ax.last(head - 1) + 1, 0), n) if head > 0 else 0
    s = min(max(ax.first(tail), 0), n) if tail < end else n
    before, after = ax.pad_before(), ax.pad_after()
    if mode == "circular":
        a, s = max(a, after), min(s, n - before)
    elif mode in ("reflect", "replicate"):  # the samples the padding mirrors or repeats
        near = 1 if mode == "reflect" else 0
        a = max(a, before + near) if before else a
        s = min(s, n - after - near) if after else s
    while s > a and (
        ((s - a) * ax.up) % ax.down or (tail < end and tail - (s - a) * ax.up // ax.down < head)
    ):
        s -= 1
    if 2 * (a + n - s) > n:  # not worth it: little to drop (and small maps)
        return None
    return a, s


def _side_strips(
    x: torch.Tensor,
    kernel: torch.Tensor,
    axes: tuple[_Axis, _Axis],
    pad_mode: str,
    heads: tuple[int, int],
    tails: tuple[int, int],
    ends: tuple[int, int],
) -> list[tuple[int, torch.Tensor, int]] | None:
    """Outputs ``[0, head)`` and ``[tail, end)`` along each axis (all of the other axis), each
    axis in one small conv over the input's two sides put together (:func:`_sides`).

    Returns ``(dim, block, shift)`` per axis that has strips: ``block`` holds the outputs
    along ``dim``, the later ones ``shift`` places earlier; None where this does not apply
    (then the strips are computed one by one).
    """
    result = []
    for d, (ax, other) in enumerate((axes, axes[::-1])):
        head, tail = heads[d], tails[d]
        if head <= 0 and tail >= ends[d]:
            continue
        sides = _sides(ax, head, tail, ends[d], pad_mode)
        if sides is None:
            return None
        a, s = sides
        dim = 2 + d
        n = ax.n
        parts = [x.narrow(dim, 0, a)] if a else []
        if s < n or not parts:
            parts.append(x.narrow(dim, s, n - s))
        short = torch.cat(parts, dim) if len(parts) > 1 else parts[0]
        pads = [(ax.pad_before(), ax.pad_after()), (other.pad_before(), other.pad_after())]
        sizes = [a + n - s, other.n]
        if pad_mode == "reflect" and any(max(p) >= m for p, m in zip(pads, sizes)):
            return None
        if pad_mode == "circular" and any(max(p) > m for p, m in zip(pads, sizes)):
            return None
        if d == 1:
            pads, sizes = pads[::-1], sizes[::-1]
        (bh, ah_), (bw, aw_) = pads
        if bh or ah_ or bw or aw_:
            short = F.pad(short, (bw, aw_, bh, ah_), mode=_TORCH_PAD[pad_mode])
        shift = (s - a) * ax.up // ax.down
        sub = []
        for i, (axis, (b, e), m) in enumerate(zip(axes, pads, sizes)):
            p0, p1 = axis.p0 - axis.up * b, axis.p1 - axis.up * e
            if i == d:  # exactly the outputs wanted: [0, head) and [tail, end) - shift
                count = ends[d] - shift if tail < ends[d] else head
                p1 = (count - 1) * axis.down + axis.taps - (m + b + e) * axis.up - p0
            sub.append(_Axis(m + b + e, axis.up, axis.down, axis.taps, p0, p1))
        if axes[0].up > 1 and short.dtype == torch.float32:
            # torch's depthwise transposed conv is up to 10x faster on small channels_last
            # tensors (oneDNN's kernel) than on NCHW ones; the copy costs little here
            short = short.contiguous(memory_format=torch.channels_last)
        block = _exact_conv(short, kernel, (sub[0], sub[1]))
        result.append((dim, block, shift))
    return result


def _exact_conv(x: torch.Tensor, kernel: torch.Tensor, axes: tuple[_Axis, _Axis]) -> torch.Tensor:
    """All outputs of the zero-padded upfirdn of x: the conv, or :func:`_block` where the conv
    cannot express the padding."""
    y = _conv(x, kernel, axes)
    if y is None or y.shape[-2] < axes[0].out or y.shape[-1] < axes[1].out:
        y = _block(x, kernel, axes, (0, axes[0].out), (0, axes[1].out), "zeros")
    return y


def _forward(
    x: torch.Tensor,
    kernel: torch.Tensor,
    axes: tuple[_Axis, _Axis],
    pad_mode: str,
    torch_mode: str | None = None,
) -> torch.Tensor:
    """upfirdn2d by the fast path (differentiable by autograd, but see _UpFirDn2d).

    ``torch_mode``: the F.interpolate mode computing this up-sampling (_torch_interpolation).
    """
    ah, aw = axes
    out_h, out_w = ah.out, aw.out
    if pad_mode == "zeros" and torch_mode is None:
        head_h = head_w = 0  # the conv's own zero padding is exact
        tail_h, tail_w = out_h, out_w
    elif pad_mode == "replicate" and torch_mode is not None:
        head_h = head_w = 0  # F.interpolate clamps: exact
        tail_h, tail_w = out_h, out_w
    else:
        head_h, head_w, tail_h, tail_w = ah.head(), aw.head(), ah.tail(), aw.tail()
    border = out_h * out_w - max(0, tail_h - head_h) * max(0, tail_w - head_w)
    if border > _STRIP_SHARE * out_h * out_w:
        y = None
    elif torch_mode is not None:
        y = F.interpolate(x, scale_factor=ah.up, mode=torch_mode)
    else:
        y = _conv(x, kernel, axes)
    if y is None:
        return _block(x, kernel, axes, (0, out_h), (0, out_w), pad_mode)

    got_h, got_w = y.shape[-2], y.shape[-1]
    tail_h, tail_w = min(tail_h, got_h), min(tail_w, got_w)
    mid = (head_h, max(head_h, tail_h))
    # Rows/cols the conv did not reach (e.g. even taps, odd size): appended below.
    right = bottom = None
    if got_w < out_w:
        right = _block(x, kernel, axes, (0, got_h), (got_w, out_w), pad_mode)
    if got_h < out_h:
        bottom = _block(x, kernel, axes, (got_h, out_h), (0, out_w), pad_mode)
    # Border strips that depend on the padding: recomputed, written in below; both
    # sides of an axis in one small conv where that applies, else strip by strip.
    sides = _side_strips(
        x, kernel, axes, pad_mode, (head_h, head_w), (tail_h, tail_w), (got_h, got_w)
    )
    strips = []
    if sides is None:
        if head_h > 0:
            strips.append(((0, head_h), (0, out_w)))
        if tail_h < got_h:
            strips.append(((tail_h, got_h), (0, out_w)))
        if mid[1] > mid[0] and head_w > 0:
            strips.append((mid, (0, head_w)))
        if mid[1] > mid[0] and tail_w < got_w:
            strips.append((mid, (tail_w, got_w)))
        strips = [(r, c, _block(x, kernel, axes, r, c, pad_mode)) for r, c in strips]
    if right is not None:
        y = torch.cat([y, right], dim=3)
    if bottom is not None:
        y = torch.cat([y, bottom], dim=2)
    for (r0, r1), (c0, c1), block in strips:
        y[..., r0:r1, c0:c1] = block
    for dim, block, shift in sides or ():
        head, tail, got = (head_h, tail_h, got_h) if dim == 2 else (head_w, tail_w, got_w)
        if 0 < head <= tail and got - tail == head and not torch.compiler.is_compiling():
            # both sides in one strided copy (as_strided: not for a traced graph)
            _two_sides(y, dim, head, tail).copy_(_two_sides(block, dim, head, tail - shift))
            continue
        if head > 0:
            y.narrow(dim, 0, head).copy_(block.narrow(dim, 0, head))
        if tail < got:
            y.narrow(dim, tail, got - tail).copy_(block.narrow(dim, tail - shift, got - tail))
    return y


def _two_sides(t: torch.Tensor, dim: int, width: int, start: int) -> torch.Tensor:
    """View of ``t``'s entries ``[0, width)`` and ``[start, start + width)`` along ``dim``
    (2 or 3), stacked on a new axis before ``dim``."""
    size, stride = list(t.shape), list(t.stride())
    size[dim : dim + 1] = [2, width]
    stride[dim : dim + 1] = [start * stride[dim], stride[dim]]
    return t.as_strided(size, stride, t.storage_offset())


def _adjoint_axes(ax: _Axis, before: int, total: int) -> _Axis:
    """Axis of the adjoint: an upfirdn (up <-> down, flipped taps) from the output back to
    input positions [-before, total - before)."""
    p0 = ax.taps - 1 - ax.p0 + ax.up * before
    p1 = (total - 1) * ax.up + ax.taps - ax.out * ax.down - p0
    return _Axis(ax.out, ax.down, ax.up, ax.taps, p0, p1)


def _adjoint(
    grad: torch.Tensor, kernel: torch.Tensor, axes: tuple[_Axis, _Axis], pad_mode: str
) -> torch.Tensor:
    """Gradient of _forward with respect to x, by the fast path (no full-size padded copy).

    The forward is ``F_zero(E x)``: E extends x by pad_mode, F_zero is the zero-padded
    upfirdn. The adjoint is ``E^T F_zero^T g``: F_zero^T is an upfirdn with up and down
    swapped and the kernel flipped, evaluated on the input rows/cols (fast, one conv) and on
    the few padding rows/cols (small blocks), which E^T then adds onto their sources.
    """
    ah, aw = axes
    if not (grad.is_contiguous() or grad.is_contiguous(memory_format=torch.channels_last)):
        # e.g. the stride-0 gradient of a sum(): convs on it take torch's slow paths
        grad = grad.contiguous()
    flipped = kernel.flip(0, 1)
    inner = (_adjoint_axes(ah, 0, ah.n), _adjoint_axes(aw, 0, aw.n))
    result = _forward(grad, flipped, inner, "zeros")
    if pad_mode == "zeros":
        return result
    if result.requires_grad:  # double backward: keep the interior out of in-place adds
        result = result.clone()
    bh, eh, bw, ew = ah.pad_before(), ah.pad_after(), aw.pad_before(), aw.pad_after()
    if not (bh or eh or bw or ew):
        return result
    th, tw = ah.n + bh + eh, aw.n + bw + ew
    ext = (_adjoint_axes(ah, bh, th), _adjoint_axes(aw, bw, tw))
    # Top and bottom bands span the full extended width (fold W, then add onto rows); left
    # and right bands the input rows. Both bands of an axis from one small conv where
    # _side_strips applies, else band by band.
    sides = _side_strips(grad, flipped, ext, "zeros", (bh, bw), (bh + ah.n, bw + aw.n), (th, tw))
    if sides is None:
        rows = [
            (r0, r1, _block(grad, flipped, ext, (r0, r1), (0, tw), "zeros"))
            for r0, r1 in ((0, bh), (bh + ah.n, th))
            if r1 > r0
        ]
        cols = [
            (c0, _block(grad, flipped, ext, (bh, bh + ah.n), (c0, c1), "zeros"))
            for c0, c1 in ((0, bw), (bw + aw.n, tw))
            if c1 > c0
        ]
    else:
        rows, cols = [], []
        for dim, block, shift in sides:
            if dim == 2:
                if bh:
                    rows.append((0, bh, block.narrow(2, 0, bh)))
                if eh:
                    rows.append((bh + ah.n, th, block.narrow(2, bh + ah.n - shift, eh)))
            else:
                block = block.narrow(2, bh, ah.n)
                if bw:
                    cols.append((0, block.narrow(3, 0, bw)))
                if ew:
                    cols.append((bw + aw.n, block.narrow(3, bw + aw.n - shift, ew)))
    for r0, _, band in rows:
        shape = (*band.shape[:-1], aw.n)
        folded = _fold(band.new_zeros(shape), band, 3, -bw, pad_mode)
        _fold(result, folded, 2, r0 - bh, pad_mode)
    for c0, band in cols:
        _fold(result, band, 3, c0 - bw, pad_mode)
    return result


class _UpFirDn2d(torch.autograd.Function):
    """upfirdn2d with its adjoint as backward (each the other's backward: any order)."""

    @staticmethod
    def forward(ctx, x, kernel, axes, pad_mode, torch_mode):  # type: ignore[override]
        ctx.save_for_backward(kernel)
        ctx.axes, ctx.pad_mode, ctx.torch_mode = axes, pad_mode, torch_mode
        return _forward(x, kernel, axes, pad_mode, torch_mode)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        (kernel,) = ctx.saved_tensors
        args = (ctx.axes, ctx.pad_mode, ctx.torch_mode)
        return _Adjoint.apply(grad, kernel, *args), None, None, None, None


class _Adjoint(torch.autograd.Function):
    @staticmethod
    def forward(ctx, grad, kernel, axes, pad_mode, torch_mode):  # type: ignore[override]
        ctx.save_for_backward(kernel)
        ctx.axes, ctx.pad_mode, ctx.torch_mode = axes, pad_mode, torch_mode
        return _adjoint(grad, kernel, axes, pad_mode)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        (kernel,) = ctx.saved_tensors
        args = (ctx.axes, ctx.pad_mode, ctx.torch_mode)
        return _UpFirDn2d.apply(grad, kernel, *args), None, None, None, None


def _upfirdn2d_fast(
    x: torch.Tensor,
    kernel: torch.Tensor,
    axes: tuple[_Axis, _Axis],
    pad_mode: str,
    torch_mode: str | None,
) -> torch.Tensor:
    if kernel.requires_grad and torch.is_grad_enabled():
        # Gradients for the taps too: let autograd differentiate the composite.
        return _forward(x, kernel, axes, pad_mode, torch_mode)
    if x.requires_grad and torch.is_grad_enabled():
        return _UpFirDn2d.apply(x, kernel, axes, pad_mode, torch_mode)
    return _forward(x, kernel, axes, pad_mode, torch_mode)


def _reference(
    x: torch.Tensor,
    kernel: torch.Tensor,
    up: int,
    down: int,
    padding: tuple[int, int, int, int],
    pad_mode: str,
) -> torch.Tensor:
    """The definition, step by step: extend, zero-stuff, pad/crop, convolve, decimate."""
    pw0, pw1, ph0, ph1 = padding
    kh, kw = kernel.shape
    axes = (
        _Axis(x.shape[-2], up, down, kh, ph0, ph1),
        _Axis(x.shape[-1], up, down, kw, pw0, pw1),
    )
    ah, aw = axes
    before_h, after_h, before_w, after_w = (
        ah.pad_before(),
        ah.pad_after(),
        aw.pad_before(),
        aw.pad_after(),
    )
    # 1. extend x by pad_mode (enough input samples for every output). F.pad refuses reflect
    #    padding >= size and circular padding > size; numpy.pad goes on reflecting/wrapping.
    if before_h or after_h or before_w or after_w:
        limit = {"reflect": min(ah.n, aw.n) - 1, "circular": min(ah.n, aw.n)}.get(pad_mode)
        if limit is None or max(before_h, after_h, before_w, after_w) <= limit:
            x = F.pad(x, (before_w, after_w, before_h, after_h), mode=_TORCH_PAD[pad_mode])
        else:
            x = _gather(x, 2, -before_h, ah.n + after_h, pad_mode)
            x = _gather(x, 3, -before_w, aw.n + after_w, pad_mode)
    # 2. zero-stuff: x[i] goes to up*i, zeros between (and up-1 zeros after the last sample).
    n, c, h, w = x.shape
    z = x.new_zeros(n, c, h * up, w * up)
    z[..., ::up, ::up] = x
    # 3. keep fine-grid positions [-p0, n*up + p1) of the original signal (F.pad crops when
    #    given negative amounts; the extension sits at the start of z).
    z = F.pad(
        z,
        (
            pw0 - before_w * up,
            (aw.n + before_w) * up + pw1 - w * up,
            ph0 - before_h * up,
            (ah.n + before_h) * up + ph1 - h * up,
        ),
    )
    # 4. convolve (conv2d correlates: flip the kernel), one filter per channel.
    weight = kernel.flip(0, 1).expand(c, 1, kh, kw)
    y = F.conv2d(z, weight, groups=c)
    # 5. decimate.
    return y[..., ::down, ::down]


# --------------------------------------------------------------------------- public API


def upfirdn2d(
    x: torch.Tensor,
    taps: Taps,
    up: int = 1,
    down: int = 1,
    padding: Padding = None,
    pad_mode: str = "zeros",
    gain: float = 1.0,
) -> torch.Tensor:
    """Zero-stuff by ``up``, pad, apply the FIR filter, keep every ``down``-th sample.

    The exact definition, phase convention and default padding are in the module docstring.
    The taps are used as given (times ``gain``): no normalisation here (see the wrappers).

    Args:
        x: input, shape ``(N, C, H, W)``, floating point; any memory layout.
        taps: 1-D taps (separable: the same taps along H and W, 2-D kernel = outer product),
            an int ``n`` (``binomial_taps(n)``), or a 2-D kernel ``(kh, kw)``.
        up: up-sampling factor (integer >= 1), both axes.
        down: down-sampling factor (integer >= 1), both axes.
        padding: padding of the zero-stuffed signal in fine-grid samples: ``None`` (default
            phase convention), an int (all sides), ``(p0, p1)`` (start, end; both axes) or
            ``(left, right, top, bottom)`` as in ``F.pad``. Negative values crop.
        pad_mode: how ``x`` is extended: ``zeros``, ``reflect``, ``replicate`` or ``circular``.
        gain: factor applied to the kernel (the 2-D kernel's sum is ``gain * sum(taps)**2``).

    Returns:
        Output, shape ``(N, C, H_out, W_out)`` with ``H_out = (H*up + p0 + p1 - kh)//down + 1``
        (``ceil(H*up/down)`` with the default padding); same dtype and device as ``x``.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, H_{out}, W_{out})`

    Raises:
        TypeError: non-tensor or non-float ``x``, non-integer factors, bad ``padding`` type.
        ValueError: wrong rank, non-positive factors, empty or non-finite taps, unknown
            ``pad_mode``, empty output.

    Example:
        >>> x = torch.tensor([[[[1.0, 2.0, 3.0]]]])
        >>> upfirdn2d(x, [1.0], up=2, padding=0)  # zero-stuffing only
        tensor([[[[1., 0., 2., 0., 3., 0.],
                  [0., 0., 0., 0., 0., 0.]]]])
        >>> upfirdn2d(torch.ones(1, 1, 4, 4), 3, down=2)  # binomial [1, 2, 1]/4, zero padding
        tensor([[[[0.5625, 0.7500],
                  [0.7500, 1.0000]]]])
    """
    return _upfirdn2d(x, _taps_tensor(taps), up, down, padding, pad_mode, gain)


def _upfirdn2d(
    x: torch.Tensor,
    taps: torch.Tensor,
    up: int,
    down: int,
    padding: Padding,
    pad_mode: str,
    gain: float,
    torch_mode: str | None = _AUTO,
) -> torch.Tensor:
    """upfirdn2d for validated taps (a 1-D or 2-D tensor).

    ``torch_mode``: which F.interpolate mode computes zeros + these taps (None: none), if the
    caller knows it; by default the taps are compared with torch's here.
    """
    x = _check_input(x)
    up, down = _check_factor("up", up), _check_factor("down", down)
    pad_mode = _check_pad_mode(pad_mode)
    kernel = _as_kernel(taps, x, gain)
    axes = _axes(x, kernel, up, down, padding, pad_mode)
    torch_mode = _torch_interpolation(kernel, axes, torch_mode)
    y = _upfirdn2d_fast(x, kernel, axes, pad_mode, torch_mode)
    # Keep the input's layout, as torch's own ops do (some conv backends do not).
    channels_last = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    layout = torch.channels_last if channels_last else torch.contiguous_format
    if not y.is_contiguous(memory_format=layout):
        y = y.contiguous(memory_format=layout)
    return y


def upfirdn2d_reference(
    x: torch.Tensor,
    taps: Taps,
    up: int = 1,
    down: int = 1,
    padding: Padding = None,
    pad_mode: str = "zeros",
    gain: float = 1.0,
) -> torch.Tensor:
    """Slow, obvious :func:`upfirdn2d`: ``F.pad`` by ``pad_mode``, zero-stuff, conv, slice.

    Same arguments, result and errors as :func:`upfirdn2d`; it stores and multiplies the
    inserted zeros and copies the whole padded tensor. It is the definition the fast path is
    tested against.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, H_{out}, W_{out})`

    Example:
        >>> x = torch.arange(4.0).view(1, 1, 2, 2)
        >>> upfirdn2d_reference(x, [1.0, 1.0], up=2)  # nearest x2
        tensor([[[[0., 0., 1., 1.],
                  [0., 0., 1., 1.],
                  [2., 2., 3., 3.],
                  [2., 2., 3., 3.]]]])
    """
    x = _check_input(x)
    up, down = _check_factor("up", up), _check_factor("down", down)
    pad_mode = _check_pad_mode(pad_mode)
    kernel = _as_kernel(_taps_tensor(taps), x, gain)
    ah, aw = _axes(x, kernel, up, down, padding, pad_mode)
    return _reference(x, kernel, up, down, (aw.p0, aw.p1, ah.p0, ah.p1), pad_mode)


def _normalized(taps: Taps, dc: float, normalize: bool = True) -> torch.Tensor:
    """Validated taps (or 2-D kernel), scaled so that each axis has DC gain ``dc``."""
    t = _taps_tensor(taps)
    if not normalize:
        return t
    total = t.sum()
    if float(total) == 0.0:
        raise ValueError(
            "expected taps with a non-zero sum to normalise, got sum 0; "
            "pass normalize=False to use them as given"
        )
    return t * ((dc**t.ndim) / total)


def upsample2d(
    x: torch.Tensor,
    taps: Taps,
    up: int = 2,
    padding: Padding = None,
    pad_mode: str = "zeros",
    normalize: bool = True,
    gain: float = 1.0,
) -> torch.Tensor:
    """Up-sample by ``up``: zero-stuff and interpolate with ``taps`` (``upfirdn2d``, down=1).

    DC gain: with ``normalize=True`` the taps are scaled to sum to ``up`` per axis (a 2-D
    kernel to ``up**2``), so a constant input stays constant away from zero padding; with
    ``normalize=False`` they are used as given (e.g. :func:`antialias.filters.linear_taps`
    already sums to ``up``). ``gain`` multiplies the result's kernel.

    Output ``j`` is centred at input coordinate ``(j + 1/2)/up - 1/2`` (``align_corners=False``
    grid) when ``len(taps) + up`` is even. With ``pad_mode='replicate'``,
    ``upsample2d(x, linear_taps(up))`` is ``F.interpolate(x, scale_factor=up,
    mode='bilinear')``; see :mod:`antialias.catalogue`.

    Args:
        x: input, shape ``(N, C, H, W)``.
        taps: 1-D taps, binomial length, or 2-D kernel.
        up: integer factor >= 1.
        padding: override of the default padding (see :func:`upfirdn2d`).
        pad_mode: ``zeros``, ``reflect``, ``replicate`` or ``circular``.
        normalize: scale the taps to DC gain ``up`` per axis.
        gain: extra factor on the kernel.

    Returns:
        Output, shape ``(N, C, H*up, W*up)`` with the default padding.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, H \\cdot up, W \\cdot up)`

    Example:
        >>> x = torch.tensor([[[[0.0, 4.0]]]])
        >>> upsample2d(x, [1, 3, 3, 1], pad_mode="replicate")[0, 0, 0]
        tensor([0., 1., 3., 4.])
    """
    up = _check_factor("up", up)
    return _upfirdn2d(x, _normalized(taps, float(up), normalize), up, 1, padding, pad_mode, gain)


def downsample2d(
    x: torch.Tensor,
    taps: Taps,
    down: int = 2,
    padding: Padding = None,
    pad_mode: str = "zeros",
    normalize: bool = True,
    gain: float = 1.0,
) -> torch.Tensor:
    """Low-pass filter with ``taps`` and keep every ``down``-th sample (``upfirdn2d``, up=1).

    DC gain: with ``normalize=True`` the taps are scaled to sum to 1 (a constant input stays
    constant away from zero padding). Output ``j`` is centred on input ``j*down`` for an odd
    number of taps (padding ``(L-1)//2`` each side) and at ``j*down + 1/2`` for an even number
    (padding ``((L-1)//2, L//2)``). For every length this equals kornia's ``blur_pool2d``
    (``pad_mode='zeros'``) and antialiased-cnns' ``BlurPool`` (``pad_mode='reflect'``, or
    ``'zeros'`` for its ``pad_type='zero'``); a symmetric split for even ``L`` is ``padding=p``.

    Args:
        x: input, shape ``(N, C, H, W)``.
        taps: 1-D taps, binomial length (``3`` means ``[1, 2, 1]/4``), or 2-D kernel.
        down: integer factor >= 1.
        padding: override of the default padding (see :func:`upfirdn2d`).
        pad_mode: ``zeros``, ``reflect``, ``replicate`` or ``circular``.
        normalize: scale the taps to DC gain 1 per axis.
        gain: extra factor on the kernel.

    Returns:
        Output, shape ``(N, C, ceil(H/down), ceil(W/down))`` with the default padding.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, \\lceil H/down \\rceil, \\lceil W/down \\rceil)`

    Example:
        >>> x = torch.tensor([[[[0.0, 0.0, 4.0, 4.0, 4.0]]]])
        >>> downsample2d(x, 3, pad_mode="replicate")[0, 0, 0]
        tensor([0., 3., 4.])
    """
    down = _check_factor("down", down)
    return _upfirdn2d(x, _normalized(taps, 1.0, normalize), 1, down, padding, pad_mode, gain)


def filter2d(
    x: torch.Tensor,
    taps: Taps,
    padding: Padding = None,
    pad_mode: str = "zeros",
    normalize: bool = True,
    gain: float = 1.0,
) -> torch.Tensor:
    """Filter with ``taps`` at the same resolution (``upfirdn2d`` with up = down = 1).

    DC gain 1 with ``normalize=True``. Output ``j`` is centred on input ``j`` for an odd
    number of taps and on ``j + 1/2`` for an even number (default padding
    ``((L-1)//2, L//2)``).

    Args:
        x: input, shape ``(N, C, H, W)``.
        taps: 1-D taps, binomial length, or 2-D kernel.
        padding: override of the default padding (see :func:`upfirdn2d`).
        pad_mode: ``zeros``, ``reflect``, ``replicate`` or ``circular``.
        normalize: scale the taps to DC gain 1 per axis.
        gain: extra factor on the kernel.

    Returns:
        Output, shape ``(N, C, H, W)`` with the default padding.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, H, W)`

    Example:
        >>> x = torch.tensor([[[[0.0, 4.0, 0.0]]]])
        >>> filter2d(x, 3, pad_mode="circular")[0, 0, 0]
        tensor([1., 2., 1.])
    """
    return _upfirdn2d(x, _normalized(taps, 1.0, normalize), 1, 1, padding, pad_mode, gain)
