"""Band-limited sub-pixel shift of N-D maps: separable Lanczos (or Fourier) per spatial axis.

The N-D counterpart of :func:`antialias.shifts.fractional_shift` (which stays the 2-D operator,
unchanged): the same StyleGAN3 Lanczos-``a`` taps (:func:`antialias.shifts.lanczos_shift_taps`)
and zero fill, applied along each spatial axis in turn with a 1-D convolution. A test checks it
against the 2-D operator on ``(N, C, H, W)`` and against a naive per-voxel sum in 3-D.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from antialias.shifts import fourier_shift_1d, lanczos_shift_taps

__all__ = ["fractional_shift_nd"]


def _lanczos_axis(x: Tensor, n: int, frac: float, a: int, dim: int) -> Tensor:
    """``out[t] = sum_j x[t - n - j] L(j - frac)``, ``j = -(a-1)..a``, along ``dim``; zero fill."""
    size = x.shape[dim]
    if abs(n) >= size + a:
        return torch.zeros_like(x)
    taps = torch.as_tensor(lanczos_shift_taps(frac, a), dtype=x.dtype, device=x.device)
    kernel = taps.flip(0).view(1, 1, -1)  # conv1d correlates: flipped taps (see shifts.py)
    left, right = max(n + a, 0), max(a - n - 1, 0)
    start = left - n - a
    moved = x.movedim(dim, -1)
    flat = moved.reshape(-1, 1, size)
    full = F.conv1d(F.pad(flat, (left, right)), kernel)
    out = full[..., start : start + size].reshape(moved.shape)
    return out.movedim(-1, dim)


def fractional_shift_nd(
    x: Tensor, shift: Sequence[float], method: str = "lanczos", a: int = 3
) -> Tensor:
    """Move the content of ``x`` by a real ``shift`` (one number per spatial axis, in pixels).

    Args:
        x: floating-point maps; the last ``len(shift)`` axes are spatial.
        shift: content moves by ``+shift[i]`` along spatial axis ``i`` (any real numbers).
        method: ``"lanczos"`` (zero fill; valid where the whole ``2a``-tap kernel lies inside,
            as :func:`antialias.shifts.fractional_shift`) or ``"fourier"`` (periodic).
        a: Lanczos half-width in pixels.

    Returns:
        The shifted maps, same shape and dtype.

    Shape:
        - x: ``(N, C, *spatial)``; output: the same.

    Example:
        >>> x = torch.zeros(1, 1, 8, 8, 8, dtype=torch.float64)
        >>> x[..., 4, 4, 4] = 1.0
        >>> torch.equal(fractional_shift_nd(x, (1, 0, 2)), torch.roll(x, (1, 2), (-3, -1)))
        True
    """
    if not torch.is_floating_point(x):
        raise TypeError(f"expected a floating-point x, got dtype {x.dtype}")
    nd = len(shift)
    if nd < 1 or x.ndim < nd:
        raise ValueError(f"expected 1..{x.ndim} shift components, got {nd}")
    if method not in ("lanczos", "fourier"):
        raise ValueError(f"expected method 'lanczos' or 'fourier', got {method!r}")
    out = x
    for i in reversed(range(nd)):  # last axis first, as the 2-D operator
        d = float(shift[i])
        if not math.isfinite(d):
            raise ValueError(f"expected a finite shift, got {shift}")
        dim = x.ndim - nd + i
        if method == "lanczos":
            whole = math.floor(d)
            out = _lanczos_axis(out, int(whole), d - whole, a, dim)
        else:
            out = fourier_shift_1d(out, d, dim)
    return out
