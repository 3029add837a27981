"""What "exact" means in this project: equal up to floating-point rounding, with a stated bound.

Bit-exactness is not portable: MKL and oneDNN pick kernels by CPU (AVX2, AVX-512, ...) and the
rounding of an output element can depend on its position, so a circularly shifted input can give
an output that differs from the shifted output by a few ulps although the maths is exactly
equivariant. Every claim of exactness (tests, the study's classification of shifts and levels,
figures, the paper) uses the one definition here:

    ``a`` equals ``b`` *exactly to rounding* when
    ``max |a - b| <= ulps * eps(dtype) * scale``, ``scale = max(|b|)`` (the data's scale),

with :data:`EXACT_ULPS` ulps per dtype. The bound is generous against rounding (measured
circular-equivariance errors of U-Nets in float64 are below 2 ulps of the output's scale) and
tight against real differences (a shift off the period gives relative errors of 1e-3 .. 1,
more than eight orders of magnitude above the float64 bound). The PSNR form (:func:`exact_psnr_db`)
is what a result file records for a shift whose error is at the rounding level.

What does not live here: the metrics themselves (:mod:`antialias.metrics`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = [
    "EXACT_ULPS",
    "exact_psnr_db",
    "exact_tolerance",
    "is_exact",
    "is_exact_psnr",
    "is_exact_relative",
    "max_relative_error",
]

#: Ulps (of the data's scale) allowed by "exact to rounding", per floating dtype.
EXACT_ULPS: dict[torch.dtype, int] = {
    torch.float64: 256,
    torch.float32: 256,
    torch.float16: 16,
    torch.bfloat16: 16,
}


def _dtype(dtype: torch.dtype | np.dtype | str) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    name = np.dtype(dtype).name
    table = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16}
    if name not in table:
        raise TypeError(f"expected a floating dtype, got {dtype!r}")
    return table[name]


def exact_tolerance(dtype: torch.dtype | np.dtype | str) -> float:
    """The largest relative error (to the data's scale) that still counts as exact.

    >>> exact_tolerance(torch.float64)
    5.684341886080802e-14
    >>> float(f"{exact_tolerance(torch.float32):.3g}")
    3.05e-05
    """
    dt = _dtype(dtype)
    if dt not in EXACT_ULPS:
        raise TypeError(f"expected a floating dtype, got {dtype!r}")
    return EXACT_ULPS[dt] * torch.finfo(dt).eps


def max_relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """``max |a - b| / max |b|`` in float64 (0 when both are all zero, inf when only ``b`` is)."""
    if a.shape != b.shape:
        raise ValueError(f"expected equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    a64, b64 = a.detach().to(torch.float64), b.detach().to(torch.float64)
    err = float((a64 - b64).abs().max()) if a.numel() else 0.0
    scale = float(b64.abs().max()) if b.numel() else 0.0
    if not math.isfinite(err):
        return math.inf
    if scale == 0.0:
        return 0.0 if err == 0.0 else math.inf
    return err / scale


def is_exact_relative(relative_error: float, dtype: torch.dtype | np.dtype | str) -> bool:
    """Whether a relative error (to the data's scale) is at the rounding level of ``dtype``."""
    return math.isfinite(relative_error) and relative_error <= exact_tolerance(dtype)


def is_exact(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype | None = None) -> bool:
    """Whether ``a`` equals ``b`` exactly to rounding (tolerance of ``dtype``, default ``b``'s)."""
    return is_exact_relative(max_relative_error(a, b), dtype or b.dtype)


def exact_psnr_db(dtype: torch.dtype | np.dtype | str) -> float:
    """The PSNR (dB, peak = data range) above which an error is at the rounding level.

    An RMS error of ``tolerance * data_range`` gives ``-20 log10(tolerance)`` dB: 264.9 dB for
    float64, 90.3 dB for float32. Since RMS <= max, this is a necessary condition for
    :func:`is_exact`, used where only the PSNR was recorded.

    >>> round(exact_psnr_db(torch.float64), 1), round(exact_psnr_db(torch.float32), 1)
    (264.9, 90.3)
    """
    return -20.0 * math.log10(exact_tolerance(dtype))


def is_exact_psnr(psnr_db: float, dtype: torch.dtype | np.dtype | str) -> bool:
    """Whether a recorded PSNR (dB, ``inf`` for zero error) is at the rounding level."""
    return not math.isnan(psnr_db) and psnr_db >= exact_psnr_db(dtype)
