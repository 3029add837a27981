"""Measures of a filter's response: DC gain, checkerboard index, imaging / aliasing energy,
-3 dB cutoff, stop-band attenuation (each a number from the taps, analytically)."""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.optimize
import torch

from antialias._checks import check_int
from antialias.transposed import phase_gains

from ._common import MAX_FREQUENCIES, ArrayLike, as_array, dc_images, image_ratio
from .responses import frequency_response

# ----------------------------------------------------------------------------- measures


def dc_gain(taps: ArrayLike) -> float:
    """DC gain ``H(0) = sum of the taps`` of 1-D taps or a 2-D kernel.

    Conventions: interpolation taps for ``up`` have DC gain ``up`` per axis (``up**2`` for a 2-D
    kernel); low-pass taps for down-sampling have DC gain 1.

    Shape:
        - taps: ``(K,)`` or ``(Ky, Kx)``

    Example:
        >>> dc_gain([0.25, 0.75, 0.75, 0.25])
        2.0
    """
    return float(as_array(taps, "taps", (1, 2)).sum())


def checkerboard_index(taps: ArrayLike, up: int) -> float:
    """Response at the images of DC relative to DC: ``max_k |H(k/up)| / |H(0)|``.

    After zero insertion by ``up`` the spectrum of a constant input has images at the
    frequencies ``k/up`` (cycles/pixel, ``k = 1..up-1``; in 2-D all ``(ky/up, kx/up) != (0, 0)``,
    e.g. ``(0.5, 0)``, ``(0, 0.5)``, ``(0.5, 0.5)`` for ``up = 2``). Whatever of them the filter
    lets through is a periodic pattern of period ``up`` on flat input: the checkerboard. Since
    ``H(k/up) = sum_r exp(-2j pi k r/up) G_r`` with ``G_r`` the sums of the polyphase
    components (:func:`polyphase_components`), the index is 0 exactly when all polyphase
    components have the same DC gain. For a constant input the output's peak-to-mean modulation
    at each image is this ratio (see :func:`constant_input_checkerboard` for the measured twin).

    For multi-channel weights ``H`` is a matrix and ``|.|`` is its operator 2-norm, so the index
    is the worst case over input channel mixtures of the ratio of norms; either layout
    ``(C_in, C_out, k, k)`` or ``(C_out, C_in, k, k)`` gives the same value.

    Args:
        taps: 1-D taps ``(K,)``, a 2-D kernel ``(Ky, Kx)`` or multi-channel weights
            ``(C_a, C_b, Ky, Kx)``; real.
        up: the up-sampling factor (stride) ``>= 1``; ``up = 1`` has no images and gives 0.

    Returns:
        The index, >= 0; ``inf`` when ``H(0) = 0`` but an image does not vanish, ``nan`` when
        both vanish.

    Example:
        >>> checkerboard_index([1, 1], 2), checkerboard_index([1, 1, 1], 2)
        (0.0, 0.3333333333333333)
    """
    up = check_int("up", up, 1)
    h = as_array(taps, "taps", (1, 2, 4))
    if up == 1:
        return 0.0
    # Through the polyphase sums G_r, with exact roots of unity where they exist (up = 2, 4), so
    # equal sums give exactly 0: H(k/up) = sum_r exp(-2j pi k r / up) G_r.
    roots = np.exp(-2j * np.pi * np.arange(up) / up)
    roots = np.where(np.abs(roots.real) < 1e-15, 0, roots.real) + 1j * np.where(
        np.abs(roots.imag) < 1e-15, 0, roots.imag
    )
    r = np.arange(up)
    if h.ndim == 1:
        # the polyphase sums G_r: transposed.phase_gains of the taps as a (1, 1, 1, K) weight
        sums = phase_gains(torch.from_numpy(h).view(1, 1, 1, -1), (1, up))[0, :, 0, 0].numpy()
        gains = np.array([abs(np.sum(roots[(k * r) % up] * sums)) for k in r])
        return image_ratio(gains[0], gains[1:])
    if h.ndim == 2:
        h = h[None, None]
    sums = phase_gains(torch.from_numpy(np.ascontiguousarray(h)), up).numpy()
    mats = np.stack(
        [
            np.einsum("y,x,yxab->ab", roots[(ky * r) % up], roots[(kx * r) % up], sums)
            for ky, kx in [(0, 0), *dc_images(up, 2)]
        ]
    )
    gains = np.linalg.svd(mats, compute_uv=False)[:, 0]
    return image_ratio(gains[0], gains[1:])


def _sinc_matrix(n: int, a: float) -> np.ndarray:
    """``S[m, k] = integral_{-a}^{a} exp(-2j pi f (m - k)) df = 2a sinc(2a (m - k))``."""
    d = np.subtract.outer(np.arange(n), np.arange(n))
    return 2 * a * np.sinc(2 * a * d)


def _energy_outside(h: np.ndarray, factor: int) -> float:
    """Share of ``integral |H|^2`` outside ``|f| < 1/(2 factor)`` (per axis), exact."""
    a = 1.0 / (2 * factor)
    total = float(np.sum(h * h))
    if total == 0:
        return math.nan
    if h.ndim == 1:
        inside = float(h @ _sinc_matrix(h.shape[0], a) @ h)
    else:
        # Parseval on the square pass-band: sum_{m,n} K[m] K[n] S_y[m_y, n_y] S_x[m_x, n_x];
        # leading (channel) axes are summed, which is the Frobenius norm over channels.
        sy, sx = _sinc_matrix(h.shape[-2], a), _sinc_matrix(h.shape[-1], a)
        inside = float(np.sum(h * (sy @ h @ sx)))
    return min(1.0, max(0.0, 1.0 - inside / total))


def imaging_energy(taps: ArrayLike, up: int) -> float:
    """Share of an up-sampler's ``|H|^2`` energy outside the pass-band ``|f| < 1/(2 up)``.

    Definition: with ``H`` the response of the interpolation taps (output cycles/pixel),

        ``E = 1 - integral_{P} |H(f)|^2 df / integral_{[-1/2, 1/2)^d} |H(f)|^2 df``,

    where the pass-band ``P`` is ``|f| < 1/(2 up)`` in 1-D and the square
    ``|fy|, |fx| < 1/(2 up)`` in 2-D (the input's Nyquist band, per axis). For white input this
    is the share of output power that sits in the spectral images (the imaging artefacts); the
    ideal interpolator has 0, zero insertion without filter ``1 - 1/up**d``. Multi-channel weights
    ``(C_a, C_b, Ky, Kx)`` use ``||H(f)||_F^2`` (summed over channel pairs). Computed exactly
    (Parseval with the sinc matrix), no frequency grid.

    Args:
        taps: 1-D taps, 2-D kernel or 4-D multi-channel weights; real.
        up: the up-sampling factor ``>= 1``.

    Returns:
        The share in ``[0, 1]`` (``nan`` for all-zero taps).

    Example:
        >>> round(imaging_energy([1, 1], 2), 6)  # nearest x2: (1 - 2/pi) / 2
        0.18169
    """
    up = check_int("up", up, 1)
    return _energy_outside(as_array(taps, "taps", (1, 2, 4)), up)


def aliasing_energy(taps: ArrayLike, down: int) -> float:
    """Share of a down-sampler's ``|H|^2`` energy above the new Nyquist, which folds back.

    Definition: for "filter with ``taps``, keep every ``down``-th sample", with ``H`` the taps'
    response (input cycles/pixel),

        ``A = 1 - integral_{P} |H(f)|^2 df / integral_{[-1/2, 1/2)^d} |H(f)|^2 df``,

    with ``P`` the band ``|f| < 1/(2 down)`` (1-D) or the square ``|fy|, |fx| < 1/(2 down)``
    (2-D). For white input it is the share of output power that arrived by aliasing (every
    frequency outside ``P`` lands on a different one inside the new band). Decimation without
    filter (``taps = [1]``) gives ``1 - 1/down**d``; the ideal low-pass 0. Exact (Parseval).

    Args:
        taps: 1-D taps, a 2-D kernel or 4-D weights (Frobenius over channels); real.
        down: the down-sampling factor ``>= 1``.

    Returns:
        The share in ``[0, 1]``.

    Example:
        >>> aliasing_energy([1.0], 2), round(aliasing_energy(np.ones((1, 1)), 2), 12)
        (0.5, 0.75)
    """
    down = check_int("down", down, 1)
    return _energy_outside(as_array(taps, "taps", (1, 2, 4)), down)


def cutoff_3db(taps: ArrayLike, worN: int = 4096) -> float:
    """The -3 dB (half-power) cutoff of 1-D taps, in cycles/pixel.

    Definition: the smallest ``f`` in ``(0, 0.5]`` with ``|H(f)|^2 <= |H(0)|^2 / 2`` (gain
    ``10 log10(1/2) = -3.01`` dB relative to DC), located on a grid of ``worN`` intervals and
    refined by root finding (Brent) to ~1e-12. ``nan`` if the response never falls that low
    (e.g. an all-pass) or ``H(0) = 0``.

    Args:
        taps: 1-D taps, real.
        worN: number of grid intervals on ``[0, 0.5]`` used to bracket the crossing.

    Example:
        >>> round(cutoff_3db([1, 1]), 9)  # 2|cos(pi f)| = 2/sqrt(2) at f = 1/4
        0.25
    """
    h = as_array(taps, "taps", (1,))
    n = check_int("worN", worN, 2, MAX_FREQUENCIES)
    dc = abs(h.sum())
    if dc == 0:
        return math.nan

    def excess(f: float) -> float:
        return float(abs(frequency_response(h, np.array([f]))[1][0]) ** 2 - dc * dc / 2)

    w = np.linspace(0.0, 0.5, n + 1)
    below = np.abs(frequency_response(h, w)[1]) ** 2 - dc * dc / 2 <= 0
    if not below.any():
        return math.nan
    i = int(np.argmax(below))
    if excess(w[i]) == 0:
        return float(w[i])
    return float(scipy.optimize.brentq(excess, w[i - 1], w[i], xtol=1e-14))


def stopband_attenuation_db(taps: ArrayLike, edge: float, worN: int = 4096) -> float:
    """Minimum stop-band attenuation of 1-D taps, in dB relative to DC.

    Definition: ``-20 log10( max_{edge <= f <= 0.5} |H(f)| / |H(0)| )``, the maximum taken on a
    uniform grid of ``worN + 1`` points over ``[edge, 0.5]`` (both ends included). Larger is
    better; ``inf`` when the stop band is exactly zero on the grid.

    Args:
        taps: 1-D taps, real, with ``H(0) != 0``.
        edge: start of the stop band in cycles/pixel, ``0 <= edge <= 0.5`` (e.g. for an
            up-sampler by 2 with transition width ``w``: ``0.25 + w/2``).
        worN: grid intervals over the stop band.

    Example:
        >>> round(stopband_attenuation_db([1, 1], 0.375), 2)  # 20 log10(2 / (2 cos(3 pi/8)))
        8.34
    """
    h = as_array(taps, "taps", (1,))
    n = check_int("worN", worN, 1, MAX_FREQUENCIES)
    if isinstance(edge, bool) or not isinstance(edge, numbers.Real) or not 0 <= edge <= 0.5:
        raise ValueError(f"expected 0 <= edge <= 0.5 (cycles/pixel), got {edge!r}")
    dc = abs(h.sum())
    if dc == 0:
        raise ValueError("expected taps with non-zero DC gain, got sum(taps) = 0")
    peak = np.abs(frequency_response(h, np.linspace(float(edge), 0.5, n + 1))[1]).max()
    return math.inf if peak == 0 else float(-20 * np.log10(peak / dc))
