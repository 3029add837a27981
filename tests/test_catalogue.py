"""torch's F.interpolate up-samplers == zeros + FIR: proved against F.interpolate itself.

Each equality is checked on the slow reference (zero-stuff, pad, conv: it never calls
F.interpolate) and on the generic fast path with torch's interpolation kernels switched off,
so that neither side of a comparison is F.interpolate in disguise.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from antialias.catalogue import MODES, Phase, interpolate_as_fir, interpolation_taps
from antialias.resample import upfirdn2d_reference


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny tensors: a second thread only adds synchronisation (costly on a loaded machine).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _max_err(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, f"shape {tuple(a.shape)} != {tuple(b.shape)}"
    return float((a - b).abs().max())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("up", [2, 3, 4])
@pytest.mark.parametrize(("dtype", "atol"), [(torch.float32, 1e-6), (torch.float64, 1e-12)])
def test_interpolate_is_zeros_plus_fir(mode: str, up: int, dtype: torch.dtype, atol: float) -> None:
    for size in [(5, 8), (7, 6), (1, 3)]:
        x = torch.randn(2, 3, *size, dtype=dtype)
        want = F.interpolate(x, scale_factor=up, mode=mode, align_corners=None)
        tol = atol * float(x.abs().max())  # rounding: relative to the data's scale
        taps, phase = interpolation_taps(mode, up, dtype=dtype)
        p0, p1 = phase.padding
        pad = (p0, p1, p0, p1)
        ref = upfirdn2d_reference(x, taps, up=up, padding=pad, pad_mode=phase.pad_mode)
        err = _max_err(ref, want)
        assert err <= tol, f"reference vs F.interpolate: max abs error {err:.2e}"
        err = _max_err(interpolate_as_fir(x, mode, up, impl="generic"), want)
        assert err <= tol, f"generic fast path vs F.interpolate: max abs error {err:.2e}"
        err = _max_err(interpolate_as_fir(x, mode, up), want)
        assert err <= tol, f"interpolate_as_fir vs F.interpolate: max abs error {err:.2e}"


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("up", [2, 3, 4])
def test_interior_exact_with_any_edge_padding_edges_replicate(mode: str, up: int) -> None:
    """The interior does not depend on the edge extension; at the edges torch replicates."""
    x = torch.randn(1, 2, 12, 13, dtype=torch.float64)
    want = F.interpolate(x, scale_factor=up, mode=mode, align_corners=False)
    taps, phase = interpolation_taps(mode, up)
    # Output j reads inputs down to (j - p0)/up: the first p0 - up + 1 outputs (and as many
    # at the end, the taps being symmetric) reach past the input.
    m = phase.padding[0] - up + 1
    for pad_mode in ("zeros", "reflect", "circular"):
        y = upfirdn2d_reference(x, taps, up=up, pad_mode=pad_mode)
        err = _max_err(y[..., m:-m, m:-m], want[..., m:-m, m:-m])
        assert err <= 1e-12, f"{pad_mode} interior: max abs error {err:.2e}"
        assert _max_err(y, want) > 1e-3  # ... and the edges do differ
    # First/last output rows: torch equals replicate extension exactly.
    y = upfirdn2d_reference(x, taps, up=up, pad_mode="replicate")
    assert _max_err(y, want) <= 1e-12


def test_phase_is_half_pixel_grid() -> None:
    for mode in MODES:
        for up in (2, 3, 4):
            taps, phase = interpolation_taps(mode, up)
            assert phase.first_centre == pytest.approx(0.5 / up - 0.5)
            assert float(taps.sum()) == pytest.approx(up, abs=1e-13)
            for r in range(up):  # every polyphase component sums to 1: no checkerboard
                assert float(taps[r::up].sum()) == pytest.approx(1.0, abs=1e-13)
    assert interpolation_taps("bilinear", 2)[1] == Phase((2, 1), "replicate", -0.25)


def test_nearest_and_nearest_exact_agree_for_integer_factors_only() -> None:
    """For integer up-sampling both index floor(j/up) (same taps); they differ elsewhere."""
    for up in (2, 3, 4, 5, 7):
        for n in (1, 2, 3, 10, 33):
            x = torch.randn(1, 1, n, n + 1)
            a = F.interpolate(x, scale_factor=up, mode="nearest")
            b = F.interpolate(x, scale_factor=up, mode="nearest-exact")
            assert torch.equal(a, b)
        assert torch.equal(
            interpolation_taps("nearest", up)[0], interpolation_taps("nearest-exact", up)[0]
        )
    x = torch.arange(6.0).view(1, 1, 1, 6)
    down_nearest = F.interpolate(x, size=(1, 2), mode="nearest")[0, 0, 0].tolist()
    down_exact = F.interpolate(x, size=(1, 2), mode="nearest-exact")[0, 0, 0].tolist()
    assert (down_nearest, down_exact) == ([0.0, 3.0], [1.0, 4.0])  # floor(3j) vs floor(3j + 1.5)
    frac = F.interpolate(x[..., :5], scale_factor=1.5, mode="nearest")
    frac_exact = F.interpolate(x[..., :5], scale_factor=1.5, mode="nearest-exact")
    assert not torch.equal(frac, frac_exact)


def _dtft(taps: np.ndarray, w: np.ndarray) -> np.ndarray:
    k = np.arange(len(taps))
    return (taps[None, :] * np.exp(-1j * w[:, None] * k[None, :])).sum(axis=1)


def test_closed_form_responses() -> None:
    w = np.linspace(0, np.pi, 65)
    nearest = interpolation_taps("nearest", 2)[0].numpy()
    bilinear = interpolation_taps("bilinear", 2)[0].numpy()
    np.testing.assert_allclose(np.abs(_dtft(nearest, w)), 2 * np.abs(np.cos(w / 2)), atol=1e-13)
    np.testing.assert_allclose(
        np.abs(_dtft(bilinear, w)), 2 * np.abs(np.cos(w / 2)) ** 3, atol=1e-13
    )
    # DC gain = up; zero at the image of DC (w = pi) for both.
    for taps in (nearest, bilinear):
        assert abs(_dtft(taps, np.array([0.0]))[0]) == pytest.approx(2.0)
        assert abs(_dtft(taps, np.array([np.pi]))[0]) == pytest.approx(0.0, abs=1e-13)


def _impulse_response(n: int, i: int, align_corners: bool) -> torch.Tensor:
    x = torch.zeros(1, 1, n, dtype=torch.float64)
    x[..., i] = 1.0
    return F.interpolate(x, scale_factor=2, mode="linear", align_corners=align_corners)[0, 0]


def test_align_corners_true_is_not_shift_invariant() -> None:
    """align_corners=False: moving the impulse by 1 moves the response by exactly 2 and the
    response is the same taps for every input size. align_corners=True: neither holds."""
    taps = interpolation_taps("bilinear", 2)[0]
    for n in (8, 16, 17):
        a, b = _impulse_response(n, 3, False), _impulse_response(n, 4, False)
        assert torch.equal(torch.roll(a, 2), b)
        assert torch.allclose(a[5:9], taps)  # (j + 1/2)/2 - 1/2 within 1 of 3: j = 5..8
    shifted_err = []
    for n in (8, 16, 17):
        a, b = _impulse_response(n, 3, True), _impulse_response(n, 4, True)
        shifted_err.append(float((torch.roll(a, 2) - b).abs().max()))
    # The sample grid drifts by about 1/(2n - 1) per input sample: small, never zero.
    assert min(shifted_err) > 1e-3, f"align_corners=True looked shift-invariant: {shifted_err}"
    # The effective taps around the same input sample depend on the input size.
    r8, r16 = _impulse_response(8, 3, True), _impulse_response(16, 3, True)
    assert not torch.allclose(r8[4:10], r16[4:10])


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="expected mode to be one of .*got 'area'"):
        interpolation_taps("area", 2)
    with pytest.raises(TypeError, match="expected up to be an integer >= 1, got 2.5"):
        interpolation_taps("bilinear", 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected up to be an integer >= 1, got 0"):
        interpolate_as_fir(torch.ones(1, 1, 2, 2), "nearest", 0)
    with pytest.raises(TypeError, match="expected x to be a torch.Tensor, got list"):
        interpolate_as_fir([1.0], "nearest", 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"expected x of shape \(N, C, H, W\)"):
        interpolate_as_fir(torch.ones(2, 2), "bicubic", 2)
