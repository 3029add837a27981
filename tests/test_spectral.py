"""Tests of antialias.spectral: each against scipy, a closed form or a naive reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.signal
import torch
import torch.nn.functional as F
from torch import nn

from antialias.spectral import (
    aliasing_energy,
    aliasing_energy_empirical,
    checkerboard_index,
    constant_input_checkerboard,
    cutoff_3db,
    dc_gain,
    frequency_response,
    frequency_response2d,
    imaging_energy,
    impulse_response,
    polyphase_components,
    stopband_attenuation_db,
    transposed_response,
)

# Naive taps written here, not taken from antialias.filters / catalogue.
NEAREST2 = np.array([1.0, 1.0])  # zeros + [1, 1] == nearest x2
BILINEAR2 = np.array([1.0, 3.0, 3.0, 1.0]) / 4  # torch bilinear x2, align_corners=False; sum 2


def close(actual, expected, atol: float = 1e-12, what: str = "") -> None:
    """assert_allclose that reports the max abs error."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    err = np.max(np.abs(actual - expected)) if actual.size else 0.0
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert err <= atol, f"{what}: max abs error {err:.3e} > {atol:.1e}"


# ----------------------------------------------------------------------------- 1-D / 2-D responses


@pytest.mark.parametrize("fs", [1.0, 2 * np.pi, 3.0])
@pytest.mark.parametrize("whole", [False, True])
@pytest.mark.parametrize("worN", [1, 7, 512])
def test_frequency_response_matches_freqz(fs: float, whole: bool, worN: int) -> None:
    rng = np.random.default_rng(1)
    for taps in (rng.standard_normal(9), rng.standard_normal(4) + 1j * rng.standard_normal(4)):
        w, h = frequency_response(taps, worN=worN, whole=whole, fs=fs)
        w_ref, h_ref = scipy.signal.freqz(taps, 1, worN=worN, whole=whole, fs=fs)
        close(w, w_ref, 1e-12, "w")
        close(h, h_ref, 1e-12, "h")


@pytest.mark.parametrize("fs", [1.0, 2 * np.pi])
def test_frequency_response_array_of_frequencies_matches_freqz(fs: float) -> None:
    taps = np.random.default_rng(2).standard_normal(6)
    freqs = np.array([0.0, 0.1, 0.33, 0.5, -0.2, 0.9]) * fs
    w, h = frequency_response(torch.tensor(taps), worN=freqs, fs=fs)
    _, h_ref = scipy.signal.freqz(taps, 1, worN=freqs, fs=fs)
    close(w, freqs, 0, "w")
    close(h, h_ref, 1e-12, "h")


def test_closed_forms_nearest_and_bilinear() -> None:
    f = np.linspace(0, 0.5, 101)  # cycles/pixel
    close(np.abs(frequency_response(NEAREST2, f)[1]), 2 * np.abs(np.cos(np.pi * f)), 1e-13, "near")
    close(
        np.abs(frequency_response(BILINEAR2, f)[1]),
        2 * np.abs(np.cos(np.pi * f)) ** 3,
        1e-13,
        "bil",
    )
    # The same in radians/sample (fs = 2 pi): |H(w)| = 2 |cos(w / 2)|^3.
    w, h = frequency_response(BILINEAR2, 64, fs=2 * np.pi)
    close(np.abs(h), 2 * np.abs(np.cos(w / 2)) ** 3, 1e-13, "bil, fs=2pi")


def test_frequency_response2d_naive_and_separable() -> None:
    rng = np.random.default_rng(3)
    kernel = rng.standard_normal((3, 5))
    wy, wx, H = frequency_response2d(kernel, worN=8)
    close(wy, [-0.5, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375], 0, "grid")
    naive = np.zeros((8, 8), dtype=complex)
    for i, fy in enumerate(wy):
        for j, fx in enumerate(wx):
            for m in range(3):
                for n in range(5):
                    naive[i, j] += kernel[m, n] * np.exp(-2j * np.pi * (fy * m + fx * n))
    close(H, naive, 1e-12, "2-D vs naive")
    # Separable kernel: product of 1-D responses; own grid per axis; fs scales the units.
    a, b = rng.standard_normal(4), rng.standard_normal(3)
    fy, fx = np.array([0.0, 0.2, 0.45]), np.array([0.1, 0.3])
    _, _, H2 = frequency_response2d(np.outer(a, b), (fy * 2 * np.pi, fx * 2 * np.pi), fs=2 * np.pi)
    expected = np.outer(frequency_response(a, fy)[1], frequency_response(b, fx)[1])
    close(H2, expected, 1e-12, "separable")


# ----------------------------------------------------------------------------- measures


def test_dc_gain_and_checkerboard_closed_forms() -> None:
    assert dc_gain(BILINEAR2) == 2.0
    assert dc_gain(np.outer(BILINEAR2, BILINEAR2)) == 4.0
    assert checkerboard_index(NEAREST2, 2) == 0.0
    assert checkerboard_index(np.outer(BILINEAR2, BILINEAR2), 2) == 0.0
    # [1, 1, 1]: H(0) = 3, H(1/2) = 1 -> 1/3; 2-D worst image (0.5, 0): 1*3 / 9.
    assert checkerboard_index([1.0, 1.0, 1.0], 2) == pytest.approx(1 / 3, abs=1e-15)
    assert checkerboard_index(np.ones((3, 3)), 2) == pytest.approx(1 / 3, abs=1e-15)
    # up = 3, taps [1, 1]: |1 + e^{-2 pi i k/3}| / 2 = 1/2 at k = 1, 2.
    assert checkerboard_index([1.0, 1.0], 3) == pytest.approx(0.5, abs=1e-15)
    assert checkerboard_index([1.0, 1.0], 1) == 0.0
    assert checkerboard_index([1.0, -1.0], 2) == math.inf


def test_checkerboard_index_multichannel_layout_invariant() -> None:
    weight = torch.randn(3, 5, 4, 4, dtype=torch.float64)
    a = checkerboard_index(weight, 2)
    b = checkerboard_index(weight.transpose(0, 1), 2)
    assert abs(a - b) < 1e-12, f"max abs error {abs(a - b):.3e}"
    # One channel: the operator norm is |H|, so the 4-D value is the 2-D one.
    w1 = weight[:1, :1]
    assert abs(checkerboard_index(w1, 2) - checkerboard_index(w1[0, 0], 2)) < 1e-12


def test_imaging_energy_closed_form_and_quadrature() -> None:
    # nearest x2: integral_{-1/4}^{1/4} 4 cos^2(pi f) df = 1 + 2/pi; total sum h^2 = 2.
    assert abs(imaging_energy(NEAREST2, 2) - (1 - 2 / np.pi) / 2) < 1e-14
    rng = np.random.default_rng(4)
    for taps, up in ((BILINEAR2, 2), (rng.standard_normal(7), 3), (rng.standard_normal(5), 2)):

        def power(f: float, taps: np.ndarray = taps) -> float:
            return float(np.abs(frequency_response(taps, np.array([f]))[1][0]) ** 2)

        a = 1 / (2 * up)
        inside = scipy.integrate.quad(power, -a, a, epsabs=1e-13, epsrel=1e-13)[0]
        total = scipy.integrate.quad(power, -0.5, 0.5, epsabs=1e-13, epsrel=1e-13)[0]
        expected = 1 - inside / total
        assert abs(imaging_energy(taps, up) - expected) < 1e-10, (taps, up)
        assert abs(aliasing_energy(taps, up) - expected) < 1e-10


def test_energy_2d_separable_and_grid() -> None:
    e1 = imaging_energy(BILINEAR2, 2)
    e2 = imaging_energy(np.outer(BILINEAR2, BILINEAR2), 2)
    assert abs(e2 - (1 - (1 - e1) ** 2)) < 1e-13, "separable: 1 - (1 - e)^2"
    assert aliasing_energy([1.0], 2) == 0.5
    assert abs(aliasing_energy(np.ones((1, 1)), 2) - 0.75) < 1e-15
    assert abs(aliasing_energy(np.ones((1, 1)), 3) - 8 / 9) < 1e-15
    # Non-separable kernel against a midpoint-rule integral over the period.
    kernel = np.random.default_rng(5).standard_normal((3, 4))
    n = 400
    f = (np.arange(n) + 0.5) / n - 0.5
    _, _, H = frequency_response2d(kernel, (f, f))
    p = np.abs(H) ** 2
    inside = np.abs(f) < 0.25
    grid = 1 - p[np.ix_(inside, inside)].sum() / p.sum()
    assert abs(imaging_energy(kernel, 2) - grid) < 1e-4
    # Multi-channel: Frobenius = energy summed over channel pairs.
    w = np.random.default_rng(6).standard_normal((2, 3, 4, 4))
    energies = np.array([[np.sum(w[i, o] ** 2) for o in range(3)] for i in range(2)])
    inside_pairs = np.array(
        [[(1 - imaging_energy(w[i, o], 2)) * energies[i, o] for o in range(3)] for i in range(2)]
    )
    assert abs(imaging_energy(w, 2) - (1 - inside_pairs.sum() / energies.sum())) < 1e-12


def test_cutoff_3db_closed_forms() -> None:
    assert abs(cutoff_3db(NEAREST2) - 0.25) < 1e-12
    # 2 cos^3(pi f) = 2 / sqrt(2)  <=>  cos(pi f) = 2^(-1/6).
    assert abs(cutoff_3db(BILINEAR2) - np.arccos(2 ** (-1 / 6)) / np.pi) < 1e-12
    assert math.isnan(cutoff_3db([1.0]))  # all-pass never falls to -3 dB
    assert math.isnan(cutoff_3db([1.0, -1.0]))  # H(0) = 0


def test_stopband_attenuation() -> None:
    expected = -20 * np.log10(np.cos(3 * np.pi / 8))  # nearest x2: 2 cos(pi f) / 2 at f = 3/8
    assert abs(stopband_attenuation_db(NEAREST2, 0.375) - expected) < 1e-12
    taps = scipy.signal.firwin(33, 0.25, width=0.1, fs=1.0)
    f = np.linspace(0.3, 0.5, 200001)
    _, h = scipy.signal.freqz(taps, 1, worN=f, fs=1.0)
    brute = -20 * np.log10(np.abs(h).max() / abs(taps.sum()))
    # the default grid (4097 points) finds the side-lobe peak to ~0.01 dB
    assert abs(stopband_attenuation_db(taps, 0.3) - brute) < 0.01
    assert stopband_attenuation_db(taps, 0.3) > 40
    assert stopband_attenuation_db([1.0, 2.0, 1.0], 0.5) == math.inf


# ----------------------------------------------------------------------------- transposed conv


@pytest.mark.parametrize(
    ("k", "s", "p", "op"), [(4, 2, 1, 0), (3, 2, 1, 1), (2, 2, 0, 0), (5, 3, 2, 1), (1, 2, 0, 1)]
)
def test_polyphase_components_reconstruct_conv_transpose2d(k: int, s: int, p: int, op: int) -> None:
    x = torch.randn(2, 3, 6, 7, dtype=torch.float64)
    weight = torch.randn(3, 4, k, k, dtype=torch.float64)
    ref = F.conv_transpose2d(x, weight, stride=s, padding=p, output_padding=op)
    parts = polyphase_components(weight, s)
    kk = -(-k // s)
    assert parts.shape == (s, s, 3, 4, kk, kk)
    # Each component is an ordinary full convolution (a stride-1 transposed conv).
    full = torch.zeros(2, 4, s * (6 + kk - 1), s * (7 + kk - 1), dtype=torch.float64)
    for ry in range(s):
        for rx in range(s):
            full[:, :, ry::s, rx::s] = F.conv_transpose2d(x, parts[ry, rx])
    out = full[:, :, p : p + ref.shape[2], p : p + ref.shape[3]]
    close(out.numpy(), ref.numpy(), 1e-12, "polyphase reconstruction")
    # NumPy input gives the same components.
    close(polyphase_components(weight.numpy(), s), parts.numpy(), 0, "numpy path")


def test_transposed_response_naive() -> None:
    weight = np.random.default_rng(7).standard_normal((3, 2, 4, 4))
    r = transposed_response(weight, 2, worN=8)
    i, j = 5, 2
    fy, fx = r.wy[i], r.wx[j]
    naive = np.zeros((2, 3), dtype=complex)
    for ci in range(3):
        for co in range(2):
            for m in range(4):
                for n in range(4):
                    naive[co, ci] += weight[ci, co, m, n] * np.exp(-2j * np.pi * (fy * m + fx * n))
    close(r.matrix[i, j], naive, 1e-12, "matrix")
    close(r.spectral_norm[i, j], np.linalg.norm(naive, 2), 1e-12, "spectral norm")
    close(r.frobenius_norm[i, j], np.linalg.norm(naive, "fro"), 1e-12, "frobenius norm")
    # C = 1: both norms are |H| of the 2-D kernel.
    r1 = transposed_response(weight[:1, :1], 2, worN=8)
    _, _, H = frequency_response2d(weight[0, 0], worN=8)
    close(r1.spectral_norm, np.abs(H), 1e-12, "C=1")
    assert r.checkerboard_index == checkerboard_index(weight, 2)


# ----------------------------------------------------------------------------- measuring modules


@pytest.mark.parametrize(
    ("mode", "taps", "origin"), [("nearest", NEAREST2, 0), ("bilinear", BILINEAR2, 1)]
)
def test_impulse_response_of_upsample(mode: str, taps: np.ndarray, origin: int) -> None:
    r = impulse_response(nn.Upsample(scale_factor=2, mode=mode), up=2, size=16)
    assert r.linear and r.affine and r.shift_invariant and not r.truncated
    assert r.origin == (origin, origin)
    close(r.kernel, np.outer(taps, taps), 1e-15, "measured taps")
    # Analytic response of the measured kernel == closed form (separable).
    f = np.array([0.0, 0.1, 0.25, 0.4, 0.5])
    _, _, H = frequency_response2d(r.kernel, (f, f))
    power = 1 if mode == "nearest" else 3
    one_d = 2 * np.abs(np.cos(np.pi * f)) ** power
    close(np.abs(H), np.outer(one_d, one_d), 1e-13, "closed form")


def test_impulse_response_of_conv_transpose2d_and_strided_conv() -> None:
    ct = nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1)
    r = impulse_response(ct, up=2, channels=3, size=12)
    close(r.taps, ct.weight.detach().double().numpy().transpose(1, 0, 2, 3), 1e-15, "taps")
    assert r.origin == (1, 1) and r.affine and not r.linear and r.shift_invariant
    r0 = impulse_response(nn.ConvTranspose2d(2, 2, 3, stride=2, bias=False), up=2, channels=2)
    assert r0.linear and r0.origin == (0, 0)
    # The measured taps reproduce the module (affine part = bias) on a random input.
    x = torch.randn(1, 3, 9, 9, dtype=torch.float64)
    y = ct.double()(x).detach()
    ref = F.conv_transpose2d(x, torch.from_numpy(r.taps).transpose(0, 1), stride=2, padding=1)
    close((y - ct.bias.detach()[:, None, None]).numpy(), ref.numpy(), 1e-12, "re-synthesis")
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1, bias=False)
    r2 = impulse_response(conv, down=2, channels=2)
    # torch conv is a correlation: the taps are the kernel flipped.
    close(r2.taps, conv.weight.detach().double().flip(-1, -2).numpy(), 1e-15, "strided conv")
    assert r2.linear and r2.shift_invariant and r2.origin == (1, 1)
    assert not impulse_response(conv, down=1, channels=2).shift_invariant


def test_impulse_response_does_not_touch_module() -> None:
    ct = nn.ConvTranspose2d(1, 1, 3, stride=2).train()
    before = ct.weight.detach().clone()
    impulse_response(ct, up=2)
    assert ct.training and ct.weight.dtype == torch.float32 and torch.equal(ct.weight, before)


def test_nonlinear_and_shift_variant_modules_are_reported() -> None:
    r = impulse_response(nn.MaxPool2d(2), down=2)
    assert not r.linear and not r.affine and r.linearity_error > 0.1
    assert r.shift_invariant  # max-pool is nonlinear but periodically shift-invariant
    ac = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
    r = impulse_response(ac, up=2)
    assert r.linear and not r.shift_invariant and r.shift_error > 1e-3


def test_checkerboard_on_constant_input() -> None:
    # Sub-kernel sums 4, 2, 2, 1 differ: a constant input gives a period-2 pattern.
    ct = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, bias=False).double()
    with torch.no_grad():
        ct.weight.fill_(1.0)
    y = ct(torch.ones(1, 1, 10, 10, dtype=torch.float64)).detach()[0, 0, 4:14, 4:14]
    assert torch.all(y[0::2, 0::2] == 1) and torch.all(y[1::2, 1::2] == 4)
    assert torch.all(y[0::2, 1::2] == 2) and torch.all(y[1::2, 0::2] == 2)
    index = checkerboard_index(ct.weight, 2)
    assert abs(index - 1 / 3) < 1e-15
    measured = constant_input_checkerboard(ct, 2)
    assert abs(measured - index) < 1e-12, f"max abs error {abs(measured - index):.3e}"
    # A random multi-channel transposed conv with bias: measured == analytic, both > 0.
    rt = nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1)
    a, m = checkerboard_index(rt.weight, 2), constant_input_checkerboard(rt, 2, channels=3)
    assert a > 0.01 and abs(a - m) < 1e-12, f"max abs error {abs(a - m):.3e}"


def test_resize_conv_and_icnr_pixel_shuffle_have_no_checkerboard() -> None:
    rc = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(3, 4, 3, padding=1))
    r = impulse_response(rc, up=2, channels=3)
    assert r.affine and r.shift_invariant
    assert checkerboard_index(r.taps, 2) < 1e-12
    assert constant_input_checkerboard(rc, 2, channels=3) < 1e-12
    # conv + pixel shuffle with all 4 sub-kernels equal (ICNR) is conv, then nearest x2.
    conv = nn.Conv2d(2, 3 * 4, 3, padding=1)
    with torch.no_grad():
        conv.weight.copy_(conv.weight[::4].repeat_interleave(4, dim=0))
        conv.bias.copy_(conv.bias[::4].repeat_interleave(4))
    ps = nn.Sequential(conv, nn.PixelShuffle(2))
    r = impulse_response(ps, up=2, channels=2)
    assert r.shift_invariant and checkerboard_index(r.taps, 2) < 1e-12
    # A random pixel-shuffle conv does checkerboard; measured == analytic.
    ps_random = nn.Sequential(nn.Conv2d(2, 8, 3, padding=1), nn.PixelShuffle(2))
    r = impulse_response(ps_random, up=2, channels=2)
    a, m = checkerboard_index(r.taps, 2), constant_input_checkerboard(ps_random, 2, channels=2)
    assert a > 0.01 and abs(a - m) < 1e-12


def test_empirical_aliasing_linear_matches_analytic() -> None:
    taps = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16
    blur = nn.Conv2d(1, 1, 5, stride=2, bias=False)
    with torch.no_grad():
        blur.weight.copy_(torch.from_numpy(np.outer(taps, taps)))
    probe = aliasing_energy_empirical(blur, 2, n_freqs=64)
    expected = np.abs(frequency_response(taps, probe.freqs)[1]) ** 2
    close(probe.transfer, expected, 1e-12, "transfer == |H|^2")
    close(probe.distortion, np.zeros_like(expected), 1e-12, "no distortion")
    assert abs(probe.share - aliasing_energy(taps, 2)) < 2e-3
    assert probe.share == pytest.approx(probe.share_with_distortion, abs=1e-12)
    dec = aliasing_energy_empirical(nn.AvgPool2d(1, stride=2), 2, n_freqs=16)
    assert abs(dec.share - 0.5) < 1e-12  # |H| = 1: midpoint rule is exact
    close(dec.aliased[[0, -1]], [1 / 32, 1 / 32], 1e-15, "folding")


def test_empirical_aliasing_of_max_pool() -> None:
    # max(a, b) = (a + b)/2 + |a - b|/2: at the landing frequency max-pool equals avg-pool;
    # the rest is distortion (DC and even harmonics).
    mp = aliasing_energy_empirical(nn.MaxPool2d(2), 2, n_freqs=32)
    ap = aliasing_energy_empirical(nn.AvgPool2d(2), 2, n_freqs=32)
    close(mp.transfer, ap.transfer, 1e-12, "fundamental")
    assert mp.distortion.max() > 0.05 and mp.share_with_distortion > mp.share + 0.05


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: frequency_response([]), ValueError, "expected non-empty"),
        (lambda: frequency_response([1.0, float("nan")]), ValueError, "expected finite"),
        (lambda: frequency_response(np.ones((2, 2))), ValueError, "expected taps 1-D"),
        (lambda: frequency_response(["a"]), TypeError, "expected taps"),
        (
            lambda: frequency_response([1.0], worN=0),
            ValueError,
            r"expected worN to be an integer in \[1, 262144\], got 0",
        ),
        (
            lambda: frequency_response([1.0], fs=0),
            ValueError,
            "expected fs to be a finite real number > 0",
        ),
        (lambda: frequency_response([1.0], fs="1"), TypeError, "expected fs"),
        (lambda: frequency_response2d([1.0, 2.0]), ValueError, "expected kernel 2-D"),
        (lambda: polyphase_components(torch.ones(2, 3, 3), 2), ValueError, "expected weight"),
        (
            lambda: polyphase_components(torch.ones(1, 1, 3, 3), 0),
            ValueError,
            "expected stride to be an integer >= 1",
        ),
        (lambda: checkerboard_index([1.0, 1.0], 1.5), TypeError, "expected up to be an integer"),
        (lambda: checkerboard_index(np.ones((2, 2, 2)), 2), ValueError, "expected taps 1-D"),
        (lambda: imaging_energy([1.0], True), TypeError, "expected up to be an integer"),
        (lambda: stopband_attenuation_db([1.0], 0.7), ValueError, "expected 0 <= edge"),
        (lambda: stopband_attenuation_db([1.0, -1.0], 0.3), ValueError, "non-zero DC"),
        (lambda: impulse_response("not a module", up=2), TypeError, "expected a torch module"),
        (lambda: impulse_response(nn.Identity(), up=2, down=2), ValueError, "coprime"),
        (
            lambda: impulse_response(nn.Identity(), size=4),
            ValueError,
            "expected size to be an integer >= 8",
        ),
        (lambda: impulse_response(lambda x: x[0], up=1), ValueError, "expected the module"),
        (lambda: aliasing_energy_empirical(nn.MaxPool2d(2), 2, n_freqs=5), ValueError, "even"),
        (
            lambda: aliasing_energy_empirical(nn.Identity(), 2, n_freqs=8),
            ValueError,
            "expected the module to down-sample",
        ),
    ],
)
def test_bad_input(call, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_sizes_beyond_the_bounds_are_refused_at_once() -> None:
    """A count typed wrong by orders of magnitude fails before the arrays are built."""
    import time

    from antialias.spectral import MAX_FREQUENCIES, MAX_FREQUENCIES_2D, constant_input_checkerboard

    calls = [
        (lambda: frequency_response([1.0, 1.0], worN=10**10), "worN"),
        (lambda: frequency_response2d(np.ones((2, 2)), worN=10**6), "worN"),
        (lambda: cutoff_3db([1.0, 1.0], worN=10**10), "worN"),
        (lambda: impulse_response(nn.Identity(), size=10**6), "probe batch"),
        (lambda: constant_input_checkerboard(nn.Identity(), 2, size=10**5), "probe batch"),
        (lambda: aliasing_energy_empirical(nn.MaxPool2d(2), 2, n_phases=10**7), "probe batch"),
    ]
    for call, what in calls:
        t0 = time.perf_counter()
        with pytest.raises(ValueError, match=what):
            call()
        assert time.perf_counter() - t0 < 1.0
    assert len(frequency_response([1.0, 1.0], worN=MAX_FREQUENCIES)[0]) == MAX_FREQUENCIES
    assert MAX_FREQUENCIES_2D == 2**12


def test_checkerboard_index_uses_the_phase_gains_of_transposed() -> None:
    """One definition of the polyphase sums: spectral's index from transposed.phase_gains."""
    from antialias.transposed import phase_gains

    rng = np.random.default_rng(3)
    w = rng.standard_normal((2, 3, 5, 5))
    sums = phase_gains(torch.from_numpy(w), 2).numpy()
    naive = np.array([[w[..., a::2, b::2].sum(axis=(-2, -1)) for b in range(2)] for a in range(2)])
    assert np.allclose(sums, naive, rtol=0, atol=1e-13)  # summation order may differ
    # equal phase sums give exactly 0, unequal ones do not
    assert checkerboard_index(np.ones((1, 1, 4, 4)), 2) == 0.0
    assert checkerboard_index(w, 2) > 0.0
