"""What every path of :mod:`antialias.resample` shares: argument checks, the index arithmetic
of one axis, and the choice of implementation (:data:`IMPLS`).

Private to the package (its siblings import these names; nothing outside does).
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from antialias._checks import check_choice, check_float, check_int
from antialias.filters import as_taps, binomial_taps

Taps = int | torch.Tensor | Sequence[float] | Sequence[Sequence[float]] | np.ndarray
Padding = int | Sequence[int] | None

#: How :func:`antialias.resample.upfirdn2d` computes (every one equal to the definition up to
#: rounding; the benchmark rows in ``benchmarks/bench_resample.py`` that keep each fast path):
#:
#: - ``"auto"``: the fastest path this module knows for the arguments: torch's own
#:   ``F.interpolate`` kernel where the taps are exactly its nearest/bilinear/bicubic filter
#:   (rows "upsample2d replicate": 0.85-1.01x of ``F.interpolate`` on a quiet machine, vs
#:   0.92-1.60x "upsample2d generic path"), else as ``"generic"``.
#: - ``"generic"``: one (transposed) conv for any taps, column-blocked into a dense
#:   channels_last conv where it applies (float32, contiguous, short filters: rows
#:   "downsample2d zeros" 0.52-0.70x of kornia vs 0.86-0.96x "... depthwise"), plus border
#:   strips.
#: - ``"depthwise"``: as ``"generic"`` with a plain depthwise (transposed) conv: to time or
#:   test the column blocking.
#: - ``"reference"``: :func:`antialias.resample.upfirdn2d_reference`, the definition step by
#:   step (stores and multiplies the inserted zeros).
#: - ``"pad"``: the export-safe path: the whole tensor extended by ``pad_mode`` (one ``F.pad``),
#:   then one depthwise (transposed) conv and crops by constants, no size-dependent Python
#:   (``_pad.py``). Every call runs it while ``torch.jit.trace``, ``torch.export``, ONNX export
#:   or ``torch.compile`` traces, whatever ``impl`` says, so a traced graph is right at every
#:   size; eager calls keep the fast paths.
IMPLS: tuple[str, ...] = ("auto", "generic", "depthwise", "reference", "pad")

#: The most output samples per channel (``H_out * W_out``): a factor or padding typed wrong by
#: orders of magnitude is refused before anything is allocated (torch's conv kernels index
#: planes with 32-bit integers in places, so nothing larger is reliable anyway).
MAX_PLANE = 2**31 - 1

#: The most padding (fine-grid samples, either sign) per side: legitimate values are about
#: the filter's length; the bound keeps the extension's index lists (built in Python) small.
MAX_PADDING = 2**20


def check_input(x: object) -> torch.Tensor:
    """``x`` if it is a floating ``(N, C, H, W)`` tensor with non-empty ``H`` and ``W``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected x to be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"expected x of shape (N, C, H, W), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"expected a floating-point x, got dtype {x.dtype}")
    # not while traced: a trace would record the test as a constant (and warn each call)
    if not torch.jit.is_tracing() and (x.shape[-1] == 0 or x.shape[-2] == 0):
        raise ValueError(f"expected non-empty H and W, got shape {tuple(x.shape)}")
    return x


def check_factor(name: str, value: object) -> int:
    """An up/down factor: an integer >= 1 (its upper bound is the output size, see axes)."""
    return check_int(name, value, minimum=1)


def check_impl(impl: object) -> str:
    return check_choice("impl", impl, IMPLS)


def check_gain(gain: object) -> float:
    return check_float("gain", gain)


def taps_tensor(taps: Taps) -> torch.Tensor:
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


def as_kernel(
    t: torch.Tensor, x: torch.Tensor, gain: float = 1.0, flip_filter: bool = False
) -> torch.Tensor:
    """2-D kernel (kh, kw) in x's dtype/device from validated taps: 1-D taps -> outer product.

    ``flip_filter``: the taps are given in correlation order (``taps[m]`` weighs
    ``x[j - p0 + m]``, as ``F.conv2d`` and antialiased-cnns apply them); reversing them gives
    the convolution of the definition. A no-op for symmetric taps.
    """
    if flip_filter:
        t = t.flip(tuple(range(t.ndim)))
    kernel = torch.outer(t, t) if t.ndim == 1 else t
    kernel = kernel.to(dtype=x.dtype, device=x.device)
    return kernel * gain if gain != 1.0 else kernel


def normalize_padding(padding: Padding, kh: int, kw: int, up: int) -> tuple[int, int, int, int]:
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


def check_padding(padding: Padding) -> Padding:
    """``padding`` if its type is one :func:`normalize_padding` reads (checked without taps)."""
    normalize_padding(padding, 1, 1, 1)
    return padding


@dataclass(frozen=True)
class Axis:
    """Index arithmetic of one axis (see the package docstring for the definition)."""

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


def axes(
    x: torch.Tensor, kernel: torch.Tensor, up: int, down: int, padding: Padding
) -> tuple[Axis, Axis]:
    """The (H, W) axes of this upfirdn2d; refuses an empty output or one over MAX_PLANE."""
    kh, kw = kernel.shape
    ph0, ph1, pw0, pw1 = normalize_padding(padding, kh, kw, up)
    result = (
        Axis(x.shape[-2], up, down, kh, ph0, ph1),
        Axis(x.shape[-1], up, down, kw, pw0, pw1),
    )
    for name, ax in zip("HW", result):
        if max(abs(ax.p0), abs(ax.p1)) > MAX_PADDING:
            raise ValueError(
                f"expected padding of at most {MAX_PADDING} samples per side, got "
                f"({ax.p0}, {ax.p1}) along {name}"
            )
        if ax.length < 1:
            raise ValueError(
                f"expected a non-empty output along {name} (n*up + p0 + p1 >= taps), got "
                f"n={ax.n}, up={up}, padding=({ax.p0}, {ax.p1}), taps={ax.taps}"
            )
    plane = result[0].out * result[1].out
    if plane > MAX_PLANE:
        raise ValueError(
            f"expected at most {MAX_PLANE} output samples per channel, got "
            f"{result[0].out}x{result[1].out} (from H, W = {x.shape[-2]}, {x.shape[-1]}, "
            f"up={up}, down={down}, padding={padding!r})"
        )
    return result
