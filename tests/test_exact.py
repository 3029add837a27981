"""antialias.exact: "exact to rounding" accepts rounding, refuses real differences.

Two parts: unit tests of the definition (tolerances in ulps of the data's scale, float32 and
float64, zero scale, non-finite values, shape checks) against references written here; and the
property that makes the tolerance worth having: on small circular U-Nets, shifts by multiples of
the period pass with margin while shifts off the period fail by many orders of magnitude.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from antialias.exact import (
    EXACT_ULPS,
    exact_psnr_db,
    exact_tolerance,
    is_exact,
    is_exact_psnr,
    is_exact_relative,
    max_relative_error,
)
from antialias.models import build_variant

FLOATS = [torch.float32, torch.float64]


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ----------------------------------------------------------------------------- the definition


@pytest.mark.parametrize("dtype", FLOATS)
def test_tolerance_is_256_ulps_of_the_dtype(dtype: torch.dtype) -> None:
    eps = float(np.finfo(str(dtype).removeprefix("torch.")).eps)
    assert EXACT_ULPS[dtype] == 256
    assert exact_tolerance(dtype) == 256 * eps
    # the same dtype named by numpy or by a string
    name = str(dtype).removeprefix("torch.")
    assert exact_tolerance(np.dtype(name)) == exact_tolerance(name) == 256 * eps


def test_non_floating_dtypes_are_refused() -> None:
    for bad in (torch.int32, "int64", np.dtype(bool)):
        with pytest.raises(TypeError, match="expected a floating dtype"):
            exact_tolerance(bad)


@pytest.mark.parametrize("dtype", FLOATS)
def test_is_exact_accepts_rounding_and_refuses_more(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    b = torch.randn(3, 4, 5, dtype=dtype) * 7.0
    scale = float(b.abs().max())
    eps = torch.finfo(dtype).eps
    assert is_exact(b.clone(), b) and max_relative_error(b.clone(), b) == 0.0
    # a few ulps of the scale on one element: rounding
    near = b.clone()
    near[1, 2, 3] += 4 * eps * scale
    rel = max_relative_error(near, b)
    assert 3 * eps <= rel <= 5 * eps, rel
    assert is_exact(near, b)
    # 1000 ulps of the scale: a real difference
    far = b.clone()
    far[0, 0, 0] += 1000 * eps * scale
    assert not is_exact(far, b), max_relative_error(far, b)
    # the reference is max|a - b| / max|b|, in float64 whatever the inputs' dtype
    a64, b64 = far.double().numpy(), b.double().numpy()
    want = np.abs(a64 - b64).max() / np.abs(b64).max()
    assert math.isclose(max_relative_error(far, b), want, rel_tol=1e-12)


def test_the_tolerance_follows_the_dtype_asked_for() -> None:
    b = torch.ones(8, dtype=torch.float64)
    a = b + 1e-9  # far above float64 rounding, far below float32's
    assert not is_exact(a, b)
    assert is_exact(a, b, dtype=torch.float32)
    assert is_exact_relative(1e-9, torch.float32) and not is_exact_relative(1e-9, "float64")


def test_zero_scale() -> None:
    z = torch.zeros(2, 3, dtype=torch.float64)
    assert max_relative_error(z, z) == 0.0 and is_exact(z, z)
    # any error against an all-zero reference is infinitely large relative to it
    one = z.clone()
    one[0, 0] = 1e-300
    assert max_relative_error(one, z) == math.inf and not is_exact(one, z)
    # empty tensors compare equal
    e = torch.zeros(0, 4)
    assert max_relative_error(e, e) == 0.0 and is_exact(e, e)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_never_exact(dtype: torch.dtype, bad: float) -> None:
    b = torch.linspace(-1, 1, 9, dtype=dtype)
    a = b.clone()
    a[4] = bad
    assert max_relative_error(a, b) == math.inf
    assert not is_exact(a, b) and not is_exact(b, a)
    # the same non-finite value on both sides is not "equal to rounding" either
    assert not is_exact(a, a.clone())
    assert not is_exact_relative(bad, dtype)


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"expected equal shapes, got \(2, 3\) and \(3, 2\)"):
        max_relative_error(torch.zeros(2, 3), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="expected equal shapes"):
        is_exact(torch.zeros(4), torch.zeros(1, 4))


@pytest.mark.parametrize("dtype", FLOATS)
def test_psnr_form(dtype: torch.dtype) -> None:
    tol = exact_tolerance(dtype)
    assert math.isclose(exact_psnr_db(dtype), -20 * math.log10(tol), rel_tol=1e-12)
    # an RMS error of tolerance x range is the threshold; inf (zero error) is exact, NaN is not
    assert is_exact_psnr(math.inf, dtype) and not is_exact_psnr(math.nan, dtype)
    assert is_exact_psnr(exact_psnr_db(dtype) + 0.1, dtype)
    assert not is_exact_psnr(exact_psnr_db(dtype) - 0.1, dtype)
    # measured on CPUs with AVX-512 for float64 U-Nets: 342-352 dB, which is exact
    assert is_exact_psnr(342.0, torch.float64) and not is_exact_psnr(80.0, torch.float32)


# ----------------------------------------------------------------------------- the separation


def _shift_errors(variant: str, dtype: torch.dtype, shifts) -> dict[tuple[int, int], float]:
    """Max relative error of net(roll(x, s)) against roll(net(x), s), circular padding."""
    torch.manual_seed(0)
    net = build_variant(variant, 1, 2, depth=2, width=4, pad_mode="circular").to(dtype).eval()
    x = torch.randn(2, 1, 16, 16, dtype=dtype)
    with torch.no_grad():
        y = net(x)
        return {
            s: max_relative_error(net(torch.roll(x, s, (-2, -1))), torch.roll(y, s, (-2, -1)))
            for s in shifts
        }


PERIOD_SHIFTS = [(4, 0), (0, 8), (4, -4), (12, 4)]  # depth 2: period 4
OFF_SHIFTS = [(1, 0), (0, 3), (2, 1), (5, 6)]


@pytest.mark.parametrize("variant", ["tconv2", "bilinear"])
def test_tolerance_separates_period_shifts_from_the_others_in_float64(variant: str) -> None:
    tol = exact_tolerance(torch.float64)
    on = _shift_errors(variant, torch.float64, PERIOD_SHIFTS)
    off = _shift_errors(variant, torch.float64, OFF_SHIFTS)
    report = f"{variant}: period shifts {on}, others {off}, tolerance {tol:.3g}"
    # with margin: rounding stays at least 10x below the bound ...
    assert max(on.values()) <= tol / 10, report
    assert all(is_exact_relative(e, torch.float64) for e in on.values()), report
    # ... and a real difference is at least a million times above it
    assert min(off.values()) >= 1e6 * tol, report
    assert not any(is_exact_relative(e, torch.float64) for e in off.values()), report


def test_aps_unet_is_exact_to_rounding_for_every_shift_with_margin() -> None:
    tol = exact_tolerance(torch.float64)
    errors = _shift_errors("aps", torch.float64, PERIOD_SHIFTS + OFF_SHIFTS)
    assert max(errors.values()) <= tol / 10, f"aps: {errors}, tolerance {tol:.3g}"
    # the same shift off the period through the max-pool U-Net is 1e6 x the bound (above)
    assert min(_shift_errors("tconv2", torch.float64, OFF_SHIFTS).values()) >= 1e6 * tol


def test_tolerance_separates_in_float32_too() -> None:
    # float32's bound (3e-5) sits closer to real differences: stated, and checked at 10x
    tol = exact_tolerance(torch.float32)
    on = _shift_errors("tconv2", torch.float32, PERIOD_SHIFTS)
    off = _shift_errors("tconv2", torch.float32, OFF_SHIFTS)
    assert max(on.values()) <= tol / 10, (on, tol)
    assert min(off.values()) >= 10 * tol, (off, tol)
