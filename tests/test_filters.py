"""Tests for antialias.filters: each design against an independent construction."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import scipy.signal
import torch

from antialias.filters import (
    INTERPOLATION_MODES,
    MAX_BINOMIAL_TAPS,
    MAX_TAPS,
    as_taps,
    binomial_taps,
    box_taps,
    cubic_taps,
    interpolation_fir,
    interpolation_reach,
    kaiser_lowpass_taps,
    keys_cubic,
    lanczos_taps,
    linear_taps,
    outer2d,
)


def _dtft(taps: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Direct DTFT sum, f in cycles/sample, taps indexed 0..n-1."""
    k = np.arange(len(taps))
    return (taps[None, :] * np.exp(-2j * np.pi * f[:, None] * k[None, :])).sum(axis=1)


@pytest.mark.parametrize("n", range(1, 10))
def test_binomial_is_repeated_box_convolution(n: int) -> None:
    expected = np.array([1.0])
    for _ in range(n - 1):
        expected = np.convolve(expected, [0.5, 0.5])
    got = binomial_taps(n).numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)
    assert math.isclose(got.sum(), 1.0, abs_tol=1e-15)
    f = np.linspace(0, 0.5, 17)
    np.testing.assert_allclose(
        np.abs(_dtft(got, f)), np.abs(np.cos(np.pi * f)) ** (n - 1), atol=1e-12
    )


def test_dtype_and_device_on_return() -> None:
    for fn in (binomial_taps, box_taps, linear_taps, cubic_taps, lanczos_taps):
        out = fn(3, dtype=torch.float32, device="cpu")
        assert out.dtype == torch.float32 and out.device.type == "cpu"
        assert fn(3).dtype == torch.float64
    assert kaiser_lowpass_taps(9, 0.25, dtype=torch.bfloat16).dtype == torch.bfloat16


def test_box() -> None:
    assert box_taps(3).tolist() == pytest.approx([1 / 3] * 3, abs=1e-16)


@pytest.mark.parametrize("up", [1, 2, 3, 4, 5])
def test_interpolation_taps_sum_to_up_and_sample_their_kernel(up: int) -> None:
    lin, cub, lan = linear_taps(up), cubic_taps(up), lanczos_taps(up, 3, normalize=False)
    assert len(lin) == 2 * up - up % 2
    assert len(cub) == 4 * up - up % 2
    assert len(lan) == 6 * up - up % 2
    # Positions written out independently: symmetric about the centre, spacing 1/up.
    for taps, kernel in (
        (lin, lambda t: np.maximum(0, 1 - np.abs(t))),
        (cub, keys_cubic),
        (lan, lambda t: np.sinc(t) * np.sinc(t / 3)),
    ):
        n = len(taps)
        t = (np.arange(n) - (n - 1) / 2) / up
        np.testing.assert_allclose(taps.numpy(), kernel(t), atol=1e-15)
        assert torch.equal(taps, taps.flip(0))
    for taps in (lin, cub, lanczos_taps(up, 3)):
        # Each polyphase component sums to 1 (no checkerboard on a constant), total = up.
        for phase in range(up):
            assert float(taps[phase::up].sum()) == pytest.approx(1.0, abs=1e-13)


def test_keys_cubic_closed_form_points() -> None:
    a = -0.5
    assert keys_cubic(np.array([0.0, 1.0, 2.0, 3.0]), a).tolist() == [1.0, 0.0, 0.0, 0.0]
    # Keys (1981), a=-1/2: W(1/2) = 9/16, W(3/2) = -1/16.
    np.testing.assert_allclose(keys_cubic(np.array([0.5, 1.5]), a), [9 / 16, -1 / 16])


@pytest.mark.parametrize("width", [None, 0.1])
@pytest.mark.parametrize("fs", [1.0, 2.0])
def test_kaiser_matches_firwin(width: float | None, fs: float) -> None:
    cutoff = 0.2 * fs
    taps = kaiser_lowpass_taps(21, cutoff, width=None if width is None else width * fs, fs=fs)
    if width is None:
        ref = scipy.signal.firwin(21, cutoff, window=("kaiser", 0.1102 * (60 - 8.7)), fs=fs)
    else:
        ref = scipy.signal.firwin(21, cutoff, width=width * fs, fs=fs)
    np.testing.assert_allclose(taps.numpy(), ref, atol=1e-15)
    assert float(taps.sum()) == pytest.approx(1.0, abs=1e-14)
    # cutoff in cycles/pixel (fs=1): about -6 dB (gain 1/2) at the cutoff.
    h = _dtft(taps.numpy(), np.array([cutoff / fs]))
    assert abs(h[0]) == pytest.approx(0.5, abs=0.02)


def test_kaiser_gain() -> None:
    assert float(kaiser_lowpass_taps(16, 0.25, 0.1, gain=2.0).sum()) == pytest.approx(2.0)


def test_outer2d() -> None:
    k = outer2d(binomial_taps(3), [1.0, 1.0])
    assert k.shape == (3, 2)
    torch.testing.assert_close(k, binomial_taps(3)[:, None] * torch.ones(2, dtype=torch.float64))
    assert outer2d(torch.ones(2, dtype=torch.float32)).dtype == torch.float32


def test_as_taps_accepts() -> None:
    assert torch.equal(as_taps(3), binomial_taps(3))
    assert as_taps(np.array([1, 2])).dtype == torch.float64
    assert as_taps(torch.tensor([1.0, 2.0])).dtype == torch.float32
    assert as_taps((1, 2), dtype=torch.float16).dtype == torch.float16


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        ([], ValueError, "expected at least one tap"),
        ([1.0, float("nan")], ValueError, "expected finite taps"),
        ([[1.0, 2.0]], ValueError, "expected 1-D taps, got shape (1, 2)"),
        (0, ValueError, "expected n to be an integer in [1, 1024], got 0"),
        (True, TypeError, "expected taps"),
        ("abc", TypeError, "expected taps"),
        (torch.tensor([1j]), TypeError, "expected real-valued taps"),
    ],
)
def test_as_taps_rejects(bad: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        as_taps(bad)  # type: ignore[arg-type]
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: linear_taps(2.0), TypeError, "expected up to be an integer in [1, 2048], got 2.0"),
        (lambda: cubic_taps(0), ValueError, "expected up to be an integer in [1, 1024], got 0"),
        (lambda: lanczos_taps(2, a=0), ValueError, "expected a to be an integer in [1, 1024]"),
        (lambda: kaiser_lowpass_taps(9, 0.5), ValueError, "expected 0 < cutoff < fs/2"),
        (lambda: kaiser_lowpass_taps(9, 0.2, width=0), ValueError, "expected width > 0"),
        (lambda: kaiser_lowpass_taps(9, 0.2, fs=-1), ValueError, "expected fs > 0"),
        (lambda: box_taps(-1), ValueError, "expected n to be an integer in [1, 4096], got -1"),
    ],
)
def test_designers_reject(call, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_binomial_taps_up_to_the_bound_are_exact_and_beyond_it_refused() -> None:
    # the largest n whose coefficients and sum 2**(n-1) fit float64: finite, sums to 1, symmetric
    taps = binomial_taps(MAX_BINOMIAL_TAPS)
    assert bool(torch.isfinite(taps).all()) and abs(float(taps.sum()) - 1.0) < 1e-12
    assert torch.equal(taps, taps.flip(0))
    # one more would overflow to inf / NaN: refused at once, the bound named
    with pytest.raises(ValueError, match=r"expected n to be an integer in \[1, 1024\], got 1025"):
        binomial_taps(MAX_BINOMIAL_TAPS + 1)
    with pytest.raises(ValueError, match="got 10000000000"):
        as_taps(10**10)  # an int length means binomial taps: same bound, no hang


@pytest.mark.parametrize(
    "call",
    [
        lambda: box_taps(10**9),
        lambda: linear_taps(10**9),
        lambda: cubic_taps(10**9),
        lambda: lanczos_taps(2, a=10**9),
        lambda: lanczos_taps(10**9),
        lambda: kaiser_lowpass_taps(10**9, 0.25),
        lambda: interpolation_fir("bicubic", 10**9),
    ],
)
def test_designers_refuse_sizes_beyond_max_taps_at_once(call) -> None:
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="expected .* to be an integer in"):
        call()
    assert time.perf_counter() - t0 < 1.0  # refused before any allocation


def test_designers_reach_max_taps() -> None:
    assert len(box_taps(MAX_TAPS)) == MAX_TAPS
    assert len(linear_taps(MAX_TAPS // 2)) == MAX_TAPS
    assert len(kaiser_lowpass_taps(MAX_TAPS, 0.25)) == MAX_TAPS


def test_interpolation_table() -> None:
    assert list(INTERPOLATION_MODES) == ["nearest", "nearest-exact", "bilinear", "bicubic"]
    assert [interpolation_reach(m) for m in INTERPOLATION_MODES] == [0, 0, 1, 2]
    assert torch.equal(interpolation_fir("bilinear", 3), linear_taps(3))
    assert torch.equal(interpolation_fir("bicubic", 2), cubic_taps(2, -0.75))
    assert interpolation_fir("nearest", 3).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="expected mode to be one of"):
        interpolation_fir("area", 2)
