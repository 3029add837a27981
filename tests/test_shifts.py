"""Shift operators: naive references written here, exact properties in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from antialias.shifts import (
    circular_shift,
    crop_shift,
    crop_window,
    fractional_shift,
    integer_shift,
    lanczos_shift_taps,
    period_shifts,
)

SIZES = [(7, 9), (8, 8), (6, 11)]


def _rand(h: int, w: int, n: int = 2, c: int = 3) -> torch.Tensor:
    return torch.randn(n, c, h, w, dtype=torch.float64)


def _naive_translate(x: np.ndarray, dy: int, dx: int, wrap: bool) -> tuple[np.ndarray, np.ndarray]:
    """out[i, j] = x[i - dy, j - dx]; wrap or zero fill (mask False where filled)."""
    h, w = x.shape[-2:]
    out = np.zeros_like(x)
    mask = np.zeros((h, w), dtype=bool)
    for i in range(h):
        for j in range(w):
            si, sj = i - dy, j - dx
            if wrap:
                out[..., i, j] = x[..., si % h, sj % w]
                mask[i, j] = True
            elif 0 <= si < h and 0 <= sj < w:
                out[..., i, j] = x[..., si, sj]
                mask[i, j] = True
    return out, mask


@pytest.mark.parametrize("h,w", SIZES)
@pytest.mark.parametrize("dy,dx", [(0, 0), (1, 0), (0, -2), (3, 5), (-4, 13)])
def test_circular_and_integer_match_naive(h: int, w: int, dy: int, dx: int) -> None:
    x = _rand(h, w)
    for op, wrap in ((circular_shift, True), (integer_shift, False)):
        y, m = op(x, dy, dx)
        ref, ref_mask = _naive_translate(x.numpy(), dy, dx, wrap)
        err = np.abs(y.numpy() - ref).max()
        assert err == 0.0, f"{op.__name__} max abs error {err}"
        assert m.shape == (1, 1, h, w) and m.dtype == torch.bool
        assert np.array_equal(m[0, 0].numpy(), ref_mask)


def test_integer_shift_beyond_the_image_is_empty() -> None:
    x = _rand(5, 6)
    y, m = integer_shift(x, 5, 0)
    assert not y.any() and not m.any()


def test_non_contiguous_input() -> None:
    base = _rand(10, 12)
    x = base.transpose(-1, -2)[..., ::2, :]
    assert not x.is_contiguous()
    for op in (circular_shift, integer_shift):
        assert torch.equal(op(x, 2, -1)[0], op(x.contiguous(), 2, -1)[0])
    a = fractional_shift(x, 0.3, -1.7)[0]
    b = fractional_shift(x.contiguous(), 0.3, -1.7)[0]
    assert torch.equal(a, b)


def test_crop_shift_overlap_matches_reference_window() -> None:
    canvas = _rand(20, 23, n=1, c=2)
    shifts = [(0, 0), (3, 0), (0, 5), (-2, 4), (1, -3)]
    origin, size = crop_window(canvas.shape[-2:], shifts, multiple=4)
    assert size[0] % 4 == 0 and size[1] % 4 == 0
    ref, ref_mask = crop_shift(canvas, 0, 0, origin, size)
    assert ref_mask.all()
    for dy, dx in shifts:
        win, m = crop_shift(canvas, dy, dx, origin, size)
        # the overlap: win[i, j] == ref[i - dy, j - dx]; exactly what integer_shift of ref gives
        moved, moved_mask = integer_shift(ref, dy, dx)
        assert torch.equal(m, moved_mask)
        assert torch.equal(win * m, moved * m)
        assert int(m.sum()) == (size[0] - abs(dy)) * (size[1] - abs(dx))


def test_crop_window_fits_every_shift_and_rejects_small_canvas() -> None:
    shifts = [(0, 16), (0, 7), (-3, 2)]
    (oy, ox), (h, w) = crop_window((64, 70), shifts, multiple=16)
    for dy, dx in [(0, 0), *shifts]:
        assert oy - dy >= 0 and ox - dx >= 0 and oy - dy + h <= 64 and ox - dx + w <= 70
    assert (h, w) == (48, 48)
    with pytest.raises(ValueError, match="expected a canvas larger"):
        crop_window((20, 20), [(0, 16)], multiple=8)
    with pytest.raises(ValueError, match="inside the canvas"):
        crop_shift(torch.zeros(1, 1, 8, 8), 0, 3, origin=(0, 0), size=(8, 8))


def _naive_lanczos(x: np.ndarray, dy: float, dx: float, a: int) -> tuple[np.ndarray, np.ndarray]:
    """StyleGAN3's windowed sinc, normalised taps, zero outside; mask = whole kernel inside."""

    def weights(d: float) -> tuple[int, list[tuple[int, float]]]:
        n = math.floor(d)
        f = d - n
        js = list(range(-(a - 1), a + 1))
        ws = [np.sinc(j - f) * np.sinc((j - f) / a) for j in js]
        total = sum(ws)
        return n, [(j, wv / total) for j, wv in zip(js, ws)]

    h, w = x.shape[-2:]
    ny, wy = weights(dy)
    nx, wx = weights(dx)
    out = np.zeros_like(x)
    mask = np.zeros((h, w), dtype=bool)
    for i in range(h):
        for j in range(w):
            inside = True
            for jy, vy in wy:
                for jx, vx in wx:
                    si, sj = i - ny - jy, j - nx - jx
                    if 0 <= si < h and 0 <= sj < w:
                        out[..., i, j] += vy * vx * x[..., si, sj]
                    else:
                        inside = False
            mask[i, j] = inside
    return out, mask


@pytest.mark.parametrize("h,w", [(9, 12), (12, 7)])
@pytest.mark.parametrize("dy,dx", [(0.5, 0.0), (0.25, -1.75), (-2.3, 3.6), (1.0, -2.0)])
def test_lanczos_matches_naive(h: int, w: int, dy: float, dx: float) -> None:
    x = _rand(h, w, n=1, c=2)
    y, m = fractional_shift(x, dy, dx, method="lanczos", a=3)
    ref, ref_mask = _naive_lanczos(x.numpy(), dy, dx, a=3)
    err = np.abs(y.numpy() - ref).max()
    assert err < 1e-12, f"max abs error {err}"
    assert np.array_equal(m[0, 0].numpy(), ref_mask)


@pytest.mark.parametrize("method", ["lanczos", "fourier"])
def test_fractional_integer_shift_is_exact(method: str) -> None:
    x = _rand(8, 10)
    for dy, dx in [(0, 0), (2, -3), (-1, 4)]:
        y, m = fractional_shift(x, dy, dx, method=method)
        if method == "lanczos":
            moved, _ = integer_shift(x, dy, dx)
            assert torch.equal(y, moved)  # unit-impulse taps: bit exact
        else:
            err = (y - torch.roll(x, (dy, dx), (-2, -1))).abs().max().item()
            assert err < 1e-12, f"max abs error {err}"
        assert m.any()


def test_fourier_shift_of_a_bandlimited_periodic_signal_is_exact() -> None:
    h, w = 16, 20
    i = torch.arange(h, dtype=torch.float64).view(-1, 1)
    j = torch.arange(w, dtype=torch.float64).view(1, -1)

    def signal(di: float, dj: float) -> torch.Tensor:
        s = torch.cos(2 * math.pi * (3 * (i - di) / h + 2 * (j - dj) / w) + 0.4)
        return (s + 0.5 * torch.sin(2 * math.pi * 7 * (j - dj) / w)).view(1, 1, h, w)

    y, _ = fractional_shift(signal(0, 0), 0.37, -1.6, method="fourier")
    err = (y - signal(0.37, -1.6)).abs().max().item()
    assert err < 1e-12, f"max abs error {err}"
    # shifts compose
    z, _ = fractional_shift(
        fractional_shift(signal(0, 0), 0.2, 0.1, method="fourier")[0], 0.17, -1.7, method="fourier"
    )
    err = (z - y).abs().max().item()
    assert err < 1e-12, f"max abs error {err}"


def test_lanczos_shift_of_a_smooth_signal_is_close_on_the_valid_region() -> None:
    h, w = 32, 32
    j = torch.arange(w, dtype=torch.float64).view(1, 1, 1, -1).expand(1, 1, h, w)
    x = torch.sin(2 * math.pi * 0.05 * j)
    y, m = fractional_shift(x, 0.0, 0.5)
    ref = torch.sin(2 * math.pi * 0.05 * (j - 0.5))
    err = ((y - ref).abs() * m).max().item()
    assert err < 2e-3, f"max abs error {err}"


def test_lanczos_taps() -> None:
    for f in (0.0, 0.1, 0.5, 0.9):
        t = lanczos_shift_taps(f, a=3)
        assert t.shape == (6,) and abs(t.sum() - 1.0) < 1e-15
    # symmetric at half a pixel: offsets j = -2..3 around 0.5
    t = lanczos_shift_taps(0.5)
    assert np.allclose(t, t[::-1], atol=1e-15)
    with pytest.raises(ValueError, match="expected 0 <= frac < 1"):
        lanczos_shift_taps(1.0)


def test_period_shifts() -> None:
    s = period_shifts(3)
    assert len(s) == 64 and len(set(s)) == 64
    assert min(min(p) for p in s) == 0 and max(max(p) for p in s) == 7
    assert period_shifts(0) == [(0, 0)]


def test_bad_input() -> None:
    x = torch.zeros(1, 1, 8, 8)
    with pytest.raises(ValueError, match=r"expected x of shape \(N, C, H, W\)"):
        circular_shift(torch.zeros(8, 8), 1, 1)
    with pytest.raises(TypeError, match="expected dy to be an int"):
        integer_shift(x, 0.5, 1)
    with pytest.raises(TypeError, match="expected dx to be an int"):
        circular_shift(x, 1, True)
    with pytest.raises(ValueError, match="expected method 'lanczos' or 'fourier'"):
        fractional_shift(x, 0.5, 0.0, method="cubic")
    with pytest.raises(TypeError, match="expected a floating-point x"):
        fractional_shift(torch.zeros(1, 1, 8, 8, dtype=torch.int64), 0.5, 0.0)
    with pytest.raises(ValueError, match="expected a finite dy"):
        fractional_shift(x, float("nan"), 0.0)
    with pytest.raises(TypeError, match="expected x to be a torch.Tensor"):
        circular_shift(np.zeros((1, 1, 4, 4)), 1, 1)


def test_sizes_beyond_the_bounds_are_refused_at_once() -> None:
    from antialias.shifts import MAX_PERIOD_LEVELS, period_shifts

    assert len(period_shifts(MAX_PERIOD_LEVELS)) == 4**MAX_PERIOD_LEVELS
    with pytest.raises(ValueError, match=r"expected levels to be an integer in \[0, 10\]"):
        period_shifts(40)  # 4**40 shifts would never finish
    with pytest.raises(ValueError, match="expected a to be an integer in"):
        lanczos_shift_taps(0.5, a=10**9)
    with pytest.raises(ValueError, match="expected a to be an integer in"):
        fractional_shift(torch.zeros(1, 1, 4, 4), 0.5, 0.0, a=10**9)
