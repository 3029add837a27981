"""Shift operators for equivariance tests: each returns ``(shifted, valid_mask)``.

Convention everywhere: shifting by ``(dy, dx)`` moves the *content* by ``+dy`` rows and ``+dx``
columns, ``shifted[..., i, j] = x[..., i - dy, j - dx]`` (the direction of ``torch.roll`` with
positive shifts). ``valid_mask`` is a boolean tensor of shape ``(1, 1, H, W)`` (broadcastable
to ``x``) that is ``True`` where ``shifted`` holds real image content and ``False`` where it was
filled in (wrap-around, zero fill, or the support of an interpolation kernel reaching past the
border).

- :func:`circular_shift`: ``torch.roll``; every pixel valid (the APS / LPS protocol).
- :func:`integer_shift`: translation with zero fill (StyleGAN3's ``apply_integer_translation``,
  in pixels instead of fractions of the image size).
- :func:`crop_shift` and :func:`crop_window`: the realistic shift. Two windows cut from a larger
  canvas at different offsets; they are compared only on their overlap, nothing wraps around.
- :func:`fractional_shift`: band-limited sub-pixel shift, windowed-sinc (Lanczos, as StyleGAN3's
  EQ-T_frac) or ideal (Fourier); the border band the kernel reaches over is masked out.
- :func:`period_shifts`: every integer offset of the ``2^L x 2^L`` period of a U-Net.

Metrics live in :mod:`antialias.metrics`; the command is ``analysis/shift_consistency.py``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from antialias._checks import check_int
from antialias.filters import MAX_TAPS

__all__ = [
    "circular_shift",
    "crop_shift",
    "crop_window",
    "fourier_shift_1d",
    "fractional_shift",
    "integer_shift",
    "lanczos_shift_taps",
    "period_shifts",
]


def _check_image(x: Tensor, name: str = "x") -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"expected {name} to be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"expected {name} of shape (N, C, H, W), got shape {tuple(x.shape)}")


#: The most levels :func:`period_shifts` enumerates: it lists ``4**levels`` shifts, a million
#: at 10 (about a second); a U-Net here has a handful of levels.
MAX_PERIOD_LEVELS = 10


def _range_mask(h: int, w: int, rows: tuple[int, int], cols: tuple[int, int], device) -> Tensor:
    mask = torch.zeros(1, 1, h, w, dtype=torch.bool, device=device)
    r0, r1 = max(rows[0], 0), min(rows[1], h)
    c0, c1 = max(cols[0], 0), min(cols[1], w)
    if r0 < r1 and c0 < c1:
        mask[..., r0:r1, c0:c1] = True
    return mask


def circular_shift(x: Tensor, dy: int, dx: int) -> tuple[Tensor, Tensor]:
    """Shift ``x`` circularly by ``(dy, dx)`` pixels (``torch.roll``).

    Args:
        x: images.
        dy: rows to move the content down (negative: up); any integer, taken modulo ``H``.
        dx: columns to move the content right (negative: left).

    Returns:
        ``(shifted, valid_mask)``; every pixel is valid (nothing is filled in).

    Shape:
        - x: ``(N, C, H, W)``
        - shifted: ``(N, C, H, W)``; valid_mask: ``(1, 1, H, W)`` bool

    Example:
        >>> x = torch.arange(4.0).reshape(1, 1, 1, 4)
        >>> circular_shift(x, 0, 1)[0].flatten().tolist()
        [3.0, 0.0, 1.0, 2.0]
    """
    _check_image(x)
    dy, dx = check_int("dy", dy), check_int("dx", dx)
    mask = torch.ones(1, 1, x.shape[-2], x.shape[-1], dtype=torch.bool, device=x.device)
    return torch.roll(x, shifts=(dy, dx), dims=(-2, -1)), mask


def integer_shift(x: Tensor, dy: int, dx: int) -> tuple[Tensor, Tensor]:
    """Translate ``x`` by ``(dy, dx)`` pixels with zero fill (no wrap-around).

    The same operator as StyleGAN3's ``apply_integer_translation`` (EQ-T), with the shift in
    pixels: the pixels that enter from outside are zero and masked out.

    Args:
        x: images.
        dy: rows to move the content down (negative: up).
        dx: columns to move the content right (negative: left).

    Returns:
        ``(shifted, valid_mask)``; ``valid_mask`` is ``True`` on rows ``[dy, H + dy)`` and columns
        ``[dx, W + dx)`` (clipped to the image).

    Shape:
        - x: ``(N, C, H, W)``
        - shifted: ``(N, C, H, W)``; valid_mask: ``(1, 1, H, W)`` bool

    Example:
        >>> x = torch.arange(4.0).reshape(1, 1, 1, 4)
        >>> y, m = integer_shift(x, 0, -1)
        >>> y.flatten().tolist(), m.flatten().tolist()
        ([1.0, 2.0, 3.0, 0.0], [True, True, True, False])
    """
    _check_image(x)
    dy, dx = check_int("dy", dy), check_int("dx", dx)
    h, w = x.shape[-2:]
    out = torch.zeros_like(x)
    if abs(dy) < h and abs(dx) < w:
        out[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = x[
            ..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
        ]
    return out, _range_mask(h, w, (dy, h + dy), (dx, w + dx), x.device)


def crop_window(
    canvas_size: tuple[int, int],
    shifts: list[tuple[int, int]] | tuple[tuple[int, int], ...],
    multiple: int = 1,
) -> tuple[tuple[int, int], tuple[int, int]]:
    """The largest reference window from which every shifted window still fits in the canvas.

    Args:
        canvas_size: ``(H, W)`` of the canvas (the full image).
        shifts: the integer ``(dy, dx)`` that will be passed to :func:`crop_shift`; the zero shift
            (the reference) is always included.
        multiple: window height and width are rounded down to a multiple of this (a U-Net with
            ``L`` factor-2 down-samplings needs ``2**L``).

    Returns:
        ``(origin, size)``: the reference window's top-left corner ``(oy, ox)`` and ``(h, w)``.

    Raises:
        ValueError: if the shifts span the canvas, leaving no window of size ``multiple``.

    Example:
        >>> crop_window((64, 64), [(0, 0), (0, 16)], multiple=16)
        ((0, 16), (64, 48))
    """
    H, W = (int(v) for v in canvas_size)
    multiple = check_int("multiple", multiple, 1)
    dys = [0] + [check_int("dy", s[0]) for s in shifts]
    dxs = [0] + [check_int("dx", s[1]) for s in shifts]
    # window[t] = canvas[o - d + t] must stay inside [0, H) for every shift d
    h = (H - (max(dys) - min(dys))) // multiple * multiple
    w = (W - (max(dxs) - min(dxs))) // multiple * multiple
    if h < multiple or w < multiple:
        raise ValueError(
            f"expected a canvas larger than the shift span plus {multiple} px, got canvas {H}x{W}"
            f" with shifts spanning {max(dys) - min(dys)}x{max(dxs) - min(dxs)} px"
        )
    return (max(dys), max(dxs)), (h, w)


def crop_shift(
    canvas: Tensor, dy: int, dx: int, origin: tuple[int, int], size: tuple[int, int]
) -> tuple[Tensor, Tensor]:
    """Cut the window whose content is the reference window's shifted by ``(dy, dx)``.

    The reference window is ``canvas[..., oy:oy + h, ox:ox + w]``; the shifted window is
    ``canvas[..., oy - dy:oy - dy + h, ox - dx:ox - dx + w]``, so that
    ``shifted[..., i, j] == reference[..., i - dy, j - dx]`` wherever both exist. Unlike a circular
    shift, nothing wraps around: the new content entering at the border is real image content
    that the reference window never saw, and the comparison is restricted to the overlap
    (``valid_mask``), as in the linear-shift protocol of LPS.

    Args:
        canvas: the full images.
        dy: rows the content moves down relative to the reference window.
        dx: columns the content moves right.
        origin: ``(oy, ox)``, top-left corner of the reference window in the canvas.
        size: ``(h, w)`` of both windows.

    Returns:
        ``(window, valid_mask)``: ``valid_mask`` marks the overlap with the reference window, in
        the shifted window's coordinates (rows ``[dy, h + dy)``, columns ``[dx, w + dx)``).

    Raises:
        ValueError: if the shifted window leaves the canvas.

    Shape:
        - canvas: ``(N, C, H, W)``
        - window: ``(N, C, h, w)``; valid_mask: ``(1, 1, h, w)`` bool

    Example:
        >>> canvas = torch.arange(6.0).reshape(1, 1, 1, 6)
        >>> ref, _ = crop_shift(canvas, 0, 0, origin=(0, 1), size=(1, 4))
        >>> win, m = crop_shift(canvas, 0, 1, origin=(0, 1), size=(1, 4))
        >>> ref.flatten().tolist(), win.flatten().tolist(), m.flatten().tolist()
        ([1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 2.0, 3.0], [False, True, True, True])
    """
    _check_image(canvas, "canvas")
    dy, dx = check_int("dy", dy), check_int("dx", dx)
    oy, ox = (check_int("origin", v) for v in origin)
    h, w = (check_int("size", v) for v in size)
    H, W = canvas.shape[-2:]
    y0, x0 = oy - dy, ox - dx
    if h < 1 or w < 1 or y0 < 0 or x0 < 0 or y0 + h > H or x0 + w > W:
        raise ValueError(
            f"expected the shifted window rows [{y0}, {y0 + h}) x cols [{x0}, {x0 + w}) inside the "
            f"canvas of size {H}x{W}, got shift ({dy}, {dx}), origin {(oy, ox)}, size {(h, w)}"
        )
    window = canvas[..., y0 : y0 + h, x0 : x0 + w]
    return window, _range_mask(h, w, (dy, h + dy), (dx, w + dx), canvas.device)


def lanczos_shift_taps(frac: float, a: int = 3) -> np.ndarray:
    """Normalised Lanczos-``a`` taps that shift a signal by ``frac`` in ``[0, 1)`` pixels.

    ``taps[k]`` multiplies ``x[t - k + b]`` with ``b = a - 1``, i.e. tap offsets ``j = k - b`` run
    from ``-(a - 1)`` to ``a``: ``out[t] = sum_j x[t - j] L(j - frac)`` with
    ``L(u) = sinc(u) sinc(u / a)`` (``sinc(u) = sin(pi u) / (pi u)``), normalised to sum 1 as in
    StyleGAN3's ``apply_fractional_translation``. For ``frac == 0`` the taps are exactly a unit
    impulse (an integer shift is exact).

    Args:
        frac: sub-pixel part of the shift, in pixels, ``0 <= frac < 1``.
        a: Lanczos window half-width in pixels.

    Returns:
        float64 array of ``2 * a`` taps.

    Example:
        >>> lanczos_shift_taps(0.0, a=2).tolist()
        [0.0, 1.0, 0.0, 0.0]
        >>> bool(abs(lanczos_shift_taps(0.5).sum() - 1.0) < 1e-15)
        True
    """
    a = check_int("a", a, 1, MAX_TAPS // 2)
    if not 0.0 <= frac < 1.0:
        raise ValueError(f"expected 0 <= frac < 1, got {frac}")
    j = np.arange(-(a - 1), a + 1, dtype=np.float64)
    if frac == 0.0:
        return (j == 0).astype(np.float64)
    u = j - frac
    taps = np.sinc(u) * np.sinc(u / a)
    return taps / taps.sum()


def _split_shift(d: float) -> tuple[int, float]:
    n = math.floor(d)
    return int(n), float(d - n)


def _lanczos_1d(x: Tensor, n: int, frac: float, a: int, dim: int) -> Tensor:
    """``out[t] = sum_j x[t - n - j] L(j - frac)``, ``j = -(a-1)..a``, along ``dim``; zero fill."""
    size = x.shape[dim]
    if abs(n) >= size + a:
        return torch.zeros_like(x)
    taps = torch.as_tensor(lanczos_shift_taps(frac, a), dtype=x.dtype, device=x.device)
    # conv2d correlates: full[q] = sum_k K[k] xp[q + k] with xp[q] = x[q - left]. Taking
    # K[k] = taps(j = a - k) (the flipped taps) gives x[t - n - j] at q = t - n - a + left.
    kernel = taps.flip(0)
    left, right = max(n + a, 0), max(a - n - 1, 0)
    start = left - n - a
    if dim == -1:
        flat = x.reshape(-1, 1, x.shape[-2], size)
        full = F.conv2d(F.pad(flat, (left, right)), kernel.view(1, 1, 1, -1))
        out = full[..., start : start + size]
    else:
        flat = x.reshape(-1, 1, size, x.shape[-1])
        full = F.conv2d(F.pad(flat, (0, 0, left, right)), kernel.view(1, 1, -1, 1))
        out = full[..., start : start + size, :]
    return out.reshape(x.shape)


def fourier_shift_1d(x: Tensor, d: float, dim: int) -> Tensor:
    """Ideal (band-limited, periodic) shift of ``x`` by ``d`` samples along ``dim``.

    Content moves by ``+d``; the result is real and has ``x``'s dtype. The N-D shifts of
    :mod:`antialias.consistency.ndshift` apply it axis by axis.
    """
    size = x.shape[dim]
    real = torch.float64 if x.dtype == torch.float64 else torch.float32
    # Moving the content by +d multiplies the DFT by exp(-2 pi i f d), f in cycles/pixel. The
    # phase is formed in float64 (f d reduced modulo 1) whatever the input precision. At an even
    # size's Nyquist bin, keeping only the real part of the result symmetrises the factor to
    # cos(pi d), as any real-valued shift must.
    turns = torch.remainder(torch.fft.fftfreq(size, dtype=torch.float64) * d, 1.0)
    phase = torch.polar(torch.ones_like(turns), -2.0 * math.pi * turns)
    phase = phase.to(
        device=x.device, dtype=torch.complex128 if real == torch.float64 else torch.complex64
    )
    shape = [1] * x.ndim
    shape[dim] = size
    spec = torch.fft.fft(x.to(real), dim=dim) * phase.view(shape)
    return torch.fft.ifft(spec, dim=dim).real.to(x.dtype)


def fractional_shift(
    x: Tensor, dy: float, dx: float, method: str = "lanczos", a: int = 3
) -> tuple[Tensor, Tensor]:
    """Band-limited translation of ``x`` by a real ``(dy, dx)`` in pixels.

    ``method="lanczos"``: separable windowed-sinc interpolation with zero padding, exactly the
    operator of StyleGAN3's EQ-T_frac (``apply_fractional_translation``, ``a = 3``), shift in
    pixels. ``method="fourier"``: ideal band-limited shift, multiplication by
    ``exp(-2 pi i f d)`` (``f`` in cycles/pixel) of the DFT; it treats the image as periodic, so
    the wrapped band is invalid, and away from it the result still carries the Gibbs ringing of
    the wrap-around edge (decaying like 1/distance).

    The valid region is the same for both (StyleGAN3's): with ``dy = n + f``, ``n = floor(dy)``,
    rows ``[n + a, H + n - a + 1)`` (and likewise for columns), i.e. the pixels whose whole
    ``2a``-tap kernel lies inside the image. Integer shifts are exact (unit-impulse taps, or an
    exact phase ramp up to rounding for Fourier).

    Args:
        x: images (floating point).
        dy: rows to move the content down, in pixels (any real number).
        dx: columns to move the content right, in pixels.
        method: ``"lanczos"`` or ``"fourier"``.
        a: Lanczos half-width in pixels; also sets the masked border band for both methods.

    Returns:
        ``(shifted, valid_mask)``.

    Shape:
        - x: ``(N, C, H, W)``
        - shifted: ``(N, C, H, W)``; valid_mask: ``(1, 1, H, W)`` bool

    Example:
        >>> x = torch.zeros(1, 1, 16, 16, dtype=torch.float64)
        >>> x[..., 8, 8] = 1.0
        >>> y, m = fractional_shift(x, 0, 2)
        >>> torch.equal(y, torch.roll(x, 2, -1))
        True
        >>> m[0, 0, 8].nonzero().flatten().tolist()  # columns [2 + 3, 16 + 2 - 2)
        [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    """
    _check_image(x)
    if not torch.is_floating_point(x):
        raise TypeError(f"expected a floating-point x, got dtype {x.dtype}")
    for name, v in (("dy", dy), ("dx", dx)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"expected {name} to be a real number, got {type(v).__name__}")
        if not math.isfinite(float(v)):
            raise ValueError(f"expected a finite {name}, got {v}")
    a = check_int("a", a, 1, MAX_TAPS // 2)
    h, w = x.shape[-2:]
    ny, fy = _split_shift(float(dy))
    nx, fx = _split_shift(float(dx))
    if method == "lanczos":
        out = _lanczos_1d(_lanczos_1d(x, nx, fx, a, -1), ny, fy, a, -2)
    elif method == "fourier":
        out = fourier_shift_1d(fourier_shift_1d(x, float(dx), -1), float(dy), -2)
    else:
        raise ValueError(f"expected method 'lanczos' or 'fourier', got {method!r}")
    b = a - 1
    mask = _range_mask(h, w, (ny + a, h + ny - b), (nx + a, w + nx - b), x.device)
    return out, mask


def period_shifts(levels: int) -> list[tuple[int, int]]:
    """Every integer offset ``(dy, dx)`` in the ``2^L x 2^L`` period, row-major.

    A network with ``L`` factor-2 down-samplings (and circular padding) is exactly equivariant
    to shifts that are multiples of ``2^L``, so these residues are all the distinct cases.
    ``levels`` is at most :data:`MAX_PERIOD_LEVELS` (10: ``4**10`` shifts, about a second);
    beyond it the list would take minutes and gigabytes, so it is refused (``ValueError``).

    Example:
        >>> period_shifts(1)
        [(0, 0), (0, 1), (1, 0), (1, 1)]
    """
    levels = check_int("levels", levels, 0, MAX_PERIOD_LEVELS)
    p = 2**levels
    return [(dy, dx) for dy in range(p) for dx in range(p)]
